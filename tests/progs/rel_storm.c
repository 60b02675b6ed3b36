/* tests/progs/rel_storm.c - thread and process storms for the reliability tests.
 *   rel_storm threads N BATCH  creates N short threads, BATCH at a time, and joins
 *                              them; thread i maps 12 KiB and keeps it when i is
 *                              even, unmaps it when i is odd
 *   rel_storm forks N BATCH    forks N children, BATCH at a time; each maps
 *                              20 KiB, keeps it and exits with i % 200
 * It prints one summary line and exits 0, or prints the first failure and
 * exits 2. The test compares the summary and the report's exact totals. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifetime.h"

#define MAX_BATCH    64
#define THREAD_BYTES (3 * 4096)
#define CHILD_BYTES  (5 * 4096)

static void __attribute__((noreturn)) fail(const char *what, int err)
{
	printf("error: %s: %s\n", what, strerror(err));
	fflush(stdout);
	_exit(2);
}

static void *thread_main(void *arg)
{
	uintptr_t i = (uintptr_t)arg;
	char *p = mmap(NULL, THREAD_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);

	if (p == MAP_FAILED)
		return (void *)1;
	p[0] = (char)i;
	if (i % 2 && munmap(p, THREAD_BYTES))
		return (void *)1;
	return NULL;
}

static int thread_storm(unsigned n, unsigned batch)
{
	pthread_t th[MAX_BATCH];
	unsigned joined = 0, failed = 0;

	for (unsigned i = 0; i < n; i += batch) {
		unsigned k = n - i < batch ? n - i : batch;
		for (unsigned j = 0; j < k; j++) {
			int e = pthread_create(&th[j], NULL, thread_main,
					       (void *)(uintptr_t)(i + j));
			if (e)
				fail("pthread_create", e);
		}
		for (unsigned j = 0; j < k; j++) {
			void *ret;
			int e = pthread_join(th[j], &ret);
			if (e)
				fail("pthread_join", e);
			joined++;
			failed += ret != NULL;
		}
	}
	printf("threads joined %u failed %u\n", joined, failed);
	return failed ? 2 : 0;
}

static void __attribute__((noreturn)) child_main(unsigned i)
{
	char *p =
		mmap(NULL, CHILD_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(255);
	p[CHILD_BYTES - 1] = 1;
	_exit(i % 200);
}

static int fork_storm(unsigned n, unsigned batch)
{
	pid_t pid[MAX_BATCH];
	unsigned reaped = 0, wrong = 0;

	fflush(stdout);
	for (unsigned i = 0; i < n; i += batch) {
		unsigned k = n - i < batch ? n - i : batch;
		for (unsigned j = 0; j < k; j++) {
			pid[j] = fork();
			if (pid[j] < 0)
				fail("fork", errno);
			if (pid[j] == 0)
				child_main(i + j);
		}
		for (unsigned j = 0; j < k; j++) {
			int st;
			if (waitpid(pid[j], &st, 0) != pid[j])
				fail("waitpid", errno);
			reaped++;
			if (!WIFEXITED(st) || WEXITSTATUS(st) != (i + j) % 200)
				wrong++;
		}
	}
	printf("children reaped %u wrong %u\n", reaped, wrong);
	return wrong ? 2 : 0;
}

int main(int argc, char **argv)
{
	lifetime_limit();
	if (argc != 4)
		return 64;
	unsigned n = (unsigned)atoi(argv[2]);
	unsigned batch = (unsigned)atoi(argv[3]);

	if (batch < 1 || batch > MAX_BATCH)
		return 64;
	if (!strcmp(argv[1], "threads"))
		return thread_storm(n, batch);
	if (!strcmp(argv[1], "forks"))
		return fork_storm(n, batch);
	return 64;
}
