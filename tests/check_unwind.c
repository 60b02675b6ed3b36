/* tests/check_unwind.c - remote unwinding of a real tracee: tests/progs/deep_stack
 * is stopped at its mmap's syscall exit, both backends capture its stack, and the
 * symbolizer must name f3, f2, f1, main in order with f3 at the mmap's line. */
#include <check.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/rules.h"
#include "report/stacks.h"
#include "report/symbolize.h"
#include "tracer/unwind.h"
#include "tests/check_run.h"

#define DEEP_STACK_LEN (13 * 4096)
#define MAX_FRAMES     64

static char prog_path[PATH_MAX];

static void find_prog(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	ck_assert_int_gt(n, 0);
	self[n] = '\0';
	snprintf(prog_path, sizeof(prog_path), "%s/progs/deep_stack", dirname(self));
	ck_assert_msg(access(prog_path, X_OK) == 0, "%s not built", prog_path);
}

/* The line of the marked mmap call in the program's source. */
static int mmap_line(void)
{
	FILE *f = fopen(VMLEAK_SOURCE_DIR "/tests/progs/deep_stack.c", "r");
	char buf[512];
	int line = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		if (strstr(buf, "mmap(") && strstr(buf, "DEEP_STACK_MMAP")) {
			fclose(f);
			return line;
		}
	}
	fclose(f);
	ck_abort_msg("marker not found");
	return 0;
}

/* Start deep_stack under ptrace and run it to the syscall-exit stop of its mmap
 * of DEEP_STACK_LEN bytes. */
static pid_t start_stopped_in_mmap(void)
{
	pid_t pid = fork();
	int status;
	bool entering = true, marked = false;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execl(prog_path, prog_path, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP);
	ck_assert_int_eq(ptrace(PTRACE_SETOPTIONS, pid, NULL,
				(void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL)),
			 0);
	for (;;) {
		struct user_regs_struct regs;

		ck_assert_int_eq(ptrace(PTRACE_SYSCALL, pid, NULL, NULL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSTOPPED(status), "deep_stack ended before its mmap");
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		ck_assert_int_eq(ptrace(PTRACE_GETREGS, pid, NULL, &regs), 0);
		if (entering)
			marked = regs.orig_rax == SYS_mmap && regs.rsi == DEEP_STACK_LEN;
		else if (marked)
			return pid;
		entering = !entering;
	}
}

static void finish(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* Capture with one backend, describe, let the process die, symbolize. */
static void check_backend(enum unwinder_kind kind)
{
	struct strtab *modules = strtab_new();
	struct stack_table *stacks = stacks_new();
	char err[256];
	struct rules *rules = rules_load(NULL, err, sizeof(err));
	uint64_t pcs[MAX_FRAMES];
	struct unwinder *u;
	struct symbolizer *sym;
	struct report_site_info info;
	const char *want[] = {"f3", "f2", "f1", "main"};
	size_t w = 0, f3_at = SIZE_MAX;
	unsigned n;
	uint32_t id;
	bool is_new;
	pid_t pid;

	ck_assert_msg(rules != NULL, "%s", err);
	find_prog();
	pid = start_stopped_in_mmap();
	u = unwinder_new(kind, pid, modules);
	ck_assert_ptr_nonnull(u);
	n = unwinder_capture(u, pid, pcs, MAX_FRAMES);
	ck_assert_uint_ge(n, 5);
	id = stacks_intern(stacks, pcs, n, &is_new);
	ck_assert(is_new);
	unwinder_describe(u, stacks, id);
	/* a second capture at the same stop gives the same stack */
	ck_assert_uint_eq(unwinder_capture(u, pid, pcs, MAX_FRAMES), n);
	ck_assert_uint_eq(stacks_intern(stacks, pcs, n, &is_new), id);
	ck_assert(!is_new);
	/* the depth cap holds */
	ck_assert_uint_eq(unwinder_capture(u, pid, pcs, 2), 2);
	unwinder_free(u);
	finish(pid); /* the modules are gone from memory: symbolize from the files */

	sym = symbolizer_new(stacks, modules, rules);
	ck_assert_int_eq(symbolizer_resolve(sym, id, NULL, &info), 0);
	ck_assert_uint_eq(info.nframes, n);
	for (size_t i = 0; i < info.nframes && w < 4; i++) {
		const char *fn = info.frames[i].function;

		if (fn && strcmp(fn, want[w]) == 0) {
			if (w == 0)
				f3_at = i;
			w++;
		}
	}
	ck_assert_msg(w == 4, "found only %zu of f3, f2, f1, main in order", w);
	ck_assert_int_eq(info.frames[f3_at].line, mmap_line());
	ck_assert_ptr_nonnull(strstr(info.frames[f3_at].module, "deep_stack"));
	ck_assert_ptr_nonnull(strstr(info.frames[f3_at].file, "deep_stack.c"));
	/* the innermost frame is libc's mmap wrapper; the call site is f3 */
	ck_assert_uint_eq(info.callsite, f3_at);
	ck_assert_int_eq(info.category, CAT_PROGRAM);
	symbolizer_free(sym);
	rules_free(rules);
	stacks_free(stacks);
	strtab_free(modules);
}

START_TEST(test_libunwind)
{
	check_backend(UNWINDER_LIBUNWIND);
}
END_TEST

START_TEST(test_libdw)
{
	check_backend(UNWINDER_LIBDW);
}
END_TEST

/* Both backends agree frame by frame on the same stop. */
START_TEST(test_backends_agree)
{
	struct strtab *modules = strtab_new();
	uint64_t a[MAX_FRAMES], b[MAX_FRAMES];
	struct unwinder *ua, *ub;
	unsigned na, nb;
	pid_t pid;

	find_prog();
	pid = start_stopped_in_mmap();
	ua = unwinder_new(UNWINDER_LIBUNWIND, pid, modules);
	ub = unwinder_new(UNWINDER_LIBDW, pid, modules);
	ck_assert_ptr_nonnull(ua);
	ck_assert_ptr_nonnull(ub);
	na = unwinder_capture(ua, pid, a, MAX_FRAMES);
	nb = unwinder_capture(ub, pid, b, MAX_FRAMES);
	ck_assert_uint_ge(na, 5);
	ck_assert_uint_ge(nb, 5);
	for (unsigned i = 0; i < 5; i++)
		ck_assert_msg(a[i] == b[i], "frame %u: %#lx vs %#lx", i, (unsigned long)a[i],
			      (unsigned long)b[i]);
	unwinder_free(ua);
	unwinder_free(ub);
	finish(pid);
	strtab_free(modules);
}
END_TEST

/* A module change marks the map stale; an unrelated one does not re-read it. */
START_TEST(test_mapping_changed)
{
	struct strtab *modules = strtab_new();
	uint64_t pcs[MAX_FRAMES];
	struct unwinder_stats st0, st1, st2;
	struct unwinder *u;
	pid_t pid;

	find_prog();
	pid = start_stopped_in_mmap();
	u = unwinder_new(UNWINDER_LIBUNWIND, pid, modules);
	ck_assert_ptr_nonnull(u);
	ck_assert_uint_ge(unwinder_capture(u, pid, pcs, MAX_FRAMES), 5);
	unwinder_get_stats(u, &st0);
	unwinder_mapping_changed(u, 0x1000, 0x2000, false); /* nothing there */
	ck_assert_uint_ge(unwinder_capture(u, pid, pcs, MAX_FRAMES), 5);
	unwinder_get_stats(u, &st1);
	ck_assert_uint_eq(st1.maps_reads, st0.maps_reads);
	ck_assert_uint_eq(st1.proc_infos, st0.proc_infos);	/* all from the cache */
	unwinder_mapping_changed(u, pcs[0], pcs[0] + 1, false); /* libc's text */
	ck_assert_uint_ge(unwinder_capture(u, pid, pcs, MAX_FRAMES), 5);
	unwinder_get_stats(u, &st2);
	ck_assert_uint_eq(st2.maps_reads, st1.maps_reads + 1);
	ck_assert_uint_gt(st2.proc_infos, st1.proc_infos); /* cache flushed */
	unwinder_free(u);
	finish(pid);
	strtab_free(modules);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("unwind");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_libunwind);
	tcase_add_test(tc, test_libdw);
	tcase_add_test(tc, test_backends_agree);
	tcase_add_test(tc, test_mapping_changed);
	suite_add_tcase(s, tc);
	return check_run(s);
}
