/* decoder/ledger.h - the live regions of one address space, keyed by address.
 * Pure data structure: page granular, Linux mapping semantics, O(log n) per
 * operation. One ledger per address space (threads and CLONE_VM children share
 * one; fork copies it; exec clears it). */
#ifndef VMLEAK_DECODER_LEDGER_H
#define VMLEAK_DECODER_LEDGER_H

#include <stddef.h>
#include <stdint.h>

/* The ledger's granularity, a compile-time constant so that its alignment checks
 * are masks: the page size of x86_64, the only architecture the tracer supports
 * (CMakeLists.txt refuses others). The tracer refuses to run where
 * sysconf(_SC_PAGESIZE) differs (tracer/main.c), and tests/check_ledger.c checks
 * the constant against the build machine's page size. */
#define LEDGER_PAGE_SIZE     4096ULL
#define LEDGER_PAGE_ALIGN(x) (((x) + LEDGER_PAGE_SIZE - 1) & ~(LEDGER_PAGE_SIZE - 1))

enum region_kind {
	REGION_ANON = 0,
	REGION_FILE,
	REGION_SHM,
	REGION_BRK,
};

enum region_origin {
	REGION_TRACED = 0,  /* created by a traced syscall */
	REGION_PREEXISTING, /* seeded from /proc/PID/maps at attach; never reported */
	REGION_INHERITED,   /* a fork child's copy of a traced region: counted only
			     * where no ancestor still holds the original */
};

/* One live region. 44 bytes (packed on 4-byte alignment: x86 loads unaligned
 * 64-bit words at no cost): the ledger must stay within 64 bytes per region. */
struct __attribute__((packed, aligned(4))) region {
	uint64_t start;	     /* page aligned */
	uint64_t end;	     /* page aligned, exclusive */
	uint32_t site;	     /* interned backtrace id (report/stacks.h); 0 = none */
	uint32_t first_site; /* remapped region: the site of the call that first mapped it */
	uint32_t path;	     /* interned path id (decoder/strtab.h); 0 = none */
	uint32_t flags;	     /* MAP_* of the creating mmap; SHM_* for shmat */
	uint32_t time_ms;    /* milliseconds since tracing began */
	int32_t tid;	     /* creating thread */
	uint8_t prot;	     /* PROT_* */
	uint8_t op;	     /* enum mem_op of the creating syscall */
	uint8_t kind;	     /* enum region_kind */
	uint8_t origin;	     /* enum region_origin */
};

/* A growable array of regions (pieces taken out of a ledger, snapshots). */
struct region_vec {
	struct region *v;
	size_t n, cap;
};

int region_vec_push(struct region_vec *vec, const struct region *r); /* 0 or -ENOMEM */
void region_vec_reset(struct region_vec *vec);			     /* n = 0, keeps memory */
void region_vec_free(struct region_vec *vec);

struct ledger;

struct ledger *ledger_new(void);
void ledger_free(struct ledger *l);
/* fork: deep copy incl. brk state; traced regions become REGION_INHERITED copies
 * (same site, time and creating thread as the original). */
struct ledger *ledger_copy(const struct ledger *l);
void ledger_clear(struct ledger *l); /* exec: no regions, brk unset */

/* Insert r (end rounded up to a page) after removing whatever overlaps it
 * (MAP_FIXED semantics, or an mmap landing where the ledger still has a region).
 * Returns 0, -EINVAL for an empty, unaligned or wrapping range, -ENOMEM. */
int ledger_insert(struct ledger *l, const struct region *r);

/* Remove [start, start + PAGE_ALIGN(len)), splitting regions it cuts through and
 * ignoring pages it never knew. The removed pieces (clipped copies) are appended
 * to out when out is not NULL. Returns the bytes removed. Wrapping or unaligned
 * start removes nothing. */
uint64_t ledger_take(struct ledger *l, uint64_t start, uint64_t len, struct region_vec *out);

/* Undo of a failed removal: re-insert pieces, but only into pages that are still
 * holes (anything newer that overlaps wins). */
void ledger_put_back(struct ledger *l, const struct region_vec *pieces);

/* Finish a successful mremap whose old range [old_addr, old_addr + old_len) was
 * taken into pieces at the syscall's entry; proto describes the resizing call
 * (site, tid, time, op; its start/end are ignored). Whatever the new range
 * overlapped is replaced. MREMAP_DONTUNMAP (or old_len == 0) keeps the old range
 * mapped.
 * A traced region remapped is one region, as in the kernel: it covers the whole
 * new range, keeps its kind, prot, flags and path, and belongs to its latest
 * resizing call (proto's site, tid, time and op), with first_site keeping the
 * site that first mapped it. A pre-existing region (attach mode) moves as it is
 * and only its growth is a new region described by proto (with the old region's
 * kind, prot, flags and path); so does an old range the ledger did not know.
 * Returns 0, -EINVAL (unaligned address, zero new length, a range that wraps:
 * nothing changes) or -ENOMEM. */
int ledger_mremap_finish(struct ledger *l, const struct region_vec *pieces, uint64_t old_addr,
			 uint64_t old_len, uint64_t new_addr, uint64_t new_len, unsigned flags,
			 const struct region *proto);

/* One-shot mremap: ledger_take + ledger_mremap_finish. */
int ledger_mremap(struct ledger *l, uint64_t old_addr, uint64_t old_len, uint64_t new_addr,
		  uint64_t new_len, unsigned flags, const struct region *proto);

/* Seed the program break (start_brk from /proc/PID/stat, current from sbrk(0)). */
void ledger_set_brk(struct ledger *l, uint64_t start_brk, uint64_t cur_brk);
/* Apply the break returned by brk(2). Growth adds [PAGE_ALIGN(cur), PAGE_ALIGN(new))
 * as a REGION_BRK described by proto; shrink removes [PAGE_ALIGN(new),
 * PAGE_ALIGN(cur)); a break below start_brk or an unset brk only records new.
 * Returns 0 or -ENOMEM. */
int ledger_brk(struct ledger *l, uint64_t new_brk, const struct region *proto);
uint64_t ledger_brk_start(const struct ledger *l); /* 0 = unset */
uint64_t ledger_brk_current(const struct ledger *l);

/* shmdt: remove the REGION_SHM region that starts at addr (the whole segment).
 * Pieces go to out (may be NULL). Returns bytes removed (0: no segment there). */
uint64_t ledger_take_shm(struct ledger *l, uint64_t addr, struct region_vec *out);

/* The region containing addr, or NULL. The pointer is valid until the next change. */
const struct region *ledger_find(const struct ledger *l, uint64_t addr);

/* The first region that ends above addr (it may contain addr), or NULL: with
 * ledger_find, walks the regions overlapping a range. Valid until the next change. */
const struct region *ledger_first_after(const struct ledger *l, uint64_t addr);

/* Visit regions in address order; a nonzero return from fn stops and is returned. */
typedef int (*ledger_visit_fn)(const struct region *r, void *arg);
int ledger_foreach(const struct ledger *l, ledger_visit_fn fn, void *arg);

/* -ENOMEM once any change could not be applied exactly (a region or a removed
 * piece lost for want of memory; sticky, inherited by ledger_copy), else 0. */
int ledger_error(const struct ledger *l);

size_t ledger_count(const struct ledger *l);
uint64_t ledger_bytes(const struct ledger *l);
size_t ledger_memory(const struct ledger *l); /* bytes the ledger itself uses */

/* Totals by site id. */
struct site_total {
	uint32_t site;
	size_t regions;
	uint64_t bytes;
};
/* Fills *out (malloc'd, sorted by site id) and returns how many, or -ENOMEM. */
long ledger_totals_by_site(const struct ledger *l, struct site_total **out);

#endif
