/* bench/workloads/mmap_threads.c - benchmark workload: mmap_storm in 4 threads.
 * Each thread maps 64 KiB anonymous, touches a page, unmaps it, and leaks every
 * 100th mapping; the N iterations are split evenly over the threads, so the
 * syscall count matches mmap_storm's for the same N.
 *
 * usage: mmap_threads [N]   (default 100000)
 * Prints "mmap_threads: N iterations, M memory syscalls" on stderr. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define MAP_BYTES  (64 * 1024)
#define LEAK_EVERY 100
#define NTHREADS   4

struct worker {
	pthread_t thread;
	long iterations;
	long calls;
	int failed;
};

static void *map_loop(void *arg)
{
	struct worker *w = arg;
	long i;

	for (i = 0; i < w->iterations; i++) {
		char *p = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);

		if (p == MAP_FAILED) {
			w->failed = 1;
			return NULL;
		}
		w->calls++;
		p[0] = (char)i;
		if (i % LEAK_EVERY == LEAK_EVERY - 1)
			continue; /* leaked on purpose */
		if (munmap(p, MAP_BYTES) != 0) {
			w->failed = 1;
			return NULL;
		}
		w->calls++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	struct worker workers[NTHREADS] = {0};
	long calls = 0;
	int i, failed = 0;

	for (i = 0; i < NTHREADS; i++) {
		workers[i].iterations = n / NTHREADS + (i < n % NTHREADS);
		if (pthread_create(&workers[i].thread, NULL, map_loop, &workers[i]) != 0) {
			fprintf(stderr, "mmap_threads: pthread_create failed\n");
			return 1;
		}
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(workers[i].thread, NULL);
		calls += workers[i].calls;
		failed |= workers[i].failed;
	}
	if (failed) {
		fprintf(stderr, "mmap_threads: a mapping call failed\n");
		return 1;
	}
	fprintf(stderr, "mmap_threads: %ld iterations, %ld memory syscalls\n", n, calls);
	return 0;
}
