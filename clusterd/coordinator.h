/*
 * The coordinator's work: run the placement policy over the replicated
 * state and send its decisions through the cluster. Only the coordinator
 * (lowest node id of the quorate partition) does this; every member holds
 * the same state, so another takes over at once when it goes.
 */
#ifndef CD_COORDINATOR_H
#define CD_COORDINATOR_H

#include <stddef.h>

#include <qb/qbloop.h>

#include "clusterd/state.h"
#include "policy/policy.h"

int cd_coordinator_init(qb_loop_t *loop);

/* The state changed: decide again if this node coordinates. */
void cd_coordinator_state_changed(void);

/*
 * Build the policy's view of a state. The caller frees nodes and vms.
 * Returns 0 or -ENOMEM.
 */
int cd_coordinator_policy_input(const struct cd_state *s, struct cd_policy_input *in);
void cd_coordinator_policy_input_free(struct cd_policy_input *in);

/* Why VM name is where it is, in words. Returns 0 or CD_ERR_NOT_FOUND. */
int cd_coordinator_explain(const char *name, char *buf, size_t len);

#endif
