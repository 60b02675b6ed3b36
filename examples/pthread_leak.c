/* examples/pthread_leak.c - threads that are created and then neither joined
 * nor detached. Each thread returns at once, but glibc keeps a joinable thread's
 * stack (RLIMIT_STACK-sized, 8 MiB by default, plus a guard page) mapped until
 * someone joins it, so every forgotten thread leaks its whole stack.
 *
 * usage: pthread_leak [N]   (N threads, default 8)
 * With VMLEAK_EXAMPLE_VMSIZE=1 it prints its VmSize before creating the threads
 * and after they have all exited.
 *
 * vmleak counts these regions as thread stacks (category thread-stack): the
 * suppressed summary line says how many belong to threads that have exited. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "example_vmsize.h"

static void *thread_fn(void *arg)
{
	return arg; /* exits at once; its stack stays mapped until joined */
}

/* Wait (at most ~10 s) until only the main thread is left, so that "after" is
 * measured once every thread has really exited. */
static void wait_for_threads_to_exit(void)
{
	struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000L};
	int i;

	for (i = 0; i < 10000 && example_status_value("\nThreads:") > 1; i++)
		nanosleep(&ms, NULL);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	int i;

	example_print_vmsize("before");
	for (i = 0; i < n; i++) {
		pthread_t t;
		int err = pthread_create(&t, NULL, thread_fn, NULL);

		if (err) {
			fprintf(stderr, "pthread_create: error %d\n", err);
			return 1;
		}
		/* LEAK: neither pthread_join(t, NULL) nor pthread_detach(t) */
	}
	wait_for_threads_to_exit();
	example_print_vmsize("after");
	return 0;
}
