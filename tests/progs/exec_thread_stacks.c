/* tests/progs/exec_thread_stacks.c - thread stacks across an exec made by a
 * non-leader thread, with address randomization off so that the new image puts
 * its thread stack where the old image's exited thread had its own.
 *   (no argument)  turn ASLR off for itself and re-exec with "old"
 *   old            a thread runs and exits (joined); then another thread execs "new"
 *   new            a thread is still alive (blocked) when the process exits
 * The report of "new" must count its live thread's stack, none of exited threads. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <unistd.h>

#include "lifetime.h"

static char self[4096];

static void *quick(void *arg)
{
	return arg;
}

static void *exec_new(void *arg)
{
	char *argv[] = {self, "new", NULL};

	execv(self, argv);
	return arg;
}

static void *block(void *arg)
{
	pause();
	return arg;
}

static void run(void *(*fn)(void *), int join)
{
	pthread_t th;

	if (pthread_create(&th, NULL, fn, NULL))
		return;
	if (join)
		pthread_join(th, NULL);
}

int main(int argc, char **argv)
{
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return 1;
	self[n] = '\0';
	alarm(10);
	lifetime_limit();
	if (argc < 2) {
		char *old[] = {self, "old", NULL};
		personality(ADDR_NO_RANDOMIZE);
		execv(self, old);
		return 1;
	}
	if (!strcmp(argv[1], "old")) {
		run(quick, 1);
		run(exec_new, 0);
		pause(); /* the exec ends this image */
		return 1;
	}
	run(block, 0);
	usleep(50 * 1000);
	printf("new %d\n", getpid());
	return 0;
}
