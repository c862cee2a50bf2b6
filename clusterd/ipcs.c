/*
 * The IPC server's transport: the qb_ipcs service, who may connect, the
 * loop glue, and requests parsed, admitted by their command's flags
 * (ipc_admit.h) and handed to the commands of the subjects' tables
 * (ipc_cluster.c, ipc_vm.c, ipc_volume.c, ipc_fence.c: see ipc_cmd.h).
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include <qb/qbipcs.h>
#include <qb/qblog.h>

#include <clusterd/ipc.h>
#include <clusterd/result.h>

#include "clusterd/ipc_cmd.h"
#include "clusterd/ipcs.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "lib/ipcpeer.h"

static struct {
	qb_loop_t *loop;
	qb_ipcs_service_t *svc;
	gid_t admin_gid;
	bool have_admin_gid;
} ipc;

/* --- replies --- */

size_t cd_ipc_reply_cap(qb_ipcs_connection_t *c)
{
	int32_t n = qb_ipcs_connection_get_buffer_size(c);

	return n > 0 && n < CD_IPC_MAX_MSG ? (size_t)n : CD_IPC_MAX_MSG;
}

void cd_ipc_send_reply(qb_ipcs_connection_t *c, int rc, struct json_object *body)
{
	struct qb_ipc_response_header h;
	const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	size_t tlen = strlen(text) + 1;
	struct iovec iov[2];
	ssize_t n;

	/*
	 * libqb would refuse to send it, and the client would wait for an
	 * answer until its timeout: say why instead.
	 */
	if (sizeof(h) + tlen > cd_ipc_reply_cap(c)) {
		char why[200];

		snprintf(why, sizeof(why),
			 "the answer is %zu bytes, above this connection's cap of %zu (at most "
			 "%d); ask for fewer (vm list --limit)",
			 sizeof(h) + tlen, cd_ipc_reply_cap(c), CD_IPC_MAX_MSG);
		qb_log(LOG_WARNING, "a client's %s", why);
		body = json_object_new_object();
		json_object_object_add(body, "error", json_object_new_string(why));
		cd_ipc_send_reply(c, -EMSGSIZE, body);
		json_object_put(body);
		return;
	}
	h.id = CD_IPC_RESPONSE;
	h.size = (int32_t)(sizeof(h) + tlen);
	h.error = rc;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = (void *)text;
	iov[1].iov_len = tlen;
	n = qb_ipcs_response_sendv(c, iov, 2);
	if (n < 0)
		qb_log(LOG_DEBUG, "cannot answer a client: %s", strerror((int)-n));
}

void cd_ipc_send_error(qb_ipcs_connection_t *c, int rc, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error",
			       json_object_new_string(msg && *msg ? msg : cd_strerror(rc)));
	cd_ipc_send_reply(c, rc, o);
	json_object_put(o);
}

/* --- requests --- */

/* A command's entry: the subjects' tables, searched in order. */
static const struct cd_ipc_cmd *find_command(const char *name)
{
	static const struct {
		const struct cd_ipc_cmd *cmds;
		const size_t *n;
	} tables[] = {
		{cd_ipc_cluster_cmds, &cd_ipc_cluster_n_cmds},
		{cd_ipc_vm_cmds, &cd_ipc_vm_n_cmds},
		{cd_ipc_move_cmds, &cd_ipc_move_n_cmds},
		{cd_ipc_volume_cmds, &cd_ipc_volume_n_cmds},
		{cd_ipc_fence_cmds, &cd_ipc_fence_n_cmds},
		{cd_ipc_drain_cmds, &cd_ipc_drain_n_cmds},
		{cd_ipc_maint_cmds, &cd_ipc_maint_n_cmds},
		{cd_ipc_check_cmds, &cd_ipc_check_n_cmds},
		{cd_ipc_import_cmds, &cd_ipc_import_n_cmds},
		{cd_ipc_debug_cmds, &cd_ipc_debug_n_cmds},
	};
	size_t t, i;

	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (i = 0; i < *tables[t].n; i++)
			if (strcmp(tables[t].cmds[i].name, name) == 0)
				return &tables[t].cmds[i];
	return NULL;
}

/*
 * Whether cmd may run now (see ipc_admit.h): 0, or the refusal answered.
 * Every client is an admin: connection_accept() lets no one else in.
 */
static int admit(qb_ipcs_connection_t *c, const struct cd_ipc_cmd *cmd)
{
	const struct cd_ipc_standing st = {
		.joined = cd_membership_joined(),
		.phase = cd_replica_phase(),
		.quorate = cd_replica_quorate(),
		.admin = true,
	};
	int rc = cd_ipc_admit(cmd->flags, &st);

	if (rc < 0)
		cd_ipc_send_error(c, rc, NULL);
	return rc;
}

static int32_t msg_process(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct qb_ipc_request_header *h = data;
	struct json_object *req = NULL, *v, *args = NULL, *out = NULL;
	const char *text = (const char *)(h + 1), *cmd;
	const struct cd_ipc_cmd *entry;
	int rc;

	if (size < sizeof(*h) + 1 || h->id != CD_IPC_REQUEST || (size_t)h->size != size ||
	    ((char *)data)[size - 1] != '\0') {
		cd_ipc_send_error(c, CD_ERR_PROTOCOL, "malformed request");
		return 0;
	}
	req = json_tokener_parse(text);
	if (!req || !json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "v", &v) || !json_object_is_type(v, json_type_int)) {
		cd_ipc_send_error(c, CD_ERR_PROTOCOL, "request is not a versioned JSON object");
		goto out;
	}
	if (json_object_get_int(v) != CD_IPC_VERSION) {
		cd_ipc_send_error(c, CD_ERR_VERSION, "clusterctl and clusterd versions differ");
		goto out;
	}
	if (!json_object_object_get_ex(req, "cmd", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		cd_ipc_send_error(c, CD_ERR_PROTOCOL, "request has no command");
		goto out;
	}
	cmd = json_object_get_string(v);
	json_object_object_get_ex(req, "args", &args);
	if (args && !json_object_is_type(args, json_type_object)) {
		cd_ipc_send_error(c, CD_ERR_PROTOCOL, "request arguments must be an object");
		goto out;
	}
	entry = find_command(cmd);
	if (!entry) {
		cd_ipc_send_error(c, CD_ERR_PROTOCOL, "unknown command");
		goto out;
	}
	if (admit(c, entry) < 0)
		goto out;
	rc = entry->fn ? entry->fn(c, args, &out)
		       : cd_ipc_submit_change(c, entry->change, args, &out);
	if (rc == CD_IPC_ASYNC)
		goto out;
	if (rc == 0)
		cd_ipc_send_reply(c, 0, out);
	else
		cd_ipc_send_error(c, rc,
				  out ? json_object_get_string(json_object_object_get(out, "error"))
				      : NULL);
out:
	json_object_put(out);
	json_object_put(req);
	return 0;
}

static bool user_in_group(uid_t uid, gid_t gid)
{
	struct passwd *pw = getpwuid(uid);
	gid_t groups[256];
	int n = 256, i;

	if (!pw)
		return false;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* Root and the admin group only; checked once, when the client connects. */
static int32_t connection_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	if (uid == 0 ||
	    (ipc.have_admin_gid && (gid == ipc.admin_gid || user_in_group(uid, ipc.admin_gid)))) {
		qb_ipcs_connection_auth_set(c, 0, ipc.have_admin_gid ? ipc.admin_gid : 0, 0660);
		return 0;
	}
	qb_log(LOG_WARNING, "refused IPC connection from uid %u gid %u", uid, gid);
	return -EACCES;
}

static void connection_created(qb_ipcs_connection_t *c)
{
}

static int32_t connection_closed(qb_ipcs_connection_t *c)
{
	return 0;
}

static void connection_destroyed(qb_ipcs_connection_t *c)
{
}

/* libqb's IPC asks for poll hooks: hand them to the one qb loop. */
static int32_t job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(ipc.loop, p, data, fn);
}

static int32_t dispatch_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			    qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(ipc.loop, p, fd, events, data, fn);
}

static int32_t dispatch_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			    qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(ipc.loop, p, fd, events, data, fn);
}

static int32_t dispatch_del(int32_t fd)
{
	return qb_loop_poll_del(ipc.loop, fd);
}

int cd_ipcs_start(qb_loop_t *loop, const char *admin_group)
{
	struct qb_ipcs_service_handlers handlers = {
		.connection_accept = connection_accept,
		.connection_created = connection_created,
		.msg_process = msg_process,
		.connection_closed = connection_closed,
		.connection_destroyed = connection_destroyed,
	};
	struct qb_ipcs_poll_handlers poll = {
		.job_add = job_add,
		.dispatch_add = dispatch_add,
		.dispatch_mod = dispatch_mod,
		.dispatch_del = dispatch_del,
	};
	const char *name = cd_ipc_name();
	struct cd_ipc_peer holder;
	struct group *g;
	int rc;

	ipc.loop = loop;
	if (admin_group && *admin_group) {
		g = getgrnam(admin_group);
		if (g) {
			ipc.admin_gid = g->gr_gid;
			ipc.have_admin_gid = true;
		} else {
			qb_log(LOG_NOTICE, "admin group '%s' does not exist: root only",
			       admin_group);
		}
	}
	rc = cd_ipcs_create_exclusive(name, QB_IPC_NATIVE, &handlers, &ipc.svc, &holder);
	if (rc == -EADDRINUSE) {
		if (holder.pid >= 0)
			qb_log(LOG_ERR,
			       "the IPC name %s is already served by pid %ld (uid %lu, gid %lu): "
			       "not starting",
			       name, (long)holder.pid, (unsigned long)holder.uid,
			       (unsigned long)holder.gid);
		else
			qb_log(LOG_ERR,
			       "the IPC name %s is already served by a process that refused to "
			       "say who it is: not starting",
			       name);
		return rc;
	}
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot create the IPC service %s: %s", name, strerror(-rc));
		return rc;
	}
	qb_ipcs_poll_handlers_set(ipc.svc, &poll);
	rc = qb_ipcs_run(ipc.svc);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot start the IPC service: %s", strerror(-rc));
		qb_ipcs_destroy(ipc.svc);
		ipc.svc = NULL;
		return rc;
	}
	return 0;
}

void cd_ipcs_stop(void)
{
	if (ipc.svc)
		qb_ipcs_destroy(ipc.svc);
	ipc.svc = NULL;
}
