/*
 * clusterctl debug dump's pure parts (core/dump.h): the request and answer
 * encodings, the answer's transport as dump chunks (core/chunks.h inside a
 * CD_MSG_DUMP_CHUNK message), the cut of a long text, blackbox file names
 * and their rotation.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/chunks.h"
#include "core/dump.h"
#include "core/msg.h"

START_TEST(test_token)
{
	uint64_t t = cd_msg_token(3, 0xdeadbeef);

	ck_assert_uint_ne(t, 0);
	ck_assert_uint_eq(cd_msg_token_node(t), 3);
	ck_assert_uint_eq(cd_msg_token_id(t), 0xdeadbeef);
}
END_TEST

START_TEST(test_request)
{
	struct json_object *b = cd_dump_request_build(42), *bad;
	char err[256];
	uint32_t id = 0;
	void *buf;
	size_t len;
	struct cd_msg m;

	ck_assert_int_eq(cd_dump_request_parse(b, cd_msg_token(2, 42), 2, &id, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(id, 42);
	/* another node's token, another id */
	ck_assert_int_eq(cd_dump_request_parse(b, cd_msg_token(1, 42), 2, &id, err, sizeof(err)),
			 CD_ERR_PROTOCOL);
	ck_assert_ptr_nonnull(strstr(err, "another's dump"));
	ck_assert_int_eq(cd_dump_request_parse(b, cd_msg_token(2, 43), 2, &id, err, sizeof(err)),
			 CD_ERR_PROTOCOL);
	bad = json_object_new_object();
	ck_assert_int_eq(cd_dump_request_parse(bad, cd_msg_token(2, 42), 2, &id, err, sizeof(err)),
			 CD_ERR_PROTOCOL);
	json_object_put(bad);
	/* through the message layer: a round (the token) is required */
	ck_assert_int_eq(
		cd_msg_build(CD_MSG_DUMP_REQUEST, 2, 0, cd_msg_token(2, 42), b, &buf, &len), 0);
	ck_assert_int_eq(cd_msg_parse(buf, len, 2, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(m.type, CD_MSG_DUMP_REQUEST);
	ck_assert_int_eq(cd_dump_request_parse(m.body, m.round, m.sender, &id, err, sizeof(err)),
			 0);
	cd_msg_clear(&m);
	free(buf);
	ck_assert_int_eq(cd_msg_build(CD_MSG_DUMP_REQUEST, 2, 0, 0, b, &buf, &len), 0);
	ck_assert_int_eq(cd_msg_parse(buf, len, 2, &m, err, sizeof(err)), CD_ERR_PROTOCOL);
	free(buf);
	ck_assert_str_eq(cd_msg_type_to_str(CD_MSG_DUMP_CHUNK), "dump-chunk");
	json_object_put(b);
}
END_TEST

static void sample(struct cd_dump_answer *a)
{
	memset(a, 0, sizeof(*a));
	strcpy(a->node, "node2");
	a->nodeid = 2;
	a->version.epoch = 4;
	a->version.seq = 17;
	a->status = json_object_new_object();
	json_object_object_add(a->status, "quorate", json_object_new_boolean(1));
	a->text = strdup("Jan 01 00:00:00 debug \"quoted\" line\n\ttab\n");
	a->text_len = strlen(a->text);
}

START_TEST(test_answer_round_trip)
{
	struct cd_dump_answer a, b;
	char err[256], *text;
	size_t len;

	sample(&a);
	text = cd_dump_answer_build(&a, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_int_eq(cd_dump_answer_parse(text, len, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.node, "node2");
	ck_assert_uint_eq(b.nodeid, 2);
	ck_assert_uint_eq(b.version.epoch, 4);
	ck_assert_uint_eq(b.version.seq, 17);
	ck_assert_uint_eq(b.text_len, a.text_len);
	ck_assert_str_eq(b.text, a.text);
	ck_assert(json_object_get_boolean(json_object_object_get(b.status, "quorate")));
	ck_assert(!b.truncated);
	ck_assert_str_eq(b.error, "");
	cd_dump_answer_clear(&b);
	free(text);
	/* no text, an error instead */
	free(a.text);
	a.text = NULL;
	a.text_len = 0;
	strcpy(a.error, "cannot write the blackbox: No space left on device");
	text = cd_dump_answer_build(&a, &len);
	ck_assert_int_eq(cd_dump_answer_parse(text, len, &b, err, sizeof(err)), 0);
	ck_assert_ptr_null(b.text);
	ck_assert_str_eq(b.error, a.error);
	cd_dump_answer_clear(&b);
	free(text);
	cd_dump_answer_clear(&a);
	cd_dump_answer_clear(NULL);
}
END_TEST

START_TEST(test_answer_refused)
{
	static const char *const bad[] = {
		"[]",
		"{\"nodeid\":2,\"version\":{\"epoch\":1,\"seq\":1},\"blackbox\":\"x\"}",
		"{\"node\":\"n\",\"version\":{\"epoch\":1,\"seq\":1},\"blackbox\":\"x\"}",
		"{\"node\":\"n\",\"nodeid\":2,\"blackbox\":\"x\"}",
		"{\"node\":\"n\",\"nodeid\":2,\"version\":{\"epoch\":1,\"seq\":1},\"blackbox\":3}",
		"{\"node\":\"n\",\"nodeid\":2,\"version\":{\"epoch\":1,\"seq\":1},\"status\":[],"
		"\"blackbox\":\"x\"}",
		"{\"node\":\"n\",\"nodeid\":2,\"version\":{\"epoch\":1,\"seq\":1}}",
	};
	struct cd_dump_answer b;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(cd_dump_answer_parse(bad[i], strlen(bad[i]), &b, err, sizeof(err)),
				 CD_ERR_PROTOCOL);
		ck_assert_ptr_null(b.text);
		ck_assert_ptr_null(b.status);
		ck_assert_int_gt(strlen(err), 0);
	}
}
END_TEST

/* An answer as the members send it: chunks of dump-chunk messages, put back together. */
START_TEST(test_answer_in_chunks)
{
	struct cd_chunk_id id = {.round = cd_msg_token(1, 9), .sender = 2, .step = CD_DUMP_STEP};
	struct cd_dump_answer a, b;
	struct cd_chunks_tx tx;
	struct cd_chunks_rx rx;
	struct cd_chunk_hdr h, got;
	unsigned char hdr[CD_CHUNK_HDR_LEN];
	const void *piece, *bytes;
	char err[256], *text, *whole;
	size_t len, plen, blen, wlen, i;
	void *buf;
	struct cd_msg m;
	int rc = CD_CHUNKS_MORE;

	sample(&a);
	free(a.text);
	a.text_len = 3 * 1024 + 100;
	a.text = malloc(a.text_len + 1);
	for (i = 0; i < a.text_len; i++)
		a.text[i] = i % 50 == 49 ? '\n' : (char)('a' + i % 26);
	a.text[a.text_len] = '\0';
	text = cd_dump_answer_build(&a, &len);
	ck_assert_int_eq(cd_chunks_tx_init(&tx, &id, text, len, CD_CHUNK_SIZE_MIN, NULL), 0);
	cd_chunks_rx_init(&rx, CD_DUMP_ANSWER_MAX);
	cd_chunks_rx_expect(&rx, id.round, CD_DUMP_STEP, 2);
	while (cd_chunks_tx_next(&tx, &h, &piece, &plen) == 1) {
		cd_chunk_hdr_encode(&h, hdr);
		ck_assert_int_eq(cd_msg_build_raw(CD_MSG_DUMP_CHUNK, 2, id.round, hdr, sizeof(hdr),
						  piece, plen, &buf, &blen),
				 0);
		ck_assert_int_eq(cd_msg_parse(buf, blen, 2, &m, err, sizeof(err)), 0);
		ck_assert_int_eq(m.type, CD_MSG_DUMP_CHUNK);
		ck_assert_uint_eq(m.round, id.round);
		ck_assert_int_eq(cd_chunk_decode(m.raw, m.raw_len, &got, &bytes, err, sizeof(err)),
				 0);
		rc = cd_chunks_rx_add(&rx, &got, bytes, got.len, err, sizeof(err));
		ck_assert_int_ge(rc, 0);
		cd_msg_clear(&m);
		free(buf);
	}
	ck_assert_int_eq(rc, CD_CHUNKS_COMPLETE);
	ck_assert_int_eq(cd_chunks_rx_take(&rx, &whole, &wlen), 0);
	ck_assert_int_eq(cd_dump_answer_parse(whole, wlen, &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.text, a.text);
	free(whole);
	free(text);
	cd_chunks_rx_free(&rx);
	cd_dump_answer_clear(&a);
	cd_dump_answer_clear(&b);
}
END_TEST

START_TEST(test_tail)
{
	const char *t = "one\ntwo\nthree\n";
	size_t len = strlen(t);

	ck_assert_uint_eq(cd_dump_tail(t, len, len), 0);
	ck_assert_uint_eq(cd_dump_tail(t, len, 100), 0);
	/* the last 6 bytes: "three\n" exactly, a line's start */
	ck_assert_uint_eq(cd_dump_tail(t, len, 6), 8);
	/* the last 8 bytes begin inside "two": cut at the next line */
	ck_assert_uint_eq(cd_dump_tail(t, len, 8), 8);
	ck_assert_uint_eq(cd_dump_tail(t, len, 10), 4);
	/* no line break left in the part: a plain cut */
	ck_assert_uint_eq(cd_dump_tail("abcdefgh", 8, 3), 5);
	ck_assert_uint_eq(cd_dump_tail("abc\ndefgh", 9, 4), 5);
}
END_TEST

START_TEST(test_name)
{
	char buf[128];
	size_t n;

	/* 2024-02-29 13:45:07.089 UTC */
	n = cd_blackbox_name(buf, sizeof(buf), "node1", 1709214307089ull, "crash");
	ck_assert_str_eq(buf, "clusterd-blackbox-node1-20240229T134507.089Z-crash");
	ck_assert_uint_eq(n, strlen(buf));
	cd_blackbox_name(buf, sizeof(buf), "a b/c", 0, "dump");
	ck_assert_str_eq(buf, "clusterd-blackbox-a_b_c-19700101T000000.000Z-dump");
	cd_blackbox_name(buf, sizeof(buf), "", 86399999, "signal");
	ck_assert_str_eq(buf, "clusterd-blackbox-unknown-19700101T235959.999Z-signal");
	cd_blackbox_name(buf, sizeof(buf), NULL, 951782400000ull, "dump"); /* 2000-02-29 */
	ck_assert_str_eq(buf, "clusterd-blackbox-unknown-20000229T000000.000Z-dump");
	/* too small: nothing */
	ck_assert_uint_eq(cd_blackbox_name(buf, 30, "node1", 0, "crash"), 0);
	ck_assert_uint_eq(
		cd_blackbox_name(buf, strlen("clusterd-blackbox-n-19700101T000000.000Z-dump") + 1,
				 "n", 0, "dump"),
		strlen("clusterd-blackbox-n-19700101T000000.000Z-dump"));
}
END_TEST

START_TEST(test_prune)
{
	const char *names[] = {
		"clusterd-blackbox-node1-20240101T000000.000Z-dump",
		"clusterd-blackbox-node1-20240103T000000.000Z-dump",
		"clusterd-blackbox-node1-20240102T000000.000Z-crash",
		"clusterd-blackbox-node1-20240102T000000.000Z-dump",
		"journal",
		"clusterd-blackbox-node1-garbage-dump",
		"clusterd-blackbox-node1-20240104T000000.000Z-dump",
	};
	bool rm[7];

	ck_assert_uint_eq(cd_blackbox_prune(names, 7, "dump", 2, rm), 2);
	ck_assert(rm[0]);  /* oldest dump */
	ck_assert(!rm[1]); /* kept */
	ck_assert(!rm[2]); /* a crash file: another kind */
	ck_assert(rm[3]);
	ck_assert(!rm[4]); /* not a blackbox */
	ck_assert(!rm[5]); /* not one of our names */
	ck_assert(!rm[6]);
	ck_assert_uint_eq(cd_blackbox_prune(names, 7, "crash", 1, rm), 0);
	ck_assert_uint_eq(cd_blackbox_prune(names, 7, "dump", 0, rm), 4);
	ck_assert_uint_eq(cd_blackbox_prune(names, 7, "dump", CD_BLACKBOX_KEEP, rm), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dump");

	add_tcase(s, test_token);
	add_tcase(s, test_request);
	add_tcase(s, test_answer_round_trip);
	add_tcase(s, test_answer_refused);
	add_tcase(s, test_answer_in_chunks);
	add_tcase(s, test_tail);
	add_tcase(s, test_name);
	add_tcase(s, test_prune);
	return run_suite(s);
}
