/*
 * clusterd's link to corosync: CPG (group membership and agreed-order
 * messages), quorum (with the ring it was computed for), votequorum
 * (votes for display) and cmap (cluster name, node list).
 *
 * Everything runs in the qb loop; the corosync file descriptors are
 * polled there. If corosync goes away, the callbacks' lost() is called
 * and the connections are retried every second.
 */
#ifndef CD_MEMBERSHIP_H
#define CD_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

#include "core/state.h"

struct cd_membership_ops {
	/* A new CPG configuration: a sync round with this token begins. */
	void (*confchg)(uint64_t round, const uint32_t *members, size_t n);
	/* An agreed-order message (not yet checked). */
	void (*deliver)(uint32_t nodeid, const void *msg, size_t len);
	/* After a batch of deliveries: the moment to persist and answer. */
	void (*flush)(void);
	/* The quorum view changed, or became known for the current ring. */
	void (*quorum)(void);
	/* The connection to corosync was lost. */
	void (*lost)(void);
	/* corosync's configuration (its digest or crypto) changed: this node's information did. */
	void (*info_changed)(void);
};

int cd_membership_start(qb_loop_t *loop, const struct cd_membership_ops *ops);
void cd_membership_stop(void);

/* Multicast in agreed order. buf is copied. Returns 0 or -errno. */
int cd_membership_send(const void *buf, size_t len);

bool cd_membership_joined(void);
uint32_t cd_membership_local_nodeid(void);
/* Live quorum view of this node. */
bool cd_membership_quorate(void);
/* 1 once the quorum view is known for the current ring (a round may report). */
bool cd_membership_quorum_current(void);
/* Is node id a member of the current CPG group? */
bool cd_membership_is_member(uint32_t nodeid);
/* Fill this node's own information: name and addresses from corosync's node list. */
int cd_membership_local_info(struct cd_node_info *ni);
/*
 * corosync's nodelist as it runs it, at most max entries into out (id,
 * name, addresses; the rest zero): their number, or -ENOTCONN.
 */
int cd_membership_nodelist(struct cd_node_info *out, size_t max);

struct cd_quorum_info {
	char cluster_name[64];
	uint32_t expected_votes;
	uint32_t total_votes;
	uint32_t quorum;
	uint64_t ring_seq;
	uint32_t ring_node;
};
int cd_membership_quorum_info(struct cd_quorum_info *qi);

#endif
