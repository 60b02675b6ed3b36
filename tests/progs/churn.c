/* tests/progs/churn.c - THREADS threads (argv[1], default 4) map and unmap 64 KiB
 * in a tight loop, so that an attached tracer always finds calls in flight.
 * Prints "ready" once every thread runs; exits by itself after 30 s. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lifetime.h"

#define LEN (64 * 1024)

static void *worker(void *arg)
{
	for (;;) {
		char *p =
			mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return arg;
		p[0] = 1;
		munmap(p, LEN);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	pthread_t th;

	alarm(30);
	lifetime_limit();
	for (int i = 0; i < n; i++)
		if (pthread_create(&th, NULL, worker, NULL))
			return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
