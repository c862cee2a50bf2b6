/*
 * What the policy's files share: the picture of the cluster decide works
 * on (nodes as slots, what each VM asks of them, the running totals) and
 * the rules a node must pass for a VM (policy.h, rules 4 and 5). policy.c
 * places VMs with them, fit.c checks one VM against one node for a move:
 * both ask the same functions, so the two cannot disagree on a rule. Not an
 * interface: nothing outside policy/ includes it.
 */
#ifndef CD_POLICY_RULES_H
#define CD_POLICY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

#define CD_PNONE_ID UINT32_MAX
#define CD_PNO_SLOT (-1)

/* One node while deciding. Slots are sorted by node id for the tie-break. */
struct cd_pslot {
	const struct cd_policy_node *node;
	size_t idx; /* into in->nodes */
	uint64_t used_memory;
	uint64_t used_vcpus;
	uint64_t vcpu_cap; /* cd_policy_vcpu_cap() */
};

/* What decide works out about one VM before placing anything. */
struct cd_pvm_facts {
	uint32_t possible; /* slot mask */
	uint32_t cpu;	   /* slot mask of nodes that support its CPU model */
	uint32_t cls;	   /* anti-affinity class id or CD_PNONE_ID */
	int on;		   /* slot it occupies, or CD_PNO_SLOT */
	int failed;	   /* slot where it reached its failure limit, or CD_PNO_SLOT */
};

struct cd_pctx {
	const struct cd_policy_input *in;
	struct cd_policy_result *out; /* its error; decide also fills the rest */
	struct cd_pslot slots[CD_POLICY_MAX_NODES];
	int n_slots;
	struct cd_pvm_facts *facts;
	uint32_t *class_count; /* [class * n_slots + slot] */
	size_t *order;	       /* VM indices: priority, then name (decide's) */
	size_t notes_cap;
};

/*
 * Check c->in and work out the slots and every VM's facts; nothing is
 * occupied yet. 0, CD_ERR_INVALID (c->out->error says why) or -ENOMEM.
 * cd_pctx_free() releases what it allocated, whatever it returned.
 */
int cd_pctx_prepare(struct cd_pctx *c);
void cd_pctx_free(struct cd_pctx *c);

/* The slot of node id, CD_PNO_SLOT for id 0, or -2 for an unknown id. */
int cd_pctx_slot_of(const struct cd_pctx *c, uint32_t id);

/*
 * VM v holds what it needs on slot s (cd_pctx_occupy), and, while it moves,
 * on the alive node it moves to as well: both ends hold it until the move ends.
 */
void cd_pctx_occupy_held(struct cd_pctx *c, size_t v, int s);

/* Whether a node in state s keeps its VMs (online, maintenance, quarantined). */
bool cd_pnode_alive(enum cd_policy_node_state s);

/* VM v's vCPUs, memory and class now count against slot s. */
void cd_pctx_occupy(struct cd_pctx *c, size_t v, int s);

/*
 * Every rule VM v breaks on slot s, as CD_POLICY_EXCL_BIT()s of CD_EXCL_NODE_STATE
 * to CD_EXCL_CORES (never CD_EXCL_MEMORY_CORES: memory and cores are two
 * bits; a node with too few cores may lack free vCPUs too), 0 if it fits.
 * note gets the slot's node, its free room and the vCPUs in use.
 */
uint32_t cd_pctx_fails(struct cd_pctx *c, size_t v, int s, struct cd_policy_note *note);

/* The first rule VM v breaks on slot s, in the order of enum cd_policy_excl. */
enum cd_policy_excl cd_pctx_check(struct cd_pctx *c, size_t v, int s, struct cd_policy_note *note);

/* Whether slot s holds a VM of VM v's soft anti-affinity class. */
bool cd_pctx_soft_clash(struct cd_pctx *c, size_t v, int s);

/*
 * Check VM v on every slot into notes[slot]. Returns the slots that fit;
 * *apart gets those of them without a VM of its soft class, *furthest the
 * furthest check a slot that did not fit got to (CD_EXCL_NODE_STATE if none).
 */
uint32_t cd_pctx_survey(struct cd_pctx *c, size_t v, struct cd_policy_note *notes, uint32_t *apart,
			int *furthest);

/*
 * The slot placement gives VM v among cand (not empty) by rule 5: where it
 * failed below its limit, else its first preferred owner, else the most
 * free memory (notes[] from cd_pctx_survey()), the lowest id on a tie.
 * r->why and r->rank say which.
 */
int cd_pctx_choose(const struct cd_pctx *c, size_t v, uint32_t cand,
		   const struct cd_policy_note *notes, struct cd_policy_vm_result *r);

#endif
