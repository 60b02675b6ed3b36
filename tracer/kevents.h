/* tracer/kevents.h - attach mode's kernel event source: the syscall tracepoints
 * of the memory calls (perf_event_open, PERF_TYPE_TRACEPOINT) read from per-CPU
 * ring buffers by a reader thread, and applied to the ledgers in the order of
 * their timestamps, while ptrace only follows clone/exec/exit and job control. */
#ifndef VMLEAK_TRACER_KEVENTS_H
#define VMLEAK_TRACER_KEVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct tracer;
struct task;
struct kevents;
struct ledger;
struct unwind_sample;

/* Find the tracepoints (tracefs, mounted in a private mount namespace when it
 * is not mounted) and check that perf_event_open accepts them. NULL with a
 * reason in why ("perf_event_open: Permission denied", ...) when the kernel
 * path cannot work. depth = backtrace frames wanted (0: no stack copies). */
struct kevents *kevents_new(unsigned depth, char *why, size_t whylen);

/* Follow one thread of an attached process: per-thread events are opened on
 * all CPUs, inherited by its future threads and children; machine-wide events
 * let its thread group through the filter. The thread must be stopped. 0, or
 * -errno with why filled. */
int kevents_open_task(struct kevents *k, pid_t tid, char *why, size_t whylen);

/* A new process (fork, vfork, clone without CLONE_THREAD) of a followed one,
 * before it runs: its events must reach us (machine-wide events). 0, or -errno
 * after tracer_oom (recording stops rather than miss its calls). */
int kevents_follow(struct tracer *t, pid_t tgid);

/* One line on out when another tool's BPF program sits on one of our
 * tracepoints (it can hide samples from us; tracer/kfilter.h). */
void kevents_warn_foreign(const struct kevents *k, FILE *out);

/* Start the reader thread (after every event is open). 0 or -errno. */
int kevents_start(struct kevents *k);

/* Apply the events old enough that no CPU can still be writing an earlier one,
 * a batch at a time: true when more are ready. */
bool kevents_process(struct tracer *t);
/* Drain every buffer now and apply everything: the caller holds a tracee in a
 * ptrace-stop and needs the ledgers up to date (exit, exec, fork, detach). */
void kevents_sync(struct tracer *t);
/* Stop the reader, disable every event, apply what they recorded and close
 * them, but for the ones that hold the BPF filter (slow to close: they are
 * disabled, and nothing stays in the tracees). */
void kevents_close(struct tracer *t);
/* Close the rest and free the filter: after the tracees were let go. */
void kevents_release(struct tracer *t);
void kevents_free(struct kevents *k);

/* The fork copy of the parent's ledger made when the ordered stream reached the
 * child's creation (task_newtask), or NULL. Call after kevents_sync. */
struct ledger *kevents_take_fork_copy(struct kevents *k, pid_t parent, pid_t child);

/* Records the kernel dropped (PERF_RECORD_LOST) or we could not parse. */
uint64_t kevents_lost(const struct kevents *k);
/* Backtraces dropped because the queue was over its memory cap. */
uint64_t kevents_stacks_dropped(const struct kevents *k);
/* Events are queued that could not be applied yet. */
bool kevents_pending(const struct kevents *k);
/* The tracees produce events faster than they are consumed: hold them. */
bool kevents_pressure(const struct kevents *k);
/* An fd that becomes readable when the reader queued new events. */
int kevents_wake_fd(const struct kevents *k);

/* The sample being applied (registers and stack copy), for the unwinder. */
const struct unwind_sample *kevents_current_sample(const struct kevents *k);

#endif
