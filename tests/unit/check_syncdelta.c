#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/changelog.h"
#include "core/syncdelta.h"
#include "lib/util.h"

/*
 * A member with the newest state (the "leader") and its log: changes and
 * rounds applied to its state and logged, as clusterd's replica does.
 */
struct leader {
	struct cd_state s;
	struct cd_changelog log;
};

static struct cd_node_info info(uint32_t id)
{
	struct cd_node_info ni;

	memset(&ni, 0, sizeof(ni));
	ni.id = id;
	snprintf(ni.name, sizeof(ni.name), "node%u", id);
	strcpy(ni.addrs[0], "198.18.0.1");
	ni.n_addrs = 1;
	ni.cap.cores = 4;
	ni.cap.memory_mb = 8192;
	strcpy(ni.cap.cpu_model, "qemu64");
	return ni;
}

static void log_rec(struct leader *l, const struct json_object *rec, uint32_t sender)
{
	ck_assert_int_eq(cd_changelog_add(&l->log, l->s.version, sender,
					  json_object_to_json_string_ext((struct json_object *)rec,
									 JSON_C_TO_STRING_PLAIN)),
			 0);
}

/* A property change from node 1, applied and logged. */
static void change(struct leader *l, const char *key, const char *value)
{
	char text[256], err[256];
	struct json_object *c;

	snprintf(text, sizeof(text), "{\"op\":\"property.set\",\"key\":\"%s\",\"value\":\"%s\"}",
		 key, value);
	c = json_tokener_parse(text);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(cd_state_apply_from(&l->s, c, 1, err, sizeof(err)), 0);
	log_rec(l, c, 1);
	json_object_put(c);
}

/* A quorate round's end with members 1..n, applied and logged. */
static void round_end(struct leader *l, size_t n, uint64_t wall)
{
	struct cd_node_info infos[4];
	struct json_object *rec;
	uint64_t epoch = l->s.version.epoch + 1;
	size_t i;

	for (i = 0; i < n; i++)
		infos[i] = info((uint32_t)i + 1);
	rec = cd_sync_round_record(infos, n, epoch, wall);
	cd_state_sync_finish(&l->s, infos, n, epoch, wall);
	log_rec(l, rec, 0);
	json_object_put(rec);
}

static void leader_open(struct leader *l)
{
	cd_state_init(&l->s);
	ck_assert_int_eq(cd_changelog_init(&l->log, 64, 0), 0);
	round_end(l, 3, 1000);
	cd_changelog_reset(&l->log, l->s.version);
}

static void leader_close(struct leader *l)
{
	cd_changelog_free(&l->log);
	cd_state_free(&l->s);
}

static void sum(const struct cd_state *s, char out[65])
{
	struct json_object *o = cd_state_to_json(s);
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	cd_sha256_hex(t, strlen(t), out);
	json_object_put(o);
}

/* A report of member id at s's version and checksum. */
static struct cd_sync_report report(uint32_t id, const struct cd_state *s, bool delta)
{
	struct cd_sync_report r;

	memset(&r, 0, sizeof(r));
	r.nodeid = id;
	r.version = s->version;
	sum(s, r.checksum);
	r.quorate = true;
	r.info = info(id);
	r.delta = delta;
	return r;
}

/* A round of members 1..3 whose reports are given; node 1 must send. */
static void round_of(struct cd_sync *sy, const struct cd_sync_report *r, size_t n)
{
	static const uint32_t members[] = {1, 2, 3};
	enum cd_sync_step st = CD_SYNC_STEP_MORE;
	size_t i;

	cd_sync_begin(sy, 99, members, n);
	for (i = 0; i < n; i++)
		st = cd_sync_add_report(sy, 99, &r[i]);
	ck_assert_int_eq(st, CD_SYNC_STEP_SNAPSHOT);
	ck_assert_uint_eq(sy->snapshot_from, 1);
}

static int n_told;
static void tell(void *ctx, const struct json_object *rec, uint32_t sender, struct cd_version v)
{
	(void)rec;
	(void)sender;
	(void)v;
	(*(int *)ctx)++;
	n_told++;
}

/* Replay d onto a copy of behind: it ends equal to the leader's state. */
static void assert_catches_up(const struct json_object *d, const struct cd_state *behind,
			      const struct leader *l, size_t want_applied)
{
	struct cd_state st;
	char a[65], b[65], err[256];
	size_t applied;
	int told = 0;

	ck_assert_int_eq(cd_state_copy(&st, behind), 0);
	ck_assert_int_eq(cd_syncdelta_apply(&st, d, tell, &told, &applied, err, sizeof(err)), 0);
	ck_assert_uint_eq(applied, want_applied);
	ck_assert_int_eq(told, (int)want_applied);
	ck_assert_int_eq(cd_version_cmp(st.version, l->s.version), 0);
	sum(&st, a);
	sum(&l->s, b);
	ck_assert_str_eq(a, b);
	cd_state_free(&st);
}

/* Members behind by changes and by rounds catch up by one delta. */
START_TEST(test_catch_up_across_rounds)
{
	struct leader l;
	struct cd_state far, near;
	struct cd_sync sy;
	struct cd_sync_report r[3];
	struct json_object *d;
	char why[160];

	leader_open(&l);
	change(&l, "a", "1");
	ck_assert_int_eq(cd_state_copy(&far, &l.s), 0);
	change(&l, "b", "2");
	/* node 3 left: a round among 1 and 2, changes, then node 3 back */
	round_end(&l, 2, 2000);
	change(&l, "c", "3");
	ck_assert_int_eq(cd_state_copy(&near, &l.s), 0);
	change(&l, "a", "4");
	round_end(&l, 3, 3000);
	change(&l, "d", "5");

	r[0] = report(1, &l.s, true);
	r[1] = report(2, &near, true);
	r[2] = report(3, &far, true);
	round_of(&sy, r, 3);
	d = cd_syncdelta_build(&l.log, &sy, CD_SYNCDELTA_MAX_BYTES, why, sizeof(why));
	ck_assert_msg(d != NULL, "no delta: %s", why);
	/* far missed b, a round, c, a, a round and d; near the last three */
	assert_catches_up(d, &far, &l, 6);
	assert_catches_up(d, &near, &l, 3);
	assert_catches_up(d, &l.s, &l, 0);
	json_object_put(d);
	cd_state_free(&far);
	cd_state_free(&near);
	leader_close(&l);
}
END_TEST

/* When a delta cannot serve every member behind, the round needs a snapshot. */
START_TEST(test_snapshot_needed)
{
	struct leader l;
	struct cd_state old, empty;
	struct cd_sync sy;
	struct cd_sync_report r[3];
	struct json_object *d;
	char why[160];
	int i;

	leader_open(&l);
	ck_assert_int_eq(cd_state_copy(&old, &l.s), 0);
	change(&l, "a", "1");
	cd_state_init(&empty);

	/* an older clusterd behind */
	r[0] = report(1, &l.s, true);
	r[1] = report(2, &old, false);
	round_of(&sy, r, 2);
	ck_assert_ptr_null(
		cd_syncdelta_build(&l.log, &sy, CD_SYNCDELTA_MAX_BYTES, why, sizeof(why)));
	ck_assert_str_eq(why, "node 2 takes no deltas");

	/* an empty state */
	r[1] = report(2, &empty, true);
	round_of(&sy, r, 2);
	ck_assert_ptr_null(
		cd_syncdelta_build(&l.log, &sy, CD_SYNCDELTA_MAX_BYTES, why, sizeof(why)));
	ck_assert_str_eq(why, "node 2 has no state");

	/* a member at the same version with another state */
	r[1] = report(2, &l.s, true);
	memset(r[1].checksum, 'f', 64);
	r[2] = report(3, &old, true);
	round_of(&sy, r, 3);
	ck_assert_ptr_null(
		cd_syncdelta_build(&l.log, &sy, CD_SYNCDELTA_MAX_BYTES, why, sizeof(why)));
	ck_assert_str_eq(why, "node 2 holds another state at the same version");

	/* more than the bound */
	r[1] = report(2, &old, true);
	round_of(&sy, r, 2);
	ck_assert_ptr_null(cd_syncdelta_build(&l.log, &sy, 10, why, sizeof(why)));
	ck_assert_str_eq(why, "the changes weigh more than a delta may");
	d = cd_syncdelta_build(&l.log, &sy, CD_SYNCDELTA_MAX_BYTES, why, sizeof(why));
	ck_assert_ptr_nonnull(d);
	json_object_put(d);

	/* older than the log: it holds 64 entries at most */
	for (i = 0; i < 70; i++)
		change(&l, "n", i % 2 ? "1" : "2");
	r[0] = report(1, &l.s, true);
	round_of(&sy, r, 2);
	ck_assert_ptr_null(
		cd_syncdelta_build(&l.log, &sy, CD_SYNCDELTA_MAX_BYTES, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "older than the change log"));
	cd_state_free(&old);
	cd_state_free(&empty);
	leader_close(&l);
}
END_TEST

/* A state not on the delta's path is refused; a bad record stops the replay. */
START_TEST(test_apply_refuses)
{
	struct leader l;
	struct cd_state before, other;
	struct cd_sync sy;
	struct cd_sync_report r[2];
	struct json_object *d, *recs;
	char err[256];
	size_t applied;

	leader_open(&l);
	ck_assert_int_eq(cd_state_copy(&before, &l.s), 0);
	change(&l, "a", "1");
	change(&l, "b", "2");
	r[0] = report(1, &l.s, true);
	r[1] = report(2, &before, true);
	round_of(&sy, r, 2);
	d = cd_syncdelta_build(&l.log, &sy, CD_SYNCDELTA_MAX_BYTES, NULL, 0);
	ck_assert_ptr_nonnull(d);

	/* a version the delta does not pass through */
	ck_assert_int_eq(cd_state_copy(&other, &before), 0);
	other.version.seq += 7;
	ck_assert_int_eq(cd_syncdelta_apply(&other, d, NULL, NULL, &applied, err, sizeof(err)),
			 CD_ERR_NOT_FOUND);
	ck_assert_uint_eq(applied, 0);
	cd_state_free(&other);

	/* a record that leads to another version than it says */
	json_object_object_get_ex(d, "records", &recs);
	json_object_object_add(json_object_array_get_idx(recs, 1), "seq", json_object_new_int64(9));
	ck_assert_int_eq(cd_state_copy(&other, &before), 0);
	ck_assert_int_eq(cd_syncdelta_apply(&other, d, NULL, NULL, &applied, err, sizeof(err)),
			 CD_ERR_CORRUPT);
	ck_assert_uint_eq(applied, 1);
	cd_state_free(&other);

	/* a record that is no change */
	json_object_object_add(json_object_array_get_idx(recs, 0), "record",
			       json_tokener_parse("{\"op\":\"no.such\"}"));
	ck_assert_int_eq(cd_state_copy(&other, &before), 0);
	ck_assert_int_lt(cd_syncdelta_apply(&other, d, NULL, NULL, &applied, err, sizeof(err)), 0);
	ck_assert_uint_eq(applied, 0);
	cd_state_free(&other);

	/* malformed */
	json_object_put(d);
	d = json_tokener_parse("{}");
	ck_assert_int_eq(cd_syncdelta_apply(&before, d, NULL, NULL, &applied, err, sizeof(err)),
			 CD_ERR_PROTOCOL);
	json_object_put(d);
	cd_state_free(&before);
	leader_close(&l);
}
END_TEST

/* A round record is not a change: never applied as one from the network. */
START_TEST(test_round_not_a_change)
{
	struct cd_node_info infos[1] = {info(1)};
	struct json_object *rec = cd_sync_round_record(infos, 1, 5, 1000);
	struct cd_state s;
	char err[256];

	cd_state_init(&s);
	ck_assert_int_lt(cd_state_apply_from(&s, rec, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_state_replay(&s, rec, 0, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.version.epoch, 5);
	ck_assert_uint_eq(s.version.seq, 0);
	ck_assert_uint_eq(s.n_nodes, 1);
	/* not backwards: a round to an epoch not after the state's */
	ck_assert_int_eq(cd_state_replay(&s, rec, 0, err, sizeof(err)), CD_ERR_INVALID);
	json_object_put(rec);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("syncdelta");

	add_tcase(s, test_catch_up_across_rounds);
	add_tcase(s, test_snapshot_needed);
	add_tcase(s, test_apply_refuses);
	add_tcase(s, test_round_not_a_change);
	return run_suite(s);
}
