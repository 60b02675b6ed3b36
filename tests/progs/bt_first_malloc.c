/* tests/progs/bt_first_malloc.c - the first malloc of the program grows the sbrk
 * heap, and a later 1 MiB malloc gets its own mmap, both from the very same line
 * of grab(): the brk growth is the allocator's pool (malloc-heap), the 1 MiB
 * chunk is the program's leak. */
#include <stdio.h>
#include <stdlib.h>

#include "lifetime.h"

static void *volatile keep[2];

static __attribute__((noinline)) void *grab(size_t size)
{
	return malloc(size); /* BT_GRAB_MALLOC */
}

int main(void)
{
	static const size_t sizes[2] = {64, 1024 * 1024};

	lifetime_limit();
	for (int i = 0; i < 2; i++) {
		keep[i] = grab(sizes[i]);
		if (!keep[i])
			return 1;
	}
	return 0;
}
