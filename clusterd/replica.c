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
#include "clusterd/msg.h"
#include "clusterd/replica.h"
#include "clusterd/state_file.h"
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
	char path[PATH_MAX];
	char checksum[65];
	bool checksum_valid;
	bool dirty;
	bool report_sent;
	uint64_t next_req_id;
	struct pending *pending;
	void (*listener)(void);
} r;

void cd_replica_set_listener(void (*fn)(void))
{
	r.listener = fn;
}

static const char *state_checksum(void)
{
	if (!r.checksum_valid) {
		struct json_object *o = cd_state_to_json(&r.state);
		const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

		cd_sha256_hex(t, strlen(t), r.checksum);
		json_object_put(o);
		r.checksum_valid = true;
	}
	return r.checksum;
}

const char *cd_replica_checksum(void)
{
	return state_checksum();
}

static void changed(void)
{
	r.dirty = true;
	r.checksum_valid = false;
}

int cd_replica_init(const char *state_dir)
{
	char err[256];
	int rc;

	rc = cd_mkdir_p(state_dir, 0700);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot create state directory %s: %s", state_dir,
		       cd_strerror(rc));
		return rc;
	}
	if (snprintf(r.path, sizeof(r.path), "%s/state.json", state_dir) >= (int)sizeof(r.path))
		return -ENAMETOOLONG;
	rc = cd_state_file_load(r.path, &r.state, err, sizeof(err));
	if (rc == -ENOENT) {
		qb_log(LOG_NOTICE, "no saved state in %s: starting empty", r.path);
		cd_state_init(&r.state);
		rc = 0;
	} else if (rc < 0) {
		qb_log(LOG_ERR, "cannot load %s: %s", r.path, err);
		return rc;
	} else {
		qb_log(LOG_NOTICE, "loaded state %" PRIu64 ".%" PRIu64 " from %s",
		       r.state.version.epoch, r.state.version.seq, r.path);
	}
	r.next_req_id = 1;
	changed();
	r.dirty = false;
	return rc;
}

void cd_replica_fini(void)
{
	struct pending *p;

	while ((p = r.pending)) {
		r.pending = p->next;
		free(p);
	}
	cd_state_free(&r.state);
}

const struct cd_state *cd_replica_state(void)
{
	return &r.state;
}

enum cd_sync_phase cd_replica_phase(void)
{
	return r.sync.phase;
}

bool cd_replica_quorate(void)
{
	return r.sync.phase == CD_SYNC_DONE && r.sync.quorate && cd_membership_quorate();
}

uint32_t cd_replica_coordinator(void)
{
	/* Members are kept sorted by node id. */
	return cd_replica_quorate() && r.sync.n_members ? r.sync.members[0] : 0;
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

/* --- sync rounds --- */

static void try_send_report(void)
{
	struct cd_sync_report rep;
	struct json_object *o;

	if (r.report_sent || r.sync.phase != CD_SYNC_COLLECT || !cd_membership_quorum_current())
		return;
	memset(&rep, 0, sizeof(rep));
	rep.nodeid = cd_membership_local_nodeid();
	rep.version = r.state.version;
	cd_strlcpy(rep.checksum, state_checksum(), sizeof(rep.checksum));
	rep.quorate = cd_membership_quorate();
	rep.wall_ms = cd_wall_ms();
	cd_membership_local_info(&rep.info);
	o = cd_sync_report_to_json(&rep);
	send_msg(CD_MSG_SYNC_STATE, 0, r.sync.round, o);
	json_object_put(o);
	r.report_sent = true;
}

static void fail_pending(int rc, const char *why)
{
	struct pending *p;

	for (p = r.pending; p; p = p->next) {
		if (p->delivered)
			continue;
		p->delivered = true;
		p->rc = rc;
		cd_strlcpy(p->err, why, sizeof(p->err));
	}
}

static void on_confchg(uint64_t round, const uint32_t *members, size_t n)
{
	cd_sync_begin(&r.sync, round, members, n);
	r.report_sent = false;
	/*
	 * A change this node sent before the configuration changed is either
	 * delivered before the confchg (and done) or dropped by every member
	 * during the round: tell its client to retry.
	 */
	fail_pending(CD_ERR_SYNCING, "membership changed while the change was in flight; retry");
	try_send_report();
}

static void on_quorum(void)
{
	try_send_report();
}

static void finish_round(void)
{
	struct cd_node_info infos[CD_SYNC_MAX_MEMBERS];
	size_t i;

	if (r.sync.quorate) {
		uint64_t epoch = cd_sync_next_epoch(&r.sync);

		for (i = 0; i < r.sync.n_members; i++)
			infos[i] = r.sync.reports[i].info;
		cd_state_sync_finish(&r.state, infos, r.sync.n_members, epoch,
				     cd_sync_wall_ms(&r.sync));
		changed();
	}
	cd_event("cluster", "membership", "%zu members, %s, coordinator %u", r.sync.n_members,
		 r.sync.quorate ? "quorate" : "NOT quorate", cd_replica_coordinator());
	qb_log(LOG_NOTICE, "sync round %016" PRIx64 " complete: %zu members, %s, state %" PRIu64
			   ".%" PRIu64 ", coordinator %u",
	       r.sync.round, r.sync.n_members, r.sync.quorate ? "quorate" : "NOT quorate",
	       r.state.version.epoch, r.state.version.seq, cd_replica_coordinator());
}

static void on_sync_state(const struct cd_msg *msg)
{
	struct cd_sync_report rep;
	enum cd_sync_step step;

	if (cd_sync_report_from_json(&rep, msg->sender, msg->body) < 0) {
		qb_log(LOG_ERR, "node %u sent a malformed sync report; ignored", msg->sender);
		return;
	}
	step = cd_sync_add_report(&r.sync, msg->round, &rep);
	switch (step) {
	case CD_SYNC_STEP_MORE:
	case CD_SYNC_STEP_IGNORED:
		return;
	case CD_SYNC_STEP_COMPLETE:
		finish_round();
		return;
	case CD_SYNC_STEP_SNAPSHOT:
		qb_log(LOG_INFO, "node %u has the newest state %" PRIu64 ".%" PRIu64
				 " and sends a snapshot",
		       r.sync.snapshot_from, r.sync.best.epoch, r.sync.best.seq);
		if (r.sync.snapshot_from == cd_membership_local_nodeid()) {
			struct json_object *o = cd_state_to_json(&r.state);

			send_msg(CD_MSG_SNAPSHOT, 0, r.sync.round, o);
			json_object_put(o);
		}
		return;
	}
}

static void on_snapshot(const struct cd_msg *msg)
{
	struct cd_state s;
	char err[256];
	int rc;

	if (!cd_sync_snapshot_ok(&r.sync, msg->round, msg->sender))
		return;
	if (msg->sender != cd_membership_local_nodeid()) {
		rc = cd_state_from_json(&s, msg->body, err, sizeof(err));
		if (rc < 0) {
			/*
			 * Every member parses the same bytes, so every member
			 * fails the same way: the round stays open until the
			 * next configuration change.
			 */
			qb_log(LOG_ERR, "snapshot from node %u is invalid: %s", msg->sender, err);
			return;
		}
		if (cd_version_cmp(s.version, r.state.version) < 0)
			qb_log(LOG_ERR, "snapshot from node %u is older than ours; round logic bug",
			       msg->sender);
		qb_log(LOG_NOTICE, "adopting state %" PRIu64 ".%" PRIu64 " from node %u (had %" PRIu64
				   ".%" PRIu64 ")",
		       s.version.epoch, s.version.seq, msg->sender, r.state.version.epoch,
		       r.state.version.seq);
		cd_state_free(&r.state);
		r.state = s;
		changed();
	}
	r.sync.phase = CD_SYNC_DONE;
	finish_round();
}

/* --- changes --- */

static struct pending *find_pending(uint64_t req_id)
{
	struct pending *p;

	for (p = r.pending; p; p = p->next)
		if (p->req_id == req_id)
			return p;
	return NULL;
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
	if (r.sync.phase != CD_SYNC_DONE) {
		rc = CD_ERR_SYNCING;
		cd_strlcpy(err, "membership changed while the change was in flight; retry",
			   sizeof(err));
	} else if (!r.sync.quorate) {
		rc = CD_ERR_NOT_QUORATE;
		cd_strlcpy(err, "this node's partition has no quorum: changes are refused",
			   sizeof(err));
	} else {
		rc = cd_state_apply(&r.state, msg->body, err, sizeof(err));
		if (rc == 0) {
			changed();
			cd_event_change(msg->body, msg->sender);
		}
		else
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
	case CD_MSG_CHANGE:
		on_change(&msg);
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
	struct pending **pp = &r.pending, *p;
	char err[256];
	int rc;

	if (r.dirty) {
		rc = cd_state_file_save(r.path, &r.state, err, sizeof(err));
		if (rc < 0) {
			/* Nothing is acknowledged that is not on disk. */
			qb_log(LOG_CRIT, "cannot persist state to %s: %s", r.path, err);
			return;
		}
		r.dirty = false;
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
	if (r.listener)
		r.listener();
}

static void on_lost(void)
{
	r.sync.phase = CD_SYNC_IDLE;
	fail_pending(CD_ERR_NOT_JOINED, "lost the connection to corosync");
	on_flush();
}

const struct cd_membership_ops cd_replica_membership_ops = {
	.confchg = on_confchg,
	.deliver = on_deliver,
	.flush = on_flush,
	.quorum = on_quorum,
	.lost = on_lost,
};

int cd_replica_submit(const struct json_object *change, cd_replica_done_fn done, void *ctx)
{
	struct pending *p;
	int rc;

	if (!cd_membership_joined() || r.sync.phase == CD_SYNC_IDLE)
		return CD_ERR_NOT_JOINED;
	if (r.sync.phase != CD_SYNC_DONE)
		return CD_ERR_SYNCING;
	if (!r.sync.quorate || !cd_membership_quorate())
		return CD_ERR_NOT_QUORATE;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->req_id = r.next_req_id++;
	p->done = done;
	p->ctx = ctx;
	rc = send_msg(CD_MSG_CHANGE, p->req_id, 0, (struct json_object *)change);
	if (rc < 0) {
		/* Never sent (too large for a change, or no connection): say so now. */
		free(p);
		return rc;
	}
	p->next = r.pending;
	r.pending = p;
	return 0;
}

void cd_replica_forget(void *ctx)
{
	struct pending *p;

	for (p = r.pending; p; p = p->next)
		if (p->ctx == ctx)
			p->done = NULL;
}
