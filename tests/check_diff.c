/* tests/check_diff.c - unit tests of report/diff.c (vmleak --diff): parsing
 * JSON reports (the last object of an --interval file, errors for malformed and
 * wrong-version input), matching sites by symbolized stacks whatever their
 * addresses, the order of the changes, and the text and JSON output. */
#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/diff.h"
#include "tests/check_run.h"

/* A frame of a report as vmleak writes it. */
#define FRAME(pc, fn, mod, modoff, file, line)                                                \
	"{\"pc\": \"" pc "\", \"function\": " fn ", \"offset\": \"0x10\", \"module\": \"" mod \
	"\", \"build_id\": null, \"module_offset\": \"" modoff "\", \"file\": " file          \
	", \"line\": " line "}"

#define SITE(bytes, count, frames)                                                                 \
	"{\"bytes\": " bytes ", \"count\": " count ", \"syscall\": \"mmap\", \"kind\": \"anon\", " \
	"\"prot\": \"rw-\", \"flags\": [\"MAP_PRIVATE\", \"MAP_ANONYMOUS\"], \"first_s\": 0.1, "   \
	"\"last_s\": 0.2, \"suppressed\": false, \"category\": \"program\", \"frames\": [" frames  \
	"], \"pids\": [1], \"regions\": []}"

#define REPORT(final, sites)                                                                    \
	"{\"vmleak\": 1, \"version\": \"0.1.0\", \"mode\": \"launch\", \"command\": [\"./p\", " \
	"\"3\"], \"pids\": [1], \"duration_s\": 1.5, \"final\": " final ", \"sites\": [" sites  \
	"]}\n"

/* main at p.c:54, built as a PIE (low offsets) and without PIE (0x40xxxx) */
#define LEAK_PIE                                                                                \
	FRAME("0x7f0000001000", "\"mmap\"", "/lib/libc.so.6", "0x1019b3", "\"mmap64.c\"", "58") \
	", " FRAME("0x55555555517e", "\"main\"", "/a/p", "0x117e", "\"/a/p.c\"", "54")
#define LEAK_NOPIE                                                                              \
	FRAME("0x7f1234501000", "\"mmap\"", "/lib/libc.so.6", "0x1019b3", "\"mmap64.c\"", "58") \
	", " FRAME("0x4011be", "\"main\"", "/b/p", "0x4011be", "\"/b/p.c\"", "54")
/* the same function at another line: another site */
#define OTHER_LINE FRAME("0x4011ce", "\"main\"", "/b/p", "0x4011ce", "\"/b/p.c\"", "60")
/* stripped code: matched by module file name and module offset */
#define STRIPPED(modoff) FRAME("0x7f00000", "null", "/x/libfoo.so", modoff, "null", "null")

static char why[512];

static void parse_ok(const char *text, struct diff_report *r)
{
	int rc = diff_parse(text, strlen(text), NULL, r, why, sizeof(why));

	ck_assert_msg(rc == 0, "parse failed: %s", why);
}

static void compare(const char *old, const char *new, struct diff_options *o, struct diff_report *a,
		    struct diff_report *b, struct diff_result *res)
{
	struct diff_options def = {0};

	parse_ok(old, a);
	parse_ok(new, b);
	ck_assert_int_eq(diff_compare(a, b, o ? o : &def, res), 0);
}

static void done(struct diff_report *a, struct diff_report *b, struct diff_result *res)
{
	diff_result_free(res);
	diff_report_free(a);
	diff_report_free(b);
}

/* Text or JSON output in a malloc'd string. */
static char *output(enum report_format fmt, struct diff_report *a, struct diff_report *b,
		    struct diff_result *res)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(diff_write(f, fmt, a, b, "old.json", "new.json", res, "/b"), 0);
	fclose(f);
	return buf;
}

START_TEST(test_moved_addresses_match)
{
	struct diff_report a, b;
	struct diff_result res;

	compare(REPORT("true", SITE("122880", "3", LEAK_PIE)),
		REPORT("true", SITE("286720", "7", LEAK_NOPIE)), NULL, &a, &b, &res);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_int_eq(res.entries[0].change, DIFF_GREW);
	ck_assert_int_eq(res.entries[0].delta, 163840);
	ck_assert_uint_eq(res.entries[0].old_count, 3);
	ck_assert_uint_eq(res.entries[0].new_count, 7);
	ck_assert_uint_eq(res.counts[DIFF_GREW], 1);
	ck_assert_uint_eq(res.counts[DIFF_APPEARED], 0);
	done(&a, &b, &res);
}
END_TEST

START_TEST(test_renamed_executable_matches)
{
	struct diff_report a, b;
	struct diff_result res;

	compare(REPORT("true", SITE("4096", "1",
				    LEAK_PIE ", " FRAME("0x1151", "\"_start\"", "/a/p.old",
							"0x1151", "null", "null"))),
		REPORT("true", SITE("8192", "2",
				    LEAK_NOPIE ", " FRAME("0x401141", "\"_start\"", "/b/p.new",
							  "0x401141", "null", "null"))),
		NULL, &a, &b, &res);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_int_eq(res.entries[0].change, DIFF_GREW);
	done(&a, &b, &res);
}
END_TEST

START_TEST(test_other_line_is_another_site)
{
	struct diff_report a, b;
	struct diff_result res;

	compare(REPORT("true", SITE("4096", "1", LEAK_PIE)),
		REPORT("true", SITE("8192", "2", OTHER_LINE)), NULL, &a, &b, &res);
	ck_assert_uint_eq(res.n, 2);
	ck_assert_int_eq(res.entries[0].change, DIFF_APPEARED);
	ck_assert_int_eq(res.entries[0].delta, 8192);
	ck_assert_ptr_null(res.entries[0].old_site);
	ck_assert_int_eq(res.entries[1].change, DIFF_DISAPPEARED);
	ck_assert_int_eq(res.entries[1].delta, -4096);
	ck_assert_ptr_null(res.entries[1].new_site);
	done(&a, &b, &res);
}
END_TEST

START_TEST(test_stripped_frames_by_module_offset)
{
	struct diff_report a, b;
	struct diff_result res;

	compare(REPORT("true", SITE("4096", "1", STRIPPED("0x1f3a")) ", " SITE("4096", "1",
									       STRIPPED("0x2000"))),
		REPORT("true", SITE("12288", "3", STRIPPED("0x1f3a"))), NULL, &a, &b, &res);
	ck_assert_uint_eq(res.n, 2);
	ck_assert_int_eq(res.entries[0].change, DIFF_GREW);
	ck_assert_int_eq(res.entries[0].delta, 8192);
	ck_assert_str_eq(res.entries[0].new_site->frames[0].module, "/x/libfoo.so");
	ck_assert_int_eq(res.entries[1].change, DIFF_DISAPPEARED);
	done(&a, &b, &res);
}
END_TEST

START_TEST(test_order_largest_growth_first)
{
	struct diff_report a, b;
	struct diff_result res;

	compare(REPORT("true", SITE("100000", "5", LEAK_PIE) ", " SITE(
				       "4096", "1", STRIPPED("0x1")) ", " SITE("4096", "1",
									       STRIPPED("0x2"))),
		REPORT("true",
		       SITE("50000", "2", LEAK_NOPIE) ", " SITE(
			       "40960", "1",
			       STRIPPED(
				       "0x1")) ", " SITE("8192", "2",
							 STRIPPED(
								 "0x3")) ", " SITE("4096", "1",
										   STRIPPED(
											   "0x2"))),
		NULL, &a, &b, &res);
	ck_assert_uint_eq(res.n, 4);
	ck_assert_int_eq(res.entries[0].change, DIFF_GREW); /* +36864 */
	ck_assert_int_eq(res.entries[0].delta, 36864);
	ck_assert_int_eq(res.entries[1].change, DIFF_APPEARED); /* +8192 */
	ck_assert_int_eq(res.entries[2].change, DIFF_SHRANK);	/* -50000 */
	ck_assert_int_eq(res.entries[2].delta, -50000);
	ck_assert_int_eq(res.entries[3].change, DIFF_UNCHANGED);
	ck_assert_uint_eq(res.counts[DIFF_UNCHANGED], 1);
	ck_assert_uint_eq(res.old_bytes, 108192);
	ck_assert_uint_eq(res.new_bytes, 103248);
	done(&a, &b, &res);
}
END_TEST

START_TEST(test_min_size_and_suppressed)
{
	struct diff_report a, b;
	struct diff_result res;
	struct diff_options o = {.min_size = 10000};
	const char *sup =
		"{\"vmleak\": 1, \"sites\": [{\"bytes\": 9999999, \"count\": 1, "
		"\"syscall\": \"brk\", \"kind\": \"brk\", \"prot\": \"rw-\", \"flags\": [], "
		"\"suppressed\": true, \"category\": \"malloc-heap\", \"frames\": []}]}";

	compare(REPORT("true", SITE("4096", "1", STRIPPED("0x1"))),
		REPORT("true", SITE("8192", "2", STRIPPED("0x1"))), &o, &a, &b, &res);
	ck_assert_uint_eq(res.n, 0); /* +4096 is under --min-size */
	ck_assert_uint_eq(res.counts[DIFF_GREW], 1);
	done(&a, &b, &res);

	compare(REPORT("true", ""), sup, NULL, &a, &b, &res);
	ck_assert_uint_eq(res.n, 0); /* suppressed sites only with --all */
	done(&a, &b, &res);
	o = (struct diff_options){.all = true};
	compare(REPORT("true", ""), sup, &o, &a, &b, &res);
	ck_assert_uint_eq(res.n, 1);
	ck_assert_int_eq(res.entries[0].change, DIFF_APPEARED);
	ck_assert(res.entries[0].new_site->suppressed);
	done(&a, &b, &res);
}
END_TEST

START_TEST(test_interval_file_last_object)
{
	struct diff_report r;

	parse_ok(REPORT("false", SITE("4096", "1", LEAK_PIE))
			 REPORT("false", SITE("8192", "2", LEAK_PIE))
				 REPORT("true", SITE("12288", "3", LEAK_PIE)),
		 &r);
	ck_assert_uint_eq(r.objects, 3);
	ck_assert(r.final);
	ck_assert_uint_eq(r.nsites, 1);
	ck_assert_uint_eq(r.sites[0].bytes, 12288);
	ck_assert_uint_eq(r.bytes, 12288);
	ck_assert_str_eq(r.command, "./p 3");
	diff_report_free(&r);
}
END_TEST

static void parse_fails(const char *text, const char *expect)
{
	struct diff_report r;

	ck_assert_int_eq(diff_parse(text, strlen(text), NULL, &r, why, sizeof(why)), -1);
	ck_assert_msg(strstr(why, expect), "'%s' does not say '%s'", why, expect);
	ck_assert_ptr_null(strchr(why, '\n'));
	ck_assert_ptr_null(r.sites);
}

START_TEST(test_errors)
{
	parse_fails("", "empty file");
	parse_fails("  \n", "empty file");
	parse_fails("{\"vmleak\": 1, \"sites\": [", "not JSON");
	parse_fails("{\"vmleak\": 1, \"sites\": []} garbage", "not JSON");
	parse_fails("[1, 2]", "not a vmleak JSON report");
	parse_fails("{\"sites\": []}", "not a vmleak JSON report");
	parse_fails("{\"vmleak\": 2, \"sites\": []}", "schema version 2");
	parse_fails("{\"vmleak\": \"1\", \"sites\": []}", "schema version number");
	parse_fails("{\"vmleak\": 1}", "\"sites\" must be an array");
	parse_fails("{\"vmleak\": 1, \"sites\": [3]}", "sites[0]: not an object");
	parse_fails("{\"vmleak\": 1, \"sites\": [{\"bytes\": -1, \"count\": 1, \"frames\": []}]}",
		    "whole numbers");
	parse_fails("{\"vmleak\": 1, \"sites\": [{\"bytes\": 1, \"count\": 1}]}", "\"frames\"");
	parse_fails("{\"vmleak\": 1, \"sites\": [{\"bytes\": 1, \"count\": 1, \"flags\": [], "
		    "\"frames\": [7]}]}",
		    "sites[0].frames[0]");
	/* a good report followed by a broken one (a run killed mid-write) */
	parse_fails(REPORT("false", "") "{\"vmleak\": 1, \"si", "not JSON");
}
END_TEST

START_TEST(test_text_output)
{
	struct diff_report a, b;
	struct diff_result res;
	char *t;

	compare(REPORT("true", SITE("122880", "3", LEAK_PIE)),
		REPORT("true", SITE("286720", "7",
				    LEAK_NOPIE) ", " SITE("4096", "1",
							  FRAME("0x1", "\"evil\\u001b[31m\\\\\"",
								"/m", "0x1", "null", "null"))),
		NULL, &a, &b, &res);
	t = output(REPORT_TEXT, &a, &b, &res);
	ck_assert_msg(strstr(t,
			     "vmleak: +164.0 KiB (120.0 KiB -> 284.0 KiB): 1 site grew, 0 shrank, "
			     "1 appeared, 0 disappeared, 0 unchanged\n"),
		      "%s", t);
	ck_assert_msg(strstr(t, "#1  +160.0 KiB  grew  120.0 KiB in 3 regions -> 280.0 KiB in 7 "
				"regions  mmap anon rw- MAP_PRIVATE|MAP_ANONYMOUS\n"
				"    at mmap (mmap64.c:58)\n    by main (p.c:54)\n"),
		      "%s", t);
	ck_assert_msg(strstr(t, "#2  +4.0 KiB  appeared  none -> 4.0 KiB in 1 region"), "%s", t);
	ck_assert_msg(strstr(t, "evil\\x1b[31m\\x5c (m)"), "%s", t);
	ck_assert_ptr_null(strchr(t, '\x1b'));
	free(t);
	done(&a, &b, &res);
}
END_TEST

START_TEST(test_json_output)
{
	struct diff_report a, b;
	struct diff_result res;
	struct json_object *root, *changes, *c0, *v;
	char *t;

	compare(REPORT("true", SITE("122880", "3", LEAK_PIE)),
		REPORT("true", SITE("286720", "7", LEAK_NOPIE)), NULL, &a, &b, &res);
	t = output(REPORT_JSON, &a, &b, &res);
	root = json_tokener_parse(t);
	ck_assert_msg(root != NULL, "not JSON: %s", t);
	ck_assert(json_object_object_get_ex(root, "vmleak_diff", &v));
	ck_assert_int_eq(json_object_get_int(v), 1);
	ck_assert(json_object_object_get_ex(root, "delta_bytes", &v));
	ck_assert_int_eq(json_object_get_int64(v), 163840);
	ck_assert(json_object_object_get_ex(root, "changes", &changes));
	ck_assert_uint_eq(json_object_array_length(changes), 1);
	c0 = json_object_array_get_idx(changes, 0);
	ck_assert(json_object_object_get_ex(c0, "change", &v));
	ck_assert_str_eq(json_object_get_string(v), "grew");
	ck_assert(json_object_object_get_ex(c0, "new_count", &v));
	ck_assert_int_eq(json_object_get_int(v), 7);
	ck_assert(json_object_object_get_ex(c0, "frames", &v));
	ck_assert_uint_eq(json_object_array_length(v), 2);
	ck_assert(json_object_object_get_ex(json_object_array_get_idx(v, 1), "line", &v));
	ck_assert_int_eq(json_object_get_int(v), 54);
	json_object_put(root);
	free(t);
	done(&a, &b, &res);
}
END_TEST

static Suite *diff_suite(void)
{
	Suite *s = suite_create("diff");
	TCase *tc = tcase_create("diff");

	tcase_add_test(tc, test_moved_addresses_match);
	tcase_add_test(tc, test_renamed_executable_matches);
	tcase_add_test(tc, test_other_line_is_another_site);
	tcase_add_test(tc, test_stripped_frames_by_module_offset);
	tcase_add_test(tc, test_order_largest_growth_first);
	tcase_add_test(tc, test_min_size_and_suppressed);
	tcase_add_test(tc, test_interval_file_last_object);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_text_output);
	tcase_add_test(tc, test_json_output);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(diff_suite());
}
