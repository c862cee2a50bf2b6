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
	/* Released on one, expired on the others: dead. */
	s[0] = CD_SLOT_GONE;
	s[1] = CD_SLOT_DEAD;
	s[2] = CD_SLOT_DEAD;
	ck_assert_int_eq(cd_host_dead_rule(s, 3), 1);
	/* Whatever the order. */
	s[0] = CD_SLOT_ALIVE;
	ck_assert_int_eq(cd_host_dead_rule(s, 3), 0);
	s[0] = CD_SLOT_DEAD;
	s[2] = CD_SLOT_ALIVE;
	ck_assert_int_eq(cd_host_dead_rule(s, 3), 0);
}
END_TEST

/*
 * A slot never joined proves nothing: VMs started before the volume was
 * added, or on a node that cannot see its LUN, were never powered off for
 * a lapse there.
 */
START_TEST(test_never_joined_proves_nothing)
{
	enum cd_slot_seen s[3] = {CD_SLOT_NEVER, CD_SLOT_NEVER, CD_SLOT_NEVER};

	/* The only volume, or every one: they cannot tell (as with none). */
	ck_assert_int_eq(cd_host_dead_rule(s, 1), -1);
	ck_assert_int_eq(cd_host_dead_rule(s, 3), -1);
	/* Expired or released elsewhere: still no proof, whatever the order. */
	s[0] = CD_SLOT_DEAD;
	s[1] = CD_SLOT_GONE;
	ck_assert_int_eq(cd_host_dead_rule(s, 3), -1);
	s[0] = CD_SLOT_NEVER;
	s[2] = CD_SLOT_DEAD;
	ck_assert_int_eq(cd_host_dead_rule(s, 3), -1);
	/* Renewed, or not watched long enough, elsewhere: alive (not yet dead). */
	s[1] = CD_SLOT_ALIVE;
	ck_assert_int_eq(cd_host_dead_rule(s, 3), 0);
	s[1] = CD_SLOT_UNKNOWN;
	ck_assert_int_eq(cd_host_dead_rule(s, 3), 0);
	s[0] = CD_SLOT_UNKNOWN;
	s[1] = CD_SLOT_NEVER;
	ck_assert_int_eq(cd_host_dead_rule(s, 2), 0);
}
END_TEST

/* Every node joined every volume (the normal case): as before. */
START_TEST(test_joined_everywhere_unchanged)
{
	enum cd_slot_seen s[2] = {CD_SLOT_DEAD, CD_SLOT_GONE};

	ck_assert_int_eq(cd_host_dead_rule(s, 2), 1);
	s[1] = CD_SLOT_DEAD;
	ck_assert_int_eq(cd_host_dead_rule(s, 2), 1);
	s[0] = CD_SLOT_GONE;
	s[1] = CD_SLOT_GONE;
	ck_assert_int_eq(cd_host_dead_rule(s, 2), 1);
	s[1] = CD_SLOT_ALIVE;
	ck_assert_int_eq(cd_host_dead_rule(s, 2), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("deadrule");

	add_tcase(s, test_every_volume_must_say_dead);
	add_tcase(s, test_never_joined_proves_nothing);
	add_tcase(s, test_joined_everywhere_unchanged);
	return run_suite(s);
}
