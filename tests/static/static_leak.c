/* tests/static/static_leak.c - one source built twice by
 * tests/integration/test_static.py, dynamically and with gcc -static, which must
 * get the same report: a direct mmap leak, a malloc'd 1 MiB chunk leak, the
 * malloc heap grown by small allocations, a joined thread's cached stack, and
 * stdio's buffer. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define PROT_RW (PROT_READ | PROT_WRITE)
#define ANON_RW (MAP_PRIVATE | MAP_ANONYMOUS)

static void *volatile sink;

static __attribute__((noinline)) int leak_one(void)
{
	void *p = mmap(NULL, 65536, PROT_RW, ANON_RW, -1, 0); /* LEAK_MMAP */

	return p == MAP_FAILED;
}

static __attribute__((noinline)) void leak_big(void)
{
	sink = malloc(1 << 20); /* LEAK_MALLOC */
}

static void *worker(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t t;

	for (int i = 0; i < 2000; i++)
		sink = malloc(128);
	if (pthread_create(&t, NULL, worker, NULL) || pthread_join(t, NULL))
		return 1;
	if (leak_one())
		return 1;
	leak_big();
	printf("static_leak done\n");
	return 0;
}
