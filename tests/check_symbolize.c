/* tests/check_symbolize.c - report-time symbolization (report/symbolize.h): a
 * stack captured from tests/progs/deep_stack resolves from the files after the
 * process has exited, caller frames resolve to their call lines, a stripped copy
 * gives module+offset frames without names, a missing file does not crash. */
#include <check.h>
#include <dlfcn.h>
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
#define SOURCE	       VMLEAK_SOURCE_DIR "/tests/progs/deep_stack.c"

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

/* First source line holding both needles. */
static int source_line(const char *a, const char *b)
{
	FILE *f = fopen(SOURCE, "r");
	char buf[512];
	int line = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		if (strstr(buf, a) && strstr(buf, b)) {
			fclose(f);
			return line;
		}
	}
	fclose(f);
	ck_abort_msg("'%s' not found in %s", a, SOURCE);
	return 0;
}

/* Run deep_stack to its marked mmap's syscall exit; capture and describe the
 * stack; kill the process. Returns the stack id. */
static uint32_t capture_and_exit(struct stack_table *stacks, struct strtab *modules)
{
	pid_t pid;
	int status;
	bool entering = true, marked = false;
	uint64_t pcs[64];
	struct unwinder *u;
	unsigned n;
	uint32_t id;

	find_prog();
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execl(prog_path, prog_path, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ptrace(PTRACE_SETOPTIONS, pid, NULL,
	       (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL));
	for (;;) {
		struct user_regs_struct regs;

		ck_assert_int_eq(ptrace(PTRACE_SYSCALL, pid, NULL, NULL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSTOPPED(status));
		if (WSTOPSIG(status) != (SIGTRAP | 0x80))
			continue;
		ptrace(PTRACE_GETREGS, pid, NULL, &regs);
		if (!entering && marked)
			break;
		if (entering)
			marked = regs.orig_rax == SYS_mmap && regs.rsi == DEEP_STACK_LEN;
		entering = !entering;
	}
	u = unwinder_new(UNWINDER_LIBUNWIND, pid, modules);
	ck_assert_ptr_nonnull(u);
	n = unwinder_capture(u, pid, pcs, 64);
	ck_assert_uint_ge(n, 5);
	id = stacks_intern(stacks, pcs, n, NULL);
	unwinder_describe(u, stacks, id);
	unwinder_free(u);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return id;
}

static const struct frame_info *find_function(const struct report_site_info *info, const char *fn)
{
	for (size_t i = 0; i < info->nframes; i++)
		if (info->frames[i].function && !strcmp(info->frames[i].function, fn))
			return &info->frames[i];
	ck_abort_msg("%s not in the stack", fn);
	return NULL;
}

START_TEST(test_after_exit)
{
	struct strtab *modules = strtab_new();
	struct stack_table *stacks = stacks_new();
	uint32_t id = capture_and_exit(stacks, modules);
	struct symbolizer *s = symbolizer_new(stacks, modules, NULL);
	struct report_site_info info, again;
	const struct frame_info *f;

	ck_assert_int_eq(symbolizer_resolve(s, id, NULL, &info), 0);
	ck_assert_int_eq(info.category, CAT_PROGRAM); /* no rules: everything is the program */
	f = find_function(&info, "f3");
	ck_assert_int_eq(f->line, source_line("mmap(", "DEEP_STACK_MMAP"));
	ck_assert_ptr_nonnull(strstr(f->file, "deep_stack.c"));
	ck_assert_uint_gt(f->offset, 0);
	/* return addresses resolve to the line of the call */
	ck_assert_int_eq(find_function(&info, "f2")->line, source_line("return f3(", ""));
	ck_assert_int_eq(find_function(&info, "f1")->line, source_line("return f2(", ""));
	ck_assert_int_eq(find_function(&info, "main")->line, source_line("= f1(", ""));
	/* the innermost frame is in libc: a module path, whatever the debug info */
	ck_assert_ptr_nonnull(info.frames[0].module);
	ck_assert_ptr_nonnull(strstr(info.frames[0].module, "libc"));
	/* resolving again returns the same memoized frames */
	ck_assert_int_eq(symbolizer_resolve(s, id, NULL, &again), 0);
	ck_assert_ptr_eq(again.frames, info.frames);
	/* unknown and empty stacks */
	ck_assert_int_eq(symbolizer_resolve(s, 0, NULL, &again), 0);
	ck_assert_uint_eq(again.nframes, 0);
	ck_assert_int_eq(again.category, CAT_UNKNOWN);
	ck_assert_int_eq(symbolizer_resolve(s, id + 100, NULL, &again), 0);
	ck_assert_uint_eq(again.nframes, 0);
	symbolizer_free(s);
	stacks_free(stacks);
	strtab_free(modules);
}
END_TEST

/* A stripped copy: no names for static functions, no lines, no crash; a missing
 * file: only the module. */
START_TEST(test_stripped_and_missing)
{
	struct strtab *modules = strtab_new();
	struct stack_table *stacks = stacks_new();
	uint32_t id = capture_and_exit(stacks, modules);
	char stripped[] = "/tmp/check_symbolize.XXXXXX", cmd[PATH_MAX * 2 + 32];
	struct symbolizer *s;
	const struct stack_frame *sf;
	struct frame_info full, bare, gone;
	unsigned n = stacks_get(stacks, id, &sf);
	uint32_t mod_full = 0, mod_stripped, mod_gone;
	uint64_t off = 0;
	int fd = mkstemp(stripped);

	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "strip -o %s %s", stripped, prog_path);
	ck_assert_int_eq(system(cmd), 0);
	for (unsigned i = 1; i < n && !mod_full; i++)
		if (sf[i].module && strstr(strtab_get(modules, sf[i].module), "deep_stack")) {
			mod_full = sf[i].module;
			off = sf[i].offset;
		}
	ck_assert_uint_ne(mod_full, 0);
	mod_stripped = strtab_intern(modules, stripped);
	mod_gone = strtab_intern(modules, "/nonexistent/libgone.so");
	s = symbolizer_new(stacks, modules, NULL);
	symbolizer_lookup(s, mod_full, off, true, &full);
	symbolizer_lookup(s, mod_stripped, off, true, &bare);
	symbolizer_lookup(s, mod_gone, off, true, &gone);
	ck_assert_str_eq(full.function, "f3");
	ck_assert_int_gt(full.line, 0);
	ck_assert_str_eq(bare.module, stripped);
	ck_assert_ptr_null(bare.function); /* f3 is static: not in .dynsym */
	ck_assert_int_eq(bare.line, 0);
	ck_assert_str_eq(gone.module, "/nonexistent/libgone.so");
	ck_assert_ptr_null(gone.function);
	ck_assert_ptr_null(gone.file);
	symbolizer_free(s);
	unlink(stripped);
	stacks_free(stacks);
	strtab_free(modules);
}
END_TEST

/* C++ names come out demangled: operator new in the C++ runtime's own file. */
START_TEST(test_demangle)
{
	void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
	struct strtab *modules = strtab_new();
	struct stack_table *stacks = stacks_new();
	struct symbolizer *s;
	struct frame_info f;
	Dl_info dli;
	void *sym;

	ck_assert_ptr_nonnull(h);
	sym = dlsym(h, "_Znwm");
	ck_assert_ptr_nonnull(sym);
	ck_assert_int_ne(dladdr(sym, &dli), 0);
	s = symbolizer_new(stacks, modules, NULL);
	symbolizer_lookup(s, strtab_intern(modules, dli.dli_fname),
			  (uint64_t)((char *)sym - (char *)dli.dli_fbase), false, &f);
	ck_assert_ptr_nonnull(f.function);
	ck_assert_str_eq(f.function, "operator new(unsigned long)");
	ck_assert_uint_eq(f.offset, 0);
	symbolizer_free(s);
	stacks_free(stacks);
	strtab_free(modules);
	dlclose(h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("symbolize");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_after_exit);
	tcase_add_test(tc, test_stripped_and_missing);
	tcase_add_test(tc, test_demangle);
	suite_add_tcase(s, tc);
	return check_run(s);
}
