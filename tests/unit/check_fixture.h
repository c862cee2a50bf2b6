/*
 * Set-up shared by the unit tests of the replicated state (check_vm,
 * check_validate, check_state_budget, check_fencedev, check_change): changes
 * applied from JSON text, a state with three member nodes, and one with a
 * record of every kind. Linked by the tests that need
 * it (tests/local.mk); check_common.h stays free of the state.
 */
#ifndef CHECK_FIXTURE_H
#define CHECK_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "core/state.h"

/*
 * Apply change (a JSON object as text; bad JSON fails the test) as if node
 * sender multicast it (0: unchecked). err is cleared first and holds the
 * refusal. Returns what cd_state_apply_from() returns.
 */
int fixture_apply_from(struct cd_state *s, uint32_t sender, const char *change, char *err,
		       size_t errlen);

/* fixture_apply_from() with sender 0: cd_state_apply(). */
int fixture_apply(struct cd_state *s, const char *change, char *err, size_t errlen);

/*
 * Initialise s with members node1, node2 and node3 (ids 1 to 3, CPU model
 * qemu64) in epoch 1. Caller frees with cd_state_free().
 */
void fixture_three_nodes(struct cd_state *s);

/*
 * Initialise s with nodes node1 to node4 (ids 1 to 4) of which node4 has
 * left (not known dead): epoch 2, members node1 to node3.
 */
void fixture_node4_left(struct cd_state *s);

/*
 * Initialise s as fixture_three_nodes() does, with a record of every kind:
 * properties failover-grace-ms (20000) and k (v), VM web (preferred owner
 * node1), fence device dev1 (agent fence_lab), and volume vol1 on
 * /dev/loop3 with files disk0 (1 MiB at 5 MiB) and disk2 (2 MiB at 6 MiB),
 * a waiting request (id 7) to create disk1 and one result (id 9). Caller
 * frees with cd_state_free().
 */
void fixture_full_state(struct cd_state *s);

/*
 * s serialised (cd_state_to_json(), version included), to compare states:
 * a new string the caller frees.
 */
char *fixture_text(const struct cd_state *s);

#endif
