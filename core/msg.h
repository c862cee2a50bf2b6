/*
 * The messages clusterd members exchange over CPG.
 *
 * A fixed little-endian header followed by a NUL-terminated JSON payload,
 * or for a snapshot chunk raw bytes (a chunk header, core/chunks.h, and its
 * piece of the snapshot). Every message is checked here, where it enters,
 * before any handler sees a byte: magic, version, known type, sizes,
 * sender, JSON shape.
 */
#ifndef CD_MSG_H
#define CD_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/chunks.h"
#include "core/state.h"

#define CD_MSG_MAGIC 0x31444d43u /* "CMD1" read as little-endian bytes */
#define CD_MSG_VERSION 1

/*
 * The most payload (JSON text and its NUL) a message of each type may
 * carry. cd_msg_parse() refuses more from the header, before a byte of the
 * JSON is read, and cd_msg_build() refuses to make more, so no member
 * sends what the others drop.
 *   A change holds at most one VM's domain XML (CD_VM_XML_MAX, at most
 *   doubled by JSON escaping) or one volume's file list (CD_VOL_MAX_FILES
 *   entries of at most CD_VFILE_JSON_MAX bytes), and a few small fields.
 *   A snapshot in one message is a state of at most CD_SNAPSHOT_INLINE_MAX
 *   bytes (clusterd/snapstream.h): larger ones go in chunks, of which
 *   state.h shows the largest state (CD_STATE_JSON_MAX) fits in a u32
 *   count. The cap on one snapshot message stays 64 MiB, what clusterd
 *   sent in one message before chunks.
 *   A sync report is a version, a checksum and one node's information.
 *   A sync timeout or restart is one number.
 */
#define CD_MSG_CHANGE_MAX (CD_VOL_MAX_FILES * CD_VFILE_JSON_MAX + 64u * 1024u)
#define CD_MSG_SNAPSHOT_MAX (64u * 1024u * 1024u)
#define CD_MSG_SYNC_STATE_MAX (64u * 1024u)
#define CD_MSG_SYNC_CTL_MAX 256u
/* A sync delta: its changes (core/syncdelta.h) and what wraps them. */
#define CD_MSG_SYNC_DELTA_MAX (8u * 1024u * 1024u)
/* A snapshot chunk: its header and at most CD_SNAPSHOT_CHUNK bytes. */
#define CD_SNAPSHOT_CHUNK (256u * 1024u)
#define CD_MSG_CHUNK_MAX (CD_CHUNK_HDR_LEN + CD_SNAPSHOT_CHUNK)
/*
 * A dump request is its id; its round field is the dump's token
 * (core/dump.h), as is a dump chunk's, whose pieces are snapshot chunks'.
 */
#define CD_MSG_DUMP_REQUEST_MAX 256u
/* A node call or its reply (core/nodecall.h): a method's arguments or answer. */
#define CD_MSG_NODE_CALL_MAX (256u * 1024u)
/*
 * A change of at least this many bytes of JSON goes packed with zstd
 * (CD_MSG_CHANGE_PACKED) when every member takes it so: a vm.add's 5 KB
 * of domain XML pack to a third, fewer packets for corosync to send to
 * every member and for each to decrypt. A smaller change fits one packet.
 */
#define CD_MSG_PACK_MIN 1024u
#define CD_MSG_PACK_LEVEL 3

/* The largest message of any type, its header included. */
#define CD_MSG_MAX (sizeof(struct cd_msg_hdr) + CD_MSG_SNAPSHOT_MAX)

enum cd_msg_type {
	CD_MSG_SYNC_STATE = 1,	   /* a member's version, checksum, quorum view, node info */
	CD_MSG_SNAPSHOT = 2,	   /* the full state, from the member chosen by the round */
	CD_MSG_CHANGE = 3,	   /* one change to apply in agreed order */
	CD_MSG_SYNC_TIMEOUT = 4,   /* a member's sync timeout passed: leave out the silent */
	CD_MSG_SYNC_RESTART = 5,   /* a left-out member asks for a new round */
	CD_MSG_SNAPSHOT_CHUNK = 6, /* a piece of a large snapshot (binary, core/chunks.h) */
	CD_MSG_STATE_CHECK = 7,	   /* the coordinator asks every member for its state's sum */
	CD_MSG_STATE_SUM = 8,	   /* a member's state version and checksum for a check */
	CD_MSG_SYNC_DELTA = 9,	   /* in place of a snapshot: the changes members lack */
	CD_MSG_DUMP_REQUEST = 10,  /* debug dump: every member sends its blackbox (core/dump.h) */
	CD_MSG_DUMP_CHUNK = 11,	   /* a piece of a member's dump answer (binary, core/chunks.h) */
	CD_MSG_NODE_CALL = 12,	   /* work only one node can do, asked of it (core/nodecall.h) */
	CD_MSG_NODE_REPLY = 13,	   /* that node's answer, to the member that asked */
	CD_MSG_CHANGE_PACKED = 14, /* a change whose JSON is a zstd frame; parsed as a change */
};
const char *cd_msg_type_to_str(enum cd_msg_type t);

/*
 * A request's token, the round field of its messages when it is no sync
 * round: the requesting node's id and its own request id (a debug dump's,
 * a node call's), never 0 for a node id above 0. Answers carry it, so that
 * a requester tells its requests from another's.
 */
static inline uint64_t cd_msg_token(uint32_t node, uint32_t id)
{
	return (uint64_t)node << 32 | id;
}

static inline uint32_t cd_msg_token_node(uint64_t token)
{
	return (uint32_t)(token >> 32);
}

static inline uint32_t cd_msg_token_id(uint64_t token)
{
	return (uint32_t)token;
}

struct cd_msg_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t sender;      /* corosync node id of the sender */
	uint32_t payload_len; /* bytes after the header, the NUL included */
	uint64_t req_id;      /* the sender's request id, 0 if none */
	uint64_t round;	      /* sync round token; 0 for changes */
} __attribute__((packed));

struct cd_msg {
	enum cd_msg_type type;
	uint32_t sender;
	uint64_t req_id;
	uint64_t round;
	struct json_object *body; /* owned: put with cd_msg_clear(); NULL for a binary type */
	const void *raw;	  /* a binary type's payload, in the parsed buffer */
	size_t raw_len;
};

/*
 * Build a message. On success *buf is a new buffer the caller frees and
 * *len its size. body is borrowed. Returns 0, -EINVAL (unknown type),
 * -ENOMEM, or -EMSGSIZE for a payload above its type's cap.
 */
int cd_msg_build(enum cd_msg_type type, uint32_t sender, uint64_t req_id, uint64_t round,
		 const struct json_object *body, void **buf, size_t *len);

/*
 * Build a change: as cd_msg_build(CD_MSG_CHANGE, ...), but if pack is set
 * and its JSON is at least CD_MSG_PACK_MIN bytes, packed with zstd as a
 * CD_MSG_CHANGE_PACKED when that is smaller: *packed says which, and
 * *text_len the JSON's bytes, its NUL included. Only for members that all
 * take packed changes (their sync reports say "zchanges"): an older
 * clusterd drops a type it does not know.
 */
int cd_msg_build_change(uint32_t sender, uint64_t req_id, const struct json_object *body, bool pack,
			void **buf, size_t *len, bool *packed, size_t *text_len);

/*
 * Build a message of a binary type (CD_MSG_SNAPSHOT_CHUNK) whose payload
 * is the a_len bytes at a followed by the b_len bytes at b. As
 * cd_msg_build() otherwise.
 */
int cd_msg_build_raw(enum cd_msg_type type, uint32_t sender, uint64_t round, const void *a,
		     size_t a_len, const void *b, size_t b_len, void **buf, size_t *len);

/*
 * Check and decode a delivered message. A binary type's payload is left
 * in buf (m->raw, m->raw_len): m is valid as long as buf is. from is the node id CPG says sent it.
 * A packed change is unpacked (at most CD_MSG_CHANGE_MAX bytes, as its
 * frame says beforehand) and checked as a change: m->type is CD_MSG_CHANGE.
 * On success fills m (release with cd_msg_clear()). On failure returns
 * CD_ERR_PROTOCOL, CD_ERR_VERSION or -EMSGSIZE (a payload above its type's
 * cap) with err set, and m is empty.
 */
int cd_msg_parse(const void *buf, size_t len, uint32_t from, struct cd_msg *m, char *err,
		 size_t errlen);

void cd_msg_clear(struct cd_msg *m);

#endif
