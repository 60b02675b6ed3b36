/* tests/progs/threads_map.c - 8 threads map concurrently: each maps 200
 * regions of 16 KiB and unmaps every other one, so exactly 8 * 100 regions
 * (12.5 MiB) stay mapped when the threads are joined and the program exits. */
#include <pthread.h>
#include <sys/mman.h>

#include "lifetime.h"

#define THREADS	   8
#define PER_THREAD 200
#define LEN	   (16 * 1024)

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		char *p =
			mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		p[0] = 1;
		if (i % 2)
			munmap(p, LEN);
	}
	return NULL;
}

int main(void)
{
	pthread_t th[THREADS];

	lifetime_limit();
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	return 0;
}
