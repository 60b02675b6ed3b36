/* report/report.c - the grouping core of the leak report: filters the still-mapped
 * regions of a snapshot (--min-age/--min-size), groups them into call sites with
 * their categories and per-pid totals (struct report_ctx, report_priv.h), and hands
 * the result to one writer: write_text.c, write_json.c, write_folded.c or
 * write_html.c. The formats are those of docs/interface.md. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>

#include "decoder/format.h"
#include "report/report_priv.h"

static const char *const category_names[CAT_COUNT] = {
	[CAT_PROGRAM] = "program",
	[CAT_MALLOC_HEAP] = "malloc-heap",
	[CAT_THREAD_STACK] = "thread-stack",
	[CAT_RUNTIME] = "runtime",
	[CAT_LOADER] = "loader",
	[CAT_UNKNOWN] = "unknown",
	[CAT_USER_SUPPRESSED] = "user-suppressed",
};

const char *site_category_name(enum site_category c)
{
	if ((unsigned)c >= CAT_COUNT)
		return "unknown";
	return category_names[c];
}

static bool category_is_suppressed(enum site_category c)
{
	return c != CAT_PROGRAM && c != CAT_UNKNOWN;
}

int report_format_size(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	uint64_t unit = 1024;
	size_t i = 0;

	if (bytes < 1024)
		return snprintf(buf, size, "%" PRIu64 " B", bytes);
	/* pick the largest unit whose rounded value stays below 1024.0 */
	for (;;) {
		uint64_t whole = bytes / unit, rem = bytes % unit;
		uint64_t tenths = (rem * 10 + unit / 2) / unit;

		if (tenths == 10) {
			whole++;
			tenths = 0;
		}
		if (whole < 1024 || i == 5)
			return snprintf(buf, size, "%" PRIu64 ".%" PRIu64 " %s", whole, tenths,
					units[i]);
		unit <<= 10;
		i++;
	}
}

/* ---- helpers shared by the writers ---- */

/* The region's flags as '|'-joined names; "" when it has none worth naming. */
void region_flags_string(char *buf, size_t size, const struct region *r)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} shm_names[] = {
		{SHM_RDONLY, "SHM_RDONLY"},
		{SHM_RND, "SHM_RND"},
		{SHM_REMAP, "SHM_REMAP"},
		{SHM_EXEC, "SHM_EXEC"},
	};
	size_t used = 0;
	uint32_t rest;

	buf[0] = '\0';
	if (r->kind == REGION_BRK)
		return;
	if (r->kind != REGION_SHM) {
		format_map_flags(buf, size, r->flags);
		if (strcmp(buf, "0") == 0)
			buf[0] = '\0';
		return;
	}
	rest = r->flags;
	for (size_t i = 0; i < sizeof(shm_names) / sizeof(shm_names[0]); i++) {
		if (!(rest & shm_names[i].bit))
			continue;
		rest &= ~shm_names[i].bit;
		used += snprintf(buf + used, used < size ? size - used : 0, "%s%s", used ? "|" : "",
				 shm_names[i].name);
	}
	if (rest)
		snprintf(buf + used, used < size ? size - used : 0, "%s%#x", used ? "|" : "", rest);
}

static int cmp_int32(const void *pa, const void *pb)
{
	int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;

	return (a > b) - (a < b);
}

size_t site_pids(const struct report_data *d, const struct site *s, int32_t **out)
{
	int32_t *pids = malloc(s->n * sizeof(*pids));
	size_t n = 0;

	*out = pids;
	if (!pids)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		pids[i] = region_pid(d, s->regs[i]);
	qsort(pids, s->n, sizeof(*pids), cmp_int32);
	for (size_t i = 0; i < s->n; i++)
		if (!n || pids[n - 1] != pids[i])
			pids[n++] = pids[i];
	return n;
}

/* ---- grouping ---- */

static uint32_t site_key(const struct report_data *d, uint32_t site)
{
	return d->site_key && site ? d->site_key(d->site_ctx, site) : site;
}

static int cmp_site_key(const struct report_data *d, const struct region *a, const struct region *b)
{
	uint32_t ka = site_key(d, a->site), kb = site_key(d, b->site);

	if (ka != kb)
		return ka < kb ? -1 : 1;
	if (a->op != b->op)
		return a->op < b->op ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->prot != b->prot)
		return a->prot < b->prot ? -1 : 1;
	if (a->flags != b->flags)
		return a->flags < b->flags ? -1 : 1;
	if (a->origin != b->origin)
		return a->origin < b->origin ? -1 : 1;
	if (a->site == 0 && region_len(a) != region_len(b))
		return region_len(a) < region_len(b) ? -1 : 1;
	return 0;
}

static int cmp_region_ptr(const void *pa, const void *pb, void *arg)
{
	const struct report_data *d = arg;
	const struct region *a = *(const struct region *const *)pa;
	const struct region *b = *(const struct region *const *)pb;
	int c = cmp_site_key(d, a, b);

	if (c)
		return c;
	if (a->time_ms != b->time_ms)
		return a->time_ms < b->time_ms ? -1 : 1;
	if (a->tid != b->tid) {
		int32_t pa_ = region_pid(d, a), pb_ = region_pid(d, b);
		if (pa_ != pb_)
			return pa_ < pb_ ? -1 : 1;
	}
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	return 0;
}

static bool region_is_old_enough(const struct report_data *d, const struct report_options *o,
				 const struct region *r)
{
	if (!(o->min_age > 0))
		return true;
	return finite_or_zero(d->duration_s) - r->time_ms / 1000.0 >= o->min_age;
}

static bool region_counts(const struct region *r)
{
	return r->origin != REGION_PREEXISTING && r->end > r->start;
}

static int cmp_orig(const void *pa, const void *pb, void *arg)
{
	const struct report_data *d = arg;
	const struct region *a = d->regions[*(const uint32_t *)pa];
	const struct region *b = d->regions[*(const uint32_t *)pb];

	if (region_counts(a) != region_counts(b))
		return region_counts(a) ? -1 : 1; /* the left-out ones last */
	return cmp_region_ptr(&a, &b, arg);
}

/* With residency figures to look up by original index: sort indices, then
 * move the pointers into that order in place (cycle by cycle), keeping the
 * indices: 4 bytes a region and a bitmap. */
static int collect_with_origins(struct report_ctx *c)
{
	const struct report_data *d = c->d;
	size_t n = d->nregions;
	uint8_t *seen;

	if (n > UINT32_MAX)
		return -ENOMEM;
	c->orig = malloc((n ? n : 1) * sizeof(*c->orig));
	seen = calloc(n / 8 + 1, 1);
	if (!c->orig || !seen) {
		free(seen);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		c->orig[i] = (uint32_t)i;
		c->nregs += region_counts(d->regions[i]);
	}
	if (n)
		qsort_r(c->orig, n, sizeof(*c->orig), cmp_orig, (void *)d);
	for (size_t start = 0; start < n; start++) {
		const struct region *tmp = d->regions[start];
		size_t j = start;

		if (seen[start / 8] & (1u << (start % 8)))
			continue;
		for (;;) {
			size_t k = c->orig[j];

			seen[j / 8] |= (uint8_t)(1u << (j % 8));
			if (k == start) {
				d->regions[j] = tmp;
				break;
			}
			d->regions[j] = d->regions[k];
			j = k;
		}
	}
	free(seen);
	c->regs = d->regions;
	return 0;
}

/* Filter and sort the caller's pointer array in place: no copy of the regions,
 * so a report of a million regions costs the pointers the caller already has. */
static int collect_regions(struct report_ctx *c)
{
	const struct report_data *d = c->d;

	if (d->residency)
		return collect_with_origins(c);
	c->regs = d->regions;
	for (size_t i = 0; i < d->nregions; i++) {
		const struct region *r = d->regions[i];

		if (!region_counts(r))
			continue;
		c->regs[c->nregs++] = r;
	}
	if (c->nregs)
		qsort_r(c->regs, c->nregs, sizeof(*c->regs), cmp_region_ptr, (void *)d);
	return 0;
}

/* Ask the resolver about a site and keep a private copy of its frame array. */
static int resolve_site(const struct report_data *d, struct site *s)
{
	struct report_site_info info = {.category = CAT_UNKNOWN};

	s->category = CAT_UNKNOWN;
	if (!d->resolve)
		return 0;
	if (d->resolve(d->resolve_ctx, s->regs[0]->site, s->regs[0], &info))
		return -ENOMEM;
	if ((unsigned)info.category < CAT_COUNT)
		s->category = info.category;
	if (!info.frames || !info.nframes)
		return 0;
	s->frames = malloc(info.nframes * sizeof(*s->frames));
	if (!s->frames)
		return -ENOMEM;
	memcpy(s->frames, info.frames, info.nframes * sizeof(*s->frames));
	s->nframes = info.nframes;
	s->callsite = info.callsite < info.nframes ? info.callsite : 0;
	return 0;
}

static void site_add_region(const struct report_ctx *c, struct site *s,
			    const struct region *const *slot)
{
	const struct region *r = *slot;
	uint64_t len = region_len(r);
	struct region_residency res;

	if (region_residency_at(c, slot, &res)) {
		s->resident += res.resident;
		s->swapped += res.swapped;
		s->res_known++;
	}
	if (!s->n) {
		s->min_len = s->max_len = len;
		s->first_ms = s->last_ms = r->time_ms;
	}
	s->n++;
	s->bytes += len;
	if (len < s->min_len)
		s->min_len = len;
	if (len > s->max_len)
		s->max_len = len;
	if (r->time_ms < s->first_ms)
		s->first_ms = r->time_ms;
	if (r->time_ms > s->last_ms)
		s->last_ms = r->time_ms;
}

static int cmp_site(const void *pa, const void *pb)
{
	const struct site *a = pa, *b = pb;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	if (a->n != b->n)
		return a->n > b->n ? -1 : 1;
	if (a->first_ms != b->first_ms)
		return a->first_ms < b->first_ms ? -1 : 1;
	return 0;
}

static bool pid_exited(const struct report_data *d, int32_t pid)
{
	size_t lo = 0, hi = d->nexited_pids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->exited_pids[mid] == pid)
			return true;
		if (d->exited_pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Move the regions of exited processes to the end of regs[0..n) (keeping each
 * part in time order); returns how many stay in front. */
static size_t set_exited_aside(struct report_ctx *c, const struct region **regs, size_t n)
{
	const struct report_data *d = c->d;
	size_t keep = 0, aside = 0;
	const struct region **tmp;
	uint32_t *orig = c->orig ? c->orig + (regs - c->regs) : NULL, *otmp = NULL;

	if (!c->o->hide_exited || !d->nexited_pids)
		return n;
	for (size_t i = 0; i < n; i++)
		aside += pid_exited(d, region_pid(d, regs[i]));
	if (!aside)
		return n;
	tmp = malloc(aside * sizeof(*tmp));
	if (orig)
		otmp = malloc(aside * sizeof(*otmp));
	if (!tmp || (orig && !otmp)) {
		free(tmp);
		free(otmp);
		return n; /* out of memory: list them rather than lose them */
	}
	aside = 0;
	for (size_t i = 0; i < n; i++) {
		bool out = pid_exited(d, region_pid(d, regs[i]));

		if (out && orig)
			otmp[aside] = orig[i];
		else if (orig)
			orig[keep] = orig[i];
		if (out)
			tmp[aside++] = regs[i];
		else
			regs[keep++] = regs[i];
	}
	memcpy(regs + keep, tmp, aside * sizeof(*tmp));
	if (orig)
		memcpy(orig + keep, otmp, aside * sizeof(*otmp));
	free(tmp);
	free(otmp);
	return keep;
}

/* Of regs[0..n) (time order), how many are old enough for --min-age. */
static size_t old_enough_prefix(const struct report_ctx *c, const struct region **regs, size_t n)
{
	size_t k = 0;

	while (k < n && region_is_old_enough(c->d, c->o, regs[k]))
		k++;
	return k;
}

static void count_region_into(const struct region *const *regs, size_t n, size_t *regions,
			      uint64_t *bytes)
{
	for (size_t i = 0; i < n; i++) {
		(*regions)++;
		*bytes += region_len(regs[i]);
	}
}

/* The exited processes whose unsuppressed regions were set aside. */
static size_t count_exited_procs(const struct report_ctx *c, const struct region **aside, size_t n)
{
	int32_t *pids = malloc((n ? n : 1) * sizeof(*pids));
	size_t distinct = 0;

	if (!pids)
		return 0;
	for (size_t i = 0; i < n; i++)
		pids[i] = region_pid(c->d, aside[i]);
	qsort(pids, n, sizeof(*pids), cmp_int32);
	for (size_t i = 0; i < n; i++)
		if (!i || pids[i] != pids[i - 1])
			distinct++;
	free(pids);
	return distinct;
}

/* The site's series and trend, when the tracer kept a history. */
static void site_history(const struct report_data *d, struct site *s)
{
	const struct region *r = s->regs[0];
	struct history_key k = {
		.site = site_key(d, r->site),
		.flags = r->flags,
		.op = r->op,
		.kind = r->kind,
		.prot = r->prot,
	};

	s->series = history_find(d->history, &k);
	history_trend(s->series, &s->trend);
}

/* One run of regions sharing a site key: set aside those of exited processes
 * (hide_exited) and the young ones (--min-age), drop the site under --min-size,
 * and count what the filters hid when the site would have been reported. */
static int build_one_site(struct report_ctx *c, struct site *s, const struct region **run, size_t n,
			  const struct region ***aside, size_t *naside)
{
	size_t live = set_exited_aside(c, run, n);
	size_t old = old_enough_prefix(c, run, live);
	int err;

	s->regs = run;
	for (size_t k = 0; k < old; k++)
		site_add_region(c, s, &run[k]);
	err = resolve_site(c->d, s); /* run[0] stands for the site either way */
	if (err)
		return err;
	s->suppressed = category_is_suppressed(s->category);
	site_history(c->d, s);
	if (!s->suppressed) {
		count_region_into(run + old, live - old, &c->young_regions, &c->young_bytes);
		for (size_t k = live; k < n; k++)
			(*aside)[(*naside)++] = run[k];
		count_region_into(run + live, n - live, &c->exited_regions, &c->exited_bytes);
	}
	if (old && s->bytes >= c->o->min_size)
		return 1; /* kept */
	if (!s->suppressed)
		count_region_into(run, old, &c->small_regions, &c->small_bytes);
	free(s->frames);
	memset(s, 0, sizeof(*s));
	return 0;
}

static int build_sites(struct report_ctx *c)
{
	const struct region **aside = NULL;
	size_t i = 0, naside = 0;
	int ret = -ENOMEM;

	c->sites = calloc(c->nregs ? c->nregs : 1, sizeof(*c->sites));
	aside = malloc((c->nregs ? c->nregs : 1) * sizeof(*aside));
	if (!c->sites || !aside)
		goto out;
	while (i < c->nregs) {
		size_t j = i;

		while (j < c->nregs && cmp_site_key(c->d, c->regs[i], c->regs[j]) == 0)
			j++;
		ret = build_one_site(c, &c->sites[c->nsites], &c->regs[i], j - i, &aside, &naside);
		if (ret < 0)
			goto out;
		c->nsites += ret;
		i = j;
	}
	c->exited_procs = count_exited_procs(c, aside, naside);
	qsort(c->sites, c->nsites, sizeof(*c->sites), cmp_site);
	for (i = 0; i < c->nsites; i++) {
		struct site *s = &c->sites[i];

		if (s->suppressed) {
			c->sup_regions += s->n;
			c->sup_bytes += s->bytes;
		} else {
			c->unsup_sites++;
			c->unsup_regions += s->n;
			c->unsup_bytes += s->bytes;
			c->unsup_resident += s->resident;
			c->unsup_swapped += s->swapped;
			c->unsup_res_known += s->res_known;
		}
		c->cat_regions[s->category] += s->n;
		c->cat_bytes[s->category] += s->bytes;
	}
	ret = 0;
out:
	free(aside);
	return ret;
}

static int cmp_pid_total(const void *pa, const void *pb)
{
	const struct pid_total *a = pa, *b = pb;

	return (a->pid > b->pid) - (a->pid < b->pid);
}

/* Per-pid totals of the unsuppressed regions, sorted by pid. Pids are few: an
 * open-addressing table indexes them while the regions are counted. */
static struct pid_total *pid_slot(struct pid_total **tab, size_t *cap, size_t *used, int32_t pid)
{
	if ((*used + 1) * 2 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct pid_total *n = calloc(ncap, sizeof(*n));
		if (!n)
			return NULL;
		for (size_t i = 0; i < *cap; i++) {
			if (!(*tab)[i].regions)
				continue;
			size_t j = ((uint32_t)(*tab)[i].pid * 2654435761u) & (ncap - 1);
			while (n[j].regions)
				j = (j + 1) & (ncap - 1);
			n[j] = (*tab)[i];
		}
		free(*tab);
		*tab = n;
		*cap = ncap;
	}
	size_t j = ((uint32_t)pid * 2654435761u) & (*cap - 1);
	while ((*tab)[j].regions && (*tab)[j].pid != pid)
		j = (j + 1) & (*cap - 1);
	if (!(*tab)[j].regions) {
		(*tab)[j].pid = pid;
		(*used)++;
	}
	return &(*tab)[j];
}

static int build_pid_totals(struct report_ctx *c)
{
	struct pid_total *tab = NULL, *e;
	size_t cap = 0, used = 0;

	for (size_t i = 0; i < c->nsites; i++) {
		const struct site *s = &c->sites[i];

		if (s->suppressed)
			continue;
		for (size_t k = 0; k < s->n; k++) {
			e = pid_slot(&tab, &cap, &used, region_pid(c->d, s->regs[k]));
			if (!e) {
				free(tab);
				return -ENOMEM;
			}
			e->regions++;
			e->bytes += region_len(s->regs[k]);
		}
	}
	c->npids = 0;
	for (size_t i = 0; tab && i < cap; i++)
		if (tab[i].regions)
			tab[c->npids++] = tab[i];
	if (c->npids)
		qsort(tab, c->npids, sizeof(*tab), cmp_pid_total);
	c->pids = tab;
	return 0;
}

/* "12 mmap, 1 munmap, 3 brk": nonzero counts only; returns how many written. */
size_t event_counts(FILE *f, const struct report_data *d)
{
	static const enum mem_op ops[] = {MEM_MMAP, MEM_MUNMAP, MEM_MREMAP,
					  MEM_BRK,  MEM_SHMAT,	MEM_SHMDT};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (!d->events[ops[i]])
			continue;
		fprintf(f, "%s%" PRIu64 " %s", n++ ? ", " : "", d->events[ops[i]],
			mem_op_name(ops[i]));
	}
	if (d->failed)
		fprintf(f, "%s%" PRIu64 " failed", n++ ? ", " : "", d->failed);
	if (!n)
		fputs("no memory calls", f);
	return n;
}

const struct pid_total *find_pid_total(const struct report_ctx *c, int32_t pid)
{
	struct pid_total key = {.pid = pid};

	if (!c->npids)
		return NULL;
	return bsearch(&key, c->pids, c->npids, sizeof(*c->pids), cmp_pid_total);
}
/* ---- entry point ---- */

static void free_ctx(struct report_ctx *c)
{
	for (size_t i = 0; i < c->nsites; i++)
		free(c->sites[i].frames);
	free(c->sites);
	free(c->pids);
	free(c->orig);
}

long report_write(FILE *out, const struct report_data *d, const struct report_options *o)
{
	struct report_ctx c = {.out = out, .d = d, .o = o};
	long ret;

	ret = collect_regions(&c);
	if (ret)
		goto out;
	ret = build_sites(&c);
	if (ret)
		goto out;
	ret = build_pid_totals(&c);
	if (ret)
		goto out;
	switch (o->format) {
	case REPORT_JSON:
		write_json(&c);
		break;
	case REPORT_FOLDED:
		write_folded(&c);
		break;
	case REPORT_HTML:
		write_html(&c);
		break;
	default:
		write_text(&c);
		break;
	}
	if (fflush(out) || ferror(out)) {
		ret = errno > 0 ? -errno : -EIO;
		goto out;
	}
	ret = (long)c.unsup_regions;
out:
	free_ctx(&c);
	return ret;
}
