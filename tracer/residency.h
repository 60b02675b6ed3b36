/* tracer/residency.h - how much of each traced region is in RAM and in swap:
 * counted page by page from /proc/PID/pagemap (one pread per region, through a
 * reused buffer of 256 MiB of address space; regions up to RES_PAGEMAP_MAX take
 * one pread per buffer-full), or from /proc/PID/smaps where pagemap cannot be
 * read and for larger regions (a reservation of terabytes would take seconds
 * of pagemap: smaps costs one line per VMA). Measured per
 * address space at each report (live ones) and at a process's exit (before the
 * kernel frees its memory), in a table of 8 bytes a region. */
#ifndef VMLEAK_TRACER_RESIDENCY_H
#define VMLEAK_TRACER_RESIDENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"

struct addr_space;

/* The figures of an address space's regions: rows 0..n are its traced regions
 * (REGION_TRACED, in ledger order, the order ledger_foreach visits them), rows
 * n..n + ninherited its fork copies (REGION_INHERITED, in ledger order too).
 * v[2k] is row k's resident pages + 1 (0 = no figure), v[2k + 1] its swapped
 * pages. 8 bytes a region, kept only for a process that has exited (measured
 * at its exit); a live one's is measured at each report and freed after it. */
struct res_table {
	uint32_t *v;
	size_t n;	   /* traced regions */
	size_t ninherited; /* fork copies */
	bool measured;
};

#define RES_PAGEMAP_MAX (1ULL << 30) /* bytes: larger regions are counted from smaps */
#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_SWAPPED (1ULL << 62)

/* Count the present and swapped entries of a pagemap buffer (pure). */
void pagemap_count(const uint64_t *entries, size_t n, uint64_t *present, uint64_t *swapped);

/* Measure every traced region of as (its ledger, read through /proc/as->pid)
 * into as->res. Returns 0, or -errno when neither pagemap nor smaps could be
 * read (the process is gone; the table then holds no figures). */
int residency_measure(struct addr_space *as);
void residency_free(struct res_table *tab);

/* Row k's figure (the k-th traced region; n + j: the j-th fork copy); false
 * when it has none. */
static inline bool residency_at(const struct res_table *tab, size_t k, struct region_residency *out)
{
	if (!tab->measured || k >= tab->n + tab->ninherited || !tab->v[2 * k])
		return false;
	out->resident = (uint64_t)(tab->v[2 * k] - 1) * LEDGER_PAGE_SIZE;
	out->swapped = (uint64_t)tab->v[2 * k + 1] * LEDGER_PAGE_SIZE;
	return true;
}

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
