/* tests/check_cli.c - Check tests for tracer/cli.c: every usage error gives
 * CLI_ERROR with a one-line "vmleak: ..." that names the problem, and the valid
 * forms (sizes, decimal seconds, pid lists, "--", program options) parse to the
 * right values. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracer/cli.h"
#include "tests/check_run.h"

#define MAX_ARGS 32

/* An argv built from a NULL-terminated list, as main() would get it. */
struct cmdline {
	int argc;
	char *argv[MAX_ARGS + 1];
	struct options o;
	char err[256];
	enum cli_result res;
};

static void parse_args(struct cmdline *c, const char *first, va_list ap)
{
	const char *a;

	memset(c, 0, sizeof(*c));
	c->argv[c->argc++] = (char *)"vmleak";
	for (a = first; a; a = va_arg(ap, const char *)) {
		ck_assert_int_lt(c->argc, MAX_ARGS);
		c->argv[c->argc++] = (char *)a;
	}
	c->argv[c->argc] = NULL;
	c->res = cli_parse(c->argc, c->argv, &c->o, c->err, sizeof(c->err));
}

/* Parse "vmleak ARGS..." (NULL-terminated). */
static void parse(struct cmdline *c, const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	parse_args(c, first, ap);
	va_end(ap);
}

/* The one-line error contract, and the substring that names the problem. */
static void assert_error(struct cmdline *c, const char *needle)
{
	ck_assert_int_eq(c->res, CLI_ERROR);
	ck_assert_msg(strncmp(c->err, "vmleak: ", 8) == 0, "error '%s' lacks prefix", c->err);
	ck_assert_msg(strchr(c->err, '\n') == NULL, "error '%s' has a newline", c->err);
	ck_assert_msg(strstr(c->err, needle) != NULL, "error '%s' does not mention '%s'", c->err,
		      needle);
	/* on error the parser has released what it allocated */
	ck_assert_ptr_null(c->o.pids);
	ck_assert_ptr_null(c->o.suppressions);
}

static void expect_error(const char *needle, const char *first, ...)
{
	struct cmdline c;
	va_list ap;

	va_start(ap, first);
	parse_args(&c, first, ap);
	va_end(ap);
	assert_error(&c, needle);
}

/* ---- usage errors ---------------------------------------------------------- */

START_TEST(unknown_options)
{
	expect_error("unknown option '-x'", "-x", "--", "prog", NULL);
	expect_error("unknown option '--bogus'", "--bogus", "prog", NULL);
	expect_error("unknown option '--bogus'", "--bogus=1", "prog", NULL);
	expect_error("ambiguous option '--min'", "--min", "5", "prog", NULL);
	expect_error("'--all' takes no argument", "--all=yes", "prog", NULL);
	/* a cluster with a bad letter in the middle */
	expect_error("unknown option '-z'", "-qzj", "prog", NULL);
}
END_TEST

START_TEST(missing_arguments)
{
	expect_error("'-p' needs an argument", "-p", NULL);
	expect_error("'--pid' needs an argument", "--pid", NULL);
	expect_error("'--min-size' needs an argument", "--min-size", NULL);
	expect_error("'-o' needs an argument", "-q", "-o", NULL);
	expect_error("'--suppressions' needs an argument", "--suppressions", NULL);
}
END_TEST

START_TEST(mode_errors)
{
	expect_error("no program to run and no -p", "-q", NULL);
	expect_error("no program to run and no -p", "--", NULL);
	expect_error("not both", "-p", "1", "--", "prog", NULL);
	expect_error("not both", "-p", "1", "prog", NULL);
	expect_error("-d/--duration needs -p", "-d", "5", "--", "prog", NULL);
	expect_error("-d/--duration needs -p", "--duration=5", "prog", NULL);
	expect_error("--symbolize reads a saved report", "--symbolize", "r.json", "-p", "1", NULL);
	expect_error("--symbolize reads a saved report", "--symbolize", "r.json", "prog", NULL);
	expect_error("--symbolize writes JSON only (not --format text)", "--format", "text",
		     "--symbolize", "r.json", NULL);
	expect_error("--symbolize writes JSON only (not --format folded)", "--symbolize", "r.json",
		     "--format=folded", NULL);
	expect_error("--symbolize: empty file name", "--symbolize", "", NULL);
	expect_error("--debug-dir: empty file name", "--debug-dir", "", "prog", NULL);
	expect_error("'--debug-dir' needs an argument", "--debug-dir", NULL);
}
END_TEST

START_TEST(debug_dirs_and_symbolize)
{
	struct cmdline c;

	parse(&c, "--debug-dir", "/a", "--debug-dir=b", "--", "prog", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_uint_eq(c.o.ndebug_dirs, 2);
	ck_assert_str_eq(c.o.debug_dirs[0], "/a");
	ck_assert_str_eq(c.o.debug_dirs[1], "b");
	ck_assert_ptr_null(c.o.symbolize);
	ck_assert_int_eq(c.o.format, REPORT_TEXT);
	cli_free(&c.o);
	ck_assert_ptr_null(c.o.debug_dirs);

	/* --symbolize: JSON without saying so, -j allowed, -o and --debug-dir too */
	parse(&c, "--symbolize", "r.json", "--debug-dir", "/d", "-o", "out.json", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_str_eq(c.o.symbolize, "r.json");
	ck_assert_int_eq(c.o.format, REPORT_JSON);
	ck_assert_uint_eq(c.o.ndebug_dirs, 1);
	ck_assert_str_eq(c.o.output, "out.json");
	ck_assert_ptr_null(c.o.command);
	cli_free(&c.o);
	parse(&c, "-j", "--symbolize=-", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_str_eq(c.o.symbolize, "-");
	cli_free(&c.o);
}
END_TEST

START_TEST(bad_pid_lists)
{
	expect_error("-p '12x': not a pid", "-p", "12x", NULL);
	expect_error("-p '0': a pid must be a positive number", "-p", "0", NULL);
	expect_error("-p '-5': a pid must be a positive number", "-p", "-5", NULL);
	expect_error("not a pid", "-p", "+5", NULL);
	expect_error("empty element", "-p", "1,,2", NULL);
	expect_error("empty element", "-p", "1,", NULL);
	expect_error("empty element", "-p", ",1", NULL);
	expect_error("empty element", "-p", "", NULL);
	expect_error("empty element", "-p", " ", NULL);
	expect_error("out of range", "-p", "2147483648", NULL);
	expect_error("out of range", "-p", "99999999999999999999999", NULL);
	/* a good -p before a bad one: still an error, nothing leaked */
	expect_error("not a pid", "-p", "7", "--pid=8,x", NULL);
}
END_TEST

START_TEST(bad_sizes)
{
	static const char *const bad[] = {"12Q", "-1",	"",	"K",   "1.5M",
					  " 12", "12 ", "0x10", "1KB", "1MiB"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error("--min-size", "-p", "1", "--min-size", bad[i], NULL);
	expect_error("not a size", "-p", "1", "--min-size", "12Q", NULL);
	expect_error("too large", "-p", "1", "--min-size", "99999999999999999999", NULL);
	expect_error("too large", "-p", "1", "--min-size", "16777216T", NULL);
	expect_error("too large", "-p", "1", "--min-size", "18446744073709551616", NULL);
}
END_TEST

START_TEST(bad_durations)
{
	static const char *const bad[] = {"-1", "nan",	 "inf",	 "NaN", "1e3", "5x",
					  "",	"1.2.3", "0x10", ".",	" 1",  "+1"};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_error("--duration", "-p", "1", "-d", bad[i], NULL);
		expect_error("--interval", "--interval", bad[i], "prog", NULL);
		expect_error("--min-age", "--min-age", bad[i], "prog", NULL);
	}
	expect_error("not a number of seconds", "-p", "1", "-d", "nan", NULL);
	expect_error("must be greater than 0", "-p", "1", "-d", "0", NULL);
	expect_error("must be greater than 0", "-p", "1", "-d", "0.000", NULL);
	expect_error("must be greater than 0", "--interval", "0", "prog", NULL);
	expect_error("too large", "-p", "1", "-d", "10000000000", NULL);
}
END_TEST

START_TEST(bad_enums_and_numbers)
{
	expect_error("--format 'xml': expected text, json, folded or html", "--format", "xml", "p",
		     NULL);
	expect_error("--format", "--format=", "p", NULL);
	expect_error("--depth '257'", "--depth", "257", "p", NULL);
	expect_error("from 0 to 256", "--depth", "-1", "p", NULL);
	expect_error("--depth", "--depth", "abc", "p", NULL);
	expect_error("--depth", "--depth", "", "p", NULL);
	expect_error("--error-exitcode '0'", "--error-exitcode", "0", "p", NULL);
	expect_error("from 1 to 255", "--error-exitcode", "256", "p", NULL);
	expect_error("--error-exitcode", "--error-exitcode", "x", "p", NULL);
	expect_error("--unwinder 'gdb'", "--unwinder=gdb", "p", NULL);
	expect_error("-o/--output: empty file name", "-o", "", "p", NULL);
	expect_error("--log: empty file name", "--log=", "p", NULL);
	expect_error("--suppressions: empty file name", "--suppressions", "", "p", NULL);
}
END_TEST

START_TEST(diff_errors)
{
	expect_error("--diff needs two files", "--diff", "a.json", NULL);
	expect_error("--diff needs two files", "--diff", "a.json", "-j", NULL);
	expect_error("not a program to run ('c.json')", "--diff", "a.json", "b.json", "c.json",
		     NULL);
	expect_error("cannot be combined with -p", "-p", "1", "--diff", "a.json", "b.json", NULL);
	expect_error("--log does not apply", "--diff", "a.json", "b.json", "--log", "x", NULL);
	expect_error("--duration does not apply", "-d", "1", "--diff", "a.json", "b.json", NULL);
	expect_error("--interval does not apply", "--interval", "1", "--diff", "a", "b", NULL);
	expect_error("text or json", "--format", "html", "--diff", "a.json", "b.json", NULL);
	expect_error("--diff: empty file name", "--diff", "", "b.json", NULL);
	expect_error("--diff: empty file name", "--diff", "a.json", "", NULL);
	expect_error("option '--diff' needs an argument", "--diff", NULL);
	expect_error("--diff and --symbolize cannot be combined", "--symbolize", "r.json", "--diff",
		     "a.json", "b.json", NULL);
}
END_TEST

START_TEST(diff_forms)
{
	struct cmdline c;

	parse(&c, "--diff", "old.json", "new.json", NULL);
	ck_assert_int_eq(c.res, CLI_OK);
	ck_assert_str_eq(c.o.diff_old, "old.json");
	ck_assert_str_eq(c.o.diff_new, "new.json");
	ck_assert_ptr_null(c.o.command);
	ck_assert_int_eq(c.o.format, REPORT_TEXT);
	cli_free(&c.o);
	/* options before, between and after the files */
	parse(&c, "-q", "--diff", "old.json", "--min-size", "4K", "new.json", "-j", "-o", "d.json",
	      "--all", NULL);
	ck_assert_int_eq(c.res, CLI_OK);
	ck_assert_str_eq(c.o.diff_old, "old.json");
	ck_assert_str_eq(c.o.diff_new, "new.json");
	ck_assert_int_eq(c.o.format, REPORT_JSON);
	ck_assert_str_eq(c.o.output, "d.json");
	ck_assert_uint_eq(c.o.min_size, 4096);
	ck_assert(c.o.all);
	cli_free(&c.o);
	parse(&c, "--diff", "old.json", "--", "-new.json", NULL);
	ck_assert_int_eq(c.res, CLI_OK);
	ck_assert_str_eq(c.o.diff_new, "-new.json");
	cli_free(&c.o);
	parse(&c, "--format", "html", "-o", "r.html", "prog", NULL);
	ck_assert_int_eq(c.res, CLI_OK);
	ck_assert_int_eq(c.o.format, REPORT_HTML);
	cli_free(&c.o);
}
END_TEST

START_TEST(small_error_buffer)
{
	struct options o;
	char *argv[] = {"vmleak", "--format", "a-very-long-format-name-indeed", "p", NULL};
	char err[12];

	memset(err, 'X', sizeof(err));
	ck_assert_int_eq(cli_parse(4, argv, &o, err, sizeof(err)), CLI_ERROR);
	ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
	ck_assert_str_eq(err, "vmleak: --f");
}
END_TEST

/* ---- valid forms ----------------------------------------------------------- */

START_TEST(defaults)
{
	struct cmdline c;

	parse(&c, "prog", NULL);
	ck_assert_int_eq(c.res, CLI_OK);
	ck_assert_str_eq(c.err, "");
	ck_assert_uint_eq(c.o.npids, 0);
	ck_assert_ptr_eq(c.o.command, &c.argv[1]);
	ck_assert_ptr_null(c.o.output);
	ck_assert_int_eq(c.o.format, REPORT_TEXT);
	ck_assert(c.o.duration < 0);
	ck_assert(c.o.interval < 0);
	ck_assert(c.o.follow_forks);
	ck_assert_uint_eq(c.o.depth, CLI_DEFAULT_DEPTH);
	ck_assert_uint_eq(c.o.min_size, 0);
	ck_assert(c.o.min_age == 0);
	ck_assert(!c.o.all);
	ck_assert_uint_eq(c.o.nsuppressions, 0);
	ck_assert_ptr_null(c.o.log);
	ck_assert(!c.o.verify);
	ck_assert_int_eq(c.o.error_exitcode, -1);
	ck_assert(!c.o.quiet);
	ck_assert_int_eq(c.o.unwinder, UNWINDER_LIBDW);
	cli_free(&c.o);
}
END_TEST

START_TEST(every_option)
{
	struct cmdline c;

	parse(&c, "-p", "10", "-o", "out.txt", "--format", "folded", "-d", "2.5", "--interval",
	      "0.25", "--no-follow-forks", "--depth", "0", "--min-size", "64K", "--min-age", "1.5",
	      "--all", "--suppressions", "a.supp", "--suppressions=b.supp", "--log", "mem.log",
	      "--verify", "--error-exitcode", "42", "-q", "--unwinder=libdw", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_uint_eq(c.o.npids, 1);
	ck_assert_int_eq(c.o.pids[0], 10);
	ck_assert_ptr_null(c.o.command);
	ck_assert_str_eq(c.o.output, "out.txt");
	ck_assert_int_eq(c.o.format, REPORT_FOLDED);
	ck_assert_double_eq(c.o.duration, 2.5);
	ck_assert_double_eq(c.o.interval, 0.25);
	ck_assert(!c.o.follow_forks);
	ck_assert_uint_eq(c.o.depth, 0);
	ck_assert_uint_eq(c.o.min_size, 65536);
	ck_assert_double_eq(c.o.min_age, 1.5);
	ck_assert(c.o.all);
	ck_assert_uint_eq(c.o.nsuppressions, 2);
	ck_assert_str_eq(c.o.suppressions[0], "a.supp");
	ck_assert_str_eq(c.o.suppressions[1], "b.supp");
	ck_assert_str_eq(c.o.log, "mem.log");
	ck_assert(c.o.verify);
	ck_assert_int_eq(c.o.error_exitcode, 42);
	ck_assert(c.o.quiet);
	ck_assert_int_eq(c.o.unwinder, UNWINDER_LIBDW);
	cli_free(&c.o);
}
END_TEST

START_TEST(long_and_short_spellings)
{
	struct cmdline c;

	parse(&c, "--pid=5", "--output=o", "-j", "--duration=3", "--quiet", "--depth=256",
	      "--error-exitcode=255", "--min-age=0", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_int_eq(c.o.pids[0], 5);
	ck_assert_str_eq(c.o.output, "o");
	ck_assert_int_eq(c.o.format, REPORT_JSON);
	ck_assert_double_eq(c.o.duration, 3);
	ck_assert(c.o.quiet);
	ck_assert_uint_eq(c.o.depth, CLI_MAX_DEPTH);
	ck_assert_int_eq(c.o.error_exitcode, 255);
	cli_free(&c.o);

	/* the last format wins; a unique abbreviation is accepted (GNU style) */
	parse(&c, "-j", "--format=text", "--verif", "-oout", "-p7", "--unwinder", "libunwind",
	      NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_int_eq(c.o.format, REPORT_TEXT);
	ck_assert(c.o.verify);
	ck_assert_str_eq(c.o.output, "out");
	ck_assert_int_eq(c.o.pids[0], 7);
	ck_assert_int_eq(c.o.unwinder, UNWINDER_LIBUNWIND);
	cli_free(&c.o);
}
END_TEST

START_TEST(pid_lists)
{
	struct cmdline c;
	static const pid_t want[] = {3, 1, 2, 40, 2147483647};
	size_t i;

	parse(&c, "-p", "3,1", "-p", "3", "--pid", "2,1,40", "-p", "2147483647", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_uint_eq(c.o.npids, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < c.o.npids; i++)
		ck_assert_int_eq(c.o.pids[i], want[i]);
	cli_free(&c.o);
	ck_assert_ptr_null(c.o.pids);

	/* blank-separated, as $(pidof prog) gives */
	parse(&c, "-p", " 10 20\t30\n", "-p", "20, 50", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_uint_eq(c.o.npids, 4);
	ck_assert_int_eq(c.o.pids[0], 10);
	ck_assert_int_eq(c.o.pids[2], 30);
	ck_assert_int_eq(c.o.pids[3], 50);
	cli_free(&c.o);
}
END_TEST

START_TEST(pid_list_api)
{
	pid_t *pids = NULL;
	size_t n = 0;

	ck_assert_int_eq(cli_parse_pid_list("12,34", &pids, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(cli_parse_pid_list("34,56", &pids, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(pids[2], 56);
	/* a failed append leaves the list as it was */
	ck_assert_int_eq(cli_parse_pid_list("78,bad", &pids, &n), -1);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(pids[0], 12);
	ck_assert_int_eq(pids[1], 34);
	free(pids);
}
END_TEST

START_TEST(sizes)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{"0", 0},
		{"4096", 4096},
		{"64K", 64ull << 10},
		{"64k", 64ull << 10},
		{"1M", 1ull << 20},
		{"3m", 3ull << 20},
		{"2G", 2ull << 30},
		{"1T", 1ull << 40},
		{"007", 7},
		{"18446744073709551615", UINT64_MAX},
		{"16777215T", 16777215ull << 40},
	};
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = 1;
		ck_assert_msg(cli_parse_size(good[i].s, &v) == 0, "'%s' refused", good[i].s);
		ck_assert_msg(v == good[i].v, "'%s' gave %llu", good[i].s, (unsigned long long)v);
	}
	ck_assert_int_eq(cli_parse_size("12Q", &v), -1);
	ck_assert_int_eq(cli_parse_size("16777216T", &v), -1);

	struct cmdline c;

	parse(&c, "--min-size", "2G", "prog", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_uint_eq(c.o.min_size, 2ull << 30);
	cli_free(&c.o);
}
END_TEST

START_TEST(seconds)
{
	static const struct {
		const char *s;
		double v;
	} good[] = {
		{"2", 2}, {"0.05", 0.05}, {".5", 0.5}, {"5.", 5}, {"0", 0}, {"120.125", 120.125},
	};
	double v;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		v = -1;
		ck_assert_msg(cli_parse_seconds(good[i].s, &v) == 0, "'%s' refused", good[i].s);
		ck_assert_double_eq_tol(v, good[i].v, 1e-12);
	}
	ck_assert_int_eq(cli_parse_seconds("-0.5", &v), -1);
	ck_assert_int_eq(cli_parse_seconds("inf", &v), -1);

	struct cmdline c;

	parse(&c, "-p", "1", "-d", "0.05", "--interval", "1.5", "--min-age", "0", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_double_eq_tol(c.o.duration, 0.05, 1e-12);
	ck_assert_double_eq_tol(c.o.interval, 1.5, 1e-12);
	ck_assert_double_eq(c.o.min_age, 0);
	cli_free(&c.o);
}
END_TEST

START_TEST(program_and_separator)
{
	struct cmdline c;

	/* "--" then a program whose arguments look like ours */
	parse(&c, "-q", "--", "./prog", "-p", "5", "--format", "xml", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert(c.o.quiet);
	ck_assert_uint_eq(c.o.npids, 0);
	ck_assert_ptr_eq(c.o.command, &c.argv[3]);
	ck_assert_str_eq(c.o.command[0], "./prog");
	ck_assert_str_eq(c.o.command[3], "--format");
	ck_assert_ptr_null(c.o.command[5]);
	cli_free(&c.o);

	/* without "--" (like strace): options after PROGRAM belong to it */
	parse(&c, "--all", "./prog", "-d", "x", "--bogus", "-h", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert(c.o.all);
	ck_assert_ptr_eq(c.o.command, &c.argv[2]);
	ck_assert(c.o.duration < 0);
	cli_free(&c.o);

	/* a program named like an option, after "--" */
	parse(&c, "--", "-weird", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_str_eq(c.o.command[0], "-weird");
	cli_free(&c.o);

	/* a second "--" belongs to the program */
	parse(&c, "--", "prog", "--", "x", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_str_eq(c.o.command[1], "--");
	cli_free(&c.o);
}
END_TEST

START_TEST(parse_is_repeatable)
{
	struct cmdline c;

	/* getopt keeps global state: a failed parse must not disturb the next */
	parse(&c, "-p", "1", "-x", NULL);
	assert_error(&c, "'-x'");
	parse(&c, "-p", "1", "-q", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert(c.o.quiet);
	cli_free(&c.o);
	/* and a stop in the middle of a cluster */
	parse(&c, "-qx", "prog", NULL);
	assert_error(&c, "'-x'");
	parse(&c, "-jq", "prog", NULL);
	ck_assert_msg(c.res == CLI_OK, "%s", c.err);
	ck_assert_int_eq(c.o.format, REPORT_JSON);
	ck_assert(c.o.quiet);
	cli_free(&c.o);
	cli_free(&c.o); /* cli_free twice is harmless */
}
END_TEST

/* Run parse with stdout captured into buf. */
static enum cli_result parse_capturing_stdout(struct cmdline *c, char *buf, size_t size,
					      const char *arg)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDOUT_FILENO);
	size_t n;

	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_ge(saved, 0);
	fflush(stdout);
	ck_assert_int_ge(dup2(fileno(tmp), STDOUT_FILENO), 0);
	parse(c, arg, NULL);
	fflush(stdout);
	ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
	return c->res;
}

START_TEST(help_lists_every_option)
{
	static const char *const names[] = {
		"-p, --pid",
		"-o, --output",
		"--format",
		"-j",
		"-d, --duration",
		"--interval",
		"--no-follow-forks",
		"--depth",
		"--min-size",
		"--min-age",
		"--all",
		"--suppressions",
		"--log",
		"--verify",
		"--error-exitcode",
		"--unwinder",
		"-q, --quiet",
		"-h, --help",
		"-V, --version",
		"text",
		"json",
		"folded",
	};
	static char out[8192];
	struct cmdline c;
	size_t i;

	ck_assert_int_eq(parse_capturing_stdout(&c, out, sizeof(out), "--help"), CLI_EXIT);
	ck_assert_str_eq(c.err, "");
	ck_assert_msg(strncmp(out, "Usage: vmleak", 13) == 0, "help starts '%.20s'", out);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		ck_assert_msg(strstr(out, names[i]) != NULL, "--help lacks '%s'", names[i]);
	ck_assert_int_eq(parse_capturing_stdout(&c, out, sizeof(out), "-h"), CLI_EXIT);
	ck_assert_ptr_nonnull(strstr(out, "--min-size"));
}
END_TEST

START_TEST(version)
{
	static char out[256];
	struct cmdline c;

	ck_assert_int_eq(parse_capturing_stdout(&c, out, sizeof(out), "--version"), CLI_EXIT);
	ck_assert_str_eq(out, "vmleak " VMLEAK_VERSION "\n");
	ck_assert_int_eq(parse_capturing_stdout(&c, out, sizeof(out), "-V"), CLI_EXIT);
	ck_assert_str_eq(out, "vmleak 0.1.0\n");
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *errors = tcase_create("errors");
	TCase *valid = tcase_create("valid");

	tcase_add_test(errors, unknown_options);
	tcase_add_test(errors, missing_arguments);
	tcase_add_test(errors, mode_errors);
	tcase_add_test(errors, bad_pid_lists);
	tcase_add_test(errors, bad_sizes);
	tcase_add_test(errors, bad_durations);
	tcase_add_test(errors, bad_enums_and_numbers);
	tcase_add_test(errors, small_error_buffer);
	tcase_add_test(errors, diff_errors);
	tcase_add_test(valid, diff_forms);
	tcase_add_test(valid, defaults);
	tcase_add_test(valid, every_option);
	tcase_add_test(valid, debug_dirs_and_symbolize);
	tcase_add_test(valid, long_and_short_spellings);
	tcase_add_test(valid, pid_lists);
	tcase_add_test(valid, pid_list_api);
	tcase_add_test(valid, sizes);
	tcase_add_test(valid, seconds);
	tcase_add_test(valid, program_and_separator);
	tcase_add_test(valid, parse_is_repeatable);
	tcase_add_test(valid, help_lists_every_option);
	tcase_add_test(valid, version);
	suite_add_tcase(s, errors);
	suite_add_tcase(s, valid);
	return s;
}

int main(void)
{
	return check_run(cli_suite());
}
