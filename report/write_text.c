/* report/write_text.c - the human-readable text report of docs/interface.md:
 * headline, one block per site (title, sizes and times, frames with source paths
 * relative to report_options.cwd), the summary and suppressed lines, verify
 * results. Hostile strings are printed with control bytes as \xNN. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/format.h"
#include "report/report_priv.h"

#define TEXT_MAX_PIDS 8

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

/* Attach mode, only when there is something to say: the kernel lost events, or
 * vmleak could not use them. */
static void text_event_source(FILE *f, const struct report_data *d)
{
	if (d->lost_events)
		fprintf(f,
			"        events: %" PRIu64
			" kernel events lost; address spaces resynchronised "
			"from /proc/PID/maps\n",
			d->lost_events);
	if (d->event_source && !strcmp(d->event_source, "ptrace") && d->event_source_note &&
	    d->event_source_note[0] && strcmp(d->event_source_note, "--events ptrace"))
		fprintf(f, "        events: ptrace syscall stops (kernel events unavailable: %s)\n",
			d->event_source_note);
}

static void text_count(FILE *f, size_t regions, uint64_t bytes)
{
	fprintf(f, "%zu %s (", regions, plural(regions, "region", "regions"));
	text_size(f, bytes);
	fputc(')', f);
}

/* What --min-size, --min-age and the exited-process summary kept off the list,
 * so that a short or empty report never hides that there was more. */
static void text_hidden(struct report_ctx *c)
{
	FILE *f = c->out;

	if (c->small_regions || c->young_regions) {
		fputs("        not shown: ", f);
		if (c->small_regions) {
			text_count(f, c->small_regions, c->small_bytes);
			fputs(" in sites under --min-size ", f);
			text_size(f, c->o->min_size);
		}
		if (c->young_regions) {
			fputs(c->small_regions ? ", " : "", f);
			text_count(f, c->young_regions, c->young_bytes);
			fprintf(f, " younger than --min-age %g s", c->o->min_age);
		}
		fputc('\n', f);
	}
	if (c->exited_regions) {
		fprintf(f, "        exited during the window: %zu %s held ", c->exited_procs,
			plural(c->exited_procs, "process", "processes"));
		text_count(f, c->exited_regions, c->exited_bytes);
		fputs(" when they exited (the kernel freed them; --exited lists them)\n", f);
	}
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
		bool hidden = c->young_regions || c->small_regions || c->exited_regions;
		fprintf(f, "vmleak: no unmatched mappings%s (", hidden ? " shown" : "");
		if (event_counts(f, d))
			fputs(" traced", f);
		fputs(" in ", f);
		text_seconds(f, d->duration_s);
		fputs(")\n", f);
		text_hidden(c);
		text_event_source(f, d);
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
	event_counts(f, d);
	fputc('\n', f);
	text_hidden(c);
	text_event_source(f, d);
}

/* "pid 5981" or "pids 1,2,3" (at most TEXT_MAX_PIDS, then ",..."). */
static void text_site_pids(FILE *f, const struct report_data *d, const struct site *s)
{
	int32_t *pids;
	size_t n = site_pids(d, s, &pids);

	if (!pids)
		return;
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

/* " (512.0 KiB resident)" after a site's size, when the tracer measured. */
static void text_site_resident(struct report_ctx *c, const struct site *s)
{
	FILE *f = c->out;

	if (!c->d->residency)
		return;
	if (!s->res_known) {
		fputs(" (no resident figure)", f);
		return;
	}
	fputs(" (", f);
	text_size(f, s->resident);
	fputs(" resident", f);
	if (s->swapped) {
		fputs(", ", f);
		text_size(f, s->swapped);
		fputs(" swapped", f);
	}
	if (s->res_known < s->n)
		fprintf(f, " in %zu of %zu regions", s->res_known, s->n);
	fputc(')', f);
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
	text_site_resident(c, s);
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

/* "11.0 s", "250 ms" */
static void text_span(FILE *f, double s)
{
	s = finite_or_zero(s);
	if (s < 1)
		fprintf(f, "%.0f ms", s * 1000);
	else
		fprintf(f, "%.1f s", s);
}

/* The site's growth over the trace in one line, when there is a series. */
static void text_site_trend(FILE *f, const struct site *s)
{
	const struct trend *t = &s->trend;

	if (t->kind == TREND_UNKNOWN)
		return;
	fputs("    trend: ", f);
	switch (t->kind) {
	case TREND_GROWING:
		if (t->step_s > 0) {
			fputs("growing ", f);
			text_size(f, t->step_bytes);
			fputs(" every ", f);
			text_span(f, t->step_s);
			fputs(" (", f);
			text_size(f, (uint64_t)finite_or_zero(t->rate_bps));
			fputs("/s), still growing at the end", f);
		} else {
			fputs("grew by ", f);
			text_size(f, t->step_bytes);
			fprintf(f, " at +%.1f s, too recently to tell whether it stopped",
				t->last_growth_s);
		}
		break;
	case TREND_PLATEAU:
		fputs("grew to ", f);
		text_size(f, t->peak_bytes);
		fprintf(f, " by +%.1f s, then flat (to +%.1f s)", t->peak_s, t->end_s);
		break;
	case TREND_FLAT:
		fputs("flat at ", f);
		text_size(f, t->end_bytes);
		fprintf(f, " from +%.1f s to +%.1f s", t->start_s, t->end_s);
		break;
	case TREND_SHRINKING:
		fputs("peaked at ", f);
		text_size(f, t->peak_bytes);
		fprintf(f, " at +%.1f s, down to ", t->peak_s);
		text_size(f, t->end_bytes);
		fprintf(f, " at +%.1f s", t->end_s);
		break;
	default:
		break;
	}
	fputc('\n', f);
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

/* "first mapped at make_table (x.c:12)": where remapped regions were made before
 * the resizing call the site is about; "at N call sites" when they differ. */
static void text_first_mapped(struct report_ctx *c, const struct site *s)
{
	const struct report_data *d = c->d;
	struct report_site_info info = {0};
	uint32_t first = s->regs[0]->first_site;
	size_t others = 0;

	if (!first)
		return;
	for (size_t i = 1; i < s->n; i++)
		if (s->regs[i]->first_site != first)
			others++;
	fputs("    first mapped ", c->out);
	if (others) {
		fprintf(c->out, "at %zu call sites (JSON first_frames has them)\n", others + 1);
		return;
	}
	if (!d->resolve || d->resolve(d->resolve_ctx, first, s->regs[0], &info) || !info.nframes) {
		fputs("elsewhere (no backtrace)\n", c->out);
		return;
	}
	fputs("at ", c->out);
	text_frame(c->out, &info.frames[info.callsite < info.nframes ? info.callsite : 0],
		   c->o->cwd);
	fputc('\n', c->out);
}

static void text_site(struct report_ctx *c, size_t num, const struct site *s)
{
	const char *api = site_api(s);
	FILE *f = c->out;

	fputc('\n', f);
	text_site_title(c, num, s);
	text_site_sizes_times(f, s);
	text_site_trend(f, s);
	if (!s->nframes && s->regs[0]->origin == REGION_RESYNCED) {
		fputs("    (no backtrace: found in /proc/PID/maps after lost kernel events)\n", f);
		return;
	}
	if (!s->nframes) {
		fputs("    (no backtrace: --depth 0 or unwinding failed)\n", f);
		return;
	}
	fputs("    at ", f);
	text_frame(f, &s->frames[s->callsite], c->o->cwd);
	if (api) {
		fputs(" calling ", f);
		text_str(f, api);
	}
	fputc('\n', f);
	for (size_t i = s->callsite + 1; i < s->nframes; i++) {
		fputs("    by ", f);
		text_frame(f, &s->frames[i], c->o->cwd);
		fputc('\n', f);
	}
	text_first_mapped(c, s);
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

void write_text(struct report_ctx *c)
{
	size_t num = 0;

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
