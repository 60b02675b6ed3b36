/* tracer/cli.c - vmleak's command line: getopt_long parsing of every option of
 * docs/interface.md, strict validation of every value, one-line errors
 * ("vmleak: ...") and the --help/--version texts. Nothing here touches a process:
 * checking that files can be opened is the main program's job. */
#include "tracer/cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VMLEAK_VERSION
#define VMLEAK_VERSION "0.1.0"
#endif

/* Durations beyond this many seconds are refused: they would overflow a
 * nanosecond count, and nobody means them. */
#define CLI_MAX_SECONDS 1e9

/* Values of long-only options (above any char). */
enum long_only_option {
	OPT_FORMAT = 256,
	OPT_INTERVAL,
	OPT_NO_FOLLOW_FORKS,
	OPT_DEPTH,
	OPT_MIN_SIZE,
	OPT_MIN_AGE,
	OPT_ALL,
	OPT_EXITED,
	OPT_SUPPRESSIONS,
	OPT_LOG,
	OPT_VERIFY,
	OPT_ERROR_EXITCODE,
	OPT_UNWINDER,
	OPT_EVENTS,
	OPT_DIFF,
	OPT_DEBUG_DIR,
	OPT_SYMBOLIZE,
};

/* '+': stop at the first non-option, so PROGRAM's own options stay its own.
 * ':': report a missing argument as ':' instead of '?'. */
static const char short_options[] = "+:p:o:jd:qhV";

static const struct option long_options[] = {
	{"pid", required_argument, NULL, 'p'},
	{"output", required_argument, NULL, 'o'},
	{"format", required_argument, NULL, OPT_FORMAT},
	{"duration", required_argument, NULL, 'd'},
	{"interval", required_argument, NULL, OPT_INTERVAL},
	{"no-follow-forks", no_argument, NULL, OPT_NO_FOLLOW_FORKS},
	{"depth", required_argument, NULL, OPT_DEPTH},
	{"min-size", required_argument, NULL, OPT_MIN_SIZE},
	{"min-age", required_argument, NULL, OPT_MIN_AGE},
	{"all", no_argument, NULL, OPT_ALL},
	{"exited", no_argument, NULL, OPT_EXITED},
	{"suppressions", required_argument, NULL, OPT_SUPPRESSIONS},
	{"log", required_argument, NULL, OPT_LOG},
	{"verify", no_argument, NULL, OPT_VERIFY},
	{"error-exitcode", required_argument, NULL, OPT_ERROR_EXITCODE},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{"unwinder", required_argument, NULL, OPT_UNWINDER},
	{"events", required_argument, NULL, OPT_EVENTS},
	{"diff", required_argument, NULL, OPT_DIFF},
	{"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
	{"symbolize", required_argument, NULL, OPT_SYMBOLIZE},
	{NULL, 0, NULL, 0},
};

static const char help_text[] =
	"Usage: vmleak [OPTIONS] [--] PROGRAM [ARGS...]   launch PROGRAM under the tracer\n"
	"       vmleak [OPTIONS] -p PID[,PID...]          attach to running processes\n"
	"       vmleak [OPTIONS] --symbolize REPORT.json  symbolize a saved JSON report\n"
	"       vmleak [-j] [-o FILE] --diff OLD.json NEW.json  compare two JSON reports\n"
	"\n"
	"Find virtual-memory leaks: regions mapped with mmap, mremap, brk or shmat and\n"
	"never given back, grouped by the call stack that created them.\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID[,PID...]   attach to these processes and all their threads;\n"
	"                           may repeat\n"
	"  -o, --output FILE        write the report to FILE (default: standard error)\n"
	"      --format FORMAT      report format: text (default), json, folded or html\n"
	"  -j                       short for --format json\n"
	"  -d, --duration SEC       attach mode: detach and report after SEC seconds\n"
	"                           (decimals allowed)\n"
	"      --interval SEC       also write a report every SEC seconds while tracing\n"
	"      --no-follow-forks    follow only the named or launched processes and\n"
	"                           their threads (CLONE_VM children are always followed)\n"
	"      --depth N            frames kept per backtrace (default 32, at most 256;\n"
	"                           0 = no backtraces, fastest)\n"
	"      --min-size SIZE      report only sites with at least SIZE unmatched bytes\n"
	"                           (4096, 64K, 1M, 2G, 1T)\n"
	"      --min-age SEC        report only regions at least SEC seconds old\n"
	"      --all                also report regions of the dynamic loader and other\n"
	"                           runtime internals (hidden by default)\n"
	"      --exited             attach mode: list the regions of processes that exited\n"
	"                           during the window (default: one summary line)\n"
	"      --suppressions FILE  extra suppression rules, one per line; may repeat\n"
	"      --log FILE           also write one line per memory syscall (strace notation)\n"
	"      --verify             compare the ledger with /proc/PID/maps when reporting\n"
	"      --error-exitcode N   exit with N (1-255) when the report holds any\n"
	"                           unsuppressed region\n"
	"      --unwinder NAME      backtrace engine: libdw (default) or libunwind\n"
	"      --events SOURCE      attach mode: where memory syscalls come from: kernel\n"
	"                           (syscall tracepoints, no stop per syscall), ptrace\n"
	"                           (a stop at every syscall) or auto (default: kernel\n"
	"                           when allowed, else ptrace)\n"
	"      --diff OLD.json NEW.json\n"
	"                           compare two JSON reports: what grew, shrank,\n"
	"                           appeared and disappeared (-j: as JSON)\n"
	"      --debug-dir DIR      also look for separate debug files under DIR (by\n"
	"                           build-id and debuglink); may repeat\n"
	"      --symbolize FILE     resolve the frames of a JSON report made earlier\n"
	"                           (by build-id and module offset) and write it again\n"
	"                           (to -o FILE or standard output); no tracing\n"
	"  -q, --quiet              no live status line\n"
	"  -h, --help               show this help and exit\n"
	"  -V, --version            show the version and exit\n"
	"\n"
	"Signals: in attach mode SIGINT, SIGTERM and SIGHUP detach and report;\n"
	"SIGUSR1 writes a report without detaching.\n"
	"\n"
	"Exit status: launch mode returns the program's status (128+N when it died of\n"
	"signal N), attach mode 0; --error-exitcode overrides both when leaks are\n"
	"reported; vmleak's own failures exit 1.\n"
	"\n"
	"Environment: DEBUGINFOD_URLS (space-separated server URLs) lets the final\n"
	"report download missing debug info with elfutils' debuginfod client.\n"
	"\n"
	"See vmleak(1) for the report formats and the suppression file format.\n";

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "vmleak: ");
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

/* Parse a non-empty run of decimal digits (no sign, no spaces) into *out.
 * Returns 0, -1 for a non-number, or -ERANGE when it does not fit. */
static int parse_digits(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (!isdigit((unsigned char)s[i]))
			return -1;
		d = s[i] - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int unit_shift(char c)
{
	switch (c) {
	case 'K':
	case 'k':
		return 10;
	case 'M':
	case 'm':
		return 20;
	case 'G':
	case 'g':
		return 30;
	case 'T':
	case 't':
		return 40;
	}
	return -1;
}

/* Digits with an optional binary-unit suffix: 4096, 64K, 1M, 2G, 1T. */
static int parse_size(const char *s, uint64_t *out, const char **why)
{
	size_t len = strlen(s);
	uint64_t v;
	int shift = 0;
	int rc;

	*why = "not a size (use bytes or a K, M, G or T suffix)";
	if (len > 0 && !isdigit((unsigned char)s[len - 1])) {
		shift = unit_shift(s[len - 1]);
		if (shift < 0)
			return -1;
		len--;
	}
	rc = parse_digits(s, len, &v);
	if (rc == -ERANGE || (rc == 0 && v > (UINT64_MAX >> shift))) {
		*why = "too large";
		return -1;
	}
	if (rc < 0)
		return -1;
	*out = v << shift;
	return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
	const char *why;

	return parse_size(s, out, &why);
}

/* A decimal number of seconds: digits with at most one '.', like "2", "0.05",
 * ".5". No sign, exponent, hex, nan or inf. */
static int parse_seconds(const char *s, double *out, const char **why)
{
	size_t digits = 0, dots = 0;
	const char *p;
	char *end;
	double v;

	*why = "not a number of seconds";
	for (p = s; *p; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (*p == '.')
			dots++;
		else
			return -1;
	}
	if (digits == 0 || dots > 1)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0')
		return -1;
	if (errno == ERANGE || !isfinite(v) || v > CLI_MAX_SECONDS) {
		*why = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

int cli_parse_seconds(const char *s, double *out)
{
	const char *why;

	return parse_seconds(s, out, &why);
}

static bool pid_present(const pid_t *pids, size_t n, pid_t pid)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (pids[i] == pid)
			return true;
	}
	return false;
}

static int append_pid(pid_t **pids, size_t *n, pid_t pid)
{
	pid_t *grown;

	if (pid_present(*pids, *n, pid))
		return 0;
	grown = realloc(*pids, (*n + 1) * sizeof(**pids));
	if (!grown)
		return -1;
	grown[(*n)++] = pid;
	*pids = grown;
	return 0;
}

/* One pid token: decimal digits, 1..INT_MAX. */
static int parse_one_pid(const char *s, size_t len, pid_t *pid, const char **why)
{
	uint64_t v;
	int rc;

	if (len > 0 && s[0] == '-') {
		*why = "a pid must be a positive number";
		return -1;
	}
	rc = parse_digits(s, len, &v);
	if (rc == -ERANGE || (rc == 0 && v > INT_MAX)) {
		*why = "pid out of range";
		return -1;
	}
	if (rc < 0) {
		*why = "not a pid";
		return -1;
	}
	if (v == 0) {
		*why = "a pid must be a positive number";
		return -1;
	}
	*pid = (pid_t)v;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* One comma-separated element: one or more pids separated by blanks (so that
 * -p "$(pidof prog)" works). */
static int parse_pid_element(const char *s, size_t len, pid_t **pids, size_t *n, const char **why)
{
	size_t i = 0, found = 0;

	while (i < len) {
		size_t start;
		pid_t pid;

		while (i < len && is_blank(s[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !is_blank(s[i]))
			i++;
		if (parse_one_pid(s + start, i - start, &pid, why) < 0)
			return -1;
		if (append_pid(pids, n, pid) < 0) {
			*why = "out of memory";
			return -1;
		}
		found++;
	}
	if (found == 0) {
		*why = "empty element in pid list";
		return -1;
	}
	return 0;
}

/* Append the pids of "12,34" to *pids, skipping duplicates. On error *n is left
 * as it was (the array may have been grown). */
static int parse_pid_list(const char *s, pid_t **pids, size_t *n, const char **why)
{
	size_t old_n = *n;
	const char *p = s;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (parse_pid_element(p, len, pids, n, why) < 0) {
			*n = old_n;
			return -1;
		}
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

int cli_parse_pid_list(const char *s, pid_t **pids, size_t *n)
{
	const char *why;

	return parse_pid_list(s, pids, n, &why);
}

static int parse_format(const char *s, enum report_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = REPORT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = REPORT_JSON;
	else if (strcmp(s, "folded") == 0)
		*out = REPORT_FOLDED;
	else if (strcmp(s, "html") == 0)
		*out = REPORT_HTML;
	else
		return -1;
	return 0;
}

static int parse_unwinder(const char *s, enum unwinder_kind *out)
{
	if (strcmp(s, "libunwind") == 0)
		*out = UNWINDER_LIBUNWIND;
	else if (strcmp(s, "libdw") == 0)
		*out = UNWINDER_LIBDW;
	else
		return -1;
	return 0;
}

static int parse_events(const char *s, enum events_kind *out)
{
	if (strcmp(s, "auto") == 0)
		*out = EVENTS_AUTO;
	else if (strcmp(s, "kernel") == 0)
		*out = EVENTS_KERNEL;
	else if (strcmp(s, "ptrace") == 0)
		*out = EVENTS_PTRACE;
	else
		return -1;
	return 0;
}

/* A whole number in [lo, hi]. */
static int parse_ranged(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v;

	if (parse_digits(s, strlen(s), &v) < 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int add_suppressions(struct options *o, char *file)
{
	char **grown = realloc(o->suppressions, (o->nsuppressions + 1) * sizeof(*grown));

	if (!grown)
		return -1;
	grown[o->nsuppressions++] = file;
	o->suppressions = grown;
	return 0;
}

static int add_debug_dir(struct options *o, char *dir)
{
	char **grown = realloc(o->debug_dirs, (o->ndebug_dirs + 1) * sizeof(*grown));

	if (!grown)
		return -1;
	grown[o->ndebug_dirs++] = dir;
	o->debug_dirs = grown;
	return 0;
}

static void set_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->format = REPORT_TEXT;
	o->duration = -1;
	o->interval = -1;
	o->follow_forks = true;
	o->depth = CLI_DEFAULT_DEPTH;
	o->min_size = 0;
	o->min_age = 0;
	o->error_exitcode = -1;
	o->unwinder = UNWINDER_LIBDW;
	o->events = EVENTS_AUTO;
}

/* How many long options start with the given prefix (for "ambiguous" errors). */
static int count_long_matches(const char *name, size_t len)
{
	const struct option *lo;
	int n = 0;

	for (lo = long_options; lo->name; lo++) {
		if (strncmp(lo->name, name, len) == 0)
			n++;
	}
	return n;
}

/* getopt returned '?' or ':' for the element argv[elem]: name the problem. */
static void describe_getopt_error(int c, char *elem, char *err, size_t errlen)
{
	if (elem && strncmp(elem, "--", 2) == 0) {
		const char *eq = strchr(elem, '=');
		int len = eq ? (int)(eq - elem) : (int)strlen(elem);

		if (c == ':')
			set_err(err, errlen, "option '%.*s' needs an argument", len, elem);
		else if (eq && optopt != 0)
			set_err(err, errlen, "option '%.*s' takes no argument", len, elem);
		else if (count_long_matches(elem + 2, len - 2) > 1)
			set_err(err, errlen, "ambiguous option '%.*s'", len, elem);
		else
			set_err(err, errlen, "unknown option '%.*s' (see vmleak --help)", len,
				elem);
		return;
	}
	if (c == ':')
		set_err(err, errlen, "option '-%c' needs an argument", optopt);
	else if (isprint(optopt))
		set_err(err, errlen, "unknown option '-%c' (see vmleak --help)", optopt);
	else
		set_err(err, errlen, "unknown option (see vmleak --help)");
}

static int reject_empty(const char *opt, const char *arg, char *err, size_t errlen)
{
	if (arg[0] != '\0')
		return 0;
	set_err(err, errlen, "%s: empty file name", opt);
	return -1;
}

/* Options that only mean something while tracing (refused with --diff). */
static bool is_trace_only(int c)
{
	switch (c) {
	case 'd':
	case OPT_INTERVAL:
	case OPT_NO_FOLLOW_FORKS:
	case OPT_DEPTH:
	case OPT_MIN_AGE:
	case OPT_EXITED:
	case OPT_SUPPRESSIONS:
	case OPT_LOG:
	case OPT_VERIFY:
	case OPT_ERROR_EXITCODE:
	case OPT_UNWINDER:
	case OPT_EVENTS:
		return true;
	}
	return false;
}

static const char *trace_only_name(int c)
{
	for (const struct option *lo = long_options; lo->name; lo++)
		if (lo->val == c)
			return lo->name;
	return "?";
}

/* Apply one parsed option. Returns CLI_OK, CLI_EXIT or CLI_ERROR. */
static enum cli_result apply_option(int c, char *arg, struct options *o, char *err, size_t errlen)
{
	const char *why;
	uint64_t v;

	if (is_trace_only(c) && !o->trace_only)
		o->trace_only = trace_only_name(c);
	switch (c) {
	case 'p':
		if (parse_pid_list(arg, &o->pids, &o->npids, &why) < 0) {
			set_err(err, errlen, "-p '%s': %s", arg, why);
			return CLI_ERROR;
		}
		break;
	case 'o':
		if (reject_empty("-o/--output", arg, err, errlen) < 0)
			return CLI_ERROR;
		o->output = arg;
		break;
	case 'j':
		o->format = REPORT_JSON;
		o->format_given = true;
		break;
	case OPT_FORMAT:
		if (parse_format(arg, &o->format) < 0) {
			set_err(err, errlen, "--format '%s': expected text, json, folded or html",
				arg);
			return CLI_ERROR;
		}
		o->format_given = true;
		break;
	case 'd':
		if (parse_seconds(arg, &o->duration, &why) < 0) {
			set_err(err, errlen, "--duration '%s': %s", arg, why);
			return CLI_ERROR;
		}
		if (o->duration <= 0) {
			set_err(err, errlen, "--duration '%s': must be greater than 0", arg);
			return CLI_ERROR;
		}
		break;
	case OPT_INTERVAL:
		if (parse_seconds(arg, &o->interval, &why) < 0) {
			set_err(err, errlen, "--interval '%s': %s", arg, why);
			return CLI_ERROR;
		}
		if (o->interval <= 0) {
			set_err(err, errlen, "--interval '%s': must be greater than 0", arg);
			return CLI_ERROR;
		}
		break;
	case OPT_NO_FOLLOW_FORKS:
		o->follow_forks = false;
		break;
	case OPT_DEPTH:
		if (parse_ranged(arg, 0, CLI_MAX_DEPTH, &v) < 0) {
			set_err(err, errlen, "--depth '%s': expected a whole number from 0 to %d",
				arg, CLI_MAX_DEPTH);
			return CLI_ERROR;
		}
		o->depth = (unsigned)v;
		break;
	case OPT_MIN_SIZE:
		if (parse_size(arg, &o->min_size, &why) < 0) {
			set_err(err, errlen, "--min-size '%s': %s", arg, why);
			return CLI_ERROR;
		}
		break;
	case OPT_MIN_AGE:
		if (parse_seconds(arg, &o->min_age, &why) < 0) {
			set_err(err, errlen, "--min-age '%s': %s", arg, why);
			return CLI_ERROR;
		}
		break;
	case OPT_ALL:
		o->all = true;
		break;
	case OPT_EXITED:
		o->exited = true;
		break;
	case OPT_SUPPRESSIONS:
		if (reject_empty("--suppressions", arg, err, errlen) < 0)
			return CLI_ERROR;
		if (add_suppressions(o, arg) < 0) {
			set_err(err, errlen, "out of memory");
			return CLI_ERROR;
		}
		break;
	case OPT_LOG:
		if (reject_empty("--log", arg, err, errlen) < 0)
			return CLI_ERROR;
		o->log = arg;
		break;
	case OPT_VERIFY:
		o->verify = true;
		break;
	case OPT_ERROR_EXITCODE:
		if (parse_ranged(arg, 1, 255, &v) < 0) {
			set_err(err, errlen,
				"--error-exitcode '%s': expected a whole number from 1 to 255",
				arg);
			return CLI_ERROR;
		}
		o->error_exitcode = (int)v;
		break;
	case OPT_DIFF:
		if (reject_empty("--diff", arg, err, errlen) < 0)
			return CLI_ERROR;
		o->diff_old = arg;
		break;
	case OPT_UNWINDER:
		if (parse_unwinder(arg, &o->unwinder) < 0) {
			set_err(err, errlen, "--unwinder '%s': expected libunwind or libdw", arg);
			return CLI_ERROR;
		}
		break;
	case OPT_EVENTS:
		if (parse_events(arg, &o->events) < 0) {
			set_err(err, errlen, "--events '%s': expected auto, kernel or ptrace", arg);
			return CLI_ERROR;
		}
		break;
	case OPT_DEBUG_DIR:
		if (reject_empty("--debug-dir", arg, err, errlen) < 0)
			return CLI_ERROR;
		if (add_debug_dir(o, arg) < 0) {
			set_err(err, errlen, "out of memory");
			return CLI_ERROR;
		}
		break;
	case OPT_SYMBOLIZE:
		if (reject_empty("--symbolize", arg, err, errlen) < 0)
			return CLI_ERROR;
		o->symbolize = arg;
		break;
	case 'q':
		o->quiet = true;
		break;
	case 'h':
		fputs(help_text, stdout);
		fflush(stdout);
		return CLI_EXIT;
	case 'V':
		printf("vmleak %s\n", VMLEAK_VERSION);
		fflush(stdout);
		return CLI_EXIT;
	default:
		set_err(err, errlen, "internal error: unhandled option %d", c);
		return CLI_ERROR;
	}
	return CLI_OK;
}

/* The checks that need the whole command line. */
static enum cli_result check_diff(const struct options *o, char *err, size_t errlen)
{
	if (o->symbolize) {
		set_err(err, errlen, "--diff and --symbolize cannot be combined");
		return CLI_ERROR;
	}
	if (!o->diff_new) {
		set_err(err, errlen, "--diff needs two files: --diff OLD.json NEW.json");
		return CLI_ERROR;
	}
	if (o->command) {
		set_err(err, errlen, "--diff takes two files, not a program to run ('%s')",
			o->command[0]);
		return CLI_ERROR;
	}
	if (o->npids) {
		set_err(err, errlen, "--diff compares two reports: it cannot be combined with -p");
		return CLI_ERROR;
	}
	if (o->trace_only) {
		set_err(err, errlen, "--diff compares two reports: --%s does not apply",
			o->trace_only);
		return CLI_ERROR;
	}
	if (o->format != REPORT_TEXT && o->format != REPORT_JSON) {
		set_err(err, errlen, "--diff writes text or json (-j), not another --format");
		return CLI_ERROR;
	}
	return CLI_OK;
}

static enum cli_result check_mode(struct options *o, char *err, size_t errlen)
{
	if (o->diff_old)
		return check_diff(o, err, errlen);
	if (o->symbolize) {
		if (o->npids > 0 || o->command) {
			set_err(err, errlen,
				"--symbolize reads a saved report: no -p PID or program");
			return CLI_ERROR;
		}
		if (o->format_given && o->format != REPORT_JSON) {
			set_err(err, errlen, "--symbolize writes JSON only (not --format %s)",
				o->format == REPORT_TEXT   ? "text"
				: o->format == REPORT_HTML ? "html"
							   : "folded");
			return CLI_ERROR;
		}
		o->format = REPORT_JSON;
		return CLI_OK;
	}
	if (o->npids == 0 && !o->command) {
		set_err(err, errlen, "no program to run and no -p PID given (see vmleak --help)");
		return CLI_ERROR;
	}
	if (o->npids > 0 && o->command) {
		set_err(err, errlen, "give either -p PID or a program to run, not both");
		return CLI_ERROR;
	}
	if (o->events == EVENTS_KERNEL && o->npids == 0) {
		set_err(err, errlen,
			"--events kernel needs -p (launch mode uses its seccomp filter)");
		return CLI_ERROR;
	}
	if (o->duration > 0 && o->npids == 0) {
		set_err(err, errlen, "-d/--duration needs -p (it applies to attach mode only)");
		return CLI_ERROR;
	}
	return CLI_OK;
}

enum cli_result cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	enum cli_result res = CLI_OK;
	int c;

	set_defaults(o);
	if (err && errlen > 0)
		err[0] = '\0';
	optind = 0; /* full re-initialisation of getopt, so we can be called again */
	opterr = 0; /* errors are ours to word */
again:
	for (;;) {
		int elem = optind == 0 ? 1 : optind;

		c = getopt_long(argc, argv, short_options, long_options, NULL);
		if (c == -1)
			break;
		if (c == '?' || c == ':') {
			describe_getopt_error(c, elem < argc ? argv[elem] : NULL, err, errlen);
			res = CLI_ERROR;
			goto out;
		}
		res = apply_option(c, optarg, o, err, errlen);
		if (res != CLI_OK)
			goto out;
	}
	/* --diff OLD NEW: NEW is the first operand; options may follow it */
	if (o->diff_old && !o->diff_new && optind < argc) {
		/* after "--" every word is an operand: no more options */
		bool operands_only = optind > 1 && strcmp(argv[optind - 1], "--") == 0;

		o->diff_new = argv[optind++];
		if (o->diff_new[0] == '\0') {
			set_err(err, errlen, "--diff: empty file name");
			res = CLI_ERROR;
			goto out;
		}
		if (!operands_only)
			goto again;
	}
	if (optind < argc)
		o->command = &argv[optind];
	res = check_mode(o, err, errlen);
out:
	if (res != CLI_OK)
		cli_free(o);
	return res;
}

void cli_free(struct options *o)
{
	free(o->pids);
	o->pids = NULL;
	o->npids = 0;
	free(o->suppressions);
	o->suppressions = NULL;
	o->nsuppressions = 0;
	free(o->debug_dirs);
	o->debug_dirs = NULL;
	o->ndebug_dirs = 0;
}
