/* tracer/signals.c - flag-setting handlers and the 100 ms interval timer. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "tracer/signals.h"
#include "tracer/tracer.h"

static volatile sig_atomic_t pending_flags;
static volatile sig_atomic_t pending_forward;
static pid_t launched;
static double started, deadline, every, next_interval;

static void on_stop(int sig)
{
	(void)sig;
	pending_flags |= SIGNALS_STOP;
}

static void on_forward(int sig)
{
	pending_forward = sig;
}

static void on_usr1(int sig)
{
	(void)sig;
	pending_flags |= SIGNALS_REPORT;
}

static void on_alarm(int sig)
{
	(void)sig;
	pending_flags |= SIGNALS_TICK;
}

static void set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: waitpid must return EINTR */
	sigaction(sig, &sa, NULL);
}

int signals_install(bool launch, pid_t child, double duration, double interval)
{
	struct itimerval it = {{0, 100000}, {0, 100000}};

	launched = child;
	started = now_seconds();
	deadline = duration > 0 ? started + duration : 0;
	every = interval > 0 ? interval : 0;
	next_interval = every ? started + every : 0;
	if (launch) {
		set_handler(SIGINT, SIG_IGN);
		set_handler(SIGQUIT, SIG_IGN);
		set_handler(SIGTERM, on_forward);
		set_handler(SIGHUP, on_forward);
	} else {
		set_handler(SIGINT, on_stop);
		set_handler(SIGTERM, on_stop);
		set_handler(SIGHUP, on_stop);
	}
	set_handler(SIGUSR1, on_usr1);
	set_handler(SIGALRM, on_alarm);
	set_handler(SIGPIPE, SIG_IGN);
	if (setitimer(ITIMER_REAL, &it, NULL))
		return -errno;
	return 0;
}

void signals_forward(void)
{
	int sig = pending_forward;

	if (sig && launched > 0) {
		pending_forward = 0;
		kill(launched, sig);
	}
}

void signals_hold(sigset_t *old)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, old);
}

void signals_release(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

int signals_take(void)
{
	sigset_t old;
	int f;

	if (!pending_flags && !pending_forward)
		return 0; /* the hot path: once per ptrace stop */
	/* read and clear without losing a flag a handler sets in between */
	signals_hold(&old);
	f = pending_flags;
	pending_flags = 0;
	sigprocmask(SIG_SETMASK, &old, NULL);
	signals_forward();
	if (f & SIGNALS_TICK) {
		double now = now_seconds();
		if (deadline && now >= deadline)
			f |= SIGNALS_STOP;
		if (next_interval && now >= next_interval) {
			f |= SIGNALS_INTERVAL;
			while (next_interval <= now)
				next_interval += every;
		}
	}
	return f;
}
