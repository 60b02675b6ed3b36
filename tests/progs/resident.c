/* tests/progs/resident.c - resident bytes per site: maps 8 regions of 1 MiB at
 * one line and writes the first 64 KiB of each (512 KiB resident in 8 MiB),
 * and maps 1 MiB at another line that it never touches (0 resident). With an
 * argument N it then sleeps N ms before exiting (so that a report can be taken
 * while it is alive). */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "lifetime.h"

#define MiB (1024 * 1024)

static void *map_mib(void)
{
	void *p = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(2);
	return p;
}

static void *map_untouched(void)
{
	void *p = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(2);
	return p;
}

int main(int argc, char **argv)
{
	lifetime_limit();
	for (int i = 0; i < 8; i++)
		memset(map_mib(), 0x5a, 64 * 1024);
	map_untouched();
	if (argc > 1) {
		long ms = atol(argv[1]);
		struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return 0;
}
