/*
 * Counters this clusterd keeps since it started, for the console's
 * metrics (status's "counters"): the moves that ended, the power fencing
 * it ran, its sync rounds. In memory only: a restart starts them at 0, as
 * Prometheus counters expect. Every member applies every change, so each
 * counts the cluster's moves alike; fencing and sync rounds are this
 * node's own. Loop thread only.
 */
#ifndef CD_STATS_H
#define CD_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/vm.h"

/*
 * Whether transition t ends a move, and so left its record in
 * t->vm->last_move: a live or quick move leaves MIGRATING; a cold move
 * leaves STOPPING for its target (STARTING) or, its stop failed, FAILED
 * with the record of its own action. Pure.
 */
bool cd_stats_move_ended(const struct cd_vm_transition_rec *t);

/* Count t if it ends a move (a cd_vm_hook_fn: ctx unused). */
void cd_stats_vm_transition(void *ctx, const struct cd_vm_transition_rec *t);

/* A power fencing this node ran ended: confirmed (ok) or not. */
void cd_stats_fence(bool ok);

/* A sync round began, or completed, at now_ms (monotonic). */
void cd_stats_sync_begun(uint64_t now_ms);
void cd_stats_sync_done(uint64_t now_ms);

/*
 * The counters, a new object: {"moves": [{"mode", "outcome", "count",
 * "timed", "total_ms", "downtime_ms"}] (those seen only), "fence":
 * {"success", "failure"}, "sync_rounds": {"started", "completed",
 * "total_ms", "last_ms"}}. "timed" counts the moves that moved their VM
 * with a known duration; total_ms and downtime_ms are their sums.
 */
struct json_object *cd_stats_to_json(void);

/* Back to 0 (the tests). */
void cd_stats_reset(void);

#endif
