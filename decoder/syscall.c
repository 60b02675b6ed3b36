/* decoder/syscall.c - decodes one syscall (audit arch, number, arguments, return value)
 * into a memory event for x86_64, i386 (a 32-bit tracee on x86_64) and aarch64. Pure:
 * arguments that live in tracee memory (i386 old_mmap's block, i386 ipc(SHMAT)'s result,
 * clone3's struct clone_args) are fetched through the caller's mem_reader_fn. The syscall
 * numbers come from the kernel's headers through the per-arch tables in sysnr_*.c. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <signal.h>
#include <string.h>

#include "decoder/syscall.h"
#include "decoder/sysnr.h"

#define X32_SYSCALL_BIT 0x40000000ULL /* x32 syscalls on x86_64 carry this bit */
#define I386_MMAP2_UNIT 4096ULL	      /* i386 mmap2 offsets are in 4096-byte units */

/* i386 ipc() multiplexer: the call number is in the low 16 bits of args[0]. */
#define IPC_CALL_SHMAT 21
#define IPC_CALL_SHMDT 22

/* struct clone_args: the first fields up to exit_signal, all u64. */
#define CLONE_ARGS_FLAGS_OFF	   0
#define CLONE_ARGS_EXIT_SIGNAL_OFF 32

enum vm_arch vm_arch_from_audit(uint32_t audit_arch)
{
	switch (audit_arch) {
	case AUDIT_ARCH_X86_64:
		return VM_ARCH_X86_64;
	case AUDIT_ARCH_I386:
		return VM_ARCH_I386;
	case AUDIT_ARCH_AARCH64:
		return VM_ARCH_AARCH64;
	default:
		return VM_ARCH_UNKNOWN;
	}
}

uint32_t vm_arch_to_audit(enum vm_arch arch)
{
	switch (arch) {
	case VM_ARCH_X86_64:
		return AUDIT_ARCH_X86_64;
	case VM_ARCH_I386:
		return AUDIT_ARCH_I386;
	case VM_ARCH_AARCH64:
		return AUDIT_ARCH_AARCH64;
	default:
		return 0;
	}
}

const char *mem_op_name(enum mem_op op)
{
	static const char *const names[MEM_OP_COUNT] = {
		[MEM_NONE] = "none",	 [MEM_MMAP] = "mmap", [MEM_MUNMAP] = "munmap",
		[MEM_MREMAP] = "mremap", [MEM_BRK] = "brk",   [MEM_SHMAT] = "shmat",
		[MEM_SHMDT] = "shmdt",	 [MEM_EXEC] = "exec", [MEM_CLONE] = "clone",
	};

	if ((unsigned int)op >= MEM_OP_COUNT)
		return "none";
	return names[op];
}

static const struct sysnr_table *table_for(enum vm_arch arch)
{
	switch (arch) {
	case VM_ARCH_X86_64:
		return &sysnr_x86_64;
	case VM_ARCH_I386:
		return &sysnr_i386;
	case VM_ARCH_AARCH64:
		return &sysnr_aarch64;
	default:
		return NULL;
	}
}

/* i386 arguments arrive zero-extended; keep only their 32 bits. */
static uint64_t arg_word(const struct mem_call *c, int i)
{
	if (c->arch == VM_ARCH_I386)
		return (uint32_t)c->args[i];
	return c->args[i];
}

/* fds and shm ids are C ints on every arch: sign-extend the low 32 bits. */
static int64_t arg_int(const struct mem_call *c, int i)
{
	return (int32_t)(uint32_t)c->args[i];
}

static int read_mem(mem_reader_fn rd, void *ctx, uint64_t addr, void *buf, size_t len)
{
	if (!rd)
		return -EFAULT;
	return rd(ctx, addr, buf, len);
}

static void decode_mmap_args(struct mem_call *c, const uint64_t a[6], uint64_t offset_unit)
{
	c->op = MEM_MMAP;
	c->addr = a[0];
	c->len = a[1];
	c->prot = a[2];
	c->flags = a[3];
	c->fd = (int32_t)(uint32_t)a[4];
	c->offset = a[5] * offset_unit;
}

static void decode_mmap(struct mem_call *c, uint64_t offset_unit)
{
	uint64_t a[6];

	for (int i = 0; i < 6; i++)
		a[i] = arg_word(c, i);
	decode_mmap_args(c, a, offset_unit);
}

/* i386 old mmap: args[0] points to six u32 {addr, len, prot, flags, fd, offset}. */
static void decode_old_mmap(struct mem_call *c, mem_reader_fn rd, void *ctx)
{
	uint32_t block[6];
	uint64_t a[6];

	c->op = MEM_MMAP;
	if (read_mem(rd, ctx, arg_word(c, 0), block, sizeof(block)) < 0) {
		c->mem_fault = true;
		c->fd = -1;
		return;
	}
	for (int i = 0; i < 6; i++)
		a[i] = block[i];
	decode_mmap_args(c, a, 1);
}

static void decode_mremap(struct mem_call *c)
{
	c->op = MEM_MREMAP;
	c->addr = arg_word(c, 0);
	c->len = arg_word(c, 1);
	c->new_len = arg_word(c, 2);
	c->flags = arg_word(c, 3);
	c->new_addr = arg_word(c, 4);
}

static void decode_shmat(struct mem_call *c)
{
	c->op = MEM_SHMAT;
	c->shmid = arg_int(c, 0);
	c->addr = arg_word(c, 1);
	c->flags = arg_word(c, 2);
}

/* i386 ipc(call, first, second, third, ptr, fifth): SHMAT is
 * (shmid = first, shmflg = second, result pointer = third, shmaddr = ptr); SHMDT's address
 * is ptr. The other ipc calls are not memory events. */
static void decode_ipc(struct mem_call *c)
{
	switch (arg_word(c, 0) & 0xffff) {
	case IPC_CALL_SHMAT:
		c->op = MEM_SHMAT;
		c->name = "shmat";
		c->via_ipc = true;
		c->shmid = arg_int(c, 1);
		c->flags = arg_word(c, 2);
		c->ipc_result_ptr = arg_word(c, 3);
		c->addr = arg_word(c, 4);
		break;
	case IPC_CALL_SHMDT:
		c->op = MEM_SHMDT;
		c->name = "shmdt";
		c->via_ipc = true;
		c->addr = arg_word(c, 4);
		break;
	default:
		c->name = "ipc";
		break;
	}
}

/* clone3(struct clone_args *, size): flags and exit_signal are read from the struct; the
 * exit signal goes into the low byte, as clone() carries it. */
static void decode_clone3(struct mem_call *c, mem_reader_fn rd, void *ctx)
{
	uint64_t head[CLONE_ARGS_EXIT_SIGNAL_OFF / 8 + 1];

	c->op = MEM_CLONE;
	if (read_mem(rd, ctx, arg_word(c, 0), head, sizeof(head)) < 0) {
		c->mem_fault = true;
		return;
	}
	c->clone_flags =
		head[CLONE_ARGS_FLAGS_OFF / 8] | (head[CLONE_ARGS_EXIT_SIGNAL_OFF / 8] & 0xff);
}

static void set_op(struct mem_call *c, enum mem_op op, const char *name)
{
	c->op = op;
	c->name = name;
}

/* Returns true when nr is one of tab's memory syscalls (and fills c). */
static bool decode_memory_call(struct mem_call *c, const struct sysnr_table *tab, uint64_t nr,
			       mem_reader_fn rd, void *ctx)
{
	if (nr == tab->mmap) {
		set_op(c, MEM_MMAP, "mmap");
		decode_mmap(c, 1);
	} else if (nr == tab->mmap2) {
		set_op(c, MEM_MMAP, "mmap2");
		decode_mmap(c, I386_MMAP2_UNIT);
	} else if (nr == tab->old_mmap) {
		c->name = "mmap"; /* strace's name for i386's old mmap */
		decode_old_mmap(c, rd, ctx);
	} else if (nr == tab->munmap) {
		set_op(c, MEM_MUNMAP, "munmap");
		c->addr = arg_word(c, 0);
		c->len = arg_word(c, 1);
	} else if (nr == tab->mremap) {
		c->name = "mremap";
		decode_mremap(c);
	} else if (nr == tab->brk) {
		set_op(c, MEM_BRK, "brk");
		c->addr = arg_word(c, 0);
	} else if (nr == tab->shmat) {
		c->name = "shmat";
		decode_shmat(c);
	} else if (nr == tab->shmdt) {
		set_op(c, MEM_SHMDT, "shmdt");
		c->addr = arg_word(c, 0);
	} else if (nr == tab->ipc) {
		decode_ipc(c);
	} else {
		return false;
	}
	return true;
}

/* Returns true when nr is one of tab's process syscalls (and fills c). */
static bool decode_process_call(struct mem_call *c, const struct sysnr_table *tab, uint64_t nr,
				mem_reader_fn rd, void *ctx)
{
	if (nr == tab->clone) {
		/* the flags are the first argument on all three arches (the order of the
		 * tid/tls arguments differs, but they are not needed) */
		set_op(c, MEM_CLONE, "clone");
		c->clone_flags = arg_word(c, 0);
	} else if (nr == tab->clone3) {
		c->name = "clone3";
		decode_clone3(c, rd, ctx);
	} else if (nr == tab->fork) {
		set_op(c, MEM_CLONE, "fork");
		c->clone_flags = SIGCHLD;
	} else if (nr == tab->vfork) {
		set_op(c, MEM_CLONE, "vfork");
		c->clone_flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
	} else if (nr == tab->execve) {
		set_op(c, MEM_EXEC, "execve");
	} else if (nr == tab->execveat) {
		set_op(c, MEM_EXEC, "execveat");
	} else {
		return false;
	}
	return true;
}

int decode_entry(uint32_t audit_arch, uint64_t nr, const uint64_t args[6], mem_reader_fn rd,
		 void *ctx, struct mem_call *out)
{
	const struct sysnr_table *tab;

	memset(out, 0, sizeof(*out));
	out->arch = vm_arch_from_audit(audit_arch);
	out->fd = -1;
	tab = table_for(out->arch);
	if (!tab)
		return -EINVAL;
	if (out->arch == VM_ARCH_X86_64)
		nr &= ~X32_SYSCALL_BIT;
	out->nr = nr;
	memcpy(out->args, args, sizeof(out->args));
	if (nr > UINT32_MAX - 1) /* not a syscall number, and never SYSNR_NONE */
		return 0;
	if (decode_memory_call(out, tab, nr, rd, ctx))
		return 0;
	decode_process_call(out, tab, nr, rd, ctx);
	return 0;
}

/* ipc(SHMAT) returns 0 and stores the address (a u32 for i386) at the result pointer. */
static int read_ipc_shmat_result(const struct mem_call *call, mem_reader_fn rd, void *ctx,
				 struct mem_result *out)
{
	uint32_t addr;
	int ret;

	ret = read_mem(rd, ctx, call->ipc_result_ptr, &addr, sizeof(addr));
	if (ret < 0)
		return ret;
	out->value = addr;
	return 0;
}

int decode_exit(const struct mem_call *call, int64_t rval, bool is_error, mem_reader_fn rd,
		void *ctx, struct mem_result *out)
{
	memset(out, 0, sizeof(*out));
	if (is_error) {
		out->is_error = true;
		out->err = (int)-rval;
		return 0;
	}
	out->value = (uint64_t)rval;
	if (call->arch == VM_ARCH_I386)
		out->value = (uint32_t)out->value;
	if (call->op == MEM_SHMAT && call->via_ipc)
		return read_ipc_shmat_result(call, rd, ctx, out);
	return 0;
}

/* The kernel's internal restart codes (include/linux/errno.h): ERESTARTSYS = 512 up to
 * ERESTART_RESTARTBLOCK = 516. */
bool decode_is_restart(int64_t rval, bool is_error)
{
	return is_error && rval <= -512 && rval >= -516;
}

static size_t push_nr(uint32_t *nrs, size_t n, size_t max, uint32_t nr)
{
	if (nr == SYSNR_NONE || n >= max)
		return n;
	nrs[n] = nr;
	return n + 1;
}

/* Writes the traced syscall numbers of arch and returns how many were written (at most
 * max; 32 is always enough). */
size_t decode_traced_syscalls(enum vm_arch arch, uint32_t *nrs, size_t max)
{
	const struct sysnr_table *tab = table_for(arch);
	size_t n = 0;

	if (!tab)
		return 0;
	const uint32_t traced[] = {
		tab->mmap,  tab->mmap2,	 tab->old_mmap, tab->munmap,	 tab->mremap, tab->brk,
		tab->shmat, tab->shmdt,	 tab->ipc,	tab->clone,	 tab->clone3, tab->fork,
		tab->vfork, tab->execve, tab->execveat, tab->exit_group,
	};
	for (size_t i = 0; i < sizeof(traced) / sizeof(traced[0]); i++)
		n = push_nr(nrs, n, max, traced[i]);
	return n;
}

bool decode_is_exit_group(uint32_t audit_arch, uint64_t nr)
{
	const struct sysnr_table *tab = table_for(vm_arch_from_audit(audit_arch));

	return tab && (nr & ~X32_SYSCALL_BIT) == tab->exit_group;
}
