/* tests/ledger_model.h - a deliberately simple reference for the region ledger and a
 * harness that feeds the ledger and the model the same operations, then compares them.
 *
 * The model is a flat array of pages over a small window of addresses: each page is a
 * hole or live with the metadata of its region, and "head" marks the page where a
 * ledger region starts (so region boundaries, which shmdt depends on, are compared too).
 * Every operation is written page by page, independently of the ledger's tree code.
 * Used by tests/check_ledger_model.c (seeded PRNG) and tests/fuzz_ledger.c (libFuzzer
 * bytes): both drive lm_step() with a source of numbers. */
#ifndef VMLEAK_TESTS_LEDGER_MODEL_H
#define VMLEAK_TESTS_LEDGER_MODEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "decoder/ledger.h"

#define LM_PAGE	     LEDGER_PAGE_SIZE
#define LM_MAX_PAGES 256
#define LM_SITES     6

/* Test hook in decoder/ledger.c: a ledger with small nodes, so that a few dozen
 * regions already make a tree several levels deep. */
struct ledger *ledger_new_tuned(unsigned leaf_max, unsigned inode_max);

struct lm_page {
	bool live, head;
	struct region meta; /* start/end unused */
};

struct lm_model {
	struct lm_page pg[LM_MAX_PAGES];
	uint64_t brk_start, brk_cur;
};

struct lm_source {
	uint32_t (*next)(void *ctx);
	void *ctx;
};

struct lm_slot {
	struct ledger *l;
	struct lm_model m;
};

struct lm_harness {
	struct lm_slot slot[2];
	uint64_t base; /* window: [base, base + npages * page) */
	unsigned npages;
	bool top; /* the window ends at the highest page-aligned end, 2^64 - page */
	unsigned leaf_max, inode_max;
	/* a range taken at a syscall entry, waiting for the exit */
	bool pending;
	unsigned pending_slot;
	uint64_t pending_addr, pending_len;
	struct region_vec pieces;
	struct lm_model pending_model;
	struct region_vec scratch; /* pieces of immediate removals */
	uint32_t clock;
	char err[512];
};

/* ---------- model ---------- */

/* Independent restatement of the range rules: aligned start, nonzero length, and the
 * rounded end must be representable (at most 2^64 - page). */
static bool lm_range(uint64_t start, uint64_t len, uint64_t *end)
{
	unsigned __int128 e;

	if (start % LM_PAGE || len == 0)
		return false;
	e = (unsigned __int128)start + ((unsigned __int128)len + LM_PAGE - 1) / LM_PAGE * LM_PAGE;
	if (e > (unsigned __int128)UINT64_MAX)
		return false;
	*end = (uint64_t)e;
	return true;
}

static unsigned lm_page_of(const struct lm_harness *h, uint64_t addr)
{
	return (unsigned)((addr - h->base) / LM_PAGE);
}

static bool lm_meta_equal(const struct region *a, const struct region *b)
{
	return a->site == b->site && a->first_site == b->first_site && a->path == b->path &&
	       a->flags == b->flags && a->time_ms == b->time_ms && a->tid == b->tid &&
	       a->prot == b->prot && a->op == b->op && a->kind == b->kind && a->origin == b->origin;
}

static void lm_set_meta(struct lm_page *pg, const struct region *r)
{
	pg->meta = *r;
	pg->meta.start = pg->meta.end = 0;
}

/* Make pages [p, q) holes; the region after them (if any) now starts at q. */
static void lm_clear(const struct lm_harness *h, struct lm_model *m, unsigned p, unsigned q)
{
	if (q > h->npages)
		q = h->npages; /* nothing lives outside the window */
	for (unsigned i = p; i < q; i++)
		m->pg[i].live = m->pg[i].head = false;
	if (q < h->npages && m->pg[q].live)
		m->pg[q].head = true;
}

/* A new region over pages [p, q) with r's metadata. */
static void lm_fill(const struct lm_harness *h, struct lm_model *m, unsigned p, unsigned q,
		    const struct region *r)
{
	lm_clear(h, m, p, q);
	for (unsigned i = p; i < q; i++) {
		m->pg[i].live = true;
		m->pg[i].head = i == p;
		lm_set_meta(&m->pg[i], r);
	}
}

static int lm_insert(const struct lm_harness *h, struct lm_model *m, const struct region *r)
{
	uint64_t end;

	if (r->end <= r->start || !lm_range(r->start, r->end - r->start, &end))
		return -1;
	lm_fill(h, m, lm_page_of(h, r->start), lm_page_of(h, end), r);
	return 0;
}

/* Move the live pages of [p, q) into out (which only holds what was taken). */
static uint64_t lm_take_pages(const struct lm_harness *h, struct lm_model *m, unsigned p,
			      unsigned q, struct lm_model *out)
{
	uint64_t bytes = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	for (unsigned i = p; i < q; i++) {
		if (!m->pg[i].live)
			continue;
		if (out) {
			out->pg[i] = m->pg[i];
			out->pg[i].head = i == p || m->pg[i].head;
		}
		bytes += LM_PAGE;
	}
	lm_clear(h, m, p, q);
	return bytes;
}

static uint64_t lm_take(const struct lm_harness *h, struct lm_model *m, uint64_t start,
			uint64_t len, struct lm_model *out)
{
	uint64_t end;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!lm_range(start, len, &end))
		return 0;
	return lm_take_pages(h, m, lm_page_of(h, start), lm_page_of(h, end), out);
}

/* Pages of taken that are holes in m come back; each piece's runs are new regions. */
static void lm_put_back(const struct lm_harness *h, struct lm_model *m,
			const struct lm_model *taken)
{
	bool prev_filled = false;

	for (unsigned i = 0; i < h->npages; i++) {
		bool fill = taken->pg[i].live && !m->pg[i].live;

		if (fill) {
			m->pg[i] = taken->pg[i];
			m->pg[i].head = taken->pg[i].head || !prev_filled;
		}
		prev_filled = fill;
	}
}

static int lm_mremap_finish(const struct lm_harness *h, struct lm_model *m,
			    const struct lm_model *taken, uint64_t old_addr, uint64_t old_len,
			    uint64_t new_addr, uint64_t new_len, unsigned flags,
			    const struct region *proto)
{
	uint64_t old_end = old_addr, new_end;
	unsigned op, np, nq, keep, k;

	if (old_addr % LM_PAGE || (old_len && !lm_range(old_addr, old_len, &old_end)) ||
	    !lm_range(new_addr, new_len, &new_end))
		return -1;
	op = lm_page_of(h, old_addr);
	np = lm_page_of(h, new_addr);
	nq = lm_page_of(h, new_end);
	keep = (unsigned)((old_end - old_addr) / LM_PAGE);
	if (keep > nq - np)
		keep = nq - np;
	const struct lm_page *base =
		old_end > old_addr && taken->pg[op].live ? &taken->pg[op] : NULL;
	struct region grown = *proto;

	if ((flags & MREMAP_DONTUNMAP) || old_end == old_addr)
		lm_put_back(h, m, taken);
	lm_clear(h, m, np, nq);
	if (base) {
		grown.kind = base->meta.kind;
		grown.prot = base->meta.prot;
		grown.flags = base->meta.flags;
		grown.path = base->meta.path;
	}
	if (base && base->meta.origin != REGION_PREEXISTING) {
		/* one region over the whole new range, owned by the resizing call */
		grown.first_site = base->meta.first_site ? base->meta.first_site : base->meta.site;
		grown.origin = REGION_TRACED;
		for (unsigned i = np; i < nq; i++) {
			m->pg[i].live = true;
			m->pg[i].head = i == np;
			lm_set_meta(&m->pg[i], &grown);
		}
		return 0;
	}
	for (k = 0; k < keep; k++) {
		const struct lm_page *src = &taken->pg[op + k];

		if (!src->live)
			continue;
		m->pg[np + k] = *src;
		m->pg[np + k].head = src->head || k == 0;
	}
	if (np + k < nq) {
		for (unsigned i = np + k; i < nq; i++) {
			m->pg[i].live = true;
			m->pg[i].head = i == np + k;
			lm_set_meta(&m->pg[i], &grown);
		}
	}
	return 0;
}

static void lm_brk(const struct lm_harness *h, struct lm_model *m, uint64_t new_brk,
		   const struct region *proto)
{
	uint64_t from = m->brk_cur > m->brk_start ? m->brk_cur : m->brk_start;
	const uint64_t top = UINT64_MAX - (LM_PAGE - 1);

	if (m->brk_start && new_brk >= m->brk_start) {
		if (new_brk > from && new_brk <= top) {
			struct region heap = *proto;
			uint64_t lo = (from + LM_PAGE - 1) / LM_PAGE * LM_PAGE;
			uint64_t hi = (new_brk + LM_PAGE - 1) / LM_PAGE * LM_PAGE;

			heap.kind = REGION_BRK;
			if (hi > lo)
				lm_fill(h, m, lm_page_of(h, lo), lm_page_of(h, hi), &heap);
		} else if (new_brk < m->brk_cur && m->brk_cur <= top) {
			uint64_t lo = (new_brk + LM_PAGE - 1) / LM_PAGE * LM_PAGE;
			uint64_t hi = (m->brk_cur + LM_PAGE - 1) / LM_PAGE * LM_PAGE;

			if (hi > lo)
				lm_clear(h, m, lm_page_of(h, lo), lm_page_of(h, hi));
		}
	}
	m->brk_cur = new_brk;
}

static uint64_t lm_take_shm(const struct lm_harness *h, struct lm_model *m, uint64_t addr,
			    struct lm_model *out)
{
	unsigned p, q;

	if (out)
		memset(out, 0, sizeof(*out));
	if (addr % LM_PAGE || addr < h->base || lm_page_of(h, addr) >= h->npages)
		return 0;
	p = lm_page_of(h, addr);
	if (!m->pg[p].live || !m->pg[p].head || m->pg[p].meta.kind != REGION_SHM)
		return 0;
	for (q = p + 1; q < h->npages && m->pg[q].live && !m->pg[q].head; q++)
		;
	return lm_take_pages(h, m, p, q, out);
}

/* ---------- comparison ---------- */

static int lm_fail(struct lm_harness *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Checks regions (from ledger_foreach or a take's pieces) against model pages. */
struct lm_walk {
	struct lm_harness *h;
	const struct lm_model *m;
	uint64_t prev_end;
	size_t regions, pages;
	int bad;
};

static int lm_walk_region(const struct region *r, void *arg)
{
	struct lm_walk *w = arg;
	struct lm_harness *h = w->h;
	unsigned p, q;

	if (r->start % LM_PAGE || r->end % LM_PAGE || r->end <= r->start || r->start < h->base ||
	    (r->end - h->base) / LM_PAGE > h->npages || (w->regions && r->start < w->prev_end))
		return w->bad = lm_fail(h, "bad region [%#lx, %#lx)", r->start, r->end);
	p = lm_page_of(h, r->start);
	q = lm_page_of(h, r->end);
	for (unsigned i = p; i < q; i++) {
		const struct lm_page *pg = &w->m->pg[i];

		if (!pg->live || pg->head != (i == p) || !lm_meta_equal(&pg->meta, r))
			return w->bad = lm_fail(h,
						"region [%#lx, %#lx) site %u time %u: page %u "
						"live %d head %d site %u time %u",
						r->start, r->end, r->site, r->time_ms, i, pg->live,
						pg->head, pg->meta.site, pg->meta.time_ms);
	}
	w->prev_end = r->end;
	w->regions++;
	w->pages += q - p;
	return 0;
}

static size_t lm_live_pages(const struct lm_harness *h, const struct lm_model *m)
{
	size_t n = 0;

	for (unsigned i = 0; i < h->npages; i++)
		n += m->pg[i].live;
	return n;
}

static int lm_compare_pieces(struct lm_harness *h, const struct region_vec *pieces,
			     const struct lm_model *taken, uint64_t bytes, uint64_t model_bytes)
{
	struct lm_walk w = {.h = h, .m = taken};

	if (bytes != model_bytes)
		return lm_fail(h, "took %lu bytes, model %lu", bytes, model_bytes);
	for (size_t i = 0; i < pieces->n; i++)
		if (lm_walk_region(&pieces->v[i], &w))
			return -1;
	if (w.pages != lm_live_pages(h, taken))
		return lm_fail(h, "pieces hold %zu pages, model %zu", w.pages,
			       lm_live_pages(h, taken));
	return 0;
}

static int lm_compare_totals(struct lm_harness *h, const struct lm_slot *s)
{
	size_t regions[LM_SITES] = {0};
	uint64_t bytes[LM_SITES] = {0};
	struct site_total *t;
	long n, expect = 0;
	int ret = 0;

	for (unsigned i = 0; i < h->npages; i++) {
		if (!s->m.pg[i].live)
			continue;
		regions[s->m.pg[i].meta.site] += s->m.pg[i].head;
		bytes[s->m.pg[i].meta.site] += LM_PAGE;
	}
	n = ledger_totals_by_site(s->l, &t);
	for (unsigned site = 0; site < LM_SITES; site++)
		expect += regions[site] > 0;
	if (n != expect)
		ret = lm_fail(h, "%ld site totals, model %ld", n, expect);
	for (long i = 0; !ret && i < n; i++) {
		if (t[i].site >= LM_SITES || (i && t[i].site <= t[i - 1].site) ||
		    t[i].regions != regions[t[i].site] || t[i].bytes != bytes[t[i].site])
			ret = lm_fail(h, "site %u total differs", t[i].site);
	}
	free(t);
	return ret;
}

static int lm_compare(struct lm_harness *h, unsigned si, unsigned probe)
{
	struct lm_slot *s = &h->slot[si];
	struct lm_walk w = {.h = h, .m = &s->m};
	const struct region *f;
	unsigned p = probe % h->npages;

	if (ledger_foreach(s->l, lm_walk_region, &w) || w.bad)
		return -1;
	if (w.pages != lm_live_pages(h, &s->m))
		return lm_fail(h, "ledger has %zu pages, model %zu", w.pages,
			       lm_live_pages(h, &s->m));
	if (ledger_count(s->l) != w.regions || ledger_bytes(s->l) != w.pages * LM_PAGE)
		return lm_fail(h, "count %zu bytes %lu, walked %zu regions %zu pages",
			       ledger_count(s->l), ledger_bytes(s->l), w.regions, w.pages);
	if (ledger_brk_start(s->l) != s->m.brk_start || ledger_brk_current(s->l) != s->m.brk_cur)
		return lm_fail(h, "brk differs");
	f = ledger_find(s->l, h->base + p * LM_PAGE + probe % LM_PAGE);
	if (!f != !s->m.pg[p].live || (f && !lm_meta_equal(f, &s->m.pg[p].meta)))
		return lm_fail(h, "ledger_find(page %u) differs", p);
	return lm_compare_totals(h, s);
}

/* ---------- operations ---------- */

static uint32_t lm_draw(struct lm_source *src, uint32_t bound)
{
	return bound ? src->next(src->ctx) % bound : 0;
}

static void lm_meta(struct lm_harness *h, struct lm_source *src, struct region *r)
{
	memset(r, 0, sizeof(*r));
	r->site = lm_draw(src, LM_SITES);
	r->first_site = lm_draw(src, 2) ? 0 : lm_draw(src, LM_SITES);
	r->path = lm_draw(src, 3);
	r->flags = lm_draw(src, 0x40);
	r->time_ms = ++h->clock;
	r->tid = (int32_t)lm_draw(src, 4) + 100;
	r->prot = lm_draw(src, 8);
	r->op = lm_draw(src, 9);
	r->kind = lm_draw(src, 4);
	r->origin = lm_draw(src, 3);
}

/* An address in the window, usually page aligned. */
static uint64_t lm_addr(struct lm_harness *h, struct lm_source *src)
{
	uint64_t a = h->base + (uint64_t)lm_draw(src, h->npages) * LM_PAGE;

	if (lm_draw(src, 16) == 0)
		a += 1 + lm_draw(src, LM_PAGE - 1);
	return a;
}

/* A length from addr: mostly a few pages inside the window, sometimes unaligned, zero,
 * wrapping, or (top window) one page past the highest end. */
static uint64_t lm_len(struct lm_harness *h, struct lm_source *src, uint64_t addr)
{
	uint64_t room = (h->base + h->npages * LM_PAGE - (addr & ~(LM_PAGE - 1))) / LM_PAGE;
	uint64_t pages;

	switch (lm_draw(src, 32)) {
	case 0:
		return 0;
	case 1:
		return UINT64_MAX - lm_draw(src, 3 * LM_PAGE);
	case 2:
		return h->top ? (room + 1) * LM_PAGE : room * LM_PAGE;
	default:
		break;
	}
	pages = 1 + lm_draw(src, lm_draw(src, 4) ? 4 : 24);
	if (pages > room)
		pages = room;
	if (lm_draw(src, 4) == 0)
		return pages * LM_PAGE - lm_draw(src, LM_PAGE);
	return pages * LM_PAGE;
}

static int lm_op_insert(struct lm_harness *h, struct lm_source *src, struct lm_slot *s)
{
	struct region r;
	int lr, mr;

	lm_meta(h, src, &r);
	r.start = lm_addr(h, src);
	r.end = r.start + lm_len(h, src, r.start);
	if (lm_draw(src, 64) == 0)
		r.end = r.start - lm_draw(src, 2) * LM_PAGE; /* empty or backwards */
	lr = ledger_insert(s->l, &r);
	mr = lm_insert(h, &s->m, &r);
	if ((lr == 0) != (mr == 0))
		return lm_fail(h, "insert [%#lx, %#lx): ledger %d model %d", r.start, r.end, lr,
			       mr);
	return 0;
}

static int lm_op_take(struct lm_harness *h, struct lm_source *src, struct lm_slot *s)
{
	uint64_t addr = lm_addr(h, src), len = lm_len(h, src, addr), lb, mb;
	struct lm_model taken;

	region_vec_reset(&h->scratch);
	lb = ledger_take(s->l, addr, len, &h->scratch);
	mb = lm_take(h, &s->m, addr, len, &taken);
	return lm_compare_pieces(h, &h->scratch, &taken, lb, mb);
}

/* A syscall entry: take the range and keep it pending until the exit. */
static int lm_op_enter(struct lm_harness *h, struct lm_source *src, unsigned si)
{
	struct lm_slot *s = &h->slot[si];
	uint64_t lb, mb;

	h->pending_addr = lm_addr(h, src);
	if (lm_draw(src, 8) == 0)
		h->pending_addr &= ~(LM_PAGE - 1);
	h->pending_len = lm_draw(src, 16) == 0 ? 0 : lm_len(h, src, h->pending_addr);
	h->pending_slot = si;
	h->pending = true;
	region_vec_reset(&h->pieces);
	lb = ledger_take(s->l, h->pending_addr, h->pending_len, &h->pieces);
	mb = lm_take(h, &s->m, h->pending_addr, h->pending_len, &h->pending_model);
	return lm_compare_pieces(h, &h->pieces, &h->pending_model, lb, mb);
}

/* A syscall exit: failure (put back) or a successful mremap. */
static int lm_op_exit(struct lm_harness *h, struct lm_source *src)
{
	struct lm_slot *s = &h->slot[h->pending_slot];
	uint64_t new_addr, new_len;
	struct region proto;
	unsigned flags = 0;
	int lr, mr;

	h->pending = false;
	if (lm_draw(src, 3) == 0) {
		ledger_put_back(s->l, &h->pieces);
		lm_put_back(h, &s->m, &h->pending_model);
		return 0;
	}
	lm_meta(h, src, &proto);
	proto.start = lm_draw(src, 5); /* ignored */
	proto.end = lm_draw(src, 5);
	new_addr = lm_draw(src, 3) == 0 ? h->pending_addr & ~(LM_PAGE - 1) : lm_addr(h, src);
	new_len = lm_len(h, src, new_addr);
	if (lm_draw(src, 4) == 0)
		flags |= MREMAP_DONTUNMAP;
	if (lm_draw(src, 2) == 0)
		flags |= MREMAP_MAYMOVE | MREMAP_FIXED;
	lr = ledger_mremap_finish(s->l, &h->pieces, h->pending_addr, h->pending_len, new_addr,
				  new_len, flags, &proto);
	mr = lm_mremap_finish(h, &s->m, &h->pending_model, h->pending_addr, h->pending_len,
			      new_addr, new_len, flags, &proto);
	if ((lr == 0) != (mr == 0))
		return lm_fail(h, "mremap_finish: ledger %d model %d", lr, mr);
	if (lr) { /* rejected: the syscall failed after all */
		ledger_put_back(s->l, &h->pieces);
		lm_put_back(h, &s->m, &h->pending_model);
	}
	return 0;
}

static int lm_op_mremap(struct lm_harness *h, struct lm_source *src, struct lm_slot *s)
{
	uint64_t old_addr = lm_addr(h, src), old_len, new_addr, new_len;
	struct lm_model taken;
	struct region proto;
	unsigned flags = lm_draw(src, 4) == 0 ? MREMAP_DONTUNMAP : 0;
	int lr, mr = -1;

	if (lm_draw(src, 4))
		old_addr &= ~(LM_PAGE - 1);
	old_len = lm_draw(src, 10) == 0 ? 0 : lm_len(h, src, old_addr);
	new_addr = lm_draw(src, 2) ? old_addr & ~(LM_PAGE - 1) : lm_addr(h, src);
	new_len = lm_len(h, src, new_addr);
	lm_meta(h, src, &proto);
	lr = ledger_mremap(s->l, old_addr, old_len, new_addr, new_len, flags, &proto);
	{
		struct lm_model backup = s->m;
		uint64_t end;

		/* the one-shot form rejects bad ranges before taking anything */
		if (old_addr % LM_PAGE == 0 && (!old_len || lm_range(old_addr, old_len, &end)) &&
		    lm_range(new_addr, new_len, &end)) {
			lm_take(h, &s->m, old_addr, old_len, &taken);
			mr = lm_mremap_finish(h, &s->m, &taken, old_addr, old_len, new_addr,
					      new_len, flags, &proto);
		}
		if (mr)
			s->m = backup;
	}
	if ((lr == 0) != (mr == 0))
		return lm_fail(h, "mremap: ledger %d model %d", lr, mr);
	return 0;
}

static int lm_op_brk(struct lm_harness *h, struct lm_source *src, struct lm_slot *s)
{
	struct region proto;
	uint64_t nb;

	if (lm_draw(src, 16) == 0) {
		uint64_t start = lm_draw(src, 8) == 0 ? 0 : lm_addr(h, src);
		uint64_t cur = start + lm_draw(src, 3 * LM_PAGE);

		ledger_set_brk(s->l, start, cur);
		s->m.brk_start = start;
		s->m.brk_cur = cur;
		return 0;
	}
	nb = h->base + lm_draw(src, h->npages * LM_PAGE + 1);
	if (lm_draw(src, 2) && s->m.brk_cur >= h->base) {
		/* near the current break, as a heap moves */
		uint64_t step = lm_draw(src, 3 * LM_PAGE);

		nb = lm_draw(src, 2) ? s->m.brk_cur + step : s->m.brk_cur - step;
		if (nb < h->base || nb > h->base + (h->npages - 1) * LM_PAGE)
			nb = s->m.brk_cur;
	}
	lm_meta(h, src, &proto);
	if (ledger_brk(s->l, nb, &proto))
		return lm_fail(h, "ledger_brk failed");
	lm_brk(h, &s->m, nb, &proto);
	return 0;
}

static int lm_op_shm(struct lm_harness *h, struct lm_source *src, struct lm_slot *s)
{
	uint64_t addr = lm_addr(h, src), lb, mb;
	struct lm_model taken;
	unsigned p = lm_page_of(h, addr & ~(LM_PAGE - 1));

	if (lm_draw(src, 4)) { /* aim at the start of a region */
		while (p > 0 && s->m.pg[p].live && !s->m.pg[p].head)
			p--;
		addr = h->base + (uint64_t)p * LM_PAGE;
	}
	region_vec_reset(&h->scratch);
	lb = ledger_take_shm(s->l, addr, &h->scratch);
	mb = lm_take_shm(h, &s->m, addr, &taken);
	return lm_compare_pieces(h, &h->scratch, &taken, lb, mb);
}

static int lm_op_copy(struct lm_harness *h, unsigned si)
{
	struct lm_slot *from = &h->slot[si], *to = &h->slot[!si];
	struct ledger *copy = ledger_copy(from->l);

	if (!copy)
		return lm_fail(h, "ledger_copy failed");
	if (ledger_memory(copy) != ledger_memory(from->l))
		return lm_fail(h, "copy uses %zu bytes, original %zu", ledger_memory(copy),
			       ledger_memory(from->l));
	ledger_free(to->l);
	to->l = copy;
	to->m = from->m;
	/* a fork's copy: what was traced is inherited */
	for (unsigned p = 0; p < LM_MAX_PAGES; p++)
		if (to->m.pg[p].meta.origin == REGION_TRACED)
			to->m.pg[p].meta.origin = REGION_INHERITED;
	return 0;
}

static int lm_op_clear(struct lm_harness *h, struct lm_slot *s)
{
	ledger_clear(s->l);
	memset(&s->m, 0, sizeof(s->m));
	(void)h;
	return 0;
}

/* ---------- driver ---------- */

/* Set up from the source: node sizes, window size and place. 0 or -1. */
static int lm_init(struct lm_harness *h, struct lm_source *src)
{
	static const unsigned leaf_sizes[] = {2, 3, 4, 5, 8, 64};
	static const unsigned inode_sizes[] = {4, 5, 6, 64};

	memset(h, 0, sizeof(*h));
	h->leaf_max = leaf_sizes[lm_draw(src, 6)];
	h->inode_max = inode_sizes[lm_draw(src, 4)];
	h->npages = 16 + lm_draw(src, LM_MAX_PAGES - 15);
	h->top = lm_draw(src, 4) == 0;
	h->base = h->top ? UINT64_MAX - (LM_PAGE - 1) - (uint64_t)h->npages * LM_PAGE
			 : 0x10000 + (uint64_t)lm_draw(src, 1024) * LM_PAGE;
	for (unsigned i = 0; i < 2; i++) {
		h->slot[i].l = ledger_new_tuned(h->leaf_max, h->inode_max);
		if (!h->slot[i].l)
			return lm_fail(h, "ledger_new failed");
	}
	return 0;
}

static void lm_fini(struct lm_harness *h)
{
	for (unsigned i = 0; i < 2; i++)
		ledger_free(h->slot[i].l);
	region_vec_free(&h->pieces);
	region_vec_free(&h->scratch);
}

/* One random operation on a random slot; with check, compare what it changed.
 * 0, or -1 with h->err describing the first difference. */
static int lm_step(struct lm_harness *h, struct lm_source *src, bool check)
{
	unsigned si = lm_draw(src, 2), op = lm_draw(src, 24);
	struct lm_slot *s = &h->slot[si];
	bool copied = false;
	int ret;

	if (op < 7)
		ret = lm_op_insert(h, src, s);
	else if (op < 10)
		ret = lm_op_take(h, src, s);
	else if (op < 14)
		ret = h->pending ? lm_op_exit(h, src) : lm_op_enter(h, src, si);
	else if (op < 17)
		ret = lm_op_mremap(h, src, s);
	else if (op < 20)
		ret = lm_op_brk(h, src, s);
	else if (op < 22)
		ret = lm_op_shm(h, src, s);
	else if ((copied = op < 23 || lm_draw(src, 8)))
		ret = lm_op_copy(h, si);
	else
		ret = lm_op_clear(h, s);
	if (ret || !check)
		return ret;
	/* an operation changes slot si only, except a copy, which replaces the other */
	if (lm_compare(h, si, src->next(src->ctx)))
		return -1;
	return copied ? lm_compare(h, !si, src->next(src->ctx)) : 0;
}

#endif
