/* tests/check_format.c - unit tests for decoder/format.c (strace notation and flag strings)
 * and the golden test: every call in tests/golden/memcalls.raw, decoded and formatted,
 * must equal the line strace 6.1 printed for it in tests/golden/memcalls.strace. */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/audit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <linux/mman.h>

#include "decoder/format.h"
#include "decoder/syscall.h"
#include "tests/check_run.h"

#define GOLDEN_DIR VMLEAK_SOURCE_DIR "/tests/golden/"

static char buf[512];

static const char *prot_str(uint64_t prot)
{
	format_prot(buf, sizeof(buf), prot);
	return buf;
}

static const char *map_str(uint64_t flags)
{
	format_map_flags(buf, sizeof(buf), flags);
	return buf;
}

static const char *mremap_str(uint64_t flags)
{
	format_mremap_flags(buf, sizeof(buf), flags);
	return buf;
}

/* Decode (x86_64 unless arch says otherwise) and format one call. */
static const char *call_str(uint32_t arch, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2,
			    uint64_t a3, uint64_t a4, uint64_t a5, int64_t rval, bool is_error)
{
	const uint64_t args[6] = {a0, a1, a2, a3, a4, a5};
	struct mem_call c;
	struct mem_result r;

	ck_assert_int_eq(decode_entry(arch, nr, args, NULL, NULL, &c), 0);
	ck_assert_int_eq(decode_exit(&c, rval, is_error, NULL, NULL, &r), 0);
	format_call(buf, sizeof(buf), &c, &r);
	return buf;
}

START_TEST(test_prot)
{
	ck_assert_str_eq(prot_str(0), "PROT_NONE");
	ck_assert_str_eq(prot_str(PROT_READ | PROT_WRITE), "PROT_READ|PROT_WRITE");
	ck_assert_str_eq(prot_str(PROT_EXEC | PROT_READ), "PROT_READ|PROT_EXEC");
	ck_assert_str_eq(prot_str(PROT_READ | 0x10), "PROT_READ|0x10");
	ck_assert_str_eq(prot_str(0x40), "0x40 /* PROT_??? */");
	ck_assert_str_eq(prot_str(PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP | 0x100000000ULL),
			 "PROT_SEM|PROT_GROWSDOWN|PROT_GROWSUP|0x100000000");
	ck_assert_str_eq(prot_str(UINT64_MAX), "PROT_READ|PROT_WRITE|PROT_EXEC|PROT_SEM|"
					       "PROT_GROWSDOWN|PROT_GROWSUP|0xfffffffffcfffff0");
}
END_TEST

START_TEST(test_map_flags)
{
	ck_assert_str_eq(map_str(MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK),
			 "MAP_PRIVATE|MAP_ANONYMOUS|MAP_STACK");
	ck_assert_str_eq(map_str(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED),
			 "MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS");
	ck_assert_str_eq(map_str(MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB),
			 "MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT");
	ck_assert_str_eq(map_str(0), "MAP_FILE");
	ck_assert_str_eq(map_str(MAP_SHARED_VALIDATE | MAP_SYNC), "MAP_SHARED_VALIDATE|MAP_SYNC");
	ck_assert_str_eq(map_str(0x8), "0x8 /* MAP_??? */");
	ck_assert_str_eq(map_str(0xf | MAP_ANONYMOUS), "0xf /* MAP_??? */|MAP_ANONYMOUS");
	ck_assert_str_eq(map_str(MAP_PRIVATE | 0x800000), "MAP_PRIVATE|0x800000");
	ck_assert_str_eq(map_str(MAP_PRIVATE | MAP_ANONYMOUS | 0x100000000ULL),
			 "MAP_PRIVATE|MAP_ANONYMOUS");
	ck_assert_str_eq(map_str(MAP_PRIVATE | MAP_UNINITIALIZED), "MAP_PRIVATE|1<<MAP_HUGE_SHIFT");
	ck_assert_str_eq(map_str(MAP_PRIVATE | MAP_ANONYMOUS | 0x80),
			 "MAP_PRIVATE|MAP_ANONYMOUS|0x80");
	ck_assert_str_eq(map_str(0xffffffff),
			 "0xf /* MAP_??? */|MAP_FIXED|MAP_ANONYMOUS|MAP_32BIT|MAP_NORESERVE|"
			 "MAP_POPULATE|MAP_NONBLOCK|MAP_GROWSDOWN|MAP_DENYWRITE|MAP_EXECUTABLE|"
			 "MAP_LOCKED|MAP_STACK|MAP_HUGETLB|MAP_SYNC|MAP_FIXED_NOREPLACE|0x3e00680|"
			 "63<<MAP_HUGE_SHIFT");
}
END_TEST

START_TEST(test_mremap_flags_and_rwx)
{
	char rwx[4];

	ck_assert_str_eq(mremap_str(0), "0");
	ck_assert_str_eq(mremap_str(MREMAP_MAYMOVE | MREMAP_FIXED), "MREMAP_MAYMOVE|MREMAP_FIXED");
	ck_assert_str_eq(mremap_str(0x10), "0x10 /* MREMAP_??? */");
	ck_assert_str_eq(mremap_str(0xff), "MREMAP_MAYMOVE|MREMAP_FIXED|MREMAP_DONTUNMAP|0xf8");
	format_prot_rwx(rwx, PROT_READ | PROT_EXEC);
	ck_assert_str_eq(rwx, "r-x");
	format_prot_rwx(rwx, PROT_NONE);
	ck_assert_str_eq(rwx, "---");
	format_prot_rwx(rwx, PROT_READ | PROT_WRITE | PROT_EXEC);
	ck_assert_str_eq(rwx, "rwx");
}
END_TEST

START_TEST(test_call_lines)
{
	ck_assert_str_eq(call_str(AUDIT_ARCH_X86_64, 9, 0, 40960, 3, 0x20022, -1ULL, 0,
				  0x7faab403a000, false),
			 "mmap(NULL, 40960, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|"
			 "MAP_STACK, -1, 0) = 0x7faab403a000");
	/* short lines pad the "= " to column 40 */
	ck_assert_str_eq(
		call_str(AUDIT_ARCH_X86_64, 11, 0x7f0000001000, 4096, 0, 0, 0, 0, 0, false),
		"munmap(0x7f0000001000, 4096)            = 0");
	ck_assert_str_eq(call_str(AUDIT_ARCH_X86_64, 12, 0, 0, 0, 0, 0, 0, 0x55a554048000, false),
			 "brk(NULL)                               = 0x55a554048000");
	ck_assert_str_eq(
		call_str(AUDIT_ARCH_X86_64, 9, 0, 1ULL << 62, 3, 0x22, -1ULL, 0, -ENOMEM, true),
		"mmap(NULL, 4611686018427387904, PROT_READ|PROT_WRITE, MAP_PRIVATE|"
		"MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot allocate memory)");
	ck_assert_str_eq(
		call_str(AUDIT_ARCH_X86_64, 9, 0, 4096, 1, 1, 3, 0x2000, 0x7f0000000000, false),
		"mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0x2000) = 0x7f0000000000");
	ck_assert_str_eq(call_str(AUDIT_ARCH_X86_64, 25, 0x1000, 4096, 8192, 3, 0x200000, 0,
				  0x200000, false),
			 "mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x200000) = "
			 "0x200000");
	ck_assert_str_eq(call_str(AUDIT_ARCH_X86_64, 25, 0x1000, 4096, 8192, 5, 0x200000, 0,
				  0x300000, false),
			 "mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_DONTUNMAP) = 0x300000");
	ck_assert_str_eq(call_str(AUDIT_ARCH_X86_64, 30, 0xffffffff, 0, 0x100001000ULL, 0, 0, 0,
				  -EINVAL, true),
			 "shmat(-1, NULL, SHM_RDONLY)             = -1 EINVAL (Invalid argument)");
	ck_assert_str_eq(
		call_str(AUDIT_ARCH_X86_64, 67, 0x1000, 0, 0, 0, 0, 0, -512, true),
		"shmdt(0x1000)                           = ? ERESTARTSYS (To be restarted if "
		"SA_RESTART is set)");
}
END_TEST

START_TEST(test_call_other_arches)
{
	/* i386 mmap2: offset in 4096-byte units, fd sign-extended, 32-bit result */
	ck_assert_str_eq(
		call_str(AUDIT_ARCH_I386, 192, 0, 8192, 1, 2, 0xffffffff, 3, 0xf7f00000, false),
		"mmap2(NULL, 8192, PROT_READ, MAP_PRIVATE, -1, 0x3000) = 0xf7f00000");
	/* aarch64 has no MAP_32BIT */
	ck_assert_str_eq(
		call_str(AUDIT_ARCH_AARCH64, 222, 0, 4096, 3, 0x62, -1ULL, 0, 0x1000, false),
		"mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|0x40, -1, "
		"0) = 0x1000");
	ck_assert_str_eq(call_str(AUDIT_ARCH_I386, 91, 0xf7f00000, 4096, 0, 0, 0, 0, -EINVAL, true),
			 "munmap(0xf7f00000, 4096)                = -1 EINVAL (Invalid argument)");
}
END_TEST

/* Tracee memory for the i386 paths: the old mmap block at 0x8000, the ipc(SHMAT) result at
 * 0x8020; reads elsewhere fail. */
static int i386_mem(void *ctx, uint64_t addr, void *buf, size_t len)
{
	static const uint32_t block[] = {0xf7700000, 12288, 3, 0x22,	  0xffffffff,
					 0x2000,     0,	    0, 0xf7000000};

	(void)ctx;
	if (addr < 0x8000 || addr - 0x8000 + len > sizeof(block))
		return -EFAULT;
	memcpy(buf, (const char *)block + (addr - 0x8000), len);
	return 0;
}

static const char *i386_str(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			    uint64_t a4, int64_t rval, bool is_error)
{
	const uint64_t args[6] = {a0, a1, a2, a3, a4, 0};
	struct mem_call c;
	struct mem_result r;

	ck_assert_int_eq(decode_entry(AUDIT_ARCH_I386, nr, args, i386_mem, NULL, &c), 0);
	ck_assert_int_eq(decode_exit(&c, rval, is_error, i386_mem, NULL, &r), 0);
	format_call(buf, sizeof(buf), &c, &r);
	return buf;
}

START_TEST(test_call_i386_memory_paths)
{
	ck_assert_str_eq(i386_str(90, 0x8000, 0, 0, 0, 0, 0xf7700000, false),
			 "mmap(0xf7700000, 12288, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, "
			 "-1, 0x2000) = 0xf7700000");
	/* strace prints only the block's address when it cannot read it */
	ck_assert_str_eq(i386_str(90, 0x9000, 0, 0, 0, 0, -EFAULT, true),
			 "mmap(0x9000)                            = -1 EFAULT (Bad address)");
	ck_assert_str_eq(i386_str(117, 21, 5, SHM_RDONLY, 0x8020, 0, 0, false),
			 "shmat(5, NULL, SHM_RDONLY)              = 0xf7000000");
	ck_assert_str_eq(i386_str(117, 22, 0, 0, 0, 0xf7000000, 0, false),
			 "shmdt(0xf7000000)                       = 0");
}
END_TEST

START_TEST(test_call_special_results)
{
	const uint64_t args[6] = {0x1000, 0, 0, 0, 0, 0};
	struct mem_call c;
	struct mem_result r = {.is_error = true, .err = 4000};
	char small[8];
	int n;

	ck_assert_int_eq(decode_entry(AUDIT_ARCH_X86_64, 12, args, NULL, NULL, &c), 0);
	format_call(buf, sizeof(buf), &c, NULL);
	ck_assert_str_eq(buf, "brk(0x1000)                             = ?");
	format_call(buf, sizeof(buf), &c, &r);
	ck_assert_str_eq(buf, "brk(0x1000)                             = -1 ERRNO_4000 (Unknown "
			      "error 4000)");
	/* snprintf semantics: truncated, terminated, full length returned */
	n = format_call(small, sizeof(small), &c, NULL);
	ck_assert_int_eq(n, (int)strlen("brk(0x1000)                             = ?"));
	ck_assert_str_eq(small, "brk(0x1");
	ck_assert_int_eq(format_call(NULL, 0, &c, NULL), n);
}
END_TEST

/* One call of memcalls.raw: arch nr a0..a5 rval is_error [addr:bytes], all hex. The
 * optional memory is what the decoder reads through its callback. */
struct raw_call {
	uint32_t arch;
	uint64_t nr;
	uint64_t args[6];
	int64_t rval;
	bool is_error;
	uint64_t mem_addr;
	size_t mem_len;
	uint8_t mem[64];
};

static bool parse_mem(const char *text, struct raw_call *rc)
{
	unsigned long long addr;
	unsigned int byte;
	int n;

	if (sscanf(text, "%llx:%n", &addr, &n) != 1)
		return false;
	rc->mem_addr = addr;
	for (text += n; *text && rc->mem_len < sizeof(rc->mem); text += 2) {
		if (sscanf(text, "%2x", &byte) != 1)
			return false;
		rc->mem[rc->mem_len++] = (uint8_t)byte;
	}
	return *text == '\0';
}

static bool parse_raw(const char *line, struct raw_call *rc)
{
	unsigned long long v[8];
	unsigned int arch;
	int err, n = 0;

	memset(rc, 0, sizeof(*rc));
	if (sscanf(line, "%x %llx %llx %llx %llx %llx %llx %llx %llx %d%n", &arch, &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &err, &n) != 10)
		return false;
	rc->arch = arch;
	rc->nr = v[0];
	for (int i = 0; i < 6; i++)
		rc->args[i] = v[i + 1];
	rc->rval = (int64_t)v[7];
	rc->is_error = err != 0;
	line += n;
	if (*line == ' ')
		return parse_mem(line + 1, rc);
	return *line == '\0';
}

/* The decoder's view of tracee memory: only the bytes memcalls recorded. */
static int raw_mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct raw_call *rc = ctx;

	if (addr < rc->mem_addr || addr - rc->mem_addr > rc->mem_len ||
	    len > rc->mem_len - (addr - rc->mem_addr))
		return -EFAULT;
	memcpy(buf, rc->mem + (addr - rc->mem_addr), len);
	return 0;
}

static FILE *open_golden(const char *name)
{
	FILE *f = fopen(name, "r");

	ck_assert_msg(f != NULL, "cannot open %s", name);
	return f;
}

static bool next_line(FILE *f, char *line, size_t size)
{
	if (!fgets(line, (int)size, f))
		return false;
	line[strcspn(line, "\n")] = '\0';
	return true;
}

START_TEST(test_golden_memcalls)
{
	FILE *raw = open_golden(GOLDEN_DIR "memcalls.raw");
	FILE *st = open_golden(GOLDEN_DIR "memcalls.strace");
	char rline[512], sline[1024], out[1024];
	int total = 0, total_i386 = 0, matched = 0;

	while (next_line(raw, rline, sizeof(rline))) {
		struct raw_call rc;
		struct mem_call c;
		struct mem_result r;

		if (rline[0] == '#')
			continue;
		ck_assert_msg(parse_raw(rline, &rc), "bad raw: %s", rline);
		ck_assert_msg(next_line(st, sline, sizeof(sline)), "strace file ends early");
		total++;
		if (rc.arch == AUDIT_ARCH_I386)
			total_i386++;
		ck_assert_int_eq(decode_entry(rc.arch, rc.nr, rc.args, raw_mem_read, &rc, &c), 0);
		ck_assert_int_ne(c.op, MEM_NONE);
		ck_assert_int_eq(decode_exit(&c, rc.rval, rc.is_error, raw_mem_read, &rc, &r), 0);
		format_call(out, sizeof(out), &c, &r);
		if (strcmp(out, sline) == 0)
			matched++;
		else
			fprintf(stderr, "golden mismatch:\n strace: %s\n vmleak: %s\n", sline, out);
	}
	ck_assert_msg(!next_line(st, sline, sizeof(sline)), "strace file has extra lines");
	fclose(raw);
	fclose(st);
	fprintf(stderr, "golden: %d of %d strace lines matched (%d of them i386)\n", matched, total,
		total_i386);
	ck_assert_int_ge(total, 80);
	ck_assert_int_ge(total_i386, 15);
	ck_assert_int_eq(matched, total);
}
END_TEST

static Suite *format_suite(void)
{
	Suite *s = suite_create("format");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_prot);
	tcase_add_test(tc, test_map_flags);
	tcase_add_test(tc, test_mremap_flags_and_rwx);
	tcase_add_test(tc, test_call_lines);
	tcase_add_test(tc, test_call_other_arches);
	tcase_add_test(tc, test_call_i386_memory_paths);
	tcase_add_test(tc, test_call_special_results);
	tcase_add_test(tc, test_golden_memcalls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(format_suite());
}
