#include "config.h"

#include "check_common.h"
#include "core/deadrule.h"

START_TEST(test_every_volume_must_say_dead)
{
	enum cd_slot_seen s[3] = {CD_SLOT_UNKNOWN, CD_SLOT_UNKNOWN, CD_SLOT_UNKNOWN};

	ck_assert_int_eq(cd_host_dead_rule(s, 0), -1);
	s[0] = CD_SLOT_DEAD;
	ck_assert_int_eq(cd_host_dead_rule(s, 1), 1);
	s[0] = CD_SLOT_GONE;
	ck_assert_int_eq(cd_host_dead_rule(s, 1), 1);
	/* Dead on one volume, still renewing another: its VMs there may run. */
	s[0] = CD_SLOT_DEAD;
	s[1] = CD_SLOT_ALIVE;
	ck_assert_int_eq(cd_host_dead_rule(s, 2), 0);
	s[1] = CD_SLOT_UNKNOWN;
	ck_assert_int_eq(cd_host_dead_rule(s, 2), 0);
	/* Released on one, expired on another, never joined a third: dead. */
	s[0] = CD_SLOT_GONE;
	s[1] = CD_SLOT_DEAD;
	s[2] = CD_SLOT_GONE;
	ck_assert_int_eq(cd_host_dead_rule(s, 3), 1);
	/* Whatever the order. */
	s[0] = CD_SLOT_ALIVE;
	ck_assert_int_eq(cd_host_dead_rule(s, 3), 0);
	s[0] = CD_SLOT_DEAD;
	s[2] = CD_SLOT_ALIVE;
	ck_assert_int_eq(cd_host_dead_rule(s, 3), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("deadrule");

	add_tcase(s, test_every_volume_must_say_dead);
	return run_suite(s);
}
