/*
 * The placement policy's view of the replicated state: its nodes and VMs
 * as policy/policy.h takes them, and the time of day.
 *
 * Pure: the state and the policy's types, no loop, no replica, no I/O.
 */
#ifndef CD_POLICY_ADAPTER_H
#define CD_POLICY_ADAPTER_H

#include "clusterd/state.h"
#include "policy/policy.h"

/*
 * Build the policy's view of state s into in. The caller frees it with
 * cd_policy_adapter_input_free(). Returns 0 or -ENOMEM.
 */
int cd_policy_adapter_input(const struct cd_state *s, struct cd_policy_input *in);
void cd_policy_adapter_input_free(struct cd_policy_input *in);

#endif
