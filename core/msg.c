#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>
#include <zstd.h>

#include "core/msg.h"
#include "lib/jsonget.h"
#include "lib/util.h"

_Static_assert(2u * CD_VM_XML_MAX + 64u * 1024u <= CD_MSG_CHANGE_MAX,
	       "a vm.add with the largest XML must fit in a change");
_Static_assert(CD_MSG_SNAPSHOT_MAX < UINT32_MAX - sizeof(struct cd_msg_hdr),
	       "payload_len is 32 bits");

/* The handler-independent checks per type: the least and most payload, its shape. */
static const struct {
	enum cd_msg_type type;
	const char *name;
	size_t min_payload;
	size_t max_payload;
	int needs_round;
	int binary; /* raw bytes, not JSON */
	int packed; /* a zstd frame of JSON, which is checked by the caps of type `as` */
	enum cd_msg_type as;
} msg_table[] = {
	{CD_MSG_SYNC_STATE, "sync-state", 3, CD_MSG_SYNC_STATE_MAX, 1, 0},
	{CD_MSG_SNAPSHOT, "snapshot", 3, CD_MSG_SNAPSHOT_MAX, 1, 0},
	{CD_MSG_CHANGE, "change", 3, CD_MSG_CHANGE_MAX, 0, 0},
	{CD_MSG_SYNC_TIMEOUT, "sync-timeout", 3, CD_MSG_SYNC_CTL_MAX, 1, 0},
	{CD_MSG_SYNC_RESTART, "sync-restart", 3, CD_MSG_SYNC_CTL_MAX, 1, 0},
	{CD_MSG_SNAPSHOT_CHUNK, "snapshot-chunk", CD_CHUNK_HDR_LEN, CD_MSG_CHUNK_MAX, 1, 1},
	{CD_MSG_STATE_CHECK, "state-check", 3, CD_MSG_SYNC_CTL_MAX, 1, 0},
	{CD_MSG_STATE_SUM, "state-sum", 3, CD_MSG_SYNC_CTL_MAX, 1, 0},
	{CD_MSG_SYNC_DELTA, "sync-delta", 3, CD_MSG_SYNC_DELTA_MAX, 1, 0},
	{CD_MSG_DUMP_REQUEST, "dump-request", 3, CD_MSG_DUMP_REQUEST_MAX, 1, 0},
	{CD_MSG_DUMP_CHUNK, "dump-chunk", CD_CHUNK_HDR_LEN, CD_MSG_CHUNK_MAX, 1, 1},
	{CD_MSG_NODE_CALL, "node-call", 3, CD_MSG_NODE_CALL_MAX, 1, 0},
	{CD_MSG_NODE_REPLY, "node-reply", 3, CD_MSG_NODE_CALL_MAX, 1, 0},
	/* A zstd frame is longer than 3 bytes; its content is capped as a change's. */
	{CD_MSG_CHANGE_PACKED, "change-packed", 9, CD_MSG_CHANGE_MAX, 0, 0, 1, CD_MSG_CHANGE},
};

static int type_index(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(msg_table) / sizeof(msg_table[0]); i++)
		if ((uint16_t)msg_table[i].type == type)
			return (int)i;
	return -1;
}

const char *cd_msg_type_to_str(enum cd_msg_type t)
{
	int i = type_index((uint16_t)t);

	return i < 0 ? "unknown" : msg_table[i].name;
}

/* The header and the two parts of a payload (a_len + b_len bytes) into a new *buf. */
static int build(enum cd_msg_type type, uint32_t sender, uint64_t req_id, uint64_t round,
		 const void *a, size_t a_len, const void *b, size_t b_len, void **buf, size_t *len)
{
	struct cd_msg_hdr h;
	size_t plen = a_len + b_len;
	char *m;

	m = malloc(sizeof(h) + plen);
	if (!m)
		return -ENOMEM;
	h.magic = htole32(CD_MSG_MAGIC);
	h.version = htole16(CD_MSG_VERSION);
	h.type = htole16((uint16_t)type);
	h.sender = htole32(sender);
	h.payload_len = htole32((uint32_t)plen);
	h.req_id = htole64(req_id);
	h.round = htole64(round);
	memcpy(m, &h, sizeof(h));
	memcpy(m + sizeof(h), a, a_len);
	if (b_len)
		memcpy(m + sizeof(h) + a_len, b, b_len);
	*buf = m;
	*len = sizeof(h) + plen;
	return 0;
}

int cd_msg_build(enum cd_msg_type type, uint32_t sender, uint64_t req_id, uint64_t round,
		 const struct json_object *body, void **buf, size_t *len)
{
	const char *text =
		json_object_to_json_string_ext((struct json_object *)body, JSON_C_TO_STRING_PLAIN);
	size_t tlen = strlen(text) + 1;
	int ti = type_index((uint16_t)type);

	if (ti < 0 || msg_table[ti].binary || msg_table[ti].packed)
		return -EINVAL;
	if (tlen > msg_table[ti].max_payload)
		return -EMSGSIZE;
	return build(type, sender, req_id, round, text, tlen, NULL, 0, buf, len);
}

int cd_msg_build_change(uint32_t sender, uint64_t req_id, const struct json_object *body, bool pack,
			void **buf, size_t *len, bool *packed_out, size_t *text_len)
{
	const char *text =
		json_object_to_json_string_ext((struct json_object *)body, JSON_C_TO_STRING_PLAIN);
	size_t tlen = strlen(text) + 1, cap, plen;
	void *packed;
	int rc;

	*packed_out = false;
	*text_len = tlen;
	if (tlen > CD_MSG_CHANGE_MAX)
		return -EMSGSIZE;
	if (!pack || tlen < CD_MSG_PACK_MIN)
		return build(CD_MSG_CHANGE, sender, req_id, 0, text, tlen, NULL, 0, buf, len);
	/* Only what saves bytes goes packed: a frame at most one byte shorter is not worth it. */
	cap = tlen - 1;
	packed = malloc(cap);
	if (!packed)
		return -ENOMEM;
	plen = ZSTD_compress(packed, cap, text, tlen, CD_MSG_PACK_LEVEL);
	if (ZSTD_isError(plen))
		rc = build(CD_MSG_CHANGE, sender, req_id, 0, text, tlen, NULL, 0, buf, len);
	else {
		rc = build(CD_MSG_CHANGE_PACKED, sender, req_id, 0, packed, plen, NULL, 0, buf,
			   len);
		*packed_out = rc == 0;
	}
	free(packed);
	return rc;
}

int cd_msg_build_raw(enum cd_msg_type type, uint32_t sender, uint64_t round, const void *a,
		     size_t a_len, const void *b, size_t b_len, void **buf, size_t *len)
{
	int ti = type_index((uint16_t)type);

	if (ti < 0 || !msg_table[ti].binary)
		return -EINVAL;
	if (a_len + b_len > msg_table[ti].max_payload || a_len + b_len < msg_table[ti].min_payload)
		return -EMSGSIZE;
	return build(type, sender, 0, round, a, a_len, b, b_len, buf, len);
}

#define FAIL CD_FAIL

/*
 * A packed payload's JSON text into a new *out of *out_len bytes, its NUL
 * included. Its frame must say its size, and that must be within type
 * as's caps, before anything is allocated: no frame unpacks to more.
 */
static int unpack(const void *payload, size_t plen, int as, char **out, size_t *out_len, char *err,
		  size_t errlen)
{
	unsigned long long n = ZSTD_getFrameContentSize(payload, plen);
	size_t got;
	char *t;

	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN)
		FAIL(CD_ERR_PROTOCOL, "%s payload is not a zstd frame that says its size",
		     msg_table[as].name);
	if (n < msg_table[as].min_payload || n > msg_table[as].max_payload)
		FAIL(-EMSGSIZE, "%s payload unpacks to %llu bytes, outside %zu to %zu",
		     msg_table[as].name, n, msg_table[as].min_payload, msg_table[as].max_payload);
	t = malloc(n);
	if (!t)
		FAIL(-ENOMEM, "out of memory");
	got = ZSTD_decompress(t, n, payload, plen);
	if (ZSTD_isError(got) || got != n) {
		free(t);
		FAIL(CD_ERR_PROTOCOL, "%s payload does not unpack: %s", msg_table[as].name,
		     ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short frame");
	}
	*out = t;
	*out_len = n;
	return 0;
}

int cd_msg_parse(const void *buf, size_t len, uint32_t from, struct cd_msg *m, char *err,
		 size_t errlen)
{
	struct cd_msg_hdr h;
	const char *payload;
	char *unpacked = NULL;
	size_t plen;
	int ti, rc;

	memset(m, 0, sizeof(*m));
	if (len < sizeof(h))
		FAIL(CD_ERR_PROTOCOL, "message of %zu bytes is shorter than a header", len);
	memcpy(&h, buf, sizeof(h));
	if (le32toh(h.magic) != CD_MSG_MAGIC)
		FAIL(CD_ERR_PROTOCOL, "bad magic 0x%08x", le32toh(h.magic));
	if (le16toh(h.version) != CD_MSG_VERSION)
		FAIL(CD_ERR_VERSION, "message version %u is not supported", le16toh(h.version));
	ti = type_index(le16toh(h.type));
	if (ti < 0)
		FAIL(CD_ERR_PROTOCOL, "unknown message type %u", le16toh(h.type));
	if (le32toh(h.sender) != from)
		FAIL(CD_ERR_PROTOCOL, "message claims sender %u but came from node %u",
		     le32toh(h.sender), from);
	if ((size_t)le32toh(h.payload_len) != len - sizeof(h))
		FAIL(CD_ERR_PROTOCOL, "payload length %u does not match message size %zu",
		     le32toh(h.payload_len), len);
	if (len - sizeof(h) < msg_table[ti].min_payload)
		FAIL(CD_ERR_PROTOCOL, "%s payload too short", msg_table[ti].name);
	if (len - sizeof(h) > msg_table[ti].max_payload)
		FAIL(-EMSGSIZE, "%s payload of %zu bytes is above its cap of %zu",
		     msg_table[ti].name, len - sizeof(h), msg_table[ti].max_payload);
	if (msg_table[ti].needs_round && h.round == 0)
		FAIL(CD_ERR_PROTOCOL, "%s without a round", msg_table[ti].name);
	payload = (const char *)buf + sizeof(h);
	plen = len - sizeof(h);
	if (msg_table[ti].binary) {
		m->raw = payload;
		m->raw_len = plen;
		goto out;
	}
	if (msg_table[ti].packed) {
		int as = type_index((uint16_t)msg_table[ti].as);

		rc = unpack(payload, plen, as, &unpacked, &plen, err, errlen);
		if (rc < 0)
			return rc;
		payload = unpacked;
		ti = as;
	}
	if (payload[plen - 1] != '\0' || memchr(payload, '\0', plen - 1)) {
		free(unpacked);
		FAIL(CD_ERR_PROTOCOL, "%s payload is not one NUL-terminated string",
		     msg_table[ti].name);
	}
	rc = cd_json_parse_object(payload, plen - 1, &m->body);
	free(unpacked);
	if (rc == -ENOMEM)
		FAIL(-ENOMEM, "out of memory");
	if (rc < 0)
		FAIL(CD_ERR_PROTOCOL, "%s payload is not a JSON object", msg_table[ti].name);
out:
	m->type = msg_table[ti].type;
	m->sender = from;
	m->req_id = le64toh(h.req_id);
	m->round = le64toh(h.round);
	return 0;
}

void cd_msg_clear(struct cd_msg *m)
{
	json_object_put(m->body);
	memset(m, 0, sizeof(*m));
}
