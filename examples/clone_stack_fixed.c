/* examples/clone_stack_fixed.c - clone_stack_leak.c with the fix: the 40 KiB
 * stack of each raw clone() child is unmapped once waitpid() has reaped the child,
 * so VSZ stays flat however many iterations run.
 *
 * usage: clone_stack_fixed [N [--slow]]
 *   N       iterations (default 20)
 *   --slow  sleep 50 ms per iteration
 * With VMLEAK_EXAMPLE_VMSIZE=1 it prints its VmSize before and after the loop.
 *
 * vmleak should report no unmatched mapping made by main. */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "example_vmsize.h"

#define STACK_SIZE  40960
#define PROT_RW	    (PROT_READ | PROT_WRITE)
#define STACK_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK)

/* The child shares our memory (CLONE_VM) but not our TLS, so it must not call
 * into libc: it only touches a shared counter and returns, which ends it. */
static volatile int children_ran;

static int child_fn(void *arg)
{
	(void)arg;
	children_ran++;
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20;
	int slow = argc > 2 && strcmp(argv[2], "--slow") == 0;
	int i;

	example_print_vmsize("before");
	for (i = 0; i < n; i++) {
		char *stack;
		int status;

		stack = mmap(NULL, 40960, PROT_RW, STACK_FLAGS, -1, 0);
		if (stack == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		/* the stack grows down: hand clone() its top */
		if (clone(child_fn, stack + STACK_SIZE,
			  CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND, NULL) < 0) {
			perror("clone");
			return 1;
		}
		/* the child has no exit signal, so only __WALL waits for it */
		if (waitpid(-1, &status, __WALL) < 0) {
			perror("waitpid");
			return 1;
		}
		munmap(stack, STACK_SIZE); /* the fix: give the stack back */
		if (slow)
			sleep_ms(50);
	}
	example_print_vmsize("after");
	return children_ran == n ? 0 : 1;
}
