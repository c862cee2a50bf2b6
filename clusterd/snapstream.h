/*
 * A sync round's snapshot over CPG (core/chunks.h): a small state goes as
 * one snapshot message, as before; a larger one as chunks of
 * CD_SNAPSHOT_CHUNK bytes, queued for the membership's send queue, which
 * hands them to corosync as fast as it takes them (it says "try again"
 * when full), so that no send blocks the loop and no message nears
 * corosync's limits. Every member, the sender too, puts the chunks back
 * together and takes the snapshot at the delivery of its last chunk: at
 * the same point of the message stream everywhere (a member whose state
 * the snapshot is already checks it and keeps its own).
 *
 * cd_snapstream_send_text() is the sending half alone, for any text that
 * goes as chunks (a dump's answers too, debugdump.h).
 */
#ifndef CD_SNAPSTREAM_H
#define CD_SNAPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/chunks.h"
#include "core/msg.h"
#include "core/state.h"
#include "core/sync.h"

/* A state whose JSON is larger than this goes in chunks. */
#define CD_SNAPSHOT_INLINE_MAX CD_SNAPSHOT_CHUNK

/*
 * Send len bytes of text as the chunks of id (core/chunks.h), each a
 * message of type (CD_MSG_SNAPSHOT_CHUNK, CD_MSG_DUMP_CHUNK) from
 * id->sender with round id->round and CD_SNAPSHOT_CHUNK bytes of text at
 * most. They are queued in order for the membership's send queue, which
 * hands them to corosync as it takes them (cd_membership_send()): nothing
 * here waits. total_sha256 is the text's hex SHA-256 where the caller has
 * it, or NULL (then it is hashed here). *count (count may be NULL) is how
 * many chunks were queued. Returns 0 or -errno; after an error the chunks
 * queued already still go, and the receivers never see the text whole.
 */
int cd_snapstream_send_text(enum cd_msg_type type, const struct cd_chunk_id *id, const char *text,
			    size_t len, const char *total_sha256, uint32_t *count);

/*
 * Send s as the snapshot round and step ask for. checksum is s's state
 * checksum (core/state_sum.h) where the caller has it already, so that the
 * text is not hashed again, or NULL. form: what every member takes; a
 * state that fits one chunk goes in one message in any case. Returns 0 or
 * -errno (logged).
 */
int cd_snapstream_send(uint64_t round, uint32_t step, const struct cd_state *s,
		       const char *checksum, enum cd_sync_snap_form form);

/*
 * A delivered chunk of the snapshot that round and step await from
 * sender (the caller checked it is that one's). Returns CD_CHUNKS_MORE,
 * CD_CHUNKS_IGNORED, CD_CHUNKS_COMPLETE with the snapshot in *body (the
 * caller puts it), or an error with err set: the snapshot is invalid and
 * its sender is left out, alike on every member (every member checks the
 * same bytes).
 *
 * own_sum is this member's state checksum (core/state_sum.h), or NULL.
 * When the whole snapshot's SHA-256, checked against its bytes, is that
 * checksum, the snapshot is this member's own state's JSON byte for byte:
 * it returns CD_CHUNKS_COMPLETE with *body NULL and parses nothing. The
 * verdict is the one a parse would give: those bytes are what this
 * member's valid state serializes to. At 10,000 VMs this spares every
 * member that is up to date (all but the joiner, in a rejoin) the parse
 * of some 60 MB of JSON, the load of a state equal to its own, and the
 * state's rewrite to its disk.
 */
int cd_snapstream_chunk(const struct cd_msg *msg, uint64_t round, uint32_t step, uint32_t sender,
			const char *own_sum, struct json_object **body, char *err, size_t errlen);

void cd_snapstream_fini(void);

#endif
