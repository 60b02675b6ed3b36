/* tests/check_stacks.c - interned stacks (report/stacks.h): equal PC arrays get
 * one id, different ones (also prefixes) get different ids, frames keep their
 * module and offset, and many stacks survive table growth. */
#include <check.h>
#include <stdlib.h>

#include "report/stacks.h"
#include "tests/check_run.h"

START_TEST(test_intern_same_and_different)
{
	struct stack_table *t = stacks_new();
	uint64_t a[] = {0x1000, 0x2000, 0x3000};
	uint64_t b[] = {0x1000, 0x2000, 0x3001};
	const struct stack_frame *f;
	bool is_new;
	uint32_t ia, ib, ic, ip;

	ck_assert_ptr_nonnull(t);
	ia = stacks_intern(t, a, 3, &is_new);
	ck_assert_uint_ge(ia, 1);
	ck_assert(is_new);
	ib = stacks_intern(t, b, 3, &is_new);
	ck_assert(is_new);
	ck_assert_uint_ne(ia, ib);
	ic = stacks_intern(t, a, 3, &is_new);
	ck_assert(!is_new);
	ck_assert_uint_eq(ic, ia);
	ip = stacks_intern(t, a, 2, &is_new); /* a prefix is another stack */
	ck_assert(is_new);
	ck_assert_uint_ne(ip, ia);
	ck_assert_uint_eq(stacks_count(t), 3);
	ck_assert_uint_eq(stacks_get(t, ib, &f), 3);
	ck_assert_uint_eq(f[2].pc, 0x3001);
	ck_assert_uint_eq(f[0].module, 0);
	ck_assert_uint_eq(stacks_intern(t, a, 0, &is_new), 0);
	ck_assert(!is_new);
	ck_assert_uint_eq(stacks_get(t, 0, &f), 0);
	ck_assert_uint_eq(stacks_get(t, 99, &f), 0);
	stacks_free(t);
}
END_TEST

START_TEST(test_set_module)
{
	struct stack_table *t = stacks_new();
	uint64_t a[] = {0x7f0000001234, 0x555500001000};
	const struct stack_frame *f;
	uint32_t id = stacks_intern(t, a, 2, NULL);

	stacks_set_module(t, id, 1, 7, 0x1000, 0);
	stacks_set_module(t, id, 5, 9, 0x1, 0); /* out of range: ignored */
	stacks_set_module(t, id + 1, 0, 9, 0x1, 0);
	ck_assert_uint_eq(stacks_get(t, id, &f), 2);
	ck_assert_uint_eq(f[0].module, 0);
	ck_assert_uint_eq(f[1].module, 7);
	ck_assert_uint_eq(f[1].offset, 0x1000);
	ck_assert_uint_eq(f[1].pc, 0x555500001000);
	stacks_free(t);
}
END_TEST

/* Many stacks: ids stay dense and every stack comes back intact after growth. */
/* Two processes (or runs) with different load addresses, same code. */
static uint32_t described(struct stack_table *t, uint64_t bias_lib, uint64_t bias_prog,
			  uint64_t prog_off, uint32_t prog_build_id)
{
	uint64_t pcs[] = {bias_lib + 0x1019b3, bias_prog + prog_off, 0x1234};
	uint32_t id = stacks_intern(t, pcs, 3, NULL);

	stacks_set_module(t, id, 0, 1, 0x1019b3, 100); /* libc, with a build-id */
	stacks_set_module(t, id, 1, 2, prog_off, prog_build_id);
	return id; /* frame 2: no module, identified by its PC */
}

START_TEST(test_canonical_ignores_load_addresses)
{
	struct stack_table *t = stacks_new();
	uint32_t a = described(t, 0x7f0000000000, 0x555500000000, 0x1150, 0);
	uint32_t b = described(t, 0x7f1100000000, 0x563300000000, 0x1150, 0);
	uint32_t other_line = described(t, 0x7f2200000000, 0x564400000000, 0x1160, 0);
	uint32_t rebuilt = described(t, 0x7f3300000000, 0x565500000000, 0x1150, 200);

	ck_assert_uint_ne(a, b);
	ck_assert_uint_eq(stacks_canonical(t, b), stacks_canonical(t, a));
	ck_assert_uint_ne(stacks_canonical(t, other_line), stacks_canonical(t, a));
	/* a build-id names the module apart from its path */
	ck_assert_uint_ne(stacks_canonical(t, rebuilt), stacks_canonical(t, a));
	ck_assert_uint_eq(stacks_canonical(t, a), stacks_canonical(t, a)); /* kept */
	ck_assert_uint_eq(stacks_canonical(t, 0), 0);
	stacks_free(t);
}
END_TEST

START_TEST(test_canonical_many)
{
	struct stack_table *t = stacks_new();
	uint32_t first[500];

	for (unsigned run = 0; run < 2; run++)
		for (unsigned i = 0; i < 500; i++) {
			uint32_t id = described(t, 0x7f0000000000 + run * 0x100000000ULL,
						0x555500000000 + run * 0x1000000ULL, 0x1000 + i, 0);
			if (!run)
				first[i] = stacks_canonical(t, id);
			else
				ck_assert_uint_eq(stacks_canonical(t, id), first[i]);
		}
	ck_assert_uint_eq(stacks_count(t), 1000);
	stacks_free(t);
}
END_TEST

START_TEST(test_many)
{
	struct stack_table *t = stacks_new();
	enum { N = 50000 };
	uint32_t *ids = malloc(N * sizeof(*ids));

	for (unsigned i = 0; i < N; i++) {
		uint64_t pcs[4] = {i, i * 7u, 0x400000 + i % 13, i ^ 0x5555};

		ids[i] = stacks_intern(t, pcs, 1 + i % 4, NULL);
		ck_assert_uint_eq(ids[i], i + 1);
	}
	ck_assert_uint_eq(stacks_count(t), N);
	for (unsigned i = 0; i < N; i++) {
		uint64_t pcs[4] = {i, i * 7u, 0x400000 + i % 13, i ^ 0x5555};
		const struct stack_frame *f;
		bool is_new;

		ck_assert_uint_eq(stacks_intern(t, pcs, 1 + i % 4, &is_new), ids[i]);
		ck_assert(!is_new);
		ck_assert_uint_eq(stacks_get(t, ids[i], &f), 1 + i % 4);
		for (unsigned k = 0; k < 1 + i % 4; k++)
			ck_assert_uint_eq(f[k].pc, pcs[k]);
	}
	free(ids);
	stacks_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stacks");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_intern_same_and_different);
	tcase_add_test(tc, test_set_module);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_canonical_ignores_load_addresses);
	tcase_add_test(tc, test_canonical_many);
	suite_add_tcase(s, tc);
	return check_run(s);
}
