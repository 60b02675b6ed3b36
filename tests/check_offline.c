/* tests/check_offline.c - Check tests for report/offline.c (vmleak --symbolize):
 * frames are resolved by module, build_id and module_offset (a recorded build-id
 * that is not the file's keeps the file out), older frames by their module
 * offset, resolved frames are left alone, and every input that is not a vmleak
 * JSON report is one line of error. */
#include <check.h>
#include <dlfcn.h>
#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/offline.h"
#include "tests/check_run.h"

struct run {
	long rc;
	char err[512];
	char *out;
	size_t outlen;
};

static void symbolize(struct run *r, const char *input)
{
	struct offline_options o = {0};
	FILE *in = fmemopen((void *)input, strlen(input), "r");
	FILE *out = open_memstream(&r->out, &r->outlen);

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	r->err[0] = '\0';
	r->rc = offline_symbolize(in, "in.json", out, &o, r->err, sizeof(r->err));
	fclose(in);
	fclose(out);
}

static void expect_error(const char *input, const char *needle)
{
	struct run r;

	symbolize(&r, input);
	ck_assert_int_eq(r.rc, -1);
	ck_assert_msg(strncmp(r.err, "vmleak: in.json: ", 17) == 0, "error '%s'", r.err);
	ck_assert_msg(strchr(r.err, '\n') == NULL, "error '%s' has a newline", r.err);
	ck_assert_msg(strstr(r.err, needle), "error '%s' does not mention '%s'", r.err, needle);
	free(r.out);
}

START_TEST(malformed_inputs)
{
	expect_error("", "empty");
	expect_error("  \n", "empty");
	expect_error("[]", "not a vmleak JSON report");
	expect_error("{\"vmleak\": 2, \"sites\": []}", "not a vmleak JSON report (schema 1)");
	expect_error("{\"vmleak\": \"1\", \"sites\": []}", "not a vmleak JSON report");
	expect_error("{\"vmleak\": 1}", "\"sites\" is not an array");
	expect_error("{\"vmleak\": 1, \"sites\": {}}", "\"sites\" is not an array");
	expect_error("{\"vmleak\": 1, \"sites\": [", "ends inside a JSON value");
	expect_error("{\"vmleak\": 1, \"sites\": []} x", "not JSON at byte");
	expect_error("{\"vmleak\": 1, \"sites\": []}\n{\"vmleak\": 1, \"sites\": [1]}",
		     "report 2, site 1: not an object with a \"frames\" array");
	expect_error("{\"vmleak\": 1, \"sites\": [{\"frames\": [7]}]}",
		     "report 1, site 1, frame 1: not an object");
	expect_error("{\"vmleak\": 1, \"sites\": [{\"frames\": [{\"module\": 3}]}]}",
		     "must be strings or null");
	expect_error("{\"vmleak\": 1, \"sites\": [{\"frames\": [{\"module\": \"/m\", "
		     "\"module_offset\": \"12\"}]}]}",
		     "\"module_offset\" is not a 0x... hex address");
	expect_error("{\"vmleak\": 1, \"sites\": [{\"frames\": [{\"module\": \"/m\", "
		     "\"module_offset\": \"0x1ffffffffffffffff\"}]}]}",
		     "\"module_offset\" is not a 0x... hex address");
	expect_error("{\"vmleak\": 1, \"sites\": [{\"frames\": [{\"build_id\": \"abc\"}]}]}",
		     "\"build_id\" is not an even number of hex digits");
	expect_error("{\"vmleak\": 1, \"sites\": [{\"frames\": [{\"build_id\": \"zz\"}]}]}",
		     "\"build_id\"");
	expect_error("{\"vmleak\": 1, \"sites\": [{\"frames\": [{\"function\": null, "
		     "\"offset\": \"main\"}]}]}",
		     "\"offset\" is not a 0x... hex address");
	/* not UTF-8, too deep */
	expect_error("{\"vmleak\": 1, \"sites\": [], \"x\": \"\xff\"}", "not JSON");
	expect_error(
		"{\"vmleak\": 1, \"sites\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]"
		"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
		"not JSON");
}
END_TEST

/* operator new in libstdc++: a module, its offset and its build-id */
struct target {
	char module[1024];
	unsigned long offset;
	char build_id[129];
};

static void find_target(struct target *t)
{
	void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
	const unsigned char *bits = NULL;
	Dl_info dli;
	void *sym;
	ssize_t n;
	Elf *elf;
	int fd;

	ck_assert_ptr_nonnull(h);
	sym = dlsym(h, "_Znwm");
	ck_assert_ptr_nonnull(sym);
	ck_assert_int_ne(dladdr(sym, &dli), 0);
	snprintf(t->module, sizeof(t->module), "%s", dli.dli_fname);
	t->offset = (unsigned long)((char *)sym - (char *)dli.dli_fbase);
	elf_version(EV_CURRENT);
	fd = open(t->module, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	n = dwelf_elf_gnu_build_id(elf, (const void **)&bits);
	ck_assert_int_gt(n, 0);
	for (ssize_t i = 0; i < n; i++)
		sprintf(t->build_id + 2 * i, "%02x", bits[i]);
	elf_end(elf);
	close(fd);
	dlclose(h);
}

static char *report_with_frames(const char *frames)
{
	char *s;

	ck_assert_int_gt(asprintf(&s,
				  "{\"vmleak\": 1, \"version\": \"0.1.0\", \"duration_s\": 0.045, "
				  "\"sites\": [{\"bytes\": 4096, \"frames\": [%s]}]}\n",
				  frames),
			 0);
	return s;
}

START_TEST(frames_by_build_id_and_offset)
{
	struct target t;
	char frames[32768], *in;
	struct run r;

	find_target(&t);
	/* frame 0 (not a return address): the right build-id, no build-id (older
	 * report: module offset in "offset"), another build's id, one resolved */
	snprintf(
		frames, sizeof(frames),
		"{\"pc\": \"0x1\", \"function\": null, \"offset\": null, \"module\": \"%s\", "
		"\"build_id\": \"%s\", \"module_offset\": \"0x%lx\", \"file\": null, \"line\": null}, "
		"{\"pc\": \"0x2\", \"function\": null, \"offset\": \"0x%lx\", \"module\": \"%s\", "
		"\"file\": null, \"line\": null}, "
		"{\"pc\": \"0x3\", \"function\": null, \"offset\": null, \"module\": \"%s\", "
		"\"build_id\": \"0123456789abcdef0123456789abcdef01234567\", "
		"\"module_offset\": \"0x%lx\", \"file\": null, \"line\": null}, "
		"{\"pc\": \"0x4\", \"function\": \"mine\", \"offset\": \"0x5\", \"module\": \"%s\", "
		"\"module_offset\": \"0x%lx\", \"file\": \"a.c\", \"line\": 7}",
		t.module, t.build_id, t.offset, t.offset + 1, t.module, t.module, t.offset + 1,
		t.module, t.offset + 1);
	in = report_with_frames(frames);
	symbolize(&r, in);
	ck_assert_msg(r.rc == 2, "rc %ld: %s", r.rc, r.err);
	ck_assert_msg(r.outlen > 0 && strchr(r.out, '\n') == r.out + r.outlen - 1,
		      "one line per report: %s", r.out);
	/* the first two resolved, the other build's not, the resolved one kept */
	const char *first = strstr(r.out, "\"function\":\"operator new(unsigned long)\"");
	ck_assert_msg(first != NULL, "%s", r.out);
	ck_assert_msg(strstr(first + 1, "\"function\":\"operator new(unsigned long)\"") != NULL,
		      "%s", r.out);
	ck_assert_msg(strstr(r.out, "\"pc\":\"0x1\",\"function\":\"operator new(unsigned long)\","
				    "\"offset\":\"0x0\"") != NULL,
		      "%s", r.out);
	ck_assert_msg(strstr(r.out, "\"pc\":\"0x3\",\"function\":null") != NULL, "%s", r.out);
	ck_assert_msg(strstr(r.out, "\"pc\":\"0x4\",\"function\":\"mine\",\"offset\":\"0x5\"") !=
			      NULL,
		      "%s", r.out);
	/* the rest of the report is as it was: numbers keep their spelling */
	ck_assert_msg(strstr(r.out, "\"duration_s\":0.045") != NULL, "%s", r.out);
	free(r.out);
	free(in);
}
END_TEST

START_TEST(several_reports_in_one_input)
{
	struct run r;

	symbolize(&r, "{\"vmleak\": 1, \"final\": false, \"sites\": []}\n"
		      "{\"vmleak\": 1, \"final\": true, \"sites\": [{\"frames\": []}]}\n");
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_str_eq(r.out, "{\"vmleak\":1,\"final\":false,\"sites\":[]}\n"
				"{\"vmleak\":1,\"final\":true,\"sites\":[{\"frames\":[]}]}\n");
	free(r.out);
}
END_TEST

/* A module path that names a FIFO (a hostile report) is not opened: no hang. */
START_TEST(fifo_module_is_not_opened)
{
	char dir[] = "/tmp/check_offline.XXXXXX", fifo[64], *in;
	struct run r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_gt(
		asprintf(&in,
			 "{\"vmleak\": 1, \"sites\": [{\"frames\": [{\"function\": null, "
			 "\"module\": \"%s\", \"module_offset\": \"0x10\"}, "
			 "{\"function\": null, \"module\": \"%s\", \"build_id\": \"00ff\", "
			 "\"module_offset\": \"0x10\"}]}]}",
			 fifo, fifo),
		0);
	symbolize(&r, in);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	free(r.out);
	free(in);
	unlink(fifo);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("offline");
	TCase *tc = tcase_create("offline");

	tcase_add_test(tc, malformed_inputs);
	tcase_add_test(tc, frames_by_build_id_and_offset);
	tcase_add_test(tc, several_reports_in_one_input);
	tcase_add_test(tc, fifo_module_is_not_opened);
	suite_add_tcase(s, tc);
	return check_run(s);
}
