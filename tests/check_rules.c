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
#define JVM    "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so"
#define NIO    "/usr/lib/jvm/java-17-openjdk-amd64/lib/libnio.so"
#define NODE   "/usr/bin/node"
#define GOPROG "/root/goapp"

#define FR(fn, mod)                                             \
	{                                                       \
		.pc = 0x1000, .function = (fn), .module = (mod) \
	}

/* A frame of a statically linked executable (its own copy of the C library). */
#define SFR(fn, mod)                                                                \
	{                                                                           \
		.pc = 0x1000, .function = (fn), .module = (mod), .static_exe = true \
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

/* gcc -static: the C library's functions are recognised by name in the program
 * itself and blamed as libc.so.6's would be; the same names in a dynamically
 * linked program are the program's own. */
START_TEST(test_static_program)
{
	struct rules *r = defaults();
	struct frame_info chunk[] = {SFR("mmap", PROG),
				     SFR("sysmalloc_mmap.constprop.0", PROG),
				     SFR("sysmalloc", PROG),
				     SFR("_int_malloc", PROG),
				     SFR("malloc", PROG),
				     SFR("leak_big", PROG),
				     SFR("main", PROG),
				     SFR("__libc_start_call_main", PROG),
				     SFR("__libc_start_main_impl", PROG),
				     SFR("_start", PROG)};
	struct frame_info direct[] = {SFR("mmap", PROG), SFR("leak_one", PROG), SFR("main", PROG),
				      SFR("__libc_start_call_main", PROG)};
	struct frame_info grow[] = {SFR("brk", PROG),
				    SFR("sbrk", PROG),
				    SFR("sysmalloc", PROG),
				    SFR("_int_malloc", PROG),
				    SFR("malloc", PROG),
				    SFR("main", PROG),
				    SFR("__libc_start_call_main", PROG)};
	struct frame_info tls[] = {SFR("_dl_early_allocate", PROG), SFR("__libc_setup_tls", PROG),
				   SFR("__libc_start_main_impl", PROG), SFR("_start", PROG)};
	struct frame_info locale[] = {SFR("mmap", PROG), SFR("_nl_load_locale_from_archive", PROG),
				      SFR("_nl_find_locale", PROG), SFR("setlocale", PROG),
				      SFR("main", PROG)};
	struct frame_info dynamic[] = {FR("mmap", LIBC), FR("sysmalloc", PROG), FR("main", PROG)};
	size_t cs = 99;

	ck_assert_int_eq(CLASSIFY(r, chunk, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 5);
	ck_assert_int_eq(CLASSIFY(r, direct, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 1);
	ck_assert_int_eq(CLASSIFY(r, grow, &brk_rw, &cs), CAT_MALLOC_HEAP);
	ck_assert_uint_eq(cs, 5);
	ck_assert_int_eq(CLASSIFY(r, tls, &brk_rw, &cs), CAT_LOADER);
	ck_assert_int_eq(CLASSIFY(r, locale, &anon_rw, &cs), CAT_RUNTIME);
	ck_assert_uint_eq(cs, 4);
	/* a dynamic program's own function named like a libc internal */
	ck_assert_int_eq(CLASSIFY(r, dynamic, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 1);
	rules_free(r);
}
END_TEST

/* The JVM: its reservations are the runtime's; a direct ByteBuffer (Unsafe) and
 * FileChannel.map are the Java program's, called from interpreted or compiled
 * code (anonymous memory: no module, no name). */
START_TEST(test_jvm)
{
	struct rules *r = defaults();
	struct frame_info heap[] = {FR("mmap", LIBC),
				    FR("os::pd_reserve_memory(unsigned long, bool)", JVM),
				    FR("Universe::reserve_heap(unsigned long, unsigned long)", JVM),
				    FR("JNI_CreateJavaVM", JVM),
				    FR("JavaMain", "/usr/lib/jvm/x/lib/libjli.so"),
				    FR("start_thread", LIBC)};
	struct frame_info meta[] = {FR("mmap", LIBC),
				    FR("os::pd_commit_memory(char*, unsigned long, bool)", JVM),
				    FR("Metaspace::allocate(ClassLoaderData*)", JVM),
				    FR("InterpreterRuntime::_new(JavaThread*)", JVM),
				    FR(NULL, NULL),
				    FR(NULL, NULL)};
	struct frame_info direct[] = {FR("mmap", LIBC),
				      FR("sysmalloc", LIBC),
				      FR("malloc", LIBC),
				      FR("os::malloc(unsigned long, MEMFLAGS)", JVM),
				      FR("Unsafe_AllocateMemory0", JVM),
				      FR(NULL, NULL),
				      FR(NULL, NULL)};
	struct frame_info map[] = {FR("mmap64", LIBC),
				   FR("Java_sun_nio_ch_FileChannelImpl_map0", NIO), FR(NULL, NULL)};
	size_t cs = 99;

	ck_assert_int_eq(CLASSIFY(r, heap, &anon_none, &cs), CAT_LOADER);
	ck_assert_int_eq(CLASSIFY(r, meta, &anon_rw, &cs), CAT_RUNTIME);
	ck_assert_uint_eq(cs, 4);
	ck_assert_int_eq(CLASSIFY(r, direct, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 5);
	/* malloc's arena reservation under a direct buffer is still malloc's pool */
	ck_assert_int_eq(CLASSIFY(r, direct, &anon_none, &cs), CAT_MALLOC_HEAP);
	ck_assert_int_eq(CLASSIFY(r, map, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 2);
	rules_free(r);
}
END_TEST

/* node: V8's heap is the runtime's; an ArrayBuffer's backing store is the
 * program's even when interpreted JavaScript leaves no frame outside node. */
START_TEST(test_node)
{
	struct rules *r = defaults();
	struct frame_info heap[] = {FR("mmap", LIBC),
				    FR("v8::base::OS::Allocate(void*)", NODE),
				    FR("v8::internal::SemiSpace::GrowTo(unsigned long)", NODE),
				    FR("Builtins_InterpreterEntryTrampoline", NODE),
				    FR("node::Start(int, char**)", NODE),
				    FR("__libc_start_main", LIBC),
				    FR("_start", NODE)};
	struct frame_info ab[] = {
		FR("mmap", LIBC),
		FR("calloc", LIBC),
		FR("node::NodeArrayBufferAllocator::Allocate(unsigned long)", NODE),
		FR("v8::internal::BackingStore::Allocate(v8::internal::Isolate*)", NODE),
		FR("Builtins_InterpreterEntryTrampoline", NODE),
		FR("node::Start(int, char**)", NODE),
		FR("_start", NODE)};
	struct frame_info jit[] = {
		FR("mmap", LIBC),
		FR("calloc", LIBC),
		FR("node::NodeArrayBufferAllocator::Allocate(unsigned long)", NODE),
		FR("Builtins_ArrayBufferConstructor", NODE),
		FR(NULL, NULL),
		FR("node::Start(int, char**)", NODE)};
	size_t cs = 99;

	ck_assert_int_eq(CLASSIFY(r, heap, &anon_none, &cs), CAT_LOADER);
	ck_assert_int_eq(CLASSIFY(r, ab, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 3); /* the outermost program API: no frame outside node */
	ck_assert_int_eq(CLASSIFY(r, ab, &brk_rw, &cs), CAT_MALLOC_HEAP);
	ck_assert_int_eq(CLASSIFY(r, jit, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 4); /* JIT-compiled code is outside the runtime */
	rules_free(r);
}
END_TEST

/* Go: the runtime's heap and its internals are not the program's; syscall.Mmap is. */
START_TEST(test_go)
{
	struct rules *r = defaults();
	struct frame_info heap[] = {
		SFR("runtime.sysMmap.abi0", GOPROG),  SFR("runtime.mmap", GOPROG),
		SFR("runtime.(*mheap).grow", GOPROG), SFR("runtime.mallocgc", GOPROG),
		SFR("runtime.makeslice", GOPROG),     SFR("main.main", GOPROG),
		SFR("runtime.main", GOPROG),	      SFR("runtime.goexit.abi0", GOPROG)};
	struct frame_info init[] = {
		SFR("runtime.sysMmap.abi0", GOPROG), SFR("runtime.sysReserve", GOPROG),
		SFR("runtime.mallocinit", GOPROG), SFR("runtime.rt0_go.abi0", GOPROG)};
	struct frame_info leak[] = {SFR("runtime/internal/syscall.Syscall6", GOPROG),
				    SFR("syscall.Syscall6", GOPROG),
				    SFR("syscall.mmap", GOPROG),
				    SFR("syscall.(*mmapper).Mmap", GOPROG),
				    SFR("main.leakMapping", GOPROG),
				    SFR("main.main", GOPROG),
				    SFR("runtime.main", GOPROG)};
	size_t cs = 99;

	ck_assert_int_eq(CLASSIFY(r, heap, &anon_rw, &cs), CAT_MALLOC_HEAP);
	ck_assert_int_eq(CLASSIFY(r, init, &anon_none, &cs), CAT_LOADER);
	ck_assert_int_eq(CLASSIFY(r, leak, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 4);
	rules_free(r);
}
END_TEST

/* Plain names (a sorted table) and patterns mix in one list. */
START_TEST(test_plain_names_and_patterns)
{
	struct rules *r = rules_new();
	const char text[] = "runtime-module libc.so*\nmapping mmap\n"
			    "static-runtime-function zeta\nstatic-runtime-function alpha\n"
			    "static-runtime-function mid_*\nstatic-runtime-function mmap\n"
			    "program-api my_buffer_new\n";
	struct frame_info a[] = {SFR("mmap", PROG), SFR("alpha", PROG), SFR("zeta", PROG),
				 SFR("mid_x", PROG), SFR("user", PROG)};
	struct frame_info b[] = {FR("mmap", LIBC), FR("my_buffer_new", PROG), FR("alpha", PROG)};
	char err[256];
	size_t cs = 99;

	ck_assert_int_eq(rules_add_text(r, "t.rules", text, strlen(text), false, err, sizeof(err)),
			 0);
	ck_assert_int_eq(CLASSIFY(r, a, &anon_rw, &cs), CAT_RUNTIME);
	ck_assert_uint_eq(cs, 4);
	a[2].function = "zeta2";
	ck_assert_int_eq(CLASSIFY(r, a, &anon_rw, &cs), CAT_RUNTIME);
	ck_assert_uint_eq(cs, 2);
	ck_assert_int_eq(CLASSIFY(r, b, &anon_rw, &cs), CAT_PROGRAM);
	ck_assert_uint_eq(cs, 2);
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
	tcase_add_test(tc, test_static_program);
	tcase_add_test(tc, test_jvm);
	tcase_add_test(tc, test_node);
	tcase_add_test(tc, test_go);
	tcase_add_test(tc, test_plain_names_and_patterns);
	tcase_add_test(tc, test_suppressions);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_binary_garbage);
	tcase_add_test(tc, test_missing_file_and_include);
	tcase_add_test(tc, test_default_path_override);
	suite_add_tcase(s, tc);
	return check_run(s);
}
