/* How a live move is settled from both ends' real state (core/move_settle.h): every case. */
#include "config.h"

#include <string.h>

#include "check_common.h"
#include "core/move_settle.h"

#define G CD_END_GONE
#define R CD_END_RUNS
#define P CD_END_PAUSED
#define U CD_END_UNKNOWN

/* clang-format off */
static const struct {
	bool orphan;
	enum cd_settle_end here, there;
	int looks;
	enum cd_settle_do want;
} cases[] = {
	/* The source settles: it runs where a domain runs unpaused. */
	{false, R, G, 0, CD_SETTLE_STAYED},
	{false, R, P, 0, CD_SETTLE_STAYED},	      /* libvirt kills the paused incoming one */
	{false, R, U, 0, CD_SETTLE_STAYED},	      /* it runs here: the record stands */
	{false, R, R, 0, CD_SETTLE_OFF_THERE_STAYED}, /* never two */
	{false, G, R, 0, CD_SETTLE_MOVED},
	{false, P, R, 0, CD_SETTLE_OFF_HERE_MOVED},
	/* Paused here: resumed only once nothing is left there. */
	{false, P, G, 0, CD_SETTLE_RESUME},
	{false, P, P, 0, CD_SETTLE_OFF_THERE_RESUME},
	{false, P, U, 0, CD_SETTLE_AGAIN},
	/* Gone here. */
	{false, G, G, 0, CD_SETTLE_FAILED},
	{false, G, U, 0, CD_SETTLE_AGAIN},
	{false, G, P, 0, CD_SETTLE_AGAIN},
	{false, G, P, CD_SETTLE_PAUSED_LOOKS - 2, CD_SETTLE_AGAIN},
	{false, G, P, CD_SETTLE_PAUSED_LOOKS - 1, CD_SETTLE_OFF_THERE_FAILED},
	/* Nothing known here: nothing decided. */
	{false, U, R, 0, CD_SETTLE_AGAIN},
	{false, U, G, 0, CD_SETTLE_AGAIN},
	{true, U, G, 0, CD_SETTLE_AGAIN},
	/* The target settles a move whose source died; the source's end does not count. */
	{true, R, G, 0, CD_SETTLE_KEPT},
	{true, R, U, 0, CD_SETTLE_KEPT},
	{true, P, G, 0, CD_SETTLE_OFF_HERE_FAILED},
	{true, G, G, 0, CD_SETTLE_FAILED},
	{true, G, R, 0, CD_SETTLE_FAILED},
};
/* clang-format on */

START_TEST(test_settle_cases)
{
	struct cd_settle_in in = {cases[_i].orphan, cases[_i].here, cases[_i].there,
				  cases[_i].looks};
	const char *why = NULL;
	enum cd_settle_do d = cd_settle_decide(&in, &why);

	ck_assert_msg(d == cases[_i].want, "case %d (%s here, %s there, %d looks): %d, not %d", _i,
		      cd_settle_end_to_str(in.here), cd_settle_end_to_str(in.there),
		      in.paused_looks, d, cases[_i].want);
	ck_assert_ptr_nonnull(why);
	ck_assert(strlen(why) > 10);
	ck_assert_int_eq(cd_settle_decide(&in, NULL), d);
}
END_TEST

/* Whatever the ends, a decision never leaves a copy at both ends. */
START_TEST(test_settle_never_two)
{
	enum cd_settle_end here, there;
	int o;

	for (o = 0; o < 2; o++)
		for (here = G; here <= U; here++)
			for (there = G; there <= U; there++) {
				struct cd_settle_in in = {o == 1, here, there, 0};
				enum cd_settle_do d = cd_settle_decide(&in, NULL);

				/* Keeping it here while it runs there is powering it off there
				 * first. */
				if (!in.orphan && here != G && there == R)
					ck_assert(d == CD_SETTLE_OFF_THERE_STAYED ||
						  d == CD_SETTLE_OFF_HERE_MOVED ||
						  d == CD_SETTLE_AGAIN);
				/* A resume here needs nothing running there. */
				if (d == CD_SETTLE_RESUME)
					ck_assert(there == G);
				/* Moved needs it running there. */
				if (d == CD_SETTLE_MOVED || d == CD_SETTLE_OFF_HERE_MOVED)
					ck_assert(there == R && !in.orphan);
			}
	ck_assert_str_eq(cd_settle_end_to_str(P), "paused");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("move_settle");
	TCase *tc = tcase_create("cases");

	tcase_add_loop_test(tc, test_settle_cases, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	suite_add_tcase(s, tc);
	add_tcase(s, test_settle_never_two);
	return run_suite(s);
}
