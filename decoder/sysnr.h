/* decoder/sysnr.h - private to the decoder: the syscall numbers the decoder needs, one
 * table per architecture.
 *
 * Why several files: the kernel's <asm/unistd_64.h>, <asm/unistd_32.h> and
 * <asm-generic/unistd.h> all define the same __NR_* names with different values, so no
 * single translation unit can include two of them without the macros colliding. Each
 * table therefore lives in its own small translation unit (sysnr_x86_64.c, sysnr_i386.c,
 * sysnr_aarch64.c) that includes exactly one header and copies the numbers it needs into
 * a const struct; syscall.c only sees the structs. */
#ifndef VMLEAK_DECODER_SYSNR_H
#define VMLEAK_DECODER_SYSNR_H

#include <stdint.h>

#define SYSNR_NONE UINT32_MAX /* the architecture has no such syscall */

struct sysnr_table {
	uint32_t mmap;	   /* byte offsets (x86_64, aarch64) */
	uint32_t mmap2;	   /* i386: offsets in 4096-byte units */
	uint32_t old_mmap; /* i386 nr 90: arguments in a struct in tracee memory */
	uint32_t munmap;
	uint32_t mremap;
	uint32_t brk;
	uint32_t shmat;
	uint32_t shmdt;
	uint32_t ipc; /* i386 multiplexer */
	uint32_t clone;
	uint32_t clone3;
	uint32_t fork;
	uint32_t vfork;
	uint32_t execve;
	uint32_t execveat;
	uint32_t exit_group; /* not a memory call: tells a process exit from a thread exit */
};

extern const struct sysnr_table sysnr_x86_64;
extern const struct sysnr_table sysnr_i386;
extern const struct sysnr_table sysnr_aarch64;

#endif
