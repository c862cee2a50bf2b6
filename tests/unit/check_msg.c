#include "config.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include <clusterd/result.h>
#include <zstd.h>

#include "check_common.h"
#include "core/msg.h"

static void build(enum cd_msg_type t, uint64_t round, const char *json, void **buf, size_t *len)
{
	struct json_object *o = json_tokener_parse(json);

	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(cd_msg_build(t, 4, 77, round, o, buf, len), 0);
	json_object_put(o);
}

START_TEST(test_roundtrip)
{
	void *buf;
	size_t len;
	struct cd_msg m;
	char err[128];

	build(CD_MSG_CHANGE, 0, "{\"op\":\"property.set\",\"key\":\"k\",\"value\":\"v\"}", &buf,
	      &len);
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.type, CD_MSG_CHANGE);
	ck_assert_uint_eq(m.sender, 4);
	ck_assert_uint_eq(m.req_id, 77);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(m.body, "key")), "k");
	cd_msg_clear(&m);
	free(buf);
}
END_TEST

START_TEST(test_rejects_bad_input)
{
	void *buf;
	size_t len;
	struct cd_msg m;
	char err[128];
	struct cd_msg_hdr *h;
	char *b;

	build(CD_MSG_SYNC_STATE, 5, "{\"a\":1}", &buf, &len);
	b = buf;
	h = buf;
	/* Every truncation is refused. */
	for (size_t l = 0; l < len; l++)
		ck_assert_int_lt(cd_msg_parse(buf, l, 4, &m, err, sizeof(err)), 0);
	/* A sender that lies about itself. */
	ck_assert_int_eq(cd_msg_parse(buf, len, 5, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	/* Wrong magic, version, type. */
	h->magic ^= 1;
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	h->magic ^= 1;
	h->version = htole16(9);
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), CD_ERR_VERSION);
	h->version = htole16(CD_MSG_VERSION);
	h->type = htole16(99);
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	h->type = htole16(CD_MSG_SYNC_STATE);
	/* A sync message without a round. */
	h->round = 0;
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	h->round = htole64(5);
	/* Payload not NUL-terminated, or not JSON. */
	b[len - 1] = '}';
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	b[len - 1] = '\0';
	b[sizeof(*h)] = 'x';
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	b[sizeof(*h)] = '{';
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), 0);
	cd_msg_clear(&m);
	free(buf);

	/* A JSON array is not an object. */
	build(CD_MSG_CHANGE, 0, "[1]", &buf, &len);
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	free(buf);
}
END_TEST

/* Random bytes never crash the parser and are never accepted as a change. */
/* A header announcing payload bytes of type t, for the size checks. */
static void *raw(enum cd_msg_type t, size_t payload, size_t *len)
{
	struct cd_msg_hdr h;
	char *b = calloc(1, sizeof(h) + payload);

	ck_assert_ptr_nonnull(b);
	memset(&h, 0, sizeof(h));
	h.magic = htole32(CD_MSG_MAGIC);
	h.version = htole16(CD_MSG_VERSION);
	h.type = htole16((uint16_t)t);
	h.sender = htole32(4);
	h.payload_len = htole32((uint32_t)payload);
	h.round = htole64(1);
	memcpy(b, &h, sizeof(h));
	*len = sizeof(h) + payload;
	return b;
}

/*
 * Every type has its cap, checked from the header before any JSON is
 * read: a payload of garbage above the cap is refused for its size.
 */
START_TEST(test_size_caps)
{
	static const struct {
		enum cd_msg_type type;
		size_t cap;
	} caps[] = {
		{CD_MSG_CHANGE, CD_MSG_CHANGE_MAX},
		{CD_MSG_SYNC_STATE, CD_MSG_SYNC_STATE_MAX},
		{CD_MSG_SNAPSHOT, CD_MSG_SNAPSHOT_MAX},
	};
	struct cd_msg m;
	char err[128];
	size_t i, len;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		char *b = raw(caps[i].type, caps[i].cap + 1, &len);

		memset(b + sizeof(struct cd_msg_hdr), 'x', 4096);
		ck_assert_int_eq(cd_msg_parse(b, len, 4, &m, err, sizeof(err)), -EMSGSIZE);
		ck_assert_ptr_nonnull(strstr(err, "cap"));
		ck_assert_ptr_null(m.body);
		free(b);
	}
	ck_assert_uint_le(CD_MSG_CHANGE_MAX, 2 * 1024 * 1024);
	ck_assert_uint_le(CD_MSG_MAX, sizeof(struct cd_msg_hdr) + 64u * 1024 * 1024);
}
END_TEST

/* A change as large as the cap is built and taken; one byte more is neither. */
START_TEST(test_change_at_the_cap)
{
	size_t n = CD_MSG_CHANGE_MAX - 1 - strlen("{\"p\":\"\"}"), len;
	char *pad = malloc(n + 2), err[128];
	struct json_object *o = json_object_new_object();
	struct cd_msg m;
	void *buf;

	memset(pad, 'x', n + 1);
	pad[n] = '\0';
	json_object_object_add(o, "p", json_object_new_string(pad));
	ck_assert_int_eq(cd_msg_build(CD_MSG_CHANGE, 4, 1, 0, o, &buf, &len), 0);
	ck_assert_uint_eq(len, sizeof(struct cd_msg_hdr) + CD_MSG_CHANGE_MAX);
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), 0);
	cd_msg_clear(&m);
	free(buf);
	pad[n] = 'x';
	pad[n + 1] = '\0';
	json_object_object_add(o, "p", json_object_new_string(pad));
	ck_assert_int_eq(cd_msg_build(CD_MSG_CHANGE, 4, 1, 0, o, &buf, &len), -EMSGSIZE);
	/* The caps are per type: a snapshot that large is fine. */
	ck_assert_int_eq(cd_msg_build(CD_MSG_SNAPSHOT, 4, 0, 1, o, &buf, &len), 0);
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), 0);
	cd_msg_clear(&m);
	free(buf);
	json_object_put(o);
	free(pad);
}
END_TEST

START_TEST(test_fuzz_random)
{
	unsigned char buf[256];
	struct cd_msg m;
	char err[128];
	unsigned int seed = 12345;
	int i;

	for (i = 0; i < 20000; i++) {
		size_t len = (size_t)rand_r(&seed) % sizeof(buf), j;

		for (j = 0; j < len; j++)
			buf[j] = (unsigned char)rand_r(&seed);
		if (len >= 4 && (i & 1)) {
			uint32_t magic = htole32(CD_MSG_MAGIC);

			memcpy(buf, &magic, 4);
		}
		if (cd_msg_parse(buf, len, 4, &m, err, sizeof(err)) == 0)
			cd_msg_clear(&m);
	}
}
END_TEST

/* A snapshot chunk: raw bytes through, in the parsed buffer; the JSON calls refuse it. */
START_TEST(test_raw_chunk)
{
	struct cd_chunk_id id = {.round = 9, .sender = 4, .step = 1, .version = {3, 5}};
	const char text[] = "{\"format\":2}";
	unsigned char hdr[CD_CHUNK_HDR_LEN];
	struct cd_chunks_tx tx;
	struct cd_chunk_hdr h, back;
	const void *piece, *bytes;
	size_t plen, len;
	struct json_object *o = json_object_new_object();
	struct cd_msg m;
	char err[128];
	void *buf;

	ck_assert_int_eq(cd_chunks_tx_init(&tx, &id, text, strlen(text), 0, NULL), 0);
	ck_assert_int_eq(cd_chunks_tx_next(&tx, &h, &piece, &plen), 1);
	cd_chunk_hdr_encode(&h, hdr);
	ck_assert_int_eq(cd_msg_build_raw(CD_MSG_SNAPSHOT_CHUNK, 4, 9, hdr, sizeof(hdr), piece,
					  plen, &buf, &len),
			 0);
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.type, CD_MSG_SNAPSHOT_CHUNK);
	ck_assert_ptr_null(m.body);
	ck_assert_uint_eq(m.raw_len, sizeof(hdr) + plen);
	ck_assert_int_eq(cd_chunk_decode(m.raw, m.raw_len, &back, &bytes, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.len, strlen(text));
	ck_assert_mem_eq(bytes, text, strlen(text));
	cd_msg_clear(&m);
	/* From another node than it claims: refused. */
	ck_assert_int_eq(cd_msg_parse(buf, len, 5, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	free(buf);
	/* Without a round, too short, too long, or as JSON: refused. */
	ck_assert_int_eq(
		cd_msg_build_raw(CD_MSG_SNAPSHOT_CHUNK, 4, 9, hdr, 10, NULL, 0, &buf, &len),
		-EMSGSIZE);
	ck_assert_int_eq(cd_msg_build_raw(CD_MSG_SNAPSHOT_CHUNK, 4, 9, hdr, sizeof(hdr), piece,
					  CD_SNAPSHOT_CHUNK + 1, &buf, &len),
			 -EMSGSIZE);
	ck_assert_int_eq(
		cd_msg_build_raw(CD_MSG_CHANGE, 4, 0, hdr, sizeof(hdr), NULL, 0, &buf, &len),
		-EINVAL);
	ck_assert_int_eq(cd_msg_build(CD_MSG_SNAPSHOT_CHUNK, 4, 0, 9, o, &buf, &len), -EINVAL);
	ck_assert_int_eq(cd_msg_build_raw(CD_MSG_SNAPSHOT_CHUNK, 4, 0, hdr, sizeof(hdr), NULL, 0,
					  &buf, &len),
			 0);
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	free(buf);
	json_object_put(o);
}
END_TEST

/* A vm.add as clusterd sends it: a domain XML of some 5 KB in a change. */
static struct json_object *vm_add(size_t xml_len)
{
	static const char line[] = "<domain type='kvm'><devices><disk/></devices>\n";
	struct json_object *o = json_object_new_object();
	char *xml = malloc(xml_len + 1);
	size_t i;

	for (i = 0; i < xml_len; i++)
		xml[i] = line[i % (sizeof(line) - 1)];
	xml[xml_len] = '\0';
	json_object_object_add(o, "op", json_object_new_string("vm.add"));
	json_object_object_add(o, "name", json_object_new_string("vm0042"));
	json_object_object_add(o, "xml", json_object_new_string(xml));
	free(xml);
	return o;
}

static uint16_t wire_type(const void *buf)
{
	struct cd_msg_hdr h;

	memcpy(&h, buf, sizeof(h));
	return le16toh(h.type);
}

/*
 * A large change goes packed when asked, and comes out of the parser as
 * the very change, of type change; a small one, or one not asked to be
 * packed, goes as before.
 */
START_TEST(test_packed_change_roundtrip)
{
	struct json_object *o = vm_add(5000), *small = json_tokener_parse("{\"op\":\"x\"}");
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	void *buf, *plain;
	size_t len, plain_len, tlen;
	bool packed;
	struct cd_msg m;
	char err[128];

	ck_assert_int_eq(cd_msg_build_change(4, 77, o, false, &plain, &plain_len, &packed, &tlen),
			 0);
	ck_assert_uint_eq(wire_type(plain), CD_MSG_CHANGE);
	ck_assert(!packed);
	ck_assert_uint_eq(tlen, strlen(text) + 1);
	ck_assert_uint_eq(plain_len, sizeof(struct cd_msg_hdr) + tlen);
	ck_assert_int_eq(cd_msg_build_change(4, 77, o, true, &buf, &len, &packed, &tlen), 0);
	ck_assert_uint_eq(wire_type(buf), CD_MSG_CHANGE_PACKED);
	ck_assert(packed);
	ck_assert_uint_eq(tlen, strlen(text) + 1);
	ck_assert_uint_lt(len, plain_len / 2);
	ck_assert_int_eq(cd_msg_parse(buf, len, 4, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.type, CD_MSG_CHANGE);
	ck_assert_uint_eq(m.req_id, 77);
	ck_assert_uint_eq(m.round, 0);
	ck_assert_ptr_null(m.raw);
	ck_assert_str_eq(json_object_to_json_string_ext(m.body, JSON_C_TO_STRING_PLAIN), text);
	cd_msg_clear(&m);
	/* From another node than it claims: refused, as a change is. */
	ck_assert_int_eq(cd_msg_parse(buf, len, 5, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	free(buf);
	free(plain);
	/* Below CD_MSG_PACK_MIN: plain, even when asked. */
	ck_assert_int_eq(cd_msg_build_change(4, 1, small, true, &buf, &len, &packed, &tlen), 0);
	ck_assert_uint_eq(wire_type(buf), CD_MSG_CHANGE);
	ck_assert(!packed);
	free(buf);
	/* Only cd_msg_build_change() makes one; the other builders refuse the type. */
	ck_assert_int_eq(cd_msg_build(CD_MSG_CHANGE_PACKED, 4, 1, 0, o, &buf, &len), -EINVAL);
	ck_assert_int_eq(
		cd_msg_build_raw(CD_MSG_CHANGE_PACKED, 4, 1, "abcdefghij", 10, NULL, 0, &buf, &len),
		-EINVAL);
	json_object_put(small);
	json_object_put(o);
}
END_TEST

/* A message of type packed change whose payload is the n bytes at p. */
static void *packed_msg(const void *p, size_t n, size_t *len)
{
	char *b = raw(CD_MSG_CHANGE_PACKED, n, len);
	struct cd_msg_hdr *h = (struct cd_msg_hdr *)b;

	h->round = 0;
	memcpy(b + sizeof(*h), p, n);
	return b;
}

/* The bytes src packed into a new buffer, its size in *n; with or without the size in the frame. */
static void *pack(const void *src, size_t len, bool say_size, size_t *n)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(len);
	void *out = malloc(cap);

	ck_assert_ptr_nonnull(c);
	ck_assert(!ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, say_size)));
	if (!say_size) {
		/* Streamed, its size is not known when the frame starts. */
		ZSTD_inBuffer in = {src, len, 0};
		ZSTD_outBuffer o = {out, cap, 0};

		ck_assert_uint_eq(ZSTD_compressStream2(c, &o, &in, ZSTD_e_end), 0);
		*n = o.pos;
	} else {
		*n = ZSTD_compress2(c, out, cap, src, len);
		ck_assert(!ZSTD_isError(*n));
	}
	ZSTD_freeCCtx(c);
	return out;
}

static int parse_packed(const void *p, size_t n, char *err, size_t errlen)
{
	size_t len;
	void *b = packed_msg(p, n, &len);
	struct cd_msg m;
	int rc = cd_msg_parse(b, len, 4, &m, err, errlen);

	if (rc == 0)
		ck_assert_int_eq(m.type, CD_MSG_CHANGE);
	else
		ck_assert_ptr_null(m.body);
	cd_msg_clear(&m);
	free(b);
	return rc;
}

/*
 * A packed change is checked as a change once unpacked, and its frame
 * before: no frame, a frame that does not say its size, one that says
 * more than a change may hold (refused before a byte is unpacked), a
 * cut frame, a text without its NUL, or no JSON object.
 */
START_TEST(test_packed_change_refused)
{
	const char good[] = "{\"op\":\"x\"}", not_json[] = "{\"op\":", no_nul[] = "{\"a\":1}";
	size_t big = CD_MSG_CHANGE_MAX + 1, n;
	char *x = malloc(big), err[160];
	void *f;

	ck_assert_int_eq(parse_packed("not a zstd frame", 16, err, sizeof(err)), CD_ERR_PROTOCOL);
	ck_assert_ptr_nonnull(strstr(err, "zstd frame"));

	f = pack(good, sizeof(good), false, &n);
	ck_assert_int_eq(parse_packed(f, n, err, sizeof(err)), CD_ERR_PROTOCOL);
	ck_assert_ptr_nonnull(strstr(err, "size"));
	free(f);

	memset(x, ' ', big);
	x[0] = '{';
	x[big - 3] = '}';
	x[big - 1] = '\0';
	f = pack(x, big, true, &n);
	ck_assert_uint_lt(n, 4096);
	ck_assert_int_eq(parse_packed(f, n, err, sizeof(err)), -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(err, "unpacks to"));
	free(f);
	/* The same text at the cap is a change. */
	x[big - 2] = '\0';
	f = pack(x, big - 1, true, &n);
	ck_assert_int_eq(parse_packed(f, n, err, sizeof(err)), 0);
	/* Every cut of the frame is refused. */
	for (size_t l = 0; l < n; l++)
		ck_assert_int_lt(parse_packed(f, l, err, sizeof(err)), 0);
	free(f);

	f = pack(no_nul, strlen(no_nul), true, &n);
	ck_assert_int_eq(parse_packed(f, n, err, sizeof(err)), CD_ERR_PROTOCOL);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	free(f);
	f = pack(not_json, sizeof(not_json), true, &n);
	ck_assert_int_eq(parse_packed(f, n, err, sizeof(err)), CD_ERR_PROTOCOL);
	ck_assert_ptr_nonnull(strstr(err, "JSON"));
	free(f);
	f = pack(good, sizeof(good), true, &n);
	ck_assert_int_eq(parse_packed(f, n, err, sizeof(err)), 0);
	free(f);
	free(x);
}
END_TEST

/* A packed change with any of its bytes changed never crashes the parser. */
START_TEST(test_packed_change_fuzz)
{
	struct json_object *o = vm_add(5000);
	unsigned int seed = 777;
	struct cd_msg m;
	char err[128];
	size_t len, tlen, hl = sizeof(struct cd_msg_hdr);
	unsigned char *buf, *copy;
	bool packed;
	int i, taken = 0;

	ck_assert_int_eq(cd_msg_build_change(4, 1, o, true, (void **)&buf, &len, &packed, &tlen),
			 0);
	ck_assert(packed);
	copy = malloc(len);
	for (i = 0; i < 5000; i++) {
		int flips = 1 + rand_r(&seed) % 4, j;

		memcpy(copy, buf, len);
		for (j = 0; j < flips; j++)
			copy[hl + (size_t)rand_r(&seed) % (len - hl)] ^=
				(unsigned char)(1 + rand_r(&seed) % 255);
		if (cd_msg_parse(copy, len, 4, &m, err, sizeof(err)) == 0) {
			ck_assert_int_eq(m.type, CD_MSG_CHANGE);
			cd_msg_clear(&m);
			taken++;
		}
	}
	/* zstd checks no sum by default: some changed frames unpack, to other JSON or none. */
	ck_assert_int_lt(taken, 5000);
	free(copy);
	free(buf);
	json_object_put(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("msg");

	add_tcase(s, test_roundtrip);
	add_tcase(s, test_rejects_bad_input);
	add_tcase(s, test_size_caps);
	add_tcase(s, test_change_at_the_cap);
	add_tcase(s, test_fuzz_random);
	add_tcase(s, test_raw_chunk);
	add_tcase(s, test_packed_change_roundtrip);
	add_tcase(s, test_packed_change_refused);
	add_tcase(s, test_packed_change_fuzz);
	return run_suite(s);
}
