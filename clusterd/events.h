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

#include "core/change.h"
#include "core/vm.h"

/* Record one event (also logged at notice). */
void cd_event(const char *kind, const char *subject, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Turn an applied change into an event, if people care about it. */
void cd_event_change(const struct json_object *change, uint32_t from);

/* The same for a change of scheduled maintenance (events_maint.c), asked on a node so named. */
void cd_event_maint(const struct json_object *change, enum cd_change kind, const char *asked_on);

/*
 * Log one VM transition at info level, "vm NAME: FROM -> TO (EVENT)": the
 * hook (cd_vm_hook_fn) of the replicated state, told of each as it is applied.
 */
void cd_event_vm_transition(void *ctx, const struct cd_vm_transition_rec *t);

/* Events after seq, oldest first: {"events": [...], "last": N}. */
struct json_object *cd_events_since(uint64_t seq);

#endif
