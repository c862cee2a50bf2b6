/*
 * The IPC commands about shared volumes (volume.*), and the test aid
 * debug.volume_stall in builds configured with --enable-test-hooks.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "clusterd/ipc_cmd.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "clusterd/volmgr.h"
#include "lib/util.h"

static int cmd_volume_add(qb_ipcs_connection_t *c, struct json_object *args,
			  struct json_object **out)
{
	const char *name = cd_ipc_arg_str(args, "name"), *dev = cd_ipc_arg_str(args, "device");
	char uuid[40], err[512];
	uint32_t hosts, expiry, renewal;
	struct json_object *a;
	int rc;

	if (!name || !dev) {
		*out = cd_ipc_error_obj("volume add needs NAME and DEVICE");
		return CD_ERR_INVALID;
	}
	rc = cd_volmgr_probe(dev, uuid, sizeof(uuid), &hosts, &expiry, &renewal, err, sizeof(err));
	if (rc < 0) {
		*out = cd_ipc_error_obj("%s", err);
		return rc;
	}
	a = json_object_new_object();
	json_object_object_add(a, "name", json_object_new_string(name));
	json_object_object_add(a, "device", json_object_new_string(dev));
	json_object_object_add(a, "uuid", json_object_new_string(uuid));
	json_object_object_add(a, "hosts", json_object_new_int64(hosts));
	json_object_object_add(a, "expiry_ms", json_object_new_int64(expiry));
	json_object_object_add(a, "renewal_ms", json_object_new_int64(renewal));
	rc = cd_ipc_submit_change(c, CD_CHANGE_VOLUME_ADD, a, out);
	json_object_put(a);
	return rc;
}

static struct json_object *volume_view(const struct cd_volume *v)
{
	struct json_object *o = cd_volume_to_json(v), *local = cd_volmgr_local_json(v->name);

	json_object_object_del(o, "results");
	if (local)
		json_object_object_add(o, "local", local);
	return o;
}

static int cmd_volume_list(qb_ipcs_connection_t *c, struct json_object *args,
			   struct json_object **out)
{
	const struct cd_state *s = cd_replica_state();
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < s->n_volumes; i++)
		json_object_array_add(a, volume_view(&s->volumes[i]));
	*out = json_object_new_object();
	json_object_object_add(*out, "volumes", a);
	return 0;
}

static const struct cd_volume *find_volume(struct json_object *args, struct json_object **out,
					   int *rc)
{
	const char *name = cd_ipc_arg_str(args, "name");
	const struct cd_volume *v = name ? cd_state_volume(cd_replica_state(), name) : NULL;

	if (!v) {
		*out = cd_ipc_error_obj("no volume '%s' (see 'clusterctl volume list')",
					name ? name : "");
		*rc = CD_ERR_NOT_FOUND;
	}
	return v;
}

static int cmd_volume_show(qb_ipcs_connection_t *c, struct json_object *args,
			   struct json_object **out)
{
	int rc = 0;
	const struct cd_volume *v = find_volume(args, out, &rc);

	if (v)
		*out = volume_view(v);
	return rc;
}

static void reply_done(void *ctx, int rc, const char *err)
{
	qb_ipcs_connection_t *c = ctx;

	if (rc == 0) {
		struct json_object *o = json_object_new_object();

		cd_ipc_send_reply(c, 0, o);
		json_object_put(o);
	} else {
		cd_ipc_send_error(c, rc, err);
	}
	qb_ipcs_connection_unref(c);
}

/* The request is recorded in the state; then we wait for its result there. */
struct file_call {
	char vol[64];
	uint64_t id;
	int timeout_ms;
	cd_volmgr_done_fn done;
	void *ctx;
};

static void file_request_recorded(void *ctx, int rc, const char *err)
{
	struct file_call *fc = ctx;

	if (rc == 0)
		rc = cd_volmgr_wait_result(fc->vol, fc->id, fc->timeout_ms, fc->done, fc->ctx);
	if (rc < 0)
		fc->done(fc->ctx, rc, err && *err ? err : cd_strerror(rc));
	free(fc);
}

int cd_ipc_volume_file_request(const char *vol, struct json_object *req, uint64_t id,
			       int timeout_ms, cd_volmgr_done_fn done, void *ctx)
{
	struct file_call *fc = calloc(1, sizeof(*fc));
	struct json_object *ch;
	int rc;

	if (!fc)
		return -ENOMEM;
	cd_strlcpy(fc->vol, vol, sizeof(fc->vol));
	fc->id = id ? id : cd_random_id();
	fc->timeout_ms = timeout_ms;
	fc->done = done;
	fc->ctx = ctx;
	ch = json_object_new_object();
	json_object_object_foreach(req, k, val)
		if (strcmp(k, "timeout_ms") != 0 && strcmp(k, "request_id") != 0)
			json_object_object_add(ch, k, json_object_get(val));
	json_object_object_add(ch, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VOLUME_REQUEST)));
	json_object_object_add(ch, "name", json_object_new_string(vol));
	json_object_object_add(ch, "id", json_object_new_int64((int64_t)fc->id));
	json_object_object_add(ch, "node", json_object_new_int64(cd_membership_local_nodeid()));
	rc = cd_replica_submit(ch, file_request_recorded, fc);
	json_object_put(ch);
	if (rc < 0)
		free(fc);
	return rc;
}

static int cmd_volume_file(qb_ipcs_connection_t *c, struct json_object *args,
			   struct json_object **out)
{
	int rc = 0;
	const struct cd_volume *v = find_volume(args, out, &rc);
	int timeout_ms = CD_VOLUME_FILE_TIMEOUT_MS;
	struct json_object *t;
	uint64_t id = 0;

	if (!v)
		return rc;
	/*
	 * The client's id, if it gave one (it sends the same on a retry: the
	 * request is then carried out once and the retry waits for, or gets,
	 * the first answer); else a new one. Ids only need to be unique among
	 * the volume's recent requests.
	 */
	if (json_object_object_get_ex(args, "request_id", &t) && json_object_get_int64(t) > 0)
		id = (uint64_t)json_object_get_int64(t);
	if (json_object_object_get_ex(args, "timeout_ms", &t) && json_object_get_int(t) > 0)
		timeout_ms = json_object_get_int(t);
	qb_ipcs_connection_ref(c);
	rc = cd_ipc_volume_file_request(v->name, args, id, timeout_ms, reply_done, c);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		*out = cd_ipc_error_obj("%s", cd_strerror(rc));
		return rc;
	}
	return CD_IPC_ASYNC;
}

static int cmd_volume_lease(qb_ipcs_connection_t *c, struct json_object *args,
			    struct json_object **out)
{
	int rc = 0;
	const struct cd_volume *v = find_volume(args, out, &rc);
	const char *file = cd_ipc_arg_str(args, "file");
	struct json_object *t;
	bool acquire = true, shared = false;

	if (!v)
		return rc;
	if (!file) {
		*out = cd_ipc_error_obj("missing file name");
		return CD_ERR_INVALID;
	}
	if (json_object_object_get_ex(args, "acquire", &t))
		acquire = json_object_get_boolean(t);
	if (json_object_object_get_ex(args, "shared", &t))
		shared = json_object_get_boolean(t);
	qb_ipcs_connection_ref(c);
	rc = cd_volmgr_lease(v->name, file, acquire, shared, reply_done, c);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		*out = cd_ipc_error_obj("%s", cd_strerror(rc));
		return rc;
	}
	return CD_IPC_ASYNC;
}

#ifdef CD_TEST_HOOKS
/*
 * A test aid that lets an admin void this node's leases, and so power off
 * every VM on the volume: only in builds configured with --enable-test-hooks.
 */
static int cmd_debug_volume_stall(qb_ipcs_connection_t *c, struct json_object *args,
				  struct json_object **out)
{
	const char *mode = cd_ipc_arg_str(args, "mode");
	enum cd_volmgr_fault f;
	int rc;

	if (mode && strcmp(mode, "stall") == 0)
		f = CD_VOLMGR_FAULT_STALL;
	else if (mode && strcmp(mode, "error") == 0)
		f = CD_VOLMGR_FAULT_ERROR;
	else if (mode && strcmp(mode, "off") == 0)
		f = CD_VOLMGR_FAULT_NONE;
	else {
		*out = cd_ipc_error_obj("mode must be stall, error or off");
		return CD_ERR_INVALID;
	}
	rc = cd_volmgr_debug_fault(cd_ipc_arg_str(args, "name") ? cd_ipc_arg_str(args, "name") : "",
				   f);
	if (rc < 0)
		*out = cd_ipc_error_obj("no such volume on this node");
	else
		*out = json_object_new_object();
	return rc;
}
#endif

const struct cd_ipc_cmd cd_ipc_volume_cmds[] = {
	{"volume.add", CD_IPC_SUBMITS, cmd_volume_add},
	{"volume.remove", CD_IPC_SUBMITS, NULL, CD_CHANGE_VOLUME_REMOVE},
	{"volume.list", 0, cmd_volume_list},
	{"volume.show", 0, cmd_volume_show},
	{"volume.file", CD_IPC_SUBMITS, cmd_volume_file},
	/*
	 * A lease is this node's own, taken on the disk: csvfs decides who
	 * wins, so a node cut off from the others may still race for one.
	 */
	{"volume.lease", CD_IPC_ADMIN, cmd_volume_lease},
#ifdef CD_TEST_HOOKS
	{"debug.volume_stall", CD_IPC_ADMIN, cmd_debug_volume_stall},
#endif
};
const size_t cd_ipc_volume_n_cmds = sizeof(cd_ipc_volume_cmds) / sizeof(cd_ipc_volume_cmds[0]);
