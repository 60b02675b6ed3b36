/* tests/check_ledger.c - unit tests for the region ledger (decoder/ledger.h), the
 * region vector and the string table (decoder/strtab.h): one test per rule. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "decoder/ledger.h"
#include "decoder/strtab.h"
#include "tests/check_run.h"

#define P	LEDGER_PAGE_SIZE
#define BASE	0x7f0000000000ULL
#define PG(n)	(BASE + (uint64_t)(n)*P)
#define TOP_END (UINT64_MAX - P + 1) /* the highest page-aligned end: 2^64 - page */

static struct region mk(uint64_t start, uint64_t end, uint32_t site)
{
	struct region r = {.start = start,
			   .end = end,
			   .site = site,
			   .path = site + 100,
			   .flags = MAP_PRIVATE | MAP_ANONYMOUS,
			   .time_ms = site * 10,
			   .tid = (int32_t)site + 1000,
			   .prot = PROT_READ | PROT_WRITE,
			   .op = 1,
			   .kind = REGION_ANON};
	return r;
}

static void add(struct ledger *l, uint64_t start, uint64_t end, uint32_t site)
{
	struct region r = mk(start, end, site);

	ck_assert_int_eq(ledger_insert(l, &r), 0);
}

/* Collects up to 16 regions in foreach order. */
struct seen {
	struct region r[16];
	int n;
};

static int collect(const struct region *r, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->r[s->n] = *r;
	s->n++;
	return 0;
}

static struct seen snapshot(const struct ledger *l)
{
	struct seen s = {.n = 0};

	ck_assert_int_eq(ledger_foreach(l, collect, &s), 0);
	return s;
}

/* Asserts region i of s is [start, end) from site. */
static void expect(const struct seen *s, int i, uint64_t start, uint64_t end, uint32_t site)
{
	ck_assert_int_gt(s->n, i);
	ck_assert_msg(s->r[i].start == start && s->r[i].end == end && s->r[i].site == site,
		      "region %d is [%#lx, %#lx) site %u, expected [%#lx, %#lx) site %u", i,
		      s->r[i].start, s->r[i].end, s->r[i].site, start, end, site);
}

/* The ledger's compile-time page size is the machine's (decoder/ledger.h). */
START_TEST(test_page_size_is_the_machines)
{
	ck_assert_uint_eq(LEDGER_PAGE_SIZE, (uint64_t)sysconf(_SC_PAGESIZE));
	ck_assert_uint_eq(LEDGER_PAGE_ALIGN(1), LEDGER_PAGE_SIZE);
	ck_assert_uint_eq(LEDGER_PAGE_ALIGN(LEDGER_PAGE_SIZE + 1), 2 * LEDGER_PAGE_SIZE);
}
END_TEST

START_TEST(test_insert_and_find)
{
	struct ledger *l = ledger_new();
	const struct region *f;

	add(l, PG(0), PG(2), 1);
	add(l, PG(4), PG(5), 2);
	ck_assert_uint_eq(ledger_count(l), 2);
	ck_assert_uint_eq(ledger_bytes(l), 3 * P);
	f = ledger_find(l, PG(1) + 123);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->site, 1);
	ck_assert_uint_eq(f->tid, 1001);
	ck_assert_ptr_null(ledger_find(l, PG(2)));     /* end is exclusive */
	ck_assert_ptr_null(ledger_find(l, PG(3)));     /* hole */
	ck_assert_ptr_null(ledger_find(l, PG(0) - 1)); /* below everything */
	ck_assert_uint_eq(ledger_find(l, PG(4))->site, 2);
	ledger_free(l);
}
END_TEST

START_TEST(test_insert_rounds_up_and_rejects)
{
	struct ledger *l = ledger_new();
	struct region r = mk(PG(0), PG(0) + 1, 1);
	struct seen s;

	ck_assert_int_eq(ledger_insert(l, &r), 0);
	s = snapshot(l);
	expect(&s, 0, PG(0), PG(1), 1);
	r = mk(PG(3) + 8, PG(4), 2); /* unaligned start */
	ck_assert_int_eq(ledger_insert(l, &r), -EINVAL);
	r = mk(PG(3), PG(3), 2); /* empty */
	ck_assert_int_eq(ledger_insert(l, &r), -EINVAL);
	r = mk(PG(3), PG(2), 2); /* backwards */
	ck_assert_int_eq(ledger_insert(l, &r), -EINVAL);
	r = mk(TOP_END - P, UINT64_MAX - 10, 2); /* rounds up past 2^64 */
	ck_assert_int_eq(ledger_insert(l, &r), -EINVAL);
	ck_assert_uint_eq(ledger_count(l), 1);
	r = mk(TOP_END - 2 * P, TOP_END - 100, 3); /* the top page is fine */
	ck_assert_int_eq(ledger_insert(l, &r), 0);
	ck_assert_uint_eq(ledger_find(l, TOP_END - 1)->site, 3);
	ck_assert_uint_eq(ledger_bytes(l), 3 * P);
	ledger_free(l);
}
END_TEST

START_TEST(test_map_fixed_over_three_regions)
{
	struct ledger *l = ledger_new();
	struct seen s;

	add(l, PG(0), PG(4), 1);
	add(l, PG(5), PG(7), 2);
	add(l, PG(8), PG(12), 3);
	add(l, PG(2), PG(10), 9);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 3);
	expect(&s, 0, PG(0), PG(2), 1);
	expect(&s, 1, PG(2), PG(10), 9);
	expect(&s, 2, PG(10), PG(12), 3);
	ck_assert_uint_eq(ledger_bytes(l), 12 * P);
	ledger_free(l);
}
END_TEST

START_TEST(test_take_split_span_holes)
{
	struct ledger *l = ledger_new();
	struct region_vec out = {0};
	struct seen s;

	add(l, PG(0), PG(10), 1);
	/* through the middle: two remain */
	ck_assert_uint_eq(ledger_take(l, PG(3), 2 * P, &out), 2 * P);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_uint_eq(out.v[0].start, PG(3));
	ck_assert_uint_eq(out.v[0].end, PG(5));
	ck_assert_uint_eq(out.v[0].site, 1);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 2);
	expect(&s, 0, PG(0), PG(3), 1);
	expect(&s, 1, PG(5), PG(10), 1);
	/* spanning both pieces, a hole and a third region: only known pages count */
	add(l, PG(12), PG(14), 2);
	region_vec_reset(&out);
	ck_assert_uint_eq(ledger_take(l, PG(2), 11 * P, &out), 1 * P + 5 * P + 1 * P);
	ck_assert_uint_eq(out.n, 3);
	ck_assert_uint_eq(out.v[0].start, PG(2));
	ck_assert_uint_eq(out.v[1].start, PG(5));
	ck_assert_uint_eq(out.v[2].start, PG(12));
	ck_assert_uint_eq(out.v[2].end, PG(13));
	s = snapshot(l);
	ck_assert_int_eq(s.n, 2);
	expect(&s, 0, PG(0), PG(2), 1);
	expect(&s, 1, PG(13), PG(14), 2);
	/* a hole: nothing */
	region_vec_reset(&out);
	ck_assert_uint_eq(ledger_take(l, PG(20), 5 * P, &out), 0);
	ck_assert_uint_eq(out.n, 0);
	/* NULL out is allowed */
	ck_assert_uint_eq(ledger_take(l, PG(0), P, NULL), P);
	ck_assert_uint_eq(ledger_count(l), 2);
	region_vec_free(&out);
	ledger_free(l);
}
END_TEST

START_TEST(test_take_edge_cases)
{
	struct ledger *l = ledger_new();

	add(l, PG(0), PG(4), 1);
	add(l, TOP_END - 4 * P, TOP_END, 2);
	ck_assert_uint_eq(ledger_take(l, PG(0), 0, NULL), 0);	      /* zero length */
	ck_assert_uint_eq(ledger_take(l, PG(0) + 1, P, NULL), 0);     /* unaligned start */
	ck_assert_uint_eq(ledger_take(l, PG(1), 1, NULL), P);	      /* length rounded up */
	ck_assert_uint_eq(ledger_take(l, PG(2), P + 1, NULL), 2 * P); /* likewise */
	ck_assert_uint_eq(ledger_bytes(l), P + 4 * P);
	/* wrap-around at the top of the address space removes nothing */
	ck_assert_uint_eq(ledger_take(l, TOP_END - 2 * P, 3 * P, NULL), 0);
	ck_assert_uint_eq(ledger_take(l, TOP_END - 2 * P, UINT64_MAX, NULL), 0);
	ck_assert_uint_eq(ledger_take(l, TOP_END - 2 * P, 2 * P - 1, NULL), 2 * P);
	ck_assert_uint_eq(ledger_find(l, TOP_END - 3 * P)->site, 2);
	ck_assert_ptr_null(ledger_find(l, TOP_END - 1));
	ledger_free(l);
}
END_TEST

START_TEST(test_put_back_fills_only_holes)
{
	struct ledger *l = ledger_new();
	struct region_vec pending = {0};
	struct seen s;

	add(l, PG(0), PG(4), 1);
	add(l, PG(4), PG(6), 2);
	ck_assert_uint_eq(ledger_take(l, PG(1), 4 * P, &pending), 4 * P);
	add(l, PG(2), PG(3), 7); /* another thread mapped here meanwhile */
	ledger_put_back(l, &pending);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 6);
	expect(&s, 0, PG(0), PG(1), 1);
	expect(&s, 1, PG(1), PG(2), 1);
	expect(&s, 2, PG(2), PG(3), 7);
	expect(&s, 3, PG(3), PG(4), 1);
	expect(&s, 4, PG(4), PG(5), 2);
	expect(&s, 5, PG(5), PG(6), 2);
	ck_assert_uint_eq(s.r[1].time_ms, 10); /* metadata came back too */
	region_vec_free(&pending);
	ledger_free(l);
}
END_TEST

/* The region remapped by proto (site 5): one region over the new range that keeps
 * the original's kind, prot, flags and path and remembers where it was first made. */
static void expect_remapped(const struct seen *s, int i, uint64_t start, uint64_t end,
			    uint32_t first)
{
	expect(s, i, start, end, 5);
	ck_assert_uint_eq(s->r[i].first_site, first);
	ck_assert_uint_eq(s->r[i].path, first + 100);
	ck_assert_uint_eq(s->r[i].flags, MAP_PRIVATE | MAP_ANONYMOUS);
	ck_assert_uint_eq(s->r[i].kind, REGION_ANON);
	ck_assert_uint_eq(s->r[i].prot, PROT_READ | PROT_WRITE);
	ck_assert_uint_eq(s->r[i].time_ms, 50); /* the resizing call's */
	ck_assert_uint_eq(s->r[i].tid, 1005);
	ck_assert_uint_eq(s->r[i].origin, REGION_TRACED);
}

START_TEST(test_mremap_shrink_grow_in_place)
{
	struct ledger *l = ledger_new();
	struct region proto = mk(0, 0, 5);
	struct seen s;

	proto.flags = MREMAP_MAYMOVE; /* mremap's flags never describe the region */
	proto.path = 0;
	add(l, PG(0), PG(8), 1);
	ck_assert_int_eq(ledger_mremap(l, PG(0), 8 * P, PG(0), 3 * P, 0, &proto), 0);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 1);
	expect_remapped(&s, 0, PG(0), PG(3), 1);
	ck_assert_int_eq(ledger_mremap(l, PG(0), 3 * P, PG(0), 5 * P - 7, 0, &proto), 0);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 1); /* grown: still one region, as in the kernel */
	expect_remapped(&s, 0, PG(0), PG(5), 1);
	ck_assert_uint_eq(ledger_bytes(l), 5 * P);
	ledger_free(l);
}
END_TEST

START_TEST(test_mremap_move_keeps_origin)
{
	struct ledger *l = ledger_new();
	struct region proto = mk(0, 0, 5);
	struct seen s;

	add(l, PG(0), PG(4), 1);
	add(l, PG(20), PG(30), 2); /* MREMAP_FIXED lands on part of this */
	ck_assert_int_eq(ledger_mremap(l, PG(0), 4 * P, PG(18), 6 * P,
				       MREMAP_MAYMOVE | MREMAP_FIXED, &proto),
			 0);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 2);
	expect_remapped(&s, 0, PG(18), PG(24), 1);
	expect(&s, 1, PG(24), PG(30), 2);
	ck_assert_ptr_null(ledger_find(l, PG(0)));
	/* remapped again: the first site stays the first */
	ck_assert_int_eq(ledger_mremap(l, PG(18), 6 * P, PG(40), 7 * P, MREMAP_MAYMOVE, &proto), 0);
	s = snapshot(l);
	expect_remapped(&s, 1, PG(40), PG(47), 1);
	ledger_free(l);
}
END_TEST

START_TEST(test_mremap_preexisting_moves_and_grows_apart)
{
	struct ledger *l = ledger_new();
	struct region proto = mk(0, 0, 5), pre = mk(PG(0), PG(4), 1);
	struct seen s;

	pre.origin = REGION_PREEXISTING;
	ck_assert_int_eq(ledger_insert(l, &pre), 0);
	ck_assert_int_eq(ledger_mremap(l, PG(0), 4 * P, PG(10), 6 * P, MREMAP_MAYMOVE, &proto), 0);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 2);
	expect(&s, 0, PG(10), PG(14), 1);
	ck_assert_uint_eq(s.r[0].origin, REGION_PREEXISTING);
	expect(&s, 1, PG(14), PG(16), 5); /* the growth made in the window */
	ck_assert_uint_eq(s.r[1].origin, REGION_TRACED);
	ck_assert_uint_eq(s.r[1].path, 101); /* described as the region it extends */
	ck_assert_uint_eq(s.r[1].first_site, 0);
	/* an old range the ledger does not know stays unknown; its growth is proto's */
	ck_assert_int_eq(ledger_mremap(l, PG(50), 2 * P, PG(60), 3 * P, MREMAP_MAYMOVE, &proto), 0);
	ck_assert_ptr_null(ledger_find(l, PG(60)));
	ck_assert_uint_eq(ledger_find(l, PG(62))->site, 5);
	ck_assert_uint_eq(ledger_find(l, PG(62))->path, 105);
	ledger_free(l);
}
END_TEST

START_TEST(test_mremap_dontunmap_partial_oldlen0)
{
	struct ledger *l = ledger_new();
	struct region proto = mk(0, 0, 5);
	struct seen s;

	add(l, PG(0), PG(4), 1);
	ck_assert_int_eq(ledger_mremap(l, PG(0), 4 * P, PG(10), 4 * P,
				       MREMAP_MAYMOVE | MREMAP_DONTUNMAP, &proto),
			 0);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 2);
	expect(&s, 0, PG(0), PG(4), 1);
	expect_remapped(&s, 1, PG(10), PG(14), 1);
	/* a partial range moves only that part */
	ck_assert_int_eq(ledger_mremap(l, PG(11), 2 * P, PG(20), 2 * P, MREMAP_MAYMOVE, &proto), 0);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 4);
	expect_remapped(&s, 1, PG(10), PG(11), 1);
	expect_remapped(&s, 2, PG(13), PG(14), 1);
	expect_remapped(&s, 3, PG(20), PG(22), 1);
	/* old_len 0 keeps the old mapping; the new one is proto's */
	ck_assert_int_eq(ledger_mremap(l, PG(0), 0, PG(30), 2 * P, MREMAP_MAYMOVE, &proto), 0);
	ck_assert_uint_eq(ledger_find(l, PG(0))->site, 1);
	ck_assert_uint_eq(ledger_find(l, PG(31))->site, 5);
	/* bad ranges change nothing */
	ck_assert_int_eq(ledger_mremap(l, PG(0) + 1, P, PG(40), P, MREMAP_MAYMOVE, &proto),
			 -EINVAL);
	ck_assert_int_eq(ledger_mremap(l, PG(0), P, PG(40), 0, MREMAP_MAYMOVE, &proto), -EINVAL);
	ck_assert_uint_eq(ledger_find(l, PG(0))->site, 1);
	ck_assert_uint_eq(ledger_bytes(l), 4 * P + 2 * P + 2 * P + 2 * P);
	ledger_free(l);
}
END_TEST

START_TEST(test_mremap_finish_after_entry_take)
{
	struct ledger *l = ledger_new();
	struct region proto = mk(0, 0, 5);
	struct region_vec pending = {0};
	struct seen s;

	add(l, PG(0), PG(2), 1);
	add(l, PG(2), PG(4), 2);
	ck_assert_uint_eq(ledger_take(l, PG(0), 4 * P, &pending), 4 * P);
	ck_assert_uint_eq(ledger_count(l), 0);
	ck_assert_int_eq(ledger_mremap_finish(l, &pending, PG(0), 4 * P, PG(100), 3 * P,
					      MREMAP_MAYMOVE, &proto),
			 0);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 1); /* the region at the old address is the one remapped */
	expect_remapped(&s, 0, PG(100), PG(103), 1);
	region_vec_free(&pending);
	ledger_free(l);
}
END_TEST

START_TEST(test_brk)
{
	struct ledger *l = ledger_new();
	struct region proto = mk(0, 0, 3);
	struct seen s;

	proto.kind = REGION_ANON;
	ck_assert_uint_eq(ledger_brk_start(l), 0);
	ck_assert_int_eq(ledger_brk(l, PG(5), &proto), 0); /* unset: only records */
	ck_assert_uint_eq(ledger_brk_current(l), PG(5));
	ck_assert_uint_eq(ledger_count(l), 0);
	ledger_set_brk(l, PG(0) + 100, PG(0) + 100);
	ck_assert_uint_eq(ledger_brk_start(l), PG(0) + 100);
	ck_assert_int_eq(ledger_brk(l, PG(0) + 2000, &proto), 0); /* same page: nothing */
	ck_assert_uint_eq(ledger_count(l), 0);
	ck_assert_int_eq(ledger_brk(l, PG(3) + 5, &proto), 0); /* [PG(1), PG(4)) */
	s = snapshot(l);
	ck_assert_int_eq(s.n, 1);
	expect(&s, 0, PG(1), PG(4), 3);
	ck_assert_uint_eq(s.r[0].kind, REGION_BRK);
	proto.site = 4;
	ck_assert_int_eq(ledger_brk(l, PG(6), &proto), 0);     /* [PG(4), PG(6)) */
	ck_assert_int_eq(ledger_brk(l, PG(2) + 1, &proto), 0); /* shrink: [PG(3), PG(6)) */
	s = snapshot(l);
	ck_assert_int_eq(s.n, 1);
	expect(&s, 0, PG(1), PG(3), 3);
	ck_assert_int_eq(ledger_brk(l, PG(0), &proto), 0); /* below start: only records */
	ck_assert_uint_eq(ledger_brk_current(l), PG(0));
	ck_assert_uint_eq(ledger_bytes(l), 2 * P);
	/* growth after that starts from start_brk, replacing what it covers */
	ck_assert_int_eq(ledger_brk(l, PG(4), &proto), 0);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 1);
	expect(&s, 0, PG(1), PG(4), 4);
	ledger_free(l);
}
END_TEST

START_TEST(test_take_shm)
{
	struct ledger *l = ledger_new();
	struct region shm = mk(PG(10), PG(14), 6);
	struct region_vec out = {0};

	shm.kind = REGION_SHM;
	ck_assert_int_eq(ledger_insert(l, &shm), 0);
	add(l, PG(0), PG(2), 1);
	ck_assert_uint_eq(ledger_take_shm(l, PG(0), &out), 0);	/* not shm */
	ck_assert_uint_eq(ledger_take_shm(l, PG(11), &out), 0); /* not its start */
	ck_assert_uint_eq(ledger_take_shm(l, PG(30), &out), 0); /* nothing there */
	ck_assert_uint_eq(out.n, 0);
	ck_assert_uint_eq(ledger_take_shm(l, PG(10), &out), 4 * P);
	ck_assert_uint_eq(out.n, 1);
	ck_assert_uint_eq(out.v[0].site, 6);
	ck_assert_uint_eq(out.v[0].end, PG(14));
	ck_assert_uint_eq(ledger_count(l), 1);
	ck_assert_uint_eq(ledger_take_shm(l, PG(10), NULL), 0);
	region_vec_free(&out);
	ledger_free(l);
}
END_TEST

START_TEST(test_copy_is_independent)
{
	struct ledger *l = ledger_new(), *c;

	for (unsigned i = 0; i < 500; i++)
		add(l, PG(2 * i), PG(2 * i + 1), i % 7);
	ledger_set_brk(l, PG(5000), PG(5001));
	c = ledger_copy(l);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(ledger_count(c), 500);
	ck_assert_uint_eq(ledger_brk_start(c), PG(5000));
	ck_assert_uint_eq(ledger_brk_current(c), PG(5001));
	ck_assert_uint_eq(ledger_take(c, PG(0), PG(600) - PG(0), NULL), 300 * P);
	add(c, PG(1), PG(2), 99);
	ck_assert_uint_eq(ledger_count(l), 500);
	ck_assert_uint_eq(ledger_find(l, PG(0))->site, 0);
	ck_assert_ptr_null(ledger_find(l, PG(1)));
	ck_assert_uint_eq(ledger_find(c, PG(1))->site, 99);
	ledger_free(l);
	ck_assert_uint_eq(ledger_count(c), 201);
	ledger_free(c);
}
END_TEST

START_TEST(test_copy_marks_inherited)
{
	struct ledger *l = ledger_new(), *c;
	struct region pre = {.start = PG(20), .end = PG(22), .origin = REGION_PREEXISTING};

	add(l, PG(0), PG(2), 1);
	ck_assert_int_eq(ledger_insert(l, &pre), 0);
	c = ledger_copy(l);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(ledger_find(c, PG(0))->origin, REGION_INHERITED);
	ck_assert_uint_eq(ledger_find(c, PG(0))->site, 1);
	ck_assert_uint_eq(ledger_find(c, PG(20))->origin, REGION_PREEXISTING);
	ck_assert_uint_eq(ledger_find(l, PG(0))->origin, REGION_TRACED);
	ledger_free(l);
	ledger_free(c);
}
END_TEST

START_TEST(test_first_after_walks_a_range)
{
	struct ledger *l = ledger_new();

	ck_assert_ptr_null(ledger_first_after(l, PG(0)));
	for (unsigned i = 0; i < 300; i++)
		add(l, PG(4 * i), PG(4 * i + 2), i);
	ck_assert_uint_eq(ledger_first_after(l, PG(0))->start, PG(0));
	ck_assert_uint_eq(ledger_first_after(l, PG(1))->start, PG(0)); /* contains it */
	ck_assert_uint_eq(ledger_first_after(l, PG(2))->start, PG(4)); /* in a hole */
	ck_assert_uint_eq(ledger_first_after(l, PG(1000))->start, PG(1000));
	ck_assert_ptr_null(ledger_first_after(l, PG(4 * 299 + 2)));
	unsigned n = 0;
	for (const struct region *r = ledger_first_after(l, PG(10)); r && r->start < PG(410);
	     r = ledger_first_after(l, r->end))
		n++;
	ck_assert_uint_eq(n, 100); /* PG(12)..PG(408) */
	ledger_free(l);
}
END_TEST

START_TEST(test_clear_repeated)
{
	struct ledger *l = ledger_new();
	size_t empty = ledger_memory(l);

	for (int round = 0; round < 3; round++) {
		for (unsigned i = 0; i < 300; i++)
			add(l, PG(3 * i), PG(3 * i + 2), i);
		ledger_set_brk(l, PG(9000), PG(9000));
		ck_assert_uint_eq(ledger_count(l), 300);
		ledger_clear(l);
		ck_assert_uint_eq(ledger_count(l), 0);
		ck_assert_uint_eq(ledger_bytes(l), 0);
		ck_assert_uint_eq(ledger_brk_start(l), 0);
		ck_assert_uint_eq(ledger_brk_current(l), 0);
		ck_assert_ptr_null(ledger_find(l, PG(0)));
		ck_assert_uint_eq(ledger_memory(l), empty);
	}
	ledger_clear(l);
	ledger_free(l);
}
END_TEST

static int stop_at_third(const struct region *r, void *arg)
{
	int *n = arg;

	(void)r;
	return ++*n == 3 ? 42 : 0;
}

START_TEST(test_foreach_order_and_stop)
{
	struct ledger *l = ledger_new();
	uint64_t prev = 0;
	struct seen s;
	int n = 0;

	/* inserted out of order, across many leaves */
	for (unsigned i = 0; i < 3000; i++)
		add(l, PG((i * 7919) % 3000 * 2), PG((i * 7919) % 3000 * 2 + 1), i);
	s = snapshot(l);
	ck_assert_int_eq(s.n, 3000);
	for (int i = 0; i < 16; i++) {
		ck_assert_uint_gt(s.r[i].start + 1, prev);
		prev = s.r[i].end;
	}
	ck_assert_int_eq(ledger_foreach(l, stop_at_third, &n), 42);
	ck_assert_int_eq(n, 3);
	ledger_free(l);
}
END_TEST

START_TEST(test_totals_by_site)
{
	struct ledger *l = ledger_new();
	struct site_total *t;

	ck_assert_int_eq(ledger_totals_by_site(l, &t), 0);
	add(l, PG(0), PG(1), 7);
	add(l, PG(1), PG(4), 2);
	add(l, PG(10), PG(12), 7);
	add(l, PG(20), PG(21), 0);
	ck_assert_int_eq(ledger_totals_by_site(l, &t), 3);
	ck_assert_uint_eq(t[0].site, 0);
	ck_assert_uint_eq(t[1].site, 2);
	ck_assert_uint_eq(t[1].regions, 1);
	ck_assert_uint_eq(t[1].bytes, 3 * P);
	ck_assert_uint_eq(t[2].site, 7);
	ck_assert_uint_eq(t[2].regions, 2);
	ck_assert_uint_eq(t[2].bytes, 3 * P);
	free(t);
	ledger_free(l);
}
END_TEST

/* Per-region memory with n regions inserted in the given order. */
static double bytes_per_region(unsigned n, int order)
{
	struct ledger *l = ledger_new();
	double per;

	for (unsigned i = 0; i < n; i++) {
		unsigned k = order > 0	 ? i
			     : order < 0 ? n - 1 - i
					 : (unsigned)((uint64_t)i * 2654435761u % n);

		add(l, PG(2 * (uint64_t)k), PG(2 * (uint64_t)k + 1), k);
	}
	ck_assert_uint_eq(ledger_count(l), n);
	per = (double)ledger_memory(l) / (double)ledger_count(l);
	/* deleting every other region and refilling must not blow the budget either */
	for (unsigned i = 0; i < n; i += 2)
		ledger_take(l, PG(2 * (uint64_t)i), P, NULL);
	for (unsigned i = 0; i < n; i += 4)
		add(l, PG(2 * (uint64_t)i), PG(2 * (uint64_t)i + 1), i);
	if ((double)ledger_memory(l) / (double)ledger_count(l) > per)
		per = (double)ledger_memory(l) / (double)ledger_count(l);
	ledger_free(l);
	return per;
}

START_TEST(test_memory_budget)
{
	double asc = bytes_per_region(100000, 1), desc = bytes_per_region(100000, -1);
	double rnd = bytes_per_region(100000, 0);

	ck_assert_msg(asc <= 64 && desc <= 64 && rnd <= 64,
		      "bytes per region: ascending %.1f descending %.1f random %.1f", asc, desc,
		      rnd);
}
END_TEST

START_TEST(test_region_vec)
{
	struct region_vec v = {0};
	struct region r = mk(PG(0), PG(1), 1);

	for (unsigned i = 0; i < 100; i++) {
		r.site = i;
		ck_assert_int_eq(region_vec_push(&v, &r), 0);
	}
	ck_assert_uint_eq(v.n, 100);
	ck_assert_uint_eq(v.v[99].site, 99);
	region_vec_reset(&v);
	ck_assert_uint_eq(v.n, 0);
	ck_assert_uint_ge(v.cap, 100);
	region_vec_free(&v);
	ck_assert_ptr_null(v.v);
}
END_TEST

START_TEST(test_strtab)
{
	struct strtab *t = strtab_new();
	char buf[32];
	uint32_t a, b;

	a = strtab_intern(t, "/usr/lib/libc.so.6");
	b = strtab_intern(t, "/dev/zero");
	ck_assert_uint_ge(a, 1);
	ck_assert_uint_ne(a, b);
	ck_assert_uint_eq(strtab_intern(t, "/usr/lib/libc.so.6"), a);
	ck_assert_str_eq(strtab_get(t, b), "/dev/zero");
	ck_assert_ptr_null(strtab_get(t, 0));
	ck_assert_ptr_null(strtab_get(t, 1000));
	ck_assert_uint_eq(strtab_intern(t, NULL), 0);
	ck_assert_uint_ge(strtab_intern(t, ""), 1);
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(buf, sizeof(buf), "s%u", i);
		ck_assert_uint_eq(strtab_intern(t, buf), strtab_intern(t, buf));
	}
	snprintf(buf, sizeof(buf), "s%u", 1234);
	ck_assert_str_eq(strtab_get(t, strtab_intern(t, buf)), "s1234");
	ck_assert_str_eq(strtab_get(t, a), "/usr/lib/libc.so.6");
	strtab_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("ledger");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_page_size_is_the_machines);
	tcase_add_test(tc, test_insert_and_find);
	tcase_add_test(tc, test_copy_marks_inherited);
	tcase_add_test(tc, test_first_after_walks_a_range);
	tcase_add_test(tc, test_insert_rounds_up_and_rejects);
	tcase_add_test(tc, test_map_fixed_over_three_regions);
	tcase_add_test(tc, test_take_split_span_holes);
	tcase_add_test(tc, test_take_edge_cases);
	tcase_add_test(tc, test_put_back_fills_only_holes);
	tcase_add_test(tc, test_mremap_shrink_grow_in_place);
	tcase_add_test(tc, test_mremap_move_keeps_origin);
	tcase_add_test(tc, test_mremap_preexisting_moves_and_grows_apart);
	tcase_add_test(tc, test_mremap_dontunmap_partial_oldlen0);
	tcase_add_test(tc, test_mremap_finish_after_entry_take);
	tcase_add_test(tc, test_brk);
	tcase_add_test(tc, test_take_shm);
	tcase_add_test(tc, test_copy_is_independent);
	tcase_add_test(tc, test_clear_repeated);
	tcase_add_test(tc, test_foreach_order_and_stop);
	tcase_add_test(tc, test_totals_by_site);
	tcase_add_test(tc, test_memory_budget);
	tcase_add_test(tc, test_region_vec);
	tcase_add_test(tc, test_strtab);
	suite_add_tcase(s, tc);
	return check_run(s);
}
