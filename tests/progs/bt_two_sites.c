/* tests/progs/bt_two_sites.c - two leaking call sites in two functions:
 * keep_cache() maps 2 x 32 KiB, leak_buffers() maps 3 x 16 KiB. Exits with
 * argv[1] (default 0) so that exit statuses can be checked (also when stripped). */
#include <stdlib.h>
#include <sys/mman.h>

#include "lifetime.h"

#define PROT_RW (PROT_READ | PROT_WRITE)
#define ANON_RW (MAP_PRIVATE | MAP_ANONYMOUS)

static __attribute__((noinline)) int keep_cache(void)
{
	for (int i = 0; i < 2; i++)
		if (mmap(NULL, 32768, PROT_RW, ANON_RW, -1, 0) == MAP_FAILED) /* BT_CACHE_MMAP */
			return -1;
	return 0;
}

static __attribute__((noinline)) int leak_buffers(void)
{
	for (int i = 0; i < 3; i++)
		if (mmap(NULL, 16384, PROT_RW, ANON_RW, -1, 0) == MAP_FAILED) /* BT_BUFFERS_MMAP */
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	lifetime_limit();
	if (keep_cache() || leak_buffers())
		return 1;
	return argc > 1 ? atoi(argv[1]) : 0;
}
