/* report/write_html.c - the HTML report (--format html) of docs/interface.md:
 * one self-contained page (inline CSS, SVG and script; a Content-Security-Policy
 * that forbids every fetch; no URL anywhere) with the headline, an SVG chart of
 * live (and resident) bytes over time for the top sites from their history
 * series, a table of the top sites with expandable backtraces (the rest summed
 * in one row), and a leaked-bytes flame graph built from the frames the folded
 * writer uses. Every string from the trace (paths, symbols, argv) is escaped. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/format.h"
#include "report/report_priv.h"

#ifndef VMLEAK_VERSION
#define VMLEAK_VERSION "0.0.0"
#endif

#define HTML_CHART_SITES 8    /* lines in the chart; the other sites are one "rest" line */
#define HTML_TABLE_SITES 100  /* rows in the table; the other sites are summed in one row */
#define HTML_FLAME_W	 1200 /* flame graph width in SVG units */
#define HTML_FLAME_ROW	 18
#define HTML_FLAME_NODES 4000 /* bound on the flame graph's boxes */
#define CHART_W		 960
#define CHART_H		 320
#define CHART_L		 78 /* left margin: y labels */
#define CHART_R		 30
#define CHART_T		 12
#define CHART_B		 34

static const char *const palette[HTML_CHART_SITES] = {
	"#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
};

/* Any bytes as HTML text or attribute value: markup characters as entities,
 * control bytes as \xNN (as in the text report), invalid UTF-8 as U+FFFD. */
static void html_str(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");
	size_t n = strlen((const char *)s);

	for (size_t i = 0; i < n;) {
		unsigned char ch = s[i];
		size_t len;

		switch (ch) {
		case '&':
			fputs("&amp;", f);
			i++;
			continue;
		case '<':
			fputs("&lt;", f);
			i++;
			continue;
		case '>':
			fputs("&gt;", f);
			i++;
			continue;
		case '"':
			fputs("&quot;", f);
			i++;
			continue;
		case '\'':
			fputs("&#39;", f);
			i++;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f || ch == '\\') {
			fprintf(f, "\\x%02x", ch);
			i++;
			continue;
		}
		len = utf8_seq_len(s + i, n - i);
		if (!len) {
			fputs("\xef\xbf\xbd", f);
			i++;
			continue;
		}
		fwrite(s + i, 1, len, f);
		i += len;
	}
}

static void html_size(FILE *f, uint64_t bytes)
{
	char buf[32];

	report_format_size(buf, sizeof(buf), bytes);
	fputs(buf, f);
}

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* A frame as the text report names it: FUNCTION (FILE:LINE), FUNCTION (MODULE),
 * or 0xPC (MODULE+0xOFFSET); source paths below cwd relative to it. */
static void html_frame(FILE *f, const struct frame_info *fr, const char *cwd)
{
	size_t n = cwd ? strlen(cwd) : 0;

	if (fr->function) {
		fputs("<b>", f);
		html_str(f, fr->function);
		fputs("</b> (", f);
		if (fr->file && fr->line > 0) {
			/* below the working directory: relative, as in the text report */
			if (n > 1 && strncmp(fr->file, cwd, n) == 0 && fr->file[n] == '/' &&
			    fr->file[n + 1])
				html_str(f, fr->file + n + 1);
			else
				html_str(f, fr->file);
			fprintf(f, ":%d)", fr->line);
		} else {
			html_str(f, fr->module ? base_name(fr->module) : "?");
			fputc(')', f);
		}
		return;
	}
	fprintf(f, "0x%" PRIx64, fr->pc);
	if (fr->module) {
		fputs(" (", f);
		html_str(f, base_name(fr->module));
		fprintf(f, "+0x%" PRIx64 ")", fr->module_offset);
	}
}

static bool site_listed(const struct report_ctx *c, const struct site *s)
{
	return !s->suppressed || c->o->all;
}

/* ---- page head and headline ---- */

static const char html_css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}"
	"h1{font-size:1.3em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.5em 0 .5em}"
	".sub{color:#555}.note{color:#666;font-style:italic}"
	"table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;"
	"padding:3px 6px;text-align:left;vertical-align:top}th{background:#f4f4f4}"
	"td.n{text-align:right;white-space:nowrap}details summary{cursor:pointer}"
	"ol.bt{margin:.3em 0;padding-left:2em;font-family:monospace;font-size:12px}"
	"ol.bt li.rt{color:#888}tr.rest td{font-style:italic;color:#555}"
	"svg text{font:11px sans-serif;fill:#333}.axis{stroke:#999}.grid{stroke:#eee}"
	"polyline.live{fill:none;stroke-width:2}polyline.resident{fill:none;stroke-width:1.5;"
	"stroke-dasharray:5 3;opacity:.8}"
	"#legend span{display:inline-block;margin-right:1.2em;font-size:12px}"
	"#legend i{display:inline-block;width:12px;height:12px;margin-right:4px;"
	"vertical-align:-2px}"
	"#tip{position:fixed;display:none;background:#fffbe6;border:1px solid #bbb;"
	"padding:4px 6px;font-size:12px;pointer-events:none;white-space:pre}"
	"#flame rect{stroke:#fff;stroke-width:.5}#flame g{cursor:pointer}"
	"#flame text{font:11px monospace;pointer-events:none}"
	"input#filter{margin:.3em 0 .6em;width:30em;max-width:100%}";

static void html_head(struct report_ctx *c)
{
	FILE *f = c->out;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>vmleak: ",
	      f);
	if (c->d->command && c->d->command[0])
		html_str(f, base_name(c->d->command[0]));
	else
		fputs("attach", f);
	fprintf(f, "</title>\n<style>%s</style>\n", html_css);
	/* first, so that an exception anywhere below is recorded in the page */
	fputs("<script>(function(){var e=document.documentElement;window.onerror=function(m){"
	      "e.setAttribute('data-vmleak-error',String(m));};document.addEventListener("
	      "'securitypolicyviolation',function(v){e.setAttribute('data-vmleak-error',"
	      "'blocked '+v.violatedDirective);});})();</script>\n</head>\n<body>\n",
	      f);
}

static void html_headline(struct report_ctx *c)
{
	const struct report_data *d = c->d;
	FILE *f = c->out;

	fputs("<h1 id=\"headline\">vmleak: ", f);
	if (!c->unsup_regions) {
		fputs("no unmatched mappings", f);
	} else {
		fprintf(f, "%zu %s (", c->unsup_regions,
			plural(c->unsup_regions, "region", "regions"));
		html_size(f, c->unsup_bytes);
		if (c->unsup_res_known) {
			fputs(", ", f);
			html_size(f, c->unsup_resident);
			fputs(" resident", f);
		}
		fprintf(f, ") never unmapped, from %zu call %s, in %zu %s", c->unsup_sites,
			plural(c->unsup_sites, "site", "sites"), c->npids,
			plural(c->npids, "process", "processes"));
	}
	fputs("</h1>\n<p class=\"sub\">", f);
	if (!d->final)
		fputs("<b>interim report</b> &middot; ", f);
	fputs("traced ", f);
	if (d->command && d->command[0]) {
		for (size_t i = 0; d->command[i]; i++) {
			fputs(i ? " " : "", f);
			html_str(f, d->command[i]);
		}
	} else {
		fprintf(f, "%s ", d->npids == 1 ? "pid" : "pids");
		for (size_t i = 0; i < d->npids; i++)
			fprintf(f, "%s%" PRId32, i ? "," : "", d->pids[i]);
	}
	fprintf(f, " for %.2f s: ", finite_or_zero(d->duration_s));
	event_counts(f, d);
	if (c->sup_regions) {
		fprintf(f, "<br>suppressed (runtime, loader, malloc heap, thread stacks): %zu %s (",
			c->sup_regions, plural(c->sup_regions, "region", "regions"));
		html_size(f, c->sup_bytes);
		fputs(c->o->all ? "), listed below" : "), not listed (--all lists them)", f);
	}
	if (c->small_regions + c->young_regions) {
		fprintf(f, "<br>not shown: %zu regions (", c->small_regions + c->young_regions);
		html_size(f, c->small_bytes + c->young_bytes);
		fputs(") under --min-size or younger than --min-age", f);
	}
	if (c->exited_regions) {
		fprintf(f, "<br>exited during the window: %zu processes held %zu regions (",
			c->exited_procs, c->exited_regions);
		html_size(f, c->exited_bytes);
		fputs(")", f);
	}
	fputs("</p>\n", f);
}

/* ---- the chart ---- */

struct chart {
	const struct site *sites[HTML_CHART_SITES];
	size_t nums[HTML_CHART_SITES]; /* each drawn site's number in the table */
	size_t nsites, nrest;	       /* nrest: listed sites with a series not drawn alone */
	struct history_point *rest;
	size_t nrest_pts;
	double t_max;
	uint64_t y_max;
};

/* The value of series s at time t_ms: its last point at or before t (0 before). */
static uint64_t series_at(const struct history_series *s, uint32_t t_ms, bool resident)
{
	uint64_t v = 0;

	for (size_t i = 0; i < s->n && s->pts[i].t_ms <= t_ms; i++)
		v = resident ? s->pts[i].resident : s->pts[i].bytes;
	return v;
}

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

	return (a > b) - (a < b);
}

/* The listed sites with a series beyond the top ones, summed point by point at
 * the union of their times. */
static void chart_rest(struct report_ctx *c, struct chart *ch, size_t first)
{
	size_t cap = 0, nt = 0, k = 0;
	uint32_t *times;

	for (size_t i = first; i < c->nsites; i++)
		if (site_listed(c, &c->sites[i]) && c->sites[i].series)
			cap += c->sites[i].series->n;
	if (!cap || !(times = malloc(cap * sizeof(*times))))
		return;
	for (size_t i = first; i < c->nsites; i++) {
		const struct history_series *s = c->sites[i].series;

		if (!site_listed(c, &c->sites[i]) || !s)
			continue;
		ch->nrest++;
		for (size_t p = 0; p < s->n; p++)
			times[nt++] = s->pts[p].t_ms;
	}
	qsort(times, nt, sizeof(*times), cmp_u32);
	for (size_t i = 0; i < nt; i++)
		if (!k || times[k - 1] != times[i])
			times[k++] = times[i];
	ch->rest = calloc(k, sizeof(*ch->rest));
	if (ch->rest) {
		for (size_t p = 0; p < k; p++) {
			ch->rest[p].t_ms = times[p];
			for (size_t i = first; i < c->nsites; i++)
				if (site_listed(c, &c->sites[i]) && c->sites[i].series)
					ch->rest[p].bytes +=
						series_at(c->sites[i].series, times[p], false);
			ch->rest[p].resident = HISTORY_NO_FIGURE;
		}
		ch->nrest_pts = k;
	}
	free(times);
}

static void chart_bounds(struct chart *ch, const struct history_point *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i].t_ms / 1000.0 > ch->t_max)
			ch->t_max = p[i].t_ms / 1000.0;
		if (p[i].bytes > ch->y_max)
			ch->y_max = p[i].bytes;
		if (p[i].resident != HISTORY_NO_FIGURE && p[i].resident > ch->y_max)
			ch->y_max = p[i].resident;
	}
}

static double chart_x(const struct chart *ch, double t_s)
{
	return CHART_L + (CHART_W - CHART_L - CHART_R) * t_s / ch->t_max;
}

static double chart_y(const struct chart *ch, uint64_t v)
{
	return CHART_T + (CHART_H - CHART_T - CHART_B) * (1.0 - (double)v / (double)ch->y_max);
}

/* A line of the chart, with its points again in data attributes (seconds,
 * bytes, resident bytes or -1) for the page's tooltip. */
static void chart_line(FILE *f, const struct chart *ch, const struct history_point *p, size_t n,
		       const char *color, const char *label, size_t num)
{
	bool any_res = false;

	fprintf(f, "<polyline class=\"live\" stroke=\"%s\" data-num=\"%zu\" data-label=\"", color,
		num);
	html_str(f, label);
	fputs("\" data-t=\"", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%.3f", i ? "," : "", p[i].t_ms / 1000.0);
	fputs("\" data-b=\"", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%" PRIu64, i ? "," : "", p[i].bytes);
	fputs("\" data-r=\"", f);
	for (size_t i = 0; i < n; i++) {
		if (p[i].resident == HISTORY_NO_FIGURE)
			fprintf(f, "%s-1", i ? "," : "");
		else
			fprintf(f, "%s%" PRIu64, i ? "," : "", p[i].resident);
		any_res |= p[i].resident != HISTORY_NO_FIGURE;
	}
	fputs("\" points=\"", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%.1f,%.1f", i ? " " : "", chart_x(ch, p[i].t_ms / 1000.0),
			chart_y(ch, p[i].bytes));
	fputs("\"/>\n", f);
	if (!any_res)
		return;
	fprintf(f, "<polyline class=\"resident\" stroke=\"%s\" points=\"", color);
	for (size_t i = 0, k = 0; i < n; i++)
		if (p[i].resident != HISTORY_NO_FIGURE)
			fprintf(f, "%s%.1f,%.1f", k++ ? " " : "", chart_x(ch, p[i].t_ms / 1000.0),
				chart_y(ch, p[i].resident));
	fputs("\"/>\n", f);
}

/* A round step for about 4 grid lines up to max: 1, 2 or 5 times a power of ten
 * of bytes, KiB, MiB, ... so that the labels read "2.0 MiB", "500.0 KiB". */
static uint64_t nice_step(uint64_t max)
{
	static const uint64_t mult[] = {1, 2, 5, 10, 20, 50, 100, 200, 500};

	for (uint64_t unit = 1; unit <= UINT64_MAX / 1024; unit <<= 10)
		for (size_t i = 0; i < sizeof(mult) / sizeof(mult[0]); i++)
			if (mult[i] <= UINT64_MAX / 1024 / unit && max / (mult[i] * unit) < 4)
				return mult[i] * unit;
	return max / 4 + 1;
}

static void chart_axes(FILE *f, const struct chart *ch, uint64_t step)
{
	double plot_b = CHART_H - CHART_B;

	for (uint64_t k = 0; k <= ch->y_max / step; k++) {
		uint64_t v = k * step;
		double y = chart_y(ch, v);

		fprintf(f,
			"<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
			CHART_L, CHART_W - CHART_R, y, y, CHART_L - 6, y + 4);
		html_size(f, v);
		fputs("</text>\n", f);
	}
	for (int i = 0; i <= 5; i++) {
		double t = ch->t_max * i / 5;
		double x = chart_x(ch, t);

		fprintf(f,
			"<line class=\"axis\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">+%.1f s</text>\n",
			x, x, plot_b, plot_b + 4, x, plot_b + 17, t);
	}
	fprintf(f,
		"<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
		"<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%.1f\"/>\n",
		CHART_L, CHART_W - CHART_R, plot_b, plot_b, CHART_L, CHART_L, CHART_T, plot_b);
}

/* "main (leak.c:54)": a site's call-site frame in a few words, for labels. */
static void site_label(char *buf, size_t size, const struct site *s, size_t num)
{
	const struct frame_info *fr = s->nframes ? &s->frames[s->callsite] : NULL;

	if (!fr)
		snprintf(buf, size, "#%zu (no backtrace)", num);
	else if (fr->function && fr->file && fr->line > 0)
		snprintf(buf, size, "#%zu %s (%s:%d)", num, fr->function, base_name(fr->file),
			 fr->line);
	else if (fr->function)
		snprintf(buf, size, "#%zu %s", num, fr->function);
	else
		snprintf(buf, size, "#%zu 0x%" PRIx64 " (%s)", num, fr->pc,
			 fr->module ? base_name(fr->module) : "?");
}

static void html_chart(struct report_ctx *c)
{
	struct chart ch = {.t_max = finite_or_zero(c->d->duration_s)};
	size_t num = 0, i;
	uint64_t step;
	char label[512];
	FILE *f = c->out;

	fputs("<h2>Live bytes over time</h2>\n", f);
	for (i = 0; i < c->nsites && ch.nsites < HTML_CHART_SITES; i++) {
		const struct site *s = &c->sites[i];

		if (!site_listed(c, s))
			continue;
		num++;
		if (s->series && s->series->n) {
			ch.nums[ch.nsites] = num;
			ch.sites[ch.nsites++] = s;
			chart_bounds(&ch, s->series->pts, s->series->n);
		}
	}
	chart_rest(c, &ch, i);
	chart_bounds(&ch, ch.rest, ch.nrest_pts);
	if (!ch.nsites) {
		fputs("<p class=\"note\" id=\"nochart\">No growth history was recorded for the "
		      "listed sites, so there is no chart.</p>\n",
		      f);
		free(ch.rest);
		return;
	}
	if (!(ch.t_max > 0))
		ch.t_max = 1;
	if (!ch.y_max)
		ch.y_max = 4096;
	step = nice_step(ch.y_max);
	if (ch.y_max / step < UINT64_MAX / step - 1) /* head room up to the next grid line */
		ch.y_max = (ch.y_max / step + 1) * step;
	fprintf(f, "<p class=\"sub\">Solid: live bytes of each site; dashed: its resident bytes, "
		   "where measured.</p>\n<div id=\"legend\">");
	for (size_t k = 0; k < ch.nsites; k++) {
		site_label(label, sizeof(label), ch.sites[k], ch.nums[k]);
		fprintf(f, "<span><i style=\"background:%s\"></i>", palette[k]);
		html_str(f, label);
		fputs("</span>", f);
	}
	if (ch.nrest_pts)
		fprintf(f, "<span><i style=\"background:#888\"></i>%zu other %s</span>", ch.nrest,
			plural(ch.nrest, "site", "sites"));
	fprintf(f,
		"</div>\n<svg id=\"chart\" viewBox=\"0 0 %d %d\" width=\"100%%\" "
		"role=\"img\" aria-label=\"live bytes over time\">\n",
		CHART_W, CHART_H);
	chart_axes(f, &ch, step);
	for (size_t k = 0; k < ch.nsites; k++) {
		const struct site *s = ch.sites[k];

		site_label(label, sizeof(label), s, ch.nums[k]);
		chart_line(f, &ch, s->series->pts, s->series->n, palette[k], label, ch.nums[k]);
	}
	if (ch.nrest_pts) {
		snprintf(label, sizeof(label), "%zu other sites", ch.nrest);
		chart_line(f, &ch, ch.rest, ch.nrest_pts, "#888", label, 0);
	}
	fputs("<line id=\"cursor\" class=\"axis\" x1=\"0\" x2=\"0\" y1=\"0\" y2=\"0\" "
	      "visibility=\"hidden\"/>\n</svg>\n",
	      f);
	free(ch.rest);
}

/* ---- the table ---- */

static void html_trend(FILE *f, const struct site *s)
{
	const struct trend *t = &s->trend;

	switch (t->kind) {
	case TREND_GROWING:
		fputs("growing ", f);
		html_size(f, (uint64_t)finite_or_zero(t->rate_bps));
		fputs("/s", f);
		break;
	case TREND_PLATEAU:
		fputs("grew to ", f);
		html_size(f, t->peak_bytes);
		fprintf(f, " by +%.1f s, then flat", t->peak_s);
		break;
	case TREND_FLAT:
		fputs("flat", f);
		break;
	case TREND_SHRINKING:
		fputs("peaked at ", f);
		html_size(f, t->peak_bytes);
		fprintf(f, " at +%.1f s", t->peak_s);
		break;
	default:
		fputs("&ndash;", f);
		break;
	}
}

static void html_site_call(FILE *f, const struct report_data *d, const struct site *s)
{
	const struct region *r = s->regs[0];
	char prot[4], flags[512];
	const char *path;

	format_prot_rwx(prot, r->prot);
	region_flags_string(flags, sizeof(flags), r);
	fputs(op_name(r->op), f);
	if (strcmp(op_name(r->op), kind_name(r->kind)) != 0)
		fprintf(f, " %s", kind_name(r->kind));
	fprintf(f, " %s", prot);
	if (flags[0]) {
		fputs(" <small>", f);
		html_str(f, flags);
		fputs("</small>", f);
	}
	if ((path = region_path(d, r))) {
		fputs("<br><small>", f);
		html_str(f, path);
		fputs("</small>", f);
	}
	if (s->suppressed)
		fprintf(f, "<br><small>(suppressed: %s)</small>", site_category_name(s->category));
}

static void html_site_frames(struct report_ctx *c, const struct site *s, size_t num)
{
	FILE *f = c->out;
	int32_t *pids;
	size_t npids;

	fputs("<details><summary>", f);
	if (!s->nframes)
		fputs("(no backtrace: --depth 0 or unwinding failed)", f);
	else
		html_frame(f, &s->frames[s->callsite], c->o->cwd);
	fprintf(f, "</summary><ol class=\"bt\" start=\"0\" id=\"bt%zu\">", num);
	for (size_t i = 0; i < s->nframes; i++) {
		fputs(i < s->callsite ? "<li class=\"rt\">" : "<li>", f);
		html_frame(f, &s->frames[i], c->o->cwd);
		if (s->frames[i].module) {
			fputs(" <small>", f);
			html_str(f, s->frames[i].module);
			fputs("</small>", f);
		}
		fputs("</li>", f);
	}
	fputs("</ol>", f);
	npids = site_pids(c->d, s, &pids);
	fputs(npids == 1 ? "pid " : "pids ", f);
	for (size_t i = 0; i < npids && i < 64; i++)
		fprintf(f, "%s%" PRId32, i ? "," : "", pids[i]);
	if (npids > 64)
		fprintf(f, ",... (%zu processes)", npids);
	free(pids);
	fprintf(f, "; made from +%" PRIu32 ".%03" PRIu32 " s to +%" PRIu32 ".%03" PRIu32 " s",
		s->first_ms / 1000, s->first_ms % 1000, s->last_ms / 1000, s->last_ms % 1000);
	fputs("</details>", f);
}

static void html_site_row(struct report_ctx *c, const struct site *s, size_t num)
{
	FILE *f = c->out;

	fprintf(f, "<tr class=\"site\" id=\"site%zu\"><td class=\"n\">#%zu</td><td class=\"n\">",
		num, num);
	html_size(f, s->bytes);
	fputs("</td><td class=\"n\">", f);
	if (s->res_known) {
		html_size(f, s->resident);
		if (s->swapped) {
			fputs("<br><small>", f);
			html_size(f, s->swapped);
			fputs(" swapped</small>", f);
		}
	} else {
		fputs("&ndash;", f);
	}
	fprintf(f, "</td><td class=\"n\">%zu</td><td>", s->n);
	html_site_call(f, c->d, s);
	fputs("</td><td>", f);
	html_site_frames(c, s, num);
	fputs("</td><td>", f);
	html_trend(f, s);
	fputs("</td></tr>\n", f);
}

static void html_table(struct report_ctx *c)
{
	size_t num = 0, rest_sites = 0, rest_regions = 0, rest_res_known = 0;
	uint64_t rest_bytes = 0, rest_res = 0;
	FILE *f = c->out;

	fputs("<h2>Call sites</h2>\n", f);
	if (!c->unsup_sites && !c->o->all) {
		fputs("<p class=\"note\">No site to list.</p>\n", f);
		return;
	}
	fputs("<input id=\"filter\" type=\"search\" placeholder=\"filter the rows: function, "
	      "file, module...\">\n<table id=\"sites\"><thead><tr><th>site</th><th>live</th>"
	      "<th>resident</th><th>regions</th><th>call</th><th>where (click for the "
	      "backtrace)</th><th>trend</th></tr></thead>\n<tbody>\n",
	      f);
	for (size_t i = 0; i < c->nsites; i++) {
		const struct site *s = &c->sites[i];

		if (!site_listed(c, s))
			continue;
		if (++num <= HTML_TABLE_SITES) {
			html_site_row(c, s, num);
			continue;
		}
		rest_sites++;
		rest_regions += s->n;
		rest_bytes += s->bytes;
		rest_res += s->resident;
		rest_res_known += s->res_known;
	}
	if (rest_sites) {
		fputs("<tr class=\"rest\" id=\"rest\"><td class=\"n\">&hellip;</td><td class=\"n\">",
		      f);
		html_size(f, rest_bytes);
		fputs("</td><td class=\"n\">", f);
		if (rest_res_known)
			html_size(f, rest_res);
		else
			fputs("&ndash;", f);
		fprintf(f,
			"</td><td class=\"n\">%zu</td><td colspan=\"3\">%zu more %s, summed (the "
			"text and JSON reports list them all)</td></tr>\n",
			rest_regions, rest_sites, plural(rest_sites, "site", "sites"));
	}
	fputs("</tbody></table>\n", f);
}

/* ---- the flame graph ---- */

/* A site's path from the root: executable, frames outermost to the call site,
 * syscall (as write_folded.c). Names are malloc'd. */
struct flame_path {
	char **names;
	size_t n;
	uint64_t bytes;
};

static char *frame_name(const struct frame_info *fr)
{
	char *s = NULL;

	if (fr->function)
		return strdup(fr->function);
	if (!fr->module) {
		if (asprintf(&s, "0x%" PRIx64, fr->pc) < 0)
			return NULL;
		return s;
	}
	if (asprintf(&s, "%s+0x%" PRIx64, base_name(fr->module), fr->module_offset) < 0)
		return NULL;
	return s;
}

static int flame_path_of(struct report_ctx *c, const struct site *s, struct flame_path *p)
{
	const char *exe = pid_exe(c->d, region_pid(c->d, s->regs[0]));
	size_t k = 0;

	p->bytes = s->bytes;
	p->n = 2 + (s->nframes - s->callsite);
	p->names = calloc(p->n, sizeof(*p->names));
	if (!p->names)
		return -1;
	p->names[k++] = strdup(exe ? base_name(exe) : "[unknown]");
	for (size_t i = s->nframes; i > s->callsite; i--)
		p->names[k++] = frame_name(&s->frames[i - 1]);
	p->names[k++] = strdup(op_name(s->regs[0]->op));
	for (size_t i = 0; i < p->n; i++)
		if (!p->names[i])
			return -1;
	return 0;
}

static int cmp_path(const void *pa, const void *pb)
{
	const struct flame_path *a = pa, *b = pb;

	for (size_t i = 0; i < a->n && i < b->n; i++) {
		int r = strcmp(a->names[i], b->names[i]);
		if (r)
			return r;
	}
	return (a->n > b->n) - (a->n < b->n);
}

struct flame {
	FILE *f;
	struct flame_path *paths;
	uint64_t total;
	size_t boxes, depth_max;
};

/* One box: name, as wide as bytes, at byte offset x, row depth. */
static void flame_box(struct flame *fl, const char *name, uint64_t bytes, uint64_t x, size_t depth)
{
	double px = (double)x * HTML_FLAME_W / (double)fl->total;
	double pw = (double)bytes * HTML_FLAME_W / (double)fl->total;
	size_t chars = (size_t)(pw / 7), len = strlen(name);
	unsigned h = 0;

	/* hue from the name: stable colors, warm like flamegraph.pl */
	for (const char *p = name; *p; p++)
		h = h * 31 + (unsigned char)*p;
	fl->boxes++;
	if (depth + 1 > fl->depth_max)
		fl->depth_max = depth + 1;
	fprintf(fl->f, "<g data-x=\"%.2f\" data-w=\"%.2f\" data-d=\"%zu\"><title>", px, pw, depth);
	html_str(fl->f, name);
	fputs(" (", fl->f);
	html_size(fl->f, bytes);
	fprintf(fl->f,
		", %.1f%%)</title><rect x=\"%.2f\" y=\"%zu\" width=\"%.2f\" height=\"%d\" "
		"fill=\"hsl(%u,75%%,%u%%)\"/>",
		100.0 * (double)bytes / (double)fl->total, px, depth * HTML_FLAME_ROW, pw,
		HTML_FLAME_ROW - 1, h % 50, 55 + (h >> 8) % 15);
	if (chars >= 3) {
		char *cut = strndup(name, chars < len ? chars - 2 : len);

		fprintf(fl->f, "<text x=\"%.2f\" y=\"%zu\">", px + 3, depth * HTML_FLAME_ROW + 13);
		html_str(fl->f, cut ? cut : "");
		fputs(chars < len ? "..</text>" : "</text>", fl->f);
		free(cut);
	}
	fputs("</g>\n", fl->f);
}

/* The boxes of paths[lo..hi), which share their first depth names, starting at
 * byte offset x0: the callees wide enough to see, then the narrower ones summed
 * in one box ("N smaller"), so that thousands of small sites still show. */
static void flame_level(struct flame *fl, size_t lo, size_t hi, size_t depth, uint64_t x0)
{
	uint64_t x = x0, small_bytes = 0;
	size_t small = 0;

	for (size_t i = lo; i < hi;) {
		size_t j = i;
		uint64_t bytes = 0;

		if (fl->paths[i].n <= depth) {
			x += fl->paths[i].bytes;
			i++;
			continue;
		}
		while (j < hi && fl->paths[j].n > depth &&
		       strcmp(fl->paths[j].names[depth], fl->paths[i].names[depth]) == 0)
			bytes += fl->paths[j++].bytes;
		if ((double)bytes * HTML_FLAME_W / (double)fl->total >= 1 &&
		    fl->boxes < HTML_FLAME_NODES) {
			flame_box(fl, fl->paths[i].names[depth], bytes, x, depth);
			flame_level(fl, i, j, depth + 1, x);
			x += bytes;
		} else {
			small++;
			small_bytes += bytes;
		}
		i = j;
	}
	if (small && (double)small_bytes * HTML_FLAME_W / (double)fl->total >= 1 &&
	    fl->boxes < HTML_FLAME_NODES) {
		char name[64];

		snprintf(name, sizeof(name), "%zu smaller", small);
		flame_box(fl, name, small_bytes, x, depth);
	}
}

static void html_flame(struct report_ctx *c)
{
	struct flame fl = {.f = c->out};
	size_t n = 0;
	char *body = NULL;
	size_t body_len = 0;

	fputs("<h2>Leaked bytes by call path</h2>\n", c->out);
	fl.paths = calloc(c->nsites ? c->nsites : 1, sizeof(*fl.paths));
	if (!fl.paths)
		return;
	for (size_t i = 0; i < c->nsites; i++) {
		const struct site *s = &c->sites[i];

		if (!site_listed(c, s) || !s->bytes)
			continue;
		if (flame_path_of(c, s, &fl.paths[n++]))
			goto out;
		fl.total += s->bytes;
	}
	if (!fl.total) {
		fputs("<p class=\"note\">Nothing leaked.</p>\n", c->out);
		goto out;
	}
	qsort(fl.paths, n, sizeof(*fl.paths), cmp_path);
	/* the boxes first, to size the picture by its depth */
	fl.f = open_memstream(&body, &body_len);
	if (!fl.f)
		goto out;
	flame_level(&fl, 0, n, 0, 0);
	fclose(fl.f);
	fprintf(c->out,
		"<p class=\"sub\">Each box is a function, as wide as the bytes mapped below it "
		"and not unmapped (callers above callees). Click a box to zoom, click the top "
		"row to zoom out.</p>\n<svg id=\"flame\" viewBox=\"0 0 %d %zu\" width=\"100%%\">\n",
		HTML_FLAME_W, fl.depth_max * HTML_FLAME_ROW);
	fwrite(body, 1, body_len, c->out);
	fputs("</svg>\n", c->out);
out:
	free(body);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; fl.paths[i].names && k < fl.paths[i].n; k++)
			free(fl.paths[i].names[k]);
		free(fl.paths[i].names);
	}
	free(fl.paths);
}

/* ---- the script: tooltip, row filter, flame zoom; then the ready marker ---- */

static const char html_js[] =
	"(function(){\n"
	"function size(b){var u=['B','KiB','MiB','GiB','TiB'],i=0;"
	"while(b>=1024&&i<4){b/=1024;i++;}return i?b.toFixed(1)+' '+u[i]:b+' B';}\n"
	"var tip=document.getElementById('tip'),svg=document.getElementById('chart');\n"
	"if(svg){var lines=svg.querySelectorAll('polyline.live'),cur=document.getElementById("
	"'cursor');\n"
	"svg.addEventListener('mousemove',function(e){var m=svg.getScreenCTM();if(!m)return;"
	"var pt=svg.createSVGPoint();pt.x=e.clientX;pt.y=e.clientY;var p=pt.matrixTransform("
	"m.inverse());var out=[],tx=null;\n"
	"lines.forEach(function(l){var t=l.dataset.t.split(',').map(Number),b=l.dataset.b.split("
	"','),r=l.dataset.r.split(','),xs=l.getAttribute('points').split(' ').map(function(s){"
	"return +s.split(',')[0];}),k=0;for(var i=1;i<xs.length;i++)if(Math.abs(xs[i]-p.x)<"
	"Math.abs(xs[k]-p.x))k=i;if(tx===null)tx=xs[k];out.push(l.dataset.label+': '+size(+b[k])"
	"+(+r[k]>=0?' ('+size(+r[k])+' resident)':'')+' at +'+t[k].toFixed(1)+' s');});\n"
	"tip.textContent=out.join('\\n');tip.style.display='block';tip.style.left=(e.clientX+14)"
	"+'px';tip.style.top=(e.clientY+14)+'px';if(tx!==null){cur.setAttribute('x1',tx);"
	"cur.setAttribute('x2',tx);cur.setAttribute('y1',0);cur.setAttribute('y2',svg.viewBox."
	"baseVal.height);cur.setAttribute('visibility','visible');}});\n"
	"svg.addEventListener('mouseleave',function(){tip.style.display='none';cur.setAttribute("
	"'visibility','hidden');});}\n"
	"var filter=document.getElementById('filter');if(filter)filter.addEventListener('input',"
	"function(){var q=filter.value.toLowerCase();document.querySelectorAll('#sites tr.site')"
	".forEach(function(tr){tr.style.display=!q||tr.textContent.toLowerCase().indexOf(q)>=0?"
	"'':'none';});});\n"
	"var fl=document.getElementById('flame');if(fl){var W=fl.viewBox.baseVal.width,boxes="
	"fl.querySelectorAll('g');\n"
	"function zoom(x0,w,d){boxes.forEach(function(g){var x=+g.dataset.x,gw=+g.dataset.w,"
	"gd=+g.dataset.d,r=g.querySelector('rect'),t=g.querySelector('text'),in_=gd<d?(x<=x0&&"
	"x+gw>=x0+w-1e-6):(x>=x0-1e-6&&x+gw<=x0+w+1e-6);g.style.display=in_?'':'none';if(!in_)"
	"return;var nx=gd<d?0:(x-x0)*W/w,nw=gd<d?W:gw*W/w;r.setAttribute('x',nx);r.setAttribute("
	"'width',nw);if(t){t.setAttribute('x',nx+3);t.style.display=nw<20?'none':'';}});}\n"
	"boxes.forEach(function(g){g.addEventListener('click',function(){zoom(+g.dataset.x,"
	"+g.dataset.w,+g.dataset.d);});});}\n"
	/* what was laid out, for tests and the curious */
	"function box(id){var e=document.getElementById(id);if(!e)return'0x0';var r=e."
	"getBoundingClientRect();return Math.round(r.width)+'x'+Math.round(r.height);}\n"
	"document.documentElement.setAttribute('data-vmleak-drawn','chart:'+box('chart')+"
	"';table:'+box('sites')+';flame:'+box('flame')+';rows:'+document.querySelectorAll("
	"'#sites tr.site').length);\n"
	"document.documentElement.setAttribute('data-vmleak-ready','1');\n"
	"})();\n";

void write_html(struct report_ctx *c)
{
	FILE *f = c->out;

	html_head(c);
	html_headline(c);
	html_chart(c);
	html_table(c);
	html_flame(c);
	fputs("<p class=\"sub\">Written by vmleak " VMLEAK_VERSION
	      " (--format html). The text and JSON reports hold every region.</p>\n"
	      "<div id=\"tip\"></div>\n<script>\n",
	      f);
	fputs(html_js, f);
	fputs("</script>\n</body></html>\n", f);
}
