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
 */
#ifndef CD_SYNC_H
#define CD_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clusterd/state.h"

#define CD_SYNC_MAX_MEMBERS 128

struct cd_sync_report {
	uint32_t nodeid;
	struct cd_version version;
	char checksum[65];
	bool quorate;
	struct cd_node_info info;
	uint64_t wall_ms; /* the reporter's clock; the round's time is the latest */
};

enum cd_sync_phase {
	CD_SYNC_IDLE,	       /* no round (never joined) */
	CD_SYNC_COLLECT,       /* waiting for every member's report */
	CD_SYNC_WAIT_SNAPSHOT, /* waiting for the chosen member's snapshot */
	CD_SYNC_DONE,	       /* state agreed; changes flow */
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
	struct cd_version best;	/* newest version among the reports */
};

/* Start a round: members are the node ids of the CPG group (any order). */
void cd_sync_begin(struct cd_sync *s, uint64_t round, const uint32_t *members, size_t n);

/* Feed one delivered report of the given round. */
enum cd_sync_step cd_sync_add_report(struct cd_sync *s, uint64_t round,
				     const struct cd_sync_report *r);

/* A snapshot of the given round from a node: 1 if it is the one awaited. */
int cd_sync_snapshot_ok(const struct cd_sync *s, uint64_t round, uint32_t from);

/* The round's time: the latest clock among the reports (for people and flaps). */
uint64_t cd_sync_wall_ms(const struct cd_sync *s);

/* The epoch a quorate partition starts once the round completes. */
uint64_t cd_sync_next_epoch(const struct cd_sync *s);

/* A round token for a CPG configuration: ring id and members (nodeid, pid). */
uint64_t cd_sync_round_token(uint32_t ring_node, uint64_t ring_seq, const uint32_t *nodeids,
			     const uint32_t *pids, size_t n);

/* JSON of a report, and back (0 or CD_ERR_PROTOCOL). */
struct json_object *cd_sync_report_to_json(const struct cd_sync_report *r);
int cd_sync_report_from_json(struct cd_sync_report *r, uint32_t sender,
			     const struct json_object *o);

#endif
