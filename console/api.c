/*
 * The API's calls to clusterd: which command each route sends, with which
 * arguments from the path, the query and the body. clusterd checks the
 * arguments; its answer goes back as it came, its error text included,
 * with the HTTP status its result code maps to (cn_http_status()).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "console/app.h"
#include "console/metrics.h"
#include "console/router.h"
#include "lib/jsonget.h"

/* /metrics asks for every VM, this many a page, in at most METRICS_PAGES pages. */
#define METRICS_VMS_PAGE 1000
#define METRICS_PAGES 64

/* vm.list pages: at most this many VMs per request. */
#define VMS_LIMIT_MAX 1000
#define VMS_LIMIT_DEFAULT 200

/* Which argument of the command the path's NAME is. */
enum name_arg { NAME_NONE, NAME_NAME, NAME_NODE };

static const struct api_call {
	enum cn_route_id id;
	const char *cmd;
	enum name_arg name;
} calls[] = {
	{CN_R_STATUS, "status", NAME_NONE},
	{CN_R_NODES, "node.list", NAME_NONE},
	{CN_R_VMS, "vm.list", NAME_NONE},
	{CN_R_VM, "vm.show", NAME_NAME},
	{CN_R_VOLUMES, "volume.list", NAME_NONE},
	{CN_R_FENCE, "fence.list", NAME_NONE},
	{CN_R_EVENTS, "events", NAME_NONE},
	{CN_R_MOVE_STATUS, "vm.move.status", NAME_NAME},
	{CN_R_DRAIN_STATUS, "node.drain.status", NAME_NODE},
	{CN_R_MAINT, "maintenance.list", NAME_NONE},
	{CN_R_VM_START, "vm.start", NAME_NAME},
	/* What a start would do: where placement would start it, or why nowhere. */
	{CN_R_START_CHECK, "vm.explain", NAME_NAME},
	{CN_R_VM_STOP, "vm.stop", NAME_NAME},
	{CN_R_MOVE_CHECK, "vm.move.check", NAME_NAME},
	{CN_R_MOVE, "vm.move", NAME_NAME},
	{CN_R_DRAIN, "node.drain", NAME_NODE},
	{CN_R_RESUME, "node.resume", NAME_NODE},
	{CN_R_MAINT_RUN, "maintenance.run", NAME_NAME},
};

static const char *query(const struct cn_request *req, const char *key)
{
	const char *v = req->query ? req->query(req->query_ctx, key) : NULL;

	return v && *v ? v : NULL;
}

/* A whole number from the query: 0, -ENOENT if absent, -EINVAL if not one. */
static int query_u64(const struct cn_request *req, const char *key, uint64_t *out)
{
	const char *v = query(req, key);
	char *end;

	if (!v)
		return -ENOENT;
	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static void copy_str(struct json_object *args, const char *to, struct json_object *body,
		     const char *from)
{
	const char *v = cd_jget_str(body, from);

	if (v)
		json_object_object_add(args, to, json_object_new_string(v));
}

static void copy_bool(struct json_object *args, const char *key, struct json_object *body)
{
	bool b;

	if (cd_jget_bool(body, key, &b) == 0)
		json_object_object_add(args, key, json_object_new_boolean(b));
}

/*
 * The command's arguments beyond the NAME. 0, or -EINVAL with why set
 * for a query argument that is not a number.
 */
static int add_args(enum cn_route_id id, const struct cn_request *req, struct json_object *body,
		    struct json_object *args, const char **why)
{
	uint64_t n;
	int rc;

	if (id == CN_R_VMS) {
		const char *after = query(req, "after");

		rc = query_u64(req, "limit", &n);
		if (rc == -EINVAL) {
			*why = "limit must be a whole number";
			return rc;
		}
		if (rc < 0 || n == 0)
			n = VMS_LIMIT_DEFAULT;
		json_object_object_add(
			args, "limit",
			json_object_new_int64(n > VMS_LIMIT_MAX ? VMS_LIMIT_MAX : (int64_t)n));
		if (after)
			json_object_object_add(args, "after", json_object_new_string(after));
	} else if (id == CN_R_EVENTS) {
		rc = query_u64(req, "after", &n);
		if (rc == -EINVAL) {
			*why = "after must be a whole number";
			return rc;
		}
		json_object_object_add(args, "since",
				       json_object_new_int64(rc < 0 ? 0 : (int64_t)n));
	} else if (id == CN_R_START_CHECK) {
		json_object_object_add(args, "start", json_object_new_boolean(true));
	} else if (id == CN_R_VM_STOP) {
		copy_bool(args, "force", body);
		copy_bool(args, "save", body);
	} else if (id == CN_R_MOVE_CHECK || id == CN_R_MOVE) {
		copy_str(args, "target", body, "node");
		copy_str(args, "mode", body, "mode");
	} else if (id == CN_R_DRAIN) {
		copy_str(args, "mode", body, "mode");
		json_object_object_add(
			args, "dry_run",
			json_object_new_boolean(cd_jget_bool_or(body, "dry_run", false)));
	} else if (id == CN_R_RESUME) {
		copy_str(args, "failback", body, "failback");
	}
	return 0;
}

void cn_api_call(const struct cn_backend *be, const struct cn_route *rt,
		 const struct cn_request *req, struct json_object *body, struct cn_response *resp)
{
	const struct api_call *c = NULL;
	struct json_object *args, *reply = NULL;
	const char *why = NULL;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (calls[i].id == rt->id)
			c = &calls[i];
	if (!c) {
		cn_respond_error(resp, 404, "no such path");
		return;
	}
	args = json_object_new_object();
	if (c->name != NAME_NONE)
		json_object_object_add(args, c->name == NAME_NODE ? "node" : "name",
				       json_object_new_string(rt->name));
	if (add_args(rt->id, req, body, args, &why) < 0) {
		json_object_put(args);
		cn_respond_error(resp, 400, why);
		return;
	}
	rc = be->ops->call(be->ctx, c->cmd, args, &reply);
	json_object_put(args);
	if (!reply)
		reply = json_object_new_object();
	if (rc < 0 && !cd_jget_str(reply, "error"))
		json_object_object_add(reply, "error", json_object_new_string(cd_strerror(rc)));
	cn_respond_json(resp, cn_http_status(rc), reply);
	json_object_put(reply);
}

/* What backend call cmd answered, or NULL when it failed. */
static struct json_object *ask(const struct cn_backend *be, const char *cmd,
			       struct json_object *args)
{
	struct json_object *reply = NULL;

	if (be->ops->call(be->ctx, cmd, args, &reply) == 0 && reply)
		return reply;
	json_object_put(reply);
	return NULL;
}

/* Every VM, following vm.list's pages: a new array, NULL if a page failed. */
static struct json_object *all_vms(const struct cn_backend *be)
{
	struct json_object *all = json_object_new_array(), *page, *vms;
	char after[CN_ROUTE_NAME_MAX] = "";
	size_t i, p;

	for (p = 0; p < METRICS_PAGES; p++) {
		struct json_object *args = json_object_new_object();
		const char *next;

		json_object_object_add(args, "limit", json_object_new_int(METRICS_VMS_PAGE));
		if (after[0])
			json_object_object_add(args, "after", json_object_new_string(after));
		page = ask(be, "vm.list", args);
		json_object_put(args);
		if (!page || !json_object_object_get_ex(page, "vms", &vms) ||
		    !json_object_is_type(vms, json_type_array)) {
			json_object_put(page);
			json_object_put(all);
			return NULL;
		}
		for (i = 0; i < json_object_array_length(vms); i++)
			json_object_array_add(all,
					      json_object_get(json_object_array_get_idx(vms, i)));
		next = cd_jget_str(page, "next");
		if (!next || strlen(next) >= sizeof(after) || strcmp(next, after) == 0) {
			json_object_put(page);
			break;
		}
		snprintf(after, sizeof(after), "%s", next);
		json_object_put(page);
	}
	return all;
}

void cn_api_metrics(const struct cn_backend *be, struct cn_response *resp)
{
	struct json_object *status = ask(be, "status", NULL), *vms = NULL, *vols = NULL, *a = NULL;
	size_t len;
	char *text;

	if (status) {
		vms = all_vms(be);
		vols = ask(be, "volume.list", NULL);
	}
	a = vols && json_object_object_get_ex(vols, "volumes", &a) ? a : NULL;
	text = cn_metrics_format(status, vms, a, &len);
	json_object_put(status);
	json_object_put(vms);
	json_object_put(vols);
	if (!text) {
		cn_respond_error(resp, 500, "out of memory");
		return;
	}
	free(resp->body);
	resp->status = 200;
	resp->content_type = CN_METRICS_CONTENT_TYPE;
	resp->body = text;
	resp->len = len;
}
