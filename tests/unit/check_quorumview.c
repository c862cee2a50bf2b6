#include "config.h"

#include "check_common.h"
#include "core/quorumview.h"

/* Joined, quorate on ring 1/8: the view after a normal round. */
static struct cd_quorum_view settled(void)
{
	struct cd_quorum_view v = {.joined = true,
				   .ring = {1, 8},
				   .known = true,
				   .quorate = true,
				   .report_ring = {1, 8}};

	return v;
}

START_TEST(test_current_report)
{
	struct cd_quorum_view v = settled();

	ck_assert(cd_quorum_current(&v));
	ck_assert(cd_quorum_settled(&v));
	ck_assert(cd_quorum_quorate(&v));
	v.quorate = false;
	ck_assert(!cd_quorum_quorate(&v));
	ck_assert(cd_quorum_settled(&v));
	v = settled();
	v.joined = false;
	ck_assert(!cd_quorum_quorate(&v));
}
END_TEST

/* The ring changed (this node may be the minority now): the old report is stale. */
START_TEST(test_stale_report_is_not_quorum)
{
	struct cd_quorum_view v = settled();

	v.ring.seq = 12;
	ck_assert(!cd_quorum_current(&v));
	ck_assert(!cd_quorum_settled(&v));
	ck_assert(!cd_quorum_quorate(&v));
	/* Waiting gave up: the round goes on, but never as quorate. */
	v.waited = true;
	ck_assert(cd_quorum_settled(&v));
	ck_assert(!cd_quorum_quorate(&v));
	/* Another representative's ring with the same seq is another ring too. */
	v = settled();
	v.ring.nodeid = 2;
	v.waited = true;
	ck_assert(!cd_quorum_quorate(&v));
	/* The report for the new ring comes: it decides. */
	v.report_ring = v.ring;
	ck_assert(cd_quorum_quorate(&v));
	v.quorate = false;
	ck_assert(!cd_quorum_quorate(&v));
}
END_TEST

START_TEST(test_no_report_yet)
{
	struct cd_quorum_view v = {.joined = true, .ring = {1, 4}};

	ck_assert(!cd_quorum_settled(&v));
	ck_assert(!cd_quorum_quorate(&v));
	v.quorate = true; /* never reported: means nothing */
	ck_assert(!cd_quorum_quorate(&v));
	v.waited = true;
	ck_assert(cd_quorum_settled(&v));
	ck_assert(!cd_quorum_quorate(&v));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("quorumview");

	add_tcase(s, test_current_report);
	add_tcase(s, test_stale_report_is_not_quorum);
	add_tcase(s, test_no_report_yet);
	return run_suite(s);
}
