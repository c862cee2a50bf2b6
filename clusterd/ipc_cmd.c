/*
 * The helpers the IPC command handlers share (see ipc_cmd.h).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <clusterd/result.h>

#include "clusterd/ipc_cmd.h"
#include "clusterd/replica.h"

const char *cd_ipc_arg_str(struct json_object *args, const char *key)
{
	struct json_object *v;

	if (!args || !json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *cd_ipc_error_obj(const char *fmt, ...)
{
	char buf[512];
	struct json_object *o = json_object_new_object();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "error", json_object_new_string(buf));
	return o;
}

static void change_done(void *ctx, int rc, const char *err)
{
	qb_ipcs_connection_t *c = ctx;

	if (rc == 0) {
		struct json_object *o = json_object_new_object();
		const struct cd_state *s = cd_replica_state();
		struct json_object *v = json_object_new_object();

		json_object_object_add(v, "epoch",
				       json_object_new_int64((int64_t)s->version.epoch));
		json_object_object_add(v, "seq", json_object_new_int64((int64_t)s->version.seq));
		json_object_object_add(o, "version", v);
		cd_ipc_send_reply(c, 0, o);
		json_object_put(o);
	} else {
		cd_ipc_send_error(c, rc, err);
	}
	qb_ipcs_connection_unref(c);
}

/*
 * Changes carry the client's arguments plus the op. The checks that need
 * the state are done by cd_state_apply() on every member alike.
 */
int cd_ipc_submit_change(qb_ipcs_connection_t *c, enum cd_change kind, struct json_object *args,
			 struct json_object **out)
{
	struct json_object *ch = json_object_new_object();
	int rc;

	if (args && json_object_is_type(args, json_type_object)) {
		json_object_object_foreach(args, k, v)
			json_object_object_add(ch, k, json_object_get(v));
	}
	json_object_object_add(ch, "op", json_object_new_string(cd_change_name(kind)));
	qb_ipcs_connection_ref(c);
	rc = cd_replica_submit(ch, change_done, c);
	json_object_put(ch);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		*out = cd_ipc_error_obj("%s", cd_strerror(rc));
		return rc;
	}
	return CD_IPC_ASYNC;
}

/* A change on its way, answered once applied. */
struct pending {
	qb_ipcs_connection_t *c;
	cd_ipc_answer_fn *answer;
	struct json_object *args;
};

static void pending_done(void *ctx, int rc, const char *err)
{
	struct pending *p = ctx;
	struct json_object *out = NULL;

	if (rc == 0)
		rc = p->answer(p->args, &out);
	if (rc == 0)
		cd_ipc_send_reply(p->c, 0, out);
	else
		cd_ipc_send_error(p->c, rc < 0 ? rc : CD_ERR_NOT_FOUND,
				  out ? cd_ipc_arg_str(out, "error") : err);
	json_object_put(out);
	json_object_put(p->args);
	qb_ipcs_connection_unref(p->c);
	free(p);
}

int cd_ipc_submit_answer(qb_ipcs_connection_t *c, struct json_object *ch, struct json_object *args,
			 cd_ipc_answer_fn *answer, struct json_object **out)
{
	struct pending *p = calloc(1, sizeof(*p));
	int rc;

	if (!p) {
		json_object_put(ch);
		*out = cd_ipc_error_obj("out of memory");
		return -ENOMEM;
	}
	p->c = c;
	p->answer = answer;
	p->args = json_object_get(args);
	qb_ipcs_connection_ref(c);
	rc = cd_replica_submit(ch, pending_done, p);
	json_object_put(ch);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		json_object_put(p->args);
		free(p);
		*out = cd_ipc_error_obj("%s", cd_strerror(rc));
		return rc;
	}
	return CD_IPC_ASYNC;
}
