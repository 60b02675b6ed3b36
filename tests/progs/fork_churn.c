/* tests/progs/fork_churn.c - a server that forks a short-lived worker per round:
 * every 20 ms the parent leaks 4 KiB (leak_in_parent) and forks a child that
 * maps 64 KiB (work_in_child), keeps it and exits; the parent reaps it. After
 * each round it writes the round number to stdout. Runs until killed. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lifetime.h"

static void __attribute__((noinline)) leak_in_parent(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static void __attribute__((noinline)) work_in_child(void)
{
	char *p = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		memset(p, 1, 4096);
}

int main(void)
{
	struct timespec ts = {0, 20 * 1000 * 1000};

	lifetime_limit();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (unsigned long round = 0;; round++) {
		leak_in_parent();
		pid_t pid = fork();
		if (pid == 0) {
			work_in_child();
			_exit(0);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
		printf("%lu\n", round);
		nanosleep(&ts, NULL);
	}
}
