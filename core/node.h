/*
 * The cluster's nodes in the replicated state: the changes that act on
 * them (node.*), and the node table that state.c fills from a saved state.
 * The records, the lookups, cd_state_sync_finish() and the JSON of a
 * node's info are declared in state.h; node.c holds them too. Pure: no I/O.
 */
#ifndef CD_NODE_H
#define CD_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct cd_state;
struct cd_node;

/*
 * The record of node id in s, a new one (zero but its id, in id order) if
 * s has none; NULL if out of memory.
 */
struct cd_node *cd_state_node_upsert(struct cd_state *s, uint32_t id);

/*
 * The changes on nodes, called by cd_state_apply() with the change object;
 * same contract: 0, or a negative code with err set.
 */
typedef int cd_node_op_fn(struct cd_state *s, const struct json_object *c, char *err,
			  size_t errlen);
cd_node_op_fn cd_node_op_maintenance, cd_node_op_quarantine, cd_node_op_remove, cd_node_op_dead;

#endif
