/*
 * Calls between members (core/nodecall.h): the call and reply encodings
 * through a real message (core/msg.h), and every malformed or misaddressed
 * one refused.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/msg.h"
#include "core/nodecall.h"

START_TEST(test_token)
{
	uint64_t t = cd_msg_token(7, 0xfeedf00d);

	ck_assert_uint_eq(cd_msg_token_node(t), 7);
	ck_assert_uint_eq(cd_msg_token_id(t), 0xfeedf00d);
}
END_TEST

/* body through a CD_MSG_NODE_CALL/REPLY message from sender with token, parsed back. */
static void through_msg(enum cd_msg_type type, uint32_t sender, uint64_t token,
			struct json_object *body, struct cd_msg *m)
{
	void *buf;
	size_t len;
	char err[256];

	ck_assert_int_eq(cd_msg_build(type, sender, 0, token, body, &buf, &len), 0);
	ck_assert_int_eq(cd_msg_parse(buf, len, sender, m, err, sizeof(err)), 0);
	free(buf);
	ck_assert_int_eq(m->type, type);
}

START_TEST(test_call_roundtrip)
{
	struct json_object *args = json_tokener_parse("{\"name\":\"web1\",\"node\":\"node1\"}");
	struct json_object *body = cd_nodecall_build(42, 1, "vm.import", args);
	struct cd_nodecall c;
	struct cd_msg m;
	char err[256];

	through_msg(CD_MSG_NODE_CALL, 2, cd_msg_token(2, 42), body, &m);
	ck_assert_int_eq(cd_nodecall_parse(m.body, m.round, m.sender, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.id, 42);
	ck_assert_uint_eq(c.to, 1);
	ck_assert_str_eq(c.method, "vm.import");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(c.args, "name")), "web1");
	cd_msg_clear(&m);
	json_object_put(body);
	json_object_put(args);
}
END_TEST

START_TEST(test_call_no_args)
{
	struct json_object *body = cd_nodecall_build(1, 3, "m", NULL);
	struct cd_nodecall c;
	char err[256];

	ck_assert_int_eq(cd_nodecall_parse(body, cd_msg_token(2, 1), 2, &c, err, sizeof(err)), 0);
	ck_assert(json_object_is_type(c.args, json_type_object));
	ck_assert_int_eq(json_object_object_length(c.args), 0);
	json_object_put(body);
}
END_TEST

/* Calls that are refused: the body as text, the token's caller and id, the sender. */
static const struct {
	const char *body;
	uint32_t caller, id, sender;
	const char *why;
} bad_calls[] = {
	{"{\"to\":1,\"method\":\"m\",\"args\":{}}", 2, 5, 2, "without its id"},
	{"{\"call\":5,\"method\":\"m\",\"args\":{}}", 2, 5, 2, "without its id or node"},
	{"{\"call\":5,\"to\":0,\"method\":\"m\",\"args\":{}}", 2, 5, 2, "without its id or node"},
	{"{\"call\":5,\"to\":4294967296,\"method\":\"m\",\"args\":{}}", 2, 5, 2, "node"},
	{"{\"call\":5,\"to\":1,\"args\":{}}", 2, 5, 2, "without a method"},
	{"{\"call\":5,\"to\":1,\"method\":\"\",\"args\":{}}", 2, 5, 2, "without a method"},
	{"{\"call\":5,\"to\":1,\"method\":\"m\"}", 2, 5, 2, "not an object"},
	{"{\"call\":5,\"to\":1,\"method\":\"m\",\"args\":[1]}", 2, 5, 2, "not an object"},
	{"{\"call\":5,\"to\":1,\"method\":\"m\",\"args\":{}}", 3, 5, 2, "another's call"},
	{"{\"call\":5,\"to\":1,\"method\":\"m\",\"args\":{}}", 2, 6, 2, "another's call"},
};

START_TEST(test_bad_call)
{
	struct json_object *body = json_tokener_parse(bad_calls[_i].body);
	uint64_t token = cd_msg_token(bad_calls[_i].caller, bad_calls[_i].id);
	struct cd_nodecall c;
	char err[256] = "";

	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(cd_nodecall_parse(body, token, bad_calls[_i].sender, &c, err, sizeof(err)),
			 CD_ERR_PROTOCOL);
	ck_assert_msg(strstr(err, bad_calls[_i].why), "case %d: '%s'", _i, err);
	json_object_put(body);
}
END_TEST

START_TEST(test_method_too_long)
{
	char m[CD_NODECALL_METHOD_MAX + 2];
	struct json_object *body;
	struct cd_nodecall c;
	char err[256];

	memset(m, 'a', sizeof(m) - 1);
	m[sizeof(m) - 1] = 0;
	body = cd_nodecall_build(1, 1, m, NULL);
	ck_assert_int_eq(cd_nodecall_parse(body, cd_msg_token(2, 1), 2, &c, err, sizeof(err)),
			 CD_ERR_PROTOCOL);
	json_object_put(body);
	m[sizeof(m) - 2] = 0;
	body = cd_nodecall_build(1, 1, m, NULL);
	ck_assert_int_eq(cd_nodecall_parse(body, cd_msg_token(2, 1), 2, &c, err, sizeof(err)), 0);
	json_object_put(body);
}
END_TEST

START_TEST(test_reply_roundtrip)
{
	struct json_object *rb = json_tokener_parse("{\"error\":\"the domain cannot be made\"}");
	struct json_object *body = cd_nodereply_build(42, 2, CD_ERR_REFUSED, rb);
	struct cd_nodereply r;
	struct cd_msg m;
	char err[256];

	/* Sent by node 1, the called node, to caller 2. */
	through_msg(CD_MSG_NODE_REPLY, 1, cd_msg_token(2, 42), body, &m);
	ck_assert_int_eq(cd_nodereply_parse(m.body, m.round, &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.id, 42);
	ck_assert_uint_eq(r.to, 2);
	ck_assert_int_eq(r.rc, CD_ERR_REFUSED);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(r.body, "error")),
			 "the domain cannot be made");
	cd_msg_clear(&m);
	json_object_put(body);
	json_object_put(rb);
}
END_TEST

START_TEST(test_reply_results)
{
	static const int ok[] = {0, -EINVAL, -ENOMEM, CD_ERR_NOT_FOUND, CD_ERR_LAST + 1};
	static const int bad[] = {1, 4096, -4096, -100000};
	struct cd_nodereply r;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct json_object *b = cd_nodereply_build(1, 2, ok[i], NULL);

		ck_assert_int_eq(cd_nodereply_parse(b, cd_msg_token(2, 1), &r, err, sizeof(err)),
				 0);
		ck_assert_int_eq(r.rc, ok[i]);
		ck_assert_int_eq(json_object_object_length(r.body), 0);
		json_object_put(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *b = cd_nodereply_build(1, 2, bad[i], NULL);

		ck_assert_int_eq(cd_nodereply_parse(b, cd_msg_token(2, 1), &r, err, sizeof(err)),
				 CD_ERR_PROTOCOL);
		ck_assert_ptr_nonnull(strstr(err, "unknown result"));
		json_object_put(b);
	}
}
END_TEST

static const struct {
	const char *body;
	uint32_t caller, id;
	const char *why;
} bad_replies[] = {
	{"{\"to\":2,\"rc\":0,\"body\":{}}", 2, 5, "without its call id"},
	{"{\"call\":5,\"rc\":0,\"body\":{}}", 2, 5, "or caller"},
	{"{\"call\":5,\"to\":2,\"body\":{}}", 2, 5, "without its result"},
	{"{\"call\":5,\"to\":2,\"rc\":\"0\",\"body\":{}}", 2, 5, "without its result"},
	{"{\"call\":5,\"to\":2,\"rc\":0}", 2, 5, "not an object"},
	{"{\"call\":5,\"to\":2,\"rc\":0,\"body\":\"x\"}", 2, 5, "not an object"},
	{"{\"call\":5,\"to\":2,\"rc\":0,\"body\":{}}", 3, 5, "another call"},
	{"{\"call\":5,\"to\":2,\"rc\":0,\"body\":{}}", 2, 4, "another call"},
};

START_TEST(test_bad_reply)
{
	struct json_object *body = json_tokener_parse(bad_replies[_i].body);
	struct cd_nodereply r;
	char err[256] = "";

	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(
		cd_nodereply_parse(body, cd_msg_token(bad_replies[_i].caller, bad_replies[_i].id),
				   &r, err, sizeof(err)),
		CD_ERR_PROTOCOL);
	ck_assert_msg(strstr(err, bad_replies[_i].why), "case %d: '%s'", _i, err);
	json_object_put(body);
}
END_TEST

START_TEST(test_msg_cap)
{
	size_t n = CD_MSG_NODE_CALL_MAX;
	char *big = malloc(n + 1);
	struct json_object *args = json_object_new_object(), *body;
	void *buf;
	size_t len;

	memset(big, 'x', n);
	big[n] = 0;
	json_object_object_add(args, "x", json_object_new_string(big));
	body = cd_nodecall_build(1, 1, "m", args);
	ck_assert_int_eq(cd_msg_build(CD_MSG_NODE_CALL, 2, 0, cd_msg_token(2, 1), body, &buf, &len),
			 -EMSGSIZE);
	ck_assert_int_eq(
		cd_msg_build(CD_MSG_NODE_REPLY, 2, 0, cd_msg_token(2, 1), body, &buf, &len),
		-EMSGSIZE);
	json_object_put(body);
	json_object_put(args);
	free(big);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nodecall");

	add_tcase(s, test_token);
	add_tcase(s, test_call_roundtrip);
	add_tcase(s, test_call_no_args);
	add_table_tcase(s, test_bad_call, bad_calls);
	add_tcase(s, test_method_too_long);
	add_tcase(s, test_reply_roundtrip);
	add_tcase(s, test_reply_results);
	add_table_tcase(s, test_bad_reply, bad_replies);
	add_tcase(s, test_msg_cap);
	return run_suite(s);
}
