/* A sync round's snapshot over CPG, inline or in chunks (snapstream.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/membership.h"
#include "clusterd/snapstream.h"
#include "core/chunks.h"
#include "core/state_sum.h"
#include "lib/jsonget.h"
#include "lib/util.h"

static struct cd_chunks_rx rx;
static bool rx_ready;

static int send_inline(uint64_t round, const struct json_object *o)
{
	void *buf;
	size_t blen;
	int rc;

	rc = cd_msg_build(CD_MSG_SNAPSHOT, cd_membership_local_nodeid(), 0, round, o, &buf, &blen);
	if (rc == 0) {
		rc = cd_membership_send(buf, blen);
		free(buf);
	}
	return rc;
}

/* Every chunk of tx, each a message of type, queued in order. */
static int send_all(enum cd_msg_type type, const struct cd_chunk_id *id, struct cd_chunks_tx *tx,
		    uint32_t *count)
{
	unsigned char hdr[CD_CHUNK_HDR_LEN];
	struct cd_chunk_hdr h;
	const void *piece;
	size_t plen, blen;
	void *buf;
	int rc = 0;

	while (rc == 0 && cd_chunks_tx_next(tx, &h, &piece, &plen) == 1) {
		cd_chunk_hdr_encode(&h, hdr);
		rc = cd_msg_build_raw(type, id->sender, id->round, hdr, sizeof(hdr), piece, plen,
				      &buf, &blen);
		if (rc == 0) {
			rc = cd_membership_send(buf, blen);
			free(buf);
		}
	}
	if (rc == 0 && count)
		*count = tx->count;
	return rc;
}

int cd_snapstream_send_text(enum cd_msg_type type, const struct cd_chunk_id *id, const char *text,
			    size_t len, const char *total_sha256, uint32_t *count)
{
	struct cd_chunks_tx tx;
	int rc;

	rc = cd_chunks_tx_init(&tx, id, text, len, CD_SNAPSHOT_CHUNK, total_sha256);
	if (rc == 0)
		rc = send_all(type, id, &tx, count);
	return rc;
}

static int send_chunks(uint64_t round, uint32_t step, const struct cd_state *s, const char *text,
		       size_t len, const char *checksum, bool zstd)
{
	struct cd_chunk_id id = {.round = round,
				 .sender = cd_membership_local_nodeid(),
				 .step = step,
				 .version = s->version};
	uint64_t t0 = cd_now_ms();
	struct cd_chunks_tx tx;
	uint32_t count;
	size_t packed;
	int rc;

	rc = zstd ? cd_chunks_tx_init_zstd(&tx, &id, text, len, CD_SNAPSHOT_CHUNK, checksum)
		  : cd_chunks_tx_init(&tx, &id, text, len, CD_SNAPSHOT_CHUNK, checksum);
	if (rc < 0)
		return rc;
	packed = tx.len;
	rc = send_all(CD_MSG_SNAPSHOT_CHUNK, &id, &tx, &count);
	cd_chunks_tx_free(&tx);
	if (rc == 0)
		qb_log(LOG_NOTICE,
		       "snapshot %" PRIu64 ".%" PRIu64 " of %zu bytes (%zu %s) queued as %" PRIu32
		       " chunks in %" PRIu64 " ms",
		       s->version.epoch, s->version.seq, len, packed,
		       zstd ? "packed with zstd" : "not packed: a member takes no packed chunks",
		       count, cd_now_ms() - t0);
	return rc;
}

int cd_snapstream_send(uint64_t round, uint32_t step, const struct cd_state *s,
		       const char *checksum, enum cd_sync_snap_form form)
{
	struct cd_state_text t;
	struct json_object *o;
	int rc;

	/* From the VM records' prints (state_sum.h), not a JSON tree of the whole state. */
	rc = cd_state_text(s, &t);
	if (rc == 0 && (t.len <= CD_SNAPSHOT_INLINE_MAX || form == CD_SNAP_INLINE)) {
		if (t.len > CD_SNAPSHOT_INLINE_MAX)
			qb_log(LOG_WARNING,
			       "a member takes no snapshot chunks (an older clusterd): the "
			       "snapshot (%zu bytes) goes in one message",
			       t.len);
		o = cd_state_to_json(s);
		rc = o ? send_inline(round, o) : -ENOMEM;
		json_object_put(o);
	} else if (rc == 0) {
		rc = send_chunks(round, step, s, t.text, t.len, checksum, form == CD_SNAP_ZCHUNKS);
	}
	cd_state_text_free(&t);
	cd_heap_trim();
	if (rc < 0)
		qb_log(LOG_ERR, "cannot send the snapshot: %s", cd_strerror(rc));
	return rc;
}

int cd_snapstream_chunk(const struct cd_msg *msg, uint64_t round, uint32_t step, uint32_t sender,
			const char *own_sum, struct json_object **body, char *err, size_t errlen)
{
	struct cd_chunk_hdr h;
	const void *bytes;
	char *text;
	size_t len;
	bool same;
	int rc;

	*body = NULL;
	if (!rx_ready) {
		cd_chunks_rx_init(&rx, CD_STATE_JSON_MAX);
		rx_ready = true;
	}
	rc = cd_chunk_decode(msg->raw, msg->raw_len, &h, &bytes, err, errlen);
	if (rc < 0)
		return rc;
	if (h.id.sender != msg->sender) {
		snprintf(err, errlen, "a chunk from node %u claims node %u's snapshot", msg->sender,
			 h.id.sender);
		return CD_ERR_PROTOCOL;
	}
	cd_chunks_rx_expect(&rx, round, step, sender);
	rc = cd_chunks_rx_add(&rx, &h, bytes, h.len, err, errlen);
	if (rc != CD_CHUNKS_COMPLETE)
		return rc;
	/* Its bytes matched this whole checksum (cd_chunks_rx_add()). */
	same = own_sum && strcmp(rx.first.total_sha256, own_sum) == 0;
	rc = cd_chunks_rx_take(&rx, &text, &len);
	if (rc < 0) {
		snprintf(err, errlen, "the snapshot is not complete");
		return rc;
	}
	if (same) {
		free(text);
		return CD_CHUNKS_COMPLETE;
	}
	if (cd_json_parse_object(text, len, body) < 0) {
		snprintf(err, errlen, "the snapshot's %zu bytes are not a JSON object", len);
		rc = CD_ERR_PROTOCOL;
	} else {
		rc = CD_CHUNKS_COMPLETE;
	}
	free(text);
	return rc;
}

void cd_snapstream_fini(void)
{
	if (rx_ready)
		cd_chunks_rx_free(&rx);
	rx_ready = false;
}
