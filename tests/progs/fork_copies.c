/* tests/progs/fork_copies.c - one 1 MiB region mapped before a fork, and what each
 * side does with its copy afterwards (argv[1]):
 *   exit            the child _exits at once; the parent waits and exits
 *   parent-unmaps   the parent unmaps its copy, then the child exits holding its own
 *   parent-first    the parent exits at once; the child exits a little later
 *   vfork           no fork: a vfork child maps 64 KiB in the shared mm and _exits
 * Prints "parent PID child PID" so the test knows who is who. Bounded: every
 * wait ends within a few seconds. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lifetime.h"

#define LEN (1 << 20)

static void *map_one(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(2);
	memset(p, 1, 4096);
	return p;
}

static int with_vfork(void)
{
	pid_t pid = vfork();

	if (pid == 0) {
		mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		_exit(0);
	}
	if (pid < 0)
		return 1;
	printf("parent %d child %d\n", getpid(), pid);
	waitpid(pid, NULL, 0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "exit";
	int go[2];
	char c = 0;

	lifetime_limit();
	if (!strcmp(mode, "vfork"))
		return with_vfork();
	void *p = map_one(LEN);
	if (pipe(go))
		return 1;
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(go[1]);
		alarm(10); /* never outlive a broken test */
		if (!strcmp(mode, "parent-unmaps")) {
			if (read(go[0], &c, 1) < 0)
				_exit(3);
		} else if (!strcmp(mode, "parent-first")) {
			usleep(200 * 1000);
		}
		_exit(0);
	}
	close(go[0]);
	printf("parent %d child %d\n", getpid(), pid);
	fflush(stdout);
	if (!strcmp(mode, "parent-first"))
		return 0;
	if (!strcmp(mode, "parent-unmaps")) {
		munmap(p, LEN);
		if (write(go[1], &c, 1) < 0)
			return 1;
	}
	waitpid(pid, NULL, 0);
	return 0;
}
