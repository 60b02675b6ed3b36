/* tracer/unwind_priv.h - private to the unwinder: struct unwinder, the module map
 * (tracer/modmap.c: /proc/PID/maps -> modules and ranges, shared by both backends)
 * and the backend interface that tracer/unwind.c dispatches to, one file per
 * backend: tracer/unwind_libunwind.c, tracer/unwind_libdw.c. */
#ifndef VMLEAK_TRACER_UNWIND_PRIV_H
#define VMLEAK_TRACER_UNWIND_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "tracer/unwind.h"

struct unw_addr_space; /* libunwind's unw_addr_space_t */
struct Dwfl;	       /* elfutils' Dwfl */

/* The libunwind backend reads tracee memory in aligned blocks of this size: a
 * cache granularity, not the machine's page size (an aligned 4 KiB block never
 * straddles a page of any size the kernel uses, so a block is readable whenever
 * the word asked for is). */
#define CACHE_BLOCK_BYTES 4096ULL
#define CACHE_BLOCK_MASK  (~(CACHE_BLOCK_BYTES - 1))
#define PAGE_CACHE_SLOTS  8

struct map_range {
	uint64_t start, end;
	size_t module; /* index into modules */
};

struct module {
	uint32_t path;	   /* strtab id */
	uint32_t build_id; /* strtab id of its hex GNU build-id; 0 = none found */
	uint64_t bias;	 /* load bias: pc - bias = ELF address */
	uint64_t base;	 /* lowest mapping of the file */
	bool unwindable; /* a 64-bit x86 ELF image libunwind may open */
	void *upt;	 /* libunwind backend: the UPT handle keeping this module's image */
	uint64_t lo, hi; /* span of all its mappings */
};

struct cached_page {
	uint64_t page;
	uint64_t gen; /* valid when == unwinder gen */
	unsigned char data[CACHE_BLOCK_BYTES];
};

struct unwinder {
	enum unwinder_kind kind;
	const struct unwind_backend *backend;
	pid_t pid;
	struct strtab *modules_tab;
	/* module map */
	struct module *mods;
	size_t nmods;
	struct map_range *ranges; /* sorted by start */
	size_t nranges;
	bool stale;   /* re-read /proc/PID/maps before the next use */
	bool retried; /* an unknown IP already caused a re-read since the last change */
	bool oom;     /* lost part of the module map or unwind tables (unwinder_error) */
	/* per capture */
	pid_t tid;
	uint64_t gen;
	bool regs_valid;
	struct user_regs_struct regs;
	struct cached_page pages[PAGE_CACHE_SLOTS];
	unsigned next_victim;
	/* libunwind */
	struct unw_addr_space *as;
	/* libdw */
	struct Dwfl *dwfl;
	bool dwfl_stale;
	struct unwinder_stats stats;
};

/* One unwinding backend. init runs after the first module map read; capture
 * unwinds u->tid (registers and memory are the backend's business); maps_changed
 * follows every re-read of the module map; module_gone frees a module's upt. */
struct unwind_backend {
	int (*init)(struct unwinder *u);
	void (*fini)(struct unwinder *u);
	unsigned (*capture)(struct unwinder *u, uint64_t *pcs, unsigned max);
	void (*maps_changed)(struct unwinder *u);
	void (*module_gone)(struct unwinder *u, struct module *m);
};
extern const struct unwind_backend unwind_libunwind;
extern const struct unwind_backend unwind_libdw;

/* ---- the module map (tracer/modmap.c) ---- */

/* len bytes at addr of u->tid through process_vm_readv; 0 or -1. */
int read_remote(struct unwinder *u, uint64_t addr, void *buf, size_t len);
/* Re-read /proc/PID/maps. File mappings become modules (one per path); the
 * backend handles of modules that did not move are kept. */
int refresh_modules(struct unwinder *u);
/* Free the module map and the modules' backend handles. */
void drop_modules(struct unwinder *u);
/* The module holding addr; an unknown addr re-reads the maps once per change. */
struct module *module_at(struct unwinder *u, uint64_t addr);

#endif
