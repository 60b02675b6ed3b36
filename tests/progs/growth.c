/* tests/progs/growth.c - growth over time: leaks 40 KiB (one mmap, touched)
 * every 50 ms. "steady": for 2 s, then exits. "plateau": for 0.6 s, then sleeps
 * 1.8 s with nothing more leaked, then exits. */
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "lifetime.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void leak(void)
{
	void *p = mmap(NULL, 40 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, 1, 4096);
}

int main(int argc, char **argv)
{
	int plateau = argc > 1 && strcmp(argv[1], "plateau") == 0;
	double start = now(), leak_for = plateau ? 0.6 : 2.0;
	struct timespec tick = {0, 50 * 1000 * 1000}, rest = {1, 800 * 1000 * 1000};

	lifetime_limit();
	while (now() - start < leak_for) {
		leak();
		nanosleep(&tick, NULL);
	}
	if (plateau)
		nanosleep(&rest, NULL);
	return 0;
}
