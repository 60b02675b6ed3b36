/* tracer/affinity.h - launch mode: the tracer sits (at idle priority) on the CPU
 * of the one thread that keeps stopping, so a ptrace stop wakes a task on the
 * same CPU instead of sending an IPI to a halted vCPU (../shared/notes/
 * benchmarks.md: several times cheaper on idle VMs). Only the tracer's own
 * affinity and priority change, never the program's. */
#ifndef VMLEAK_TRACER_AFFINITY_H
#define VMLEAK_TRACER_AFFINITY_H

#include <stdbool.h>
#include <sys/types.h>

struct affinity;

/* NULL with one CPU, or when the tracer could not leave SCHED_IDLE again. */
struct affinity *affinity_new(void);
void affinity_free(struct affinity *a);
/* Called at every stop: O(1), no syscalls. */
void affinity_saw_stop(struct affinity *a, pid_t tid);
/* Called on the 100 ms tick: follow the thread that made every stop of the last
 * period, or let the kernel place the tracer when several threads share the work. */
void affinity_tick(struct affinity *a);

#endif
