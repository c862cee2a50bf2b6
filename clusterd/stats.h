/*
 * Counters this clusterd keeps since it started, for the console's
 * metrics (status's "counters"): the moves that ended, the power fencing
 * it ran, its sync rounds, the changes it sent. In memory only: a restart starts them at 0, as
 * Prometheus counters expect. Every member applies every change, so each
 * counts the cluster's moves alike; fencing, sync rounds and changes
 * sent are this node's own. Loop thread only.
 */
#ifndef CD_STATS_H
#define CD_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/vm.h"
#include "lib/histogram.h"

/*
 * Whether transition t ends a move, and so left its record in
 * t->vm->last_move: a live or quick move leaves MIGRATING; a cold move
 * leaves STOPPING for its target (STARTING) or, its stop failed, FAILED
 * with the record of its own action. Pure.
 */
bool cd_stats_move_ended(const struct cd_vm_transition_rec *t);

/* Count t if it ends a move (a cd_vm_hook_fn: ctx unused). */
void cd_stats_vm_transition(void *ctx, const struct cd_vm_transition_rec *t);

/*
 * A power fencing this node ran ended after took_ms (its agent's retries
 * included): confirmed (ok) or not.
 */
void cd_stats_fence(bool ok, uint64_t took_ms);

/* A power fencing that could not be run at all: a failure, not timed. */
void cd_stats_fence_not_run(void);

/* A sync round began, or completed, at now_ms (monotonic). */
void cd_stats_sync_begun(uint64_t now_ms);
void cd_stats_sync_done(uint64_t now_ms);

/*
 * This node sent a change of text_len bytes of JSON as wire_len bytes of
 * payload, packed with zstd or not (core/msg.h).
 */
void cd_stats_change_sent(bool packed, size_t text_len, size_t wire_len);

/*
 * The counters, a new object: {"moves": [{"mode", "outcome", "count",
 * "timed", "total_ms", "downtime_ms"}] (those seen only),
 * "move_durations": [{"mode", "total_ms": H, "downtime_ms": H}] (the modes
 * with a timed move only), "fence": {"success", "failure", "duration_ms":
 * H}, "sync_rounds": {"started", "completed", "total_ms", "last_ms"},
 * "changes_sent": {"plain", "packed", "text_bytes", "wire_bytes"}}: the
 * changes this node sent, and their JSON's bytes against those sent.
 * "timed" counts the moves that moved their VM with a known duration;
 * total_ms and downtime_ms are their sums. Each H is a histogram
 * (lib/histogram.h: cd_hist_to_json) in milliseconds: the moves' over
 * cd_hist_move_ms and cd_hist_downtime_ms, the fencing's over
 * cd_hist_fence_ms (the fencing that ran, not those that could not start).
 */
struct json_object *cd_stats_to_json(void);

/* Back to 0 (the tests). */
void cd_stats_reset(void);

#endif
