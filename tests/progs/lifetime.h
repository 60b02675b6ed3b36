/* tests/progs/lifetime.h - a bounded lifetime for the test helper programs: each
 * calls lifetime_limit() first thing in main, and a POSIX timer then kills it
 * with SIGKILL after LIFETIME_SECONDS (the integration tests' ctest TIMEOUT), so
 * that a helper a test failed to stop (stopped, detached by a killed strace,
 * reparented to init) cannot run on after the suite. CLOCK_MONOTONIC and SIGKILL
 * rather than alarm(): a program's own SIGALRM, ITIMER_REAL and signal handlers
 * stay its own, and a stopped or traced process dies too. The timer is not
 * inherited by fork children and is re-armed when an exec runs main again. */
#ifndef VMLEAK_TESTS_PROGS_LIFETIME_H
#define VMLEAK_TESTS_PROGS_LIFETIME_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define LIFETIME_SECONDS 300

static void lifetime_limit(void)
{
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGKILL};
	struct itimerspec its = {.it_value = {.tv_sec = LIFETIME_SECONDS}};
	timer_t id;

	if (timer_create(CLOCK_MONOTONIC, &ev, &id) || timer_settime(id, 0, &its, NULL)) {
		perror("lifetime_limit: timer");
		exit(70);
	}
}

#endif
