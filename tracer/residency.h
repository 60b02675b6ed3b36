/* tracer/residency.h - how much of each traced region is in RAM and in swap:
 * counted page by page from /proc/PID/pagemap (one pread per region, through a
 * reused buffer of 256 MiB of address space; regions up to RES_PAGEMAP_MAX take
 * one pread per buffer-full), or from /proc/PID/smaps where pagemap cannot be
 * read and for larger regions (a reservation of terabytes would take seconds
 * of pagemap: smaps costs one line per VMA). Measured per
 * address space at each report (live ones) and at a process's exit (before the
 * kernel frees its memory); kept in the address space's res_table. */
#ifndef VMLEAK_TRACER_RESIDENCY_H
#define VMLEAK_TRACER_RESIDENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"

struct addr_space;

/* One measured region, in pages (20 bytes: the table of an exited process is
 * kept until the final report); resident == RES_NO_FIGURE: none. */
#define RES_NO_FIGURE UINT32_MAX
struct __attribute__((packed, aligned(4))) res_row {
	uint64_t start;
	uint32_t pages;
	uint32_t resident, swapped;
};

struct res_table {
	struct res_row *v;
	size_t n, cap;
	bool measured; /* the rows are figures (false: never measured, or the kernel refused) */
};

#define RES_PAGEMAP_MAX (1ULL << 30) /* bytes: larger regions are counted from smaps */
#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_SWAPPED (1ULL << 62)

/* Count the present and swapped entries of a pagemap buffer (pure). */
void pagemap_count(const uint64_t *entries, size_t n, uint64_t *present, uint64_t *swapped);

/* Measure every traced region of as (its ledger, read through /proc/as->pid).
 * Returns 0, or -errno when neither pagemap nor smaps could be read (the table
 * then holds no figures). */
int residency_measure(struct addr_space *as);
/* Drop a live address space's figures once the report is written. */
void residency_forget(struct res_table *tab);
/* r's figure in as's table (the same start and end), false when none. */
bool residency_lookup(const struct res_table *tab, const struct region *r,
		      struct region_residency *out);
void residency_free(struct res_table *tab);

/* The cost of a measure: regions and pread calls of the last one (bench/). */
struct residency_stats {
	size_t regions, preads, from_smaps;
	uint64_t pages;
};
void residency_last_stats(struct residency_stats *out);

/* smaps fallback, pure: the Rss and Swap of each VMA of an smaps text, apportioned
 * to [start, end) by overlap. */
struct smaps_vma {
	uint64_t start, end;
	uint64_t rss, swap; /* bytes */
};
/* Parse smaps text into *out (malloc'd); returns the count, or -1. */
long smaps_parse(const char *text, struct smaps_vma **out);
void smaps_apportion(const struct smaps_vma *v, size_t n, uint64_t start, uint64_t end,
		     uint64_t *resident, uint64_t *swapped);

#endif
