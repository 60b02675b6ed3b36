/* tests/check_history.c - unit tests of report/history.c: a series stays bounded
 * however long the trace, keeps its first and last points and the points with
 * resident figures, tracks the largest sites and sums the others, and the trend
 * classification of synthetic series. */
#include <check.h>
#include <stdlib.h>

#include "report/history.h"
#include "tests/check_run.h"

static struct history_key key(uint32_t site)
{
	return (struct history_key){.site = site, .flags = 0x22, .op = 1, .kind = 0, .prot = 3};
}

static struct history_sample sample(uint32_t site, uint64_t bytes)
{
	return (struct history_sample){
		.key = key(site), .bytes = bytes, .resident = HISTORY_NO_FIGURE};
}

START_TEST(test_long_trace_stays_bounded)
{
	struct history *h = history_new();
	struct history_key k = key(1);
	const struct history_series *s;
	size_t mem_after_first_hour = 0;

	ck_assert_ptr_nonnull(h);
	/* 10 hours of 100 ms ticks (optional samples), a forced one every 10 s,
	 * and one with a resident figure every 10 minutes */
	for (uint32_t t = 100; t <= 10 * 3600 * 1000; t += 100) {
		struct history_sample x = sample(1, (uint64_t)t * 4);
		bool forced = t % 10000 == 0;

		if (t % 600000 == 0)
			x.resident = t;
		ck_assert_int_eq(history_record(h, t, &x, 1, forced), 0);
		s = history_find(h, &k);
		ck_assert_ptr_nonnull(s);
		ck_assert_uint_le(s->n, HISTORY_MAX_POINTS);
		if (t == 3600 * 1000)
			mem_after_first_hour = history_memory(h);
	}
	s = history_find(h, &k);
	ck_assert_uint_gt(s->n, HISTORY_MAX_POINTS / 2);
	/* the first and the last point survive every compaction */
	ck_assert_uint_eq(s->pts[0].t_ms, 100);
	ck_assert_uint_eq(s->pts[s->n - 1].t_ms, 10 * 3600 * 1000);
	ck_assert_uint_eq(s->pts[s->n - 1].bytes, 10ULL * 3600 * 1000 * 4);
	/* time order, and points spread over the whole trace */
	for (size_t i = 1; i < s->n; i++)
		ck_assert_uint_gt(s->pts[i].t_ms, s->pts[i - 1].t_ms);
	ck_assert_uint_lt(s->pts[s->n / 2].t_ms, 8 * 3600 * 1000);
	ck_assert_uint_gt(s->pts[s->n / 2].t_ms, 2 * 3600 * 1000);
	/* resident figures are preferred when pairs merge */
	size_t with_res = 0;
	for (size_t i = 0; i < s->n; i++)
		with_res += s->pts[i].resident != HISTORY_NO_FIGURE;
	ck_assert_uint_ge(with_res, 30);
	ck_assert_uint_eq(history_memory(h), mem_after_first_hour);
	ck_assert_uint_lt(history_memory(h), 8192);
	history_free(h);
}
END_TEST

START_TEST(test_optional_samples_thin_out_forced_ones_do_not)
{
	struct history *h = history_new();
	struct history_key k = key(7);
	struct history_sample x = sample(7, 4096);
	const struct history_series *s;

	for (uint32_t t = 0; t < 1000; t += 100)
		history_record(h, t, &x, 1, false);
	s = history_find(h, &k);
	/* first sample starts the series; then one every HISTORY_MIN_STRIDE */
	ck_assert_uint_eq(s->n, 4); /* 0, 300, 600, 900 with a 250 ms stride */
	history_record(h, 950, &x, 1, true);
	history_record(h, 960, &x, 1, true);
	ck_assert_uint_eq(s->n, 6);
	history_free(h);
}
END_TEST

START_TEST(test_top_sites_tracked_rest_summed)
{
	struct history *h = history_new();
	struct history_sample *v = calloc(HISTORY_MAX_SITES + 10, sizeof(*v));
	struct history_key k;
	const struct history_series *o;

	/* sites 1..74 with bytes = site id * 4096: the 10 smallest go to "other" */
	for (uint32_t i = 0; i < HISTORY_MAX_SITES + 10; i++)
		v[i] = sample(i + 1, (uint64_t)(i + 1) * 4096);
	ck_assert_int_eq(history_record(h, 100, v, HISTORY_MAX_SITES + 10, true), 0);
	ck_assert_uint_eq(history_nseries(h), HISTORY_MAX_SITES);
	k = key(HISTORY_MAX_SITES + 10);
	ck_assert_ptr_nonnull(history_find(h, &k));
	k = key(10);
	ck_assert_ptr_null(history_find(h, &k));
	k = key(11);
	ck_assert_ptr_nonnull(history_find(h, &k));
	o = history_other(h);
	ck_assert_uint_eq(o->n, 1);
	ck_assert_uint_eq(o->pts[0].bytes, 55 * 4096); /* 1 + ... + 10 */
	/* site 1 overtakes the smallest tracked one (site 11) and takes its place;
	 * a tracked site absent from a sample is at 0 */
	v[0].bytes = 1 << 30;
	ck_assert_int_eq(history_record(h, 200, v, 10, true), 0);
	k = key(1);
	ck_assert_ptr_nonnull(history_find(h, &k));
	ck_assert_uint_eq(history_find(h, &k)->pts[0].bytes, 1 << 30);
	k = key(12);
	ck_assert_uint_eq(history_find(h, &k)->n, 2);
	ck_assert_uint_eq(history_find(h, &k)->pts[1].bytes, 0);
	ck_assert_uint_eq(history_nseries(h), HISTORY_MAX_SITES);
	free(v);
	history_free(h);
}
END_TEST

/* A series from (t_ms, bytes) pairs. */
static struct history_series series(const uint32_t *t, const uint64_t *b, size_t n)
{
	struct history_series s = {.key = {.site = 1}, .stride_ms = HISTORY_MIN_STRIDE};

	for (size_t i = 0; i < n; i++)
		s.pts[s.n++] = (struct history_point){t[i], b[i], HISTORY_NO_FIGURE};
	return s;
}

START_TEST(test_trend_steady_growth)
{
	/* 40 KiB every 11 s for a minute, last growth at the last point */
	uint32_t t[7];
	uint64_t b[7];
	struct history_series s;
	struct trend tr;

	for (int i = 0; i < 7; i++) {
		t[i] = 1000 + i * 11000;
		b[i] = (uint64_t)(i + 1) * 40960;
	}
	s = series(t, b, 7);
	history_trend(&s, &tr);
	ck_assert_int_eq(tr.kind, TREND_GROWING);
	ck_assert_uint_eq(tr.step_bytes, 40960);
	ck_assert_double_eq_tol(tr.step_s, 11.0, 1e-9);
	ck_assert_double_eq_tol(tr.rate_bps, 40960 / 11.0, 1e-6);
	ck_assert_str_eq(trend_name(tr.kind), "growing");
}
END_TEST

START_TEST(test_trend_growing_with_flat_points_between)
{
	/* sampled every 0.25 s, a leak every 2 s: flat runs between growths are
	 * not a plateau while the last flat run is no longer than the gaps */
	uint32_t t[40];
	uint64_t b[40];
	struct history_series s;
	struct trend tr;

	for (int i = 0; i < 40; i++) {
		t[i] = i * 250;
		b[i] = (uint64_t)(i / 8 + 1) * 4096;
	}
	s = series(t, b, 40);
	history_trend(&s, &tr);
	ck_assert_int_eq(tr.kind, TREND_GROWING);
	ck_assert_double_eq_tol(tr.step_s, 2.0, 1e-9);
	ck_assert_uint_eq(tr.step_bytes, 4096);
}
END_TEST

START_TEST(test_trend_plateau)
{
	/* grows for 2 s (every 0.2 s), then flat for 3 s */
	uint32_t t[26];
	uint64_t b[26];
	struct history_series s;
	struct trend tr;

	for (int i = 0; i < 26; i++) {
		t[i] = i * 200;
		b[i] = (uint64_t)(i <= 10 ? i : 10) * 104858;
	}
	s = series(t, b, 26);
	history_trend(&s, &tr);
	ck_assert_int_eq(tr.kind, TREND_PLATEAU);
	ck_assert_uint_eq(tr.peak_bytes, 10 * 104858);
	ck_assert_double_eq_tol(tr.peak_s, 2.0, 1e-9);
	ck_assert_double_eq_tol(tr.end_s, 5.0, 1e-9);
}
END_TEST

START_TEST(test_trend_flat_shrinking_unknown)
{
	uint32_t t[] = {0, 250, 500, 750};
	uint64_t flat[] = {8192, 8192, 8192, 8192};
	uint64_t down[] = {8192, 65536, 16384, 8192};
	uint64_t gone[] = {8192, 4096, 0, 0};
	struct history_series s;
	struct trend tr;

	s = series(t, flat, 4);
	history_trend(&s, &tr);
	ck_assert_int_eq(tr.kind, TREND_FLAT);
	s = series(t, down, 4);
	history_trend(&s, &tr);
	ck_assert_int_eq(tr.kind, TREND_SHRINKING);
	ck_assert_uint_eq(tr.peak_bytes, 65536);
	s = series(t, gone, 4);
	history_trend(&s, &tr);
	ck_assert_int_eq(tr.kind, TREND_SHRINKING);
	s = series(t, flat, 2);
	history_trend(&s, &tr);
	ck_assert_int_eq(tr.kind, TREND_UNKNOWN);
	ck_assert_ptr_null(trend_name(tr.kind));
	history_trend(NULL, &tr);
	ck_assert_int_eq(tr.kind, TREND_UNKNOWN);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("history");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_long_trace_stays_bounded);
	tcase_add_test(tc, test_optional_samples_thin_out_forced_ones_do_not);
	tcase_add_test(tc, test_top_sites_tracked_rest_summed);
	tcase_add_test(tc, test_trend_steady_growth);
	tcase_add_test(tc, test_trend_growing_with_flat_points_between);
	tcase_add_test(tc, test_trend_plateau);
	tcase_add_test(tc, test_trend_flat_shrinking_unknown);
	suite_add_tcase(s, tc);
	return check_run(s);
}
