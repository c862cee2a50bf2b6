/*
 * The replicated state on this node's disk (core/journal.h): each batch of
 * changes is appended to a journal and fdatasync'd once, so persisting
 * costs what the changes weigh, not what the state weighs. The journal is
 * compacted into a snapshot in a thread, from a copy of the state, once it
 * outgrows the last snapshot. A state replaced other than by changes (a
 * sync round: a snapshot adopted, a new epoch) is written whole at the
 * next flush.
 */
#ifndef CD_PERSIST_H
#define CD_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/state.h"

/* The journal is compacted once it holds this much, or more than the last snapshot. */
#define CD_PERSIST_COMPACT_MIN (4u << 20)

/*
 * Recover the state saved in dir (made if missing; a state.json of an
 * older clusterd is taken over) into out, empty if there is none.
 * Returns 0, or CD_ERR_CORRUPT, CD_ERR_VERSION or -errno, logged.
 */
int cd_persist_open(const char *dir, struct cd_state *out);

/* A change applied from sender, leaving the state at version after. */
void cd_persist_change(const struct json_object *change, uint32_t sender, struct cd_version after);

/* The state was replaced or changed without a change: written whole at the next flush. */
void cd_persist_replaced(void);

/*
 * Make s (the current state) durable: the changes since the last flush,
 * or s whole if it was replaced. Returns 0 once durable, or -errno with
 * err set (nothing may be acknowledged then; the next flush tries again).
 */
int cd_persist_flush(const struct cd_state *s, char *err, size_t errlen);

/* Waits for a compaction under way; what was not flushed is lost. */
void cd_persist_close(void);

#endif
