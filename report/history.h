/* report/history.h - growth of each call site over the trace: a bounded series
 * of (time, live bytes, resident bytes) points per site, and the trend read from
 * it ("growing 40.0 KiB every 11.0 s", "grew to 1.0 MiB by +2.0 s, then flat").
 * Pure data: the tracer measures and records samples, the report reads them.
 *
 * Bounded for a trace of hours: at most HISTORY_MAX_SITES sites have a series
 * (the largest by live bytes; the others are summed in one "other" series), and
 * a series holds at most HISTORY_MAX_POINTS points: when it is full, pairs of
 * points are merged (the later one is kept, a point with a resident figure wins)
 * and the spacing of optional samples doubles. Memory: history_memory(). */
#ifndef VMLEAK_REPORT_HISTORY_H
#define VMLEAK_REPORT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_MAX_POINTS 128
#define HISTORY_MAX_SITES  64
#define HISTORY_MIN_STRIDE 250 /* ms between optional samples of a new series */
#define HISTORY_NO_FIGURE  UINT64_MAX

/* A site as the report groups regions: the canonical stack id
 * (report/stacks.h stacks_canonical) and the creating call's op, kind, prot
 * and flags. */
struct history_key {
	uint32_t site;
	uint32_t flags;
	uint8_t op, kind, prot;
};

struct history_point {
	uint32_t t_ms;	   /* since tracing began */
	uint64_t bytes;	   /* live bytes of the site */
	uint64_t resident; /* resident bytes, HISTORY_NO_FIGURE when not measured */
};

struct history_series {
	struct history_key key;
	struct history_point pts[HISTORY_MAX_POINTS];
	size_t n;
	uint32_t stride_ms; /* optional samples closer than this to the last point are skipped */
};

/* What one sample says about one site. */
struct history_sample {
	struct history_key key;
	uint64_t bytes;
	uint64_t resident; /* HISTORY_NO_FIGURE when not measured */
};

struct history;

struct history *history_new(void);
void history_free(struct history *h);

/* Record a sample taken at t_ms: every site with live bytes (s[0..n), keys
 * distinct, any order). Tracked sites absent from s are at 0 bytes. A forced
 * sample (an --interval tick, a report) adds a point to every series; an
 * optional one (the cheap periodic sample) only to series whose last point is
 * at least their stride old. Returns 0 or -ENOMEM (the history stays valid). */
int history_record(struct history *h, uint32_t t_ms, const struct history_sample *s, size_t n,
		   bool forced);

/* The series of a site, NULL when the site is not tracked. */
const struct history_series *history_find(const struct history *h, const struct history_key *k);
/* The sum of the sites without a series of their own (empty when none). */
const struct history_series *history_other(const struct history *h);
size_t history_nseries(const struct history *h);
/* Bytes the history uses: bounded by HISTORY_MAX_SITES + 1 series. */
size_t history_memory(const struct history *h);

static inline bool history_key_eq(const struct history_key *a, const struct history_key *b)
{
	return a->site == b->site && a->flags == b->flags && a->op == b->op && a->kind == b->kind &&
	       a->prot == b->prot;
}

enum trend_kind {
	TREND_UNKNOWN = 0, /* fewer than 3 points */
	TREND_FLAT,	   /* never changed */
	TREND_GROWING,	   /* grew, and was still growing at the end */
	TREND_PLATEAU,	   /* grew, then stayed flat to the end */
	TREND_SHRINKING,   /* ends below its peak */
};

struct trend {
	enum trend_kind kind;
	uint64_t step_bytes; /* mean growth of the points that grew */
	double step_s;	     /* mean time between them */
	double rate_bps;     /* growth per second over the growing part */
	uint64_t start_bytes, peak_bytes, end_bytes;
	double start_s, peak_s, end_s; /* peak_s: when the peak (or plateau) was reached */
	double last_growth_s;	       /* when it last grew */
};

const char *trend_name(enum trend_kind k); /* "growing", "plateau", ..., NULL for unknown */
void history_trend(const struct history_series *s, struct trend *out);

#endif
