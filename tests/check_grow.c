/* tests/check_grow.c - grow_array (decoder/grow.h): the first allocation takes
 * min_cap, growth doubles until need fits, need <= cap changes nothing, and a
 * size that would overflow fails leaving the array and its capacity as they were. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decoder/grow.h"
#include "tests/check_run.h"

START_TEST(test_first_and_doubling)
{
	size_t cap = 0;
	int *v = grow_array(NULL, &cap, 1, sizeof(*v), 16);

	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(cap, 16);
	for (int i = 0; i < 16; i++)
		v[i] = i;
	v = grow_array(v, &cap, 17, sizeof(*v), 16);
	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(cap, 32);
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(v[i], i); /* kept */
	v = grow_array(v, &cap, 200, sizeof(*v), 16);
	ck_assert_uint_eq(cap, 256);
	free(v);
}
END_TEST

START_TEST(test_enough_room_is_a_no_op)
{
	size_t cap = 8;
	char *v = malloc(8);
	char *same = grow_array(v, &cap, 8, 1, 4);

	ck_assert_ptr_eq(same, v);
	ck_assert_uint_eq(cap, 8);
	free(v);
}
END_TEST

START_TEST(test_overflow_fails_and_keeps_the_array)
{
	size_t cap = 4;
	uint64_t *v = calloc(4, sizeof(*v));

	v[3] = 42;
	ck_assert_ptr_null(grow_array(v, &cap, SIZE_MAX / 4, sizeof(*v), 4));
	ck_assert_uint_eq(cap, 4);
	ck_assert_ptr_null(grow_array(v, &cap, SIZE_MAX, sizeof(*v), 4));
	ck_assert_uint_eq(cap, 4);
	ck_assert_uint_eq(v[3], 42); /* still the caller's */
	free(v);
}
END_TEST

START_TEST(test_min_cap_zero)
{
	size_t cap = 0;
	char *v = grow_array(NULL, &cap, 3, 1, 0);

	ck_assert_ptr_nonnull(v);
	ck_assert_uint_eq(cap, 4);
	free(v);
}
END_TEST

static Suite *grow_suite(void)
{
	Suite *s = suite_create("grow");
	TCase *tc = tcase_create("grow");

	tcase_add_test(tc, test_first_and_doubling);
	tcase_add_test(tc, test_enough_room_is_a_no_op);
	tcase_add_test(tc, test_overflow_fails_and_keeps_the_array);
	tcase_add_test(tc, test_min_cap_zero);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(grow_suite());
}
