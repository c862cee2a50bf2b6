/*
 * The metrics' histograms (lib/histogram.h): which bucket a value falls
 * in at the bounds, +Inf, the cumulative counts, sum and count, the JSON
 * clusterd answers with, and the bound sets the metrics use.
 */
#include "config.h"

#include <stdint.h>

#include "check_common.h"
#include "lib/histogram.h"
#include "lib/jsonget.h"

static const uint64_t small_v[] = {10, 20, 50};
static const struct cd_hist_bounds small = {small_v, 3};

static uint64_t u(const struct json_object *o, const char *key)
{
	uint64_t v = 0;

	ck_assert_msg(cd_jget_u64(o, key, &v) == 0, "no %s", key);
	return v;
}

START_TEST(test_empty)
{
	struct cd_hist h;
	struct json_object *o, *b;
	size_t i;

	cd_hist_init(&h, &small);
	for (i = 0; i <= small.n + 1; i++)
		ck_assert_uint_eq(cd_hist_le(&h, i), 0);
	o = cd_hist_to_json(&h);
	ck_assert_uint_eq(u(o, "sum"), 0);
	ck_assert_uint_eq(u(o, "count"), 0);
	ck_assert(json_object_object_get_ex(o, "buckets", &b));
	ck_assert_uint_eq(json_object_array_length(b), 3);
	for (i = 0; i < 3; i++) {
		ck_assert_uint_eq(u(json_object_array_get_idx(b, i), "le"), small_v[i]);
		ck_assert_uint_eq(u(json_object_array_get_idx(b, i), "count"), 0);
	}
	json_object_put(o);
}
END_TEST

/* A value on a bound is "le" it; one above it goes to the next; above all, +Inf. */
START_TEST(test_edges)
{
	static const struct {
		uint64_t v;
		size_t bucket; /* 3: +Inf */
	} cases[] = {{0, 0},
		     {1, 0},
		     {10, 0},
		     {11, 1},
		     {19, 1},
		     {20, 1},
		     {21, 2},
		     {50, 2},
		     {51, 3},
		     {1000, 3},
		     {UINT64_MAX - 1, 3}};
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cd_hist h;

		cd_hist_init(&h, &small);
		cd_hist_observe(&h, cases[i].v);
		ck_assert_uint_eq(h.count, 1);
		ck_assert_uint_eq(h.sum, cases[i].v);
		for (k = 0; k <= small.n; k++)
			ck_assert_msg(h.bucket[k] == (k == cases[i].bucket),
				      "%llu: bucket %zu holds %llu", (unsigned long long)cases[i].v,
				      k, (unsigned long long)h.bucket[k]);
		/* Cumulative: 0 below its bucket, 1 from it on, +Inf included. */
		for (k = 0; k <= small.n; k++)
			ck_assert_uint_eq(cd_hist_le(&h, k), k >= cases[i].bucket);
	}
}
END_TEST

START_TEST(test_sum_count)
{
	static const uint64_t vals[] = {0, 10, 11, 20, 50, 51, 70};
	struct cd_hist h;
	struct json_object *o, *b;
	size_t i;

	cd_hist_init(&h, &small);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++)
		cd_hist_observe(&h, vals[i]);
	ck_assert_uint_eq(h.count, 7);
	ck_assert_uint_eq(h.sum, 212);
	ck_assert_uint_eq(cd_hist_le(&h, 0), 2);
	ck_assert_uint_eq(cd_hist_le(&h, 1), 4);
	ck_assert_uint_eq(cd_hist_le(&h, 2), 5);
	ck_assert_uint_eq(cd_hist_le(&h, 3), 7);
	ck_assert_uint_eq(cd_hist_le(&h, 99), 7);
	o = cd_hist_to_json(&h);
	ck_assert_uint_eq(u(o, "sum"), 212);
	ck_assert_uint_eq(u(o, "count"), 7);
	ck_assert(json_object_object_get_ex(o, "buckets", &b));
	ck_assert_uint_eq(json_object_array_length(b), 3);
	ck_assert_uint_eq(u(json_object_array_get_idx(b, 0), "count"), 2);
	ck_assert_uint_eq(u(json_object_array_get_idx(b, 1), "count"), 4);
	ck_assert_uint_eq(u(json_object_array_get_idx(b, 2), "le"), 50);
	ck_assert_uint_eq(u(json_object_array_get_idx(b, 2), "count"), 5);
	json_object_put(o);
}
END_TEST

/* The sum saturates rather than wrap; the JSON says at most INT64_MAX. */
START_TEST(test_sum_saturates)
{
	struct cd_hist h;
	struct json_object *o;

	cd_hist_init(&h, &small);
	cd_hist_observe(&h, UINT64_MAX - 5);
	cd_hist_observe(&h, 10);
	ck_assert_uint_eq(h.sum, UINT64_MAX);
	ck_assert_uint_eq(h.count, 2);
	ck_assert_uint_eq(cd_hist_le(&h, 0), 1);
	o = cd_hist_to_json(&h);
	ck_assert_uint_eq(u(o, "sum"), INT64_MAX);
	json_object_put(o);
}
END_TEST

/* The sets the metrics use: ascending, within the array, of the scale they claim. */
START_TEST(test_bound_sets)
{
	const struct {
		const struct cd_hist_bounds *b;
		uint64_t first, last;
	} sets[] = {
		{&cd_hist_renew_us, 250, 2500000},
		{&cd_hist_move_ms, 500, 600000},
		{&cd_hist_downtime_ms, 10, 60000},
		{&cd_hist_fence_ms, 500, 300000},
	};
	size_t i, k;

	for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		const struct cd_hist_bounds *b = sets[i].b;

		ck_assert_uint_ge(b->n, 1);
		ck_assert_uint_le(b->n, CD_HIST_MAX_BOUNDS);
		ck_assert_uint_eq(b->v[0], sets[i].first);
		ck_assert_uint_eq(b->v[b->n - 1], sets[i].last);
		for (k = 1; k < b->n; k++)
			ck_assert_uint_gt(b->v[k], b->v[k - 1]);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("histogram");

	add_tcase(s, test_empty);
	add_tcase(s, test_edges);
	add_tcase(s, test_sum_count);
	add_tcase(s, test_sum_saturates);
	add_tcase(s, test_bound_sets);
	return run_suite(s);
}
