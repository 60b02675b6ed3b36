/* tracer/cli.h - vmleak's command line: options of docs/interface.md,
 * parsed and validated strictly, with one-line errors. */
#ifndef VMLEAK_TRACER_CLI_H
#define VMLEAK_TRACER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "report/report.h"

#define CLI_DEFAULT_DEPTH 32
#define CLI_MAX_DEPTH	  256

enum unwinder_kind {
	UNWINDER_LIBUNWIND = 0,
	UNWINDER_LIBDW,
};

/* --events: where attach mode takes memory syscalls from */
enum events_kind {
	EVENTS_AUTO = 0, /* kernel syscall tracepoints when allowed, else ptrace */
	EVENTS_KERNEL,	 /* perf_event_open on syscall tracepoints; refuse if unavailable */
	EVENTS_PTRACE,	 /* a ptrace stop at every syscall entry and exit */
};

struct options {
	pid_t *pids; /* -p, in the order given, duplicates removed */
	size_t npids;
	char **command;	    /* PROGRAM ARGS... (points into argv), NULL in attach mode */
	const char *output; /* -o; NULL = stderr */
	enum report_format format;
	bool format_given; /* --format or -j was given */
	double duration;   /* -d seconds; < 0 = until signalled */
	double interval;   /* --interval seconds; < 0 = none */
	bool follow_forks;
	unsigned depth;
	uint64_t min_size;
	double min_age; /* seconds; 0 = all */
	bool all;
	bool exited;	     /* --exited: list regions of processes that exited (attach mode) */
	char **suppressions; /* --suppressions files (points into argv) */
	size_t nsuppressions;
	const char *log; /* --log FILE */
	bool verify;
	int error_exitcode; /* -1 = not given */
	bool quiet;
	enum unwinder_kind unwinder;
	enum events_kind events;
	const char *diff_old, *diff_new; /* --diff OLD NEW; NULL otherwise */
	const char *trace_only;		 /* the first option given that only applies to tracing */
	char **debug_dirs;		 /* --debug-dir roots (points into argv), searched first */
	size_t ndebug_dirs;
	const char *symbolize; /* --symbolize REPORT.json: no tracing; "-" = stdin */
};

enum cli_result {
	CLI_OK = 0,	/* run */
	CLI_EXIT = 1,	/* --help or --version printed: exit 0 */
	CLI_ERROR = -1, /* err holds "vmleak: ..." without newline: exit 1 */
};

/* Parse argv into o (zeroed and defaulted first). Help and version text go to
 * stdout. */
enum cli_result cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void cli_free(struct options *o);

/* Value parsers, exported for tests. Each returns 0 or -1. */
int cli_parse_size(const char *s, uint64_t *out);		/* "4096", "64K", "1M", "2G" */
int cli_parse_seconds(const char *s, double *out);		/* "2", "0.05"; >= 0, finite */
int cli_parse_pid_list(const char *s, pid_t **pids, size_t *n); /* appends "12,34" */

#endif
