/* tests/libs/libbt_deep.c - a library that maps memory two calls deep, loaded
 * with dlopen and closed again by tests/progs/bt_dlopen.c: the report must name
 * bt_inner and its mmap line although the library is gone by then. */
#include <stddef.h>
#include <sys/mman.h>

#define PROT_RW (PROT_READ | PROT_WRITE)
#define ANON_RW (MAP_PRIVATE | MAP_ANONYMOUS)

void *bt_outer(size_t len);

static __attribute__((noinline)) void *bt_inner(size_t len)
{
	void *p = mmap(NULL, len, PROT_RW, ANON_RW, -1, 0); /* BT_DEEP_MMAP */

	return p == MAP_FAILED ? NULL : p;
}

void *bt_outer(size_t len)
{
	return bt_inner(len); /* BT_DEEP_CALL */
}
