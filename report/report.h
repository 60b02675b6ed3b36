/* report/report.h - the leak report: groups unmatched regions by call site,
 * applies filters and categories, and writes text, JSON (schema 1) or folded
 * output as docs/interface.md specifies. It works on a snapshot handed to it
 * by the tracer; symbolization and classification come in through callbacks so
 * that this module stays testable without a live process. It reads no environment
 * (no getcwd, no getenv): whatever it needs comes in through report_data and
 * report_options. The writers live in report/write_*.c behind report_priv.h. */
#ifndef VMLEAK_REPORT_REPORT_H
#define VMLEAK_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decoder/ledger.h"
#include "decoder/strtab.h"
#include "decoder/syscall.h"
#include "report/history.h"

enum report_format {
	REPORT_TEXT = 0,
	REPORT_JSON,
	REPORT_FOLDED,
	REPORT_HTML,
};

enum site_category {
	CAT_PROGRAM = 0,
	CAT_MALLOC_HEAP,
	CAT_THREAD_STACK,
	CAT_RUNTIME,
	CAT_LOADER,
	CAT_UNKNOWN,
	CAT_USER_SUPPRESSED,
	CAT_COUNT,
};
const char *site_category_name(enum site_category c); /* "program", "malloc-heap", ... */

/* One symbolized frame. Strings are owned by whoever produced them and must live
 * until report_write returns. */
struct frame_info {
	uint64_t pc;
	const char *function;	/* demangled; NULL when unknown */
	uint64_t offset;	/* pc - function start */
	const char *module;	/* module path; NULL when unknown */
	const char *file;	/* source file; NULL when unknown */
	int line;		/* 0 when unknown */
	const char *build_id;	/* the module's hex GNU build-id; NULL when unknown */
	uint64_t module_offset; /* pc relative to the module's load bias (module known) */
	bool static_exe;	/* the module is a statically linked executable, which
				 * carries its own C runtime (gcc -static, Go) */
};

/* A site's frames (innermost first) and its category. The category function gets
 * the creating syscall's details because the rules depend on them (malloc's brk
 * growth vs. its mmap'd chunk). *callsite is the index of the "at" frame. */
struct report_site_info {
	const struct frame_info *frames;
	size_t nframes;
	enum site_category category;
	size_t callsite; /* index into frames of the first frame outside the runtime */
};
/* Returns 0, or nonzero when out of memory: report_write then fails with -ENOMEM
 * rather than print a site without the frames and category it has. */
typedef int (*report_resolve_fn)(void *ctx, uint32_t stack, const struct region *example,
				 struct report_site_info *out);

struct report_process {
	int32_t pid;
	const char *exe; /* NULL when unknown */
};

struct verify_mismatch {
	int32_t pid;
	uint64_t start, end;
	const char *problem; /* e.g. "in ledger, not mapped", "mapped, not in ledger" */
};

/* A region's resident and swapped bytes (decoded from struct region's resident
 * and swapped pages, which the tracer measures from /proc/PID/pagemap). */
struct region_residency {
	uint64_t resident, swapped;
};

struct report_data {
	const char *mode;     /* "launch" or "attach" */
	char *const *command; /* NULL-terminated argv; NULL in attach mode */
	const int32_t *pids;  /* launched or attached pids */
	size_t npids;
	double duration_s;
	bool final;
	bool has_exit; /* launch mode, program exited */
	int32_t exit_pid;
	int exit_code;		       /* valid when exit_signal == 0 */
	int exit_signal;	       /* 0 = exited normally */
	uint64_t events[MEM_OP_COUNT]; /* successful calls by op */
	uint64_t failed;	       /* failed memory calls */
	/* The regions still mapped when the report is taken, by pointer (no copies:
	 * a ledger's regions stay put while nothing changes it). report_write
	 * filters and reorders this array in place. */
	const struct region **regions;
	size_t nregions;
	int32_t (*pid_of)(void *ctx, const struct region *r); /* NULL: the tid */
	void *pid_ctx;
	const struct report_process *procs;
	size_t nprocs;
	const struct strtab *paths; /* region.path ids */
	/* The key regions are grouped by: stacks naming the same code share one
	 * (report/stacks.h stacks_canonical). NULL: the site id itself. */
	uint32_t (*site_key)(void *ctx, uint32_t site);
	void *site_ctx;
	report_resolve_fn resolve; /* NULL: frames [] and category "unknown" */
	void *resolve_ctx;
	bool verify; /* --verify was given */
	size_t verify_checked;
	const struct verify_mismatch *mismatches;
	size_t nmismatches;
	size_t dead_thread_stacks; /* thread-stack regions whose thread has exited */
	/* attach mode: where memory calls came from ("kernel" tracepoints or
	 * "ptrace" stops; NULL in launch mode), why not the kernel (NULL: not
	 * asked), and how many kernel events were lost (their address spaces were
	 * resynchronised from /proc/PID/maps) */
	const char *event_source;
	const char *event_source_note;
	uint64_t lost_events;
	/* Processes that exited before the report (sorted pids): with
	 * report_options.hide_exited their regions are summed, not listed. */
	const int32_t *exited_pids;
	size_t nexited_pids;
	/* The resident and swapped bytes of regions[i], i its index in the array
	 * as given (report_write reorders the array but remembers where each came
	 * from); false when it has no figure (its process was gone before it could
	 * be measured). NULL: nothing measured, the report shows no resident
	 * figures (JSON null). */
	bool (*residency)(void *ctx, size_t i, struct region_residency *out);
	void *residency_ctx;
	/* Live bytes of each site over the trace; NULL: no series, no trend. */
	const struct history *history;
};

struct report_options {
	enum report_format format;
	uint64_t min_size; /* sites with fewer unmatched bytes are left out */
	double min_age;	   /* regions younger than this (seconds) are left out */
	bool hide_exited;  /* sum the regions of exited_pids in one line instead of listing them */
	bool all;	   /* list suppressed sites too */
	const char *cwd;   /* text: source paths below it are shown relative to it; may be NULL */
};

/* Write the report; returns the number of unsuppressed regions reported (>= 0) or
 * -errno on a write error. */
long report_write(FILE *out, const struct report_data *d, const struct report_options *o);

/* "200.0 KiB", "1.9 MiB", "512 B": binary units with one decimal. */
int report_format_size(char *buf, size_t size, uint64_t bytes);

#endif
