/*
 * One sync round after a membership change, as a pure state machine.
 *
 * On every configuration change each member multicasts a sync-state report
 * (its state version, the state's checksum, its quorum view for the ring,
 * its own node information). Since CPG delivers the reports in the same
 * order to every member, every member reaches the same decision at the same
 * point of the message stream:
 *   - all versions and checksums equal: the round is complete;
 *   - otherwise the member with the newest version (lowest node id on a tie)
 *     multicasts a snapshot and the round completes when it is delivered.
 * A member with an older or empty state therefore never overwrites a newer
 * one. The partition counts as quorate only if every report says so.
 *
 * A round ends within a bound. A member whose report or snapshot does not
 * come in time is left out: any member whose sync timeout passes
 * multicasts a timeout for the round and its step, and the first one
 * delivered decides at that point of the stream, alike everywhere: the
 * members that have not reported (or the snapshot sender that has not
 * sent) are left out, and the round is decided among the rest. A report
 * or snapshot that does not parse leaves its sender out at once (every
 * member parses the same bytes). A left-out member is not part of the
 * round: to the others it has left; to itself it has lost quorum, until a
 * later round takes it in again.
 */
#ifndef CD_SYNC_H
#define CD_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/state.h"

#define CD_SYNC_MAX_MEMBERS 128

struct cd_sync_report {
	uint32_t nodeid;
	struct cd_version version;
	char checksum[65];
	bool quorate;
	struct cd_node_info info;
	uint64_t wall_ms; /* the reporter's clock; the round's time is the latest */
	bool delta;	  /* it can catch up by a delta (syncdelta.h); older ones cannot */
	bool zchunks;	  /* it takes snapshot chunks packed with zstd (chunks.h, version 2) */
	bool zchanges;	  /* it takes changes packed with zstd (msg.h, CD_MSG_CHANGE_PACKED) */
};

enum cd_sync_phase {
	CD_SYNC_IDLE,	       /* no round (never joined) */
	CD_SYNC_COLLECT,       /* waiting for every member's report */
	CD_SYNC_WAIT_SNAPSHOT, /* waiting for the chosen member's snapshot */
	CD_SYNC_DONE,	       /* state agreed; changes flow */
	CD_SYNC_LEFT_OUT,      /* this member was left out of the round */
};
const char *cd_sync_phase_to_str(enum cd_sync_phase p);

enum cd_sync_step {
	CD_SYNC_STEP_MORE,     /* keep waiting */
	CD_SYNC_STEP_SNAPSHOT, /* a snapshot is needed from sync->snapshot_from */
	CD_SYNC_STEP_COMPLETE, /* every member agrees already */
	CD_SYNC_STEP_IGNORED,  /* stale round, non-member or duplicate */
};

struct cd_sync {
	enum cd_sync_phase phase;
	uint64_t round;
	uint32_t members[CD_SYNC_MAX_MEMBERS];
	size_t n_members;
	struct cd_sync_report reports[CD_SYNC_MAX_MEMBERS]; /* by member index */
	bool have[CD_SYNC_MAX_MEMBERS];
	size_t n_have;
	uint32_t snapshot_from; /* valid in CD_SYNC_WAIT_SNAPSHOT */
	bool quorate;		/* valid once all reports are in */
	struct cd_version best; /* newest version among the reports */
	/*
	 * What the round waits for next: bumped whenever it starts waiting
	 * for something else (a snapshot, another sender), so that a timeout
	 * for what it waited for before changes nothing.
	 */
	uint32_t step;
	uint32_t left_out[CD_SYNC_MAX_MEMBERS]; /* members left out of this round */
	size_t n_left_out;
};

/* Start a round: members are the node ids of the CPG group (any order). */
void cd_sync_begin(struct cd_sync *s, uint64_t round, const uint32_t *members, size_t n);

/* Feed one delivered report of the given round. */
enum cd_sync_step cd_sync_add_report(struct cd_sync *s, uint64_t round,
				     const struct cd_sync_report *r);

/*
 * A delivered timeout of the given round and step: leave out whoever the
 * round still waits for (the members that have not reported, or the
 * snapshot sender) and decide among the rest. CD_SYNC_STEP_IGNORED when
 * the round or step is not the current one, the round is not open, or no
 * member has reported yet (nothing to decide on: the round waits on).
 */
enum cd_sync_step cd_sync_timeout(struct cd_sync *s, uint64_t round, uint32_t step);

/*
 * The member's report or snapshot of the given round did not parse: leave
 * it out if the round waits for it (its report, or its snapshot), and
 * decide if that was all the round waited for.
 */
enum cd_sync_step cd_sync_leave_out(struct cd_sync *s, uint64_t round, uint32_t nodeid);

/* Whether the node was left out of the current round. */
bool cd_sync_is_left_out(const struct cd_sync *s, uint32_t nodeid);

/* A snapshot of the given round from a node: 1 if it is the one awaited. */
int cd_sync_snapshot_ok(const struct cd_sync *s, uint64_t round, uint32_t from);

/* How a large snapshot may go: what the oldest member of the round takes. */
enum cd_sync_snap_form {
	CD_SNAP_INLINE,	 /* one message, up to the snapshot message's cap (an older clusterd) */
	CD_SNAP_CHUNKS,	 /* chunks of its text (chunks.h, wire version 1) */
	CD_SNAP_ZCHUNKS, /* chunks of its text packed with zstd (wire version 2) */
};

/*
 * What every member that reported in round s takes: a report that says
 * it takes deltas comes from a clusterd that takes chunks too; one that
 * says "zchunks" takes them packed.
 */
enum cd_sync_snap_form cd_sync_snapshot_form(const struct cd_sync *s);

/*
 * Whether changes may go packed (CD_MSG_CHANGE_PACKED) in round s: every
 * member of the round reported, and each said it takes them, and none
 * was left out (it gets the messages but never said what it takes).
 */
bool cd_sync_packed_changes(const struct cd_sync *s);

/* The round's time: the latest clock among the reports (for people and flaps). */
uint64_t cd_sync_wall_ms(const struct cd_sync *s);

/* The epoch a quorate partition starts once the round completes. */
uint64_t cd_sync_next_epoch(const struct cd_sync *s);

/* A round token for a CPG configuration: ring id and members (nodeid, pid). */
uint64_t cd_sync_round_token(uint32_t ring_node, uint64_t ring_seq, const uint32_t *nodeids,
			     const uint32_t *pids, size_t n);

/*
 * The token of a round a left-out member asked for (a sync-restart of the
 * round, with the member's nonce): every member derives the same.
 */
uint64_t cd_sync_restart_token(uint64_t round, uint64_t nonce);

/*
 * A member's own node information changed after its report went out (the
 * CPU models libvirt told after the join). The state takes node
 * information only from a round's reports, when a quorate round ends
 * (cd_state_sync_finish()). Whether the member must ask for a new round to
 * get info into the state: only once the round s is over and quorate (a
 * round under way ends with the old report; an inquorate partition records
 * nothing, and the quorate round to come takes a new report), and only if
 * the state records something else of it (recorded; NULL when the state
 * has no record of the node, beyond its limit: a new round would not help).
 */
bool cd_sync_info_needs_round(const struct cd_sync *s, const struct cd_node_info *recorded,
			      const struct cd_node_info *info);

/* JSON of a report, and back (0 or CD_ERR_PROTOCOL). */
struct json_object *cd_sync_report_to_json(const struct cd_sync_report *r);
int cd_sync_report_from_json(struct cd_sync_report *r, uint32_t sender,
			     const struct json_object *o);

#endif
