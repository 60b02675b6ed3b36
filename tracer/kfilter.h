/* tracer/kfilter.h - the in-kernel filter of attach mode's machine-wide kernel
 * events: a BPF hash map of the followed processes (thread-group ids) and a
 * small BPF program, attached to a tracepoint's perf event, that lets through
 * only the records of those processes. Threads a followed process creates are
 * let through from their first instruction (same thread-group id); a new
 * process (fork, vfork, clone without CLONE_THREAD) must be added before it
 * runs. The map is shared by every vmleak run on the machine (kfilter.c). */
#ifndef VMLEAK_TRACER_KFILTER_H
#define VMLEAK_TRACER_KFILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct kfilter;

/* The map and, if program, the program; NULL with a reason in why
 * ("bpf(BPF_PROG_LOAD): Operation not permitted") when the kernel refuses
 * them. Without the program, kfilter_add only lets our processes through
 * another vmleak run's filter. */
struct kfilter *kfilter_new(bool program, char *why, size_t whylen);
/* Filter the records of the tracepoint behind perf event fd. The filter
 * applies to every perf event of that tracepoint on the machine (the kernel
 * keeps BPF programs per tracepoint): attach it through one event only. */
int kfilter_attach(struct kfilter *f, int perf_fd);
/* Let the records of process tgid through (until kfilter_free). 0, or
 * -errno (-E2BIG: the map is full even without the processes that are gone). */
int kfilter_add(struct kfilter *f, pid_t tgid);
/* Another tool's BPF program is on the tracepoint of perf_fd (its name in
 * name): the kernel records a sample only when every program on the
 * tracepoint agrees, so it may hide events from vmleak. */
bool kfilter_foreign(int perf_fd, char *name, size_t len);
/* Take our processes out of the map, close the program and the map (the kernel
 * drops them with the last event and the last run using them). */
void kfilter_free(struct kfilter *f);

#endif
