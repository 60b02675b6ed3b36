/* tracer/residency.c - resident and swapped bytes of the traced regions of an
 * address space, from /proc/PID/pagemap (or /proc/PID/smaps where pagemap cannot
 * be read), kept per address space for the report (tracer/residency.h). */
#include "tracer/residency.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracer/tracer.h"

/* 64 Ki entries: one pread covers 256 MiB of address space */
#define PAGEMAP_BATCH 65536

static uint64_t *batch; /* reused by every measure; the tracer is one thread */
static struct residency_stats last_stats;

void pagemap_count(const uint64_t *entries, size_t n, uint64_t *present, uint64_t *swapped)
{
	uint64_t p = 0, s = 0;

	for (size_t i = 0; i < n; i++) {
		p += (entries[i] & PAGEMAP_PRESENT) != 0;
		s += (entries[i] & PAGEMAP_SWAPPED) != 0;
	}
	*present += p;
	*swapped += s;
}

void residency_last_stats(struct residency_stats *out)
{
	*out = last_stats;
}

struct measure_ctx {
	struct res_table *tab;
	size_t traced, inherited; /* rows filled */
	pid_t pid;
	int fd;			/* pagemap, -1 when using smaps */
	struct smaps_vma *vmas; /* smaps, read on first need */
	long nvmas;		/* -1: not read yet; -2: unreadable */
	int err;
};

/* Pages of [start, end) present and swapped, batch by batch; -errno on a short
 * or failed read. */
static int pagemap_region(int fd, uint64_t start, uint64_t end, uint64_t *present,
			  uint64_t *swapped)
{
	uint64_t page = start / LEDGER_PAGE_SIZE, last = end / LEDGER_PAGE_SIZE;

	while (page < last) {
		size_t want = last - page < PAGEMAP_BATCH ? (size_t)(last - page) : PAGEMAP_BATCH;
		ssize_t got =
			pread(fd, batch, want * sizeof(*batch), (off_t)(page * sizeof(*batch)));

		last_stats.preads++;
		if (got < 0)
			return -errno;
		if (got == 0 || got % sizeof(*batch))
			return -EIO;
		pagemap_count(batch, (size_t)got / sizeof(*batch), present, swapped);
		page += (size_t)got / sizeof(*batch);
	}
	return 0;
}

static char *read_whole(const char *path);

/* The smaps of the process, read once per measure; false when unreadable or
 * empty (a zombie's: its memory is gone). */
static bool have_smaps(struct measure_ctx *c)
{
	char path[64], *text;

	if (c->nvmas == -1) {
		snprintf(path, sizeof(path), "/proc/%d/smaps", (int)c->pid);
		text = read_whole(path);
		c->nvmas = text ? smaps_parse(text, &c->vmas) : -1;
		free(text);
		if (c->nvmas <= 0)
			c->nvmas = -2;
	}
	return c->nvmas > 0;
}

static int measure_region(const struct region *r, void *arg)
{
	struct measure_ctx *c = arg;
	uint64_t pages = (r->end - r->start) / LEDGER_PAGE_SIZE;
	uint64_t present = 0, swapped = 0;
	uint32_t *row;
	bool ok = false;

	if (r->origin == REGION_PREEXISTING)
		return 0;
	if (r->origin == REGION_TRACED)
		row = &c->tab->v[2 * c->traced++];
	else
		row = &c->tab->v[2 * (c->tab->n + c->inherited++)];
	row[0] = row[1] = 0;
	last_stats.regions++;
	last_stats.pages += pages;
	if (pages >= UINT32_MAX)
		return 0; /* 16 TiB: no figure fits */
	if (c->fd >= 0 && r->end - r->start <= RES_PAGEMAP_MAX) {
		ok = !pagemap_region(c->fd, r->start, r->end, &present, &swapped);
	} else if (have_smaps(c)) {
		smaps_apportion(c->vmas, (size_t)c->nvmas, r->start, r->end, &present, &swapped);
		present /= LEDGER_PAGE_SIZE;
		swapped /= LEDGER_PAGE_SIZE;
		last_stats.from_smaps++;
		ok = true;
	}
	if (ok) {
		row[0] = (uint32_t)present + 1;
		row[1] = (uint32_t)swapped;
	}
	return 0;
}

static int count_rows(const struct region *r, void *arg)
{
	struct res_table *tab = arg;

	tab->n += r->origin == REGION_TRACED;
	tab->ninherited += r->origin == REGION_INHERITED;
	return 0;
}

void residency_free(struct res_table *tab)
{
	free(tab->v);
	memset(tab, 0, sizeof(*tab));
}

/* ---- smaps fallback ---- */

static int cmp_vma(const void *pa, const void *pb)
{
	const struct smaps_vma *a = pa, *b = pb;

	return (a->start > b->start) - (a->start < b->start);
}

long smaps_parse(const char *text, struct smaps_vma **out)
{
	struct smaps_vma *v = NULL, *cur = NULL;
	size_t n = 0, cap = 0;
	const char *line = text;

	*out = NULL;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		uint64_t a, b, kb;
		char name[16];

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " ", &a, &b) == 2 && a < b) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				struct smaps_vma *nv = realloc(v, ncap * sizeof(*nv));
				if (!nv) {
					free(v);
					return -1;
				}
				v = nv;
				cap = ncap;
			}
			cur = &v[n++];
			*cur = (struct smaps_vma){.start = a, .end = b};
		} else if (cur && sscanf(line, "%15[A-Za-z_]: %" SCNu64 " kB", name, &kb) == 2) {
			if (strcmp(name, "Rss") == 0)
				cur->rss = kb * 1024;
			else if (strcmp(name, "Swap") == 0)
				cur->swap = kb * 1024;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_vma);
	*out = v;
	return (long)n;
}

/* v[] sorted by start, not overlapping (as the kernel lists them). A VMA that
 * [start, end) covers only in part gives it its share by length: smaps counts
 * per VMA, and neighbouring mappings of the same kind share one. */
void smaps_apportion(const struct smaps_vma *v, size_t n, uint64_t start, uint64_t end,
		     uint64_t *resident, uint64_t *swapped)
{
	size_t lo = 0, hi = n;
	unsigned __int128 res = 0, swp = 0;

	while (lo < hi) { /* first VMA that ends above start */
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].end <= start)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < n && v[i].start < end; i++) {
		uint64_t a = v[i].start > start ? v[i].start : start;
		uint64_t b = v[i].end < end ? v[i].end : end;
		uint64_t len = v[i].end - v[i].start;

		res += (unsigned __int128)v[i].rss * (b - a) / len;
		swp += (unsigned __int128)v[i].swap * (b - a) / len;
	}
	/* whole pages, as pagemap would count them */
	*resident = (uint64_t)res & ~(LEDGER_PAGE_SIZE - 1);
	*swapped = (uint64_t)swp & ~(LEDGER_PAGE_SIZE - 1);
}

static char *read_whole(const char *path)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf)
		goto fail;
	for (;;) {
		ssize_t got;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto fail;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	return buf;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

/* ---- measure ---- */

static int open_pagemap(pid_t pid)
{
	char path[64];
	uint64_t probe;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* refused, or a process whose memory is gone (a zombie reads as empty) */
	if (pread(fd, &probe, sizeof(probe), 0) != sizeof(probe)) {
		close(fd);
		return -1;
	}
	return fd;
}

int residency_measure(struct addr_space *as)
{
	struct measure_ctx c = {.tab = &as->res, .pid = as->pid, .fd = -1, .nvmas = -1};
	size_t n = 0;

	memset(&last_stats, 0, sizeof(last_stats));
	residency_free(&as->res);
	if (as->pid <= 0)
		return -ESRCH;
	if (!batch)
		batch = malloc(PAGEMAP_BATCH * sizeof(*batch));
	if (batch)
		c.fd = open_pagemap(as->pid);
	if (c.fd < 0 && !have_smaps(&c))
		return -ESRCH; /* gone, or the kernel will not say */
	ledger_foreach(as->ledger, count_rows, &as->res);
	n = as->res.n + as->res.ninherited;
	as->res.v = n ? calloc(n, 2 * sizeof(uint32_t)) : NULL;
	if (n && !as->res.v) {
		as->res.n = as->res.ninherited = 0;
		if (c.fd >= 0)
			close(c.fd);
		free(c.vmas);
		return -ENOMEM;
	}
	ledger_foreach(as->ledger, measure_region, &c);
	as->res.measured = true;
	if (c.fd >= 0)
		close(c.fd);
	free(c.vmas);
	return 0;
}
