/*
 * A VM on a lost node: what status tells of it and what the cluster waits
 * for before it can run elsewhere. Pure: the caller says what only the
 * daemon sees (membership, quorum, the host slots it watches, the clock).
 *
 * A node is lost when it is not a member (the replicated state says it
 * left, or this node's corosync no longer lists it) and not known dead
 * (node.dead: fenced, its host leases expired or released, or an admin's
 * confirm-dead). Its VMs may still run there or may be off: nobody can
 * tell, so their state is "unknown (NODE lost)", not the state last
 * recorded. Once the node is known dead, node.dead moves its VMs on
 * (stopped, or restarting elsewhere): they are no longer on a lost node.
 *
 * What the cluster waits for is the rule of clusterd/failover.c: first the
 * failover grace since the node left, then the first of
 *   lease  every shared volume shows its host slot expired or released
 *          (core/deadrule.h), if failover-confirm allows it and the
 *          volumes can tell (it joined each of them);
 *   fence  a fence device that covers it powers it off, if
 *          failover-confirm allows it;
 * and without either an admin's `clusterctl node confirm-dead`
 * (core/failpath.h tells why). Nothing happens in a partition without
 * quorum.
 */
#ifndef CD_LOSTNODE_H
#define CD_LOSTNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/deadrule.h"
#include "core/failpath.h"
#include "core/state.h"

/* What the caller sees of one node, beyond the replicated state. */
struct cd_lost_view {
	bool member;	 /* in the membership as this node sees it (and in the state) */
	bool quorate;	 /* this node is in a quorate partition */
	uint64_t now_ms; /* the wall clock, as node.left_ms is */
	size_t n_slots;	 /* the shared volumes this node watches */
	struct cd_slot_view slots[CD_MAX_VOLUMES];
};

/*
 * Fills v for node id; called at most once for each VM looked at, and
 * through a struct cd_lost_table at most once for each node.
 */
typedef void cd_lost_view_fn(uint32_t id, struct cd_lost_view *v, void *ctx);

#define CD_WAITS_FOR_MAX 384

struct cd_node_lost {
	bool lost;
	char node[CD_NAME_MAX + 1];
	unsigned paths;	       /* enum cd_death_path bits that may confirm it; 0: an admin */
	enum cd_death_gap gap; /* why neither can, when paths is 0 */
	bool quorate;	       /* false: nothing is done until this partition has quorum */
	uint64_t grace_left_ms;
	char fence_device[64];		  /* the device tried first (CD_DEATH_FENCE) */
	bool lease_expired;		  /* every volume shows its slot expired or released */
	char lease_volume[64];		  /* the volume expected to expire last (CD_DEATH_LEASE) */
	size_t lease_pending;		  /* volumes whose slot has not expired yet */
	uint64_t lease_in_ms;		  /* about how long until the last expires; 0: not known */
	char waits_for[CD_WAITS_FOR_MAX]; /* "node1 to be fenced by pdu" ("" if not lost) */
};

/*
 * Whether node n of s is lost as v says, and if so what the cluster waits
 * for, into out (zeroed first).
 */
void cd_node_lost_eval(const struct cd_state *s, const struct cd_node *n,
		       const struct cd_lost_view *v, struct cd_node_lost *out);

/*
 * Whether vm is on a lost node: placed on a node (starting, running,
 * stopping, moving or failed there) that is lost; a stopped VM never is.
 * view (NULL: the state's member flag, quorate, no volume watched, time 0)
 * is asked about vm's node. out is filled as cd_node_lost_eval() does.
 */
bool cd_vm_lost(const struct cd_state *s, const struct cd_vm *vm, cd_lost_view_fn *view, void *ctx,
		struct cd_node_lost *out);

/*
 * The verdicts of one request that looks at many VMs (a page of vm list):
 * each node's is worked out, and view asked about it, the first time one
 * of its VMs is looked at, and kept for the others. The entries follow
 * s->nodes; s is borrowed and must not change while the table is in use.
 */
struct cd_lost_entry {
	bool known; /* lost holds the node's verdict */
	struct cd_node_lost lost;
};

struct cd_lost_table {
	const struct cd_state *s;
	cd_lost_view_fn *view;
	void *ctx;
	struct cd_lost_entry *e; /* s->n_nodes of them; NULL (no memory, released): none kept */
};

/*
 * An empty table for s, view and ctx as cd_vm_lost() takes them. It never
 * fails: without memory it keeps nothing and asks view each time. Release
 * with cd_lost_table_fini().
 */
void cd_lost_table_init(struct cd_lost_table *t, const struct cd_state *s, cd_lost_view_fn *view,
			void *ctx);

/* cd_vm_lost() of the table's state, view and ctx, with vm's node looked at once. */
bool cd_lost_table_vm(struct cd_lost_table *t, const struct cd_vm *vm, struct cd_node_lost *out);

/* Release what t holds (twice is fine). */
void cd_lost_table_fini(struct cd_lost_table *t);

/*
 * Add to o, a VM's JSON, "node_lost" (always) and, when lost, "waits_for"
 * (the text) and "lost" ({"node", "paths", "reason", "quorate",
 * "grace_left_ms", "fence_device", "lease_volume", "lease_expired",
 * "lease_expires_in_ms"}). The VM's "state" is left as the state records it.
 */
void cd_node_lost_to_json(const struct cd_node_lost *l, struct json_object *o);

#endif
