/* tracer/unwind.h - remote backtraces of a ptrace-stopped thread: raw PCs at
 * capture time (fast, cached per address space), module + offset of each frame
 * when a stack is first interned. Backends: libunwind-ptrace with custom
 * accessors (default) or elfutils' libdw unwinder. */
#ifndef VMLEAK_TRACER_UNWIND_H
#define VMLEAK_TRACER_UNWIND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "decoder/strtab.h"
#include "report/stacks.h"
#include "tracer/cli.h"

struct unwinder;

/* One per address space; pid = a stopped, live task of that mm (each capture then
 * reads through the thread it is given, so a zombie thread-group leader or a
 * thread that exits later does not matter); modules = interned module paths. NULL
 * on failure. After an exec, free the address space's unwinder and make a new one. */
struct unwinder *unwinder_new(enum unwinder_kind kind, pid_t pid, struct strtab *modules);
void unwinder_free(struct unwinder *u);

/* tid (a task of that mm) is in a ptrace-stop (a syscall-exit stop of mmap etc.).
 * Writes up to max absolute PCs, innermost first. Returns the count (0 on failure). */
unsigned unwinder_capture(struct unwinder *u, pid_t tid, uint64_t *pcs, unsigned max);

/* Fill module + offset of every frame of a newly interned stack (stacks_set_module).
 * Call it right after stacks_intern said is_new, while the mappings are unchanged. */
void unwinder_describe(struct unwinder *u, struct stack_table *t, uint32_t id);

/* The mm's mappings changed: an executable file mapping appeared ([start,end),
 * exec=true), or a range was unmapped / moved (exec=false); the unwinder decides
 * whether its module map and caches are stale (only if the range overlaps a known
 * module, or exec). Cheap: the refresh happens lazily at the next capture. */
void unwinder_mapping_changed(struct unwinder *u, uint64_t start, uint64_t end, bool exec);

/* -ENOMEM once the unwinder lost part of its module map or a module's unwind
 * tables for want of memory (sticky: its backtraces are no longer exact), else 0.
 * unwinder_new fails with errno ENOMEM when that is why. */
int unwinder_error(const struct unwinder *u);

/* Counters for benchmarks and tests. */
struct unwinder_stats {
	uint64_t captures;
	uint64_t maps_reads; /* /proc/PID/maps parses */
	uint64_t mem_reads;  /* process_vm_readv calls */
	uint64_t peeks;	     /* PTRACE_PEEKDATA fallbacks */
	uint64_t proc_infos; /* find_proc_info calls (libunwind cache misses) */
};
void unwinder_get_stats(const struct unwinder *u, struct unwinder_stats *out);
enum unwinder_kind unwinder_get_kind(const struct unwinder *u);

#endif
