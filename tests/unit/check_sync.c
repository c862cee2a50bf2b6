#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/sync.h"

static struct cd_sync_report rep(uint32_t id, uint64_t epoch, uint64_t seq, char sum, int quorate)
{
	struct cd_sync_report r;

	memset(&r, 0, sizeof(r));
	r.nodeid = id;
	r.version.epoch = epoch;
	r.version.seq = seq;
	memset(r.checksum, sum, 64);
	r.checksum[64] = '\0';
	r.quorate = quorate;
	r.info.id = id;
	snprintf(r.info.name, sizeof(r.info.name), "node%u", id);
	strcpy(r.info.cap.cpu_model, "qemu64");
	return r;
}

static const uint32_t three[] = {3, 1, 2};

/* A round of the three members begun, with the first n of r's reports added. */
static void round_of(struct cd_sync *s, uint64_t id, const struct cd_sync_report *r, size_t n)
{
	size_t i;

	cd_sync_begin(s, id, three, 3);
	for (i = 0; i < n; i++)
		cd_sync_add_report(s, id, &r[i]);
}

START_TEST(test_all_equal_completes_without_snapshot)
{
	struct cd_sync s;
	struct cd_sync_report r1 = rep(1, 4, 9, 'a', 1), r2 = rep(2, 4, 9, 'a', 1),
			      r3 = rep(3, 4, 9, 'a', 1);

	cd_sync_begin(&s, 42, three, 3);
	ck_assert_int_eq(cd_sync_add_report(&s, 42, &r2), CD_SYNC_STEP_MORE);
	ck_assert_int_eq(cd_sync_add_report(&s, 42, &r1), CD_SYNC_STEP_MORE);
	ck_assert_int_eq(cd_sync_add_report(&s, 42, &r3), CD_SYNC_STEP_COMPLETE);
	ck_assert(s.quorate);
	ck_assert_int_eq(s.phase, CD_SYNC_DONE);
	ck_assert_uint_eq(cd_sync_next_epoch(&s), 5);
}
END_TEST

/* A large snapshot goes as the oldest member of the round takes it. */
START_TEST(test_snapshot_form_is_the_oldest_members)
{
	struct cd_sync s;
	struct cd_sync_report r[3] = {rep(1, 4, 9, 'a', 1), rep(2, 4, 9, 'a', 1),
				      rep(3, 0, 0, 'b', 1)};
	size_t i;

	for (i = 0; i < 3; i++)
		r[i].delta = r[i].zchunks = true;
	round_of(&s, 42, r, 3);
	ck_assert_int_eq(cd_sync_snapshot_form(&s), CD_SNAP_ZCHUNKS);
	/* One that takes chunks but not packed ones. */
	r[1].zchunks = false;
	round_of(&s, 43, r, 3);
	ck_assert_int_eq(cd_sync_snapshot_form(&s), CD_SNAP_CHUNKS);
	/* One that takes neither: the state goes in one message. */
	r[2].delta = r[2].zchunks = false;
	round_of(&s, 44, r, 3);
	ck_assert_int_eq(cd_sync_snapshot_form(&s), CD_SNAP_INLINE);
}
END_TEST

/* Changes go packed only when every member of the round has said it takes them. */
START_TEST(test_packed_changes_need_every_member)
{
	struct cd_sync s;
	struct cd_sync_report r[3] = {rep(1, 4, 9, 'a', 1), rep(2, 4, 9, 'a', 1),
				      rep(3, 4, 9, 'a', 1)};
	size_t i;

	for (i = 0; i < 3; i++)
		r[i].zchanges = true;
	cd_sync_begin(&s, 42, three, 3);
	ck_assert(!cd_sync_packed_changes(&s));
	for (i = 0; i < 3; i++) {
		/* Not before the last member's report. */
		ck_assert(!cd_sync_packed_changes(&s));
		cd_sync_add_report(&s, 42, &r[i]);
	}
	ck_assert(cd_sync_packed_changes(&s));
	/* One older member: none go packed. */
	r[2].zchanges = false;
	round_of(&s, 43, r, 3);
	ck_assert(!cd_sync_packed_changes(&s));
	/* A member left out of the round never said it: none go packed either. */
	r[2].zchanges = true;
	round_of(&s, 44, r, 2);
	ck_assert(!cd_sync_packed_changes(&s));
	ck_assert_int_eq(cd_sync_timeout(&s, 44, 0), CD_SYNC_STEP_COMPLETE);
	ck_assert_int_eq(s.phase, CD_SYNC_DONE);
	ck_assert(cd_sync_is_left_out(&s, 3));
	ck_assert(!cd_sync_packed_changes(&s));
	/* No round: no. */
	cd_sync_begin(&s, 45, three, 0);
	ck_assert(!cd_sync_packed_changes(&s));
}
END_TEST

START_TEST(test_newest_state_is_chosen)
{
	struct cd_sync s;
	/* Node 3 rejoins with an empty state; node 2 has the newest. */
	struct cd_sync_report r1 = rep(1, 4, 2, 'a', 1), r2 = rep(2, 5, 0, 'b', 1),
			      r3 = rep(3, 0, 0, 'c', 1);

	cd_sync_begin(&s, 7, three, 3);
	cd_sync_add_report(&s, 7, &r3);
	cd_sync_add_report(&s, 7, &r1);
	ck_assert_int_eq(cd_sync_add_report(&s, 7, &r2), CD_SYNC_STEP_SNAPSHOT);
	ck_assert_uint_eq(s.snapshot_from, 2);
	ck_assert_uint_eq(s.best.epoch, 5);
	ck_assert(!cd_sync_snapshot_ok(&s, 7, 1));
	ck_assert(!cd_sync_snapshot_ok(&s, 8, 2));
	ck_assert(cd_sync_snapshot_ok(&s, 7, 2));
	ck_assert_uint_eq(cd_sync_next_epoch(&s), 6);
}
END_TEST

START_TEST(test_higher_epoch_beats_higher_seq)
{
	struct cd_sync s;
	/* The minority kept an old epoch with many seqs; epochs order first. */
	struct cd_sync_report r1 = rep(1, 3, 1000, 'a', 1), r2 = rep(2, 4, 1, 'b', 1),
			      r3 = rep(3, 4, 1, 'b', 1);

	cd_sync_begin(&s, 1, three, 3);
	cd_sync_add_report(&s, 1, &r1);
	cd_sync_add_report(&s, 1, &r2);
	ck_assert_int_eq(cd_sync_add_report(&s, 1, &r3), CD_SYNC_STEP_SNAPSHOT);
	ck_assert_uint_eq(s.snapshot_from, 2); /* lowest id among the newest */
}
END_TEST

START_TEST(test_same_version_different_checksum_needs_snapshot)
{
	struct cd_sync s;
	struct cd_sync_report r1 = rep(1, 4, 1, 'a', 1), r2 = rep(2, 4, 1, 'b', 1),
			      r3 = rep(3, 4, 1, 'a', 1);

	cd_sync_begin(&s, 1, three, 3);
	cd_sync_add_report(&s, 1, &r3);
	cd_sync_add_report(&s, 1, &r2);
	ck_assert_int_eq(cd_sync_add_report(&s, 1, &r1), CD_SYNC_STEP_SNAPSHOT);
	ck_assert_uint_eq(s.snapshot_from, 1);
}
END_TEST

START_TEST(test_quorate_only_if_all_say_so)
{
	struct cd_sync s;
	struct cd_sync_report r1 = rep(1, 1, 1, 'a', 1), r2 = rep(2, 1, 1, 'a', 0);
	uint32_t two[] = {1, 2};

	cd_sync_begin(&s, 9, two, 2);
	cd_sync_add_report(&s, 9, &r1);
	ck_assert_int_eq(cd_sync_add_report(&s, 9, &r2), CD_SYNC_STEP_COMPLETE);
	ck_assert(!s.quorate);
}
END_TEST

START_TEST(test_stale_duplicate_and_stranger_reports_ignored)
{
	struct cd_sync s;
	struct cd_sync_report r1 = rep(1, 1, 1, 'a', 1), r9 = rep(9, 9, 9, 'z', 1),
			      r2 = rep(2, 1, 1, 'a', 1), r3 = rep(3, 1, 1, 'a', 1);

	cd_sync_begin(&s, 5, three, 3);
	ck_assert_int_eq(cd_sync_add_report(&s, 4, &r1), CD_SYNC_STEP_IGNORED); /* old round */
	ck_assert_int_eq(cd_sync_add_report(&s, 5, &r9), CD_SYNC_STEP_IGNORED); /* not a member */
	ck_assert_int_eq(cd_sync_add_report(&s, 5, &r1), CD_SYNC_STEP_MORE);
	ck_assert_int_eq(cd_sync_add_report(&s, 5, &r1), CD_SYNC_STEP_IGNORED); /* twice */
	ck_assert_int_eq(cd_sync_add_report(&s, 5, &r2), CD_SYNC_STEP_MORE);
	ck_assert_int_eq(cd_sync_add_report(&s, 5, &r3), CD_SYNC_STEP_COMPLETE);
	/* Done: later reports change nothing. */
	ck_assert_int_eq(cd_sync_add_report(&s, 5, &r3), CD_SYNC_STEP_IGNORED);
}
END_TEST

START_TEST(test_round_token_ignores_member_order)
{
	uint32_t n1[] = {1, 2, 3}, p1[] = {10, 20, 30};
	uint32_t n2[] = {3, 1, 2}, p2[] = {30, 10, 20};
	uint32_t p3[] = {10, 21, 30};
	uint64_t t1 = cd_sync_round_token(1, 8, n1, p1, 3);

	ck_assert_uint_eq(t1, cd_sync_round_token(1, 8, n2, p2, 3));
	ck_assert_uint_ne(t1, cd_sync_round_token(1, 12, n1, p1, 3)); /* new ring */
	ck_assert_uint_ne(t1, cd_sync_round_token(1, 8, n1, p3, 3));  /* restarted process */
	ck_assert_uint_ne(t1, cd_sync_round_token(1, 8, n1, p1, 2));  /* one left */
	ck_assert_uint_ne(t1, 0);
}
END_TEST

START_TEST(test_report_json_roundtrip_and_checks)
{
	struct cd_sync_report r = rep(2, 3, 4, 'f', 1), back;
	struct json_object *o = cd_sync_report_to_json(&r);

	ck_assert_int_eq(cd_sync_report_from_json(&back, 2, o), 0);
	ck_assert_uint_eq(back.version.epoch, 3);
	ck_assert_uint_eq(back.version.seq, 4);
	ck_assert_str_eq(back.checksum, r.checksum);
	ck_assert(back.quorate);
	ck_assert_str_eq(back.info.name, "node2");
	/* What it takes goes along; an older report says neither. */
	ck_assert(!back.delta && !back.zchunks && !back.zchanges);
	ck_assert_ptr_null(json_object_object_get(o, "zchunks"));
	ck_assert_ptr_null(json_object_object_get(o, "zchanges"));
	json_object_put(o);
	r.delta = r.zchunks = r.zchanges = true;
	o = cd_sync_report_to_json(&r);
	ck_assert_int_eq(cd_sync_report_from_json(&back, 2, o), 0);
	ck_assert(back.delta && back.zchunks && back.zchanges);
	json_object_object_add(o, "zchunks", json_object_new_string("yes"));
	json_object_object_add(o, "zchanges", json_object_new_int(1));
	ck_assert_int_eq(cd_sync_report_from_json(&back, 2, o), 0);
	ck_assert(!back.zchunks && !back.zchanges);
	/* A report must describe its sender. */
	ck_assert_int_eq(cd_sync_report_from_json(&back, 3, o), CD_ERR_PROTOCOL);
	json_object_object_add(o, "checksum", json_object_new_string("short"));
	ck_assert_int_eq(cd_sync_report_from_json(&back, 2, o), CD_ERR_PROTOCOL);
	json_object_put(o);
}
END_TEST

/* A member that never reports: the first timeout leaves it out, alike everywhere. */
START_TEST(test_timeout_leaves_out_the_silent)
{
	struct cd_sync s;
	struct cd_sync_report r1 = rep(1, 4, 9, 'a', 1), r3 = rep(3, 4, 9, 'a', 1);

	cd_sync_begin(&s, 42, three, 3);
	/* Before any report a timeout decides nothing: the round waits on. */
	ck_assert_int_eq(cd_sync_timeout(&s, 42, 0), CD_SYNC_STEP_IGNORED);
	ck_assert_int_eq(s.phase, CD_SYNC_COLLECT);
	ck_assert_int_eq(cd_sync_add_report(&s, 42, &r3), CD_SYNC_STEP_MORE);
	ck_assert_int_eq(cd_sync_add_report(&s, 42, &r1), CD_SYNC_STEP_MORE);
	/* Another round's or another step's timeout changes nothing. */
	ck_assert_int_eq(cd_sync_timeout(&s, 41, 0), CD_SYNC_STEP_IGNORED);
	ck_assert_int_eq(cd_sync_timeout(&s, 42, 1), CD_SYNC_STEP_IGNORED);
	ck_assert_int_eq(cd_sync_timeout(&s, 42, 0), CD_SYNC_STEP_COMPLETE);
	ck_assert_int_eq(s.phase, CD_SYNC_DONE);
	ck_assert_uint_eq(s.n_members, 2);
	ck_assert_uint_eq(s.members[0], 1);
	ck_assert_uint_eq(s.members[1], 3);
	ck_assert(cd_sync_is_left_out(&s, 2));
	ck_assert(!cd_sync_is_left_out(&s, 1));
	ck_assert(s.quorate);
	/* A second timeout of the same round (another member's) changes nothing. */
	ck_assert_int_eq(cd_sync_timeout(&s, 42, 0), CD_SYNC_STEP_IGNORED);
	/* The silent member's late report is not taken. */
	{
		struct cd_sync_report r2 = rep(2, 9, 9, 'z', 1);

		ck_assert_int_eq(cd_sync_add_report(&s, 42, &r2), CD_SYNC_STEP_IGNORED);
	}
	ck_assert_uint_eq(s.n_members, 2);
}
END_TEST

/* Left out while the newest: the rest decide among themselves. */
START_TEST(test_timeout_decides_among_the_rest)
{
	struct cd_sync s;
	struct cd_sync_report r1 = rep(1, 4, 2, 'a', 1), r2 = rep(2, 4, 5, 'b', 1);

	cd_sync_begin(&s, 9, three, 3);
	cd_sync_add_report(&s, 9, &r1);
	cd_sync_add_report(&s, 9, &r2);
	ck_assert_int_eq(cd_sync_timeout(&s, 9, 0), CD_SYNC_STEP_SNAPSHOT);
	ck_assert_uint_eq(s.snapshot_from, 2);
	ck_assert_uint_eq(s.step, 1);
	ck_assert(cd_sync_is_left_out(&s, 3));
	/* The quorum view is that of the members left. */
	ck_assert(s.quorate);
}
END_TEST

/* A snapshot sender that never sends: left out, the next newest sends. */
START_TEST(test_snapshot_timeout_picks_the_next_newest)
{
	struct cd_sync s;
	struct cd_sync_report r1 = rep(1, 4, 2, 'a', 1), r2 = rep(2, 4, 7, 'b', 1),
			      r3 = rep(3, 4, 5, 'c', 1);
	uint32_t step;

	cd_sync_begin(&s, 5, three, 3);
	cd_sync_add_report(&s, 5, &r1);
	cd_sync_add_report(&s, 5, &r2);
	ck_assert_int_eq(cd_sync_add_report(&s, 5, &r3), CD_SYNC_STEP_SNAPSHOT);
	ck_assert_uint_eq(s.snapshot_from, 2);
	step = s.step;
	/* A timeout sent while the round still collected is stale now. */
	ck_assert_int_eq(cd_sync_timeout(&s, 5, step - 1), CD_SYNC_STEP_IGNORED);
	ck_assert_int_eq(cd_sync_timeout(&s, 5, step), CD_SYNC_STEP_SNAPSHOT);
	ck_assert_uint_eq(s.snapshot_from, 3);
	ck_assert(cd_sync_is_left_out(&s, 2));
	ck_assert(!cd_sync_snapshot_ok(&s, 5, 2));
	ck_assert(cd_sync_snapshot_ok(&s, 5, 3));
	/* A timeout for the first sender, delivered late, spares the second. */
	ck_assert_int_eq(cd_sync_timeout(&s, 5, step), CD_SYNC_STEP_IGNORED);
	ck_assert_uint_eq(s.snapshot_from, 3);
	/* The second sender silent too: node 1 alone completes. */
	ck_assert_int_eq(cd_sync_timeout(&s, 5, s.step), CD_SYNC_STEP_COMPLETE);
	ck_assert_uint_eq(s.n_members, 1);
	ck_assert_uint_eq(s.members[0], 1);
	ck_assert_int_eq(s.phase, CD_SYNC_DONE);
}
END_TEST

/* A report or snapshot that does not parse leaves its sender out at once. */
START_TEST(test_bad_report_or_snapshot_leaves_the_sender_out)
{
	struct cd_sync s;
	struct cd_sync_report r1 = rep(1, 4, 2, 'a', 1), r2 = rep(2, 4, 2, 'a', 1),
			      r3 = rep(3, 6, 0, 'c', 1);

	cd_sync_begin(&s, 11, three, 3);
	cd_sync_add_report(&s, 11, &r1);
	ck_assert_int_eq(cd_sync_leave_out(&s, 11, 2), CD_SYNC_STEP_MORE);
	ck_assert(cd_sync_is_left_out(&s, 2));
	/* Already reported members are not left out by a later bad message. */
	ck_assert_int_eq(cd_sync_leave_out(&s, 11, 1), CD_SYNC_STEP_IGNORED);
	ck_assert_int_eq(cd_sync_add_report(&s, 11, &r2), CD_SYNC_STEP_IGNORED);
	ck_assert_int_eq(cd_sync_add_report(&s, 11, &r3), CD_SYNC_STEP_SNAPSHOT);
	ck_assert_uint_eq(s.snapshot_from, 3);
	/* Node 3's snapshot does not parse: node 1 alone completes. */
	ck_assert_int_eq(cd_sync_leave_out(&s, 11, 1), CD_SYNC_STEP_IGNORED);
	ck_assert_int_eq(cd_sync_leave_out(&s, 11, 3), CD_SYNC_STEP_COMPLETE);
	ck_assert_uint_eq(s.n_members, 1);
	ck_assert_uint_eq(cd_sync_next_epoch(&s), 5);

	/* The last missing report is the bad one: decided at once. */
	cd_sync_begin(&s, 12, three, 3);
	cd_sync_add_report(&s, 12, &r1);
	cd_sync_add_report(&s, 12, &r2);
	ck_assert_int_eq(cd_sync_leave_out(&s, 12, 3), CD_SYNC_STEP_COMPLETE);
	ck_assert_uint_eq(s.n_members, 2);
}
END_TEST

/* The same stream gives the same outcome on every member (determinism). */
START_TEST(test_same_stream_same_outcome)
{
	struct cd_sync a, b;
	struct cd_sync_report r1 = rep(1, 3, 1, 'a', 1), r3 = rep(3, 3, 4, 'c', 0);

	cd_sync_begin(&a, 77, three, 3);
	cd_sync_begin(&b, 77, (const uint32_t[]){1, 2, 3}, 3);
	cd_sync_add_report(&a, 77, &r3);
	cd_sync_add_report(&b, 77, &r3);
	cd_sync_add_report(&a, 77, &r1);
	cd_sync_add_report(&b, 77, &r1);
	ck_assert_int_eq(cd_sync_timeout(&a, 77, 0), cd_sync_timeout(&b, 77, 0));
	ck_assert_int_eq(a.phase, b.phase);
	ck_assert_uint_eq(a.snapshot_from, b.snapshot_from);
	ck_assert_uint_eq(a.snapshot_from, 3);
	ck_assert(!a.quorate);
	ck_assert_uint_eq(a.n_left_out, 1);
	ck_assert_uint_eq(b.left_out[0], 2);
	ck_assert_uint_ne(cd_sync_restart_token(77, 1), cd_sync_restart_token(77, 2));
	ck_assert_uint_ne(cd_sync_restart_token(77, 1), 77);
}
END_TEST

/*
 * CPU models that come after the join: a new round only once the round is
 * over and quorate, and only if the state records something else.
 */
START_TEST(test_late_info_needs_a_round_only_when_recorded_otherwise)
{
	struct cd_sync s;
	struct cd_sync_report r1 = rep(1, 4, 9, 'a', 1), r2 = rep(2, 4, 9, 'a', 1),
			      r3 = rep(3, 4, 9, 'a', 1);
	struct cd_node_info recorded = r1.info, now = r1.info;

	strcpy(now.cap.cpu_model, "EPYC-Rome");
	strcpy(now.cap.cpu_models[0], "EPYC-Rome");
	strcpy(now.cap.cpu_models[1], "qemu64");
	now.cap.n_cpu_models = 2;

	cd_sync_begin(&s, 42, three, 3);
	cd_sync_add_report(&s, 42, &r1);
	/* The round is under way: it looks again when it ends. */
	ck_assert(!cd_sync_info_needs_round(&s, &recorded, &now));
	cd_sync_add_report(&s, 42, &r2);
	ck_assert_int_eq(cd_sync_add_report(&s, 42, &r3), CD_SYNC_STEP_COMPLETE);
	ck_assert(cd_sync_info_needs_round(&s, &recorded, &now));
	/* Recorded already (a later round took the new report in). */
	ck_assert(!cd_sync_info_needs_round(&s, &now, &now));
	/* No record of the node (beyond the state's limit): a round would not help. */
	ck_assert(!cd_sync_info_needs_round(&s, NULL, &now));
	/* Any difference the reports carry counts, not only the models. */
	recorded = now;
	strcpy(recorded.cap.cpu_models[1], "qemu32");
	ck_assert(cd_sync_info_needs_round(&s, &recorded, &now));

	/* An inquorate partition records no node information. */
	r3.quorate = 0;
	recorded = r1.info;
	cd_sync_begin(&s, 43, three, 3);
	cd_sync_add_report(&s, 43, &r1);
	cd_sync_add_report(&s, 43, &r2);
	ck_assert_int_eq(cd_sync_add_report(&s, 43, &r3), CD_SYNC_STEP_COMPLETE);
	ck_assert(!s.quorate);
	ck_assert(!cd_sync_info_needs_round(&s, &recorded, &now));
	/* Nor does a round that left this member out, or none yet. */
	s.phase = CD_SYNC_LEFT_OUT;
	s.quorate = true;
	ck_assert(!cd_sync_info_needs_round(&s, &recorded, &now));
	s.phase = CD_SYNC_IDLE;
	ck_assert(!cd_sync_info_needs_round(&s, &recorded, &now));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sync");

	add_tcase(s, test_all_equal_completes_without_snapshot);
	add_tcase(s, test_newest_state_is_chosen);
	add_tcase(s, test_higher_epoch_beats_higher_seq);
	add_tcase(s, test_same_version_different_checksum_needs_snapshot);
	add_tcase(s, test_quorate_only_if_all_say_so);
	add_tcase(s, test_stale_duplicate_and_stranger_reports_ignored);
	add_tcase(s, test_round_token_ignores_member_order);
	add_tcase(s, test_report_json_roundtrip_and_checks);
	add_tcase(s, test_timeout_leaves_out_the_silent);
	add_tcase(s, test_timeout_decides_among_the_rest);
	add_tcase(s, test_snapshot_timeout_picks_the_next_newest);
	add_tcase(s, test_bad_report_or_snapshot_leaves_the_sender_out);
	add_tcase(s, test_same_stream_same_outcome);
	add_tcase(s, test_late_info_needs_a_round_only_when_recorded_otherwise);
	add_tcase(s, test_snapshot_form_is_the_oldest_members);
	add_tcase(s, test_packed_changes_need_every_member);
	return run_suite(s);
}
