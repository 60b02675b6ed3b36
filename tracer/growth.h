/* tracer/growth.h - sampling the live bytes of each site into the session's
 * history (report/history.h) at a bounded cost (tracer/growth.c). */
#ifndef VMLEAK_TRACER_GROWTH_H
#define VMLEAK_TRACER_GROWTH_H

#include <stdbool.h>
#include <stddef.h>

struct tracer;
struct growth;

/* Walk the counted regions and record one sample: forced (a report: every
 * series gets a point) or optional; with_residency adds the figures the last
 * residency_measure of each address space left. 0 or -ENOMEM. */
int growth_sample(struct tracer *t, bool forced, bool with_residency);
/* The timer tick: an optional sample when the cost bound allows one. */
void growth_tick(struct tracer *t);
/* What the last sample cost, in seconds and regions walked (bench/). */
void growth_last_cost(const struct tracer *t, double *seconds, size_t *regions);
void growth_free(struct growth *g);

#endif
