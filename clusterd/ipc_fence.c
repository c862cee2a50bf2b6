/*
 * The IPC commands about fence devices (fence.*).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "agents/fence.h"
#include "core/fencedev_text.h"
#include "clusterd/ipc_cmd.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"

/*
 * args: name, agent, params (an object, see fencedev.h) and map, the
 * admin's "node1=plug1,..." text, turned into the object the change takes.
 */
static int cmd_fence_add(qb_ipcs_connection_t *c, struct json_object *args,
			 struct json_object **out)
{
	struct json_object *params = NULL, *map = NULL;
	struct cd_fence_params *p = NULL;
	const char *text;
	char err[256];
	int rc;

	/* The fence-agents rules, checked where the parameters enter. */
	json_object_object_get_ex(args, "params", &params);
	rc = cd_fence_params_from_json(params, &p, err, sizeof(err));
	cd_fence_params_free(p);
	if (rc < 0) {
		*out = cd_ipc_error_obj("bad fence parameters: %s", err);
		return rc;
	}
	text = cd_ipc_arg_str(args, "map");
	if (text) {
		rc = cd_fencedev_map_from_text(text, true, &map, err, sizeof(err));
		if (rc < 0) {
			*out = cd_ipc_error_obj("bad plug map: %s", err);
			return rc;
		}
		json_object_object_add(args, "map", map);
	}
	return cd_ipc_submit_change(c, CD_CHANGE_FENCE_ADD, args, out);
}

static int cmd_fence_list(qb_ipcs_connection_t *c, struct json_object *args,
			  struct json_object **out)
{
	const struct cd_state *s = cd_replica_state();
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < s->n_fencedevs; i++) {
		const struct cd_fencedev *d = &s->fencedevs[i];
		struct json_object *f = json_object_new_object(), *nodes = json_object_new_array();
		struct cd_fence_params *p = NULL;
		char plug[128], e[64];
		size_t k;

		json_object_object_add(f, "name", json_object_new_string(d->name));
		json_object_object_add(f, "agent", json_object_new_string(d->agent));
		/* Never show secrets: list the keys, mask the values that are. */
		if (cd_fence_params_from_json(d->params, &p, e, sizeof(e)) == 0)
			json_object_object_add(f, "params", cd_fence_params_to_json(p, true));
		else
			json_object_object_add(f, "params", json_object_new_object());
		cd_fence_params_free(p);
		for (k = 0; k < s->n_nodes; k++)
			if (cd_fencedev_plug(d, s->nodes[k].info.name, plug, sizeof(plug)))
				json_object_array_add(
					nodes, json_object_new_string(s->nodes[k].info.name));
		json_object_object_add(f, "nodes", nodes);
		json_object_array_add(a, f);
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "fence_devices", a);
	return 0;
}

static void fence_test_done(void *ctx, const struct cd_fence_result *r)
{
	qb_ipcs_connection_t *c = ctx;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "rc", json_object_new_int(r->rc));
	json_object_object_add(o, "exit_status", json_object_new_int(r->exit_status));
	json_object_object_add(o, "power", json_object_new_string(cd_fence_power_to_str(r->power)));
	json_object_object_add(o, "attempts", json_object_new_int(r->attempts));
	json_object_object_add(o, "output", json_object_new_string(r->out ? r->out : ""));
	json_object_object_add(o, "errors", json_object_new_string(r->err ? r->err : ""));
	if (r->rc == 0) {
		cd_ipc_send_reply(c, 0, o);
	} else {
		json_object_object_add(o, "error", json_object_new_string(cd_strerror(r->rc)));
		cd_ipc_send_reply(c, r->rc, o);
	}
	json_object_put(o);
	qb_ipcs_connection_unref(c);
}

/* A harmless check from this node: status of a node's plug, or monitor. */
static int cmd_fence_test(qb_ipcs_connection_t *c, struct json_object *args,
			  struct json_object **out)
{
	const char *name = cd_ipc_arg_str(args, "name"), *node = cd_ipc_arg_str(args, "node");
	const struct cd_fencedev *d = name ? cd_state_fencedev(cd_replica_state(), name) : NULL;
	struct cd_fence_device dev;
	char plug[128];
	int rc;

	if (!d) {
		*out = cd_ipc_error_obj("no fence device '%s' (see 'clusterctl fence list')",
					name ? name : "");
		return CD_ERR_NOT_FOUND;
	}
	if (node && !cd_fencedev_plug(d, node, plug, sizeof(plug))) {
		*out = cd_ipc_error_obj("fence device %s does not fence node %s", d->name, node);
		return CD_ERR_INVALID;
	}
	dev.name = d->name;
	dev.agent = d->agent;
	dev.params = d->params;
	qb_ipcs_connection_ref(c);
	rc = cd_fence_run(&dev, node ? "status" : "monitor", node ? plug : NULL,
			  CD_FENCE_TEST_TIMEOUT_MS, 0, fence_test_done, c);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		*out = cd_ipc_error_obj("cannot run %s: %s", d->agent, cd_strerror(rc));
		return rc;
	}
	return CD_IPC_ASYNC;
}

const struct cd_ipc_cmd cd_ipc_fence_cmds[] = {
	{"fence.add", CD_IPC_SUBMITS, cmd_fence_add},
	{"fence.remove", CD_IPC_SUBMITS, NULL, CD_CHANGE_FENCE_REMOVE},
	{"fence.list", 0, cmd_fence_list},
	/* A check run from this node: it needs no quorum. */
	{"fence.test", CD_IPC_ADMIN, cmd_fence_test},
};
const size_t cd_ipc_fence_n_cmds = sizeof(cd_ipc_fence_cmds) / sizeof(cd_ipc_fence_cmds[0]);
