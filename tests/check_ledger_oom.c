/* tests/check_ledger_oom.c - the ledger never loses a change silently: a fixed
 * sequence of inserts, splitting removals, put-backs, mremaps, brk moves and a
 * copy runs with the Nth allocation failing (tests/fault/fault_inject.c through
 * -Wl,--wrap), for every N the sequence makes. Afterwards either ledger_error()
 * is 0 and the ledger holds exactly what an undisturbed run holds, or it is
 * -ENOMEM (sticky); a failed ledger_copy returns NULL. Small nodes (leaf_max 4)
 * make the tree split and grow often. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/ledger.h"
#include "decoder/syscall.h"
#include "tests/check_run.h"
#include "tests/fault/fault_inject.h"

#define PAGE	4096ULL
#define MAX_OUT 512

struct ledger *ledger_new_tuned(unsigned leaf_max, unsigned inode_max);

struct snapshot {
	struct region r[MAX_OUT];
	size_t n;
	uint64_t bytes;
};

static int collect(const struct region *r, void *arg)
{
	struct snapshot *s = arg;

	ck_assert_uint_lt(s->n, MAX_OUT);
	s->r[s->n++] = *r;
	return 0;
}

static struct region mk(uint64_t start, uint64_t len, uint32_t site)
{
	struct region r = {.start = start,
			   .end = start + len,
			   .site = site,
			   .op = MEM_MMAP,
			   .kind = REGION_ANON,
			   .prot = 3,
			   .origin = REGION_TRACED};

	return r;
}

/* The sequence; *copy gets the ledger's copy (NULL when it failed). */
static struct ledger *workload(struct ledger **copy)
{
	struct ledger *l = ledger_new_tuned(4, 4);
	struct region_vec pending = {0};
	struct region proto = mk(0, 0, 99);

	if (!l)
		return NULL;
	for (uint32_t i = 0; i < 40; i++) {
		struct region r = mk(0x100000 + i * 16 * PAGE, 8 * PAGE, i + 1);
		ledger_insert(l, &r);
	}
	/* cut holes in the middle of regions (splits), keep what was removed */
	for (uint32_t i = 0; i < 40; i += 3)
		ledger_take(l, 0x100000 + i * 16 * PAGE + 2 * PAGE, 2 * PAGE, &pending);
	/* a failed munmap: put everything back */
	ledger_put_back(l, &pending);
	region_vec_reset(&pending);
	/* a munmap across several regions */
	ledger_take(l, 0x100000 + 5 * 16 * PAGE + 4 * PAGE, 40 * PAGE, &pending);
	region_vec_reset(&pending);
	/* mremap: grow one and move it */
	ledger_take(l, 0x100000 + 20 * 16 * PAGE, 8 * PAGE, &pending);
	ledger_mremap_finish(l, &pending, 0x100000 + 20 * 16 * PAGE, 8 * PAGE, 0x900000, 24 * PAGE,
			     1, &proto);
	region_vec_free(&pending);
	/* the break */
	ledger_set_brk(l, 0x50000, 0x50000);
	ledger_brk(l, 0x50000 + 20 * PAGE, &proto);
	ledger_brk(l, 0x50000 + 12 * PAGE, &proto);
	*copy = ledger_copy(l);
	for (uint32_t i = 0; i < 10; i++) {
		struct region r = mk(0x800000 + i * 4 * PAGE, 2 * PAGE, 200 + i);
		ledger_insert(l, &r);
	}
	return l;
}

static void snap(const struct ledger *l, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	ledger_foreach(l, collect, s);
	s->bytes = ledger_bytes(l);
	ck_assert_uint_eq(ledger_count(l), s->n);
}

static void assert_same(const struct snapshot *a, const struct snapshot *b, unsigned long nth)
{
	ck_assert_msg(a->n == b->n && a->bytes == b->bytes,
		      "N=%lu: %zu regions, %llu bytes; undisturbed: %zu, %llu", nth, a->n,
		      (unsigned long long)a->bytes, b->n, (unsigned long long)b->bytes);
	for (size_t i = 0; i < a->n; i++)
		ck_assert_msg(a->r[i].start == b->r[i].start && a->r[i].end == b->r[i].end &&
				      a->r[i].site == b->r[i].site,
			      "N=%lu: region %zu differs", nth, i);
}

START_TEST(test_every_allocation_failure_is_reported)
{
	static struct snapshot want, want_copy, got;
	struct ledger *copy = NULL, *l;
	unsigned long before = fault_inject_calls(), total;
	unsigned long flagged = 0, exact = 0;

	l = workload(&copy);
	total = fault_inject_calls() - before;
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(copy);
	ck_assert_int_eq(ledger_error(l), 0);
	snap(l, &want);
	snap(copy, &want_copy);
	ledger_free(l);
	ledger_free(copy);
	ck_assert_uint_gt(total, 20); /* the sequence allocates: the test means something */

	for (unsigned long nth = 1; nth <= total; nth++) {
		fault_inject_arm(nth, false);
		copy = NULL;
		l = workload(&copy);
		fault_inject_arm(0, false);
		if (!l) /* ledger_new itself failed: the caller sees NULL */
			continue;
		if (ledger_error(l) == 0) {
			snap(l, &got);
			assert_same(&got, &want, nth);
			exact++;
		} else {
			ck_assert_int_eq(ledger_error(l), -ENOMEM);
			flagged++;
		}
		if (copy && ledger_error(copy) == 0) {
			snap(copy, &got);
			assert_same(&got, &want_copy, nth);
		}
		ledger_free(l);
		ledger_free(copy);
	}
	ck_assert_uint_gt(flagged, 0);
}
END_TEST

START_TEST(test_error_is_sticky_and_copied)
{
	struct ledger *l = ledger_new_tuned(4, 4), *copy;
	struct region_vec out = {0};
	struct region r = mk(0x100000, 8 * PAGE, 1);

	ck_assert_int_eq(ledger_insert(l, &r), 0);
	/* the first push into an empty vector allocates: make it fail */
	fault_inject_arm(1, false);
	ck_assert_uint_eq(ledger_take(l, 0x100000 + 2 * PAGE, PAGE, &out), PAGE);
	fault_inject_arm(0, false);
	ck_assert_uint_eq(out.n, 0); /* the removed piece could not be kept */
	ck_assert_int_eq(ledger_error(l), -ENOMEM);
	r = mk(0x200000, PAGE, 2);
	ck_assert_int_eq(ledger_insert(l, &r), 0);
	ck_assert_int_eq(ledger_error(l), -ENOMEM); /* sticky */
	copy = ledger_copy(l);
	ck_assert_ptr_nonnull(copy);
	ck_assert_int_eq(ledger_error(copy), -ENOMEM);
	ledger_free(copy);
	ledger_free(l);
	region_vec_free(&out);
}
END_TEST

static Suite *ledger_oom_suite(void)
{
	Suite *s = suite_create("ledger_oom");
	TCase *tc = tcase_create("ledger_oom");

	tcase_add_test(tc, test_every_allocation_failure_is_reported);
	tcase_add_test(tc, test_error_is_sticky_and_copied);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(ledger_oom_suite());
}
