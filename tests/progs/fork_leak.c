/* tests/progs/fork_leak.c - the child of a fork leaks 3 regions of 64 KiB and
 * exits; the parent maps and unmaps one region, waits, and exits cleanly. */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifetime.h"

#define LEN (64 * 1024)

int main(void)
{
	pid_t pid = fork();

	lifetime_limit();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		for (int i = 0; i < 3; i++)
			mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		printf("child %d\n", getpid());
		fflush(stdout);
		_exit(0);
	}
	void *p = mmap(NULL, LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(p, LEN);
	waitpid(pid, NULL, 0);
	return 0;
}
