/* tests/progs/zombie_leader.c - the main thread starts a worker and calls
 * pthread_exit, so the thread-group leader is a zombie while the worker runs on,
 * leaking 4 KiB every 20 ms and printing its round number. */
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

#include "lifetime.h"

static void *worker(void *arg)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	(void)arg;
	for (unsigned long round = 0;; round++) {
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		printf("%lu\n", round);
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

int main(void)
{
	pthread_t th;

	lifetime_limit();
	pthread_create(&th, NULL, worker, NULL);
	pthread_exit(NULL);
}
