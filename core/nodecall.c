/* Calls between members: the pure parts (nodecall.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/msg.h"
#include "core/nodecall.h"
#include "lib/jsonget.h"

/* key as a node id or call id (1..UINT32_MAX for a node, any 32 bits for an id). */
static int get_u32(struct json_object *o, const char *key, uint32_t *out)
{
	uint64_t v;

	if (cd_jget_u64(o, key, &v) < 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static struct json_object *object_or_empty(struct json_object *o)
{
	return o ? json_object_get(o) : json_object_new_object();
}

struct json_object *cd_nodecall_build(uint32_t id, uint32_t to, const char *method,
				      struct json_object *args)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "call", json_object_new_int64(id));
	json_object_object_add(o, "to", json_object_new_int64(to));
	json_object_object_add(o, "method", json_object_new_string(method));
	json_object_object_add(o, "args", object_or_empty(args));
	return o;
}

int cd_nodecall_parse(struct json_object *body, uint64_t token, uint32_t sender,
		      struct cd_nodecall *c, char *err, size_t errlen)
{
	size_t mlen;

	memset(c, 0, sizeof(*c));
	if (get_u32(body, "call", &c->id) < 0 || get_u32(body, "to", &c->to) < 0 || !c->to) {
		snprintf(err, errlen, "a node call from node %u without its id or node", sender);
		return CD_ERR_PROTOCOL;
	}
	c->method = cd_jget_str(body, "method");
	mlen = c->method ? strlen(c->method) : 0;
	if (!mlen || mlen > CD_NODECALL_METHOD_MAX) {
		snprintf(err, errlen, "a node call from node %u without a method", sender);
		return CD_ERR_PROTOCOL;
	}
	if (!json_object_object_get_ex(body, "args", &c->args) ||
	    !json_object_is_type(c->args, json_type_object)) {
		snprintf(err, errlen, "a node call from node %u whose arguments are not an object",
			 sender);
		return CD_ERR_PROTOCOL;
	}
	if (cd_msg_token_node(token) != sender || cd_msg_token_id(token) != c->id) {
		snprintf(err, errlen, "a node call from node %u names another's call", sender);
		return CD_ERR_PROTOCOL;
	}
	return 0;
}

struct json_object *cd_nodereply_build(uint32_t id, uint32_t caller, int rc,
				       struct json_object *body)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "call", json_object_new_int64(id));
	json_object_object_add(o, "to", json_object_new_int64(caller));
	json_object_object_add(o, "rc", json_object_new_int(rc));
	json_object_object_add(o, "body", object_or_empty(body));
	return o;
}

int cd_nodereply_parse(struct json_object *body, uint64_t token, struct cd_nodereply *r, char *err,
		       size_t errlen)
{
	struct json_object *v;
	int64_t rc;

	memset(r, 0, sizeof(*r));
	if (get_u32(body, "call", &r->id) < 0 || get_u32(body, "to", &r->to) < 0 || !r->to) {
		snprintf(err, errlen, "a node reply without its call id or caller");
		return CD_ERR_PROTOCOL;
	}
	if (!json_object_object_get_ex(body, "rc", &v) || !json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen, "a node reply without its result");
		return CD_ERR_PROTOCOL;
	}
	rc = json_object_get_int64(v);
	if (rc > 0 || rc <= -4096) { /* 0, -errno or CD_ERR_* (-1001 on) */
		snprintf(err, errlen, "a node reply with an unknown result %lld", (long long)rc);
		return CD_ERR_PROTOCOL;
	}
	r->rc = (int)rc;
	if (!json_object_object_get_ex(body, "body", &r->body) ||
	    !json_object_is_type(r->body, json_type_object)) {
		snprintf(err, errlen, "a node reply whose body is not an object");
		return CD_ERR_PROTOCOL;
	}
	if (cd_msg_token_node(token) != r->to || cd_msg_token_id(token) != r->id) {
		snprintf(err, errlen, "a node reply whose token names another call");
		return CD_ERR_PROTOCOL;
	}
	return 0;
}
