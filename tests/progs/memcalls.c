/* tests/progs/memcalls.c - a deterministic sequence of mmap/munmap/mremap/brk/shmat/shmdt
 * calls with many flag combinations and failures, made with raw syscall() so that the
 * arguments are exactly what the kernel (and strace) sees.
 *
 * On x86_64 it also makes i386 (compat) memory syscalls through int $0x80: mmap2, the old
 * mmap whose arguments are a block in memory, munmap, mremap, brk, shmat/shmdt and the ipc()
 * multiplexer's SHMAT/SHMDT, with their pointers in MAP_32BIT memory.
 *
 * The memory calls sit between two getppid() markers. After the second marker the program
 * writes one line per call to the file named by argv[1] (if given), all in hex:
 *   <audit arch> <nr> <a0> .. <a5> <rval> <is_error> [<addr>:<bytes>]
 * rval is the kernel's long; the optional last field is tracee memory a decoder must read
 * (the old mmap block, the ipc(SHMAT) result), as it was after the call.
 * scripts/gen_golden.sh pairs these lines with what strace printed for the same run, and
 * tests/check_format.c decodes and formats them and compares with strace byte for byte.
 * Inside the section the program makes no libc call that could map memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/mman.h>
#include <string.h>

#include "lifetime.h"

#define PAGE	      4096UL
#define BASE	      0x600000000000UL /* fixed hints: far from anything ASLR places */
#define SLOT(i)	      (BASE + (unsigned long)(i)*0x100000UL)
#define SLOT32(i)     (0x30000000UL + (unsigned long)(i)*0x100000UL) /* i386 hints */
#define MAX_RECORDS   256
#define MAX_MEM	      24
#define MAP_HUGE_2MB_ (21U << MAP_HUGE_SHIFT)
#define MAP_HUGE_1GB_ (30U << MAP_HUGE_SHIFT)

struct record {
	unsigned int arch;
	long nr;
	unsigned long a[6];
	long rval;
	int is_error;
	unsigned long mem_addr;
	unsigned int mem_len;
	unsigned char mem[MAX_MEM];
};

static struct record records[MAX_RECORDS];
static int nrecords;

static struct record *record(unsigned int arch, long nr, unsigned long a0, unsigned long a1,
			     unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	struct record *r;

	if (nrecords >= MAX_RECORDS)
		return NULL;
	r = &records[nrecords++];
	r->arch = arch;
	r->nr = nr;
	r->a[0] = a0;
	r->a[1] = a1;
	r->a[2] = a2;
	r->a[3] = a3;
	r->a[4] = a4;
	r->a[5] = a5;
	return r;
}

/* Make one x86_64 syscall and remember its raw inputs and result. */
static long call6(long nr, unsigned long a0, unsigned long a1, unsigned long a2, unsigned long a3,
		  unsigned long a4, unsigned long a5)
{
	long ret = syscall(nr, a0, a1, a2, a3, a4, a5);
	struct record *r = record(AUDIT_ARCH_X86_64, nr, a0, a1, a2, a3, a4, a5);

	if (r) {
		r->is_error = ret == -1;
		r->rval = ret == -1 ? -errno : ret;
	}
	return ret;
}

static unsigned long do_mmap(unsigned long addr, unsigned long len, unsigned long prot,
			     unsigned long flags, long fd, unsigned long off)
{
	return (unsigned long)call6(SYS_mmap, addr, len, prot, flags, (unsigned long)fd, off);
}

static long do_munmap(unsigned long addr, unsigned long len)
{
	return call6(SYS_munmap, addr, len, 0, 0, 0, 0);
}

static unsigned long do_mremap(unsigned long old, unsigned long old_len, unsigned long new_len,
			       unsigned long flags, unsigned long new_addr)
{
	return (unsigned long)call6(SYS_mremap, old, old_len, new_len, flags, new_addr, 0);
}

static unsigned long do_brk(unsigned long addr)
{
	return (unsigned long)call6(SYS_brk, addr, 0, 0, 0, 0, 0);
}

static unsigned long do_shmat(long id, unsigned long addr, unsigned long flags)
{
	return (unsigned long)call6(SYS_shmat, (unsigned long)id, addr, flags, 0, 0, 0);
}

static long do_shmdt(unsigned long addr)
{
	return call6(SYS_shmdt, addr, 0, 0, 0, 0, 0);
}

static const unsigned long anon = MAP_PRIVATE | MAP_ANONYMOUS;
static const unsigned long rw = PROT_READ | PROT_WRITE;

static void anon_mappings(void)
{
	unsigned long p;

	p = do_mmap(0, PAGE, rw, anon, -1, 0);
	do_munmap(p, PAGE);
	p = do_mmap(0, 10 * PAGE, rw, anon | MAP_STACK, -1, 0);
	do_munmap(p, 10 * PAGE);
	do_mmap(SLOT(0), 2 * PAGE, PROT_NONE, anon | MAP_FIXED_NOREPLACE, -1, 0);
	do_mmap(SLOT(0), 2 * PAGE, PROT_READ, anon | MAP_FIXED_NOREPLACE, -1, 0); /* EEXIST */
	do_mmap(SLOT(0), PAGE, PROT_READ | PROT_EXEC, anon | MAP_FIXED, -1, 0);
	do_mmap(SLOT(0) + PAGE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, anon | MAP_FIXED, -1, 0);
	do_munmap(SLOT(0), 2 * PAGE);
	do_mmap(SLOT(1), 3 * PAGE, rw, anon | MAP_GROWSDOWN, -1, 0);
	do_mmap(SLOT(2), 4 * PAGE, rw, anon | MAP_NORESERVE, -1, 0);
	do_mmap(0, 2 * PAGE, rw, anon | MAP_POPULATE, -1, 0);
	do_mmap(0, 2 * PAGE, PROT_READ, anon | MAP_LOCKED, -1, 0);
	do_mmap(0, PAGE, rw, anon | MAP_32BIT, -1, 0);
	do_mmap(0, PAGE, rw, anon | MAP_NONBLOCK | MAP_DENYWRITE | MAP_EXECUTABLE, -1, 0);
	do_mmap(0, PAGE, rw, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	do_mmap(0, 3 * PAGE + 1, rw, anon, -1, 0);	       /* unaligned length */
	do_mmap(0, PAGE, rw, anon | 0x800000, -1, 0);	       /* unknown flag bit */
	do_mmap(0, PAGE, rw, anon | 0x100000000UL, -1, 0);     /* unknown high bit */
	do_mmap(0, PAGE, rw, anon | MAP_UNINITIALIZED, -1, 0); /* inside the MAP_HUGE bits */
	do_mmap(0, PAGE, rw, MAP_ANONYMOUS, -1, 0);	       /* no type: EINVAL */
	do_mmap(0, PAGE, rw, MAP_ANONYMOUS | 0xf, -1, 0);      /* bad type */
}

static void anon_failures(void)
{
	do_mmap(0, 2UL << 20, rw, anon | MAP_HUGETLB | MAP_HUGE_2MB_, -1, 0);
	do_mmap(0, 1UL << 30, rw, anon | MAP_HUGETLB | MAP_HUGE_1GB_, -1, 0);
	do_mmap(0, 2UL << 20, rw, anon | MAP_HUGETLB, -1, 0);
	do_mmap(0, 0, rw, anon, -1, 0);				 /* EINVAL */
	do_mmap(0, 1UL << 62, rw, anon, -1, 0);			 /* ENOMEM */
	do_mmap(SLOT(3) + 1, PAGE, rw, anon | MAP_FIXED, -1, 0); /* EINVAL */
	do_mmap(0, PAGE, PROT_READ | 0x10, anon, -1, 0);	 /* bad prot bit */
	do_mmap(0, PAGE, PROT_READ | PROT_SEM, anon, -1, 0);
	do_mmap(0, PAGE, PROT_READ | PROT_GROWSDOWN, anon, -1, 0);
	do_mmap(0, PAGE, PROT_READ | PROT_GROWSUP, anon, -1, 0);
	do_mmap(0, PAGE, 0x40, anon, -1, 0);
	do_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, 99, 0);  /* EBADF */
	do_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, -1, 0);  /* EBADF */
	do_mmap(0, PAGE, PROT_READ, MAP_SHARED, -100, 0); /* EBADF */
}

static void file_mappings(int fd)
{
	unsigned long p;

	p = do_mmap(0, 2 * PAGE, PROT_READ, MAP_SHARED, fd, PAGE);
	do_munmap(p, 2 * PAGE);
	p = do_mmap(0, 3 * PAGE, rw, MAP_PRIVATE, fd, 0);
	do_munmap(p, 3 * PAGE);
	do_mmap(SLOT(4), PAGE, rw, MAP_SHARED | MAP_FIXED, fd, 2 * PAGE);
	do_mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE, fd, 0);
	do_mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	do_mmap(0, PAGE, PROT_READ, MAP_SHARED_VALIDATE | 0x800000, fd, 0);
	do_mmap(0, PAGE, PROT_READ, MAP_PRIVATE, fd, 123); /* unaligned offset: EINVAL */
	do_mmap(0, PAGE, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0x10000000UL);
}

static void munmap_calls(void)
{
	do_munmap(SLOT(1), 3 * PAGE);
	do_munmap(SLOT(2) + PAGE, PAGE); /* splits */
	do_munmap(SLOT(2), 10 * PAGE);
	do_munmap(SLOT(5), PAGE); /* a hole */
	do_munmap(SLOT(5) + 12, PAGE);
	do_munmap(0, 0);
	do_munmap(SLOT(4), PAGE);
}

static void mremap_calls(void)
{
	unsigned long p;

	p = do_mmap(SLOT(6), 4 * PAGE, rw, anon | MAP_FIXED_NOREPLACE, -1, 0);
	do_mremap(p, 4 * PAGE, 2 * PAGE, 0, 0); /* shrink */
	do_mremap(p, 2 * PAGE, 3 * PAGE, 0, 0); /* grow in place */
	p = do_mremap(p, 3 * PAGE, 64 * PAGE, MREMAP_MAYMOVE, 0);
	p = do_mremap(p, 64 * PAGE, 64 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, SLOT(7));
	do_mremap(p, 64 * PAGE, 64 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
	do_mremap(p, 64 * PAGE, 64 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP | MREMAP_FIXED,
		  SLOT(8));
	do_mremap(p, PAGE, PAGE, MREMAP_FIXED, SLOT(9));	/* EINVAL */
	do_mremap(p, PAGE, 2 * PAGE, 0x10, 0);			/* unknown flag: EINVAL */
	do_mremap(SLOT(10), PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0); /* not mapped: EFAULT */
	do_mremap(p, 64 * PAGE, 0, 0, 0);			/* EINVAL */
	do_mremap(p, 64 * PAGE, 1UL << 62, MREMAP_MAYMOVE, 0);
	do_munmap(p, 64 * PAGE);
}

static void brk_calls(void)
{
	unsigned long cur = do_brk(0);

	do_brk(cur + 8 * PAGE);
	do_brk(cur + 3 * PAGE + 100);
	do_brk(cur);
	do_brk(1); /* far below the start: fails, returns the current break */
	do_brk(cur);
}

static void shm_calls(void)
{
	int id = shmget(IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600);
	unsigned long p;

	if (id < 0)
		return;
	p = do_shmat(id, 0, 0);
	do_shmdt(p);
	p = do_shmat(id, 0, SHM_RDONLY);
	do_shmdt(p);
	do_shmat(id, SLOT(11), SHM_EXEC);
	do_shmat(id, SLOT(11), SHM_RDONLY | SHM_REMAP);
	do_shmat(id, SLOT(12) + 100, 0); /* unaligned: EINVAL */
	do_shmat(id, SLOT(12) + 100, SHM_RND);
	do_shmat(id, 0, 0x100000); /* unknown flag bit */
	do_shmat(-1, 0, 0);	   /* EINVAL */
	do_shmdt(SLOT(11));
	do_shmdt(SLOT(12));
	do_shmdt(SLOT(13) + 5); /* bad address: EINVAL */
	do_shmdt(SLOT(13));	/* nothing attached: EINVAL */
	shmctl(id, IPC_RMID, NULL);
}

#ifdef __x86_64__
/* An i386 syscall from this 64-bit process: int $0x80 takes eax, ebx, ecx, edx, esi, edi, ebp.
 * rbp is saved around it, below the red zone that -O0 code may use. */
static long int80(long nr, unsigned long a0, unsigned long a1, unsigned long a2, unsigned long a3,
		  unsigned long a4, unsigned long a5)
{
	register unsigned long r8 asm("r8") = a5;
	long ret;

	asm volatile("sub $128, %%rsp\n\tpush %%rbp\n\tmov %%r8, %%rbp\n\tint $0x80\n\t"
		     "pop %%rbp\n\tadd $128, %%rsp"
		     : "=a"(ret), "+r"(r8)
		     : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3), "D"(a4)
		     : "memory", "r9", "r10", "r11", "cc");
	return ret;
}

/* Make one i386 syscall and remember it, with mem_len bytes at mem_addr after the call. */
static unsigned long call32(long nr, unsigned long a0, unsigned long a1, unsigned long a2,
			    unsigned long a3, unsigned long a4, unsigned long a5,
			    unsigned long mem_addr, unsigned int mem_len)
{
	long ret = int80(nr, a0, a1, a2, a3, a4, a5);
	struct record *r = record(AUDIT_ARCH_I386, nr, a0, a1, a2, a3, a4, a5);

	if (r) {
		r->is_error = ret < 0 && ret >= -4095;
		r->rval = ret;
		r->mem_addr = mem_addr;
		r->mem_len = mem_len;
		if (mem_len)
			memcpy(r->mem, (const void *)mem_addr, mem_len);
	}
	return (unsigned long)ret;
}

enum {
	I386_BRK = 45,
	I386_OLD_MMAP = 90,
	I386_MUNMAP = 91,
	I386_IPC = 117,
	I386_MREMAP = 163,
	I386_MMAP2 = 192,
	I386_SHMAT = 397,
	I386_SHMDT = 398,
	IPC_SHMAT = 21,
	IPC_SHMDT = 22,
};

/* The old mmap's argument block, written into 32-bit scratch memory. */
static unsigned long old_mmap(uint32_t *blk, uint32_t addr, uint32_t len, uint32_t prot,
			      uint32_t flags, int32_t fd, uint32_t off)
{
	const uint32_t args[6] = {addr, len, prot, flags, (uint32_t)fd, off};

	memcpy(blk, args, sizeof(args));
	return call32(I386_OLD_MMAP, (unsigned long)blk, 0, 0, 0, 0, 0, (unsigned long)blk,
		      sizeof(args));
}

static void i386_mmap_calls(int fd, uint32_t *scratch)
{
	unsigned long p;

	p = call32(I386_MMAP2, 0, 2 * PAGE, rw, anon, 0xffffffff, 0, 0, 0);
	call32(I386_MUNMAP, p, 2 * PAGE, 0, 0, 0, 0, 0, 0);
	p = call32(I386_MMAP2, 0, PAGE, PROT_READ, MAP_SHARED, fd, 1, 0, 0);
	call32(I386_MUNMAP, p, PAGE, 0, 0, 0, 0, 0, 0);
	p = call32(I386_MMAP2, SLOT32(0), PAGE, rw, anon | MAP_FIXED_NOREPLACE, 0xffffffff, 0, 0,
		   0);
	p = call32(I386_MREMAP, p, PAGE, 4 * PAGE, MREMAP_MAYMOVE, 0, 0, 0, 0);
	call32(I386_MUNMAP, p, 4 * PAGE, 0, 0, 0, 0, 0, 0);
	call32(I386_MMAP2, 0, 0, rw, anon, 0xffffffff, 0, 0, 0);	  /* EINVAL */
	call32(I386_MMAP2, 0, PAGE, PROT_READ, MAP_PRIVATE, 99, 0, 0, 0); /* EBADF */
	p = old_mmap(scratch, 0, 3 * PAGE, rw, anon | MAP_STACK, -1, 0);
	call32(I386_MUNMAP, p, 3 * PAGE, 0, 0, 0, 0, 0, 0);
	p = old_mmap(scratch, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE);
	call32(I386_MUNMAP, p, PAGE, 0, 0, 0, 0, 0, 0);
	old_mmap(scratch, 0, PAGE, PROT_READ, MAP_PRIVATE, fd, 100); /* EINVAL */
	call32(I386_OLD_MMAP, 0x10, 0, 0, 0, 0, 0, 0, 0);	     /* unreadable: EFAULT */
	call32(I386_BRK, 0, 0, 0, 0, 0, 0, 0, 0);
}

static void i386_shm_calls(uint32_t *scratch)
{
	int id = shmget(IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600);
	unsigned long result = (unsigned long)(scratch + 8);
	unsigned long p;

	if (id < 0)
		return;
	p = call32(I386_SHMAT, id, 0, 0, 0, 0, 0, 0, 0);
	call32(I386_SHMDT, p, 0, 0, 0, 0, 0, 0, 0);
	call32(I386_IPC, IPC_SHMAT, id, SHM_RDONLY, result, 0, 0, result, 4);
	call32(I386_IPC, IPC_SHMDT, 0, 0, 0, scratch[8], 0, 0, 0);
	call32(I386_IPC, IPC_SHMAT, id, 0, result, SLOT32(1) + 100, 0, 0, 0); /* EINVAL */
	call32(I386_IPC, IPC_SHMAT, 0xffffffff, 0, result, 0, 0, 0, 0);	      /* EINVAL */
	call32(I386_IPC, IPC_SHMDT, 0, 0, 0, SLOT32(2), 0, 0, 0);	      /* EINVAL */
	shmctl(id, IPC_RMID, NULL);
}
#endif

static int write_records(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (int i = 0; i < nrecords; i++) {
		const struct record *r = &records[i];

		fprintf(f, "%x %lx", r->arch, r->nr);
		for (int j = 0; j < 6; j++)
			fprintf(f, " %lx", r->a[j]);
		fprintf(f, " %lx %d", (unsigned long)r->rval, r->is_error);
		if (r->mem_len)
			fprintf(f, " %lx:", r->mem_addr);
		for (unsigned int j = 0; j < r->mem_len; j++)
			fprintf(f, "%02x", r->mem[j]);
		fprintf(f, "\n");
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	int fd = memfd_create("memcalls", 0);
	uint32_t *scratch = (uint32_t *)syscall(SYS_mmap, 0, PAGE, PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);

	lifetime_limit();
	if (fd < 0 || ftruncate(fd, 4 * PAGE) < 0 || scratch == MAP_FAILED) {
		perror("memcalls: memfd");
		return 1;
	}
	syscall(SYS_getppid); /* start marker */
	anon_mappings();
	anon_failures();
	file_mappings(fd);
	munmap_calls();
	mremap_calls();
	brk_calls();
	shm_calls();
#ifdef __x86_64__
	i386_mmap_calls(fd, scratch);
	i386_shm_calls(scratch);
#endif
	syscall(SYS_getppid); /* end marker */
	if (argc > 1 && write_records(argv[1]) < 0) {
		perror("memcalls: write");
		return 1;
	}
	printf("memcalls: %d calls\n", nrecords);
	return 0;
}
