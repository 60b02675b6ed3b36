/* decoder/syscall.h - turns one syscall (audit arch, number, six arguments,
 * return value) into a memory event. Pure: never touches a live process;
 * arguments that live in tracee memory are fetched through a callback. */
#ifndef VMLEAK_DECODER_SYSCALL_H
#define VMLEAK_DECODER_SYSCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mem_op {
	MEM_NONE = 0,
	MEM_MMAP,
	MEM_MUNMAP,
	MEM_MREMAP,
	MEM_BRK,
	MEM_SHMAT,
	MEM_SHMDT,
	MEM_EXEC,
	MEM_CLONE,
	MEM_OP_COUNT,
};

enum vm_arch {
	VM_ARCH_UNKNOWN = 0,
	VM_ARCH_X86_64,
	VM_ARCH_I386,
	VM_ARCH_AARCH64,
};

/* Reads len bytes of the tracee's memory at addr into buf: 0 or -errno. */
typedef int (*mem_reader_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* A decoded syscall at its entry (or seccomp) stop. */
struct mem_call {
	enum mem_op op;
	enum vm_arch arch;
	uint64_t nr;	  /* syscall number in arch's table (x32 bit masked) */
	const char *name; /* name strace prints: "mmap", "mmap2", "munmap", ... */
	uint64_t args[6]; /* raw arguments */

	/* normalized arguments; which are meaningful depends on op */
	uint64_t addr;	   /* mmap hint, munmap/mremap old address, brk request, shmat/shmdt addr */
	uint64_t len;	   /* mmap/munmap length, mremap old_size */
	uint64_t new_len;  /* mremap new_size */
	uint64_t new_addr; /* mremap new_address (MREMAP_FIXED) */
	uint64_t prot;	   /* mmap PROT_* */
	uint64_t flags;	   /* mmap MAP_*, mremap MREMAP_*, shmat SHM_* */
	int64_t fd;	   /* mmap fd (sign-extended for i386) */
	uint64_t offset;   /* mmap offset in bytes (mmap2's page units converted) */
	int64_t shmid;	   /* shmat */
	uint64_t clone_flags;	 /* MEM_CLONE: CLONE_* | exit signal; fork = SIGCHLD,
				  * vfork = CLONE_VM|CLONE_VFORK|SIGCHLD, clone3 read from memory */
	bool via_ipc;		 /* i386 ipc() multiplexer */
	uint64_t ipc_result_ptr; /* i386 ipc(SHMAT): where the kernel stores the address */
	bool mem_fault;		 /* an argument in tracee memory could not be read */
};

/* The outcome at the exit stop. */
struct mem_result {
	bool is_error;
	int err;	/* errno when is_error */
	uint64_t value; /* mmap/mremap/shmat: the address (ipc SHMAT: read from memory);
			 * brk: the new break (failure returns the old one, never -errno) */
};

/* Decode a syscall entry. Returns 0 (out->op may be MEM_NONE for syscalls that are
 * not memory events) or -errno when the arch is unknown. A failed memory read sets
 * out->mem_fault but still returns 0 with what could be decoded. */
int decode_entry(uint32_t audit_arch, uint64_t nr, const uint64_t args[6], mem_reader_fn rd,
		 void *ctx, struct mem_call *out);

/* Decode the exit of a call decoded by decode_entry. rval/is_error as in
 * PTRACE_GET_SYSCALL_INFO. Returns 0 or -errno when a memory read failed. */
int decode_exit(const struct mem_call *call, int64_t rval, bool is_error, mem_reader_fn rd,
		void *ctx, struct mem_result *out);

/* True for -ERESTARTSYS .. -ERESTART_RESTARTBLOCK: the syscall will be restarted. */
bool decode_is_restart(int64_t rval, bool is_error);

/* True for exit_group: the whole process is exiting (not a memory event, but the
 * tracer tells threads that exited on their own from those that die with it). */
bool decode_is_exit_group(uint32_t audit_arch, uint64_t nr);

/* The syscall numbers of arch that the seccomp filter must trace: the memory
 * syscalls, the clone/fork/exec family and exit_group. Returns how many (at most
 * max written). */
size_t decode_traced_syscalls(enum vm_arch arch, uint32_t *nrs, size_t max);

enum vm_arch vm_arch_from_audit(uint32_t audit_arch);
uint32_t vm_arch_to_audit(enum vm_arch arch);
const char *mem_op_name(enum mem_op op); /* "mmap", "munmap", ..., "none" */

#endif
