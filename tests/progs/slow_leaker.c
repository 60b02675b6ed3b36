/* tests/progs/slow_leaker.c - runs until killed: every 20 ms it maps 4 KiB
 * and leaks it, and maps and unmaps 8 KiB; after each round it writes the round
 * number to stdout, so a test can see that it still makes progress. */
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

#include "lifetime.h"

int main(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	lifetime_limit();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned long round = 0;; round++) {
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		void *p = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		munmap(p, 8192);
		printf("%lu\n", round);
		nanosleep(&ts, NULL);
	}
}
