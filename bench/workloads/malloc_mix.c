/* bench/workloads/malloc_mix.c - benchmark workload: malloc/free of random sizes
 * from 16 B to 2 MiB (log-uniform) over a working set of 256 slots, so glibc
 * grows and trims the heap with brk and serves big blocks with mmap/munmap.
 * The mmap threshold is pinned at 128 KiB (mallopt), because glibc's dynamic
 * threshold would otherwise rise to 2 MiB after the first big free and stop
 * using mmap. Every 1000th block is leaked. Fixed seed: runs are repeatable.
 *
 * usage: malloc_mix [N]   (default 300000 allocations)
 * Prints "malloc_mix: N allocations" on stderr. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS	    256
#define MIN_SHIFT   4  /* 16 B */
#define MAX_SHIFT   21 /* 2 MiB */
#define LEAK_EVERY  1000
#define TOUCH_BYTES 64

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

static unsigned long next_random(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned long)(rng_state >> 11);
}

/* log-uniform in [16 B, 2 MiB] */
static size_t random_size(void)
{
	unsigned shift = MIN_SHIFT + next_random() % (MAX_SHIFT - MIN_SHIFT);
	size_t base = (size_t)1 << shift;

	return base + next_random() % base;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 300000;
	char *slots[SLOTS] = {0};
	long i;

	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	for (i = 0; i < n; i++) {
		unsigned slot = next_random() % SLOTS;
		size_t size = random_size();

		if (i % LEAK_EVERY != LEAK_EVERY - 1)
			free(slots[slot]); /* else: leaked on purpose */
		slots[slot] = malloc(size);
		if (!slots[slot]) {
			perror("malloc");
			return 1;
		}
		memset(slots[slot], (int)i, size < TOUCH_BYTES ? size : TOUCH_BYTES);
	}
	for (i = 0; i < SLOTS; i++)
		free(slots[i]);
	fprintf(stderr, "malloc_mix: %ld allocations\n", n);
	return 0;
}
