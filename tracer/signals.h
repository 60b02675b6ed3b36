/* tracer/signals.h - vmleak's own signals: stop (SIGINT/SIGTERM/SIGHUP in attach
 * mode), interim report (SIGUSR1), forwarding to the launched program, and a
 * 100 ms tick that drives -d, --interval and the status line. Handlers only set
 * flags; the loop acts on them. */
#ifndef VMLEAK_TRACER_SIGNALS_H
#define VMLEAK_TRACER_SIGNALS_H

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

#endif
