/* tracer/main.c - vmleak's entry point: parse the command line, open the
 * outputs, launch or attach, run the trace loop, write the report, and pick the
 * exit status that docs/interface.md specifies. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/offline.h"
#include "report/rules.h"
#include "tracer/affinity.h"
#include "tracer/cli.h"
#include "tracer/kevents.h"
#include "tracer/signals.h"
#include "tracer/tracer.h"

static void free_strings(char **v)
{
	if (!v)
		return;
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* Open path for writing without truncating it: a run refused later (a bad
 * target, a bad suppressions file) must leave an existing file as it was and no
 * new empty one behind (*created says whether to unlink it then). The file is
 * emptied by truncate_output() once the trace has begun. */
static FILE *open_output(const char *path, const char *what, bool *created, char *err,
			 size_t errlen)
{
	struct stat st;
	FILE *f = NULL;
	int fd;

	*created = false;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "vmleak: cannot write %s '%s': Is a directory", what, path);
		return NULL;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	*created = fd >= 0;
	if (fd < 0 && errno == EEXIST)
		fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0)
		f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errlen, "vmleak: cannot write %s '%s': %s", what, path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		if (*created)
			unlink(path);
		*created = false;
	}
	return f;
}

static void truncate_output(FILE *f)
{
	struct stat st;

	if (f && f != stderr && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
	    ftruncate(fileno(f), 0) == 0)
		rewind(f);
}

/* --debug-dir roots as absolute paths of existing directories (libdwfl reads a
 * relative search path element relative to each module's directory). */
static char **absolute_debug_dirs(const struct options *opt, char *err, size_t errlen)
{
	char **dirs = calloc(opt->ndebug_dirs + 1, sizeof(*dirs));
	struct stat st;

	if (!dirs) {
		snprintf(err, errlen, "vmleak: out of memory");
		return NULL;
	}
	for (size_t i = 0; i < opt->ndebug_dirs; i++) {
		const char *dir = opt->debug_dirs[i];

		dirs[i] = realpath(dir, NULL);
		if (!dirs[i] || stat(dirs[i], &st) || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "vmleak: --debug-dir '%s': %s", dir,
				 dirs[i] ? "not a directory" : strerror(errno));
			goto fail;
		}
		if (strchr(dirs[i], ':')) {
			snprintf(err, errlen, "vmleak: --debug-dir '%s': a ':' in the path", dir);
			goto fail;
		}
	}
	return dirs;
fail:
	free_strings(dirs);
	return NULL;
}

static int program_status(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Attach mode: kernel events (no stop per syscall) when the kernel allows it.
 * --events kernel refuses to run without them; auto says why on one line and
 * uses syscall stops. */
static int choose_events(struct tracer *t, const struct options *opt, char *err, size_t errlen)
{
	char why[200] = "";

	if (opt->events == EVENTS_PTRACE) {
		snprintf(t->events_note, sizeof(t->events_note), "--events ptrace");
		return 0;
	}
	t->kev = kevents_new(opt->depth, why, sizeof(why));
	if (t->kev)
		return 0;
	if (opt->events == EVENTS_KERNEL) {
		snprintf(err, errlen, "vmleak: --events kernel: %s", why);
		return -1;
	}
	snprintf(t->events_note, sizeof(t->events_note), "%s", why);
	return 0; /* said once the attach worked */
}

static int run(struct tracer *t, struct options *opt, char *err, size_t errlen)
{
	if (opt->command) {
		t->launch = true;
		t->seccomp = true;
		if (tracer_launch(t, opt->command, err, errlen))
			return -1;
	} else {
		if (choose_events(t, opt, err, errlen))
			return -1;
		/* the tick also bounds the waits of the attach itself */
		signals_install(false, 0, opt->duration, opt->interval);
		if (tracer_attach(t, opt->pids, opt->npids, err, errlen))
			return -1;
		if (!t->kev && opt->events == EVENTS_AUTO)
			fprintf(stderr,
				"vmleak: kernel events unavailable (%s); using ptrace syscall stops\n",
				t->events_note);
	}
	truncate_output(t->out); /* the trace has begun: the outputs are ours now */
	truncate_output(t->log);
	if (t->launch) {
		signals_install(true, t->child, opt->duration, opt->interval);
		/* not when attached to someone's server: an idle-priority tracer
		 * could make a busy server wait at its syscalls */
		if (!getenv("VMLEAK_NO_AFFINITY"))
			t->aff = affinity_new();
	}
	if (tracer_loop(t) < 0) {
		snprintf(err, errlen, "vmleak: waitpid: %s", strerror(errno));
		return -1;
	}
	if (!t->launch)
		tracer_detach_all(t);
	return 0;
}

/* vmleak --symbolize FILE: no tracing; the report read back, resolved, and
 * written to -o FILE or standard output once all of it is known to be good (a
 * refused input leaves -o as it was). DEBUGINFOD_URLS may be used at once. */
static int symbolize_saved_report(const struct options *opt, char **debug_dirs)
{
	struct offline_options o = {
		.debug_dirs = (const char *const *)debug_dirs,
		.ndebug_dirs = opt->ndebug_dirs,
		.progress = tracer_download_note,
		.progress_ctx = (void *)opt,
	};
	bool stdin_input = strcmp(opt->symbolize, "-") == 0, created = false;
	FILE *in = stdin_input ? stdin : fopen(opt->symbolize, "re");
	FILE *out = stdout, *mem = NULL;
	char err[1024], *text = NULL;
	size_t len = 0;
	struct stat st;
	long n = -1;

	if (!in) {
		fprintf(stderr, "vmleak: --symbolize '%s': %s\n", opt->symbolize, strerror(errno));
		return 1;
	}
	if (!stdin_input && fstat(fileno(in), &st) == 0 && S_ISDIR(st.st_mode)) {
		fprintf(stderr, "vmleak: --symbolize '%s': Is a directory\n", opt->symbolize);
		fclose(in);
		return 1;
	}
	if (opt->output &&
	    !(out = open_output(opt->output, "the report to", &created, err, sizeof(err)))) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	mem = open_memstream(&text, &len);
	if (!mem) {
		fprintf(stderr, "vmleak: out of memory\n");
		goto out;
	}
	n = offline_symbolize(in, stdin_input ? "standard input" : opt->symbolize, mem, &o, err,
			      sizeof(err));
	status_clear(NULL);
	if (fclose(mem) && n >= 0) {
		snprintf(err, sizeof(err), "vmleak: out of memory");
		n = -1;
	}
	mem = NULL;
	if (n < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	truncate_output(out);
	if (fwrite(text, 1, len, out) != len || fflush(out) || ferror(out)) {
		fprintf(stderr, "vmleak: writing the report: %s\n", strerror(errno ? errno : EIO));
		n = -1;
	}
out:
	free(text);
	if (out && out != stdout)
		fclose(out);
	if (n < 0 && created)
		unlink(opt->output);
	if (!stdin_input)
		fclose(in);
	return n < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	char err[1024] = "";
	struct options opt;
	struct tracer t;
	bool out_created = false, log_created = false;
	char **debug_dirs = NULL, *debuginfod_urls = NULL;
	const char *urls = getenv("DEBUGINFOD_URLS");
	int rc = 1;

	switch (cli_parse(argc, argv, &opt, err, sizeof(err))) {
	case CLI_EXIT:
		cli_free(&opt);
		return 0;
	case CLI_ERROR:
		fprintf(stderr, "%s\n", err);
		cli_free(&opt);
		return 1;
	case CLI_OK:
		break;
	}
	if (opt.diff_old) {
		rc = tracer_diff(&opt);
		cli_free(&opt);
		return rc;
	}
	if (opt.symbolize) {
		if (!(debug_dirs = absolute_debug_dirs(&opt, err, sizeof(err)))) {
			fprintf(stderr, "%s\n", err);
			rc = 1;
		} else {
			rc = symbolize_saved_report(&opt, debug_dirs);
		}
		free_strings(debug_dirs);
		cli_free(&opt);
		return rc;
	}
	if (tracer_init(&t, &opt)) {
		fprintf(stderr, "vmleak: out of memory\n");
		goto out;
	}
	t.out = stderr;
	if (t.page_size != LEDGER_PAGE_SIZE) {
		snprintf(err, sizeof(err),
			 "vmleak: page size %llu is not supported (built for %llu-byte pages)",
			 (unsigned long long)t.page_size, (unsigned long long)LEDGER_PAGE_SIZE);
		goto fail;
	}
	/* debuginfod: asked for the final report only (output.c), never while
	 * tracing (the libdw unwinder's lookups would reach it too) */
	if (urls && *urls && !(debuginfod_urls = strdup(urls))) {
		snprintf(err, sizeof(err), "vmleak: out of memory");
		goto fail;
	}
	unsetenv("DEBUGINFOD_URLS");
	t.debuginfod_urls = debuginfod_urls;
	if (!(debug_dirs = absolute_debug_dirs(&opt, err, sizeof(err))))
		goto fail;
	t.debug_dirs = debug_dirs;
	t.ndebug_dirs = opt.ndebug_dirs;
	if (!(t.rules = tracer_load_rules(&opt, err, sizeof(err))))
		goto fail;
	if (opt.output &&
	    !(t.out = open_output(opt.output, "the report to", &out_created, err, sizeof(err))))
		goto fail;
	if (opt.log &&
	    !(t.log = open_output(opt.log, "the log to", &log_created, err, sizeof(err))))
		goto fail;
	if (run(&t, &opt, err, sizeof(err)))
		goto fail;
	if (t.oom) {
		/* docs/safety.md "Out of memory": never a report that is not exact */
		fprintf(stderr, "vmleak: out of memory (%s): %s; no report\n", t.oom,
			t.launch ? "recording stopped, the program ran to its end"
				 : "detached from the traced processes");
		rc = 1;
		goto out;
	}

	long leaks = tracer_write_report(&t, true);
	rc = t.launch && t.child_exited ? program_status(t.child_status) : 0;
	if (opt.error_exitcode > 0 && leaks > 0)
		rc = opt.error_exitcode;
	/* a report or log that could not be written is vmleak's own failure */
	if (leaks == -ENOMEM) {
		fprintf(stderr, "vmleak: out of memory (report): no report\n");
		rc = 1;
	} else if (leaks < 0) {
		fprintf(stderr, "vmleak: writing the report: %s\n", strerror((int)-leaks));
		rc = 1;
	}
	if (t.log && (fflush(t.log) || ferror(t.log))) {
		fprintf(stderr, "vmleak: writing the log to '%s': %s\n", opt.log,
			strerror(errno ? errno : EIO));
		rc = 1;
	}
	goto out;
fail:
	fprintf(stderr, "%s\n", err);
	rc = 1;
	if (out_created)
		unlink(opt.output);
	if (log_created)
		unlink(opt.log);
out:
	if (t.out && t.out != stderr)
		fclose(t.out);
	if (t.log)
		fclose(t.log);
	if (t.rules)
		rules_free(t.rules);
	tracer_destroy(&t);
	free_strings(debug_dirs);
	free(debuginfod_urls);
	cli_free(&opt);
	return rc;
}
