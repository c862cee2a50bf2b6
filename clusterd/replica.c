#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>
#include <qb/qblog.h>

#include "clusterd/events.h"
#include "clusterd/persist.h"
#include "clusterd/snapstream.h"
#include "clusterd/debugdump.h"
#include "clusterd/nodecall.h"
#include "lib/jsonget.h"
#include "clusterd/clockskew.h"
#include "clusterd/statecheck.h"
#include "core/change.h"
#include "core/changelog.h"
#include "core/msg.h"
#include "core/state_sum.h"
#include "core/syncdelta.h"
#include "clusterd/replica.h"
#include "clusterd/stats.h"
#include "clusterd/timing.h"
#include "lib/looptimer.h"
#include "lib/util.h"

struct pending {
	struct pending *next;
	uint64_t req_id;
	cd_replica_done_fn done;
	void *ctx;
	/* Set once the change was delivered: answered after the next flush. */
	bool delivered;
	int rc;
	char err[256];
};

static struct {
	struct cd_state state;
	struct cd_sync sync;
	/* the last changes and rounds: a member slightly behind gets just them */
	struct cd_changelog log;
	char path[PATH_MAX];
	char checksum[65];
	bool checksum_valid;
	bool dirty;
	/*
	 * This batch of deliveries: a change to the state that may alter the
	 * coordinator's decisions (decide), and how many changes it applied.
	 */
	bool decide;
	unsigned batch_changes;
	/*
	 * And what it can have altered for this node's own work: anything
	 * (local_any), or only the VMs named in local_vms (cd_change_scope()).
	 */
	bool local_any;
	char local_vms[CD_REPLICA_BATCH_VMS][64];
	size_t n_local_vms;
	/* resynced: its flushes fail until it takes the state again (said once) */
	bool held, held_said;
	/* the changes sent in place of a snapshot did not lead to the sender's state */
	bool delta_failed;
	bool report_sent;
	uint64_t next_req_id;
	struct pending *pending;
	void (*listener)(void);

	/* the bound on a round (sync.h) */
	qb_loop_t *loop;
	uint64_t sync_timeout_ms;
	qb_loop_timer_handle timer;
	bool timer_armed;
	uint64_t timer_round;
	uint32_t timer_step;
	/* the CPG members of the last configuration (for a restarted round) */
	uint32_t members[CD_SYNC_MAX_MEMBERS];
	size_t n_members;
	/* left out: ask for a new round after restart_ms (doubling while left out) */
	qb_loop_timer_handle restart_timer;
	bool restart_armed;
	uint64_t restart_ms;
} replica;

/* how many of the round's left-out members were already told of */
static size_t left_out_seen;
/* this node's information changed after its report went out */
static bool info_stale;

void cd_replica_set_listener(void (*fn)(void))
{
	replica.listener = fn;
}

static const char *state_checksum(void)
{
	if (!replica.checksum_valid)
		replica.checksum_valid = cd_state_checksum(&replica.state, replica.checksum) == 0;
	return replica.checksum;
}

const char *cd_replica_checksum(void)
{
	return state_checksum();
}

static void changed(void)
{
	replica.dirty = true;
	replica.checksum_valid = false;
	replica.decide = true;
	replica.local_any = true;
}

/* Change c applied: as changed(), with a decision only if c can alter one. */
static void change_applied(const struct json_object *c)
{
	bool decide = replica.decide, local_any = replica.local_any;
	enum cd_change_scope scope;
	const char *vm;

	changed();
	scope = cd_change_scope(&replica.state, c, &vm);
	replica.decide = decide || scope == CD_SCOPE_ANY;
	replica.local_any = local_any || scope == CD_SCOPE_ANY;
	if (scope == CD_SCOPE_VM && !replica.local_any) {
		if (replica.n_local_vms == CD_REPLICA_BATCH_VMS)
			replica.local_any = true;
		else
			cd_strlcpy(replica.local_vms[replica.n_local_vms++], vm,
				   sizeof(replica.local_vms[0]));
	}
	replica.batch_changes++;
}

bool cd_replica_decision_needed(void)
{
	return replica.decide || replica.batch_changes == 0;
}

bool cd_replica_batch_vms_only(const char (**vms)[64], size_t *n)
{
	*vms = replica.local_vms;
	*n = replica.n_local_vms;
	return !replica.local_any && replica.batch_changes > 0;
}

/*
 * A record of the history (a change, or a round's end) applied, leading to
 * version v: into the change log, and journaled.
 */
static void record_at(const struct json_object *rec, uint32_t sender, struct cd_version v)
{
	if (replica.log.ring)
		cd_changelog_add(&replica.log, v, sender,
				 json_object_to_json_string_ext((struct json_object *)rec,
								JSON_C_TO_STRING_PLAIN));
	cd_persist_change(rec, sender, v);
}

/* The same, the state now at its version. */
static void record(const struct json_object *rec, uint32_t sender)
{
	record_at(rec, sender, replica.state.version);
}

/* The state was replaced (a snapshot adopted, its version forgotten): no change leads here. */
static void replaced(void)
{
	changed();
	cd_changelog_reset(&replica.log, replica.state.version);
	cd_persist_replaced();
}

int cd_replica_init(const char *state_dir)
{
	int rc;

	if (snprintf(replica.path, sizeof(replica.path), "%s", state_dir) >=
	    (int)sizeof(replica.path))
		return -ENAMETOOLONG;
	rc = cd_persist_open(state_dir, &replica.state);
	if (rc < 0)
		return rc;
	/* Without memory for it the log stays unanchored: every catch-up is a snapshot. */
	if (cd_changelog_init(&replica.log, 0, 0) == 0)
		cd_changelog_reset(&replica.log, replica.state.version);
	replica.next_req_id = 1;
	replica.restart_ms = CD_SYNC_RESTART_FIRST_MS;
	changed();
	replica.dirty = false;
	return rc;
}

void cd_replica_fini(void)
{
	struct pending *p;

	while ((p = replica.pending)) {
		replica.pending = p->next;
		free(p);
	}
	cd_persist_close();
	cd_snapstream_fini();
	cd_changelog_free(&replica.log);
	cd_state_free(&replica.state);
}

const struct cd_state *cd_replica_state(void)
{
	return &replica.state;
}

enum cd_sync_phase cd_replica_phase(void)
{
	return replica.sync.phase;
}

bool cd_replica_quorate(void)
{
	return replica.sync.phase == CD_SYNC_DONE && replica.sync.quorate &&
	       cd_membership_quorate();
}

bool cd_replica_left_out(void)
{
	return replica.sync.phase == CD_SYNC_LEFT_OUT;
}

bool cd_replica_node_left_out(uint32_t nodeid)
{
	return cd_sync_is_left_out(&replica.sync, nodeid);
}

uint32_t cd_replica_coordinator(void)
{
	/* Members are kept sorted by node id. */
	return cd_replica_quorate() && replica.sync.n_members ? replica.sync.members[0] : 0;
}

uint64_t cd_replica_round(void)
{
	return replica.sync.round;
}

size_t cd_replica_members(const uint32_t **members)
{
	*members = replica.sync.members;
	return replica.sync.n_members;
}

static int send_msg(enum cd_msg_type type, uint64_t req_id, uint64_t round,
		    struct json_object *body)
{
	void *buf;
	size_t len;
	int rc = cd_msg_build(type, cd_membership_local_nodeid(), req_id, round, body, &buf, &len);

	if (rc == 0) {
		rc = cd_membership_send(buf, len);
		free(buf);
	}
	if (rc < 0)
		qb_log(LOG_ERR, "cannot send %s: %s", cd_msg_type_to_str(type), cd_strerror(rc));
	return rc;
}

/* A change: packed when it is large and every member of the round takes it so. */
static int send_change(uint64_t req_id, const struct json_object *change)
{
	void *buf;
	size_t len, text_len;
	bool packed;
	int rc = cd_msg_build_change(cd_membership_local_nodeid(), req_id, change,
				     cd_sync_packed_changes(&replica.sync), &buf, &len, &packed,
				     &text_len);

	if (rc == 0) {
		rc = cd_membership_send(buf, len);
		free(buf);
	}
	if (rc == 0)
		cd_stats_change_sent(packed, text_len, len - sizeof(struct cd_msg_hdr));
	if (rc < 0)
		qb_log(LOG_ERR, "cannot send change: %s", cd_strerror(rc));
	return rc;
}

/* --- sync rounds --- */

static void try_send_report(void)
{
	struct cd_sync_report rep;
	struct json_object *o;

	if (replica.report_sent || replica.sync.phase != CD_SYNC_COLLECT ||
	    !cd_membership_quorum_current())
		return;
	memset(&rep, 0, sizeof(rep));
	rep.nodeid = cd_membership_local_nodeid();
	rep.version = replica.state.version;
	cd_strlcpy(rep.checksum, state_checksum(), sizeof(rep.checksum));
	rep.quorate = cd_membership_quorate();
	rep.wall_ms = cd_wall_ms();
	rep.delta = true;
	rep.zchunks = true;
	rep.zchanges = true;
	cd_membership_local_info(&rep.info);
	o = cd_sync_report_to_json(&rep);
	send_msg(CD_MSG_SYNC_STATE, 0, replica.sync.round, o);
	json_object_put(o);
	replica.report_sent = true;
	info_stale = false;
}

static void fail_pending(int rc, const char *why)
{
	struct pending *p;

	for (p = replica.pending; p; p = p->next) {
		if (p->delivered)
			continue;
		p->delivered = true;
		p->rc = rc;
		cd_strlcpy(p->err, why, sizeof(p->err));
	}
}

/* --- the bound on a round --- */

static void arm_round_timer(void);

static void round_timer_cb(void *data)
{
	struct json_object *o;

	replica.timer_armed = false;
	if ((replica.sync.phase != CD_SYNC_COLLECT &&
	     replica.sync.phase != CD_SYNC_WAIT_SNAPSHOT) ||
	    replica.sync.round != replica.timer_round || replica.sync.step != replica.timer_step)
		return;
	qb_log(LOG_WARNING,
	       "sync round %016" PRIx64 " still %s after %" PRIu64
	       " ms (%zu of %zu reports): asking to leave out the silent",
	       replica.sync.round, cd_sync_phase_to_str(replica.sync.phase),
	       replica.sync_timeout_ms, replica.sync.n_have, replica.sync.n_members);
	o = json_object_new_object();
	json_object_object_add(o, "step", json_object_new_int64(replica.sync.step));
	send_msg(CD_MSG_SYNC_TIMEOUT, 0, replica.sync.round, o);
	json_object_put(o);
	/* Until the round moves on: the timeout may have changed nothing yet. */
	arm_round_timer();
}

/* Keep a deadline on what the round waits for now; none once it is over. */
static void arm_round_timer(void)
{
	bool open = replica.sync.phase == CD_SYNC_COLLECT ||
		    replica.sync.phase == CD_SYNC_WAIT_SNAPSHOT;

	if (!replica.loop || !replica.sync_timeout_ms)
		return;
	if (replica.timer_armed && (!open || replica.timer_round != replica.sync.round ||
				    replica.timer_step != replica.sync.step)) {
		cd_timer_del(replica.loop, replica.timer);
		replica.timer_armed = false;
	}
	if (!open || replica.timer_armed)
		return;
	if (cd_timer_add(replica.loop, QB_LOOP_HIGH, replica.sync_timeout_ms * 1000000ull, NULL,
			 round_timer_cb, &replica.timer) == 0) {
		replica.timer_armed = true;
		replica.timer_round = replica.sync.round;
		replica.timer_step = replica.sync.step;
	}
}

/* The round made progress on what it waits for: its deadline starts again. */
static void rearm_round_timer(void)
{
	if (replica.timer_armed) {
		cd_timer_del(replica.loop, replica.timer);
		replica.timer_armed = false;
	}
	arm_round_timer();
}

void cd_replica_set_sync_timeout(qb_loop_t *loop, uint64_t sync_timeout_ms)
{
	replica.loop = loop;
	replica.sync_timeout_ms = sync_timeout_ms;
}

static void restart_cb(void *data);

/* Ask for a new round restart_ms from now. */
static void arm_restart(void)
{
	if (replica.loop && cd_timer_add(replica.loop, QB_LOOP_MED, replica.restart_ms * 1000000ull,
					 NULL, restart_cb, &replica.restart_timer) == 0)
		replica.restart_armed = true;
}

/* Ask every member for a new round (on_sync_restart()). */
static void send_restart(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "nonce",
			       json_object_new_int64((int64_t)(cd_random_id() & INT64_MAX)));
	send_msg(CD_MSG_SYNC_RESTART, 0, replica.sync.round, o);
	json_object_put(o);
}

int cd_replica_send(enum cd_msg_type type, struct json_object *body)
{
	return send_msg(type, 0, replica.sync.round, body);
}

void cd_replica_resync(void)
{
	replica.state.version.epoch = 0;
	replica.state.version.seq = 0;
	replica.checksum_valid = false;
	cd_changelog_reset(&replica.log, replica.state.version);
	replica.held = true;
	replica.held_said = false;
	send_restart();
}

#ifdef CD_TEST_HOOKS
int cd_replica_debug_diverge(void)
{
	struct json_object *c = json_object_new_object();
	char err[256];
	int rc;

	json_object_object_add(c, "key", json_object_new_string("flap-limit"));
	json_object_object_add(c, "value", json_object_new_string("0"));
	rc = cd_state_op_property_set(&replica.state, c, err, sizeof(err));
	json_object_put(c);
	replica.checksum_valid = false;
	qb_log(LOG_WARNING, "test aid: this node's state changed without a change (flap-limit 0)");
	return rc;
}
#endif

static void restart_cb(void *data)
{
	replica.restart_armed = false;
	if (replica.sync.phase != CD_SYNC_LEFT_OUT && !replica.delta_failed)
		return;
	qb_log(LOG_NOTICE, "%s sync round %016" PRIx64 ": asking for a new round",
	       replica.delta_failed ? "not caught up by" : "left out of", replica.sync.round);
	send_restart();
	/* Again later if the request is lost with a configuration change. */
	arm_restart();
}

/*
 * This node's information changed after its report: once the round is
 * over, a new round if the state records something else. A round under
 * way looks again when it ends; a left-out member's own request for a
 * round, and any new round, send a new report, which clears info_stale.
 * A request lost with a configuration change is not missed: that change
 * starts a round of its own.
 */
static void check_local_info(void)
{
	struct cd_node_info now;
	const struct cd_node *n;

	if (!info_stale || replica.sync.phase != CD_SYNC_DONE)
		return;
	info_stale = false;
	cd_membership_local_info(&now);
	n = cd_state_node_by_id(&replica.state, now.id);
	if (!cd_sync_info_needs_round(&replica.sync, n ? &n->info : NULL, &now))
		return;
	qb_log(LOG_NOTICE, "this node's information changed since the cluster recorded it "
			   "(CPU models from libvirt): asking for a new sync round");
	send_restart();
}

void cd_replica_local_info_changed(void)
{
	/* A report yet to go carries the new information itself. */
	info_stale = replica.report_sent;
	check_local_info();
}

static void cancel_restart(void)
{
	if (replica.restart_armed) {
		cd_timer_del(replica.loop, replica.restart_timer);
		replica.restart_armed = false;
	}
}

static void begin_round(uint64_t round, const uint32_t *members, size_t n)
{
	cd_stats_sync_begun(cd_now_ms());
	cancel_restart();
	cd_statecheck_round();
	cd_sync_begin(&replica.sync, round, members, n);
	left_out_seen = 0;
	replica.delta_failed = false;
	replica.report_sent = false;
	/*
	 * A change this node sent before the configuration changed is either
	 * delivered before the confchg (and done) or dropped by every member
	 * during the round: tell its client to retry.
	 */
	fail_pending(CD_ERR_SYNCING, "membership changed while the change was in flight; retry");
	arm_round_timer();
	try_send_report();
}

static void on_confchg(uint64_t round, const uint32_t *members, size_t n)
{
	if (n > CD_SYNC_MAX_MEMBERS)
		n = CD_SYNC_MAX_MEMBERS;
	memcpy(replica.members, members, n * sizeof(*members));
	replica.n_members = n;
	begin_round(round, members, n);
}

static void on_quorum(void)
{
	try_send_report();
}

static void finish_round(void)
{
	struct cd_node_info infos[CD_SYNC_MAX_MEMBERS];
	size_t i;

	cd_stats_sync_done(cd_now_ms());
	if (replica.sync.quorate) {
		uint64_t epoch = cd_sync_next_epoch(&replica.sync),
			 wall = cd_sync_wall_ms(&replica.sync);
		struct json_object *rec;

		for (i = 0; i < replica.sync.n_members; i++)
			infos[i] = replica.sync.reports[i].info;
		/* A record of the round: a member that misses it replays it (syncdelta.h). */
		rec = cd_sync_round_record(infos, replica.sync.n_members, epoch, wall);
		cd_state_sync_finish(&replica.state, infos, replica.sync.n_members, epoch, wall);
		changed();
		record(rec, 0);
		json_object_put(rec);
	}
	replica.restart_ms =
		CD_SYNC_RESTART_FIRST_MS; /* taken in: a later left-out waits short again */
	cd_event("cluster", "membership", "%zu members, %s, coordinator %u", replica.sync.n_members,
		 replica.sync.quorate ? "quorate" : "NOT quorate", cd_replica_coordinator());
	qb_log(LOG_NOTICE,
	       "sync round %016" PRIx64 " complete: %zu members, %s, state %" PRIu64 ".%" PRIu64
	       ", coordinator %u",
	       replica.sync.round, replica.sync.n_members,
	       replica.sync.quorate ? "quorate" : "NOT quorate", replica.state.version.epoch,
	       replica.state.version.seq, cd_replica_coordinator());
	check_local_info();
}

/*
 * Members left out of the round since the last look: say so; this member
 * among them stops taking part until a later round takes it in.
 */
static void note_left_out(const char *why)
{
	uint32_t self = cd_membership_local_nodeid();
	size_t i;

	for (i = left_out_seen; i < replica.sync.n_left_out; i++) {
		uint32_t n = replica.sync.left_out[i];

		qb_log(LOG_WARNING, "sync round %016" PRIx64 ": node %u left out (%s)",
		       replica.sync.round, n, why);
		cd_event("cluster", "sync", "node %u left out of a sync round: %s%s", n, why,
			 n == self ? "; this node counts itself without quorum until it is "
				     "taken in again"
				   : "");
	}
	left_out_seen = replica.sync.n_left_out;
	if (replica.sync.phase != CD_SYNC_LEFT_OUT && cd_sync_is_left_out(&replica.sync, self)) {
		replica.sync.phase = CD_SYNC_LEFT_OUT;
		fail_pending(CD_ERR_SYNCING, "this node was left out of the sync round; retry");
		cancel_restart();
		arm_restart();
		/* Left out again soon after: wait longer before the next try. */
		replica.restart_ms = replica.restart_ms * 2 > CD_SYNC_RESTART_MAX_MS
					     ? CD_SYNC_RESTART_MAX_MS
					     : replica.restart_ms * 2;
	}
}

/*
 * This node has the newest state: send the members behind just the changes
 * they lack, if its log holds them all and they weigh little. False: a
 * snapshot is needed.
 */
static bool send_delta(void)
{
	struct json_object *d, *recs;
	char why[160];
	int rc;

	d = cd_syncdelta_build(&replica.log, &replica.sync, CD_SYNCDELTA_MAX_BYTES, why,
			       sizeof(why));
	if (!d) {
		qb_log(LOG_INFO, "sync round %016" PRIx64 ": a snapshot, not the changes: %s",
		       replica.sync.round, why);
		return false;
	}
	json_object_object_get_ex(d, "records", &recs);
	rc = send_msg(CD_MSG_SYNC_DELTA, 0, replica.sync.round, d);
	if (rc == 0)
		qb_log(LOG_NOTICE,
		       "sync round %016" PRIx64 ": sending the %zu change(s) the members behind "
		       "lack, not a snapshot",
		       replica.sync.round, json_object_array_length(recs));
	json_object_put(d);
	return rc == 0;
}

/* What the round does after a report, a timeout or a bad message. */
static void round_step(enum cd_sync_step step, const char *why)
{
	note_left_out(why);
	switch (step) {
	case CD_SYNC_STEP_MORE:
	case CD_SYNC_STEP_IGNORED:
		break;
	case CD_SYNC_STEP_COMPLETE:
		if (replica.sync.phase == CD_SYNC_DONE)
			finish_round();
		break;
	case CD_SYNC_STEP_SNAPSHOT:
		qb_log(LOG_INFO,
		       "node %u has the newest state %" PRIu64 ".%" PRIu64 " and sends a snapshot",
		       replica.sync.snapshot_from, replica.sync.best.epoch, replica.sync.best.seq);
		/* One that cannot be built or sent times out like silence. */
		if (replica.sync.snapshot_from == cd_membership_local_nodeid() && !send_delta())
			cd_snapstream_send(replica.sync.round, replica.sync.step, &replica.state,
					   state_checksum(), cd_sync_snapshot_form(&replica.sync));
		break;
	}
	arm_round_timer();
}

static void on_sync_state(const struct cd_msg *msg)
{
	struct cd_sync_report rep;

	if (cd_sync_report_from_json(&rep, msg->sender, msg->body) < 0) {
		qb_log(LOG_ERR, "node %u sent a malformed sync report", msg->sender);
		round_step(cd_sync_leave_out(&replica.sync, msg->round, msg->sender),
			   "its sync report was malformed");
		return;
	}
	cd_clockskew_seen(msg->sender, rep.wall_ms);
	round_step(cd_sync_add_report(&replica.sync, msg->round, &rep), "");
}

static void on_sync_timeout(const struct cd_msg *msg)
{
	struct json_object *v;
	int64_t step;
	char why[96];

	if (!json_object_object_get_ex(msg->body, "step", &v) ||
	    !json_object_is_type(v, json_type_int) || (step = json_object_get_int64(v)) < 0 ||
	    step > UINT32_MAX)
		return;
	snprintf(why, sizeof(why), "silent past node %u's sync timeout", msg->sender);
	round_step(cd_sync_timeout(&replica.sync, msg->round, (uint32_t)step), why);
}

static void on_sync_restart(const struct cd_msg *msg)
{
	struct json_object *v;
	uint64_t round;

	/* Only a request made in the current round: a later one supersedes it. */
	if (msg->round != replica.sync.round ||
	    !json_object_object_get_ex(msg->body, "nonce", &v) ||
	    !json_object_is_type(v, json_type_int))
		return;
	round = cd_sync_restart_token(replica.sync.round, (uint64_t)json_object_get_int64(v));
	qb_log(LOG_NOTICE, "node %u asks to be taken in again: new sync round %016" PRIx64,
	       msg->sender, round);
	begin_round(round, replica.members, replica.n_members);
}

static void adopt_snapshot(const struct cd_msg *msg, const struct json_object *body);

/* The round's snapshot is taken (adopted, or this member's own): the round ends. */
static void snapshot_taken(void)
{
	replica.sync.phase = CD_SYNC_DONE;
	finish_round();
	arm_round_timer();
}

/*
 * The snapshot is this member's state byte for byte (snapstream.h): the
 * round ends here as an adoption would end it, and the state, its change
 * log and its journal stay as they are.
 */
static void keep_own_state(const struct cd_msg *msg)
{
	if (msg->sender != cd_membership_local_nodeid())
		qb_log(LOG_INFO,
		       "snapshot %" PRIu64 ".%" PRIu64 " from node %u is this node's state: kept",
		       replica.state.version.epoch, replica.state.version.seq, msg->sender);
	cd_heap_trim();
	snapshot_taken();
}

static void on_snapshot(const struct cd_msg *msg)
{
	if (cd_sync_snapshot_ok(&replica.sync, msg->round, msg->sender))
		adopt_snapshot(msg, msg->body);
}

/* A chunk of a large snapshot: taken once its last chunk is in. */
static void on_snapshot_chunk(const struct cd_msg *msg)
{
	struct json_object *body = NULL;
	char err[256];
	int rc;

	if (!cd_sync_snapshot_ok(&replica.sync, msg->round, msg->sender))
		return;
	rc = cd_snapstream_chunk(msg, replica.sync.round, replica.sync.step,
				 replica.sync.snapshot_from, state_checksum(), &body, err,
				 sizeof(err));
	if (rc == CD_CHUNKS_MORE) {
		/* The snapshot comes: the round's deadline counts from its last chunk. */
		rearm_round_timer();
	} else if (rc == CD_CHUNKS_COMPLETE && !body) {
		keep_own_state(msg);
	} else if (rc == CD_CHUNKS_COMPLETE) {
		adopt_snapshot(msg, body);
		json_object_put(body);
		cd_heap_trim();
	} else if (rc < 0) {
		qb_log(LOG_ERR, "snapshot from node %u is invalid: %s", msg->sender, err);
		round_step(cd_sync_leave_out(&replica.sync, msg->round, msg->sender),
			   "its snapshot was invalid");
	}
}

/* What a delta replayed onto a copy: recorded once the copy is taken. */
struct replay {
	struct {
		struct json_object *rec;
		uint32_t sender;
		struct cd_version v;
	} * recs;
	size_t n, cap;
	bool oom;
};

static void replayed(void *ctx, const struct json_object *rec, uint32_t sender, struct cd_version v)
{
	struct replay *r = ctx;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		void *grown = realloc(r->recs, cap * sizeof(*r->recs));

		if (!grown) {
			r->oom = true;
			return;
		}
		r->recs = grown;
		r->cap = cap;
	}
	r->recs[r->n].rec = json_object_get((struct json_object *)rec);
	r->recs[r->n].sender = sender;
	r->recs[r->n].v = v;
	r->n++;
}

/*
 * Replay a delta onto a copy of the state: taken only if it leads to the
 * sender's checksum (want), then its records are logged and journaled.
 * 0, or a negative code with err set (the state is untouched).
 */
static int replay_delta(const struct json_object *delta, const char *want, size_t *applied,
			char *err, size_t errlen)
{
	struct replay r = {0};
	struct cd_state copy;
	char sum[65];
	size_t i;
	int rc;

	*applied = 0;
	if (!want) {
		cd_strlcpy(err, "no report of the sender", errlen);
		return CD_ERR_PROTOCOL;
	}
	rc = cd_state_copy(&copy, &replica.state);
	if (rc < 0) {
		cd_strlcpy(err, "out of memory", errlen);
		return rc;
	}
	copy.vm_hook = NULL; /* history, as a snapshot brings it: no events */
	rc = cd_syncdelta_apply(&copy, delta, replayed, &r, applied, err, errlen);
	if (rc == 0 && r.oom) {
		rc = -ENOMEM;
		cd_strlcpy(err, "out of memory", errlen);
	}
	if (rc == 0 && *applied && (cd_state_checksum(&copy, sum) < 0 || strcmp(sum, want))) {
		rc = CD_ERR_CORRUPT;
		cd_strlcpy(err, "they lead to another state than the sender's", errlen);
	}
	if (rc == 0 && *applied) {
		cd_state_free(&replica.state);
		replica.state = copy;
		changed();
		cd_strlcpy(replica.checksum, sum, sizeof(replica.checksum));
		replica.checksum_valid = true;
		for (i = 0; i < r.n; i++)
			record_at(r.recs[i].rec, r.recs[i].sender, r.recs[i].v);
	} else {
		cd_state_free(&copy);
	}
	for (i = 0; i < r.n; i++)
		json_object_put(r.recs[i].rec);
	free(r.recs);
	return rc;
}

/*
 * The changes this node lacks, in place of a snapshot: replayed from its
 * version. If they do not lead to the sender's state (its checksum, from
 * its report), this node keeps its state but forgets its version, and asks
 * for a new round, which sends it a snapshot. Meanwhile the round is not
 * over here (no changes), but this node is not left out: it keeps quorum
 * and its VMs.
 */
static void on_sync_delta(const struct cd_msg *msg)
{
	const char *want = NULL;
	struct cd_version had = replica.state.version;
	char err[256] = "";
	size_t i, applied = 0;
	int rc = 0;

	if (!cd_sync_snapshot_ok(&replica.sync, msg->round, msg->sender))
		return;
	for (i = 0; i < replica.sync.n_members; i++)
		if (replica.sync.have[i] && replica.sync.reports[i].nodeid == msg->sender)
			want = replica.sync.reports[i].checksum;
	if (msg->sender != cd_membership_local_nodeid())
		rc = replay_delta(msg->body, want, &applied, err, sizeof(err));
	if (rc < 0) {
		qb_log(LOG_ERR,
		       "cannot catch up by the changes from node %u: %s; asking for the whole "
		       "state",
		       msg->sender, err);
		cd_event("cluster", "sync",
			 "this node could not catch up by node %u's changes (%s): it takes the "
			 "whole state in a new round",
			 msg->sender, err);
		replica.sync.phase = CD_SYNC_COLLECT;
		replica.delta_failed = true;
		cancel_restart();
		cd_replica_resync();
		arm_restart();
		return;
	}
	if (applied)
		qb_log(LOG_NOTICE,
		       "caught up from %" PRIu64 ".%" PRIu64 " to %" PRIu64 ".%" PRIu64
		       " by %zu change(s) from node %u, not a snapshot",
		       had.epoch, had.seq, replica.state.version.epoch, replica.state.version.seq,
		       applied, msg->sender);
	replica.sync.phase = CD_SYNC_DONE;
	finish_round();
	arm_round_timer();
}

/* The snapshot body of msg's sender, the one the round waits for. */
static void adopt_snapshot(const struct cd_msg *msg, const struct json_object *body)
{
	struct cd_state s;
	char err[256];
	int rc;

	/*
	 * Every member parses the same bytes, the sender its own too, so all
	 * decide alike: an invalid snapshot leaves its sender out.
	 */
	rc = cd_state_from_json(&s, body, err, sizeof(err));
	if (rc < 0) {
		qb_log(LOG_ERR, "snapshot from node %u is invalid: %s", msg->sender, err);
		round_step(cd_sync_leave_out(&replica.sync, msg->round, msg->sender),
			   "its snapshot was invalid");
		return;
	}
	if (msg->sender == cd_membership_local_nodeid()) {
		cd_state_free(&s);
	} else {
		if (cd_version_cmp(s.version, replica.state.version) < 0)
			qb_log(LOG_ERR, "snapshot from node %u is older than ours; round logic bug",
			       msg->sender);
		qb_log(LOG_NOTICE,
		       "adopting state %" PRIu64 ".%" PRIu64 " from node %u (had %" PRIu64
		       ".%" PRIu64 ")",
		       s.version.epoch, s.version.seq, msg->sender, replica.state.version.epoch,
		       replica.state.version.seq);
		cd_state_free(&replica.state);
		replica.state = s;
		replaced();
	}
	snapshot_taken();
}

/* --- changes --- */

/* A VM's transition, as a change applies it: an event for people, a count for the metrics. */
static void vm_transition(void *ctx, const struct cd_vm_transition_rec *t)
{
	cd_event_vm_transition(ctx, t);
	cd_stats_vm_transition(ctx, t);
}

static struct pending *find_pending(uint64_t req_id)
{
	struct pending *p;

	for (p = replica.pending; p; p = p->next)
		if (p->req_id == req_id)
			return p;
	return NULL;
}

/* Every applied change at debug level: the blackbox holds the recent ones. */
static void log_applied(const struct json_object *c, uint32_t sender)
{
	const char *op = cd_jget_str(c, "op"), *subject = cd_jget_str(c, "name");

	if (!subject)
		subject = cd_jget_str(c, "key");
	qb_log(LOG_DEBUG, "applied %s%s%s from node %" PRIu32 ": version %" PRIu64 ".%" PRIu64,
	       op ? op : "?", subject ? " " : "", subject ? subject : "", sender,
	       replica.state.version.epoch, replica.state.version.seq);
}

static void on_change(const struct cd_msg *msg)
{
	bool mine = msg->sender == cd_membership_local_nodeid();
	struct pending *p = mine ? find_pending(msg->req_id) : NULL;
	char err[256] = "";
	int rc;

	/*
	 * Whether a change applies depends only on what every member knows at
	 * this point of the stream: the round must be done and the partition
	 * quorate as the round found it.
	 */
	if (replica.sync.phase != CD_SYNC_DONE) {
		rc = CD_ERR_SYNCING;
		cd_strlcpy(err, "membership changed while the change was in flight; retry",
			   sizeof(err));
	} else if (!replica.sync.quorate) {
		rc = CD_ERR_NOT_QUORATE;
		cd_strlcpy(err, "this node's partition has no quorum: changes are refused",
			   sizeof(err));
	} else {
		/*
		 * The hook is not state: a snapshot or a loaded state comes
		 * without it, so it is set where changes are applied.
		 */
		replica.state.vm_hook = vm_transition;
		rc = cd_state_apply_from(&replica.state, msg->body, msg->sender, err, sizeof(err));
		if (rc == 0) {
			log_applied(msg->body, msg->sender);
			change_applied(msg->body);
			record(msg->body, msg->sender);
			cd_event_change(msg->body, msg->sender);
		} else
			qb_log(LOG_INFO, "change from node %u refused: %s", msg->sender, err);
	}
	if (p && !p->delivered) {
		p->delivered = true;
		p->rc = rc;
		cd_strlcpy(p->err, err, sizeof(p->err));
	}
}

static void on_deliver(uint32_t nodeid, const void *buf, size_t len)
{
	struct cd_msg msg;
	char err[256];

	if (cd_msg_parse(buf, len, nodeid, &msg, err, sizeof(err)) < 0) {
		qb_log(LOG_ERR, "dropped a message from node %u: %s", nodeid, err);
		return;
	}
	switch (msg.type) {
	case CD_MSG_SYNC_STATE:
		on_sync_state(&msg);
		break;
	case CD_MSG_SNAPSHOT:
		on_snapshot(&msg);
		break;
	case CD_MSG_SNAPSHOT_CHUNK:
		on_snapshot_chunk(&msg);
		break;
	case CD_MSG_SYNC_DELTA:
		on_sync_delta(&msg);
		break;
	case CD_MSG_STATE_CHECK:
		if (replica.sync.phase == CD_SYNC_DONE && msg.round == replica.sync.round)
			cd_statecheck_on_check(&msg);
		break;
	case CD_MSG_STATE_SUM:
		if (replica.sync.phase == CD_SYNC_DONE && msg.round == replica.sync.round)
			cd_statecheck_on_sum(&msg);
		break;
	case CD_MSG_CHANGE:
	case CD_MSG_CHANGE_PACKED: /* parsed as a change: not seen here */
		on_change(&msg);
		break;
	case CD_MSG_SYNC_TIMEOUT:
		on_sync_timeout(&msg);
		break;
	case CD_MSG_SYNC_RESTART:
		on_sync_restart(&msg);
		break;
	case CD_MSG_DUMP_REQUEST:
		/* Diagnostics: not state, answered whatever the sync phase. */
		cd_debugdump_on_request(&msg);
		break;
	case CD_MSG_DUMP_CHUNK:
		cd_debugdump_on_chunk(&msg);
		break;
	case CD_MSG_NODE_CALL:
		/* Answered whatever the sync phase: the method says what it needs. */
		cd_nodecall_on_call(&msg);
		break;
	case CD_MSG_NODE_REPLY:
		cd_nodecall_on_reply(&msg);
		break;
	}
	cd_msg_clear(&msg);
}

/*
 * After a batch of deliveries: persist once, then answer every client whose
 * change is now durable (group commit: one fsync for many changes).
 */
static void on_flush(void)
{
	struct pending **pp = &replica.pending, *p;
	char err[256];
	int rc;

	if (replica.dirty) {
		rc = cd_persist_flush(&replica.state, err, sizeof(err));
		if (rc < 0) {
			/* Nothing is acknowledged that is not on disk. */
			if (!replica.held)
				qb_log(LOG_CRIT, "cannot persist state in %s: %s", replica.path,
				       err);
			else if (!replica.held_said)
				qb_log(LOG_NOTICE, "changes held until this node is resynced (%s)",
				       err);
			replica.held_said = replica.held;
			return;
		}
		replica.dirty = false;
		replica.held = false;
	}
	while ((p = *pp)) {
		if (!p->delivered) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if (p->done)
			p->done(p->ctx, p->rc, p->err);
		free(p);
	}
	if (replica.listener)
		replica.listener();
	replica.decide = false;
	replica.local_any = false;
	replica.n_local_vms = 0;
	replica.batch_changes = 0;
}

static void on_lost(void)
{
	replica.sync.phase = CD_SYNC_IDLE;
	cancel_restart();
	arm_round_timer();
	fail_pending(CD_ERR_NOT_JOINED, "lost the connection to corosync");
	on_flush();
}

const struct cd_membership_ops cd_replica_membership_ops = {
	.confchg = on_confchg,
	.deliver = on_deliver,
	.flush = on_flush,
	.quorum = on_quorum,
	.lost = on_lost,
	.info_changed = cd_replica_local_info_changed,
};

int cd_replica_submit(const struct json_object *change, cd_replica_done_fn done, void *ctx)
{
	struct pending *p;
	int rc;

	if (!cd_membership_joined() || replica.sync.phase == CD_SYNC_IDLE)
		return CD_ERR_NOT_JOINED;
	if (replica.sync.phase != CD_SYNC_DONE)
		return CD_ERR_SYNCING;
	if (!replica.sync.quorate || !cd_membership_quorate())
		return CD_ERR_NOT_QUORATE;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->req_id = replica.next_req_id++;
	p->done = done;
	p->ctx = ctx;
	rc = send_change(p->req_id, change);
	if (rc < 0) {
		/* Never sent (too large for a change, or no connection): say so now. */
		free(p);
		return rc;
	}
	p->next = replica.pending;
	replica.pending = p;
	return 0;
}
