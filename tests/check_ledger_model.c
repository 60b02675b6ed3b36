/* tests/check_ledger_model.c - the ledger against the page-array model of
 * tests/ledger_model.h: seeded random operation sequences over small windows (so
 * overlaps are frequent), compared page for page and site for site after every
 * operation. 200 seeds x 5,000 operations = 1,000,000 operations. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests/ledger_model.h"
#include "tests/check_run.h"

#define SEEDS	      200
#define OPS_PER_SEED  5000
#define SEEDS_PER_RUN 20 /* one Check loop iteration runs this many seeds */

/* splitmix64: small, seedable, reproducible. */
static uint32_t next_random(void *ctx)
{
	uint64_t *state = ctx, z;

	z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)((z ^ (z >> 31)) >> 16);
}

static void run_seed(uint64_t seed)
{
	uint64_t state = seed * 0x2545f4914f6cdd1dULL + 1;
	struct lm_source src = {.next = next_random, .ctx = &state};
	struct lm_harness *h = malloc(sizeof(*h));

	ck_assert_ptr_nonnull(h);
	ck_assert_msg(lm_init(h, &src) == 0, "seed %lu: %s", seed, h->err);
	for (unsigned op = 0; op < OPS_PER_SEED; op++)
		ck_assert_msg(lm_step(h, &src, true) == 0,
			      "seed %lu op %u (leaf %u inode %u, %u pages%s): %s", seed, op,
			      h->leaf_max, h->inode_max, h->npages, h->top ? ", top window" : "",
			      h->err);
	lm_fini(h);
	free(h);
}

START_TEST(test_model_seeds)
{
	for (unsigned i = 0; i < SEEDS_PER_RUN; i++)
		run_seed((uint64_t)_i * SEEDS_PER_RUN + i);
}
END_TEST

/* The default node sizes with a wider spread of regions: many leaves of 102. */
START_TEST(test_model_default_nodes)
{
	uint64_t state = 4242;
	struct lm_source src = {.next = next_random, .ctx = &state};
	struct lm_harness *h = malloc(sizeof(*h));

	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(lm_init(h, &src), 0);
	ledger_free(h->slot[0].l);
	ledger_free(h->slot[1].l);
	h->slot[0].l = ledger_new();
	h->slot[1].l = ledger_new();
	for (unsigned op = 0; op < 20000; op++)
		ck_assert_msg(lm_step(h, &src, op % 4 == 0) == 0, "op %u: %s", op, h->err);
	ck_assert_msg(lm_compare(h, 0, 1) == 0 && lm_compare(h, 1, 2) == 0, "%s", h->err);
	lm_fini(h);
	free(h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ledger_model");
	TCase *tc = tcase_create("model");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_model_seeds, 0, SEEDS / SEEDS_PER_RUN);
	tcase_add_test(tc, test_model_default_nodes);
	suite_add_tcase(s, tc);
	return check_run(s);
}
