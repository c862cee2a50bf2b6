#include "config.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include <clusterd/result.h>

#include "core/chunks.h"
#include "lib/util.h"

#define CD_CHUNK_MAGIC 0x31484343u /* "CCH1" read as little-endian bytes */
#define CD_CHUNK_WIRE_VERSION 1
#define CD_CHUNK_WIRE_ZSTD 2 /* the bytes are a zstd frame of the text */

struct cd_chunk_wire {
	uint32_t magic;
	uint16_t version;
	uint16_t reserved;
	uint64_t round;
	uint32_t sender;
	uint32_t step;
	uint64_t epoch;
	uint64_t seq;
	uint32_t index;
	uint32_t count;
	uint64_t total;
	uint32_t chunk_size;
	uint32_t len;
	char total_sha256[64];
	char chunk_sha256[64];
} __attribute__((packed));

_Static_assert(sizeof(struct cd_chunk_wire) == CD_CHUNK_HDR_LEN, "the wire header's size");

#define FAIL CD_FAIL

void cd_chunk_hdr_encode(const struct cd_chunk_hdr *h, unsigned char out[CD_CHUNK_HDR_LEN])
{
	struct cd_chunk_wire w;

	w.magic = htole32(CD_CHUNK_MAGIC);
	w.version = htole16(h->zstd ? CD_CHUNK_WIRE_ZSTD : CD_CHUNK_WIRE_VERSION);
	w.reserved = 0;
	w.round = htole64(h->id.round);
	w.sender = htole32(h->id.sender);
	w.step = htole32(h->id.step);
	w.epoch = htole64(h->id.version.epoch);
	w.seq = htole64(h->id.version.seq);
	w.index = htole32(h->index);
	w.count = htole32(h->count);
	w.total = htole64(h->total);
	w.chunk_size = htole32(h->chunk_size);
	w.len = htole32(h->len);
	memcpy(w.total_sha256, h->total_sha256, 64);
	memcpy(w.chunk_sha256, h->chunk_sha256, 64);
	memcpy(out, &w, sizeof(w));
}

static bool is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int cd_chunk_decode(const void *buf, size_t len, struct cd_chunk_hdr *h, const void **bytes,
		    char *err, size_t errlen)
{
	struct cd_chunk_wire w;

	if (len < sizeof(w))
		FAIL(CD_ERR_PROTOCOL, "chunk of %zu bytes is shorter than its header", len);
	memcpy(&w, buf, sizeof(w));
	if (le32toh(w.magic) != CD_CHUNK_MAGIC)
		FAIL(CD_ERR_PROTOCOL, "chunk has bad magic 0x%08x", le32toh(w.magic));
	if ((le16toh(w.version) != CD_CHUNK_WIRE_VERSION &&
	     le16toh(w.version) != CD_CHUNK_WIRE_ZSTD) ||
	    w.reserved != 0)
		FAIL(CD_ERR_VERSION, "chunk version %u is not supported", le16toh(w.version));
	if ((size_t)le32toh(w.len) != len - sizeof(w))
		FAIL(CD_ERR_PROTOCOL, "chunk says %u bytes but %zu follow its header",
		     le32toh(w.len), len - sizeof(w));
	if (!is_hex64(w.total_sha256) || !is_hex64(w.chunk_sha256))
		FAIL(CD_ERR_PROTOCOL, "chunk checksums are not hex SHA-256");
	memset(h, 0, sizeof(*h));
	h->id.round = le64toh(w.round);
	h->id.sender = le32toh(w.sender);
	h->id.step = le32toh(w.step);
	h->id.version.epoch = le64toh(w.epoch);
	h->id.version.seq = le64toh(w.seq);
	h->index = le32toh(w.index);
	h->count = le32toh(w.count);
	h->total = le64toh(w.total);
	h->chunk_size = le32toh(w.chunk_size);
	h->len = le32toh(w.len);
	memcpy(h->total_sha256, w.total_sha256, 64);
	memcpy(h->chunk_sha256, w.chunk_sha256, 64);
	h->zstd = le16toh(w.version) == CD_CHUNK_WIRE_ZSTD;
	*bytes = (const unsigned char *)buf + sizeof(w);
	return 0;
}

uint32_t cd_chunks_count(uint64_t total, uint32_t size)
{
	uint64_t n;

	if (size == 0)
		return 0;
	n = total == 0 ? 1 : total / size + (total % size != 0);
	return n > UINT32_MAX ? 0 : (uint32_t)n;
}

/* The length of chunk index (below the count) of a snapshot. */
static uint32_t chunk_len(uint64_t total, uint32_t size, uint32_t index)
{
	uint64_t off = (uint64_t)index * size;

	return total - off < size ? (uint32_t)(total - off) : size;
}

/* --- the sender --- */

int cd_chunks_tx_init(struct cd_chunks_tx *tx, const struct cd_chunk_id *id, const void *buf,
		      size_t len, uint32_t chunk_size, const char *total_sha256)
{
	if (chunk_size == 0)
		chunk_size = CD_CHUNK_SIZE_DEFAULT;
	if (chunk_size < CD_CHUNK_SIZE_MIN || chunk_size > CD_CHUNK_SIZE_MAX)
		return -EINVAL;
	memset(tx, 0, sizeof(*tx));
	tx->count = cd_chunks_count(len, chunk_size);
	if (tx->count == 0)
		return -EMSGSIZE;
	tx->id = *id;
	tx->buf = buf ? buf : (const unsigned char *)""; /* an empty snapshot may have none */
	tx->len = len;
	tx->chunk_size = chunk_size;
	if (total_sha256 && strlen(total_sha256) == 64)
		memcpy(tx->total_sha256, total_sha256, sizeof(tx->total_sha256));
	else
		cd_sha256_hex(tx->buf, len, tx->total_sha256);
	return 0;
}

int cd_chunks_tx_init_zstd(struct cd_chunks_tx *tx, const struct cd_chunk_id *id, const void *buf,
			   size_t len, uint32_t chunk_size, const char *total_sha256)
{
	size_t cap = ZSTD_compressBound(len), packed_len;
	unsigned char *packed;
	char sum[65];
	int rc;

	if (!total_sha256 || strlen(total_sha256) != 64) {
		cd_sha256_hex(len ? buf : "", len, sum);
		total_sha256 = sum;
	}
	packed = malloc(cap ? cap : 1);
	if (!packed)
		return -ENOMEM;
	packed_len = ZSTD_compress(packed, cap, len ? buf : "", len, CD_CHUNKS_ZSTD_LEVEL);
	if (ZSTD_isError(packed_len)) {
		free(packed);
		return -EIO;
	}
	rc = cd_chunks_tx_init(tx, id, packed, packed_len, chunk_size, total_sha256);
	if (rc < 0) {
		free(packed);
		return rc;
	}
	tx->packed = packed;
	tx->zstd = true;
	return 0;
}

void cd_chunks_tx_free(struct cd_chunks_tx *tx)
{
	if (!tx)
		return;
	free(tx->packed);
	tx->packed = NULL;
	tx->buf = (const unsigned char *)"";
	tx->next = tx->count;
}

int cd_chunks_tx_next(struct cd_chunks_tx *tx, struct cd_chunk_hdr *h, const void **ptr,
		      size_t *len)
{
	const unsigned char *p;

	if (tx->next >= tx->count)
		return 0;
	memset(h, 0, sizeof(*h));
	h->id = tx->id;
	h->index = tx->next;
	h->count = tx->count;
	h->total = tx->len;
	h->chunk_size = tx->chunk_size;
	h->zstd = tx->zstd;
	h->len = chunk_len(tx->len, tx->chunk_size, tx->next);
	memcpy(h->total_sha256, tx->total_sha256, sizeof(h->total_sha256));
	p = tx->buf + (uint64_t)tx->next * tx->chunk_size;
	cd_sha256_hex(p, h->len, h->chunk_sha256);
	*ptr = p;
	*len = h->len;
	tx->next++;
	return 1;
}

int cd_chunks_tx_seek(struct cd_chunks_tx *tx, uint32_t index)
{
	if (index >= tx->count)
		return -ERANGE;
	tx->next = index;
	return 0;
}

/* --- the receiver --- */

const char *cd_chunks_result_to_str(enum cd_chunks_result r)
{
	switch (r) {
	case CD_CHUNKS_MORE:
		return "more";
	case CD_CHUNKS_COMPLETE:
		return "complete";
	case CD_CHUNKS_IGNORED:
		return "ignored";
	}
	return "unknown";
}

const char *cd_chunks_rx_phase_to_str(enum cd_chunks_rx_phase p)
{
	switch (p) {
	case CD_CHUNKS_RX_IDLE:
		return "idle";
	case CD_CHUNKS_RX_WAITING:
		return "waiting";
	case CD_CHUNKS_RX_ASSEMBLING:
		return "assembling";
	case CD_CHUNKS_RX_COMPLETE:
		return "complete";
	case CD_CHUNKS_RX_TAKEN:
		return "taken";
	}
	return "unknown";
}

void cd_chunks_rx_init(struct cd_chunks_rx *rx, uint64_t cap)
{
	memset(rx, 0, sizeof(*rx));
	rx->cap = cap ? cap : CD_CHUNKS_CAP_DEFAULT;
}

/* Drop the assembly under way; what is awaited stays. */
static void drop_assembly(struct cd_chunks_rx *rx)
{
	free(rx->buf);
	free(rx->have);
	rx->buf = NULL;
	rx->have = NULL;
	rx->n_have = 0;
	rx->text_len = 0;
	memset(&rx->first, 0, sizeof(rx->first));
	if (rx->phase != CD_CHUNKS_RX_IDLE)
		rx->phase = CD_CHUNKS_RX_WAITING;
}

void cd_chunks_rx_free(struct cd_chunks_rx *rx)
{
	if (!rx)
		return;
	drop_assembly(rx);
	cd_chunks_rx_init(rx, rx->cap);
}

void cd_chunks_rx_expect(struct cd_chunks_rx *rx, uint64_t round, uint32_t step, uint32_t sender)
{
	if (rx->phase != CD_CHUNKS_RX_IDLE && rx->want.round == round && rx->want.step == step &&
	    rx->want.sender == sender)
		return;
	drop_assembly(rx);
	memset(&rx->want, 0, sizeof(rx->want));
	rx->want.round = round;
	rx->want.step = step;
	rx->want.sender = sender;
	rx->phase = CD_CHUNKS_RX_WAITING;
}

static bool have_bit(const struct cd_chunks_rx *rx, uint32_t i)
{
	return (rx->have[i / 64] >> (i % 64)) & 1u;
}

/* The header against itself, the cap and the chunks before it. */
static int check_hdr(const struct cd_chunks_rx *rx, const struct cd_chunk_hdr *h, size_t len,
		     char *err, size_t errlen)
{
	const struct cd_chunk_hdr *f = &rx->first;

	if (rx->phase == CD_CHUNKS_RX_ASSEMBLING &&
	    (cd_version_cmp(h->id.version, f->id.version) != 0 || h->count != f->count ||
	     h->total != f->total || h->chunk_size != f->chunk_size || h->zstd != f->zstd ||
	     strcmp(h->total_sha256, f->total_sha256) != 0))
		FAIL(CD_ERR_PROTOCOL,
		     "chunk %u (count %u, total %" PRIu64 ", size %u) differs from the "
		     "snapshot's earlier chunks (count %u, total %" PRIu64 ", size %u)",
		     h->index, h->count, h->total, h->chunk_size, f->count, f->total,
		     f->chunk_size);
	if (h->total > rx->cap)
		FAIL(-EMSGSIZE, "snapshot of %" PRIu64 " bytes is above the cap of %" PRIu64,
		     h->total, rx->cap);
	if (h->chunk_size < CD_CHUNK_SIZE_MIN || h->chunk_size > CD_CHUNK_SIZE_MAX)
		FAIL(CD_ERR_PROTOCOL, "chunk size %u is out of range", h->chunk_size);
	if (h->count != cd_chunks_count(h->total, h->chunk_size))
		FAIL(CD_ERR_PROTOCOL, "count %u does not fit %" PRIu64 " bytes in chunks of %u",
		     h->count, h->total, h->chunk_size);
	if (h->index >= h->count)
		FAIL(CD_ERR_PROTOCOL, "chunk index %u is not below its count %u", h->index,
		     h->count);
	if (h->len != len || len != chunk_len(h->total, h->chunk_size, h->index))
		FAIL(CD_ERR_PROTOCOL, "chunk %u has %zu bytes (header: %u), not %u", h->index, len,
		     h->len, chunk_len(h->total, h->chunk_size, h->index));
	return 0;
}

static int start_assembly(struct cd_chunks_rx *rx, const struct cd_chunk_hdr *h)
{
	rx->buf = malloc(h->total + 1);
	rx->have = calloc(h->count / 64 + 1, sizeof(*rx->have));
	if (!rx->buf || !rx->have) {
		drop_assembly(rx);
		return -ENOMEM;
	}
	rx->first = *h;
	rx->phase = CD_CHUNKS_RX_ASSEMBLING;
	return 0;
}

/*
 * The assembled zstd frame (rx->buf, first.total bytes) unpacked in its
 * place: the text, its length in rx->text_len. Its size is the frame's
 * own word for it, within the cap, and must be what comes out.
 */
static int unpack(struct cd_chunks_rx *rx, char *err, size_t errlen)
{
	unsigned long long size = ZSTD_getFrameContentSize(rx->buf, rx->first.total);
	unsigned char *text;
	size_t got;

	if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
		FAIL(CD_ERR_CORRUPT, "the snapshot's %u chunks are no zstd frame with its size",
		     rx->first.count);
	if (size > rx->cap)
		FAIL(-EMSGSIZE, "snapshot of %llu bytes (unpacked) is above the cap of %" PRIu64,
		     size, rx->cap);
	text = malloc(size + 1);
	if (!text)
		FAIL(-ENOMEM, "out of memory for a snapshot of %llu bytes", size);
	got = ZSTD_decompress(text, size, rx->buf, rx->first.total);
	if (ZSTD_isError(got) || got != size) {
		free(text);
		FAIL(CD_ERR_CORRUPT, "the snapshot's zstd frame does not unpack to its %llu bytes",
		     size);
	}
	free(rx->buf);
	rx->buf = text;
	rx->text_len = size;
	return 0;
}

int cd_chunks_rx_add(struct cd_chunks_rx *rx, const struct cd_chunk_hdr *h, const void *bytes,
		     size_t len, char *err, size_t errlen)
{
	char sum[65];
	int rc;

	if (rx->phase == CD_CHUNKS_RX_IDLE || h->id.round != rx->want.round ||
	    h->id.step != rx->want.step || h->id.sender != rx->want.sender)
		return CD_CHUNKS_IGNORED;
	if (rx->phase == CD_CHUNKS_RX_COMPLETE || rx->phase == CD_CHUNKS_RX_TAKEN)
		return CD_CHUNKS_IGNORED;
	if ((rc = check_hdr(rx, h, len, err, errlen)) < 0)
		return rc;
	if (rx->phase == CD_CHUNKS_RX_ASSEMBLING && have_bit(rx, h->index))
		return CD_CHUNKS_IGNORED;
	cd_sha256_hex(len ? bytes : "", len, sum);
	if (strcmp(sum, h->chunk_sha256) != 0)
		FAIL(CD_ERR_CORRUPT, "chunk %u of %u does not match its checksum", h->index,
		     h->count);
	if (rx->phase == CD_CHUNKS_RX_WAITING && start_assembly(rx, h) < 0)
		FAIL(-ENOMEM, "out of memory for a snapshot of %" PRIu64 " bytes", h->total);
	if (len)
		memcpy(rx->buf + (uint64_t)h->index * h->chunk_size, bytes, len);
	rx->have[h->index / 64] |= 1ull << (h->index % 64);
	if (++rx->n_have < rx->first.count)
		return CD_CHUNKS_MORE;
	rx->text_len = rx->first.total;
	if (rx->first.zstd && (rc = unpack(rx, err, errlen)) < 0) {
		drop_assembly(rx);
		return rc;
	}
	cd_sha256_hex(rx->buf, rx->text_len, sum);
	if (strcmp(sum, rx->first.total_sha256) != 0) {
		drop_assembly(rx);
		FAIL(CD_ERR_CORRUPT, "the snapshot's %u chunks do not match its checksum",
		     h->count);
	}
	rx->buf[rx->text_len] = '\0';
	rx->phase = CD_CHUNKS_RX_COMPLETE;
	return CD_CHUNKS_COMPLETE;
}

int64_t cd_chunks_rx_missing(const struct cd_chunks_rx *rx, uint32_t *out, size_t max)
{
	size_t n = 0;
	uint32_t i;

	if (rx->phase == CD_CHUNKS_RX_IDLE || rx->phase == CD_CHUNKS_RX_WAITING)
		return -ENODATA;
	if (rx->phase != CD_CHUNKS_RX_ASSEMBLING)
		return 0;
	for (i = 0; i < rx->first.count; i++) {
		if (have_bit(rx, i))
			continue;
		if (n < max)
			out[n] = i;
		n++;
	}
	return (int64_t)n;
}

int cd_chunks_rx_take(struct cd_chunks_rx *rx, char **buf, size_t *len)
{
	if (rx->phase != CD_CHUNKS_RX_COMPLETE)
		return -EAGAIN;
	*buf = (char *)rx->buf;
	*len = rx->text_len;
	rx->buf = NULL;
	drop_assembly(rx);
	rx->phase = CD_CHUNKS_RX_TAKEN;
	return 0;
}
