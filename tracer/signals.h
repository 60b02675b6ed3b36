/* tracer/signals.h - vmleak's own signals: stop (SIGINT/SIGTERM/SIGHUP in attach
 * mode), interim report (SIGUSR1), forwarding to the launched program, and a
 * 100 ms tick that drives -d, --interval and the status line. Handlers only set
 * flags; the loop acts on them. */
#ifndef VMLEAK_TRACER_SIGNALS_H
#define VMLEAK_TRACER_SIGNALS_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

enum {
	SIGNALS_STOP = 1,     /* finish tracing and report */
	SIGNALS_REPORT = 2,   /* write an interim report */
	SIGNALS_INTERVAL = 4, /* --interval elapsed */
	SIGNALS_TICK = 8,     /* 100 ms passed */
};

/* launch: SIGINT/SIGQUIT are ignored (the terminal sends them to the program
 * too) and SIGTERM/SIGHUP are forwarded to child. attach: they stop tracing.
 * duration (< 0: none) and interval (< 0: none) are in seconds. */
int signals_install(bool launch, pid_t child, double duration, double interval);
/* The flags raised since the last call (and the tick's deadline checks). */
int signals_take(void);
/* Forward any pending SIGTERM/SIGHUP to the launched program. */
void signals_forward(void);
/* Hold the signals above while a report or a log line is written: their
 * handlers have no SA_RESTART (waitpid must return), so one arriving while a
 * write waits for a slow reader (a pipe into a pager) would cut it with EINTR.
 * Held signals are delivered by signals_release. */
void signals_hold(sigset_t *old);
void signals_release(const sigset_t *old);

#endif
