/* decoder/sysnr_i386.c - i386 syscall numbers (a 32-bit tracee on x86_64), taken from the
 * kernel's <asm/unistd_32.h> (see sysnr.h for why each table has its own file). i386's
 * __NR_mmap is the old mmap whose arguments live in a struct in tracee memory. */
#include <asm/unistd_32.h>

#include "decoder/sysnr.h"

const struct sysnr_table sysnr_i386 = {
	.mmap = SYSNR_NONE,
	.mmap2 = __NR_mmap2,
	.old_mmap = __NR_mmap,
	.munmap = __NR_munmap,
	.mremap = __NR_mremap,
	.brk = __NR_brk,
	.shmat = __NR_shmat,
	.shmdt = __NR_shmdt,
	.ipc = __NR_ipc,
	.clone = __NR_clone,
	.clone3 = __NR_clone3,
	.fork = __NR_fork,
	.vfork = __NR_vfork,
	.execve = __NR_execve,
	.execveat = __NR_execveat,
	.exit_group = __NR_exit_group,
};
