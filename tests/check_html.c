/* tests/check_html.c - unit tests of report/write_html.c (--format html) on
 * snapshots built by hand: the chart has one line per top site with every
 * point of its history series (and the resident line), the table and the
 * flame graph are there, hostile names are escaped, the page names no URL,
 * and 10,000 sites give a bounded page (top sites + one summed row).
 *
 * With VMLEAK_HTML_PAGES=DIR it also writes its pages (small.html,
 * many.html, hostile.html) to DIR, for the headless-browser test
 * (tests/integration/test_html.py). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "report/report.h"
#include "tests/check_run.h"

#define MANY 10000

static struct region *regs;
static const struct region **ptrs;
static struct region_residency *res;
static size_t nregs;
static struct history *hist;
static const char *hostile_fn;
static char *names; /* MANY function names, 16 bytes each */

/* Stack id k: mmap in libc <- fn_k (leak.c:k) <- main <- _start. */
static struct frame_info frames[4];

static int resolve(void *ctx, uint32_t stack, const struct region *example,
		   struct report_site_info *out)
{
	(void)ctx;
	(void)example;
	frames[0] = (struct frame_info){0x7f0000001000, "mmap", 0x20, "/lib/libc.so.6",
					"mmap64.c",	58,	NULL, 0x1019b3,
					false};
	frames[1] = (struct frame_info){0x401100 + stack,
					names + 16 * (stack % MANY),
					0x10,
					"/srv/leaky",
					"/src/leak.c",
					(int)stack,
					NULL,
					0x1100 + stack,
					false};
	if (stack == 2 && hostile_fn) {
		frames[1].function = hostile_fn;
		frames[1].file = "/tmp/<img src=x onerror=alert(1)>.c";
	}
	frames[2] = (struct frame_info){0x401050, "main", 0x25,	  "/srv/leaky", "/src/leak.c",
					99,	  NULL,	  0x1050, false};
	frames[3] =
		(struct frame_info){0x401020, NULL, 0, "/srv/leaky", NULL, 0, NULL, 0x1020, false};
	out->frames = frames;
	out->nframes = 4;
	out->callsite = 1;
	out->category = CAT_PROGRAM;
	return 0;
}

static char *argv_[] = {"/srv/leaky", "--serve", NULL};
static int32_t pids_[] = {4242};
static struct report_process procs_[] = {{4242, "/srv/leaky"}};

/* nsites sites; site k (1-based) holds k regions of 64 KiB... no: site k holds
 * one region of (nsites + 1 - k) pages, so sites are ordered by k. A history of
 * npoints ticks every 200 ms, each site growing linearly to its size. */
static void build(size_t nsites, size_t npoints, bool residency)
{
	struct history_sample *smp = calloc(nsites, sizeof(*smp));

	nregs = nsites;
	regs = calloc(nregs, sizeof(*regs));
	ptrs = calloc(nregs, sizeof(*ptrs));
	res = calloc(nregs, sizeof(*res));
	names = calloc(MANY, 16);
	ck_assert(regs && ptrs && res && names && smp);
	for (size_t k = 0; k < MANY; k++)
		snprintf(names + 16 * k, 16, "fn_%zu", k);
	for (size_t i = 0; i < nsites; i++) {
		struct region *r = &regs[i];

		r->start = 0x7f0000000000ULL + (uint64_t)i * 0x1000000;
		r->end = r->start + (uint64_t)(nsites + 1 - i) * 4096;
		r->site = (uint32_t)(i + 1);
		r->op = MEM_MMAP;
		r->kind = REGION_ANON;
		r->prot = PROT_READ | PROT_WRITE;
		r->flags = MAP_PRIVATE | MAP_ANONYMOUS;
		r->time_ms = 100;
		r->tid = 4242;
		r->origin = REGION_TRACED;
		ptrs[i] = r;
		res[i].resident = (r->end - r->start) / 2;
		res[i].swapped = 0;
	}
	hist = history_new();
	ck_assert_ptr_nonnull(hist);
	for (size_t p = 1; p <= npoints; p++) {
		for (size_t i = 0; i < nsites; i++) {
			uint64_t full = regs[i].end - regs[i].start;

			smp[i].key = (struct history_key){.site = regs[i].site,
							  .flags = regs[i].flags,
							  .op = regs[i].op,
							  .kind = regs[i].kind,
							  .prot = regs[i].prot};
			smp[i].bytes = full * p / npoints;
			smp[i].resident = residency ? smp[i].bytes / 2 : HISTORY_NO_FIGURE;
		}
		ck_assert_int_eq(history_record(hist, (uint32_t)(200 * p), smp, nsites, true), 0);
	}
	free(smp);
}

static void teardown(void)
{
	history_free(hist);
	hist = NULL;
	free(regs);
	free(ptrs);
	free(res);
	free(names);
	regs = NULL;
	ptrs = NULL;
	res = NULL;
	names = NULL;
	hostile_fn = NULL;
}

/* report_data.residency: region i's figure, as built */
static bool residency_of(void *ctx, size_t i, struct region_residency *out)
{
	(void)ctx;
	if (i >= nregs)
		return false;
	*out = res[i];
	return true;
}

static char *html(bool with_history, bool residency)
{
	struct report_data d = {
		.mode = "launch",
		.command = argv_,
		.pids = pids_,
		.npids = 1,
		.duration_s = 3.0,
		.final = true,
		.regions = ptrs,
		.nregions = nregs,
		.procs = procs_,
		.nprocs = 1,
		.resolve = resolve,
		.residency = residency ? residency_of : NULL,
		.history = with_history ? hist : NULL,
	};
	struct report_options o = {.format = REPORT_HTML};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	d.events[MEM_MMAP] = nregs;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(report_write(f, &d, &o), (long)nregs);
	fclose(f);
	return buf;
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The number of points of the first polyline with class cls after from. */
static size_t polyline_points(const char *from, const char *cls)
{
	char tag[64];
	const char *p, *pts, *end;
	size_t n = 1;

	snprintf(tag, sizeof(tag), "<polyline class=\"%s\"", cls);
	p = strstr(from, tag);
	ck_assert_ptr_nonnull(p);
	pts = strstr(p, " points=\"");
	ck_assert_ptr_nonnull(pts);
	pts += 9;
	end = strchr(pts, '"');
	for (const char *q = pts; q < end; q++)
		n += *q == ' ';
	return n;
}

/* No URL in the page, and no src or href attribute in any tag. */
static void assert_no_url(const char *h)
{
	ck_assert_ptr_null(strstr(h, "http:"));
	ck_assert_ptr_null(strstr(h, "https:"));
	ck_assert_ptr_null(strstr(h, "//"));
	for (const char *p = strchr(h, '<'); p; p = strchr(p + 1, '<')) {
		const char *end = strchr(p, '>');
		char *tag;

		bool quoted = false;
		size_t k = 0;

		ck_assert_ptr_nonnull(end);
		tag = calloc(1, (size_t)(end - p) + 1);
		ck_assert_ptr_nonnull(tag);
		for (const char *q = p; q < end; q++) { /* attribute names, not values */
			if (*q == '"')
				quoted = !quoted;
			else if (!quoted)
				tag[k++] = *q;
		}
		ck_assert_msg(!strstr(tag, " src=") && !strstr(tag, " href="), "%s", tag);
		free(tag);
	}
	ck_assert_ptr_nonnull(strstr(h, "Content-Security-Policy\" content=\"default-src 'none'"));
}

START_TEST(test_small_report)
{
	char *h;

	build(3, 15, true);
	h = html(true, true);
	ck_assert_msg(strstr(h, "<h1 id=\"headline\">vmleak: 3 regions (36.0 KiB, 18.0 KiB "
				"resident) never unmapped, from 3 call sites, in 1 process</h1>"),
		      "%.300s", strstr(h, "<h1"));
	ck_assert_ptr_nonnull(strstr(h, "<svg id=\"chart\""));
	/* one line per site, each with the 15 points of its series */
	ck_assert_uint_eq(count(h, "<polyline class=\"live\""), 3);
	ck_assert_uint_eq(count(h, "<polyline class=\"resident\""), 3);
	ck_assert_uint_eq(polyline_points(h, "live"), 15);
	ck_assert_uint_eq(polyline_points(h, "resident"), 15);
	ck_assert_ptr_nonnull(strstr(h, "data-label=\"#1 fn_1 (leak.c:1)\""));
	/* table: three rows with their backtraces; no summed row */
	ck_assert_uint_eq(count(h, "<tr class=\"site\""), 3);
	ck_assert_uint_eq(count(h, "<details>"), 3);
	ck_assert_ptr_null(strstr(h, "id=\"rest\""));
	ck_assert_ptr_nonnull(strstr(h, "<summary><b>fn_1</b> (/src/leak.c:1)</summary>"));
	ck_assert_ptr_nonnull(strstr(h, "growing "));
	/* flame graph: root, _start (a module offset), main, 3 functions, their 3 mmaps */
	ck_assert_ptr_nonnull(strstr(h, "<svg id=\"flame\""));
	ck_assert_uint_eq(count(h, "<g data-x="), 1 + 1 + 1 + 3 + 3);
	ck_assert_ptr_nonnull(strstr(h, "<title>leaky+0x1020 (36.0 KiB, 100.0%)</title>"));
	assert_no_url(h);
	ck_assert_ptr_nonnull(strstr(h, "</html>\n"));
	free(h);
}
END_TEST

START_TEST(test_no_history_no_chart)
{
	char *h;

	build(2, 3, false);
	h = html(false, false);
	ck_assert_ptr_null(strstr(h, "<svg id=\"chart\""));
	ck_assert_ptr_nonnull(strstr(h, "id=\"nochart\""));
	ck_assert_uint_eq(count(h, "<tr class=\"site\""), 2);
	ck_assert_ptr_nonnull(strstr(h, "never unmapped, from 2 call sites"));
	ck_assert_msg(strstr(h, "2 regions (20.0 KiB) never unmapped"), "%.200s", strstr(h, "<h1"));
	free(h);
}
END_TEST

START_TEST(test_hostile_names_escaped)
{
	char *h;

	build(3, 5, false);
	hostile_fn = "</script><script>alert(\"x\")</script>&'\x1b\xff";
	argv_[1] = "<b>--serve</b>";
	h = html(true, false);
	argv_[1] = "--serve";
	ck_assert_uint_eq(count(h, "<script>"), 2); /* the page's own two */
	ck_assert_ptr_null(strstr(h, "alert(\""));
	ck_assert_ptr_null(strstr(h, "<img"));
	ck_assert_ptr_null(strstr(h, "<b>--serve"));
	ck_assert_ptr_null(strchr(h, '\x1b'));
	ck_assert_ptr_nonnull(
		strstr(h, "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
			  "&amp;&#39;\\x1b\xef\xbf\xbd"));
	ck_assert_ptr_nonnull(strstr(h, "/tmp/&lt;img src=x onerror=alert(1)&gt;.c"));
	assert_no_url(h);
	free(h);
}
END_TEST

START_TEST(test_ten_thousand_sites_bounded)
{
	char *h;
	size_t len;

	build(MANY, 12, true);
	h = html(true, true);
	len = strlen(h);
	ck_assert_msg(len < 1500 * 1024, "page of %zu bytes", len);
	ck_assert_uint_eq(count(h, "<tr class=\"site\""), 100);
	ck_assert_ptr_nonnull(strstr(h, "9900 more sites, summed"));
	/* 8 sites drawn alone, the other tracked ones summed in one line */
	ck_assert_uint_eq(count(h, "<polyline class=\"live\""), 9);
	ck_assert_ptr_nonnull(strstr(h, "other sites\" data-t="));
	ck_assert_uint_le(count(h, "<g data-x="), 4000);
	/* every function is under a pixel wide: summed in one box below main */
	ck_assert_msg(strstr(h, "<g data-x=\"0.00\" data-w=\"1200.00\" data-d=\"3\"><title>10000 "
				"smaller ("),
		      "%s", strstr(h, "<svg id=\"flame\""));
	ck_assert_uint_eq(count(h, "<g data-x="), 4);
	assert_no_url(h);
	free(h);
}
END_TEST

START_TEST(test_huge_values_bounded_axes)
{
	struct history_sample smp;
	char *h;

	build(1, 2, false);
	smp = (struct history_sample){.key = {.site = regs[0].site,
					      .flags = regs[0].flags,
					      .op = regs[0].op,
					      .kind = regs[0].kind,
					      .prot = regs[0].prot},
				      .bytes = UINT64_MAX - 5,
				      .resident = UINT64_MAX / 3};
	/* a trace of 40 days, a site of 16 EiB: the axes stay a handful of lines */
	ck_assert_int_eq(history_record(hist, 3456000000u, &smp, 1, true), 0);
	h = html(true, false);
	ck_assert_ptr_nonnull(strstr(h, "<svg id=\"chart\""));
	ck_assert_uint_le(count(h, "<line class=\"grid\""), 6);
	ck_assert_uint_ge(count(h, "<line class=\"grid\""), 2);
	ck_assert_ptr_nonnull(strstr(h, "+3456000.0 s</text>"));
	free(h);
}
END_TEST

/* VMLEAK_HTML_PAGES=DIR: the pages for the browser test. */
START_TEST(test_write_pages)
{
	const char *dir = getenv("VMLEAK_HTML_PAGES");

	static const struct {
		const char *name;
		size_t sites, points;
		bool hostile;
	} pages[] = {{"small.html", 3, 15, false},
		     {"many.html", MANY, 12, false},
		     {"hostile.html", 3, 12, true}};

	if (!dir)
		return;
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char path[4096];
		FILE *f;
		char *h;

		build(pages[i].sites, pages[i].points, true);
		if (pages[i].hostile)
			hostile_fn = "</script><script>document.documentElement.setAttribute("
				     "'data-vmleak-error','injected')</script>";
		h = html(true, true);
		snprintf(path, sizeof(path), "%s/%s", dir, pages[i].name);
		f = fopen(path, "w");
		ck_assert_msg(f && fputs(h, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
		free(h);
		teardown();
	}
}
END_TEST

static Suite *html_suite(void)
{
	Suite *s = suite_create("html");
	TCase *tc = tcase_create("html");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_small_report);
	tcase_add_test(tc, test_no_history_no_chart);
	tcase_add_test(tc, test_hostile_names_escaped);
	tcase_add_test(tc, test_ten_thousand_sites_bounded);
	tcase_add_test(tc, test_huge_values_bounded_axes);
	tcase_add_test(tc, test_write_pages);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(html_suite());
}
