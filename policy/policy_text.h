/*
 * A text format for policy inputs and actions, written to be read by a
 * person: the golden tests in tests/golden/cases are in it, and a simulator
 * ("what would the cluster do with this state?") can read it too.
 *
 * One statement a line; '#' starts a comment; blank lines are ignored.
 *
 *   time HH:MM
 *   cpu-overcommit RATIO
 *   node NAME id=N cores=N memory=MiB [state=STATE] [cpu=MODEL[,MODEL...]]
 *   vm NAME vcpus=N memory=MiB [cpu=MODEL] [priority=PRIO] [target=started|stopped]
 *      [admin_start=yes|no] [preferred=NODE,...] [possible=NODE,...]
 *      [anti=CLASS[:hard|:soft]] [state=STATE] [on=NODE]
 *      [failures=N] [limit=N] [failed_on=NODE]
 *      [failback=never|immediately|HH:MM-HH:MM]
 *   explain VM
 *
 * (a vm statement is one line; it is folded here only to fit.) Defaults:
 * cpu-overcommit 4 (vCPUs per core, up to 3 decimal places: 1.5); node
 * state online, no CPU model; vm priority medium, target started, state
 * stopped, no node, no limit, failback never, anti-affinity hard, failed_on
 * the node in on=. A node's first CPU model is its own; the others are
 * models it can also run. Nodes must be declared before the VMs that name
 * them, VMs before the explain statements that name them.
 *
 * Actions are written one a line:
 *
 *   stop VM NODE
 *   start VM NODE
 *   migrate VM FROM TO
 *   unplaced VM REASON
 *   explain: <the explanation of a VM named in an explain statement>
 */
#ifndef CD_POLICY_TEXT_H
#define CD_POLICY_TEXT_H

#include <stdio.h>

#include "policy/policy.h"

struct cd_policy_text {
	struct cd_policy_input in; /* points into the arrays below */
	struct cd_policy_node *nodes;
	struct cd_policy_vm *vms;
	size_t *explain; /* VM indices, in the order asked */
	size_t n_explain;
};

/*
 * Parse text into *t. Returns 0, CD_ERR_INVALID with "line N: what is
 * wrong" in err, or -ENOMEM. Caller frees *t with cd_policy_text_free(),
 * whatever the result.
 */
int cd_policy_text_parse(const char *text, struct cd_policy_text *t, char *err, size_t errlen);

void cd_policy_text_free(struct cd_policy_text *t);

/* Write res's actions, then the explanations t asks for. Returns 0 or -errno. */
int cd_policy_text_write(FILE *f, const struct cd_policy_text *t,
			 const struct cd_policy_result *res);

#endif
