/* bench/unwind_bench.c - cost of remote backtraces and of report-time
 * symbolization. Runs tests/progs/deep_stack N times under ptrace, captures the
 * stack at every mmap syscall exit with the chosen backend, and prints
 * microseconds per backtrace; then symbolizes M distinct offsets of libc.
 * usage: unwind_bench DEEP_STACK_PATH [N] [libunwind|libdw|both] [M] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report/rules.h"
#include "report/stacks.h"
#include "report/symbolize.h"
#include "tracer/unwind.h"

#define MAX_FRAMES 32

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static pid_t launch(const char *prog, long n)
{
	char arg[32];
	pid_t pid;
	int status;

	snprintf(arg, sizeof(arg), "%ld", n);
	pid = fork();
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execl(prog, prog, arg, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	ptrace(PTRACE_SETOPTIONS, pid, NULL,
	       (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
	return pid;
}

struct run {
	unsigned long captures, frames;
	double capture_us;
	struct stack_table *stacks;
	struct strtab *modules;
	uint32_t last_id;
	struct unwinder_stats st;
};

/* Trace to the end; capture at each mmap exit. */
static void run_backend(const char *prog, long n, enum unwinder_kind kind, struct run *r)
{
	pid_t pid = launch(prog, n);
	struct unwinder *u = unwinder_new(kind, pid, r->modules);
	bool entering = true, is_mmap = false;
	int status;

	if (!u) {
		fprintf(stderr, "unwinder_new failed\n");
		exit(1);
	}
	for (;;) {
		struct user_regs_struct regs;

		if (ptrace(PTRACE_SYSCALL, pid, NULL, NULL) || waitpid(pid, &status, 0) != pid ||
		    !WIFSTOPPED(status))
			break;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		ptrace(PTRACE_GETREGS, pid, NULL, &regs);
		if (entering) {
			is_mmap = regs.orig_rax == SYS_mmap;
		} else if (is_mmap) {
			uint64_t pcs[MAX_FRAMES];
			double t0 = now_us();
			unsigned k = unwinder_capture(u, pid, pcs, MAX_FRAMES);
			bool is_new;
			uint32_t id = stacks_intern(r->stacks, pcs, k, &is_new);

			if (is_new)
				unwinder_describe(u, r->stacks, id);
			r->capture_us += now_us() - t0;
			r->captures++;
			r->frames += k;
			if (id)
				r->last_id = id;
		} else if (regs.orig_rax == SYS_munmap) {
			unwinder_mapping_changed(u, regs.rdi, regs.rdi + regs.rsi, false);
		}
		entering = !entering;
	}
	unwinder_get_stats(u, &r->st);
	unwinder_free(u);
	waitpid(pid, &status, 0);
}

static void print_stack(struct run *r, struct rules *rules)
{
	struct symbolizer *s = symbolizer_new(r->stacks, r->modules, rules);
	struct report_site_info info;

	symbolizer_resolve(s, r->last_id, NULL, &info);
	printf("  category %d, call site #%zu\n", (int)info.category, info.callsite);
	for (size_t i = 0; i < info.nframes; i++) {
		const struct frame_info *f = &info.frames[i];

		printf("  #%zu %#lx %s+%#lx (%s) %s:%d\n", i, (unsigned long)f->pc,
		       f->function ?: "?", (unsigned long)f->offset, f->module ?: "?",
		       f->file ?: "?", f->line);
	}
	symbolizer_free(s);
}

/* Symbolize m distinct offsets spread over libc's text (cold memo). */
static void bench_symbolize(long m)
{
	struct strtab *modules = strtab_new();
	struct stack_table *stacks = stacks_new();
	struct symbolizer *s = symbolizer_new(stacks, modules, NULL);
	uint32_t libc = strtab_intern(modules, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	unsigned named = 0, lined = 0;
	double t0 = now_us(), dt;

	for (long i = 0; i < m; i++) {
		struct frame_info f;

		symbolizer_lookup(s, libc, 0x28000 + (uint64_t)i * 13, true, &f);
		named += f.function != NULL;
		lined += f.line > 0;
	}
	dt = now_us() - t0;
	printf("symbolize: %ld distinct libc PCs in %.3f s (%.2f us each), %u named, %u with "
	       "lines\n",
	       m, dt / 1e6, dt / m, named, lined);
	symbolizer_free(s);
	stacks_free(stacks);
	strtab_free(modules);
}

int main(int argc, char **argv)
{
	const char *prog = argc > 1 ? argv[1] : "build/tests/progs/deep_stack";
	long n = argc > 2 ? atol(argv[2]) : 20000;
	const char *which = argc > 3 ? argv[3] : "both";
	long m = argc > 4 ? atol(argv[4]) : 100000;
	char err[256];
	struct rules *rules = rules_load(NULL, err, sizeof(err));

	if (!rules) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (int k = 0; k < 2; k++) {
		enum unwinder_kind kind = k ? UNWINDER_LIBDW : UNWINDER_LIBUNWIND;
		struct run r = {.stacks = stacks_new(), .modules = strtab_new()};

		if (strcmp(which, "both") && strcmp(which, k ? "libdw" : "libunwind"))
			continue;
		run_backend(prog, n, kind, &r);
		printf("%s: %lu backtraces, %.1f frames avg, %.2f us per backtrace, %zu stacks\n",
		       k ? "libdw" : "libunwind", r.captures,
		       r.captures ? (double)r.frames / r.captures : 0.0,
		       r.captures ? r.capture_us / r.captures : 0.0, stacks_count(r.stacks));
		printf("  per backtrace: %.2f process_vm_readv, %.3f PEEKDATA, %.3f find_proc_info; "
		       "%lu maps reads in all\n",
		       (double)r.st.mem_reads / r.captures, (double)r.st.peeks / r.captures,
		       (double)r.st.proc_infos / r.captures, (unsigned long)r.st.maps_reads);
		if (r.last_id)
			print_stack(&r, rules);
		stacks_free(r.stacks);
		strtab_free(r.modules);
	}
	if (m > 0)
		bench_symbolize(m);
	rules_free(rules);
	return 0;
}
