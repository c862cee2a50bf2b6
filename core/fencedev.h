/*
 * Fence devices in the replicated state: the changes that act on them
 * (fence.*) and the record's life (copy, free, JSON). The record (struct
 * cd_fencedev), its lookup and a device's plug for a node are declared in
 * state.h; fencedev.c holds them too. Pure: no I/O.
 *
 * A device in a change and in a state:
 *   {"name": "ipmi", "agent": "fence_ipmilan",
 *    "params": {"ip": "10.0.0.9", "password": "..."},
 *    "map": {"node1": "1", "node2": "2"}}
 * params may be absent (no parameters); map may be absent or null (every
 * node, its plug its name). The map is keyed by node name, not id: names
 * are what an admin gives, they are known before a node first joins, and
 * the map they replace was by name too. States written before these were
 * objects held them as strings; cd_fencedev_from_json() converts those
 * (fencedev_text.h).
 */
#ifndef CD_FENCEDEV_H
#define CD_FENCEDEV_H

#include <stddef.h>

#include <json-c/json.h>

struct cd_state;
struct cd_fencedev;

/*
 * Limits on a device's parameters and map, taken from the strings they
 * replace (1024 and 512 bytes with the NUL), so that every old device
 * converts: the parameters as "key=value key2=value2" words and the map as
 * "node1=plug1,node2=plug2" take at most these many bytes. A plug took
 * 128 bytes with its NUL where it was looked up.
 */
#define CD_FENCEDEV_PARAMS_TEXT_MAX 1023
#define CD_FENCEDEV_MAP_TEXT_MAX 511
#define CD_FENCEDEV_PLUG_MAX 127

/*
 * The changes on fence devices, called by cd_state_apply() with the change
 * object; same contract: 0, or a negative code with err set and s
 * unchanged. fence.add checks every parameter and plug (the same rules as
 * where they enter, fence_proto.h) and the limits above.
 */
typedef int cd_fencedev_op_fn(struct cd_state *s, const struct json_object *c, char *err,
			      size_t errlen);
cd_fencedev_op_fn cd_fencedev_op_add, cd_fencedev_op_remove;

/*
 * Add the device o of a saved state or a snapshot to s, with fence.add's
 * checks; params and map given as strings (the form before they were
 * objects) are converted first. Same contract as the changes.
 */
int cd_fencedev_from_json(struct cd_state *s, const struct json_object *o, char *err,
			  size_t errlen);

/* d as a state stores it: a new object (caller puts it). */
struct json_object *cd_fencedev_to_json(const struct cd_fencedev *d);

/* Deep-copy src into dst (overwritten). 0 or -ENOMEM (dst then needs no free). */
int cd_fencedev_copy(struct cd_fencedev *dst, const struct cd_fencedev *src);

/* Free what d holds. Accepts a zeroed record. */
void cd_fencedev_free(struct cd_fencedev *d);

#endif
