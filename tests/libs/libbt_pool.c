/* tests/libs/libbt_pool.c - a program's own pool allocator in a shared library
 * linked at build time (tests/libs/bt_uses_lib.c): pool_map() maps an arena
 * that nobody unmaps. */
#include <stddef.h>
#include <sys/mman.h>

#define PROT_RW (PROT_READ | PROT_WRITE)
#define ANON_RW (MAP_PRIVATE | MAP_ANONYMOUS)

void *pool_map(size_t size);

void *pool_map(size_t size)
{
	void *p = mmap(NULL, size, PROT_RW, ANON_RW, -1, 0); /* BT_POOL_MMAP */

	return p == MAP_FAILED ? NULL : p;
}
