/*
 * clusterctl debug dump over the cluster (core/dump.h): a request to every
 * member over CPG; each member writes its blackbox (blackbox.h), converts
 * it to text and answers with it, its status and its state version, in
 * snapshot chunks (core/chunks.h) addressed to the requester through the
 * dump's token. The requester gathers the answers until every member
 * answered or the deadline passed; nodes of the state that did not answer
 * are listed as missing, with why. The last dump is kept for its pieces
 * (cd_debugdump_piece()) until the next one, or DUMP_KEEP_MS.
 *
 * A dump answer costs its sender a moment of its loop: writing the ring
 * (its size, 8 MiB by default) and reading it back as text. It is a
 * diagnostic asked for by hand, so this is not moved to a thread.
 */
#ifndef CD_DEBUGDUMP_H
#define CD_DEBUGDUMP_H

#include <stdint.h>

#include <json-c/json.h>
#include <qb/qbloop.h>

#include "core/msg.h"

void cd_debugdump_init(qb_loop_t *loop);
void cd_debugdump_fini(void);

/* The local node's name changed (or became known): the blackbox files take it. */
void cd_debugdump_state_changed(void);

/* Delivered messages (replica.c's dispatch), whatever the sync phase. */
void cd_debugdump_on_request(const struct cd_msg *m);
void cd_debugdump_on_chunk(const struct cd_msg *m);

/*
 * The summary once the dump is over (borrowed; done must take a reference
 * to keep it): {"dump", "nodes": [{"node", "nodeid", "ok", "bytes",
 * "truncated", "version", "status", "error"}], "missing": [{"node",
 * "reason"}]}.
 */
typedef void (*cd_debugdump_done_fn)(void *ctx, struct json_object *summary);

/*
 * Start a dump of every node, waiting at most deadline_ms for the members'
 * answers; done(ctx, summary) is called once, later. Returns 0, -EBUSY (a
 * dump is under way), CD_ERR_NOT_JOINED, or -errno from the send.
 */
int cd_debugdump_start(uint64_t deadline_ms, cd_debugdump_done_fn done, void *ctx);

/*
 * A piece of node's text in dump id, from offset: {"text", "next", "end"}
 * in *out (new). Returns 0, or CD_ERR_NOT_FOUND (no such dump kept, or no
 * such node in it) with *out NULL.
 */
int cd_debugdump_piece(uint32_t id, const char *node, uint64_t offset, struct json_object **out);

/* The most text one piece carries (JSON escaping keeps it below the IPC cap). */
#define CD_DUMP_PIECE (1024u * 1024u)

#endif
