/*
 * One VM against one node, for a move (clusterctl vm move): every placement
 * rule the node breaks, not only the first as placement records, and the
 * node placement would choose if the VM had to leave the one it is on.
 *
 * The rules are placement's own (policy.h, rules 4 and 5; rules.c), asked
 * of the same picture of the cluster: a node's free vCPUs and memory count
 * every VM that holds it (starting, running, stopping, migrating, on an
 * alive node), as placement's first pass counts them, but never the VM
 * being checked: it is not on the other node yet. VMs that placement has
 * yet to place hold nothing. Pure, like decide.
 *
 * A node breaks a rule when it is not online (offline, maintenance,
 * fenced, lost, quarantined), not a possible owner, does not run the VM's
 * CPU model, is where the VM reached its failure limit, runs a VM of the
 * VM's hard anti-affinity class, has fewer cores than the VM has vCPUs,
 * or lacks memory or vCPUs (cores x cpu-overcommit). The failure
 * limit is a rule like the others, not a warning: placement would never
 * start the VM there within the period, and a move that put it there would
 * be the one way around that. A VM of the VM's soft class on the node is
 * reported apart (soft_clash): placement avoids such a node while another
 * fits, so for a move it is a warning only.
 */
#ifndef CD_POLICY_FIT_H
#define CD_POLICY_FIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

/* What one node is to one VM. */
struct cd_policy_fit {
	uint32_t node;	     /* its id */
	size_t idx;	     /* into in->nodes */
	uint32_t fails;	     /* CD_POLICY_EXCL_BIT() of each rule it breaks; 0: it fits */
	bool soft_clash;     /* runs a VM of the VM's soft anti-affinity class */
	bool here;	     /* the VM holds this node already: it is no target */
	uint32_t free_vcpus; /* what is left for the VM, never counting it */
	uint32_t used_vcpus; /* by the VMs that hold the node, never the VM */
	uint64_t free_memory_mb;
};

/*
 * Check VM number vm of in against the node with id node into *out. The
 * rules broken are CD_EXCL_NODE_STATE to CD_EXCL_CORES, memory and vCPUs
 * each their own bit (never CD_EXCL_MEMORY_CORES). Returns 0,
 * CD_ERR_NOT_FOUND (no node with that id), CD_ERR_INVALID (vm out of range
 * or an input decide would refuse) with err set, or -ENOMEM.
 */
int cd_policy_fit_node(const struct cd_policy_input *in, size_t vm, uint32_t node,
		       struct cd_policy_fit *out, char *err, size_t errlen);

/* Where placement would put a VM that leaves its node. */
struct cd_policy_pick {
	uint32_t node;		/* the node chosen; 0: no other node fits */
	size_t idx;		/* into in->nodes, when node is not 0 */
	enum cd_policy_why why; /* CD_WHY_PREFERRED or CD_WHY_MOST_FREE (CD_WHY_RESTART) */
	uint32_t rank;		/* for CD_WHY_PREFERRED: 1-based preferred rank */
	bool soft_shared;	/* every node that fits runs a VM of its soft class */
	/* Every node but the one left, in node id order, the chosen one too. */
	struct cd_policy_fit fits[CD_POLICY_MAX_NODES];
	size_t n_fits;
};

/*
 * Choose a node for VM number vm of in as placement would (rule 5, soft
 * anti-affinity first), among every node but the one with id except (the
 * one it runs on; 0: none) and the one it holds. Same returns as
 * cd_policy_fit_node() but CD_ERR_NOT_FOUND; out->node 0 with every
 * node's fit when none fits.
 */
int cd_policy_pick_node(const struct cd_policy_input *in, size_t vm, uint32_t except,
			struct cd_policy_pick *out, char *err, size_t errlen);

/*
 * Rule excl that f breaks, or CD_EXCL_ANTI_SOFT for its soft clash, in the
 * words of explain ("node2 lacks memory (needs 1024 MiB, 512 free)"), into
 * buf (truncated to len, always NUL-terminated).
 */
void cd_policy_fit_text(const struct cd_policy_input *in, size_t vm, const struct cd_policy_fit *f,
			enum cd_policy_excl excl, char *buf, size_t len);

/*
 * Why p chose its node, in explain's words ("node2 is preferred owner 1 of
 * 2", "node3 has the most free memory of the nodes that fit"), into buf.
 */
void cd_policy_pick_text(const struct cd_policy_input *in, size_t vm,
			 const struct cd_policy_pick *p, char *buf, size_t len);

#endif
