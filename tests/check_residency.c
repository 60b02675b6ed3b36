/* tests/check_residency.c - unit tests of tracer/residency.c's pure parts:
 * counting present and swapped pages in a pagemap buffer (fabricated: this
 * machine has no swap to page out to), and the smaps fallback's parsing and
 * apportioning; and one live measure of this process's own pages. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/check_run.h"
#include "tracer/residency.h"
#include "tracer/tracer.h"

START_TEST(test_pagemap_count_fabricated)
{
	uint64_t e[10] = {0};
	uint64_t present = 0, swapped = 0;

	/* present pages carry a PFN (or 0 without CAP_SYS_ADMIN) and flag bits */
	e[0] = PAGEMAP_PRESENT | 0x12345;
	e[1] = PAGEMAP_PRESENT | (1ULL << 61) | (1ULL << 56);
	e[2] = PAGEMAP_PRESENT;
	/* swapped pages: swap type and offset in the low bits */
	e[3] = PAGEMAP_SWAPPED | (7ULL << 5) | 3;
	e[4] = PAGEMAP_SWAPPED;
	/* not present, not swapped: soft-dirty / exclusive bits alone count nothing */
	e[5] = 1ULL << 55;
	e[6] = 1ULL << 56;
	pagemap_count(e, 10, &present, &swapped);
	ck_assert_uint_eq(present, 3);
	ck_assert_uint_eq(swapped, 2);
	/* it adds to what the caller has (a region read batch by batch) */
	pagemap_count(e, 3, &present, &swapped);
	ck_assert_uint_eq(present, 6);
	ck_assert_uint_eq(swapped, 2);
}
END_TEST

static const char smaps_text[] =
	"7f0000000000-7f0000800000 rw-p 00000000 00:00 0 \n"
	"Size:               8192 kB\n"
	"Rss:                 512 kB\n"
	"Pss:                 512 kB\n"
	"Swap:                 64 kB\n"
	"VmFlags: rd wr mr mw me ac sd \n"
	"7f0000900000-7f0000a00000 r--p 00001000 08:01 42   /usr/lib/x.so\n"
	"Size:               1024 kB\n"
	"Rss:                1024 kB\n"
	"Swap:                  0 kB\n";

START_TEST(test_smaps_parse_and_apportion)
{
	struct smaps_vma *v;
	long n = smaps_parse(smaps_text, &v);
	uint64_t res, swp;

	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(v[0].start, 0x7f0000000000);
	ck_assert_uint_eq(v[0].end, 0x7f0000800000);
	ck_assert_uint_eq(v[0].rss, 512 * 1024);
	ck_assert_uint_eq(v[0].swap, 64 * 1024);
	ck_assert_uint_eq(v[1].rss, 1024 * 1024);
	/* a region that is one VMA exactly */
	smaps_apportion(v, 2, 0x7f0000900000, 0x7f0000a00000, &res, &swp);
	ck_assert_uint_eq(res, 1024 * 1024);
	ck_assert_uint_eq(swp, 0);
	/* one of 8 regions of 1 MiB merged into one VMA: an eighth of it */
	smaps_apportion(v, 2, 0x7f0000100000, 0x7f0000200000, &res, &swp);
	ck_assert_uint_eq(res, 64 * 1024);
	ck_assert_uint_eq(swp, 8 * 1024);
	/* across the hole between the two VMAs */
	smaps_apportion(v, 2, 0x7f0000700000, 0x7f0000a00000, &res, &swp);
	ck_assert_uint_eq(res, 64 * 1024 + 1024 * 1024);
	/* nothing there */
	smaps_apportion(v, 2, 0x1000, 0x2000, &res, &swp);
	ck_assert_uint_eq(res, 0);
	ck_assert_uint_eq(swp, 0);
	free(v);
	ck_assert_int_eq(smaps_parse("", &v), 0);
	free(v);
}
END_TEST

/* The whole path on this process: 16 pages mapped, 5 of them written. */
START_TEST(test_measure_own_pages)
{
	struct addr_space as = {.pid = getpid()};
	struct region r = {.site = 1}, pre = {.site = 2, .origin = REGION_PREEXISTING};
	struct region_residency res;
	char *p = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	for (int i = 0; i < 5; i++)
		p[i * 3 * 4096] = 1;
	as.ledger = ledger_new();
	r.start = (uint64_t)(uintptr_t)p;
	r.end = r.start + 16 * 4096;
	ck_assert_int_eq(ledger_insert(as.ledger, &r), 0);
	/* a region that was there before the attach is not measured */
	pre.start = (uint64_t)(uintptr_t)&as & ~4095ULL;
	pre.end = pre.start + 4096;
	ck_assert_int_eq(ledger_insert(as.ledger, &pre), 0);
	ck_assert_int_eq(residency_measure(&as), 0);
	/* one row: the region there before the attach is not measured */
	ck_assert_uint_eq(as.res.n, 1);
	ck_assert(residency_at(&as.res, 0, &res));
	ck_assert_uint_eq(res.resident, 5 * 4096);
	ck_assert_uint_eq(res.swapped, 0);
	ck_assert(!residency_at(&as.res, 1, &res));
	/* a process that is gone: no figures, not the old ones */
	as.pid = 0;
	ck_assert_int_lt(residency_measure(&as), 0);
	ck_assert(!residency_at(&as.res, 0, &res));
	residency_free(&as.res);
	ledger_free(as.ledger);
	munmap(p, 16 * 4096);
}
END_TEST

/* A region over RES_PAGEMAP_MAX is counted from smaps, in one line per VMA. */
START_TEST(test_measure_huge_region_from_smaps)
{
	struct addr_space as = {.pid = getpid()};
	struct region r = {.site = 1};
	struct region_residency res;
	struct residency_stats st;
	uint64_t len = 2 * RES_PAGEMAP_MAX;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	/* its own VMA: neighbours with other protections do not merge with it */
	ck_assert_int_eq(mprotect(p, 4096, PROT_READ), 0);
	ck_assert_int_eq(mprotect(p + len - 4096, 4096, PROT_READ), 0);
	for (int i = 1; i <= 3; i++)
		p[i * 1000 * 4096] = 1;
	as.ledger = ledger_new();
	r.start = (uint64_t)(uintptr_t)p + 4096;
	r.end = (uint64_t)(uintptr_t)p + len - 4096;
	ck_assert_int_eq(ledger_insert(as.ledger, &r), 0);
	ck_assert_int_eq(residency_measure(&as), 0);
	residency_last_stats(&st);
	ck_assert_uint_eq(st.from_smaps, 1);
	ck_assert_uint_eq(st.preads, 0);
	ck_assert(residency_at(&as.res, 0, &res));
	ck_assert_uint_eq(res.resident, 3 * 4096);
	residency_free(&as.res);
	ledger_free(as.ledger);
	munmap(p, len);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("residency");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pagemap_count_fabricated);
	tcase_add_test(tc, test_smaps_parse_and_apportion);
	tcase_add_test(tc, test_measure_own_pages);
	tcase_add_test(tc, test_measure_huge_region_from_smaps);
	suite_add_tcase(s, tc);
	return check_run(s);
}
