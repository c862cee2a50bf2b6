/*
 * Divergence checks of the replicated state (statecheck.h).
 *
 * A check is named by a random id. At its delivery each member copies its
 * state and hands the copy to a thread that hashes it as the sync reports
 * do (SHA-256 of the canonical JSON); a timer looks for the result and
 * multicasts it. The verdict uses only delivered sums, so every member
 * reaches it at the same point of the stream. One check at a time: the
 * coordinator asks again only once the last one is decided or dropped.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/events.h"
#include "clusterd/membership.h"
#include "clusterd/offloop.h"
#include "clusterd/replica.h"
#include "clusterd/clockskew.h"
#include "clusterd/statecheck.h"
#include "core/statecheck.h"
#include "core/state_sum.h"
#include "lib/jsonget.h"
#include "lib/looptimer.h"
#include "lib/util.h"

#define POLL_NS (100 * 1000000ull)

static struct {
	qb_loop_t *loop;
	uint64_t interval_ms;
	qb_loop_timer_handle timer, poll;
	uint64_t last_asked_ms;
	/* the check under way */
	uint64_t check;
	struct cd_check_sum sums[CD_SYNC_MAX_MEMBERS];
	size_t n_sums;
	/* this node's hash of it */
	struct cd_offloop job;
	uint64_t copy_check;
	char sum[65];
} sc;

static void hash_copy(const struct cd_state *copy, void *ctx)
{
	cd_state_checksum(copy, sc.sum);
}

/* The hash done: this node's sum goes out, if its check is still the one under way. */
static void hashed(const struct cd_state *copy, void *ctx)
{
	struct cd_check_sum mine = {.node = cd_membership_local_nodeid()};
	struct json_object *o;

	mine.version = copy->version;
	cd_strlcpy(mine.checksum, sc.sum, sizeof(mine.checksum));
	if (sc.copy_check != sc.check)
		return;
	o = cd_check_sum_to_json(sc.check, &mine);
	/* Its wall clock, for the clock check (clockskew.h); older members ignore it. */
	json_object_object_add(o, "wall_ms", json_object_new_int64((int64_t)cd_wall_ms()));
	cd_replica_send(CD_MSG_STATE_SUM, o);
	json_object_put(o);
}

static void poll_hash(void *data)
{
	if (!cd_offloop_poll(&sc.job, false))
		cd_timer_add(sc.loop, QB_LOOP_LOW, POLL_NS, NULL, poll_hash, &sc.poll);
}

void cd_statecheck_on_check(const struct cd_msg *msg)
{
	uint64_t check;

	if (cd_jget_u64(msg->body, "check", &check) < 0 || !check)
		return;
	sc.check = check;
	sc.n_sums = 0;
	if (cd_offloop_running(&sc.job))
		return; /* the last one's hash is still under way: no sum from here */
	sc.copy_check = check;
	if (cd_offloop_start(&sc.job, cd_replica_state(), hash_copy, hashed, NULL) < 0)
		return;
	cd_timer_add(sc.loop, QB_LOOP_LOW, POLL_NS, NULL, poll_hash, &sc.poll);
}

/* Every member's sum is in: the verdict, alike on every member. */
static void decide(void)
{
	size_t v = cd_statecheck_verdict(sc.sums, sc.n_sums), i, n_off = 0;
	uint32_t me = cd_membership_local_nodeid();
	bool mine_off = false;
	char off[256] = "";

	for (i = 0; i < sc.n_sums; i++) {
		if (cd_check_sum_same(&sc.sums[i], &sc.sums[v]))
			continue;
		n_off++;
		snprintf(off + strlen(off), sizeof(off) - strlen(off),
			 "%s%u (%" PRIu64 ".%" PRIu64 " %.12s)", n_off > 1 ? ", " : "",
			 sc.sums[i].node, sc.sums[i].version.epoch, sc.sums[i].version.seq,
			 sc.sums[i].checksum);
		mine_off |= sc.sums[i].node == me;
	}
	sc.check = 0;
	if (!n_off) {
		qb_log(LOG_INFO, "state check: %zu members agree on %" PRIu64 ".%" PRIu64 " %.12s",
		       sc.n_sums, sc.sums[v].version.epoch, sc.sums[v].version.seq,
		       sc.sums[v].checksum);
		return;
	}
	qb_log(LOG_CRIT,
	       "state check: node(s) %s differ from the state %zu member(s) hold (%" PRIu64
	       ".%" PRIu64 " %.12s)%s",
	       off, sc.n_sums - n_off, sc.sums[v].version.epoch, sc.sums[v].version.seq,
	       sc.sums[v].checksum, mine_off ? ": this node takes the state again" : "");
	cd_event("cluster", "state",
		 "divergence: node(s) %s differ from the others' state %" PRIu64 ".%" PRIu64 "; %s",
		 off, sc.sums[v].version.epoch, sc.sums[v].version.seq,
		 mine_off ? "this node takes the state again" : "they take the state again");
	if (mine_off)
		cd_replica_resync();
}

void cd_statecheck_on_sum(const struct cd_msg *msg)
{
	const uint32_t *members;
	size_t n = cd_replica_members(&members), i;
	struct cd_check_sum sum;
	uint64_t check;

	uint64_t wall = 0;

	if (cd_check_sum_from_json(msg->body, msg->sender, &check, &sum) < 0)
		return;
	if (cd_jget_u64(msg->body, "wall_ms", &wall) == 0)
		cd_clockskew_seen(msg->sender, wall);
	if (!sc.check || check != sc.check)
		return;
	for (i = 0; i < sc.n_sums; i++)
		if (sc.sums[i].node == msg->sender)
			return;
	if (sc.n_sums == CD_SYNC_MAX_MEMBERS)
		return;
	sc.sums[sc.n_sums++] = sum;
	for (i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < sc.n_sums && sc.sums[k].node != members[i]; k++)
			;
		if (k == sc.n_sums)
			return; /* a member's sum is still to come */
	}
	decide();
}

void cd_statecheck_round(void)
{
	sc.check = 0;
	sc.n_sums = 0;
}

void cd_statecheck_now(void)
{
	struct json_object *o;

	if (cd_replica_coordinator() != cd_membership_local_nodeid())
		return;
	o = json_object_new_object();
	json_object_object_add(o, "check",
			       json_object_new_int64((int64_t)((cd_random_id() & INT64_MAX) | 1)));
	cd_replica_send(CD_MSG_STATE_CHECK, o);
	json_object_put(o);
	sc.last_asked_ms = cd_now_ms();
}

/*
 * The coordinator asks once the interval passed and no check is under
 * way (or the last one has been waited for one interval more: a member
 * that sent no sum, its hash still busy, drops it).
 */
static void tick(void *data)
{
	uint64_t now = cd_now_ms();

	if (cd_replica_quorate() && now >= sc.last_asked_ms + sc.interval_ms &&
	    (!sc.check || now >= sc.last_asked_ms + 2 * sc.interval_ms))
		cd_statecheck_now();
	cd_timer_add(sc.loop, QB_LOOP_LOW, 1000 * 1000000ull, NULL, tick, &sc.timer);
}

void cd_statecheck_init(qb_loop_t *loop, uint64_t interval_ms)
{
	sc.loop = loop;
	sc.interval_ms = interval_ms;
	sc.last_asked_ms = cd_now_ms();
	if (interval_ms)
		cd_timer_add(loop, QB_LOOP_LOW, 1000 * 1000000ull, NULL, tick, &sc.timer);
}

void cd_statecheck_fini(void)
{
	cd_offloop_cancel(&sc.job);
}
