/* report/report.c - the leak report writer: groups the still-mapped regions of a
 * snapshot into call sites, applies --min-age/--min-size and the site categories,
 * and writes the text, JSON (schema 1) or folded report of docs/interface.md. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "decoder/format.h"

#ifndef VMLEAK_VERSION
#define VMLEAK_VERSION "0.0.0"
#endif

#define TEXT_MAX_PIDS 8

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
	char *cwd; /* text: source paths are shown relative to it; may be NULL */
};

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

static uint64_t region_len(const struct region *r)
{
	return r->end - r->start;
}

static const char *kind_name(unsigned kind)
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

static const char *op_name(unsigned op)
{
	if (op >= MEM_OP_COUNT)
		return "none";
	return mem_op_name((enum mem_op)op);
}

/* The region's flags as '|'-joined names; "" when it has none worth naming. */
static void region_flags_string(char *buf, size_t size, const struct region *r)
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

static const char *region_path(const struct report_data *d, const struct region *r)
{
	if (!r->path || !d->paths)
		return NULL;
	return strtab_get(d->paths, r->path);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

static double finite_or_zero(double v)
{
	return isfinite(v) && v > 0 ? v : 0;
}

static long proc_index(const struct report_data *d, int32_t pid)
{
	for (size_t i = 0; i < d->nprocs; i++)
		if (d->procs[i].pid == pid)
			return (long)i;
	return -1;
}

static const char *pid_exe(const struct report_data *d, int32_t pid)
{
	long i = proc_index(d, pid);

	return i < 0 ? NULL : d->procs[i].exe;
}

/* ---- grouping ---- */

static int cmp_site_key(const struct region *a, const struct region *b)
{
	if (a->site != b->site)
		return a->site < b->site ? -1 : 1;
	if (a->op != b->op)
		return a->op < b->op ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->prot != b->prot)
		return a->prot < b->prot ? -1 : 1;
	if (a->flags != b->flags)
		return a->flags < b->flags ? -1 : 1;
	if (a->site == 0 && region_len(a) != region_len(b))
		return region_len(a) < region_len(b) ? -1 : 1;
	return 0;
}

static int32_t region_pid(const struct report_data *d, const struct region *r)
{
	return d->pid_of ? d->pid_of(d->pid_ctx, r) : r->tid;
}

static int cmp_region_ptr(const void *pa, const void *pb, void *arg)
{
	const struct report_data *d = arg;
	const struct region *a = *(const struct region *const *)pa;
	const struct region *b = *(const struct region *const *)pb;
	int c = cmp_site_key(a, b);

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

/* Filter and sort the caller's pointer array in place: no copy of the regions,
 * so a report of a million regions costs the pointers the caller already has. */
static int collect_regions(struct report_ctx *c)
{
	const struct report_data *d = c->d;

	c->regs = d->regions;
	for (size_t i = 0; i < d->nregions; i++) {
		const struct region *r = d->regions[i];

		if (r->origin == REGION_PREEXISTING || r->end <= r->start)
			continue;
		if (!region_is_old_enough(d, c->o, r))
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
	if (!d->resolve || d->resolve(d->resolve_ctx, s->regs[0]->site, s->regs[0], &info))
		return 0;
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

static void site_add_region(struct site *s, const struct region *r)
{
	uint64_t len = region_len(r);

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

static int build_sites(struct report_ctx *c)
{
	size_t i = 0;
	int err;

	c->sites = calloc(c->nregs ? c->nregs : 1, sizeof(*c->sites));
	if (!c->sites)
		return -ENOMEM;
	while (i < c->nregs) {
		struct site *s = &c->sites[c->nsites];
		size_t j = i;

		while (j < c->nregs && cmp_site_key(c->regs[i], c->regs[j]) == 0)
			site_add_region(s, c->regs[j++]);
		s->regs = &c->regs[i];
		c->nsites++;
		i = j;
		if (s->bytes < c->o->min_size) {
			c->nsites--;
			memset(s, 0, sizeof(*s));
			continue;
		}
		err = resolve_site(c->d, s);
		if (err)
			return err;
		s->suppressed = category_is_suppressed(s->category);
	}
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
		}
		c->cat_regions[s->category] += s->n;
		c->cat_bytes[s->category] += s->bytes;
	}
	return 0;
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

static const struct pid_total *find_pid_total(const struct report_ctx *c, int32_t pid)
{
	struct pid_total key = {.pid = pid};

	if (!c->npids)
		return NULL;
	return bsearch(&key, c->pids, c->npids, sizeof(*c->pids), cmp_pid_total);
}

/* ---- JSON ---- */

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 when invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* second byte ranges that exclude overlongs, surrogates and > U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* A JSON string for any bytes: control characters escaped, invalid UTF-8 bytes
 * replaced by U+FFFD. NULL writes null. */
static void json_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	if (!str) {
		fputs("null", f);
		return;
	}
	n = strlen(str);
	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char ch = s[i];
		size_t len;

		switch (ch) {
		case '"':
			fputs("\\\"", f);
			i++;
			continue;
		case '\\':
			fputs("\\\\", f);
			i++;
			continue;
		case '\n':
			fputs("\\n", f);
			i++;
			continue;
		case '\t':
			fputs("\\t", f);
			i++;
			continue;
		case '\r':
			fputs("\\r", f);
			i++;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f) {
			fprintf(f, "\\u%04x", ch);
			i++;
			continue;
		}
		len = utf8_seq_len(s + i, n - i);
		if (!len) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		fwrite(s + i, 1, len, f);
		i += len;
	}
	fputc('"', f);
}

static void json_ms(FILE *f, uint32_t ms)
{
	fprintf(f, "%" PRIu32 ".%03" PRIu32, ms / 1000, ms % 1000);
}

static void json_hex(FILE *f, uint64_t v)
{
	fprintf(f, "\"0x%" PRIx64 "\"", v);
}

static void json_head(struct report_ctx *c)
{
	const struct report_data *d = c->d;
	FILE *f = c->out;

	fprintf(f, "{\"vmleak\": 1, \"version\": ");
	json_str(f, VMLEAK_VERSION);
	fputs(", \"mode\": ", f);
	json_str(f, d->mode);
	fputs(", \"command\": ", f);
	if (d->command) {
		fputc('[', f);
		for (size_t i = 0; d->command[i]; i++) {
			if (i)
				fputs(", ", f);
			json_str(f, d->command[i]);
		}
		fputc(']', f);
	} else {
		fputs("null", f);
	}
	fputs(", \"pids\": [", f);
	for (size_t i = 0; i < d->npids; i++)
		fprintf(f, "%s%" PRId32, i ? ", " : "", d->pids[i]);
	fprintf(f,
		"], \"duration_s\": %.3f, \"final\": %s, \"exit\": ", finite_or_zero(d->duration_s),
		d->final ? "true" : "false");
	if (d->has_exit) {
		fprintf(f, "{\"pid\": %" PRId32 ", \"code\": ", d->exit_pid);
		if (d->exit_signal)
			fprintf(f, "null, \"signal\": %d}", d->exit_signal);
		else
			fprintf(f, "%d, \"signal\": null}", d->exit_code);
	} else {
		fputs("null", f);
	}
	fprintf(f,
		", \"events\": {\"mmap\": %" PRIu64 ", \"munmap\": %" PRIu64
		", \"mremap\": %" PRIu64 ", \"brk\": %" PRIu64 ", \"shmat\": %" PRIu64
		", \"shmdt\": %" PRIu64 ", \"failed\": %" PRIu64 "}",
		d->events[MEM_MMAP], d->events[MEM_MUNMAP], d->events[MEM_MREMAP],
		d->events[MEM_BRK], d->events[MEM_SHMAT], d->events[MEM_SHMDT], d->failed);
	fprintf(f,
		", \"totals\": {\"regions\": %zu, \"bytes\": %" PRIu64 ", \"sites\": %zu"
		", \"suppressed_regions\": %zu, \"suppressed_bytes\": %" PRIu64 "}",
		c->unsup_regions, c->unsup_bytes, c->unsup_sites, c->sup_regions, c->sup_bytes);
}

static void json_process(FILE *f, bool first, int32_t pid, const char *exe,
			 const struct pid_total *t)
{
	fprintf(f, "%s{\"pid\": %" PRId32 ", \"exe\": ", first ? "" : ", ", pid);
	json_str(f, exe);
	fprintf(f, ", \"regions\": %zu, \"bytes\": %" PRIu64 "}", t ? t->regions : 0,
		t ? t->bytes : 0);
}

/* The processes the tracer knows, then any other pid that holds regions. */
static void json_processes(struct report_ctx *c)
{
	const struct report_data *d = c->d;
	bool first = true;

	fputs(", \"processes\": [", c->out);
	for (size_t i = 0; i < d->nprocs; i++) {
		json_process(c->out, first, d->procs[i].pid, d->procs[i].exe,
			     find_pid_total(c, d->procs[i].pid));
		first = false;
	}
	for (size_t i = 0; i < c->npids; i++) {
		if (proc_index(d, c->pids[i].pid) >= 0)
			continue;
		json_process(c->out, first, c->pids[i].pid, NULL, &c->pids[i]);
		first = false;
	}
	fputc(']', c->out);
}

static void json_flags(FILE *f, const struct region *r)
{
	char buf[512];
	char *p, *save = NULL;
	bool first = true;

	region_flags_string(buf, sizeof(buf), r);
	fputc('[', f);
	for (p = strtok_r(buf, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
		fputs(first ? "" : ", ", f);
		json_str(f, p);
		first = false;
	}
	fputc(']', f);
}

static void json_frame(FILE *f, const struct frame_info *fr)
{
	fputs("{\"pc\": ", f);
	json_hex(f, fr->pc);
	fputs(", \"function\": ", f);
	json_str(f, fr->function);
	fputs(", \"offset\": ", f);
	if (fr->function || fr->offset)
		json_hex(f, fr->offset);
	else
		fputs("null", f);
	fputs(", \"module\": ", f);
	json_str(f, fr->module);
	fputs(", \"file\": ", f);
	json_str(f, fr->file);
	if (fr->line > 0)
		fprintf(f, ", \"line\": %d}", fr->line);
	else
		fputs(", \"line\": null}", f);
}

static void json_region(FILE *f, const struct report_data *d, const struct region *r)
{
	fprintf(f, "{\"pid\": %" PRId32 ", \"tid\": %" PRId32 ", \"start\": ", region_pid(d, r),
		r->tid);
	json_hex(f, r->start);
	fputs(", \"end\": ", f);
	json_hex(f, r->end);
	fprintf(f, ", \"length\": %" PRIu64 ", \"at_s\": ", region_len(r));
	json_ms(f, r->time_ms);
	fputs(", \"path\": ", f);
	json_str(f, region_path(d, r));
	fputc('}', f);
}

static void json_site(struct report_ctx *c, const struct site *s)
{
	const struct region *r = s->regs[0];
	FILE *f = c->out;
	char prot[4];

	format_prot_rwx(prot, r->prot);
	fprintf(f, "{\"bytes\": %" PRIu64 ", \"count\": %zu, \"syscall\": ", s->bytes, s->n);
	json_str(f, op_name(r->op));
	fprintf(f, ", \"kind\": \"%s\", \"prot\": ", kind_name(r->kind));
	json_str(f, prot);
	fputs(", \"flags\": ", f);
	json_flags(f, r);
	fputs(", \"first_s\": ", f);
	json_ms(f, s->first_ms);
	fputs(", \"last_s\": ", f);
	json_ms(f, s->last_ms);
	fprintf(f, ", \"suppressed\": %s, \"category\": \"%s\", \"frames\": [",
		s->suppressed ? "true" : "false", site_category_name(s->category));
	for (size_t i = 0; i < s->nframes; i++) {
		fputs(i ? ", " : "", f);
		json_frame(f, &s->frames[i]);
	}
	fputs("], \"regions\": [", f);
	for (size_t i = 0; i < s->n; i++) {
		fputs(i ? ", " : "", f);
		json_region(f, c->d, s->regs[i]);
	}
	fputs("]}", f);
}

static void json_verify(struct report_ctx *c)
{
	const struct report_data *d = c->d;
	FILE *f = c->out;

	fprintf(f, ", \"verify\": {\"checked\": %zu, \"mismatches\": [", d->verify_checked);
	for (size_t i = 0; i < d->nmismatches; i++) {
		const struct verify_mismatch *m = &d->mismatches[i];

		fprintf(f, "%s{\"pid\": %" PRId32 ", \"start\": ", i ? ", " : "", m->pid);
		json_hex(f, m->start);
		fputs(", \"end\": ", f);
		json_hex(f, m->end);
		fputs(", \"problem\": ", f);
		json_str(f, m->problem);
		fputc('}', f);
	}
	fputs("]}", f);
}

static void write_json(struct report_ctx *c)
{
	bool first = true;

	json_head(c);
	json_processes(c);
	fputs(", \"sites\": [", c->out);
	for (size_t i = 0; i < c->nsites; i++) {
		if (c->sites[i].suppressed && !c->o->all)
			continue;
		fputs(first ? "" : ", ", c->out);
		json_site(c, &c->sites[i]);
		first = false;
	}
	fputc(']', c->out);
	if (c->d->verify)
		json_verify(c);
	fputs("}\n", c->out);
}

/* ---- text ---- */

/* Hostile strings (paths, argv) in the text report: control bytes as \xNN. */
static void text_str(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void text_size(FILE *f, uint64_t bytes)
{
	char buf[32];

	report_format_size(buf, sizeof(buf), bytes);
	fputs(buf, f);
}

static void text_seconds(FILE *f, double s)
{
	s = finite_or_zero(s);
	fprintf(f, s < 10 ? "%.2f s" : "%.1f s", s);
}

static void text_ms(FILE *f, uint32_t ms)
{
	fprintf(f, "%" PRIu32 ".%03" PRIu32 " s", ms / 1000, ms % 1000);
}

/* "12 mmap, 1 munmap, 3 brk": nonzero counts only; returns how many written. */
static size_t text_events(FILE *f, const struct report_data *d)
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

static void text_traced_what(FILE *f, const struct report_data *d)
{
	if (d->command && d->command[0]) {
		for (size_t i = 0; d->command[i]; i++) {
			fputs(i ? " " : "", f);
			text_str(f, d->command[i]);
		}
		return;
	}
	fprintf(f, "%s ", d->npids == 1 ? "pid" : "pids");
	for (size_t i = 0; i < d->npids; i++)
		fprintf(f, "%s%" PRId32, i ? "," : "", d->pids[i]);
}

static void text_headline(struct report_ctx *c)
{
	const struct report_data *d = c->d;
	FILE *f = c->out;

	if (!d->final) {
		fputs("-- interim report at +", f);
		text_seconds(f, d->duration_s);
		fputs(" --\n", f);
	}
	if (!c->unsup_regions) {
		fputs("vmleak: no unmatched mappings (", f);
		if (text_events(f, d))
			fputs(" traced", f);
		fputs(" in ", f);
		text_seconds(f, d->duration_s);
		fputs(")\n", f);
		return;
	}
	fprintf(f, "vmleak: %zu %s (", c->unsup_regions,
		plural(c->unsup_regions, "region", "regions"));
	text_size(f, c->unsup_bytes);
	fprintf(f, ") never unmapped, from %zu call %s, in %zu %s\n", c->unsup_sites,
		plural(c->unsup_sites, "site", "sites"), c->npids,
		plural(c->npids, "process", "processes"));
	fputs("        traced ", f);
	text_traced_what(f, d);
	fputs(" for ", f);
	text_seconds(f, d->duration_s);
	fputs(": ", f);
	text_events(f, d);
	fputc('\n', f);
}

static int cmp_int32(const void *pa, const void *pb)
{
	int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;

	return (a > b) - (a < b);
}

/* "pid 5981" or "pids 1,2,3" (at most TEXT_MAX_PIDS, then ",..."). */
static void text_site_pids(FILE *f, const struct report_data *d, const struct site *s)
{
	int32_t *pids = malloc(s->n * sizeof(*pids));
	size_t n = 0;

	if (!pids)
		return;
	for (size_t i = 0; i < s->n; i++)
		pids[i] = region_pid(d, s->regs[i]);
	qsort(pids, s->n, sizeof(*pids), cmp_int32);
	for (size_t i = 0; i < s->n; i++)
		if (!n || pids[n - 1] != pids[i])
			pids[n++] = pids[i];
	fprintf(f, "  %s ", n == 1 ? "pid" : "pids");
	for (size_t i = 0; i < n && i < TEXT_MAX_PIDS; i++)
		fprintf(f, "%s%" PRId32, i ? "," : "", pids[i]);
	if (n > TEXT_MAX_PIDS)
		fprintf(f, ",... (%zu processes)", n);
	free(pids);
}

/* The file a site maps, or "N files" when its regions map several. */
static void text_site_path(FILE *f, const struct report_data *d, const struct site *s)
{
	const char *first = region_path(d, s->regs[0]);
	size_t others = 0;

	for (size_t i = 1; i < s->n; i++)
		if (s->regs[i]->path != s->regs[0]->path)
			others++;
	if (others) {
		fputs("  several files", f);
		return;
	}
	if (first) {
		fputs("  ", f);
		text_str(f, first);
	}
}

static void text_site_title(struct report_ctx *c, size_t num, const struct site *s)
{
	const struct region *r = s->regs[0];
	FILE *f = c->out;
	char prot[4], flags[512];

	format_prot_rwx(prot, r->prot);
	region_flags_string(flags, sizeof(flags), r);
	fprintf(f, "#%zu  ", num);
	text_size(f, s->bytes);
	fprintf(f, " in %zu %s  %s", s->n, plural(s->n, "region", "regions"), op_name(r->op));
	if (strcmp(op_name(r->op), kind_name(r->kind)) != 0)
		fprintf(f, " %s", kind_name(r->kind));
	fprintf(f, " %s%s%s", prot, flags[0] ? " " : "", flags);
	if (r->kind == REGION_FILE || r->kind == REGION_SHM)
		text_site_path(f, c->d, s);
	text_site_pids(f, c->d, s);
	if (s->suppressed)
		fprintf(f, "  (suppressed: %s)", site_category_name(s->category));
	fputc('\n', f);
}

static void text_interval(FILE *f, double ms)
{
	if (ms < 1000)
		fprintf(f, "%.1f ms", ms);
	else
		fprintf(f, "%.2f s", ms / 1000);
}

static void text_site_sizes_times(FILE *f, const struct site *s)
{
	fputs("    ", f);
	if (s->min_len == s->max_len) {
		text_size(f, s->min_len);
		fputs(s->n == 1 ? ", " : " each, ", f);
	} else {
		fputs("sizes from ", f);
		text_size(f, s->min_len);
		fputs(" to ", f);
		text_size(f, s->max_len);
		fputs(", ", f);
	}
	if (s->n == 1 || s->first_ms == s->last_ms) {
		fputs("made at +", f);
		text_ms(f, s->first_ms);
		fputc('\n', f);
		return;
	}
	fputs("made from +", f);
	text_ms(f, s->first_ms);
	fputs(" to +", f);
	text_ms(f, s->last_ms);
	fputs(" (one every ", f);
	text_interval(f, (double)(s->last_ms - s->first_ms) / (double)(s->n - 1));
	fputs(")\n", f);
}

/* A source path relative to the working directory when it lies below it. */
static const char *short_source_path(const char *file, const char *cwd)
{
	size_t n = cwd ? strlen(cwd) : 0;

	if (n > 1 && strncmp(file, cwd, n) == 0 && file[n] == '/' && file[n + 1])
		return file + n + 1;
	return file;
}

/* "main (examples/x.c:27)", "__libc_start_main (libc.so.6)", "0x4011 (x+0x11)". */
static void text_frame(FILE *f, const struct frame_info *fr, const char *cwd)
{
	const char *mod = fr->module ? base_name(fr->module) : NULL;

	if (fr->function)
		text_str(f, fr->function);
	else
		fprintf(f, "0x%" PRIx64, fr->pc);
	if (fr->file) {
		fputs(" (", f);
		text_str(f, short_source_path(fr->file, cwd));
		if (fr->line > 0)
			fprintf(f, ":%d", fr->line);
		fputc(')', f);
	} else if (mod) {
		fputs(" (", f);
		text_str(f, mod);
		if (!fr->function && fr->offset)
			fprintf(f, "+0x%" PRIx64, fr->offset);
		fputc(')', f);
	}
}

/* The runtime function the call site called (malloc, pthread_create, ...), or NULL
 * when there is none or it is just the syscall's own wrapper (mmap64, __sbrk). */
static const char *site_api(const struct site *s)
{
	const char *api;

	if (!s->callsite)
		return NULL;
	api = s->frames[s->callsite - 1].function;
	if (!api || strstr(api, op_name(s->regs[0]->op)))
		return NULL;
	return api;
}

static void text_site(struct report_ctx *c, size_t num, const struct site *s)
{
	const char *api = site_api(s);
	FILE *f = c->out;

	fputc('\n', f);
	text_site_title(c, num, s);
	text_site_sizes_times(f, s);
	if (!s->nframes) {
		fputs("    (no backtrace: --depth 0 or unwinding failed)\n", f);
		return;
	}
	fputs("    at ", f);
	text_frame(f, &s->frames[s->callsite], c->cwd);
	if (api) {
		fputs(" calling ", f);
		text_str(f, api);
	}
	fputc('\n', f);
	for (size_t i = s->callsite + 1; i < s->nframes; i++) {
		fputs("    by ", f);
		text_frame(f, &s->frames[i], c->cwd);
		fputc('\n', f);
	}
}

/* "loader 1.9 MiB in 7 regions" entries of the "suppressed:" line. */
static size_t text_suppressed_line(struct report_ctx *c)
{
	static const enum site_category cats[] = {CAT_LOADER, CAT_RUNTIME, CAT_USER_SUPPRESSED};
	FILE *f = c->out;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(cats) / sizeof(cats[0]); i++) {
		size_t regions = c->cat_regions[cats[i]];

		if (!regions)
			continue;
		fprintf(f, "%s%s ", n++ ? "; " : "suppressed: ", site_category_name(cats[i]));
		text_size(f, c->cat_bytes[cats[i]]);
		fprintf(f, " in %zu %s", regions, plural(regions, "region", "regions"));
	}
	if (n)
		fputc('\n', f);
	return n;
}

static void text_thread_stacks(struct report_ctx *c)
{
	size_t stacks = c->cat_regions[CAT_THREAD_STACK];

	fprintf(c->out, "thread stacks: %zu (", stacks);
	text_size(c->out, c->cat_bytes[CAT_THREAD_STACK]);
	fprintf(c->out, "), %zu of exited threads\n", c->d->dead_thread_stacks);
}

static void text_summary(struct report_ctx *c)
{
	FILE *f = c->out;
	size_t heap = c->cat_regions[CAT_MALLOC_HEAP], stacks = c->cat_regions[CAT_THREAD_STACK];
	size_t lines;

	if (!c->sup_regions)
		return;
	fputc('\n', f);
	lines = text_suppressed_line(c);
	if (heap) {
		fputs("heap grown by malloc: ", f);
		text_size(f, c->cat_bytes[CAT_MALLOC_HEAP]);
		fprintf(f,
			" in %zu %s (not a per-allocation verdict: use a heap profiler for that)\n",
			heap, plural(heap, "region", "regions"));
		lines++;
	}
	if (stacks) {
		text_thread_stacks(c);
		lines++;
	}
	if (lines && !c->o->all)
		fputs("            (--all lists them)\n", f);
}

static void text_verify(struct report_ctx *c)
{
	const struct report_data *d = c->d;
	FILE *f = c->out;

	fprintf(f, "verify: %zu %s checked, %zu %s\n", d->verify_checked,
		plural(d->verify_checked, "region", "regions"), d->nmismatches,
		plural(d->nmismatches, "mismatch", "mismatches"));
	for (size_t i = 0; i < d->nmismatches; i++) {
		const struct verify_mismatch *m = &d->mismatches[i];

		fprintf(f, "verify: pid %" PRId32 " 0x%" PRIx64 "-0x%" PRIx64 ": ", m->pid,
			m->start, m->end);
		text_str(f, m->problem ? m->problem : "mismatch");
		fputc('\n', f);
	}
}

static void write_text(struct report_ctx *c)
{
	size_t num = 0;

	c->cwd = getcwd(NULL, 0);
	text_headline(c);
	/* a clean run is one line unless --all asks for the suppressed sites, but
	 * stacks kept for threads stay visible: unjoined threads are a classic leak */
	if (!c->unsup_regions && !c->o->all) {
		if (c->cat_regions[CAT_THREAD_STACK])
			text_thread_stacks(c);
		goto verify;
	}
	for (size_t i = 0; i < c->nsites; i++)
		if (!c->sites[i].suppressed)
			text_site(c, ++num, &c->sites[i]);
	if (c->o->all)
		for (size_t i = 0; i < c->nsites; i++)
			if (c->sites[i].suppressed)
				text_site(c, ++num, &c->sites[i]);
	text_summary(c);
verify:
	if (c->d->verify)
		text_verify(c);
}

/* ---- folded ---- */

/* A frame name without the separators of the folded format. */
static void folded_str(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fputc(*p == ';' || *p < 0x20 || *p == 0x7f ? '_' : *p, f);
}

static void folded_frame(FILE *f, const struct frame_info *fr)
{
	if (fr->function) {
		folded_str(f, fr->function);
		return;
	}
	if (!fr->module) {
		fprintf(f, "0x%" PRIx64, fr->pc);
		return;
	}
	folded_str(f, base_name(fr->module));
	if (fr->offset) /* without a function, a resolver may put the module offset here */
		fprintf(f, "+0x%" PRIx64, fr->offset);
}

static void folded_site(struct report_ctx *c, const struct site *s)
{
	const char *exe = pid_exe(c->d, region_pid(c->d, s->regs[0]));
	FILE *f = c->out;

	folded_str(f, exe ? base_name(exe) : "[unknown]");
	for (size_t i = s->nframes; i > s->callsite; i--) {
		fputc(';', f);
		folded_frame(f, &s->frames[i - 1]);
	}
	fprintf(f, ";%s %" PRIu64 "\n", op_name(s->regs[0]->op), s->bytes);
}

static void write_folded(struct report_ctx *c)
{
	for (size_t i = 0; i < c->nsites; i++)
		if (!c->sites[i].suppressed || c->o->all)
			folded_site(c, &c->sites[i]);
}

/* ---- entry point ---- */

static void free_ctx(struct report_ctx *c)
{
	for (size_t i = 0; i < c->nsites; i++)
		free(c->sites[i].frames);
	free(c->sites);
	free(c->pids);
	free(c->cwd);
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
