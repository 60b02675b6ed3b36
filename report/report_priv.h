/* report/report_priv.h - private to report/: the grouped report (struct report_ctx:
 * sites, per-pid and per-category totals) that report.c builds and each writer
 * (write_text.c, write_json.c, write_folded.c) turns into words, plus the small
 * helpers they share. Not part of the public API (report.h). */
#ifndef VMLEAK_REPORT_REPORT_PRIV_H
#define VMLEAK_REPORT_REPORT_PRIV_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "report/report.h"

/* One call site: regions sharing a key, plus what resolve said about it. */
struct site {
	const struct region **regs; /* into the sorted region list, by time */
	size_t n;
	uint64_t bytes;
	uint64_t min_len, max_len;
	uint32_t first_ms, last_ms;
	struct frame_info *frames; /* our copy of the resolver's array */
	size_t nframes;
	size_t callsite;
	enum site_category category;
	bool suppressed;
	/* residency: sums over the regions that have a figure */
	uint64_t resident, swapped;
	size_t res_known;		     /* regions with a figure */
	const struct history_series *series; /* NULL: not tracked */
	struct trend trend;
};

struct pid_total {
	int32_t pid;
	size_t regions;
	uint64_t bytes;
};

/* Everything the writers need, computed once. */
struct report_ctx {
	FILE *out;
	const struct report_data *d;
	const struct report_options *o;
	const struct region **regs; /* d->regions, filtered and sorted by site key then time */
	size_t nregs;
	struct site *sites; /* kept sites, sorted by bytes */
	size_t nsites;
	size_t unsup_sites, unsup_regions;
	uint64_t unsup_bytes;
	size_t sup_regions;
	uint64_t sup_bytes;
	size_t cat_regions[CAT_COUNT];
	uint64_t cat_bytes[CAT_COUNT];
	struct pid_total *pids; /* pids with unsuppressed regions, by pid */
	size_t npids;
	/* unsuppressed regions the filters left out, by filter */
	size_t young_regions, small_regions;
	uint64_t young_bytes, small_bytes;
	/* unsuppressed regions of processes that exited (hide_exited) */
	size_t exited_regions, exited_procs;
	uint64_t exited_bytes;
	/* with d->residency: orig[j] is regs[j]'s index in d->regions as given */
	uint32_t *orig;
	/* residency of the unsuppressed sites' regions that have a figure */
	uint64_t unsup_resident, unsup_swapped;
	size_t unsup_res_known;
};

/* The writers: each turns the grouped report into its format on c->out. */
void write_text(struct report_ctx *c);
void write_json(struct report_ctx *c);
void write_folded(struct report_ctx *c);
void write_html(struct report_ctx *c);

/* ---- helpers shared by the writers ---- */

static inline uint64_t region_len(const struct region *r)
{
	return r->end - r->start;
}

static inline const char *kind_name(unsigned kind)
{
	switch (kind) {
	case REGION_ANON:
		return "anon";
	case REGION_FILE:
		return "file";
	case REGION_SHM:
		return "shm";
	case REGION_BRK:
		return "brk";
	}
	return "unknown";
}

static inline const char *op_name(unsigned op)
{
	if (op >= MEM_OP_COUNT)
		return "none";
	return mem_op_name((enum mem_op)op);
}

static inline const char *region_path(const struct report_data *d, const struct region *r)
{
	if (!r->path || !d->paths)
		return NULL;
	return strtab_get(d->paths, r->path);
}

static inline const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

static inline double finite_or_zero(double v)
{
	return isfinite(v) && v > 0 ? v : 0;
}

static inline long proc_index(const struct report_data *d, int32_t pid)
{
	for (size_t i = 0; i < d->nprocs; i++)
		if (d->procs[i].pid == pid)
			return (long)i;
	return -1;
}

static inline const char *pid_exe(const struct report_data *d, int32_t pid)
{
	long i = proc_index(d, pid);

	return i < 0 ? NULL : d->procs[i].exe;
}

static inline int32_t region_pid(const struct report_data *d, const struct region *r)
{
	return d->pid_of ? d->pid_of(d->pid_ctx, r) : r->tid;
}

/* A JSON string for any bytes (write_json.c): control characters escaped,
 * invalid UTF-8 as U+FFFD; NULL writes null. */
void json_str(FILE *f, const char *str);
/* Length of the valid UTF-8 sequence at s (n bytes available), 0 when invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* The region's flags as '|'-joined names; "" when it has none worth naming. */
void region_flags_string(char *buf, size_t size, const struct region *r);
/* The distinct pids of a site's regions, sorted, in a malloc'd array (*out);
 * returns how many, or 0 with *out NULL when out of memory. */
size_t site_pids(const struct report_data *d, const struct site *s, int32_t **out);
/* The residency of the region at slot (a pointer into c->regs): false when
 * it has none. */
static inline bool region_residency_at(const struct report_ctx *c, const struct region *const *slot,
				       struct region_residency *out)
{
	if (!c->d->residency || !c->orig)
		return false;
	return c->d->residency(c->d->residency_ctx, c->orig[slot - c->regs], out);
}
/* The per-pid totals entry of pid, NULL when it holds no unsuppressed region. */
const struct pid_total *find_pid_total(const struct report_ctx *c, int32_t pid);
/* "12 mmap, 1 munmap, 3 brk" (nonzero counts; "no memory calls" when none);
 * returns how many counts were written. Plain text, also valid in HTML. */
size_t event_counts(FILE *f, const struct report_data *d);

#endif
