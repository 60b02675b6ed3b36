/* tests/check_report.c - unit tests of report/report.c: grouping into sites,
 * sorting, totals, categories and suppression, filters, and the exact text,
 * JSON and folded output, on snapshots built by hand with a fake resolver. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/report.h"
#include "tests/check_run.h"

#define RW	   (PROT_READ | PROT_WRITE)
#define ANON_FLAGS (MAP_PRIVATE | MAP_ANONYMOUS)

/* ---- fixtures ---- */

static const struct frame_info main_frames[] = {
	{0x7f0000001000, "mmap64", 0x20, "/lib/x86_64-linux-gnu/libc.so.6", NULL, 0, NULL, 0,
	 false},
	{0x40117e, "main", 0x2e, "/root/prog", "/root/prog.c", 27, NULL, 0, false},
	{0x7f0000002000, "__libc_start_main", 0x80, "/lib/x86_64-linux-gnu/libc.so.6", NULL, 0,
	 NULL, 0, false},
	{0x401050, "_start", 0x25, "/root/prog", NULL, 0, NULL, 0, false},
};

static const struct frame_info unknown_frames[] = {
	{0x7f0000003000, NULL, 0x1234, "/usr/lib/libfoo.so", NULL, 0, NULL, 0, false},
	{0x401200, "leaker", 0x10, "/root/prog", "/root/prog.c", 40, NULL, 0, false},
};

/* Stack id i is resolved to category cats[i] with main_frames (or none). */
struct fake_resolver {
	enum site_category cats[16];
	bool no_frames[16];
	bool weird_frames[16];
	int calls[16];
	const struct frame_info *custom; /* used for stack 9 */
	size_t ncustom, custom_callsite;
};

static int fake_resolve(void *ctx, uint32_t stack, const struct region *example,
			struct report_site_info *out)
{
	struct fake_resolver *fr = ctx;

	ck_assert_ptr_nonnull(example);
	ck_assert_uint_eq(example->site, stack);
	ck_assert_uint_lt(stack, 16);
	fr->calls[stack]++;
	out->category = fr->cats[stack];
	if (stack == 0 || fr->no_frames[stack]) {
		out->frames = NULL;
		out->nframes = 0;
		out->callsite = 0;
		return 0;
	}
	if (stack == 9) {
		out->frames = fr->custom;
		out->nframes = fr->ncustom;
		out->callsite = fr->custom_callsite;
		return 0;
	}
	if (fr->weird_frames[stack]) {
		out->frames = unknown_frames;
		out->nframes = 2;
		out->callsite = 0;
		return 0;
	}
	out->frames = main_frames;
	out->nframes = 4;
	out->callsite = 1;
	return 0;
}

/* A region and the pid the report should show for it (report_data.pid_of). */
struct test_region {
	struct region r; /* first: pid_of finds the test_region from &r */
	int32_t pid;
};

static struct test_region regs[64];
static const struct region *reg_ptrs[64]; /* report_write reorders these */
static size_t nregs;

static int32_t test_pid_of(void *ctx, const struct region *r)
{
	(void)ctx;
	return ((const struct test_region *)r)->pid;
}

static struct fake_resolver resolver;
static char *cmd_argv[] = {"./clone_stack_leak", NULL};
static int32_t the_pids[] = {5981};
static struct report_process the_procs[] = {{5981, "/root/clone_stack_leak"}};
static struct report_data data;
static struct report_options opts;

static void point_at_regions(void)
{
	for (size_t i = 0; i < nregs; i++)
		reg_ptrs[i] = &regs[i].r;
	data.regions = reg_ptrs;
	data.nregions = nregs;
	data.pid_of = test_pid_of;
}

static void add_region(int32_t pid, uint64_t start, uint64_t len, uint32_t site, uint8_t op,
		       uint8_t kind, uint8_t prot, uint32_t flags, uint32_t time_ms)
{
	struct test_region *rr = &regs[nregs++];

	ck_assert_uint_le(nregs, 64);
	memset(rr, 0, sizeof(*rr));
	rr->pid = pid;
	rr->r.start = start;
	rr->r.end = start + len;
	rr->r.site = site;
	rr->r.op = op;
	rr->r.kind = kind;
	rr->r.prot = prot;
	rr->r.flags = flags;
	rr->r.time_ms = time_ms;
	rr->r.tid = pid;
	rr->r.origin = REGION_TRACED;
}

static void add_anon(uint64_t start, uint64_t len, uint32_t site, uint32_t time_ms)
{
	add_region(5981, start, len, site, MEM_MMAP, REGION_ANON, RW, ANON_FLAGS, time_ms);
}

static void setup(void)
{
	nregs = 0;
	memset(regs, 0, sizeof(regs));
	memset(&resolver, 0, sizeof(resolver));
	for (int i = 0; i < 16; i++)
		resolver.cats[i] = CAT_PROGRAM;
	resolver.cats[0] = CAT_UNKNOWN;
	memset(&data, 0, sizeof(data));
	data.mode = "launch";
	data.command = cmd_argv;
	data.pids = the_pids;
	data.npids = 1;
	data.duration_s = 10.0;
	data.final = true;
	data.has_exit = true;
	data.exit_pid = 5981;
	data.exit_code = 0;
	data.procs = the_procs;
	data.nprocs = 1;
	data.resolve = fake_resolve;
	data.resolve_ctx = &resolver;
	memset(&opts, 0, sizeof(opts));
}

/* Runs report_write into a string (caller frees); *ret gets its result. */
static char *run(enum report_format format, long *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	long r;

	ck_assert_ptr_nonnull(f);
	point_at_regions();
	opts.format = format;
	r = report_write(f, &data, &opts);
	ck_assert_int_eq(fclose(f), 0);
	if (ret)
		*ret = r;
	return buf;
}

static size_t count_substr(const char *s, const char *sub)
{
	size_t n = 0;

	for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub))
		n++;
	return n;
}

static bool have_python(void)
{
	return system("python3 -c pass >/dev/null 2>&1") == 0;
}

/* Feed json to a python snippet (which gets it as `o`); true when it exits 0. */
static bool python_check(const char *json, const char *snippet)
{
	char cmd[8192];
	FILE *p;
	int st, n;

	n = snprintf(cmd, sizeof(cmd),
		     "python3 -c 'import json,sys\n"
		     "lines=sys.stdin.read().splitlines()\n"
		     "assert len(lines)==1, len(lines)\n"
		     "o=json.loads(lines[0])\n"
		     "%s' >/dev/null",
		     snippet);
	ck_assert_int_lt(n, (int)sizeof(cmd));
	p = popen(cmd, "w");
	ck_assert_ptr_nonnull(p);
	fputs(json, p);
	st = pclose(p);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* ---- size formatting ---- */

START_TEST(test_format_size)
{
	static const struct {
		uint64_t bytes;
		const char *want;
	} cases[] = {
		{0, "0 B"},	      {512, "512 B"},	       {1023, "1023 B"},
		{1024, "1.0 KiB"},    {40960, "40.0 KiB"},     {204800, "200.0 KiB"},
		{1990656, "1.9 MiB"}, {1048575, "1.0 MiB"}, /* 1023.999 KiB rounds up into the next
							       unit */
		{1536, "1.5 KiB"},    {2ULL << 30, "2.0 GiB"}, {UINT64_MAX, "16.0 EiB"},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = report_format_size(buf, sizeof(buf), cases[i].bytes);

		ck_assert_str_eq(buf, cases[i].want);
		ck_assert_int_eq(n, (int)strlen(cases[i].want));
	}
	/* truncation behaves like snprintf */
	ck_assert_int_eq(report_format_size(buf, 4, 40960), 8);
	ck_assert_str_eq(buf, "40.");
}
END_TEST

START_TEST(test_category_names)
{
	ck_assert_str_eq(site_category_name(CAT_PROGRAM), "program");
	ck_assert_str_eq(site_category_name(CAT_MALLOC_HEAP), "malloc-heap");
	ck_assert_str_eq(site_category_name(CAT_THREAD_STACK), "thread-stack");
	ck_assert_str_eq(site_category_name(CAT_RUNTIME), "runtime");
	ck_assert_str_eq(site_category_name(CAT_LOADER), "loader");
	ck_assert_str_eq(site_category_name(CAT_UNKNOWN), "unknown");
	ck_assert_str_eq(site_category_name(CAT_USER_SUPPRESSED), "user-suppressed");
	ck_assert_str_eq(site_category_name(CAT_COUNT), "unknown");
}
END_TEST

/* ---- grouping, sorting, totals ---- */

START_TEST(test_same_stack_different_prot_two_sites)
{
	long ret;
	char *out;

	add_anon(0x10000, 4096, 1, 1);
	add_anon(0x20000, 4096, 1, 2);
	add_region(5981, 0x30000, 4096, 1, MEM_MMAP, REGION_ANON, PROT_READ, ANON_FLAGS, 3);
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 3);
	ck_assert_ptr_nonnull(strstr(out, "\"sites\": 2,"));
	ck_assert_ptr_nonnull(strstr(out, "\"bytes\": 8192, \"count\": 2, \"syscall\": \"mmap\", "
					  "\"kind\": \"anon\", \"prot\": \"rw-\""));
	ck_assert_ptr_nonnull(strstr(out, "\"bytes\": 4096, \"count\": 1, \"syscall\": \"mmap\", "
					  "\"kind\": \"anon\", \"prot\": \"r--\""));
	/* resolved once per site, not once per region */
	ck_assert_int_eq(resolver.calls[1], 2);
	free(out);
}
END_TEST

START_TEST(test_same_stack_different_flags_and_op)
{
	long ret;
	char *out;

	add_anon(0x10000, 4096, 2, 1);
	add_region(5981, 0x20000, 4096, 2, MEM_MMAP, REGION_ANON, RW, ANON_FLAGS | MAP_STACK, 2);
	add_region(5981, 0x30000, 4096, 2, MEM_MREMAP, REGION_ANON, RW, ANON_FLAGS, 3);
	add_anon(0x40000, 8192, 2, 4); /* same key as the first: one site of 2 */
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 4);
	ck_assert_ptr_nonnull(strstr(out, "\"sites\": 3,"));
	ck_assert_ptr_nonnull(strstr(out, "\"bytes\": 12288, \"count\": 2,"));
	ck_assert_ptr_nonnull(strstr(out, "\"syscall\": \"mremap\""));
	ck_assert_ptr_nonnull(strstr(out, "[\"MAP_PRIVATE\", \"MAP_ANONYMOUS\", \"MAP_STACK\"]"));
	free(out);
}
END_TEST

START_TEST(test_no_stack_grouped_by_length)
{
	long ret;
	char *out;

	add_anon(0x10000, 4096, 0, 1);
	add_anon(0x20000, 4096, 0, 2);
	add_anon(0x30000, 8192, 0, 3);
	add_anon(0x40000, 4096, 0, 4);
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 4);
	ck_assert_ptr_nonnull(strstr(out, "\"sites\": 2,"));
	ck_assert_ptr_nonnull(strstr(out, "\"bytes\": 12288, \"count\": 3,"));
	ck_assert_ptr_nonnull(strstr(out, "\"bytes\": 8192, \"count\": 1,"));
	ck_assert_ptr_nonnull(strstr(out, "\"category\": \"unknown\", \"frames\": []"));
	ck_assert_ptr_null(strstr(out, "\"category\": \"program\""));
	free(out);
}
END_TEST

START_TEST(test_stack_not_split_by_length)
{
	long ret;
	char *out;

	add_anon(0x10000, 4096, 3, 1);
	add_anon(0x20000, 8192, 3, 2);
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 2);
	ck_assert_ptr_nonnull(strstr(out, "\"sites\": 1,"));
	free(out);
	out = run(REPORT_TEXT, &ret);
	ck_assert_ptr_nonnull(strstr(out,
				     "    sizes from 4.0 KiB to 8.0 KiB, made from +0.001 s to "
				     "+0.002 s (one every 1.0 ms)\n"));
	free(out);
}
END_TEST

START_TEST(test_sites_sorted_by_bytes)
{
	long ret;
	char *out;
	const char *a, *b, *c;

	add_anon(0x10000, 4096, 1, 1);
	add_anon(0x100000, 1 << 20, 2, 2);
	add_anon(0x300000, 65536, 3, 3);
	add_anon(0x400000, 65536, 3, 4);
	out = run(REPORT_JSON, &ret);
	a = strstr(out, "{\"bytes\": 1048576,");
	b = strstr(out, "{\"bytes\": 131072,");
	c = strstr(out, "{\"bytes\": 4096,");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	ck_assert(a < b);
	ck_assert(b < c);
	free(out);

	out = run(REPORT_TEXT, &ret);
	ck_assert_ptr_nonnull(strstr(out, "\n#1  1.0 MiB in 1 region  mmap anon rw- "));
	ck_assert_ptr_nonnull(strstr(out, "\n#2  128.0 KiB in 2 regions  mmap anon rw- "));
	ck_assert_ptr_nonnull(strstr(out, "\n#3  4.0 KiB in 1 region  mmap anon rw- "));
	free(out);
}
END_TEST

START_TEST(test_ties_sorted_by_count_then_time)
{
	long ret;
	char *out;
	const char *a, *b, *c;

	add_anon(0x10000, 8192, 1, 50); /* 8 KiB, 1 region, late */
	add_anon(0x20000, 8192, 2, 10); /* 8 KiB, 1 region, early */
	add_anon(0x30000, 4096, 3, 90); /* 8 KiB in 2 regions */
	add_anon(0x40000, 4096, 3, 95);
	out = run(REPORT_JSON, &ret);
	a = strstr(out, "\"count\": 2,");
	b = strstr(out, "\"first_s\": 0.010");
	c = strstr(out, "\"first_s\": 0.050");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	ck_assert(a < b);
	ck_assert(b < c);
	free(out);
}
END_TEST

START_TEST(test_totals_and_suppressed_accounting)
{
	long ret;
	char *out;

	resolver.cats[2] = CAT_LOADER;
	resolver.cats[3] = CAT_MALLOC_HEAP;
	resolver.cats[4] = CAT_THREAD_STACK;
	resolver.cats[5] = CAT_USER_SUPPRESSED;
	resolver.cats[6] = CAT_RUNTIME;
	add_anon(0x10000, 40960, 1, 1);
	add_anon(0x20000, 40960, 1, 2);
	add_anon(0x100000, 8192, 2, 3);
	add_anon(0x200000, 4096, 2, 4);
	add_region(5981, 0x300000, 135168, 3, MEM_BRK, REGION_BRK, RW, 0, 5);
	add_anon(0x400000, 8 << 20, 4, 6);
	add_anon(0x1000000, 4096, 5, 7);
	add_anon(0x2000000, 4096, 6, 8);
	add_anon(0x3000000, 4096, 0, 9); /* unknown: reported */
	data.dead_thread_stacks = 1;

	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 3);
	ck_assert_ptr_nonnull(strstr(out, "\"totals\": {\"regions\": 3, \"bytes\": 86016, "
					  "\"sites\": 2, \"suppressed_regions\": 6, "
					  "\"suppressed_bytes\": 8544256, \"hidden_regions\": 0"));
	ck_assert_ptr_null(strstr(out, "\"suppressed\": true"));
	ck_assert_uint_eq(count_substr(out, "\"suppressed\": false"), 2);
	ck_assert_ptr_nonnull(
		strstr(out, "{\"pid\": 5981, \"exe\": \"/root/clone_stack_leak\", \"regions\": 3, "
			    "\"bytes\": 86016}"));
	free(out);

	opts.all = true;
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 3); /* --all lists, but does not count, suppressed regions */
	ck_assert_uint_eq(count_substr(out, "\"suppressed\": true"), 5);
	ck_assert_ptr_nonnull(strstr(out, "\"suppressed\": true, \"category\": \"loader\""));
	ck_assert_ptr_nonnull(strstr(out, "\"suppressed\": true, \"category\": \"malloc-heap\""));
	ck_assert_ptr_nonnull(strstr(out, "\"syscall\": \"brk\", \"kind\": \"brk\", "
					  "\"prot\": \"rw-\", \"flags\": []"));
	free(out);

	opts.all = false;
	out = run(REPORT_TEXT, &ret);
	ck_assert_ptr_nonnull(strstr(out,
				     "vmleak: 3 regions (84.0 KiB) never unmapped, from 2 call "
				     "sites, in 1 process\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nsuppressed: loader 12.0 KiB in 2 regions; runtime "
					  "4.0 KiB in 1 region; user-suppressed 4.0 KiB in 1 "
					  "region\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nheap grown by malloc: 132.0 KiB in 1 region (not a "
					  "per-allocation verdict: use a heap profiler for "
					  "that)\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nthread stacks: 1 (8.0 MiB), 1 of exited threads\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n            (--all lists them)\n"));
	ck_assert_ptr_null(strstr(out, "(suppressed: "));
	ck_assert_uint_eq(count_substr(out, "\n#"), 2);
	free(out);

	opts.all = true;
	out = run(REPORT_TEXT, &ret);
	ck_assert_uint_eq(count_substr(out, "\n#"), 7);
	ck_assert_ptr_nonnull(strstr(out, "  (suppressed: thread-stack)\n"));
	ck_assert_ptr_null(strstr(out, "(--all lists them)"));
	/* unsuppressed blocks come first */
	ck_assert(strstr(out, "#2 ") < strstr(out, "(suppressed: "));
	free(out);
}
END_TEST

START_TEST(test_no_resolver_means_unknown)
{
	long ret;
	char *out;

	data.resolve = NULL;
	add_anon(0x10000, 4096, 7, 1);
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 1);
	ck_assert_ptr_nonnull(strstr(out, "\"suppressed\": false, \"category\": \"unknown\", "
					  "\"frames\": []"));
	free(out);
	out = run(REPORT_TEXT, &ret);
	ck_assert_ptr_nonnull(strstr(out, "\n    (no backtrace: --depth 0 or unwinding failed)\n"));
	free(out);
}
END_TEST

/* ---- filters ---- */

START_TEST(test_exited_processes_summed)
{
	static const int32_t exited[] = {7000, 7001, 7002};
	long ret;
	char *out;

	resolver.cats[3] = CAT_LOADER;
	add_anon(0x10000, 4096, 1, 1);
	add_anon(0x20000, 4096, 1, 2);
	add_region(7000, 0x30000, 65536, 1, MEM_MMAP, REGION_ANON, RW, ANON_FLAGS, 3);
	add_region(7001, 0x40000, 8192, 2, MEM_MMAP, REGION_ANON, RW, ANON_FLAGS, 4);
	add_region(7002, 0x50000, 8192, 3, MEM_MMAP, REGION_ANON, RW, ANON_FLAGS, 5); /* loader */
	data.exited_pids = exited;
	data.nexited_pids = 3;
	opts.hide_exited = true;
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 2);
	ck_assert_ptr_nonnull(strstr(out, "\"exited_processes\": 2, \"exited_regions\": 2, "
					  "\"exited_bytes\": 73728, \"resident_bytes\": null"));
	ck_assert_ptr_nonnull(strstr(out, "\"pids\": [5981]"));
	ck_assert_ptr_null(strstr(out, "\"start\": \"0x30000\""));
	free(out);
	out = run(REPORT_TEXT, &ret);
	ck_assert_ptr_nonnull(strstr(out, "exited during the window: 2 processes held 2 regions "
					  "(72.0 KiB) when they exited"));
	free(out);
	opts.hide_exited = false; /* --exited */
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 4);
	ck_assert_ptr_nonnull(strstr(out, "\"pids\": [5981, 7000]"));
	ck_assert_ptr_nonnull(strstr(out, "\"exited_processes\": 0,"));
	free(out);
}
END_TEST

START_TEST(test_min_size_filter)
{
	long ret;
	char *out;

	add_anon(0x10000, 4096, 1, 1);
	add_anon(0x20000, 4096, 1, 2);
	add_anon(0x30000, 4096, 2, 3);
	add_anon(0x40000, 65536, 3, 4);
	opts.min_size = 8192;
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 3);
	ck_assert_ptr_nonnull(strstr(out, "\"totals\": {\"regions\": 3, \"bytes\": 73728, "
					  "\"sites\": 2,"));
	ck_assert_ptr_null(strstr(out, "\"start\": \"0x30000\""));
	/* the small site is resolved all the same: only its category says whether
	 * the headline must count it among what the filter hid */
	ck_assert_int_eq(resolver.calls[2], 1);
	ck_assert_ptr_nonnull(strstr(out, "\"hidden_regions\": 1, \"hidden_bytes\": 4096,"));
	free(out);
}
END_TEST

START_TEST(test_min_age_filter)
{
	long ret;
	char *out;

	data.duration_s = 10.0;
	add_anon(0x10000, 4096, 1, 2000);
	add_anon(0x20000, 4096, 1, 9500);
	add_anon(0x30000, 4096, 2, 9001);
	add_anon(0x40000, 4096, 2, 9000); /* exactly 1 s old: kept */
	opts.min_age = 1.0;
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 2);
	ck_assert_ptr_nonnull(strstr(out, "\"start\": \"0x10000\""));
	ck_assert_ptr_nonnull(strstr(out, "\"start\": \"0x40000\""));
	ck_assert_ptr_null(strstr(out, "\"start\": \"0x20000\""));
	ck_assert_ptr_null(strstr(out, "\"start\": \"0x30000\""));
	free(out);
}
END_TEST

START_TEST(test_min_age_applies_before_min_size)
{
	long ret;
	char *out;

	add_anon(0x10000, 4096, 1, 1000);
	add_anon(0x20000, 4096, 1, 9900); /* too young: the site drops to 4 KiB */
	opts.min_age = 1.0;
	opts.min_size = 8192;
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 0);
	ck_assert_ptr_nonnull(strstr(out, "\"sites\": []"));
	free(out);
}
END_TEST

START_TEST(test_preexisting_skipped)
{
	long ret;
	char *out;

	add_anon(0x10000, 4096, 1, 1);
	add_anon(0x20000, 1 << 20, 1, 0);
	regs[1].r.origin = REGION_PREEXISTING;
	out = run(REPORT_JSON, &ret);
	ck_assert_int_eq(ret, 1);
	ck_assert_ptr_nonnull(strstr(out, "\"totals\": {\"regions\": 1, \"bytes\": 4096,"));
	ck_assert_ptr_null(strstr(out, "0x20000"));
	free(out);
}
END_TEST

/* ---- JSON ---- */

START_TEST(test_json_schema_with_python)
{
	char *out;

	if (!have_python())
		return;
	add_anon(0x7faab403a000, 40960, 1, 10);
	add_region(5981, 0x7f0000000000, 8192, 2, MEM_MMAP, REGION_FILE, PROT_READ, MAP_PRIVATE,
		   20);
	resolver.weird_frames[2] = true;
	data.events[MEM_MMAP] = 6;
	data.events[MEM_BRK] = 3;
	data.failed = 1;
	data.verify = true;
	data.verify_checked = 2;
	out = run(REPORT_JSON, NULL);
	ck_assert(python_check(
		out,
		"assert list(o)==[\"vmleak\",\"version\",\"mode\",\"command\",\"pids\","
		"\"duration_s\",\"final\",\"exit\",\"events\",\"totals\",\"processes\","
		"\"sites\",\"series_other\",\"verify\"], list(o)\n"
		"assert o[\"vmleak\"]==1 and o[\"mode\"]==\"launch\"\n"
		"assert o[\"command\"]==[\"./clone_stack_leak\"] and o[\"pids\"]==[5981]\n"
		"assert o[\"duration_s\"]==10.0 and o[\"final\"] is True\n"
		"assert o[\"exit\"]=={\"pid\":5981,\"code\":0,\"signal\":None}\n"
		"assert o[\"events\"]=={\"mmap\":6,\"munmap\":0,\"mremap\":0,\"brk\":3,"
		"\"shmat\":0,\"shmdt\":0,\"failed\":1}\n"
		"assert list(o[\"totals\"])==[\"regions\",\"bytes\",\"sites\","
		"\"suppressed_regions\",\"suppressed_bytes\",\"hidden_regions\",\"hidden_bytes\","
		"\"exited_processes\",\"exited_regions\",\"exited_bytes\",\"resident_bytes\","
		"\"swapped_bytes\"]\n"
		"assert o[\"totals\"][\"resident_bytes\"] is None\n"
		"assert o[\"series_other\"] is None\n"
		"s=o[\"sites\"][0]\n"
		"assert list(s)==[\"bytes\",\"count\",\"syscall\",\"kind\",\"prot\",\"flags\","
		"\"first_s\",\"last_s\",\"resident_bytes\",\"swapped_bytes\",\"suppressed\","
		"\"category\",\"frames\",\"pids\",\"trend\",\"series\",\"regions\"]\n"
		"assert s[\"resident_bytes\"] is None and s[\"series\"] is None\n"
		"assert s[\"pids\"]==[5981]\n"
		"assert s[\"bytes\"]==40960 and s[\"flags\"]==[\"MAP_PRIVATE\",\"MAP_ANONYMOUS\"]\n"
		"assert s[\"first_s\"]==0.01 and s[\"last_s\"]==0.01\n"
		"f=s[\"frames\"][1]\n"
		"assert list(f)==[\"pc\",\"function\",\"offset\",\"module\",\"build_id\","
		"\"module_offset\",\"file\",\"line\"]\n"
		"assert f==dict(pc=\"0x40117e\",function=\"main\",offset=\"0x2e\","
		"module=\"/root/prog\",build_id=None,module_offset=\"0x0\","
		"file=\"/root/prog.c\",line=27), f\n"
		"assert s[\"frames\"][0][\"file\"] is None and s[\"frames\"][0][\"line\"] is None\n"
		"r=s[\"regions\"][0]\n"
		"assert r==dict(pid=5981,tid=5981,start=\"0x7faab403a000\","
		"end=\"0x7faab4044000\",length=40960,resident_bytes=None,swapped_bytes=None,"
		"at_s=0.01,path=None,first_frames=None), r\n"
		"t=o[\"sites\"][1]\n"
		"assert t[\"kind\"]==\"file\" and t[\"prot\"]==\"r--\" and "
		"t[\"flags\"]==[\"MAP_PRIVATE\"]\n"
		"assert t[\"frames\"][0][\"function\"] is None\n"
		"assert o[\"verify\"]=={\"checked\":2,\"mismatches\":[]}\n"));
	free(out);
}
END_TEST

START_TEST(test_json_one_line_per_object)
{
	char *out;

	add_anon(0x10000, 4096, 1, 1);
	data.final = false;
	out = run(REPORT_JSON, NULL);
	ck_assert_uint_eq(count_substr(out, "\n"), 1);
	ck_assert_int_eq(out[strlen(out) - 1], '\n');
	ck_assert_ptr_nonnull(strstr(out, "\"final\": false"));
	free(out);
}
END_TEST

START_TEST(test_json_attach_mode_nulls)
{
	char *out;
	static int32_t pids[] = {11, 12};

	data.mode = "attach";
	data.command = NULL;
	data.has_exit = false;
	data.pids = pids;
	data.npids = 2;
	data.nprocs = 0;
	add_region(12, 0x10000, 4096, 1, MEM_MMAP, REGION_ANON, RW, ANON_FLAGS, 1);
	out = run(REPORT_JSON, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\"mode\": \"attach\", \"command\": null, "
					  "\"pids\": [11, 12],"));
	ck_assert_ptr_nonnull(strstr(out, "\"exit\": null,"));
	/* a pid the tracer did not describe still gets its totals, exe null */
	ck_assert_ptr_nonnull(strstr(out, "\"processes\": [{\"pid\": 12, \"exe\": null, "
					  "\"regions\": 1, \"bytes\": 4096}]"));
	free(out);

	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\n        traced pids 11,12 for 10.0 s: no memory "
					  "calls\n"));
	free(out);
}
END_TEST

START_TEST(test_json_exit_signal)
{
	char *out;

	data.exit_signal = 9;
	data.exit_code = 0;
	out = run(REPORT_JSON, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\"exit\": {\"pid\": 5981, \"code\": null, "
					  "\"signal\": 9},"));
	free(out);
	data.exit_signal = 0;
	data.exit_code = 3;
	out = run(REPORT_JSON, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\"exit\": {\"pid\": 5981, \"code\": 3, "
					  "\"signal\": null},"));
	free(out);
}
END_TEST

START_TEST(test_json_no_nan)
{
	char *out;

	data.duration_s = NAN;
	add_anon(0x10000, 4096, 1, 1);
	out = run(REPORT_JSON, NULL);
	ck_assert_ptr_null(strstr(out, "nan"));
	ck_assert_ptr_nonnull(strstr(out, "\"duration_s\": 0.000,"));
	free(out);
}
END_TEST

static const char hostile[] = "/tmp/a\"b\\c\nd\x01"
			      "e\xff"
			      "f\xc0\xaf"
			      "g\xed\xa0\x80"
			      "h\xc3\xa9"
			      "i\xe2\x82";

START_TEST(test_json_escapes_hostile_paths)
{
	struct strtab *t = strtab_new();
	char *out;
	char *argv[] = {"./x\x7f\"", NULL};

	ck_assert_ptr_nonnull(t);
	data.paths = t;
	data.command = argv;
	add_region(5981, 0x10000, 4096, 1, MEM_MMAP, REGION_FILE, PROT_READ, MAP_SHARED, 1);
	regs[0].r.path = strtab_intern(t, hostile);
	ck_assert_uint_ne(regs[0].r.path, 0);
	out = run(REPORT_JSON, NULL);
	ck_assert_ptr_nonnull(strstr(
		out,
		"\"path\": \"/tmp/a\\\"b\\\\c\\nd\\u0001e\\ufffdf\\ufffd"
		"\\ufffdg\\ufffd\\ufffd\\ufffdh\xc3\xa9i\\ufffd\\ufffd\", \"first_frames\": null}"));
	ck_assert_ptr_nonnull(strstr(out, "\"command\": [\"./x\\u007f\\\"\"]"));
	if (have_python())
		ck_assert(python_check(out, "p=o[\"sites\"][0][\"regions\"][0][\"path\"]\n"
					    "r=\"\\ufffd\"\n"
					    "assert p==\"/tmp/a\\\"b\\\\c\\nd\\x01e\"+r+\"f\"+r*2+"
					    "\"g\"+r*3+\"h\\u00e9i\"+r*2, ascii(p)\n"));
	free(out);

	/* text: no raw control characters reach the terminal */
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out, "  /tmp/a\"b\\x5cc\\x0ad\\x01e"));
	ck_assert_ptr_null(strchr(out, '\x01'));
	ck_assert_ptr_null(strchr(out, '\x7f'));
	free(out);

	/* folded: no stray separators */
	out = run(REPORT_FOLDED, NULL);
	ck_assert_uint_eq(count_substr(out, "\n"), 1);
	free(out);
	strtab_free(t);
}
END_TEST

START_TEST(test_json_verify_mismatches)
{
	static const struct verify_mismatch mm[] = {
		{5981, 0x1000, 0x3000, "in ledger, not mapped"},
		{5982, 0x5000, 0x6000, "mapped, not in ledger"},
	};
	char *out;

	data.verify = true;
	data.verify_checked = 12;
	data.mismatches = mm;
	data.nmismatches = 2;
	out = run(REPORT_JSON, NULL);
	ck_assert_ptr_nonnull(strstr(out, ", \"verify\": {\"checked\": 12, \"mismatches\": "
					  "[{\"pid\": 5981, \"start\": \"0x1000\", \"end\": "
					  "\"0x3000\", \"problem\": \"in ledger, not mapped\"}, "
					  "{\"pid\": 5982, "));
	free(out);
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out,
				     "\nverify: 12 regions checked, 2 mismatches\n"
				     "verify: pid 5981 0x1000-0x3000: in ledger, not mapped\n"
				     "verify: pid 5982 0x5000-0x6000: mapped, not in ledger\n"));
	free(out);
	data.nmismatches = 0;
	data.verify = false;
	out = run(REPORT_JSON, NULL);
	ck_assert_ptr_null(strstr(out, "verify"));
	free(out);
}
END_TEST

/* ---- text ---- */

START_TEST(test_text_report_shape)
{
	long ret;
	char *out;

	data.duration_s = 0.02;
	data.events[MEM_MMAP] = 12;
	data.events[MEM_MUNMAP] = 1;
	data.events[MEM_BRK] = 3;
	for (int i = 0; i < 5; i++)
		add_region(5981, 0x7faab403a000 - i * 40960ULL, 40960, 1, MEM_MMAP, REGION_ANON, RW,
			   ANON_FLAGS | MAP_STACK, 1 + i * 4);
	out = run(REPORT_TEXT, &ret);
	ck_assert_int_eq(ret, 5);
	ck_assert_str_eq(out,
			 "vmleak: 5 regions (200.0 KiB) never unmapped, from 1 call site, in "
			 "1 process\n"
			 "        traced ./clone_stack_leak for 0.02 s: 12 mmap, 1 munmap, 3 "
			 "brk\n"
			 "\n"
			 "#1  200.0 KiB in 5 regions  mmap anon rw- "
			 "MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK  pid 5981\n"
			 "    40.0 KiB each, made from +0.001 s to +0.017 s (one every 4.0 ms)\n"
			 "    at main (/root/prog.c:27)\n"
			 "    by __libc_start_main (libc.so.6)\n"
			 "    by _start (prog)\n");
	free(out);
}
END_TEST

START_TEST(test_text_unknown_function_and_pids)
{
	char *out;

	resolver.weird_frames[1] = true;
	add_region(7, 0x10000, 4096, 1, MEM_MMAP, REGION_ANON, RW, ANON_FLAGS, 5);
	add_region(3, 0x10000, 4096, 1, MEM_MMAP, REGION_ANON, RW, ANON_FLAGS, 5);
	add_region(7, 0x20000, 4096, 1, MEM_MMAP, REGION_ANON, RW, ANON_FLAGS, 5);
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out, "in 2 processes\n"));
	ck_assert_ptr_nonnull(strstr(out, "MAP_PRIVATE|MAP_ANONYMOUS  pids 3,7\n"));
	ck_assert_ptr_nonnull(strstr(out, "    4.0 KiB each, made at +0.005 s\n"));
	ck_assert_ptr_nonnull(strstr(out, "    at 0x7f0000003000 (libfoo.so+0x1234)\n"
					  "    by leaker (/root/prog.c:40)\n"));
	free(out);
}
END_TEST

START_TEST(test_text_clean_run_one_line)
{
	long ret;
	char *out;

	data.duration_s = 0.02;
	data.events[MEM_MMAP] = 12;
	data.events[MEM_MUNMAP] = 12;
	resolver.cats[2] = CAT_LOADER;
	add_anon(0x10000, 4096, 2, 1); /* suppressed only */
	out = run(REPORT_TEXT, &ret);
	ck_assert_int_eq(ret, 0);
	ck_assert_str_eq(out, "vmleak: no unmatched mappings (12 mmap, 12 munmap traced in "
			      "0.02 s)\n");
	free(out);
}
END_TEST

START_TEST(test_text_interim_header)
{
	char *out;

	data.final = false;
	data.duration_s = 3.5;
	add_anon(0x10000, 4096, 1, 1);
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_eq(strstr(out, "-- interim report at +3.50 s --\nvmleak: 1 region (4.0 KiB) "
				     "never unmapped, from 1 call site, in 1 process\n"),
			 out);
	free(out);
	data.final = true;
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_null(strstr(out, "interim"));
	free(out);
}
END_TEST

START_TEST(test_text_names_the_api_called)
{
	static const struct frame_info frames[] = {
		{0x7f0000001000, "mmap64", 0x20, "/lib/libc.so.6", NULL, 0, NULL, 0, false},
		{0x7f0000002000, "malloc", 0x40, "/lib/libc.so.6", NULL, 0, NULL, 0, false},
		{0x401200, "leak_big", 0x10, "/root/prog", "/root/prog.c", 27, NULL, 0, false},
	};
	struct frame_info via_sbrk[3];
	char *out;

	resolver.custom = frames;
	resolver.ncustom = 3;
	add_anon(0x10000, 1 << 20, 9, 1);
	out = run(REPORT_TEXT, NULL);
	/* callsite 0 is the wrapper itself: no API to name */
	ck_assert_ptr_nonnull(
		strstr(out, "    at mmap64 (libc.so.6)\n    by malloc (libc.so.6)\n"));
	free(out);

	/* call site leak_big: the frame before it (malloc) is the API it called */
	memcpy(via_sbrk, frames, sizeof(frames));
	resolver.custom = via_sbrk;
	resolver.ncustom = 3;
	resolver.custom_callsite = 2;
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out, "    at leak_big (/root/prog.c:27) calling malloc\n"));
	free(out);

	via_sbrk[1].function = "__mmap";
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out, "    at leak_big (/root/prog.c:27)\n"));
	free(out);
}
END_TEST

START_TEST(test_text_file_and_brk_sites)
{
	struct strtab *t = strtab_new();
	char *out;

	data.paths = t;
	add_region(5981, 0x10000, 8192, 1, MEM_MMAP, REGION_FILE, PROT_READ, MAP_PRIVATE, 1);
	regs[0].r.path = strtab_intern(t, "/usr/share/data.bin");
	add_region(5981, 0x900000, 4096, 2, MEM_BRK, REGION_BRK, RW, 0, 2);
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out, "#1  8.0 KiB in 1 region  mmap file r-- MAP_PRIVATE  "
					  "/usr/share/data.bin  pid 5981\n"));
	ck_assert_ptr_nonnull(strstr(out, "#2  4.0 KiB in 1 region  brk rw-  pid 5981\n"));
	free(out);
	strtab_free(t);
}
END_TEST

START_TEST(test_text_source_path_relative_to_cwd)
{
	char dir[] = "/tmp/check_report.XXXXXX";
	char file[256], other[256];
	struct frame_info frames[2] = {
		{0x401000, "leak_here", 0x10, "/root/prog", file, 12, NULL, 0, false},
		{0x402000, "caller", 0x20, "/root/prog", other, 34, NULL, 0, false},
	};
	char *out;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	opts.cwd = dir; /* the tracer passes its getcwd() */
	snprintf(file, sizeof(file), "%s/src/leak.c", dir);
	snprintf(other, sizeof(other), "%s-other/main.c", dir);
	resolver.custom = frames;
	resolver.ncustom = 2;
	add_anon(0x10000, 4096, 9, 1);
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out, "    at leak_here (src/leak.c:12)\n"));
	/* a sibling directory sharing the prefix is not below the cwd */
	snprintf(other, sizeof(other), "    by caller (%s-other/main.c:34)\n", dir);
	ck_assert_ptr_nonnull(strstr(out, other));
	free(out);
	/* JSON keeps the full path */
	snprintf(file, sizeof(file), "%s/src/leak.c", dir);
	snprintf(other, sizeof(other), "%s-other/main.c", dir);
	out = run(REPORT_JSON, NULL);
	ck_assert_ptr_nonnull(strstr(out, file));
	free(out);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

START_TEST(test_shm_flags)
{
	char *out;

	add_region(5981, 0x10000, 65536, 1, MEM_SHMAT, REGION_SHM, PROT_READ, SHM_RDONLY, 1);
	out = run(REPORT_JSON, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\"syscall\": \"shmat\", \"kind\": \"shm\", "
					  "\"prot\": \"r--\", \"flags\": [\"SHM_RDONLY\"]"));
	free(out);
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out, "#1  64.0 KiB in 1 region  shmat shm r-- SHM_RDONLY  "
					  "pid 5981\n"));
	free(out);
}
END_TEST

/* ---- folded ---- */

START_TEST(test_folded_lines)
{
	long ret;
	char *out;

	resolver.cats[3] = CAT_LOADER;
	for (int i = 0; i < 5; i++)
		add_anon(0x100000 + i * 40960ULL, 40960, 1, i);
	add_anon(0x900000, 4096, 0, 9);
	add_anon(0xa00000, 1 << 20, 3, 9);
	out = run(REPORT_FOLDED, &ret);
	ck_assert_int_eq(ret, 6);
	ck_assert_str_eq(out, "clone_stack_leak;_start;__libc_start_main;main;mmap 204800\n"
			      "clone_stack_leak;mmap 4096\n");
	free(out);
	opts.all = true;
	out = run(REPORT_FOLDED, &ret);
	ck_assert_str_eq(out, "clone_stack_leak;_start;__libc_start_main;main;mmap 1048576\n"
			      "clone_stack_leak;_start;__libc_start_main;main;mmap 204800\n"
			      "clone_stack_leak;mmap 4096\n");
	free(out);
}
END_TEST

START_TEST(test_folded_unknown_and_hostile_frames)
{
	static const struct frame_info frames[] = {
		{0x7f0000005000, NULL, 0, "/usr/lib/libbar.so", NULL, 0, NULL, 0, false},
		{0x7f0000006000, "op;er\nator new(unsigned long)", 0x8, "/usr/lib/libx.so", NULL, 0,
		 NULL, 0, false},
		{0x402000, NULL, 0, NULL, NULL, 0, NULL, 0, false},
	};
	char *out;

	resolver.custom = frames;
	resolver.ncustom = 3;
	resolver.weird_frames[1] = true;
	add_anon(0x10000, 8192, 1, 1);
	add_anon(0x20000, 4096, 9, 2);
	out = run(REPORT_FOLDED, NULL);
	ck_assert_str_eq(out, "clone_stack_leak;leaker;libfoo.so+0x1234;mmap 8192\n"
			      "clone_stack_leak;0x402000;op_er_ator new(unsigned long);libbar.so;"
			      "mmap 4096\n");
	free(out);
}
END_TEST

START_TEST(test_write_error_reported)
{
	FILE *f = fopen("/dev/full", "w");
	long ret;

	if (!f)
		return;
	add_anon(0x10000, 4096, 1, 1);
	point_at_regions();
	opts.format = REPORT_JSON;
	ret = report_write(f, &data, &opts);
	ck_assert_int_lt(ret, 0);
	fclose(f);
}
END_TEST

/* ---- residency and growth ---- */

static const int32_t exited_77[] = {77};

/* Figures by index of the regions as given; resident UINT64_MAX: none. */
static struct region_residency res_of[64];

static bool test_residency(void *ctx, size_t i, struct region_residency *out)
{
	(void)ctx;
	ck_assert_uint_lt(i, nregs);
	if (res_of[i].resident == UINT64_MAX)
		return false;
	*out = res_of[i];
	return true;
}

/* Sites 1 (three regions: 2 measured, 1 without a figure), 2 (measured, with
 * swap), 3 (no figure at all); given out of order, with a region of a
 * process that exited (set aside with hide_exited) in the middle. */
static void add_measured_sites(void)
{
	add_anon(0x40000000, 1 << 19, 2, 40);
	res_of[0] = (struct region_residency){8192, 4096};
	add_anon(0x20000000, 1 << 20, 1, 20);
	res_of[1] = (struct region_residency){131072, 0};
	add_region(77, 0x60000000, 1 << 20, 1, MEM_MMAP, REGION_ANON, RW, ANON_FLAGS, 15);
	res_of[2] = (struct region_residency){1 << 20, 0};
	add_anon(0x10000000, 1 << 20, 1, 10);
	res_of[3] = (struct region_residency){65536, 0};
	add_anon(0x50000000, 1 << 18, 3, 50);
	res_of[4] = (struct region_residency){UINT64_MAX, UINT64_MAX};
	add_anon(0x30000000, 1 << 20, 1, 30);
	res_of[5] = (struct region_residency){UINT64_MAX, UINT64_MAX};
	data.residency = test_residency;
	data.exited_pids = exited_77;
	data.nexited_pids = 1;
	opts.hide_exited = true;
}

START_TEST(test_resident_text)
{
	char *out;

	add_measured_sites();
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(
		out, "#1  3.0 MiB (192.0 KiB resident in 2 of 3 regions) in 3 regions  mmap"));
	ck_assert_ptr_nonnull(
		strstr(out, "#2  512.0 KiB (8.0 KiB resident, 4.0 KiB swapped) in 1 region  mmap"));
	ck_assert_ptr_nonnull(strstr(out, "#3  256.0 KiB (no resident figure) in 1 region  mmap"));
	free(out);
	/* nothing measured: no figure in the title */
	data.residency = NULL;
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out, "#1  3.0 MiB in 3 regions  mmap"));
	ck_assert_ptr_null(strstr(out, "resident"));
	free(out);
}
END_TEST

START_TEST(test_resident_json)
{
	char *out;

	if (!have_python())
		return;
	add_measured_sites();
	out = run(REPORT_JSON, NULL);
	ck_assert(python_check(
		out,
		"s={x[\"bytes\"]:x for x in o[\"sites\"]}\n"
		"assert s[3<<20][\"resident_bytes\"]==196608 and s[3<<20][\"swapped_bytes\"]==0\n"
		"assert [r[\"resident_bytes\"] for r in s[3<<20][\"regions\"]]==[65536,131072,None]\n"
		"assert s[1<<19][\"resident_bytes\"]==8192 and s[1<<19][\"swapped_bytes\"]==4096\n"
		"assert s[1<<18][\"resident_bytes\"] is None and s[1<<18][\"swapped_bytes\"] is None\n"
		"assert s[1<<18][\"regions\"][0][\"swapped_bytes\"] is None\n"
		"assert o[\"totals\"][\"resident_bytes\"]==204800\n"
		"assert o[\"totals\"][\"swapped_bytes\"]==4096\n"
		"assert s[3<<20][\"series\"] is None and s[3<<20][\"trend\"] is None\n"));
	free(out);
}
END_TEST

START_TEST(test_series_and_trend)
{
	struct history *h = history_new();
	struct history_sample x = {.key = {.site = 1,
					   .flags = ANON_FLAGS,
					   .op = MEM_MMAP,
					   .kind = REGION_ANON,
					   .prot = RW},
				   .resident = HISTORY_NO_FIGURE};
	char *out;

	add_anon(0x10000000, 1 << 20, 1, 10);
	add_anon(0x20000000, 1 << 20, 2, 10);
	/* site 1 grows 40 KiB every 11 s to the end */
	for (uint32_t i = 0; i < 6; i++) {
		x.bytes = (i + 1) * 40960;
		x.resident = i == 5 ? 8192 : HISTORY_NO_FIGURE;
		history_record(h, 1000 + i * 11000, &x, 1, true);
	}
	data.history = h;
	out = run(REPORT_TEXT, NULL);
	ck_assert_ptr_nonnull(strstr(out, "    trend: growing 40.0 KiB every 11.0 s (3.6 KiB/s), "
					  "still growing at the end\n"));
	ck_assert_uint_eq(count_substr(out, "trend:"), 1); /* site 2 has no series */
	free(out);
	if (have_python()) {
		out = run(REPORT_JSON, NULL);
		ck_assert(python_check(
			out, "s=[x for x in o[\"sites\"] if x[\"series\"]]\n"
			     "assert len(s)==1 and s[0][\"trend\"]==\"growing\"\n"
			     "assert s[0][\"series\"][0]==[1.0,40960,None], s[0][\"series\"]\n"
			     "assert s[0][\"series\"][-1]==[56.0,245760,8192]\n"
			     "assert len(s[0][\"series\"])==6\n"
			     "assert o[\"series_other\"]==[]\n"));
		free(out);
	}
	history_free(h);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_format_size);
	tcase_add_test(tc, test_category_names);
	tcase_add_test(tc, test_same_stack_different_prot_two_sites);
	tcase_add_test(tc, test_same_stack_different_flags_and_op);
	tcase_add_test(tc, test_no_stack_grouped_by_length);
	tcase_add_test(tc, test_stack_not_split_by_length);
	tcase_add_test(tc, test_sites_sorted_by_bytes);
	tcase_add_test(tc, test_ties_sorted_by_count_then_time);
	tcase_add_test(tc, test_totals_and_suppressed_accounting);
	tcase_add_test(tc, test_no_resolver_means_unknown);
	tcase_add_test(tc, test_min_size_filter);
	tcase_add_test(tc, test_exited_processes_summed);
	tcase_add_test(tc, test_min_age_filter);
	tcase_add_test(tc, test_min_age_applies_before_min_size);
	tcase_add_test(tc, test_preexisting_skipped);
	tcase_add_test(tc, test_json_schema_with_python);
	tcase_add_test(tc, test_json_one_line_per_object);
	tcase_add_test(tc, test_json_attach_mode_nulls);
	tcase_add_test(tc, test_json_exit_signal);
	tcase_add_test(tc, test_json_no_nan);
	tcase_add_test(tc, test_json_escapes_hostile_paths);
	tcase_add_test(tc, test_json_verify_mismatches);
	tcase_add_test(tc, test_text_report_shape);
	tcase_add_test(tc, test_text_unknown_function_and_pids);
	tcase_add_test(tc, test_text_clean_run_one_line);
	tcase_add_test(tc, test_text_interim_header);
	tcase_add_test(tc, test_text_names_the_api_called);
	tcase_add_test(tc, test_text_file_and_brk_sites);
	tcase_add_test(tc, test_text_source_path_relative_to_cwd);
	tcase_add_test(tc, test_shm_flags);
	tcase_add_test(tc, test_folded_lines);
	tcase_add_test(tc, test_folded_unknown_and_hostile_frames);
	tcase_add_test(tc, test_write_error_reported);
	tcase_add_test(tc, test_resident_text);
	tcase_add_test(tc, test_resident_json);
	tcase_add_test(tc, test_series_and_trend);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(report_suite());
}
