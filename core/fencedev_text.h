/*
 * The one-line forms of a fence device's parameters and plug map, turned
 * into the JSON objects the state holds (fencedev.h):
 *   "key=value key2='a b'"       the parameters, as states stored them
 *                                before they were objects
 *   "node1=plug1,node2=plug2"    the plug map: the admin's --map syntax,
 *                                and how states stored it before
 * Pure: no I/O.
 */
#ifndef CD_FENCEDEV_TEXT_H
#define CD_FENCEDEV_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/*
 * Parse "key=value key2=value2": words separated by spaces or tabs; a value
 * may be quoted with '...' or "..." to hold spaces (no escapes inside).
 * Each parameter is checked as cd_fence_params_add() does. On success *out
 * is a new object in the words' order (caller puts it). Returns 0, or
 * CD_ERR_INVALID / CD_ERR_EXISTS / -ENOMEM with err set (positions and keys
 * only, never a value).
 */
int cd_fencedev_params_from_text(const char *text, struct json_object **out, char *err,
				 size_t errlen);

/*
 * Parse "node1=plug1,node2=plug2" (a plug may be empty: no plug line, for a
 * device of one node). "" is no map: *out is NULL (every node, its plug its
 * name); else *out is a new object (caller puts it).
 *
 * strict (what an admin gives): each entry must be NODE=PLUG with a valid
 * node name and a plug fencedev.h accepts, each node once, and the whole
 * at most CD_FENCEDEV_MAP_TEXT_MAX bytes; else CD_ERR_INVALID or
 * CD_ERR_EXISTS with err set.
 *
 * Not strict (a map an older version stored unchecked): the result fences
 * the nodes the old lookup found a plug for, with that plug. An entry that
 * could match no node (no '=', not a node name) is dropped, the first entry
 * of a node wins, a plug is cut to CD_FENCEDEV_PLUG_MAX bytes as the lookup
 * cut it, and an entry whose plug holds a line break (a run with it always
 * failed) is dropped. A map left with no entry stays a map: the device
 * fences no node, as before. Fails only for lack of memory.
 */
int cd_fencedev_map_from_text(const char *text, bool strict, struct json_object **out, char *err,
			      size_t errlen);

#endif
