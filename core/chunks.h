/*
 * A snapshot (the canonical JSON text of the state) cut into chunks and put
 * back together, so that a large state goes out as many small messages the
 * sender paces itself, instead of one message that blocks its loop.
 *
 * A chunk is a fixed binary header (CD_CHUNK_HDR_LEN bytes, little-endian)
 * followed by the raw bytes of its piece of the snapshot. Binary rather
 * than JSON: the piece is arbitrary bytes of JSON text, which a JSON field
 * would have to escape or base64 (a third more); a fixed header is checked
 * field by field before a byte of the piece is looked at.
 *
 * Wire layout (offsets in bytes; integers little-endian):
 *     0  magic "CCH1"       u32      40  index        u32
 *     4  wire version (1|2) u16      44  count        u32
 *     6  reserved (0)       u16      48  total        u64
 *     8  sync round         u64      56  chunk size   u32
 *    16  sender node id     u32      60  len          u32 (bytes that follow)
 *    20  sync step          u32      64  SHA-256 of the whole, 64 hex chars
 *    24  version epoch      u64     128  SHA-256 of this chunk, 64 hex chars
 *    32  version seq        u64     192  the chunk's bytes
 *
 * A snapshot is named by its sync round, step and sender (what the round
 * waits for) and carries its state version. Its chunk i holds bytes
 * [i * size, min((i + 1) * size, total)); count is total / size rounded up,
 * and 1 for an empty snapshot (one chunk of no bytes, so that it arrives).
 * The whole SHA-256 is the same hash of the same text the sync reports
 * carry as their state checksum.
 *
 * Wire version 2 is the same but for the bytes: the chunks carry one zstd
 * frame of the text (its content size in the frame's header), total and
 * the chunk sizes count the frame's bytes, and the whole SHA-256 is still
 * the text's, checked once the frame is unpacked. A state's JSON is mostly
 * domain XML and packs to about a tenth: at 10,000 VMs some 6 MB go
 * through corosync to every member instead of 58 MB. A receiver that
 * knows only version 1 refuses version 2 (CD_ERR_VERSION), so a sender
 * uses it only when every receiver says it takes it (the sync reports'
 * "zchunks").
 */
#ifndef CD_CHUNKS_H
#define CD_CHUNKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/state.h"

#define CD_CHUNK_HDR_LEN 192
#define CD_CHUNK_SIZE_DEFAULT (256u * 1024u)
#define CD_CHUNK_SIZE_MIN 1024u /* so that a snapshot's chunk bitmap stays small */
#define CD_CHUNK_SIZE_MAX (64u * 1024u * 1024u)
/* The receiver's cap on a snapshot's total length, unless told another. */
#define CD_CHUNKS_CAP_DEFAULT (1024ull * 1024u * 1024u)

/* Which snapshot a chunk belongs to. */
struct cd_chunk_id {
	uint64_t round;		   /* the sync round (core/sync.h: a token, not ordered) */
	uint32_t sender;	   /* the node that sends it */
	uint32_t step;		   /* the round's step when it asked for the snapshot */
	struct cd_version version; /* the state version the snapshot holds */
};

struct cd_chunk_hdr {
	struct cd_chunk_id id;
	uint32_t index;	       /* 0 .. count - 1 */
	uint32_t count;	       /* chunks in the snapshot */
	uint64_t total;	       /* bytes in the snapshot */
	uint32_t chunk_size;   /* the sender's chunk size: every chunk but the last has it */
	uint32_t len;	       /* bytes in this chunk */
	char total_sha256[65]; /* hex SHA-256 of the whole snapshot (its text, unpacked) */
	char chunk_sha256[65]; /* hex SHA-256 of this chunk's bytes */
	bool zstd;	       /* wire version 2: the bytes are a zstd frame of the text */
};

/* The header in its wire form into out. */
void cd_chunk_hdr_encode(const struct cd_chunk_hdr *h, unsigned char out[CD_CHUNK_HDR_LEN]);

/*
 * Decode a received chunk (a header, then its bytes): fills h and points
 * *bytes into buf at the chunk's h->len bytes. Checks the wire form only
 * (magic, version, that len is what follows the header, hex checksums);
 * cd_chunks_rx_add() checks the rest. Returns 0, CD_ERR_PROTOCOL or
 * CD_ERR_VERSION with err set.
 */
int cd_chunk_decode(const void *buf, size_t len, struct cd_chunk_hdr *h, const void **bytes,
		    char *err, size_t errlen);

/* How many chunks of size bytes a snapshot of total bytes has (0: above 2^32 - 1). */
uint32_t cd_chunks_count(uint64_t total, uint32_t size);

/* --- the sender --- */

struct cd_chunks_tx {
	struct cd_chunk_id id;
	const unsigned char *buf; /* borrowed (must outlive the sending), or packed */
	unsigned char *packed;	  /* the zstd frame cd_chunks_tx_init_zstd() made */
	bool zstd;
	uint64_t len;
	uint32_t chunk_size;
	uint32_t count;
	uint32_t next; /* the index cd_chunks_tx_next() gives next */
	char total_sha256[65];
};

/*
 * Start sending len bytes of buf (borrowed) as the snapshot id, in chunks of
 * chunk_size bytes (0: CD_CHUNK_SIZE_DEFAULT). total_sha256 is the hex
 * SHA-256 of those bytes where the caller has it already (a state's
 * checksum, core/state_sum.h), or NULL: then the whole is hashed here,
 * once. Returns 0, -EINVAL (chunk size outside CD_CHUNK_SIZE_MIN..MAX) or
 * -EMSGSIZE (more chunks than a u32 counts).
 */
int cd_chunks_tx_init(struct cd_chunks_tx *tx, const struct cd_chunk_id *id, const void *buf,
		      size_t len, uint32_t chunk_size, const char *total_sha256);

/*
 * The same, but the chunks (wire version 2) carry buf packed into one zstd
 * frame at level CD_CHUNKS_ZSTD_LEVEL, which tx keeps until
 * cd_chunks_tx_free(); total_sha256 is still the hash of buf's len bytes.
 * Also -ENOMEM, or -EIO if zstd fails.
 */
#define CD_CHUNKS_ZSTD_LEVEL 1
int cd_chunks_tx_init_zstd(struct cd_chunks_tx *tx, const struct cd_chunk_id *id, const void *buf,
			   size_t len, uint32_t chunk_size, const char *total_sha256);

/* Release what an init made (the packed frame); tx gives no more chunks. */
void cd_chunks_tx_free(struct cd_chunks_tx *tx);

/*
 * The next chunk: fills h, points *ptr into the buffer at its h->len bytes
 * (*len the same) and moves on. Returns 1, or 0 when every chunk was given.
 * How many to send per loop turn is the caller's: flow control belongs to
 * the transport.
 */
int cd_chunks_tx_next(struct cd_chunks_tx *tx, struct cd_chunk_hdr *h, const void **ptr,
		      size_t *len);

/* Go back (or on) to chunk index, to send it again. Returns 0 or -ERANGE. */
int cd_chunks_tx_seek(struct cd_chunks_tx *tx, uint32_t index);

/* --- the receiver --- */

/*
 * What cd_chunks_rx_add() made of a chunk; errors are negative.
 */
enum cd_chunks_result {
	CD_CHUNKS_MORE = 0,	/* taken; more chunks are missing */
	CD_CHUNKS_COMPLETE = 1, /* the last one: the whole checked out, take it */
	CD_CHUNKS_IGNORED = 2,	/* a duplicate, or not of the snapshot awaited */
};
const char *cd_chunks_result_to_str(enum cd_chunks_result r);

enum cd_chunks_rx_phase {
	CD_CHUNKS_RX_IDLE,	 /* no snapshot awaited */
	CD_CHUNKS_RX_WAITING,	 /* awaited, no chunk yet */
	CD_CHUNKS_RX_ASSEMBLING, /* some chunks in */
	CD_CHUNKS_RX_COMPLETE,	 /* all in and checked: cd_chunks_rx_take() */
	CD_CHUNKS_RX_TAKEN,	 /* handed out; its chunks are ignored */
};
const char *cd_chunks_rx_phase_to_str(enum cd_chunks_rx_phase p);

struct cd_chunks_rx {
	uint64_t cap; /* the most total bytes accepted */
	enum cd_chunks_rx_phase phase;
	struct cd_chunk_id want;   /* round, step and sender awaited (not its version) */
	struct cd_chunk_hdr first; /* the first chunk's header: the snapshot's shape */
	unsigned char *buf;	   /* total + 1 bytes, allocated once; then the text */
	uint64_t text_len;	   /* once complete: the text's length (unpacked) */
	uint64_t *have;		   /* a bit per chunk */
	uint32_t n_have;
};

/* An empty receiver refusing snapshots above cap bytes (0: CD_CHUNKS_CAP_DEFAULT). */
void cd_chunks_rx_init(struct cd_chunks_rx *rx, uint64_t cap);

/* Release what rx holds; it is empty again (as after init, same cap). NULL is fine. */
void cd_chunks_rx_free(struct cd_chunks_rx *rx);

/*
 * Await the snapshot of this round and step from sender: what the sync
 * round (core/sync.h) waits for, its round, step and snapshot_from. Round
 * tokens are hashes, not ordered, and a chunk of an earlier round can be
 * delivered after the first chunks of the next one; so the caller, whose
 * sync round knows, says which snapshot is current. Awaiting another one
 * drops the assembly under way (a newer round or step starts over);
 * awaiting the same one again changes nothing.
 */
void cd_chunks_rx_expect(struct cd_chunks_rx *rx, uint64_t round, uint32_t step, uint32_t sender);

/*
 * Add a chunk: h (from cd_chunk_decode()) and its len bytes (borrowed).
 * Chunks come in any order. Returns:
 *   CD_CHUNKS_IGNORED  not of the awaited round, step and sender (an older
 *                      round's, a superseded step's), a duplicate, or the
 *                      snapshot was complete already;
 *   CD_CHUNKS_MORE     taken;
 *   CD_CHUNKS_COMPLETE taken, the last missing one, and the whole matches
 *                      its SHA-256: cd_chunks_rx_take() it;
 *   CD_ERR_PROTOCOL    a header inconsistent with itself (index not below
 *                      count, a length wrong for its index, a count that
 *                      does not fit total and chunk size) or with the
 *                      snapshot's earlier chunks (version, wire version,
 *                      count, total, chunk size or whole checksum differ);
 *   CD_ERR_CORRUPT     the chunk's bytes do not match its checksum; or, at
 *                      the last chunk, the whole does not match its own,
 *                      or its zstd frame does not unpack to a text of the
 *                      size its header says: then the assembly starts over
 *                      (still awaited);
 *   -EMSGSIZE          a total above the cap; or, at the last chunk, a
 *                      frame whose text would be (the assembly starts over);
 *   -ENOMEM.
 * Every error but those at the last chunk leaves the assembly as it was
 * (the chunk is dropped); err says why.
 */
int cd_chunks_rx_add(struct cd_chunks_rx *rx, const struct cd_chunk_hdr *h, const void *bytes,
		     size_t len, char *err, size_t errlen);

/*
 * The indices still missing, ascending: the first max of them into out.
 * Returns how many are missing (may be more than max; 0 once complete), or
 * -ENODATA before the first chunk (the count is not known yet: ask for all).
 */
int64_t cd_chunks_rx_missing(const struct cd_chunks_rx *rx, uint32_t *out, size_t max);

/*
 * Hand out the complete snapshot: *buf is a new buffer the caller frees,
 * the text's bytes (*len; unpacked, for wire version 2) and a NUL after
 * them, ready for a JSON parser. Its
 * chunks are ignored from now on. Returns 0 or -EAGAIN (not complete).
 */
int cd_chunks_rx_take(struct cd_chunks_rx *rx, char **buf, size_t *len);

#endif
