/* tracer/seccomp.c - the launch-mode fast path: a seccomp filter that stops the
 * program (SECCOMP_RET_TRACE) only for the memory syscalls and the clone/fork/
 * exec family of each architecture it may run; everything else runs untraced. */
#include <errno.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "decoder/syscall.h"
#include "tracer/tracer.h"

#define MAX_TRACED 64
#define MAX_INSNS  (8 + 2 * (MAX_TRACED + 2))

struct filter {
	struct sock_filter insn[MAX_INSNS];
	unsigned n;
};

static void emit(struct filter *f, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	f->insn[f->n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

/* Appends "if nr in list: RET_TRACE" for one arch; falls through to ALLOW. */
static void emit_arch_block(struct filter *f, const uint32_t *nrs, size_t n)
{
	emit(f, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < n; i++)
		emit(f, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(n - i), 0, nrs[i]);
	emit(f, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	emit(f, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_TRACE);
}

/* Layout: load arch; if x86_64 goto X; if i386 goto I; ALLOW; X: ...; I: ... */
static int build_filter(struct filter *f)
{
	uint32_t x64[MAX_TRACED], x32[MAX_TRACED];
	size_t n64 = decode_traced_syscalls(VM_ARCH_X86_64, x64, MAX_TRACED);
	size_t n32 = decode_traced_syscalls(VM_ARCH_I386, x32, MAX_TRACED);

	if (n64 > MAX_TRACED || n32 > MAX_TRACED || !n64)
		return -E2BIG;
	f->n = 0;
	emit(f, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
	/* jt = skip to the x86_64 block (3 insns ahead: jeq i386, ret allow) */
	emit(f, BPF_JMP | BPF_JEQ | BPF_K, 2, 0, AUDIT_ARCH_X86_64);
	emit(f, BPF_JMP | BPF_JEQ | BPF_K, (uint8_t)(1 + n64 + 3), 0, AUDIT_ARCH_I386);
	emit(f, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW);
	emit_arch_block(f, x64, n64); /* n64 + 3 insns */
	emit_arch_block(f, x32, n32);
	return 0;
}

int seccomp_install_filter(void)
{
	struct filter f;
	int err = build_filter(&f);

	if (err)
		return err;
	struct sock_fprog prog = {.len = (unsigned short)f.n, .filter = f.insn};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0)
		return 0;
	if (errno != EACCES)
		return -errno;
	/* Without CAP_SYS_ADMIN the kernel wants no_new_privs (inherited, irreversible). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
		return -errno;
	return 0;
}
