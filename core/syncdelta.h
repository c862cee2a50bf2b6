/*
 * A sync round's catch-up by changes instead of a snapshot.
 *
 * When the round finds members behind (sync.h), the member with the newest
 * state sends what they lack. If its change log (changelog.h) holds every
 * change after each of their versions, and those weigh little, it sends
 * just them (a delta); otherwise a whole snapshot, as before. A member
 * behind replays the delta from its own version and ends at the sender's
 * version; it then checks its checksum against the sender's report, so a
 * state that differed under an equal version is never kept (the caller
 * asks for a snapshot then).
 *
 * A round's end is part of the history too: cd_state_sync_finish() is
 * deterministic given the round's members, epoch and time, so it is logged
 * as a record of its own, a "round" (op "sync.round"), at version (epoch,
 * 0). cd_state_replay() applies either kind; the journal (journal.h) and
 * deltas both use it. A round record never comes as a change: a change
 * with that op is refused by cd_state_apply_from() like any unknown one.
 */
#ifndef CD_SYNCDELTA_H
#define CD_SYNCDELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/changelog.h"
#include "core/state.h"
#include "core/sync.h"

/* A delta is sent only up to this much of change text; above, a snapshot. */
#define CD_SYNCDELTA_MAX_BYTES (4u << 20)

/* The record of a round's end, as cd_state_sync_finish() takes it. */
struct json_object *cd_sync_round_record(const struct cd_node_info *members, size_t n_members,
					 uint64_t epoch, uint64_t now_ms);

/*
 * Apply one record of the history to s: a change from sender (as
 * cd_state_apply_from()) or a round record. 0, or a negative code with err
 * set; a round record that does not parse leaves s unchanged.
 */
int cd_state_replay(struct cd_state *s, const struct json_object *record, uint32_t sender,
		    char *err, size_t errlen);

/*
 * The delta that brings every member of round s behind the best version
 * up to it, from log (the sender's; its newest must be s->best), or NULL
 * if one cannot serve them all: a member behind that does not take deltas
 * (an older clusterd), has an empty state, or whose version the log does
 * not hold; a member at the best version with another checksum (a state
 * that differs: only a snapshot mends it); or more than max_bytes of
 * changes. The sender is s->snapshot_from. why says which (for the
 * log) when NULL is returned and why is not NULL.
 */
struct json_object *cd_syncdelta_build(const struct cd_changelog *log, const struct cd_sync *s,
				       size_t max_bytes, char *why, size_t whylen);

/* Told of each record a delta applied: the state is at version v now. */
typedef void (*cd_syncdelta_fn)(void *ctx, const struct json_object *record, uint32_t sender,
				struct cd_version v);

/*
 * Replay delta onto st from st's version to the delta's end, telling fn
 * (if not NULL) of each record applied; *applied gets their number (0 when
 * st is at the end already). CD_ERR_NOT_FOUND if st's version is not a
 * point of the delta; another negative code, with err set, if a record
 * does not apply or leads elsewhere (st is then part way: the caller must
 * not keep it).
 */
int cd_syncdelta_apply(struct cd_state *st, const struct json_object *delta, cd_syncdelta_fn fn,
		       void *ctx, size_t *applied, char *err, size_t errlen);

#endif
