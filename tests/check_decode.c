/* tests/check_decode.c - unit tests for decoder/syscall.c: decoding on x86_64, i386 and
 * aarch64 (including the arguments read through the memory callback: i386 old mmap, ipc
 * SHMAT/SHMDT, clone3, and failing reads), exit decoding, restart codes, the traced-syscall
 * lists, x32 masking and unknown architectures. The expected syscall numbers are typed
 * in here on purpose: they check the numbers the decoder takes from the kernel headers. */
#include <check.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/syscall.h"
#include "tests/check_run.h"

/* A fake tracee memory: size bytes at base; reads outside fail with -EFAULT. */
struct fake_mem {
	uint64_t base;
	uint8_t bytes[64];
	int reads;
};

static int fake_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct fake_mem *m = ctx;

	m->reads++;
	if (addr < m->base || addr - m->base > sizeof(m->bytes) ||
	    len > sizeof(m->bytes) - (addr - m->base))
		return -EFAULT;
	memcpy(buf, m->bytes + (addr - m->base), len);
	return 0;
}

static void put_u32(struct fake_mem *m, size_t off, uint32_t v)
{
	memcpy(m->bytes + off, &v, sizeof(v));
}

static void put_u64(struct fake_mem *m, size_t off, uint64_t v)
{
	memcpy(m->bytes + off, &v, sizeof(v));
}

static struct mem_call decode(uint32_t arch, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
			      uint64_t a3, uint64_t a4, uint64_t a5, struct fake_mem *m)
{
	const uint64_t args[6] = {a0, a1, a2, a3, a4, a5};
	struct mem_call c;

	ck_assert_int_eq(decode_entry(arch, nr, args, m ? fake_read : NULL, m, &c), 0);
	return c;
}

START_TEST(test_arch_mapping)
{
	ck_assert_int_eq(vm_arch_from_audit(AUDIT_ARCH_X86_64), VM_ARCH_X86_64);
	ck_assert_int_eq(vm_arch_from_audit(AUDIT_ARCH_I386), VM_ARCH_I386);
	ck_assert_int_eq(vm_arch_from_audit(AUDIT_ARCH_AARCH64), VM_ARCH_AARCH64);
	ck_assert_int_eq(vm_arch_from_audit(AUDIT_ARCH_ARM), VM_ARCH_UNKNOWN);
	ck_assert_uint_eq(vm_arch_to_audit(VM_ARCH_X86_64), AUDIT_ARCH_X86_64);
	ck_assert_uint_eq(vm_arch_to_audit(VM_ARCH_I386), AUDIT_ARCH_I386);
	ck_assert_uint_eq(vm_arch_to_audit(VM_ARCH_AARCH64), AUDIT_ARCH_AARCH64);
	ck_assert_uint_eq(vm_arch_to_audit(VM_ARCH_UNKNOWN), 0);
	ck_assert_str_eq(mem_op_name(MEM_MMAP), "mmap");
	ck_assert_str_eq(mem_op_name(MEM_SHMDT), "shmdt");
	ck_assert_str_eq(mem_op_name(MEM_NONE), "none");
	ck_assert_str_eq(mem_op_name(MEM_OP_COUNT), "none");
}
END_TEST

START_TEST(test_unknown_arch)
{
	const uint64_t args[6] = {0};
	struct mem_call c;

	ck_assert_int_lt(decode_entry(AUDIT_ARCH_ARM, 9, args, NULL, NULL, &c), 0);
	ck_assert_int_eq(c.op, MEM_NONE);
	ck_assert_int_lt(decode_entry(0, 9, args, NULL, NULL, &c), 0);
}
END_TEST

START_TEST(test_x86_64_mmap_family)
{
	struct mem_call c;

	c = decode(AUDIT_ARCH_X86_64, 9, 0x1000, 8192, 3, 0x22, 0xffffffff, 0x3000, NULL);
	ck_assert_int_eq(c.op, MEM_MMAP);
	ck_assert_int_eq(c.arch, VM_ARCH_X86_64);
	ck_assert_str_eq(c.name, "mmap");
	ck_assert_uint_eq(c.addr, 0x1000);
	ck_assert_uint_eq(c.len, 8192);
	ck_assert_uint_eq(c.prot, 3);
	ck_assert_uint_eq(c.flags, 0x22);
	ck_assert_int_eq(c.fd, -1);
	ck_assert_uint_eq(c.offset, 0x3000);
	ck_assert_uint_eq(c.args[5], 0x3000);

	c = decode(AUDIT_ARCH_X86_64, 11, 0x7f0000000000, 4096, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_MUNMAP);
	ck_assert_uint_eq(c.addr, 0x7f0000000000);
	ck_assert_uint_eq(c.len, 4096);

	c = decode(AUDIT_ARCH_X86_64, 25, 0x10000, 4096, 8192, 3, 0x20000, 0, NULL);
	ck_assert_int_eq(c.op, MEM_MREMAP);
	ck_assert_uint_eq(c.addr, 0x10000);
	ck_assert_uint_eq(c.len, 4096);
	ck_assert_uint_eq(c.new_len, 8192);
	ck_assert_uint_eq(c.flags, 3);
	ck_assert_uint_eq(c.new_addr, 0x20000);

	c = decode(AUDIT_ARCH_X86_64, 12, 0x555555559000, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_BRK);
	ck_assert_uint_eq(c.addr, 0x555555559000);

	c = decode(AUDIT_ARCH_X86_64, 30, 7, 0x40000, 010000, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_SHMAT);
	ck_assert_int_eq(c.shmid, 7);
	ck_assert_uint_eq(c.addr, 0x40000);
	ck_assert_uint_eq(c.flags, 010000);
	ck_assert(!c.via_ipc);

	c = decode(AUDIT_ARCH_X86_64, 67, 0x40000, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_SHMDT);
	ck_assert_uint_eq(c.addr, 0x40000);

	c = decode(AUDIT_ARCH_X86_64, 0, 3, 0x1000, 10, 0, 0, 0, NULL); /* read() */
	ck_assert_int_eq(c.op, MEM_NONE);
	c = decode(AUDIT_ARCH_X86_64, 10, 0x1000, 4096, 1, 0, 0, 0, NULL); /* mprotect */
	ck_assert_int_eq(c.op, MEM_NONE);
	c = decode(AUDIT_ARCH_X86_64, UINT64_MAX, 0, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_NONE);
}
END_TEST

START_TEST(test_x32_masked)
{
	struct mem_call c;

	c = decode(AUDIT_ARCH_X86_64, 0x40000000 | 9, 0, 4096, 3, 0x22, 0xffffffff, 0, NULL);
	ck_assert_int_eq(c.op, MEM_MMAP);
	ck_assert_uint_eq(c.nr, 9);
	c = decode(AUDIT_ARCH_X86_64, 0x40000000 | 11, 0x1000, 4096, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_MUNMAP);
	ck_assert_uint_eq(c.nr, 11);
	/* the bit is x86_64's only: on i386 it is not a known syscall */
	c = decode(AUDIT_ARCH_I386, 0x40000000 | 91, 0x1000, 4096, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_NONE);
}
END_TEST

START_TEST(test_x86_64_processes)
{
	struct mem_call c;
	struct fake_mem m = {.base = 0x10000};

	c = decode(AUDIT_ARCH_X86_64, 56, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, 0x7000, 0, 0, 0,
		   0, NULL);
	ck_assert_int_eq(c.op, MEM_CLONE);
	ck_assert_uint_eq(c.clone_flags, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND);
	c = decode(AUDIT_ARCH_X86_64, 57, 0, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_CLONE);
	ck_assert_uint_eq(c.clone_flags, SIGCHLD);
	c = decode(AUDIT_ARCH_X86_64, 58, 0, 0, 0, 0, 0, 0, NULL);
	ck_assert_uint_eq(c.clone_flags, CLONE_VM | CLONE_VFORK | SIGCHLD);
	c = decode(AUDIT_ARCH_X86_64, 59, 0, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_EXEC);
	ck_assert_str_eq(c.name, "execve");
	c = decode(AUDIT_ARCH_X86_64, 322, 0, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_EXEC);
	ck_assert_str_eq(c.name, "execveat");

	/* clone3: flags at offset 0 and exit_signal at offset 32 of struct clone_args */
	put_u64(&m, 0, CLONE_VM | CLONE_VFORK);
	put_u64(&m, 32, SIGCHLD);
	c = decode(AUDIT_ARCH_X86_64, 435, 0x10000, 88, 0, 0, 0, 0, &m);
	ck_assert_int_eq(c.op, MEM_CLONE);
	ck_assert(!c.mem_fault);
	ck_assert_uint_eq(c.clone_flags, CLONE_VM | CLONE_VFORK | SIGCHLD);
	ck_assert_int_eq(m.reads, 1);

	/* a failing read still decodes the op, flagged */
	c = decode(AUDIT_ARCH_X86_64, 435, 0xdead0000, 88, 0, 0, 0, 0, &m);
	ck_assert_int_eq(c.op, MEM_CLONE);
	ck_assert(c.mem_fault);
	c = decode(AUDIT_ARCH_X86_64, 435, 0x10000, 88, 0, 0, 0, 0, NULL);
	ck_assert(c.mem_fault);
}
END_TEST

START_TEST(test_i386_mmap)
{
	struct mem_call c;
	struct fake_mem m = {.base = 0x8000};

	/* mmap2: 4096-byte offset units, zero-extended fd sign-extended */
	c = decode(AUDIT_ARCH_I386, 192, 0, 8192, 1, 2, 0xffffffff, 0x100001, NULL);
	ck_assert_int_eq(c.op, MEM_MMAP);
	ck_assert_str_eq(c.name, "mmap2");
	ck_assert_int_eq(c.fd, -1);
	ck_assert_uint_eq(c.offset, 0x100001ULL * 4096);
	/* stray upper bits of a 32-bit tracee's arguments are ignored */
	c = decode(AUDIT_ARCH_I386, 192, 0xabc00000f7000000ULL, 8192, 1, 2, 3, 0, NULL);
	ck_assert_uint_eq(c.addr, 0xf7000000);
	ck_assert_int_eq(c.fd, 3);

	/* old mmap: six u32 at args[0] */
	put_u32(&m, 0, 0xf7700000);
	put_u32(&m, 4, 12288);
	put_u32(&m, 8, 3);
	put_u32(&m, 12, 0x22);
	put_u32(&m, 16, 0xffffffff);
	put_u32(&m, 20, 0x2000);
	c = decode(AUDIT_ARCH_I386, 90, 0x8000, 0, 0, 0, 0, 0, &m);
	ck_assert_int_eq(c.op, MEM_MMAP);
	ck_assert_str_eq(c.name, "mmap");
	ck_assert(!c.mem_fault);
	ck_assert_uint_eq(c.addr, 0xf7700000);
	ck_assert_uint_eq(c.len, 12288);
	ck_assert_uint_eq(c.prot, 3);
	ck_assert_uint_eq(c.flags, 0x22);
	ck_assert_int_eq(c.fd, -1);
	ck_assert_uint_eq(c.offset, 0x2000);

	c = decode(AUDIT_ARCH_I386, 90, 0x9000, 0, 0, 0, 0, 0, &m); /* unreadable block */
	ck_assert_int_eq(c.op, MEM_MMAP);
	ck_assert(c.mem_fault);
	ck_assert_uint_eq(c.len, 0);

	c = decode(AUDIT_ARCH_I386, 91, 0xf7700000, 4096, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_MUNMAP);
	c = decode(AUDIT_ARCH_I386, 163, 0xf7700000, 4096, 8192, 1, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_MREMAP);
	ck_assert_uint_eq(c.new_len, 8192);
	c = decode(AUDIT_ARCH_I386, 45, 0x0804c000, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_BRK);
	c = decode(AUDIT_ARCH_I386, 9, 0, 4096, 3, 0x22, 0, 0, NULL); /* i386 9 is link() */
	ck_assert_int_eq(c.op, MEM_NONE);
}
END_TEST

START_TEST(test_i386_shm)
{
	struct mem_call c;
	struct mem_result r;
	struct fake_mem m = {.base = 0x8000};

	/* ipc(SHMAT, shmid, shmflg, &result, shmaddr) */
	c = decode(AUDIT_ARCH_I386, 117, 21, 5, 010000, 0x8010, 0xf0000000, 0, &m);
	ck_assert_int_eq(c.op, MEM_SHMAT);
	ck_assert_str_eq(c.name, "shmat");
	ck_assert(c.via_ipc);
	ck_assert_int_eq(c.shmid, 5);
	ck_assert_uint_eq(c.flags, 010000);
	ck_assert_uint_eq(c.addr, 0xf0000000);
	ck_assert_uint_eq(c.ipc_result_ptr, 0x8010);
	put_u32(&m, 0x10, 0xf7000000);
	ck_assert_int_eq(decode_exit(&c, 0, false, fake_read, &m, &r), 0);
	ck_assert(!r.is_error);
	ck_assert_uint_eq(r.value, 0xf7000000);
	/* the version in the high 16 bits of the call is ignored */
	c = decode(AUDIT_ARCH_I386, 117, 0x10000 | 21, 5, 0, 0x8010, 0, 0, &m);
	ck_assert_int_eq(c.op, MEM_SHMAT);
	/* a failing result read is reported */
	c = decode(AUDIT_ARCH_I386, 117, 21, 5, 0, 0x9000, 0, 0, &m);
	ck_assert_int_lt(decode_exit(&c, 0, false, fake_read, &m, &r), 0);
	ck_assert_int_lt(decode_exit(&c, 0, false, NULL, NULL, &r), 0);
	/* a failed ipc(SHMAT) reads nothing */
	m.reads = 0;
	ck_assert_int_eq(decode_exit(&c, -EINVAL, true, fake_read, &m, &r), 0);
	ck_assert(r.is_error);
	ck_assert_int_eq(r.err, EINVAL);
	ck_assert_int_eq(m.reads, 0);

	/* ipc(SHMDT, ..., shmaddr in ptr) */
	c = decode(AUDIT_ARCH_I386, 117, 22, 0, 0, 0, 0xf7000000, 0, NULL);
	ck_assert_int_eq(c.op, MEM_SHMDT);
	ck_assert(c.via_ipc);
	ck_assert_uint_eq(c.addr, 0xf7000000);
	c = decode(AUDIT_ARCH_I386, 117, 1, 0, 0, 0, 0, 0, NULL); /* SEMOP */
	ck_assert_int_eq(c.op, MEM_NONE);

	/* the direct syscalls */
	c = decode(AUDIT_ARCH_I386, 397, 0xffffffff, 0xf0000000, 020000, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_SHMAT);
	ck_assert(!c.via_ipc);
	ck_assert_int_eq(c.shmid, -1);
	ck_assert_uint_eq(c.addr, 0xf0000000);
	ck_assert_uint_eq(c.flags, 020000);
	ck_assert_int_eq(decode_exit(&c, 0xf0000000, false, NULL, NULL, &r), 0);
	ck_assert_uint_eq(r.value, 0xf0000000);
	c = decode(AUDIT_ARCH_I386, 398, 0xf0000000, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_SHMDT);
	ck_assert_uint_eq(c.addr, 0xf0000000);
}
END_TEST

START_TEST(test_i386_processes)
{
	struct mem_call c;
	struct fake_mem m = {.base = 0x8000};

	c = decode(AUDIT_ARCH_I386, 120, CLONE_VM | CLONE_THREAD, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_CLONE);
	ck_assert_uint_eq(c.clone_flags, CLONE_VM | CLONE_THREAD);
	c = decode(AUDIT_ARCH_I386, 2, 0, 0, 0, 0, 0, 0, NULL);
	ck_assert_uint_eq(c.clone_flags, SIGCHLD);
	c = decode(AUDIT_ARCH_I386, 190, 0, 0, 0, 0, 0, 0, NULL);
	ck_assert_uint_eq(c.clone_flags, CLONE_VM | CLONE_VFORK | SIGCHLD);
	c = decode(AUDIT_ARCH_I386, 11, 0, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_EXEC);
	c = decode(AUDIT_ARCH_I386, 358, 0, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_EXEC);
	put_u64(&m, 0, CLONE_VM);
	put_u64(&m, 32, 0);
	c = decode(AUDIT_ARCH_I386, 435, 0x8000, 88, 0, 0, 0, 0, &m);
	ck_assert_int_eq(c.op, MEM_CLONE);
	ck_assert_uint_eq(c.clone_flags, CLONE_VM);
}
END_TEST

START_TEST(test_aarch64)
{
	struct mem_call c;
	struct fake_mem m = {.base = 0x8000};

	c = decode(AUDIT_ARCH_AARCH64, 222, 0, 4096, 3, 0x22, 0xffffffff, 0x1000, NULL);
	ck_assert_int_eq(c.op, MEM_MMAP);
	ck_assert_int_eq(c.fd, -1);
	ck_assert_uint_eq(c.offset, 0x1000);
	ck_assert_int_eq(decode(AUDIT_ARCH_AARCH64, 215, 0, 0, 0, 0, 0, 0, NULL).op, MEM_MUNMAP);
	ck_assert_int_eq(decode(AUDIT_ARCH_AARCH64, 216, 0, 0, 0, 0, 0, 0, NULL).op, MEM_MREMAP);
	ck_assert_int_eq(decode(AUDIT_ARCH_AARCH64, 214, 0, 0, 0, 0, 0, 0, NULL).op, MEM_BRK);
	ck_assert_int_eq(decode(AUDIT_ARCH_AARCH64, 196, 0, 0, 0, 0, 0, 0, NULL).op, MEM_SHMAT);
	ck_assert_int_eq(decode(AUDIT_ARCH_AARCH64, 197, 0, 0, 0, 0, 0, 0, NULL).op, MEM_SHMDT);
	ck_assert_int_eq(decode(AUDIT_ARCH_AARCH64, 221, 0, 0, 0, 0, 0, 0, NULL).op, MEM_EXEC);
	ck_assert_int_eq(decode(AUDIT_ARCH_AARCH64, 281, 0, 0, 0, 0, 0, 0, NULL).op, MEM_EXEC);
	c = decode(AUDIT_ARCH_AARCH64, 220, CLONE_VM | SIGCHLD, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(c.op, MEM_CLONE);
	ck_assert_uint_eq(c.clone_flags, CLONE_VM | SIGCHLD);
	put_u64(&m, 0, CLONE_FILES);
	put_u64(&m, 32, SIGCHLD);
	c = decode(AUDIT_ARCH_AARCH64, 435, 0x8000, 88, 0, 0, 0, 0, &m);
	ck_assert_uint_eq(c.clone_flags, CLONE_FILES | SIGCHLD);
	/* x86_64's numbers mean other things here: 9 is lsetxattr, 57 is close */
	ck_assert_int_eq(decode(AUDIT_ARCH_AARCH64, 9, 0, 0, 0, 0, 0, 0, NULL).op, MEM_NONE);
	ck_assert_int_eq(decode(AUDIT_ARCH_AARCH64, 57, 0, 0, 0, 0, 0, 0, NULL).op, MEM_NONE);
}
END_TEST

START_TEST(test_exit)
{
	struct mem_call c;
	struct mem_result r;

	c = decode(AUDIT_ARCH_X86_64, 9, 0, 4096, 3, 0x22, 0xffffffff, 0, NULL);
	ck_assert_int_eq(decode_exit(&c, 0x7f0000001000, false, NULL, NULL, &r), 0);
	ck_assert(!r.is_error);
	ck_assert_uint_eq(r.value, 0x7f0000001000);
	ck_assert_int_eq(decode_exit(&c, -ENOMEM, true, NULL, NULL, &r), 0);
	ck_assert(r.is_error);
	ck_assert_int_eq(r.err, ENOMEM);
	/* brk: the value is the new break (or the old one when it failed) */
	c = decode(AUDIT_ARCH_X86_64, 12, 0x1000, 0, 0, 0, 0, 0, NULL);
	ck_assert_int_eq(decode_exit(&c, 0x555555559000, false, NULL, NULL, &r), 0);
	ck_assert(!r.is_error);
	ck_assert_uint_eq(r.value, 0x555555559000);
	/* i386 results are 32-bit */
	c = decode(AUDIT_ARCH_I386, 192, 0, 4096, 3, 0x22, 0xffffffff, 0, NULL);
	ck_assert_int_eq(decode_exit(&c, 0xfffffffff7f00000LL, false, NULL, NULL, &r), 0);
	ck_assert_uint_eq(r.value, 0xf7f00000);
}
END_TEST

START_TEST(test_restart)
{
	ck_assert(decode_is_restart(-512, true)); /* ERESTARTSYS */
	ck_assert(decode_is_restart(-513, true)); /* ERESTARTNOINTR */
	ck_assert(decode_is_restart(-514, true)); /* ERESTARTNOHAND */
	ck_assert(decode_is_restart(-516, true)); /* ERESTART_RESTARTBLOCK */
	ck_assert(!decode_is_restart(-511, true));
	ck_assert(!decode_is_restart(-517, true));
	ck_assert(!decode_is_restart(-EINTR, true));
	ck_assert(!decode_is_restart(-512, false));
	ck_assert(!decode_is_restart(0, false));
}
END_TEST

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void check_traced(enum vm_arch arch, uint32_t *expected, size_t n)
{
	uint32_t got[64];
	size_t count = decode_traced_syscalls(arch, got, 64);

	ck_assert_uint_eq(count, n);
	qsort(got, count, sizeof(got[0]), cmp_u32);
	qsort(expected, n, sizeof(expected[0]), cmp_u32);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(got[i], expected[i]);
}

START_TEST(test_traced_syscalls)
{
	/* mmap munmap mremap brk shmat shmdt clone clone3 fork vfork execve execveat
	 * exit_group */
	uint32_t x86_64[] = {9, 11, 25, 12, 30, 67, 56, 435, 57, 58, 59, 322, 231};
	/* mmap2 old_mmap munmap mremap brk shmat shmdt ipc clone clone3 fork vfork execve
	 * execveat exit_group */
	uint32_t i386[] = {192, 90, 91, 163, 45, 397, 398, 117, 120, 435, 2, 190, 11, 358, 252};
	/* mmap munmap mremap brk shmat shmdt clone clone3 execve execveat exit_group */
	uint32_t aarch64[] = {222, 215, 216, 214, 196, 197, 220, 435, 221, 281, 94};
	uint32_t few[3] = {0};

	check_traced(VM_ARCH_X86_64, x86_64, sizeof(x86_64) / sizeof(x86_64[0]));
	check_traced(VM_ARCH_I386, i386, sizeof(i386) / sizeof(i386[0]));
	check_traced(VM_ARCH_AARCH64, aarch64, sizeof(aarch64) / sizeof(aarch64[0]));
	ck_assert_uint_eq(decode_traced_syscalls(VM_ARCH_UNKNOWN, few, 3), 0);
	/* never more than max written */
	ck_assert_uint_eq(decode_traced_syscalls(VM_ARCH_X86_64, few, 2), 2);
	ck_assert_uint_eq(few[2], 0);
	ck_assert_uint_ne(few[0], 0);
}
END_TEST

START_TEST(test_exit_group)
{
	ck_assert(decode_is_exit_group(AUDIT_ARCH_X86_64, 231));
	ck_assert(!decode_is_exit_group(AUDIT_ARCH_X86_64, 60)); /* exit: one thread */
	ck_assert(decode_is_exit_group(AUDIT_ARCH_I386, 252));
	ck_assert(!decode_is_exit_group(AUDIT_ARCH_I386, 231));
	ck_assert(decode_is_exit_group(AUDIT_ARCH_AARCH64, 94));
	ck_assert(!decode_is_exit_group(0x1234, 231));
}
END_TEST

static Suite *decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, test_arch_mapping);
	tcase_add_test(tc, test_unknown_arch);
	tcase_add_test(tc, test_x86_64_mmap_family);
	tcase_add_test(tc, test_x32_masked);
	tcase_add_test(tc, test_x86_64_processes);
	tcase_add_test(tc, test_i386_mmap);
	tcase_add_test(tc, test_i386_shm);
	tcase_add_test(tc, test_i386_processes);
	tcase_add_test(tc, test_aarch64);
	tcase_add_test(tc, test_exit);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_traced_syscalls);
	tcase_add_test(tc, test_exit_group);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(decode_suite());
}
