/* tracer/growth.c - samples the live bytes of every site (and, at reports,
 * their resident bytes) into the session's history (report/history.h): one
 * forced sample per report (--interval ticks, SIGUSR1, the final one) and a
 * cheap optional one on the 100 ms timer tick, at most every 0.25 s and never
 * more than 1% of the tracer's time: a sample walks every live region, so the
 * next optional one waits 100 times as long as the last walk took. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/grow.h"
#include "report/history.h"
#include "tracer/growth.h"
#include "tracer/tracer.h"

#define GROWTH_PERIOD	0.25 /* s between optional samples, at least */
#define GROWTH_MAX_LOAD 100  /* the next optional sample waits cost x this */

struct slot {
	struct history_key key;
	uint64_t bytes, resident;
	bool used, no_figure;
};

struct growth {
	struct slot *tab;
	size_t cap, used;
	struct history_sample *out;
	size_t capout;
	double next; /* earliest optional sample */
	double last_cost;
	size_t last_regions;
};

struct walk {
	struct tracer *t;
	struct growth *g;
	const struct res_table *res; /* NULL: no residency in this sample */
	size_t k;		     /* traced regions of this space seen so far */
	int err;
};

void growth_free(struct growth *g)
{
	if (!g)
		return;
	free(g->tab);
	free(g->out);
	free(g);
}

static size_t key_hash(const struct history_key *k)
{
	uint64_t h = k->site * 0x9e3779b97f4a7c15ULL;

	h ^= (uint64_t)k->flags * 0xc2b2ae3d27d4eb4fULL;
	h ^= ((uint64_t)k->op << 16 | (uint64_t)k->kind << 8 | k->prot) * 0x165667b19e3779f9ULL;
	return (size_t)(h ^ (h >> 29));
}

static int grow_tab(struct growth *g)
{
	size_t ncap = g->cap ? g->cap * 2 : 256;
	struct slot *n = calloc(ncap, sizeof(*n));

	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < g->cap; i++) {
		if (!g->tab[i].used)
			continue;
		size_t j = key_hash(&g->tab[i].key) & (ncap - 1);
		while (n[j].used)
			j = (j + 1) & (ncap - 1);
		n[j] = g->tab[i];
	}
	free(g->tab);
	g->tab = n;
	g->cap = ncap;
	return 0;
}

static struct slot *find_slot(struct growth *g, const struct history_key *k)
{
	size_t j;

	if ((g->used + 1) * 2 > g->cap && grow_tab(g))
		return NULL;
	j = key_hash(k) & (g->cap - 1);
	while (g->tab[j].used && !history_key_eq(&g->tab[j].key, k))
		j = (j + 1) & (g->cap - 1);
	if (!g->tab[j].used) {
		g->tab[j] = (struct slot){.key = *k, .used = true};
		g->used++;
	}
	return &g->tab[j];
}

static int count_region(const struct region *r, void *arg)
{
	struct walk *w = arg;
	struct history_key key = {
		.site = r->site ? stacks_canonical(w->t->stacks, r->site) : 0,
		.flags = r->flags,
		.op = r->op,
		.kind = r->kind,
		.prot = r->prot,
	};
	struct region_residency res;
	size_t row;
	struct slot *s;

	/* fork copies are counted where they were made */
	if (r->origin != REGION_TRACED)
		return 0;
	row = w->k++; /* the table's row: traced regions in ledger order */
	s = find_slot(w->g, &key);
	if (!s) {
		w->err = -ENOMEM;
		return 1;
	}
	s->bytes += r->end - r->start;
	w->g->last_regions++;
	if (w->res && residency_at(w->res, row, &res))
		s->resident += res.resident;
	else
		s->no_figure = true;
	return 0;
}

/* The address spaces whose regions the report counts: the live ones and, in
 * launch mode, the ones frozen at their process's exit. */
static bool space_counts(const struct tracer *t, const struct addr_space *as)
{
	if (as->ignored)
		return false;
	return as->users > 0 || (as->snapshotted && t->launch);
}

int growth_sample(struct tracer *t, bool forced, bool with_residency)
{
	struct growth *g = t->growth;
	struct walk w = {.t = t};
	double began = now_seconds();
	size_t n = 0;
	int ret;

	if (!t->history)
		return 0;
	if (!g) {
		g = t->growth = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
	}
	w.g = g;
	g->last_regions = 0;
	for (size_t i = 0; i < g->cap; i++)
		g->tab[i].used = false;
	g->used = 0;
	for (struct addr_space *as = t->spaces; as && !w.err; as = as->next_all) {
		if (!space_counts(t, as))
			continue;
		w.res = with_residency ? &as->res : NULL;
		w.k = 0;
		ledger_foreach(as->ledger, count_region, &w);
	}
	if (w.err)
		return w.err;
	if (g->used) {
		struct history_sample *o = grow_array(g->out, &g->capout, g->used, sizeof(*o), 64);
		if (!o)
			return -ENOMEM;
		g->out = o;
	}
	for (size_t i = 0; i < g->cap; i++) {
		const struct slot *s = &g->tab[i];
		if (!s->used)
			continue;
		g->out[n++] = (struct history_sample){
			.key = s->key,
			.bytes = s->bytes,
			.resident = s->no_figure ? HISTORY_NO_FIGURE : s->resident,
		};
	}
	ret = history_record(t->history, tracer_time_ms(t), g->out, n, forced);
	g->last_cost = now_seconds() - began;
	return ret;
}

void growth_tick(struct tracer *t)
{
	double now = now_seconds();
	double wait;

	if (t->growth && now < t->growth->next)
		return;
	growth_sample(t, false, false);
	wait = t->growth ? t->growth->last_cost * GROWTH_MAX_LOAD : 0;
	if (t->growth)
		t->growth->next = now + (wait > GROWTH_PERIOD ? wait : GROWTH_PERIOD);
}

void growth_last_cost(const struct tracer *t, double *seconds, size_t *regions)
{
	*seconds = t->growth ? t->growth->last_cost : 0;
	*regions = t->growth ? t->growth->last_regions : 0;
}
