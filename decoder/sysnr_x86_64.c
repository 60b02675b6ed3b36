/* decoder/sysnr_x86_64.c - x86_64 syscall numbers, taken from the kernel's
 * <asm/unistd_64.h> (see sysnr.h for why each table has its own file). */
#include <asm/unistd_64.h>

#include "decoder/sysnr.h"

const struct sysnr_table sysnr_x86_64 = {
	.mmap = __NR_mmap,
	.mmap2 = SYSNR_NONE,
	.old_mmap = SYSNR_NONE,
	.munmap = __NR_munmap,
	.mremap = __NR_mremap,
	.brk = __NR_brk,
	.shmat = __NR_shmat,
	.shmdt = __NR_shmdt,
	.ipc = SYSNR_NONE,
	.clone = __NR_clone,
	.clone3 = __NR_clone3,
	.fork = __NR_fork,
	.vfork = __NR_vfork,
	.execve = __NR_execve,
	.execveat = __NR_execveat,
	.exit_group = __NR_exit_group,
};
