/* The watchdog process's rule (core/wdrule.c). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/wdrule.h"

static int apply(struct cd_wd_rule *r, const char *m)
{
	return cd_wd_apply(r, m, strlen(m));
}

static void lease(struct cd_wd_rule *r, const char *vol, uint64_t gen, uint64_t kill_at,
		  uint64_t hard_at)
{
	char buf[CD_WD_MSG_MAX + 1];
	size_t n = cd_wd_fmt_lease(buf, sizeof(buf), vol, gen, kill_at, hard_at);

	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(cd_wd_apply(r, buf, n), 0);
}

START_TEST(test_nothing_armed_nothing_due)
{
	struct cd_wd_rule r;

	memset(&r, 0, sizeof(r));
	ck_assert_ptr_null(cd_wd_due(&r, UINT64_MAX - 1));
	ck_assert_uint_eq(cd_wd_next(&r), UINT64_MAX);
	ck_assert(cd_wd_may_pet(&r, 1000, 60000));
}
END_TEST

START_TEST(test_due_at_the_earliest_kill_at)
{
	struct cd_wd_rule r;
	const struct cd_wd_vol *v;

	memset(&r, 0, sizeof(r));
	lease(&r, "a", 1, 5000, 5400);
	lease(&r, "b", 3, 4000, 4400);
	ck_assert_uint_eq(cd_wd_next(&r), 4000);
	ck_assert_ptr_null(cd_wd_due(&r, 3999));
	v = cd_wd_due(&r, 4000);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->name, "b");
	/* A renewal moves the deadline on. */
	lease(&r, "b", 3, 6000, 6400);
	ck_assert_ptr_null(cd_wd_due(&r, 4500));
	ck_assert_str_eq(cd_wd_due(&r, 5000)->name, "a");
	cd_wd_clear(&r);
	ck_assert_ptr_null(cd_wd_due(&r, 100000));
}
END_TEST

START_TEST(test_clear_only_that_generation)
{
	struct cd_wd_rule r;
	char buf[CD_WD_MSG_MAX + 1];
	size_t n;

	memset(&r, 0, sizeof(r));
	lease(&r, "vol", 7, 5000, 5400);
	/* The old incarnation's clear arrives after the new one joined. */
	lease(&r, "vol", 8, 9000, 9400);
	n = cd_wd_fmt_clear(buf, sizeof(buf), "vol", 7);
	ck_assert_int_eq(cd_wd_apply(&r, buf, n), 0);
	ck_assert_uint_eq(cd_wd_next(&r), 9000);
	/* A late renewal of the old one does not move the new one back. */
	lease(&r, "vol", 7, 3000, 3400);
	ck_assert_uint_eq(cd_wd_next(&r), 9000);
	n = cd_wd_fmt_clear(buf, sizeof(buf), "vol", 8);
	ck_assert_int_eq(cd_wd_apply(&r, buf, n), 0);
	ck_assert_uint_eq(cd_wd_next(&r), UINT64_MAX);
}
END_TEST

START_TEST(test_pet_only_if_a_reset_comes_in_time)
{
	struct cd_wd_rule r;

	memset(&r, 0, sizeof(r));
	lease(&r, "vol", 1, 5500, 6000);
	ck_assert(cd_wd_may_pet(&r, 4000, 1000));
	ck_assert(cd_wd_may_pet(&r, 5000, 1000));
	ck_assert(!cd_wd_may_pet(&r, 5001, 1000));
	/* A timeout longer than the lease can back up: never. */
	ck_assert(!cd_wd_may_pet(&r, 0, 7000));
}
END_TEST

START_TEST(test_disarm)
{
	struct cd_wd_rule r;

	memset(&r, 0, sizeof(r));
	lease(&r, "vol", 1, 5500, 6000);
	ck_assert(!r.disarmed);
	ck_assert_int_eq(apply(&r, "D"), 0);
	ck_assert(r.disarmed);
	ck_assert_ptr_null(cd_wd_due(&r, 100000));
	/* A lease after that arms it again. */
	lease(&r, "vol", 2, 7000, 7500);
	ck_assert(!r.disarmed);
}
END_TEST

START_TEST(test_bad_messages_change_nothing)
{
	/* clang-format off */
	static const char *const bad[] = {
		"", "X", "L vol 1 2", "L vol 1 2 3 junk", "L vol 1 0 0", "L vol 1 9 8",
		"L ../x 1 2 3", "C vol", "C vol x", "D extra", "L vol -1 2 3x",
	};
	/* clang-format on */
	struct cd_wd_rule r;
	size_t i;

	memset(&r, 0, sizeof(r));
	lease(&r, "vol", 1, 5000, 5400);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(apply(&r, bad[i]) == CD_ERR_INVALID, "accepted '%s'", bad[i]);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(cd_wd_next(&r), 5000);
	ck_assert(!r.disarmed);
}
END_TEST

START_TEST(test_table_full)
{
	struct cd_wd_rule r;
	char name[16];
	int i;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < CD_WD_MAX_VOLS; i++) {
		snprintf(name, sizeof(name), "v%d", i);
		lease(&r, name, 1, 1000 + (uint64_t)i, 2000);
	}
	ck_assert_int_eq(apply(&r, "L extra 1 10 20"), CD_ERR_INVALID);
	/* A full table still takes renewals of what it has. */
	ck_assert_int_eq(apply(&r, "L v0 1 1500 2000"), 0);
	ck_assert_uint_eq(cd_wd_next(&r), 1001);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wdrule");

	add_tcase(s, test_nothing_armed_nothing_due);
	add_tcase(s, test_due_at_the_earliest_kill_at);
	add_tcase(s, test_clear_only_that_generation);
	add_tcase(s, test_pet_only_if_a_reset_comes_in_time);
	add_tcase(s, test_disarm);
	add_tcase(s, test_bad_messages_change_nothing);
	add_tcase(s, test_table_full);
	return run_suite(s);
}
