/* The verdict of a divergence check (core/statecheck.h) and its message. */
#include "config.h"

#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/statecheck.h"

#define A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static struct cd_check_sum sum(uint32_t node, uint64_t seq, const char *cs)
{
	struct cd_check_sum s = {.node = node, .version = {.epoch = 4, .seq = seq}};

	strcpy(s.checksum, cs);
	return s;
}

START_TEST(test_verdict)
{
	struct cd_check_sum s[5];

	/* All agree. */
	s[0] = sum(1, 9, A), s[1] = sum(2, 9, A), s[2] = sum(3, 9, A);
	ck_assert(cd_check_sum_same(&s[cd_statecheck_verdict(s, 3)], &s[0]));
	/* One differs: the two hold the verdict, whichever node it is. */
	s[0] = sum(1, 9, B);
	ck_assert(cd_check_sum_same(&s[cd_statecheck_verdict(s, 3)], &s[1]));
	s[0] = sum(1, 9, A), s[2] = sum(3, 9, B);
	ck_assert(cd_check_sum_same(&s[cd_statecheck_verdict(s, 3)], &s[0]));
	/* The same checksum at another version is another state. */
	s[2] = sum(3, 10, A);
	ck_assert(!cd_check_sum_same(&s[2], &s[0]));
	ck_assert(cd_check_sum_same(&s[cd_statecheck_verdict(s, 3)], &s[0]));
	/* A tie: the lowest node id's side, in any order. */
	s[0] = sum(2, 9, A), s[1] = sum(1, 9, B);
	ck_assert_uint_eq(s[cd_statecheck_verdict(s, 2)].node, 1);
	s[0] = sum(3, 9, A), s[1] = sum(5, 9, A), s[2] = sum(4, 9, B), s[3] = sum(2, 9, B);
	ck_assert_str_eq(s[cd_statecheck_verdict(s, 4)].checksum, B);
	/* Three sides: the largest wins. */
	s[0] = sum(1, 9, A), s[1] = sum(2, 9, B), s[2] = sum(3, 9, C), s[3] = sum(4, 9, C),
	s[4] = sum(5, 9, B);
	ck_assert_str_eq(s[cd_statecheck_verdict(s, 5)].checksum, B);
	/* One member. */
	ck_assert_uint_eq(cd_statecheck_verdict(s, 1), 0);
}
END_TEST

START_TEST(test_message)
{
	struct cd_check_sum in = sum(3, 12, A), out;
	struct json_object *o = cd_check_sum_to_json(77, &in), *bad;
	uint64_t check = 0;

	ck_assert_int_eq(cd_check_sum_from_json(o, 3, &check, &out), 0);
	ck_assert_uint_eq(check, 77);
	ck_assert(cd_check_sum_same(&in, &out));
	ck_assert_uint_eq(out.node, 3);
	json_object_put(o);
	bad = json_tokener_parse("{\"check\":77,\"version\":{\"epoch\":4,\"seq\":12},"
				 "\"checksum\":\"xyz\"}");
	ck_assert_int_eq(cd_check_sum_from_json(bad, 3, &check, &out), CD_ERR_PROTOCOL);
	json_object_put(bad);
	bad = json_tokener_parse("{\"check\":0,\"version\":{\"epoch\":4,\"seq\":12},"
				 "\"checksum\":\"" A "\"}");
	ck_assert_int_eq(cd_check_sum_from_json(bad, 3, &check, &out), CD_ERR_PROTOCOL);
	json_object_put(bad);
	bad = json_tokener_parse("{\"check\":5,\"checksum\":\"" A "\"}");
	ck_assert_int_eq(cd_check_sum_from_json(bad, 3, &check, &out), CD_ERR_PROTOCOL);
	json_object_put(bad);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("statecheck");

	add_tcase(s, test_verdict);
	add_tcase(s, test_message);
	return run_suite(s);
}
