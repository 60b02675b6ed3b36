/* tests/i386/leak32.c - a 32-bit program (built by test_i386.py with gcc -m32):
 * leaks three 8 KiB mmap2 regions from leak(), and a 1 MiB malloc chunk. Its
 * syscalls go through the vDSO's __kernel_vsyscall, its mmap is mmap2. */
#include <stdlib.h>
#include <sys/mman.h>

static void __attribute__((noinline)) leak(void)
{
	mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); /* LEAK */
}

int main(void)
{
	void *chunk;

	for (int i = 0; i < 3; i++)
		leak();
	chunk = malloc(1 << 20); /* CHUNK: never freed */
	return chunk ? 0 : 1;
}
