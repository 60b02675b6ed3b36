/* decoder/maps.c - parsing /proc/PID/maps lines and comparing them with a
 * ledger, page range by page range. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "decoder/grow.h"
#include "decoder/maps.h"

int maps_parse_line(const char *line, struct maps_entry *e)
{
	char perms[8] = "";
	unsigned dev_major, dev_minor;
	int pos = 0;

	memset(e, 0, sizeof(*e));
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 "%n", &e->start,
		   &e->end, perms, &e->offset, &dev_major, &dev_minor, &e->inode, &pos) < 7)
		return -1;
	if (e->end < e->start || strlen(perms) < 4)
		return -1;
	e->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
		  (perms[2] == 'x' ? PROT_EXEC : 0);
	e->shared = perms[3] == 's';
	const char *p = line + pos;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strcspn(p, "\n");
	if (len >= sizeof(e->path))
		len = sizeof(e->path) - 1;
	memcpy(e->path, p, len);
	e->path[len] = '\0';
	return 0;
}

struct mismatch_list {
	struct maps_mismatch *v;
	size_t n, cap;
	int err;
};

static void mismatch_add(struct mismatch_list *m, uint64_t start, uint64_t end, const char *problem)
{
	if (start >= end || m->err)
		return;
	if (m->n && m->v[m->n - 1].end == start && m->v[m->n - 1].problem == problem) {
		m->v[m->n - 1].end = end; /* merge adjacent */
		return;
	}
	struct maps_mismatch *nv = grow_array(m->v, &m->cap, m->n + 1, sizeof(*nv), 16);
	if (!nv) {
		m->err = -ENOMEM;
		return;
	}
	m->v = nv;
	m->v[m->n++] = (struct maps_mismatch){start, end, problem};
}

static bool kernel_grown(const struct maps_entry *e)
{
	return !strcmp(e->path, "[stack]") || !strcmp(e->path, "[vsyscall]");
}

struct walk {
	const struct maps_entry *e;
	size_t ne, i;	  /* next maps entry to look at */
	uint64_t covered; /* mapped pages below this were matched against the ledger */
	struct mismatch_list *m;
	size_t checked;
};

/* Mapped pages in [from, to) that no ledger region covers. */
static void unknown_mapped(struct walk *w, uint64_t from, uint64_t to)
{
	for (size_t i = w->i; i < w->ne && w->e[i].start < to; i++) {
		uint64_t s = w->e[i].start > from ? w->e[i].start : from;
		uint64_t e = w->e[i].end < to ? w->e[i].end : to;
		if (s < e && !kernel_grown(&w->e[i]))
			mismatch_add(w->m, s, e, "mapped, not in ledger");
	}
}

/* Ledger pages of [start, end) that no maps entry covers. */
static void unmapped_ledger(struct walk *w, uint64_t start, uint64_t end)
{
	uint64_t pos = start;

	while (w->i < w->ne && w->e[w->i].end <= start)
		w->i++;
	for (size_t i = w->i; i < w->ne && w->e[i].start < end && pos < end; i++) {
		if (w->e[i].start > pos)
			mismatch_add(w->m, pos, w->e[i].start, "in ledger, not mapped");
		if (w->e[i].end > pos)
			pos = w->e[i].end;
	}
	if (pos < end)
		mismatch_add(w->m, pos, end, "in ledger, not mapped");
}

static int walk_region(const struct region *r, void *arg)
{
	struct walk *w = arg;

	w->checked++;
	if (r->start > w->covered)
		unknown_mapped(w, w->covered, r->start);
	unmapped_ledger(w, r->start, r->end);
	w->covered = r->end;
	return w->m->err;
}

int maps_compare(const struct ledger *l, const struct maps_entry *e, size_t ne,
		 struct maps_mismatch **out, size_t *n, size_t *checked)
{
	struct mismatch_list m = {0};
	struct walk w = {.e = e, .ne = ne, .m = &m};

	ledger_foreach(l, walk_region, &w);
	w.i = 0;
	unknown_mapped(&w, w.covered, UINT64_MAX);
	if (m.err) {
		free(m.v);
		return m.err;
	}
	*out = m.v;
	*n = m.n;
	*checked = w.checked;
	return 0;
}
