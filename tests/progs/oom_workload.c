/* tests/progs/oom_workload.c - a small deterministic workload for the out-of-memory
 * test (tests/integration/test_oom.py): the main thread maps, leaks, unmaps, cuts a
 * mapping in two, grows one with mremap and the break with brk; then threads, one
 * after another, map and leak; then a forked child maps, leaks and exits. Every
 * page is written and summed. Prints "start" first and "ok <checksum>" at the
 * end and exits 0, or prints what failed and exits 2. Bounded: it waits only for its own threads
 * and child. */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifetime.h"

#define PAGE 4096UL

static uint64_t sum;

static void fail(const char *what)
{
	printf("failed: %s\n", what);
	exit(2);
}

static char *map(size_t pages, uint64_t seed)
{
	char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);

	if (p == MAP_FAILED)
		fail("mmap");
	for (size_t i = 0; i < pages; i++) {
		p[i * PAGE] = (char)(seed + i);
		sum = sum * 31 + (unsigned char)p[i * PAGE];
	}
	return p;
}

static void *worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;

	map(2 + id, 100 + id);		    /* leaked */
	if (munmap(map(1, 200 + id), PAGE)) /* freed */
		fail("munmap in thread");
	return NULL;
}

int main(void)
{
	char *keep[16];
	pid_t pid;
	int status;

	lifetime_limit();
	printf("start\n");
	fflush(stdout);
	for (int i = 0; i < 16; i++)
		keep[i] = map(1 + i % 3, i);
	for (int i = 0; i < 16; i += 2) /* free every other one */
		if (munmap(keep[i], (1 + i % 3) * PAGE))
			fail("munmap");
	char *cut = map(3, 50);
	if (munmap(cut + PAGE, PAGE)) /* two leaked pieces */
		fail("munmap middle");
	char *grown = mremap(map(1, 60), PAGE, 4 * PAGE, MREMAP_MAYMOVE);
	if (grown == MAP_FAILED)
		fail("mremap");
	grown[3 * PAGE] = 1;
	void *brk0 = sbrk(0);
	if (sbrk(8 * PAGE) == (void *)-1)
		fail("sbrk");
	((char *)brk0)[0] = 1;
	for (uintptr_t t = 0; t < 3; t++) {
		pthread_t th;

		if (pthread_create(&th, NULL, worker, (void *)t) || pthread_join(th, NULL))
			fail("thread");
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		map(5, 70); /* leaked by the child */
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		fail("child");
	printf("ok %016" PRIx64 "\n", sum);
	return 0;
}
