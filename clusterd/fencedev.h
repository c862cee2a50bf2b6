/*
 * Fence devices in the replicated state: the changes that act on them
 * (fence.*). The record (struct cd_fencedev), its lookup and a device's
 * plug for a node are declared in state.h; fencedev.c holds them too.
 * Pure: no I/O.
 */
#ifndef CD_FENCEDEV_H
#define CD_FENCEDEV_H

#include <stddef.h>

#include <json-c/json.h>

struct cd_state;

/*
 * The changes on fence devices, called by cd_state_apply() with the change
 * object; same contract: 0, or a negative code with err set and s
 * unchanged. cd_state_from_json() checks a state's devices with
 * cd_fencedev_op_add() too.
 */
typedef int cd_fencedev_op_fn(struct cd_state *s, const struct json_object *c, char *err,
			      size_t errlen);
cd_fencedev_op_fn cd_fencedev_op_add, cd_fencedev_op_remove;

#endif
