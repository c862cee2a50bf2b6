/* lib/libcdcommon: the JSON parse and typed reads, the name checks and the clocks. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "check_common.h"
#include "lib/fsm.h"
#include "lib/jsonget.h"
#include "lib/util.h"

/* An absent member and a malformed one are told apart: -ENOENT, -EINVAL. */
START_TEST(test_jget_codes)
{
	struct json_object *o = json_tokener_parse(
		"{\"n\": 7, \"neg\": -1, \"s\": \"x\", \"b\": true, \"d\": 1.5}");
	uint64_t u = 99;
	bool b = false;

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(cd_jget_u64(o, "n", &u), 0);
	ck_assert_uint_eq(u, 7);
	ck_assert_int_eq(cd_jget_u64(o, "missing", &u), -ENOENT);
	ck_assert_int_eq(cd_jget_u64(NULL, "n", &u), -ENOENT);
	ck_assert_int_eq(cd_jget_u64(o, "neg", &u), -EINVAL);
	ck_assert_int_eq(cd_jget_u64(o, "s", &u), -EINVAL);
	ck_assert_int_eq(cd_jget_u64(o, "d", &u), -EINVAL);
	ck_assert_uint_eq(u, 7);

	ck_assert_int_eq(cd_jget_bool(o, "b", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(cd_jget_bool(o, "missing", &b), -ENOENT);
	ck_assert_int_eq(cd_jget_bool(o, "n", &b), -EINVAL);
	ck_assert(cd_jget_bool_or(o, "missing", true));
	ck_assert(!cd_jget_bool_or(o, "n", false));

	ck_assert_str_eq(cd_jget_str(o, "s"), "x");
	ck_assert_ptr_null(cd_jget_str(o, "n"));
	json_object_put(o);
}
END_TEST

/* An object is parsed from its bytes; anything else, or part of one, is refused. */
START_TEST(test_json_parse_object)
{
	const char text[] = "{\"a\":[1,2]}{";
	struct json_object *o;

	ck_assert_int_eq(cd_json_parse_object(text, strlen(text) - 1, &o), 0);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_array_length(json_object_object_get(o, "a")), 2);
	json_object_put(o);
	ck_assert_int_eq(cd_json_parse_object(text, 5, &o), -EINVAL);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(cd_json_parse_object("[1]", 3, &o), -EINVAL);
	ck_assert_ptr_null(o);
	ck_assert_int_eq(cd_json_parse_object("nope", 4, &o), -EINVAL);
	ck_assert_int_eq(cd_json_parse_object("", 0, &o), -EINVAL);
	ck_assert_ptr_null(o);
}
END_TEST

/* A guard for test_fsm_walk: the row's tag is not *ctx. */
static bool guard_not_tag(const void *row, const void *ctx)
{
	const struct {
		struct cd_fsm_row r;
		int tag;
	} *r = row;

	return r->tag != *(const int *)ctx;
}

START_TEST(test_valid_names)
{
	ck_assert(cd_valid_name("vm-1.a_b", 16));
	ck_assert(!cd_valid_name("", 16));
	ck_assert(!cd_valid_name(NULL, 16));
	ck_assert(!cd_valid_name("a b", 16));
	ck_assert(!cd_valid_name("abcd", 3));
	ck_assert(cd_valid_path_name("vol1", 16));
	ck_assert(!cd_valid_path_name("..", 16));
	ck_assert(cd_valid_abs_path("/dev/sdb", 64));
	ck_assert(!cd_valid_abs_path("/dev/../etc", 64));
	ck_assert(!cd_valid_abs_path("dev/sdb", 64));
	ck_assert(cd_valid_text("", 4));
	ck_assert(!cd_valid_text("a\nb", 16));
}
END_TEST

START_TEST(test_fsm_walk)
{
	struct row {
		struct cd_fsm_row r;
		int tag;
	};
	static const struct row rows[] = {
		{{0, 1, 2}, 10},
		{{0, 1, CD_FSM_KEEP}, 11},
		{{2, 0, CD_FSM_REFUSE}, 12},
	};
	static const char *const names[] = {"a", NULL, "c"};
	const struct row *r;
	int skip = 10;

	r = cd_fsm_find(rows, 3, sizeof(rows[0]), 0, 1, NULL, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->tag, 10);
	/* A guard that turns down the first row finds the next one. */
	r = cd_fsm_find(rows, 3, sizeof(rows[0]), 0, 1, guard_not_tag, &skip);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->tag, 11);
	ck_assert_int_eq(r->r.to, CD_FSM_KEEP);
	ck_assert_ptr_null(cd_fsm_find(rows, 3, sizeof(rows[0]), 1, 1, NULL, NULL));
	ck_assert_ptr_null(cd_fsm_find(rows, 0, sizeof(rows[0]), 0, 1, NULL, NULL));
	ck_assert_str_eq(cd_fsm_name(names, 3, 0), "a");
	ck_assert_str_eq(cd_fsm_name(names, 3, 1), "unknown");
	ck_assert_str_eq(cd_fsm_name(names, 3, 3), "unknown");
	ck_assert_str_eq(cd_fsm_name(names, 3, -1), "unknown");
	ck_assert_int_eq(cd_fsm_index(names, 3, "c"), 2);
	ck_assert_int_eq(cd_fsm_index(names, 3, "b"), -1);
	ck_assert_int_eq(cd_fsm_index(names, 3, NULL), -1);
}
END_TEST

/* cd_now_us() runs on the clock of cd_now_ms(), never backwards, and counts a sleep. */
START_TEST(test_now_us)
{
	struct timespec two_ms = {0, 2000000};
	uint64_t ms0 = cd_now_ms(), us = cd_now_us(), ms1 = cd_now_ms(), prev = us;
	int i;

	ck_assert_uint_ge(us / 1000, ms0);
	ck_assert_uint_le(us / 1000, ms1);
	for (i = 0; i < 1000; i++) {
		uint64_t t = cd_now_us();

		ck_assert_uint_ge(t, prev);
		prev = t;
	}
	nanosleep(&two_ms, NULL);
	ck_assert_uint_ge(cd_now_us() - us, 2000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("libcommon");

	add_tcase(s, test_jget_codes);
	add_tcase(s, test_json_parse_object);
	add_tcase(s, test_valid_names);
	add_tcase(s, test_fsm_walk);
	add_tcase(s, test_now_us);
	return run_suite(s);
}
