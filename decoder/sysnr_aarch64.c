/* decoder/sysnr_aarch64.c - aarch64 syscall numbers. aarch64 uses the kernel's generic
 * table, <asm-generic/unistd.h> (see sysnr.h for why each table has its own file). Its mmap
 * is __NR3264_mmap, which the header names __NR_mmap only on 64-bit builds, so the 3264
 * name is used directly. It has no fork, vfork or ipc. arm64's own <asm/unistd.h> asks for
 * clone3 with __ARCH_WANT_SYS_CLONE3 before including the generic table; so do we. */
#define __ARCH_WANT_SYS_CLONE3
#include <asm-generic/unistd.h>

#include "decoder/sysnr.h"

const struct sysnr_table sysnr_aarch64 = {
	.mmap = __NR3264_mmap,
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
	.fork = SYSNR_NONE,
	.vfork = SYSNR_NONE,
	.execve = __NR_execve,
	.execveat = __NR_execveat,
	.exit_group = __NR_exit_group,
};
