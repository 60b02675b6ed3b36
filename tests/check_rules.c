/* tests/check_rules.c - blame rules (report/rules.h): every site category from
 * hand-made frames with the shipped default rules, user rules (a program's own
 * pool allocator), rules and suppressions parsing, and errors that name the
 * file and line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "report/rules.h"
#include "tests/check_run.h"

#define LIBC   "/usr/lib/x86_64-linux-gnu/libc.so.6"
#define LD     "/usr/lib64/ld-linux-x86-64.so.2"
#define STDCXX "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"
#define PROG   "/root/app"
#define PY     "/usr/bin/python3.11"

#define FR(fn, mod)                                             \
	{                                                       \
		.pc = 0x1000, .function = (fn), .module = (mod) \
	}

static struct rules *defaults(void)
{
	char err[256] = "";
	/* the source tree copy, whatever VMLEAK_RULES says */
	struct rules *r =
		rules_load(VMLEAK_SOURCE_DIR "/report/rules/default.rules", err, sizeof(err));

	ck_assert_msg(r != NULL, "%s", err);
	return r;
}

static const struct region anon_rw = {.prot = PROT_READ | PROT_WRITE, .kind = REGION_ANON};
static const struct region anon_none = {.prot = PROT_NONE, .kind = REGION_ANON};
static const struct region brk_rw = {.prot = PROT_READ | PROT_WRITE, .kind = REGION_BRK};

#define CLASSIFY(r, frames, ex, cs) \
	rules_classify(r, frames, sizeof(frames) / sizeof(frames[0]), ex, cs)

START_TEST(test_program_mmap)
{
	struct rules *r = defaults();
	struct frame_info f[] = {FR("mmap", LIBC), FR("leak", PROG), FR("main", PROG),
				 FR("__libc_start_main", LIBC), FR("_start", PROG)};
	size_t cs = 99;

	ck_assert_int_eq(CLASSIFY(r, f, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 1);
	rules_free(r);
}
END_TEST

START_TEST(test_malloc_chunk_and_heap)
{
	struct rules *r = defaults();
	struct frame_info chunk[] = {FR("mmap", LIBC),	      FR("sysmalloc", LIBC),
				     FR("_int_malloc", LIBC), FR("malloc", LIBC),
				     FR("leak", PROG),	      FR("main", PROG)};
	struct frame_info grow[] = {FR("brk", LIBC),	FR("sbrk", LIBC), FR("sysmalloc", LIBC),
				    FR("malloc", LIBC), FR("leak", PROG), FR("main", PROG)};
	struct frame_info cxx[] = {FR("mmap", LIBC), FR("malloc", LIBC),
				   FR("operator new(unsigned long)", STDCXX), FR("main", PROG)};
	size_t cs = 99;

	ck_assert_int_eq(CLASSIFY(r, chunk, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 4);
	ck_assert_int_eq(CLASSIFY(r, chunk, &anon_none, &cs), CAT_MALLOC_HEAP); /* arena */
	ck_assert_int_eq(CLASSIFY(r, grow, &brk_rw, &cs), CAT_MALLOC_HEAP);
	ck_assert_uint_eq(cs, 4);
	ck_assert_int_eq(CLASSIFY(r, cxx, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 3);
	rules_free(r);
}
END_TEST

START_TEST(test_pool_thread_runtime_loader_unknown)
{
	struct rules *r = defaults();
	/* CPython: internal frames have no names in a stripped binary */
	struct frame_info py[] = {FR("mmap", LIBC),	     FR(NULL, PY),	   FR(NULL, PY),
				  FR("PyObject_Malloc", PY), FR("PyList_New", PY), FR("main", PY)};
	struct frame_info thr[] = {FR("mmap", LIBC), FR("allocate_stack", LIBC),
				   FR("pthread_create", LIBC), FR("main", PROG)};
	struct frame_info rt[] = {FR("mmap", LIBC), FR("malloc", LIBC), FR("fopen", LIBC),
				  FR("main", PROG)};
	struct frame_info ld[] = {FR("mmap", LD), FR("_dl_map_object", LD), FR("_dl_start", LD),
				  FR("_start", PROG)};
	size_t cs = 99;

	ck_assert_int_eq(CLASSIFY(r, py, &anon_rw, &cs), CAT_MALLOC_HEAP);
	ck_assert_uint_eq(cs, 4);
	ck_assert_int_eq(CLASSIFY(r, thr, &anon_none, &cs), CAT_THREAD_STACK);
	ck_assert_uint_eq(cs, 3);
	ck_assert_int_eq(CLASSIFY(r, rt, &anon_rw, &cs), CAT_RUNTIME);
	ck_assert_uint_eq(cs, 3);
	/* a runtime API's malloc growing the heap is still the heap */
	ck_assert_int_eq(CLASSIFY(r, rt, &brk_rw, &cs), CAT_MALLOC_HEAP);
	ck_assert_int_eq(CLASSIFY(r, ld, &anon_rw, &cs), CAT_LOADER);
	ck_assert_int_eq(rules_classify(r, NULL, 0, &anon_rw, &cs), CAT_UNKNOWN);
	ck_assert_uint_eq(cs, 0);
	rules_free(r);
}
END_TEST

/* Debian's python3.11 (LTO, stripped): PyObject_Malloc tail-calls into static
 * arena code, so no allocator name is on the stack at all. */
START_TEST(test_pool_module_unnamed_code)
{
	struct rules *r = defaults();
	struct frame_info arena[] = {FR("mmap", LIBC), FR(NULL, PY), FR(NULL, PY),
				     FR("PyTraceBack_Here", PY), FR("main", PY)};
	struct frame_info named[] = {FR("mmap", LIBC), FR("new_mmap_object", PY), FR("main", PY)};
	struct frame_info other[] = {FR("mmap", LIBC), FR(NULL, PROG), FR("main", PROG)};
	size_t cs = 99;

	ck_assert_int_eq(CLASSIFY(r, arena, &anon_rw, &cs), CAT_MALLOC_HEAP);
	ck_assert_uint_eq(cs, 1);
	/* named code of the interpreter, and unnamed code elsewhere, stay the program's */
	ck_assert_int_eq(CLASSIFY(r, named, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_int_eq(CLASSIFY(r, other, &anon_rw, &cs), CAT_PROGRAM);
	rules_free(r);
}
END_TEST

/* A leak in the program's own shared library is the program's. */
START_TEST(test_own_library)
{
	struct rules *r = defaults();
	struct frame_info f[] = {FR("mmap", LIBC), FR("lib_leak", "/root/libmine.so"),
				 FR("main", PROG)};
	size_t cs;

	ck_assert_int_eq(CLASSIFY(r, f, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 1);
	ck_assert(rules_is_runtime_module(r, LIBC));
	ck_assert(rules_is_runtime_module(r, LD));
	ck_assert(!rules_is_runtime_module(r, "/root/libmine.so"));
	ck_assert(!rules_is_runtime_module(r, NULL));
	rules_free(r);
}
END_TEST

START_TEST(test_user_pool_allocator)
{
	struct rules *r = defaults();
	const char text[] = "# my allocator\nallocator pool my_pool_*\n";
	struct frame_info f[] = {FR("mmap", LIBC), FR("my_pool_grow", PROG),
				 FR("my_pool_alloc", PROG), FR("work", PROG)};
	char err[256];
	size_t cs;

	ck_assert_int_eq(CLASSIFY(r, f, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_int_eq(
		rules_add_text(r, "user.rules", text, strlen(text), false, err, sizeof(err)), 0);
	ck_assert_int_eq(CLASSIFY(r, f, &anon_rw, &cs), CAT_MALLOC_HEAP);
	ck_assert_uint_eq(cs, 3);
	rules_free(r);
}
END_TEST

static char *write_temp(const char *content, size_t len)
{
	char *path = strdup("/tmp/check_rules.XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(test_suppressions)
{
	struct rules *r = defaults();
	const char text[] = "# hide the cache\n\n  mmap ; cache_*  \nlibfoo.so*;*\n";
	char *path = write_temp(text, strlen(text));
	struct frame_info hit[] = {FR("mmap", LIBC), FR("cache_init", PROG), FR("main", PROG)};
	struct frame_info apart[] = {FR("mmap", LIBC), FR("other", PROG), FR("cache_init", PROG)};
	struct frame_info lib[] = {FR("mmap", LIBC), FR("x", "/opt/libfoo.so.1"), FR("main", PROG)};
	char err[256];
	size_t cs;

	ck_assert_int_eq(rules_add_file(r, path, true, err, sizeof(err)), 0);
	ck_assert_int_eq(CLASSIFY(r, hit, &anon_rw, &cs), CAT_USER_SUPPRESSED);
	ck_assert_uint_eq(cs, 1);
	ck_assert_int_eq(CLASSIFY(r, apart, &anon_rw, &cs), CAT_PROGRAM); /* not consecutive */
	ck_assert_int_eq(CLASSIFY(r, lib, &anon_rw, &cs), CAT_USER_SUPPRESSED);
	unlink(path);
	free(path);
	rules_free(r);
}
END_TEST

/* The error names the file and the line of the first bad rule. */
static void expect_error(const char *text, size_t len, bool supp, unsigned line, const char *what)
{
	struct rules *r = rules_new();
	char *path = write_temp(text, len);
	char err[512], want[600];

	ck_assert_int_eq(rules_add_file(r, path, supp, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:%u: ", path, line);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "'%s' does not start with '%s'", err,
		      want);
	ck_assert_msg(strstr(err, what), "'%s' lacks '%s'", err, what);
	unlink(path);
	free(path);
	rules_free(r);
}

START_TEST(test_malformed)
{
	expect_error("mmap;main\nmmap;;main\n", 21, true, 2, "empty pattern");
	expect_error("# ok\nmmap;\n", 11, true, 2, "empty pattern");
	expect_error("foo[bar\n", 8, true, 1, "unclosed");
	expect_error("runtime-module libc.so*\nruntime libc\n", 37, false, 2, "unknown rule");
	expect_error("allocator slab kmalloc\n", 23, false, 1, "per-allocation");
	expect_error("mapping \n", 9, false, 1, "unknown rule");
	expect_error("mmap\nmai\001n\n", 11, true, 2, "binary data");
}
END_TEST

START_TEST(test_binary_garbage)
{
	unsigned char junk[512];

	srandom(42);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)random();
	junk[3] = 0; /* a NUL on the first line */
	junk[0] = 'a';
	junk[1] = 'b';
	junk[2] = 'c';
	expect_error((const char *)junk, sizeof(junk), true, 1, "binary");
	expect_error((const char *)junk, sizeof(junk), false, 1, "binary");
}
END_TEST

START_TEST(test_missing_file_and_include)
{
	struct rules *r = rules_new();
	char err[512], inc[600];
	char *base = write_temp("allocator pool arena_get\n", 25);
	struct frame_info f[] = {FR("mmap", LIBC), FR("arena_get", PROG), FR("main", PROG)};
	char *top;
	size_t cs;

	ck_assert_int_eq(rules_add_file(r, "/nonexistent/x.rules", false, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/x.rules"));
	snprintf(inc, sizeof(inc), "include %s\nruntime-module libc.so*\n", base);
	top = write_temp(inc, strlen(inc));
	ck_assert_int_eq(rules_add_file(r, top, false, err, sizeof(err)), 0);
	ck_assert_int_eq(CLASSIFY(r, f, &anon_rw, &cs), CAT_MALLOC_HEAP);
	unlink(top);
	unlink(base);
	free(top);
	free(base);
	rules_free(r);
}
END_TEST

START_TEST(test_default_path_override)
{
	ck_assert_str_eq(rules_default_path("/tmp/some.rules"), "/tmp/some.rules");
	ck_assert_str_eq(rules_default_path(""), VMLEAK_SOURCE_DIR "/report/rules/default.rules");
	ck_assert_str_eq(rules_default_path(NULL), VMLEAK_SOURCE_DIR "/report/rules/default.rules");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_program_mmap);
	tcase_add_test(tc, test_malloc_chunk_and_heap);
	tcase_add_test(tc, test_pool_thread_runtime_loader_unknown);
	tcase_add_test(tc, test_own_library);
	tcase_add_test(tc, test_pool_module_unnamed_code);
	tcase_add_test(tc, test_user_pool_allocator);
	tcase_add_test(tc, test_suppressions);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_binary_garbage);
	tcase_add_test(tc, test_missing_file_and_include);
	tcase_add_test(tc, test_default_path_override);
	suite_add_tcase(s, tc);
	return check_run(s);
}
