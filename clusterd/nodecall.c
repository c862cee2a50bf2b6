/* Calls between members over CPG (nodecall.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/membership.h"
#include "clusterd/nodecall.h"
#include "clusterd/replica.h"
#include "core/nodecall.h"
#include "lib/looptimer.h"
#include "lib/util.h"

#define MAX_METHODS 8

/* A call this node made, awaiting its answer. */
struct pending {
	struct pending *next;
	uint32_t id, to;
	char method[CD_NODECALL_METHOD_MAX + 1];
	uint32_t deadline_ms;
	cd_nodecall_done_fn done;
	void *ctx;
	qb_loop_timer_handle timer;
};

static struct {
	qb_loop_t *loop;
	uint32_t next_id;
	struct pending *pending;
	struct {
		const char *name;
		cd_nodecall_method_fn fn;
	} methods[MAX_METHODS];
	size_t n_methods;
} nc;

void cd_nodecall_init(qb_loop_t *loop)
{
	nc.loop = loop;
	nc.next_id = (uint32_t)cd_wall_ms() | 1u;
}

int cd_nodecall_register(const char *method, cd_nodecall_method_fn fn)
{
	if (nc.n_methods == MAX_METHODS)
		return -ENOSPC;
	nc.methods[nc.n_methods].name = method;
	nc.methods[nc.n_methods++].fn = fn;
	return 0;
}

static int send_body(enum cd_msg_type type, uint64_t token, struct json_object *body)
{
	void *buf;
	size_t len;
	int rc = cd_msg_build(type, cd_membership_local_nodeid(), 0, token, body, &buf, &len);

	if (rc < 0)
		return rc;
	rc = cd_membership_send(buf, len);
	free(buf);
	return rc;
}

/* Take p off the list, stop its timer and give done its outcome. */
static void end(struct pending *p, int rc, struct json_object *body, const char *err)
{
	struct pending **pp;

	for (pp = &nc.pending; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->timer)
		cd_timer_del(nc.loop, p->timer);
	p->done(p->ctx, rc, body, err);
	free(p);
}

/* The node called, in a message: its name as the state knows it, else its id. */
static const char *callee(uint32_t id, char *buf, size_t len)
{
	const struct cd_node *n = cd_state_node_by_id(cd_replica_state(), id);

	if (n)
		snprintf(buf, len, "%s", n->info.name);
	else
		snprintf(buf, len, "node %" PRIu32, id);
	return buf;
}

static void on_deadline(void *data)
{
	struct pending *p = data;
	char err[256], who[80];

	snprintf(err, sizeof(err), "%s did not answer %s within %" PRIu32 " s",
		 callee(p->to, who, sizeof(who)), p->method, (p->deadline_ms + 999) / 1000);
	p->timer = 0;
	end(p, CD_ERR_TIMEOUT, NULL, err);
}

int cd_nodecall_start(uint32_t to, const char *method, struct json_object *args,
		      uint32_t deadline_ms, cd_nodecall_done_fn done, void *ctx)
{
	struct pending *p;
	struct json_object *body;
	uint32_t me = cd_membership_local_nodeid();
	int rc;

	if (!me)
		return CD_ERR_NOT_JOINED;
	if (!cd_membership_is_member(to))
		return CD_ERR_NOT_FOUND;
	if (strlen(method) > CD_NODECALL_METHOD_MAX)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->id = nc.next_id++;
	p->to = to;
	cd_strlcpy(p->method, method, sizeof(p->method));
	p->deadline_ms = deadline_ms;
	p->done = done;
	p->ctx = ctx;
	body = cd_nodecall_build(p->id, to, method, args);
	rc = send_body(CD_MSG_NODE_CALL, cd_msg_token(me, p->id), body);
	json_object_put(body);
	if (rc < 0) {
		free(p);
		return rc;
	}
	p->next = nc.pending;
	nc.pending = p;
	cd_timer_add(nc.loop, QB_LOOP_MED, (uint64_t)deadline_ms * 1000000ull, p, on_deadline,
		     &p->timer);
	return 0;
}

int cd_nodecall_answer(struct cd_nodecall_origin from, int rc, struct json_object *body)
{
	struct json_object *o = cd_nodereply_build(from.id, from.caller, rc, body);
	int r = send_body(CD_MSG_NODE_REPLY, cd_msg_token(from.caller, from.id), o);

	json_object_put(o);
	if (r < 0)
		qb_log(LOG_ERR, "cannot answer node %" PRIu32 "'s call %" PRIu32 ": %s",
		       from.caller, from.id, cd_strerror(r));
	return r;
}

/* A method's answer when the method is unknown here: an older or other build. */
static void answer_error(struct cd_nodecall_origin from, int rc, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	cd_nodecall_answer(from, rc, o);
	json_object_put(o);
}

void cd_nodecall_on_call(const struct cd_msg *m)
{
	struct cd_nodecall c;
	struct cd_nodecall_origin from;
	char err[256];
	size_t i;

	if (cd_nodecall_parse(m->body, m->round, m->sender, &c, err, sizeof(err)) < 0) {
		qb_log(LOG_WARNING, "dropped a node call: %s", err);
		return;
	}
	if (c.to != cd_membership_local_nodeid())
		return;
	from.caller = m->sender;
	from.id = c.id;
	qb_log(LOG_INFO, "node %" PRIu32 " calls %s here (call %" PRIu32 ")", m->sender, c.method,
	       c.id);
	for (i = 0; i < nc.n_methods; i++)
		if (strcmp(nc.methods[i].name, c.method) == 0) {
			nc.methods[i].fn(from, c.args);
			return;
		}
	snprintf(err, sizeof(err), "this node's clusterd has no %s: it may be an older version",
		 c.method);
	answer_error(from, CD_ERR_VERSION, err);
}

void cd_nodecall_on_reply(const struct cd_msg *m)
{
	struct cd_nodereply r;
	struct pending *p;
	char err[256];

	if (cd_nodereply_parse(m->body, m->round, &r, err, sizeof(err)) < 0) {
		qb_log(LOG_WARNING, "dropped a node reply from node %" PRIu32 ": %s", m->sender,
		       err);
		return;
	}
	if (r.to != cd_membership_local_nodeid())
		return;
	for (p = nc.pending; p; p = p->next)
		if (p->id == r.id) {
			if (p->to != m->sender) {
				qb_log(LOG_WARNING,
				       "dropped node %" PRIu32
				       "'s reply to a call to node %" PRIu32,
				       m->sender, p->to);
				return;
			}
			end(p, r.rc, r.body, NULL);
			return;
		}
}

void cd_nodecall_state_changed(void)
{
	struct pending *p = nc.pending, *next;
	char err[256], who[80];

	for (; p; p = next) {
		next = p->next;
		if (cd_membership_is_member(p->to))
			continue;
		snprintf(err, sizeof(err), "%s left the membership before it answered %s",
			 callee(p->to, who, sizeof(who)), p->method);
		end(p, CD_ERR_TIMEOUT, NULL, err);
	}
}

void cd_nodecall_fini(void)
{
	while (nc.pending)
		end(nc.pending, CD_ERR_NO_DAEMON, NULL, "clusterd stops");
}
