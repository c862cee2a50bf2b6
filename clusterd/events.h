/*
 * What happened and why, for people: a ring of recent events on this node
 * (clusterctl events). Every member records the changes it applies, so the
 * cluster's events read the same everywhere; this node's own actions
 * (self-fencing, lost leases) are added where they happen.
 */
#ifndef CD_EVENTS_H
#define CD_EVENTS_H

#include <stdint.h>

#include <json-c/json.h>

/* Record one event (also logged at notice). */
void cd_event(const char *kind, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Turn an applied change into an event, if people care about it. */
void cd_event_change(const struct json_object *change, uint32_t from);

/* Events after seq, oldest first: {"events": [...], "last": N}. */
struct json_object *cd_events_since(uint64_t seq);

#endif
