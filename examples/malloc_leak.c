/* examples/malloc_leak.c - two ways malloc makes VSZ grow and never gives it
 * back when the program forgets to free:
 *  - leak_big(): one 1 MiB malloc. That is above glibc's mmap threshold
 *    (128 KiB by default), so malloc serves it with its own mmap; vmleak blames
 *    the caller of malloc (category program).
 *  - grow_heap(): many small mallocs, served from the main arena, which grows
 *    the sbrk heap with brk; vmleak counts that as the allocator's pool
 *    (category malloc-heap, suppressed and summed).
 *
 * usage: malloc_leak [N]   (N small 128-byte allocations, default 8192)
 * With VMLEAK_EXAMPLE_VMSIZE=1 it prints its VmSize before and after. */
#include <stdio.h>
#include <stdlib.h>

#include "example_vmsize.h"

#define BIG_SIZE   (1024 * 1024)
#define SMALL_SIZE 128

/* Where the small allocations go: written, never read, never freed. The
 * volatile store keeps the compiler from removing the mallocs. */
static void *volatile sink;

/* One allocation above the mmap threshold: malloc mmaps it on its own. */
static __attribute__((noinline)) char *leak_big(void)
{
	char *p = malloc(BIG_SIZE); /* LEAK: 1 MiB, never freed */

	if (p)
		p[0] = 1;
	return p;
}

/* Many small allocations: the sbrk heap grows under them. */
static __attribute__((noinline)) int grow_heap(int n)
{
	int i;

	for (i = 0; i < n; i++) {
		sink = malloc(SMALL_SIZE); /* LEAK: each one dropped at once */
		if (!sink)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8192;

	example_print_vmsize("before");
	if (!leak_big() || grow_heap(n) < 0) {
		fprintf(stderr, "malloc failed\n");
		return 1;
	}
	example_print_vmsize("after");
	return 0;
}
