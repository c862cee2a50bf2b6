/*
 * Whether this node is quorate, from what corosync told it: a pure rule,
 * kept apart from the corosync plumbing (membership.c) so it can be tested.
 *
 * A node is quorate only on a quorum report for its current ring: after a
 * configuration change the last report may be stale (the node may be the
 * minority now), so until corosync's quorum service reports the new ring
 * the node counts as inquorate. Waiting longer than expected for that
 * report lets the sync round go on (as inquorate), never grants quorum.
 */
#ifndef CD_QUORUMVIEW_H
#define CD_QUORUMVIEW_H

#include <stdbool.h>
#include <stdint.h>

struct cd_ring {
	uint32_t nodeid;
	uint64_t seq;
};

struct cd_quorum_view {
	bool joined;		    /* in the CPG group */
	struct cd_ring ring;	    /* the current totem ring (CPG) */
	bool known;		    /* a quorum report came */
	bool quorate;		    /* what the last report said */
	struct cd_ring report_ring; /* the ring the last report was for */
	bool waited;		    /* the report for this ring is late: go on without it */
};

/* Whether the last quorum report is for the current ring. */
bool cd_quorum_current(const struct cd_quorum_view *v);

/* Whether a sync round may go on: the report came, or waiting gave up. */
bool cd_quorum_settled(const struct cd_quorum_view *v);

/* Whether the node is quorate: joined, and a current report says so. */
bool cd_quorum_quorate(const struct cd_quorum_view *v);

#endif
