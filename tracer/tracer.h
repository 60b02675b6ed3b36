/* tracer/tracer.h - the tracer's state: tasks (threads), the address spaces
 * they share, and the session that owns them. One thread does all ptrace work. */
#ifndef VMLEAK_TRACER_TRACER_H
#define VMLEAK_TRACER_TRACER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "decoder/ledger.h"
#include "decoder/strtab.h"

/* Registers, syscall numbers, the seccomp filter and libunwind's accessors are
 * x86_64's (32-bit i386 tracees included); CMakeLists.txt says the same earlier. */
#ifndef __x86_64__
#error "vmleak's tracer supports x86_64 hosts only"
#endif
#include "decoder/syscall.h"
#include "report/report.h"
#include "report/stacks.h"
#include "tracer/cli.h"
#include "tracer/residency.h"

struct unwinder;
struct rules;
struct symbolizer;
struct affinity;

/* One address space (mm): threads and CLONE_VM children share it. */
struct addr_space {
	struct ledger *ledger;
	struct unwinder *uw;	   /* created on the first backtrace */
	int users;		   /* tasks that use it and have not died */
	int live_users;		   /* users that have not reached their exit stop */
	pid_t pid;		   /* a process using it, for /proc reads */
	struct addr_space *parent; /* forked from (copies of its regions are not counted again) */
	/* stack pointers of its threads that exited before the process did */
	uint64_t *exited_sps;
	size_t nexited, capexited;
	struct res_table res; /* resident/swapped bytes of its regions (residency.c) */
	bool ignored;	      /* --no-follow-forks child in seccomp mode: traced, not recorded */
	bool snapshotted;     /* finished: its ledger is frozen and kept for the report */
	bool group_exiting;   /* exit_group or a fatal signal: its threads die with it */
	bool kernel_events;   /* its memory calls come from kernel events (kevents.c), not stops */
	struct addr_space *next_all;
};

enum task_state {
	TASK_RUNNING = 0, /* resumed by us, no stop reported yet */
	TASK_STOPPED,	  /* in a ptrace-stop that we have not restarted */
	TASK_LISTENING,	  /* group-stopped, resumed with PTRACE_LISTEN */
};

struct task {
	pid_t tid;
	pid_t tgid;
	struct addr_space *as; /* NULL while waiting for the parent's clone event */
	enum task_state state;
	bool have_initial_stop; /* auto-attached child: its first stop arrived */
	bool exit_stopped;	/* PTRACE_EVENT_EXIT seen */
	bool in_call;		/* call is a decoded entry waiting for its exit stop */
	uint64_t clone_flags;	/* flags of the last clone-family entry (fallback for kcmp) */
	bool clone_flags_known;
	struct mem_call call;
	struct region_vec pending; /* removed at entry, put back if the call fails */
	int stop_sig;		   /* signal of the signal-delivery-stop we hold, for detach */
	bool group_stopped;	   /* last stop was a group-stop */
	bool detach_at_stop;	   /* --no-follow-forks child in attach mode */
	bool held;		   /* stopped by back-pressure (kernel events), resumed after */
	uint64_t sp;		   /* a thread's stack pointer at its first stop (0: unknown) */
	struct task *hnext;	   /* hash chain */
};

struct tracer {
	struct options *opt;
	bool launch; /* launch mode (seccomp) vs attach */
	bool seccomp;
	pid_t child; /* launched program */
	bool child_exited;
	int child_status; /* wait status */

	struct task **htab; /* tid -> task */
	size_t hsize, ntasks;
	struct addr_space *spaces;

	struct strtab *paths; /* file paths and module paths */
	struct stack_table *stacks;
	struct rules *rules;	 /* blame rules + --suppressions */
	struct symbolizer *sym;	 /* report time: PCs to functions and lines */
	struct history *history; /* live bytes of each site over the trace (growth.c) */
	struct growth *growth;	 /* the sampler's scratch and cost bound */
	/* symbolization settings, owned by main: --debug-dir roots made absolute,
	 * and DEBUGINFOD_URLS as vmleak got it (NULL: unset); vmleak's own
	 * environment holds it only while the final report is symbolized */
	char *const *debug_dirs;
	size_t ndebug_dirs;
	const char *debuginfod_urls;
	struct affinity *aff;  /* the tracer follows a single hot thread's CPU */
	struct kevents *kev;   /* attach mode's kernel event source, NULL: ptrace stops */
	uint64_t event_ns;     /* CLOCK_MONOTONIC time of the kernel event being applied */
	char events_note[256]; /* why attach mode uses ptrace stops ("" = it was asked to) */
	uint64_t lost_events;  /* kernel events lost (ring buffer overflow) */
	uint64_t resynced;     /* regions found in /proc/PID/maps after a loss */
	bool throttled;	       /* kernel events come faster than we apply them: tracees held */
	uint64_t throttles;    /* how often */
	uint64_t events[MEM_OP_COUNT];
	uint64_t failed;

	/* tid -> tgid of every task ever seen, for the report */
	struct tid_map *tids;

	struct report_process *procs;
	size_t nprocs, capprocs;
	struct verify_mismatch *mismatches;
	size_t nmismatches, capmismatches;
	size_t verify_checked;

	uint64_t page_size;  /* sysconf(_SC_PAGESIZE): the traced machine's */
	double start;	     /* CLOCK_MONOTONIC seconds */
	FILE *out;	     /* report */
	FILE *log;	     /* --log */
	bool stop_requested; /* a signal or -d asked to end */
	const char *oom;     /* out of memory: what could not be kept (tracer_oom) */
	bool stopping;	     /* detaching: stops are collected, not resumed */
};

double now_seconds(void);
uint32_t tracer_time_ms(const struct tracer *t);

/* tasks.c */
int tracer_init(struct tracer *t, struct options *opt);
/* Out of memory: what (e.g. "ledger") could not be kept exactly. The trace is no
 * longer exact, so nothing more is recorded and no report is written: attach mode
 * detaches (stop_requested), launch mode lets the program run to its end. The
 * first reason is kept; main says it in one line and exits 1. */
void tracer_oom(struct tracer *t, const char *what);
void tracer_destroy(struct tracer *t);
struct task *task_find(struct tracer *t, pid_t tid);
struct task *task_add(struct tracer *t, pid_t tid, pid_t tgid);
void task_remove(struct tracer *t, struct task *tk);
struct addr_space *space_new(struct tracer *t, pid_t pid, struct ledger *l);
void space_use(struct addr_space *as);
void space_release(struct tracer *t, struct addr_space *as, bool report);
void space_snapshot(struct tracer *t, struct addr_space *as, bool verify);
void tid_remember(struct tracer *t, pid_t tid, pid_t tgid);
pid_t tid_lookup(const struct tracer *t, pid_t tid);
void proc_remember(struct tracer *t, pid_t pid);

/* memtrack.c: memory syscalls at their entry and exit stops */
void mem_entry(struct tracer *t, struct task *tk, uint32_t arch, uint64_t nr,
	       const uint64_t args[6]);
void mem_exit(struct tracer *t, struct task *tk, int64_t rval, bool is_error);
void mem_abandon(struct tracer *t, struct task *tk); /* task died mid-call */

/* seccomp.c */
int seccomp_install_filter(void); /* in the launched child, before exec: 0 or -errno */

/* launch.c / attach.c */
int tracer_launch(struct tracer *t, char **argv, char *err, size_t errlen);
int tracer_attach(struct tracer *t, const pid_t *pids, size_t n, char *err, size_t errlen);
void tracer_detach_all(struct tracer *t);

/* kevents.c: compare the ledgers with /proc/PID/maps after lost kernel events
 * (every task of them stopped) */
void tracer_resync(struct tracer *t);
void tracer_resync_space(struct tracer *t, struct addr_space *as);

/* loop.c */
unsigned long tracer_options(const struct tracer *t);
int tracer_loop(struct tracer *t);
void tracer_handle_status(struct tracer *t, pid_t pid, int status);
void task_forget(struct tracer *t, struct task *tk); /* it died: drop it */
int task_resume(struct tracer *t, struct task *tk, int sig);
void task_continue(struct tracer *t, struct task *tk); /* LISTEN if group-stopped */
void tracer_on_exec(struct tracer *t, struct task *tk);

/* output.c: report assembly, status line, periodic reports */
long tracer_write_report(struct tracer *t, bool final);
struct rules *tracer_load_rules(const struct options *opt, char *err, size_t errlen);
/* vmleak --diff OLD NEW (tracer/diff_cmd.c): the exit status. */
int tracer_diff(const struct options *opt);
/* symbolizer_progress_fn, ctx = the options: a note on the status line (terminal,
 * no -q) while a debuginfod download has run for more than half a second. */
void tracer_download_note(void *ctx, const char *module, long done, long total, double seconds);
/* A symbolizer with the --debug-dir roots (absolute) and a status-line note for
 * slow debuginfod downloads; NULL when out of memory. */
struct symbolizer *tracer_symbolizer(const struct options *opt, char *const *debug_dirs,
				     size_t ndebug_dirs, const struct stack_table *stacks,
				     const struct strtab *modules, const struct rules *rules);
void status_update(struct tracer *t, bool force);
void status_clear(struct tracer *t);

#endif
