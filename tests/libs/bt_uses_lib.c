/* tests/libs/bt_uses_lib.c - leaks through its own shared library: maps N
 * (default 3) 64 KiB arenas with libbt_pool.so's pool_map() and keeps them. */
#include <stdio.h>
#include <stdlib.h>

void *pool_map(size_t size);

#define ARENA_SIZE (64 * 1024)

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;

	for (int i = 0; i < n; i++) {
		if (!pool_map(ARENA_SIZE)) { /* BT_USES_LIB_CALL */
			perror("pool_map");
			return 1;
		}
	}
	return 0;
}
