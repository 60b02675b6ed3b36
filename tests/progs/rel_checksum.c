/* tests/progs/rel_checksum.c - a multithreaded program that checksums its own
 * work, for the attach/detach churn test. Usage: rel_checksum NTHREADS.
 * Each thread processes items until standard input reaches end of file: item i
 * of thread t maps 8 KiB, fills it with splitmix64(t << 32 | i) + k, sums it,
 * passes the sum through its own pipe, sleeps 200 us and unmaps. Any syscall
 * error (an EINTR included), short read or wrong value is printed and makes
 * it exit 2. At the end it prints "counts C0 C1 ..." and "checksum 0x...",
 * recomputes the checksum from the counts alone and exits 0 if they agree. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "lifetime.h"

#define MAX_THREADS 16
#define WORDS	    1024 /* 8 KiB of uint64_t */

struct worker {
	pthread_t thread;
	unsigned id;
	int pipe[2];
	uint64_t count;
	uint64_t checksum;
};

static atomic_int stop;

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The sum of one item's page, computed without touching memory. */
static uint64_t item_value(unsigned t, uint64_t i)
{
	uint64_t v = splitmix64((uint64_t)t << 32 | i);

	return v * WORDS + (uint64_t)WORDS * (WORDS - 1) / 2;
}

static void __attribute__((noreturn)) fail(const char *what, int err)
{
	printf("error: %s: %s\n", what, err ? strerror(err) : "wrong value");
	fflush(stdout);
	_exit(2);
}

static uint64_t do_item(struct worker *w, uint64_t i)
{
	struct timespec ts = {0, 200 * 1000};
	uint64_t *p, sum = 0, back = 0;
	uint64_t v = splitmix64((uint64_t)w->id << 32 | i);

	p = mmap(NULL, WORDS * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap", errno);
	for (unsigned k = 0; k < WORDS; k++)
		p[k] = v + k;
	for (unsigned k = 0; k < WORDS; k++)
		sum += p[k];
	if (write(w->pipe[1], &sum, sizeof(sum)) != sizeof(sum))
		fail("write", errno);
	if (read(w->pipe[0], &back, sizeof(back)) != sizeof(back))
		fail("read", errno);
	if (back != sum || sum != item_value(w->id, i))
		fail("pipe round trip", 0);
	if (nanosleep(&ts, NULL))
		fail("nanosleep", errno);
	if (munmap(p, WORDS * 8))
		fail("munmap", errno);
	return sum;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop)) {
		w->checksum += do_item(w, w->count) * (w->count + 1);
		w->count++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker w[MAX_THREADS];
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 4;
	uint64_t total = 0, expect = 0;
	char buf[64];
	ssize_t got;

	lifetime_limit();
	if (n < 1 || n > MAX_THREADS)
		return 64;
	for (unsigned t = 0; t < n; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].id = t;
		if (pipe(w[t].pipe))
			fail("pipe", errno);
		if ((errno = pthread_create(&w[t].thread, NULL, work, &w[t])))
			fail("pthread_create", errno);
	}
	printf("started\n");
	fflush(stdout);
	while ((got = read(0, buf, sizeof(buf))) > 0)
		;
	if (got < 0)
		fail("read stdin", errno);
	atomic_store(&stop, 1);
	printf("counts");
	for (unsigned t = 0; t < n; t++) {
		pthread_join(w[t].thread, NULL);
		total += w[t].checksum;
		printf(" %" PRIu64, w[t].count);
		for (uint64_t i = 0; i < w[t].count; i++)
			expect += item_value(t, i) * (i + 1);
	}
	printf("\nchecksum 0x%016" PRIx64 "\n", total);
	return total == expect ? 0 : 3;
}
