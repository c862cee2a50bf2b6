/* clusterctl debug dump over the cluster (debugdump.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/blackbox.h"
#include "clusterd/debugdump.h"
#include "clusterd/ipc_cmd.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/snapstream.h"
#include "core/chunks.h"
#include "core/dump.h"
#include "lib/looptimer.h"
#include "lib/util.h"

/* How long the last dump's texts are kept for clusterctl to fetch. */
#define DUMP_KEEP_MS (10u * 60u * 1000u)

struct slot {
	uint32_t nodeid;
	char name[CD_NAME_MAX + 1];
	bool answered;
	char reason[128]; /* why it is missing, once the dump is over */
	struct cd_chunks_rx rx;
	struct cd_dump_answer ans;
};

static struct {
	qb_loop_t *loop;
	uint32_t next_id;
	/* The dump under way (active) or the last one, kept for its pieces. */
	bool active, kept;
	uint32_t id;
	uint64_t token;
	struct slot *slots;
	size_t n;
	cd_debugdump_done_fn done;
	void *ctx;
	qb_loop_timer_handle deadline, expiry;
} dd;

void cd_debugdump_init(qb_loop_t *loop)
{
	dd.loop = loop;
	dd.next_id = (uint32_t)cd_wall_ms() | 1u;
}

static void drop(void)
{
	size_t i;

	for (i = 0; i < dd.n; i++) {
		cd_chunks_rx_free(&dd.slots[i].rx);
		cd_dump_answer_clear(&dd.slots[i].ans);
	}
	free(dd.slots);
	dd.slots = NULL;
	dd.n = 0;
	dd.kept = false;
	if (dd.loop)
		cd_timer_del(dd.loop, dd.expiry);
}

void cd_debugdump_fini(void)
{
	if (dd.active && dd.loop)
		cd_timer_del(dd.loop, dd.deadline);
	dd.active = false;
	drop();
}

void cd_debugdump_state_changed(void)
{
	const struct cd_node *me =
		cd_state_node_by_id(cd_replica_state(), cd_membership_local_nodeid());

	if (me)
		cd_blackbox_set_node(me->info.name);
}

/* --- answering a request --- */

/* This node's answer: its blackbox written now and read back as text, its status and version. */
static void make_answer(struct cd_dump_answer *a)
{
	const struct cd_node *me =
		cd_state_node_by_id(cd_replica_state(), cd_membership_local_nodeid());
	char path[PATH_MAX + 256], *text = NULL;
	size_t len = 0, from;
	int rc;

	memset(a, 0, sizeof(*a));
	a->nodeid = cd_membership_local_nodeid();
	if (me)
		cd_strlcpy(a->node, me->info.name, sizeof(a->node));
	else
		snprintf(a->node, sizeof(a->node), "%" PRIu32, a->nodeid);
	a->version = cd_replica_state()->version;
	a->status = cd_ipc_status_json();
	rc = cd_blackbox_write("dump", path, sizeof(path));
	if (rc == 0)
		rc = cd_blackbox_text(path, &text, &len);
	if (rc < 0) {
		snprintf(a->error, sizeof(a->error), "cannot write the blackbox: %s",
			 strerror(-rc));
		return;
	}
	from = cd_dump_tail(text, len, CD_DUMP_TEXT_MAX);
	if (from) {
		memmove(text, text + from, len - from + 1);
		len -= from;
		a->truncated = true;
	}
	a->text = text;
	a->text_len = len;
}

static int send_answer(uint64_t token, const char *text, size_t len, struct cd_version v)
{
	struct cd_chunk_id id = {.round = token,
				 .sender = cd_membership_local_nodeid(),
				 .step = CD_DUMP_STEP,
				 .version = v};

	return cd_snapstream_send_text(CD_MSG_DUMP_CHUNK, &id, text, len, NULL, NULL);
}

void cd_debugdump_on_request(const struct cd_msg *m)
{
	struct cd_dump_answer a;
	char err[256], *text;
	size_t len = 0;
	uint32_t id;
	int rc;

	if (cd_dump_request_parse(m->body, m->round, m->sender, &id, err, sizeof(err)) < 0) {
		qb_log(LOG_WARNING, "dropped a dump request: %s", err);
		return;
	}
	qb_log(LOG_NOTICE, "node %" PRIu32 " asks for this node's blackbox (dump %" PRIu32 ")",
	       m->sender, id);
	make_answer(&a);
	text = cd_dump_answer_build(&a, &len);
	rc = text ? send_answer(m->round, text, len, a.version) : -ENOMEM;
	if (rc < 0)
		qb_log(LOG_ERR, "cannot send the blackbox to node %" PRIu32 ": %s", m->sender,
		       cd_strerror(rc));
	else
		qb_log(LOG_INFO, "blackbox (%zu bytes of text) sent to node %" PRIu32, a.text_len,
		       m->sender);
	free(text);
	cd_dump_answer_clear(&a);
	cd_heap_trim();
}

/* --- gathering the answers --- */

static struct json_object *summary(void)
{
	struct json_object *o = json_object_new_object(), *nodes = json_object_new_array(),
			   *missing = json_object_new_array(), *e, *v;
	size_t i;

	for (i = 0; i < dd.n; i++) {
		struct slot *s = &dd.slots[i];

		e = json_object_new_object();
		json_object_object_add(e, "node", json_object_new_string(s->name));
		if (!s->answered) {
			json_object_object_add(e, "reason", json_object_new_string(s->reason));
			json_object_array_add(missing, e);
			continue;
		}
		json_object_object_add(e, "nodeid", json_object_new_int64(s->nodeid));
		json_object_object_add(e, "ok", json_object_new_boolean(s->ans.text != NULL));
		json_object_object_add(e, "bytes", json_object_new_int64((int64_t)s->ans.text_len));
		json_object_object_add(e, "truncated", json_object_new_boolean(s->ans.truncated));
		v = json_object_new_object();
		json_object_object_add(v, "epoch",
				       json_object_new_int64((int64_t)s->ans.version.epoch));
		json_object_object_add(v, "seq",
				       json_object_new_int64((int64_t)s->ans.version.seq));
		json_object_object_add(e, "version", v);
		json_object_object_add(e, "status", json_object_get(s->ans.status));
		if (*s->ans.error)
			json_object_object_add(e, "error", json_object_new_string(s->ans.error));
		json_object_array_add(nodes, e);
	}
	json_object_object_add(o, "dump", json_object_new_int64(dd.id));
	json_object_object_add(o, "nodes", nodes);
	json_object_object_add(o, "missing", missing);
	return o;
}

static void expire(void *data)
{
	drop();
}

static void finish(void)
{
	struct json_object *o;
	size_t i, got = 0;

	if (!dd.active)
		return;
	dd.active = false;
	cd_timer_del(dd.loop, dd.deadline);
	for (i = 0; i < dd.n; i++) {
		cd_chunks_rx_free(&dd.slots[i].rx);
		got += dd.slots[i].answered;
		if (!dd.slots[i].answered && !*dd.slots[i].reason)
			snprintf(dd.slots[i].reason, sizeof(dd.slots[i].reason),
				 "no answer before the deadline");
	}
	qb_log(LOG_NOTICE, "dump %" PRIu32 ": %zu of %zu node(s) answered", dd.id, got, dd.n);
	dd.kept = true;
	cd_timer_add(dd.loop, QB_LOOP_LOW, DUMP_KEEP_MS * 1000000ull, NULL, expire, &dd.expiry);
	o = summary();
	dd.done(dd.ctx, o);
	json_object_put(o);
}

static void on_deadline(void *data)
{
	finish();
}

/* Whether every slot still awaited belongs to a node that left the group. */
static void check_complete(void)
{
	size_t i;

	for (i = 0; i < dd.n; i++)
		if (!dd.slots[i].answered && !*dd.slots[i].reason)
			return;
	finish();
}

static struct slot *slot_of(uint32_t nodeid)
{
	size_t i;

	for (i = 0; i < dd.n; i++)
		if (dd.slots[i].nodeid == nodeid)
			return &dd.slots[i];
	return NULL;
}

void cd_debugdump_on_chunk(const struct cd_msg *m)
{
	struct cd_chunk_hdr h;
	const void *bytes;
	struct slot *s;
	char err[256], *text;
	size_t len;
	int rc;

	if (!dd.active || m->round != dd.token)
		return; /* another node's dump, or one over */
	s = slot_of(m->sender);
	if (!s || s->answered)
		return;
	rc = cd_chunk_decode(m->raw, m->raw_len, &h, &bytes, err, sizeof(err));
	if (rc == 0 && h.id.sender != m->sender) {
		snprintf(err, sizeof(err), "a chunk from node %u claims node %u's", m->sender,
			 h.id.sender);
		rc = CD_ERR_PROTOCOL;
	}
	if (rc == 0) {
		cd_chunks_rx_expect(&s->rx, dd.token, CD_DUMP_STEP, m->sender);
		rc = cd_chunks_rx_add(&s->rx, &h, bytes, h.len, err, sizeof(err));
	}
	if (rc < 0) {
		qb_log(LOG_WARNING, "dump %" PRIu32 ": node %u's answer: %s", dd.id, m->sender,
		       err);
		return;
	}
	if (rc != CD_CHUNKS_COMPLETE)
		return;
	rc = cd_chunks_rx_take(&s->rx, &text, &len);
	if (rc == 0) {
		rc = cd_dump_answer_parse(text, len, &s->ans, err, sizeof(err));
		free(text);
	}
	if (rc < 0) {
		snprintf(s->reason, sizeof(s->reason), "its answer was invalid");
		qb_log(LOG_WARNING, "dump %" PRIu32 ": node %u's answer: %s", dd.id, m->sender,
		       err);
	} else {
		s->answered = true;
	}
	cd_chunks_rx_free(&s->rx);
	check_complete();
}

/* Every node the state knows, and every member of the group; those not members are missing. */
static int make_slots(void)
{
	const struct cd_state *st = cd_replica_state();
	const uint32_t *members;
	size_t nm = cd_replica_members(&members), i;
	struct slot *s;

	dd.slots = calloc(st->n_nodes + nm + 1, sizeof(*dd.slots));
	if (!dd.slots)
		return -ENOMEM;
	for (i = 0; i < st->n_nodes + nm; i++) {
		uint32_t id = i < st->n_nodes ? st->nodes[i].info.id : members[i - st->n_nodes];

		if (slot_of(id))
			continue;
		s = &dd.slots[dd.n++];
		s->nodeid = id;
		if (i < st->n_nodes)
			cd_strlcpy(s->name, st->nodes[i].info.name, sizeof(s->name));
		else
			snprintf(s->name, sizeof(s->name), "%" PRIu32, id);
		cd_chunks_rx_init(&s->rx, CD_DUMP_ANSWER_MAX);
		if (!cd_membership_is_member(id))
			snprintf(s->reason, sizeof(s->reason),
				 "not a member of the cluster's group (its clusterd is not "
				 "running, or it is cut off)");
	}
	return 0;
}

int cd_debugdump_start(uint64_t deadline_ms, cd_debugdump_done_fn done, void *ctx)
{
	struct json_object *req;
	void *buf;
	size_t blen;
	int rc;

	if (dd.active)
		return -EBUSY;
	if (!cd_membership_joined())
		return CD_ERR_NOT_JOINED;
	drop();
	dd.id = dd.next_id++;
	if (!dd.id)
		dd.id = dd.next_id++;
	dd.token = cd_msg_token(cd_membership_local_nodeid(), dd.id);
	rc = make_slots();
	if (rc < 0)
		goto fail;
	req = cd_dump_request_build(dd.id);
	rc = cd_msg_build(CD_MSG_DUMP_REQUEST, cd_membership_local_nodeid(), 0, dd.token, req, &buf,
			  &blen);
	json_object_put(req);
	if (rc == 0) {
		rc = cd_membership_send(buf, blen);
		free(buf);
	}
	if (rc < 0)
		goto fail;
	dd.active = true;
	dd.done = done;
	dd.ctx = ctx;
	qb_log(LOG_NOTICE, "dump %" PRIu32 ": asking %zu node(s) for their blackbox", dd.id, dd.n);
	cd_timer_add(dd.loop, QB_LOOP_LOW, deadline_ms * 1000000ull, NULL, on_deadline,
		     &dd.deadline);
	return 0;
fail:
	drop();
	return rc;
}

int cd_debugdump_piece(uint32_t id, const char *node, uint64_t offset, struct json_object **out)
{
	struct slot *s = NULL;
	size_t i, n;

	*out = NULL;
	if (!dd.kept || dd.id != id)
		return CD_ERR_NOT_FOUND;
	for (i = 0; i < dd.n; i++)
		if (strcmp(dd.slots[i].name, node) == 0)
			s = &dd.slots[i];
	if (!s || !s->answered || !s->ans.text)
		return CD_ERR_NOT_FOUND;
	if (offset > s->ans.text_len)
		offset = s->ans.text_len;
	n = s->ans.text_len - (size_t)offset;
	if (n > CD_DUMP_PIECE)
		n = CD_DUMP_PIECE;
	*out = json_object_new_object();
	json_object_object_add(*out, "text",
			       json_object_new_string_len(s->ans.text + offset, (int)n));
	json_object_object_add(*out, "next", json_object_new_int64((int64_t)(offset + n)));
	json_object_object_add(*out, "end", json_object_new_boolean(offset + n == s->ans.text_len));
	return 0;
}
