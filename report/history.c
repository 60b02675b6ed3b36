/* report/history.c - the bounded per-site series of live bytes over the trace
 * and the trend read from them (report/history.h). The tracer records samples;
 * the report writers read the series and the trend. */
#include "report/history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/grow.h"

struct tracked {
	struct history_series *s;
	uint64_t bytes; /* at the last sample: the smallest is evicted first */
};

struct history {
	struct tracked sites[HISTORY_MAX_SITES];
	size_t nsites;
	struct history_series other;
	/* scratch for one sample, reused */
	size_t *untracked;
	size_t cap_untracked;
};

struct history *history_new(void)
{
	struct history *h = calloc(1, sizeof(*h));

	if (h)
		h->other.stride_ms = HISTORY_MIN_STRIDE;
	return h;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nsites; i++)
		free(h->sites[i].s);
	free(h->untracked);
	free(h);
}

/* Two neighbouring points become one: the later, unless only the earlier has a
 * resident figure (the reports' points are the only ones with one). */
static struct history_point merge_points(const struct history_point *a,
					 const struct history_point *b)
{
	if (b->resident == HISTORY_NO_FIGURE && a->resident != HISTORY_NO_FIGURE)
		return *a;
	return *b;
}

/* Halve a full series: the first and last points stay, the ones between are
 * merged in pairs; optional samples come half as often from now on. */
static void compact(struct history_series *s)
{
	size_t m = 1, i = 1;

	while (i + 1 < s->n) {
		if (i + 2 < s->n) {
			s->pts[m++] = merge_points(&s->pts[i], &s->pts[i + 1]);
			i += 2;
		} else {
			s->pts[m++] = s->pts[i++];
		}
	}
	s->pts[m++] = s->pts[s->n - 1];
	s->n = m;
	if (s->stride_ms < UINT32_MAX / 2)
		s->stride_ms *= 2;
}

static void append(struct history_series *s, const struct history_point *p, bool forced)
{
	if (s->n) {
		struct history_point *last = &s->pts[s->n - 1];

		if (p->t_ms <= last->t_ms) { /* same instant: the newer figures win */
			*last = merge_points(last, p);
			last->t_ms = p->t_ms > last->t_ms ? p->t_ms : last->t_ms;
			return;
		}
		if (!forced && p->t_ms - last->t_ms < s->stride_ms)
			return;
		/* forced points are all kept until the series is first full; then
		 * they too come no closer than the stride, the newest one taking
		 * the last point's place, so the series always ends with the latest
		 * report and its points stay spread over the whole trace */
		if (forced && s->stride_ms > HISTORY_MIN_STRIDE && s->n >= 2 &&
		    p->t_ms - s->pts[s->n - 2].t_ms < s->stride_ms) {
			*last = merge_points(last, p);
			return;
		}
	}
	if (s->n == HISTORY_MAX_POINTS)
		compact(s);
	s->pts[s->n++] = *p;
}

static long find_tracked(const struct history *h, const struct history_key *k)
{
	for (size_t i = 0; i < h->nsites; i++)
		if (history_key_eq(&h->sites[i].s->key, k))
			return (long)i;
	return -1;
}

static int grow_scratch(struct history *h, size_t n)
{
	size_t *u = grow_array(h->untracked, &h->cap_untracked, n, sizeof(*u), 64);

	if (!u)
		return -ENOMEM;
	h->untracked = u;
	return 0;
}

static const struct history_sample *sort_base;

static int cmp_by_bytes_desc(const void *pa, const void *pb)
{
	const struct history_sample *a = &sort_base[*(const size_t *)pa];
	const struct history_sample *b = &sort_base[*(const size_t *)pb];

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return 0;
}

static size_t smallest_tracked(const struct history *h)
{
	size_t min = 0;

	for (size_t i = 1; i < h->nsites; i++)
		if (h->sites[i].bytes < h->sites[min].bytes)
			min = i;
	return min;
}

/* Give untracked site u a series: a free slot, or the slot of the smallest
 * tracked site when u is larger. Returns the slot, -1 when u stays untracked. */
static long track(struct history *h, const struct history_sample *u)
{
	struct history_series *s;
	size_t slot;

	if (h->nsites < HISTORY_MAX_SITES) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		slot = h->nsites++;
	} else {
		slot = smallest_tracked(h);
		if (h->sites[slot].bytes >= u->bytes)
			return -1;
		s = h->sites[slot].s;
		memset(s, 0, sizeof(*s));
	}
	s->key = u->key;
	s->stride_ms = HISTORY_MIN_STRIDE;
	h->sites[slot].s = s;
	h->sites[slot].bytes = 0;
	return (long)slot;
}

int history_record(struct history *h, uint32_t t_ms, const struct history_sample *s, size_t n,
		   bool forced)
{
	bool any_res = false;
	size_t nun = 0;
	struct history_point other = {.t_ms = t_ms};
	bool other_res = true;
	int8_t touched[HISTORY_MAX_SITES] = {0};

	if (grow_scratch(h, n ? n : 1))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		long k = find_tracked(h, &s[i].key);

		any_res |= s[i].resident != HISTORY_NO_FIGURE;
		if (k >= 0) {
			struct history_point p = {t_ms, s[i].bytes, s[i].resident};
			append(h->sites[k].s, &p, forced);
			h->sites[k].bytes = s[i].bytes;
			touched[k] = 1;
		} else {
			h->untracked[nun++] = i;
		}
	}
	/* the largest untracked sites take free slots or evict smaller ones */
	sort_base = s;
	qsort(h->untracked, nun, sizeof(*h->untracked), cmp_by_bytes_desc);
	for (size_t j = 0; j < nun; j++) {
		const struct history_sample *u = &s[h->untracked[j]];
		long slot;

		if (!u->bytes)
			continue;
		slot = j < HISTORY_MAX_SITES ? track(h, u) : -1;
		if (slot < 0) {
			other.bytes += u->bytes;
			if (u->resident == HISTORY_NO_FIGURE)
				other_res = false;
			else
				other.resident += u->resident;
			continue;
		}
		struct history_point p = {t_ms, u->bytes, u->resident};
		append(h->sites[slot].s, &p, true);
		h->sites[slot].bytes = u->bytes;
		touched[slot] = 1;
	}
	/* tracked sites the sample did not name hold nothing now */
	for (size_t k = 0; k < h->nsites; k++) {
		if (touched[k])
			continue;
		struct history_point p = {t_ms, 0, any_res ? 0 : HISTORY_NO_FIGURE};
		append(h->sites[k].s, &p, forced);
		h->sites[k].bytes = 0;
	}
	if (!other_res || !any_res)
		other.resident = HISTORY_NO_FIGURE;
	if (other.bytes || h->other.n)
		append(&h->other, &other, forced);
	return 0;
}

const struct history_series *history_find(const struct history *h, const struct history_key *k)
{
	long i;

	if (!h)
		return NULL;
	i = find_tracked(h, k);
	return i < 0 ? NULL : h->sites[i].s;
}

const struct history_series *history_other(const struct history *h)
{
	return h ? &h->other : NULL;
}

size_t history_nseries(const struct history *h)
{
	return h ? h->nsites : 0;
}

size_t history_memory(const struct history *h)
{
	if (!h)
		return 0;
	return sizeof(*h) + h->nsites * sizeof(struct history_series) +
	       h->cap_untracked * sizeof(*h->untracked);
}

/* ---- trend ---- */

const char *trend_name(enum trend_kind k)
{
	switch (k) {
	case TREND_FLAT:
		return "flat";
	case TREND_GROWING:
		return "growing";
	case TREND_PLATEAU:
		return "plateau";
	case TREND_SHRINKING:
		return "shrinking";
	default:
		return NULL;
	}
}

static double secs(uint32_t ms)
{
	return ms / 1000.0;
}

void history_trend(const struct history_series *s, struct trend *out)
{
	const struct history_point *p;
	size_t first = 0, last = 0, k = 0, peak = 0, n;
	uint64_t grown = 0;
	double gap = 0;

	memset(out, 0, sizeof(*out));
	if (!s || s->n < 3)
		return;
	p = s->pts;
	n = s->n;
	for (size_t i = 1; i < n; i++) {
		if (p[i].bytes > p[i - 1].bytes) {
			if (!k)
				first = i;
			last = i;
			k++;
			grown += p[i].bytes - p[i - 1].bytes;
		}
		if (p[i].bytes > p[peak].bytes)
			peak = i;
	}
	out->start_bytes = p[0].bytes;
	out->start_s = secs(p[0].t_ms);
	out->end_bytes = p[n - 1].bytes;
	out->end_s = secs(p[n - 1].t_ms);
	out->peak_bytes = p[peak].bytes;
	out->peak_s = secs(p[peak].t_ms);
	if (!k) {
		bool changed = false;
		for (size_t i = 1; i < n; i++)
			changed |= p[i].bytes != p[0].bytes;
		out->kind = changed ? TREND_SHRINKING : TREND_FLAT;
		return;
	}
	out->last_growth_s = secs(p[last].t_ms);
	out->step_bytes = grown / k;
	if (k >= 2) {
		gap = secs(p[last].t_ms - p[first].t_ms) / (double)(k - 1);
		out->step_s = gap;
	}
	if (p[last].t_ms > p[first - 1].t_ms && p[last].bytes > p[first - 1].bytes)
		out->rate_bps = (double)(p[last].bytes - p[first - 1].bytes) /
				secs(p[last].t_ms - p[first - 1].t_ms);
	/* well below its peak at the end: it gave back more than half its growth */
	if (out->end_bytes < out->peak_bytes &&
	    out->peak_bytes - out->end_bytes > (out->peak_bytes - out->start_bytes) / 2) {
		out->kind = TREND_SHRINKING;
		return;
	}
	/* flat since the last growth, for 3 points and 3 growth gaps at least */
	if (n - 1 - last >= 3 && out->end_s - out->last_growth_s > 3 * gap) {
		out->kind = TREND_PLATEAU;
		out->peak_s = out->last_growth_s;
		out->peak_bytes = p[last].bytes;
		return;
	}
	out->kind = TREND_GROWING;
}
