/* report/write_json.c - the JSON report (schema 1 of docs/interface.md):
 * head, processes, sites with their frames and regions, verify results. Strings
 * are escaped so that any bytes (hostile paths, argv) stay valid JSON. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/format.h"
#include "report/report_priv.h"

#ifndef VMLEAK_VERSION
#define VMLEAK_VERSION "0.0.0"
#endif

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 when invalid. */
size_t utf8_seq_len(const unsigned char *s, size_t n)
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
void json_str(FILE *f, const char *str)
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

static void json_figure(FILE *f, bool known, uint64_t v)
{
	if (known)
		fprintf(f, "%" PRIu64, v);
	else
		fputs("null", f);
}

/* [[t_s, bytes, resident_or_null], ...], or null without a series. */
static void json_series(FILE *f, const struct history_series *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('[', f);
	for (size_t i = 0; i < s->n; i++) {
		const struct history_point *p = &s->pts[i];

		fputs(i ? ", [" : "[", f);
		json_ms(f, p->t_ms);
		fprintf(f, ", %" PRIu64 ", ", p->bytes);
		json_figure(f, p->resident != HISTORY_NO_FIGURE, p->resident);
		fputc(']', f);
	}
	fputc(']', f);
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
	fputs(", \"event_source\": ", f);
	json_str(f, d->event_source);
	fputs(", \"event_source_note\": ", f);
	json_str(f, d->event_source_note && d->event_source_note[0] ? d->event_source_note : NULL);
	fprintf(f, ", \"lost_events\": %" PRIu64, d->lost_events);
	fprintf(f,
		", \"totals\": {\"regions\": %zu, \"bytes\": %" PRIu64 ", \"sites\": %zu"
		", \"suppressed_regions\": %zu, \"suppressed_bytes\": %" PRIu64
		", \"hidden_regions\": %zu, \"hidden_bytes\": %" PRIu64
		", \"exited_processes\": %zu, \"exited_regions\": %zu, \"exited_bytes\": %" PRIu64
		", \"resident_bytes\": ",
		c->unsup_regions, c->unsup_bytes, c->unsup_sites, c->sup_regions, c->sup_bytes,
		c->small_regions + c->young_regions, c->small_bytes + c->young_bytes,
		c->exited_procs, c->exited_regions, c->exited_bytes);
	json_figure(f, c->unsup_res_known, c->unsup_resident);
	fputs(", \"swapped_bytes\": ", f);
	json_figure(f, c->unsup_res_known, c->unsup_swapped);
	fputc('}', f);
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
	fputs(", \"build_id\": ", f);
	json_str(f, fr->build_id);
	fputs(", \"module_offset\": ", f);
	if (fr->module)
		json_hex(f, fr->module_offset);
	else
		fputs("null", f);
	fputs(", \"file\": ", f);
	json_str(f, fr->file);
	if (fr->line > 0)
		fprintf(f, ", \"line\": %d", fr->line);
	else
		fputs(", \"line\": null", f);
	fputc('}', f);
}

/* A remapped region belongs to its latest resizing call; the frames of the call
 * that first mapped it, or null. */
static void json_first_frames(FILE *f, const struct report_data *d, const struct region *r)
{
	struct report_site_info info = {0};

	if (!r->first_site) {
		fputs("null", f);
		return;
	}
	fputc('[', f);
	if (d->resolve && !d->resolve(d->resolve_ctx, r->first_site, r, &info))
		for (size_t i = 0; i < info.nframes; i++) {
			fputs(i ? ", " : "", f);
			json_frame(f, &info.frames[i]);
		}
	fputc(']', f);
}

static void json_region(struct report_ctx *c, const struct region *const *slot)
{
	const struct region *r = *slot;
	const struct report_data *d = c->d;
	FILE *f = c->out;
	struct region_residency res;
	bool known = region_residency_at(c, slot, &res);

	fprintf(f, "{\"pid\": %" PRId32 ", \"tid\": %" PRId32 ", \"start\": ", region_pid(d, r),
		r->tid);
	json_hex(f, r->start);
	fputs(", \"end\": ", f);
	json_hex(f, r->end);
	fprintf(f, ", \"length\": %" PRIu64 ", \"resident_bytes\": ", region_len(r));
	json_figure(f, known, known ? res.resident : 0);
	fputs(", \"swapped_bytes\": ", f);
	json_figure(f, known, known ? res.swapped : 0);
	fputs(", \"at_s\": ", f);
	json_ms(f, r->time_ms);
	fputs(", \"path\": ", f);
	json_str(f, region_path(d, r));
	fputs(", \"first_frames\": ", f);
	json_first_frames(f, d, r);
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
	fputs(", \"resident_bytes\": ", f);
	json_figure(f, s->res_known, s->resident);
	fputs(", \"swapped_bytes\": ", f);
	json_figure(f, s->res_known, s->swapped);
	fprintf(f, ", \"suppressed\": %s, \"category\": \"%s\", \"frames\": [",
		s->suppressed ? "true" : "false", site_category_name(s->category));
	for (size_t i = 0; i < s->nframes; i++) {
		fputs(i ? ", " : "", f);
		json_frame(f, &s->frames[i]);
	}
	fputs("], \"pids\": [", f);
	int32_t *pids;
	size_t npids = site_pids(c->d, s, &pids);
	for (size_t i = 0; i < npids; i++)
		fprintf(f, "%s%" PRId32, i ? ", " : "", pids[i]);
	free(pids);
	fputs("], \"trend\": ", f);
	json_str(f, trend_name(s->trend.kind));
	fputs(", \"series\": ", f);
	json_series(f, s->series);
	if (!s->nframes && r->origin == REGION_RESYNCED)
		fputs(", \"no_backtrace\": \"found in /proc/PID/maps after lost kernel events\"",
		      f);
	fputs(", \"regions\": [", f);
	for (size_t i = 0; i < s->n; i++) {
		fputs(i ? ", " : "", f);
		json_region(c, &s->regs[i]);
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

void write_json(struct report_ctx *c)
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
	fputs("], \"series_other\": ", c->out);
	json_series(c->out, c->d->history ? history_other(c->d->history) : NULL);
	if (c->d->verify)
		json_verify(c);
	fputs("}\n", c->out);
}
