#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qb/qbipcs.h>
#include <qb/qblog.h>

#include <clusterd/ipc.h>
#include <clusterd/result.h>

#include "agents/fence.h"
#include "agents/vm_agent.h"
#include "clusterd/coordinator.h"
#include "clusterd/events.h"
#include "clusterd/ipcs.h"
#include "clusterd/membership.h"
#include "clusterd/conf.h"
#include "clusterd/replica.h"
#include "clusterd/vmdisks.h"
#include "clusterd/vmident.h"
#include "clusterd/volmgr.h"
#include "lib/ipcpeer.h"
#include "lib/util.h"

static struct {
	qb_loop_t *loop;
	qb_ipcs_service_t *svc;
	gid_t admin_gid;
	bool have_admin_gid;
} ipc;

/* Handlers return 0 with *out set, a negative code with *out = error text, or ASYNC. */
#define CMD_ASYNC 1

/* --- replies --- */

static void send_reply(qb_ipcs_connection_t *c, int rc, struct json_object *body)
{
	struct qb_ipc_response_header h;
	const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
	size_t tlen = strlen(text) + 1;
	struct iovec iov[2];
	ssize_t n;

	if (sizeof(h) + tlen > CD_IPC_MAX_MSG) {
		body = json_object_new_object();
		json_object_object_add(body, "error", json_object_new_string("reply too large"));
		send_reply(c, -EMSGSIZE, body);
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

static void send_error(qb_ipcs_connection_t *c, int rc, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error",
			       json_object_new_string(msg && *msg ? msg : cd_strerror(rc)));
	send_reply(c, rc, o);
	json_object_put(o);
}

/* --- views --- */

static const char *node_state_view(const struct cd_node *n)
{
	/*
	 * What this node cannot see is offline from here, whatever the state
	 * says; what it sees is online unless in maintenance, even while this
	 * node's partition (and so its copy of the state) is not quorate.
	 */
	if (!cd_membership_is_member(n->info.id))
		return cd_node_state_to_str(n->dead ? CD_NODE_FENCED : CD_NODE_OFFLINE);
	if (n->maintenance)
		return cd_node_state_to_str(CD_NODE_MAINTENANCE);
	return cd_node_state_to_str(cd_node_quarantined(n, cd_wall_ms()) ? CD_NODE_QUARANTINED
									  : CD_NODE_ONLINE);
}

static struct json_object *node_view(const struct cd_node *n)
{
	struct json_object *o = cd_node_info_to_json(&n->info);

	json_object_object_add(o, "state", json_object_new_string(node_state_view(n)));
	json_object_object_add(o, "member", json_object_new_boolean(n->member));
	json_object_object_add(o, "reachable",
			       json_object_new_boolean(cd_membership_is_member(n->info.id)));
	json_object_object_add(o, "maintenance", json_object_new_boolean(n->maintenance));
	json_object_object_add(o, "dead", json_object_new_boolean(n->dead));
	json_object_object_add(o, "dead_how", json_object_new_string(n->dead_how));
	json_object_object_add(o, "quarantine_until",
			       json_object_new_int64((int64_t)n->quarantine_until));
	json_object_object_add(o, "local",
			       json_object_new_boolean(n->info.id == cd_membership_local_nodeid()));
	return o;
}

static struct json_object *nodes_view(void)
{
	const struct cd_state *s = cd_replica_state();
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < s->n_nodes; i++)
		json_object_array_add(a, node_view(&s->nodes[i]));
	return a;
}

static const char *arg_str(struct json_object *args, const char *key)
{
	struct json_object *v;

	if (!args || !json_object_object_get_ex(args, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *error_obj(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct json_object *error_obj(const char *fmt, ...)
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

/* --- commands --- */

static int cmd_status(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	const struct cd_state *s = cd_replica_state();
	struct json_object *o = json_object_new_object(), *v = json_object_new_object();
	struct cd_quorum_info qi;
	uint32_t coord = cd_replica_coordinator();
	const struct cd_node *cn = coord ? cd_state_node_by_id(s, coord) : NULL;
	const struct cd_node *me = cd_state_node_by_id(s, cd_membership_local_nodeid());

	cd_membership_quorum_info(&qi);
	json_object_object_add(o, "cluster_name", json_object_new_string(qi.cluster_name));
	json_object_object_add(o, "local_node_id",
			       json_object_new_int64(cd_membership_local_nodeid()));
	json_object_object_add(o, "local_node_name",
			       me ? json_object_new_string(me->info.name) : NULL);
	json_object_object_add(o, "joined", json_object_new_boolean(cd_membership_joined()));
	json_object_object_add(o, "quorate", json_object_new_boolean(cd_replica_quorate()));
	json_object_object_add(o, "synced",
			       json_object_new_boolean(cd_replica_phase() == CD_SYNC_DONE));
	json_object_object_add(o, "sync_phase",
			       json_object_new_string(cd_sync_phase_to_str(cd_replica_phase())));
	json_object_object_add(o, "coordinator", coord ? json_object_new_int64(coord) : NULL);
	json_object_object_add(o, "coordinator_name",
			       cn ? json_object_new_string(cn->info.name) : NULL);
	json_object_object_add(v, "epoch", json_object_new_int64((int64_t)s->version.epoch));
	json_object_object_add(v, "seq", json_object_new_int64((int64_t)s->version.seq));
	json_object_object_add(o, "version", v);
	json_object_object_add(o, "state_checksum", json_object_new_string(cd_replica_checksum()));
	json_object_object_add(o, "expected_votes", json_object_new_int64(qi.expected_votes));
	json_object_object_add(o, "total_votes", json_object_new_int64(qi.total_votes));
	json_object_object_add(o, "quorum", json_object_new_int64(qi.quorum));
	json_object_object_add(o, "nodes", nodes_view());
	*out = o;
	return 0;
}

static int cmd_node_list(qb_ipcs_connection_t *c, struct json_object *args,
			 struct json_object **out)
{
	*out = json_object_new_object();
	json_object_object_add(*out, "nodes", nodes_view());
	return 0;
}

static const struct cd_node *find_node(const char *name)
{
	const struct cd_state *s = cd_replica_state();
	const struct cd_node *n = cd_state_node_by_name(s, name);
	char *end;
	unsigned long id;

	if (n)
		return n;
	id = strtoul(name, &end, 10);
	if (*name && !*end && id > 0 && id <= UINT32_MAX)
		return cd_state_node_by_id(s, (uint32_t)id);
	return NULL;
}

static int cmd_node_show(qb_ipcs_connection_t *c, struct json_object *args,
			 struct json_object **out)
{
	const char *name = arg_str(args, "node");
	const struct cd_node *n;

	if (!name) {
		*out = error_obj("missing node name");
		return CD_ERR_INVALID;
	}
	n = find_node(name);
	if (!n) {
		*out = error_obj("no node '%s' (see 'clusterctl node list')", name);
		return CD_ERR_NOT_FOUND;
	}
	*out = node_view(n);
	return 0;
}

static int cmd_property_get(qb_ipcs_connection_t *c, struct json_object *args,
			    struct json_object **out)
{
	const char *key = arg_str(args, "key"), *v;

	if (!key) {
		*out = error_obj("missing property name");
		return CD_ERR_INVALID;
	}
	v = cd_state_prop(cd_replica_state(), key);
	if (!v) {
		*out = error_obj("no property '%s'", key);
		return CD_ERR_NOT_FOUND;
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "key", json_object_new_string(key));
	json_object_object_add(*out, "value", json_object_new_string(v));
	return 0;
}

static int cmd_property_list(qb_ipcs_connection_t *c, struct json_object *args,
			     struct json_object **out)
{
	const struct cd_state *s = cd_replica_state();
	struct json_object *p = json_object_new_object();
	size_t i;

	for (i = 0; i < s->n_props; i++)
		json_object_object_add(p, s->props[i].key,
				       json_object_new_string(s->props[i].value));
	*out = json_object_new_object();
	json_object_object_add(*out, "properties", p);
	return 0;
}

static void change_done(void *ctx, int rc, const char *err)
{
	qb_ipcs_connection_t *c = ctx;

	if (rc == 0) {
		struct json_object *o = json_object_new_object();
		const struct cd_state *s = cd_replica_state();
		struct json_object *v = json_object_new_object();

		json_object_object_add(v, "epoch", json_object_new_int64((int64_t)s->version.epoch));
		json_object_object_add(v, "seq", json_object_new_int64((int64_t)s->version.seq));
		json_object_object_add(o, "version", v);
		send_reply(c, 0, o);
		json_object_put(o);
	} else {
		send_error(c, rc, err);
	}
	qb_ipcs_connection_unref(c);
}

/*
 * Changes carry the client's arguments plus the op. The checks that need
 * the state are done by cd_state_apply() on every member alike.
 */
static int submit_change(qb_ipcs_connection_t *c, const char *op, struct json_object *args,
			 struct json_object **out)
{
	struct json_object *ch = json_object_new_object();
	int rc;

	if (args && json_object_is_type(args, json_type_object)) {
		json_object_object_foreach(args, k, v)
			json_object_object_add(ch, k, json_object_get(v));
	}
	json_object_object_add(ch, "op", json_object_new_string(op));
	qb_ipcs_connection_ref(c);
	rc = cd_replica_submit(ch, change_done, c);
	json_object_put(ch);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		*out = error_obj("%s", cd_strerror(rc));
		return rc;
	}
	return CMD_ASYNC;
}

#define CHANGE_CMD(fn, op)                                                                 \
	static int fn(qb_ipcs_connection_t *c, struct json_object *args,                   \
		      struct json_object **out)                                            \
	{                                                                                  \
		return submit_change(c, op, args, out);                                    \
	}
CHANGE_CMD(cmd_property_set, "property.set")
CHANGE_CMD(cmd_property_delete, "property.delete")
CHANGE_CMD(cmd_node_maintenance, "node.maintenance")
CHANGE_CMD(cmd_node_remove, "node.remove")

static int cmd_node_quarantine(qb_ipcs_connection_t *c, struct json_object *args,
			       struct json_object **out)
{
	const char *name = arg_str(args, "node");
	struct json_object *on = NULL, *a;
	int rc;

	json_object_object_get_ex(args, "on", &on);
	a = json_object_new_object();
	json_object_object_add(a, "node", json_object_new_string(name ? name : ""));
	json_object_object_add(a, "until",
			       json_object_new_int64(on && json_object_get_boolean(on)
							     ? (int64_t)(cd_wall_ms() + CD_QUARANTINE_MS)
							     : 0));
	rc = submit_change(c, "node.quarantine", a, out);
	json_object_put(a);
	return rc;
}

/* An admin vouches that a lost node is off: its VMs may run elsewhere. */
static int cmd_node_confirm_dead(qb_ipcs_connection_t *c, struct json_object *args,
				 struct json_object **out)
{
	const char *name = arg_str(args, "node");
	const struct cd_node *n = name ? find_node(name) : NULL;
	struct json_object *a;
	int rc;

	if (!n) {
		*out = error_obj("no node '%s' (see 'clusterctl node list')", name ? name : "");
		return CD_ERR_NOT_FOUND;
	}
	a = json_object_new_object();
	json_object_object_add(a, "node", json_object_new_int64(n->info.id));
	json_object_object_add(a, "how", json_object_new_string("admin"));
	rc = submit_change(c, "node.dead", a, out);
	json_object_put(a);
	return rc;
}
CHANGE_CMD(cmd_vm_remove, "vm.remove")
CHANGE_CMD(cmd_vm_start, "vm.start")
CHANGE_CMD(cmd_vm_stop, "vm.stop")
CHANGE_CMD(cmd_vm_set, "vm.set")

static bool mac_taken(const char *mac, void *ctx)
{
	return cd_vm_mac_user(ctx, mac, NULL) != NULL;
}

/*
 * Make xml's identity complete before the cluster stores it: the UUID
 * (the XML's, or the one libvirt's parser gave it) and a MAC, unique in
 * the cluster, for every interface that has none. *full is a new string.
 */
static int complete_identity(const char *xml, const char *uuid, char **full, char *err,
			     size_t errlen)
{
	const struct cd_state *s = cd_replica_state();
	const struct cd_vm *other;
	struct cd_vm_ident id;
	size_t i;
	int rc;

	*full = NULL;
	if ((rc = cd_vm_ident_read(xml, &id, err, errlen)) < 0)
		return rc;
	if (!id.uuid[0]) {
		cd_strlcpy(id.uuid, uuid, sizeof(id.uuid));
		for (i = 0; id.uuid[i]; i++)
			id.uuid[i] = (char)tolower((unsigned char)id.uuid[i]);
	}
	if ((other = cd_vm_uuid_user(s, id.uuid, NULL))) {
		snprintf(err, errlen, "UUID %s belongs to VM '%s' already: give this VM its own", id.uuid,
			 other->name);
		return CD_ERR_EXISTS;
	}
	for (i = 0; i < id.n_nics; i++)
		if (id.macs[i][0] && (other = cd_vm_mac_user(s, id.macs[i], NULL))) {
			snprintf(err, errlen,
				 "MAC address %s belongs to VM '%s' already: give interface %zu another "
				 "or none (the cluster then picks one)",
				 id.macs[i], other->name, i + 1);
			return CD_ERR_EXISTS;
		}
	if ((rc = cd_vm_ident_new_macs(&id, mac_taken, (void *)s)) < 0) {
		snprintf(err, errlen, "no free MAC address found");
		return rc;
	}
	return cd_vm_ident_fill(xml, &id, full, err, errlen);
}

/*
 * The domain XML is checked with libvirt's own parser and schema before the
 * cluster sees it; what the cluster needs (name, vCPUs, memory) comes from
 * there, never from the client. Its identity is then made complete and
 * unique (see vmident.h).
 */
static int cmd_vm_add(qb_ipcs_connection_t *c, struct json_object *args,
		      struct json_object **out)
{
	const char *xml = arg_str(args, "xml"), *want = arg_str(args, "name");
	char name[64], uuid[37], err[512], *full = NULL;
	struct json_object *a;
	uint32_t vcpus;
	uint64_t mem;
	int rc;

	if (!xml) {
		*out = error_obj("missing domain XML");
		return CD_ERR_INVALID;
	}
	rc = cd_vm_agent_validate(xml, name, sizeof(name), uuid, &vcpus, &mem, err, sizeof(err));
	if (rc < 0) {
		*out = error_obj("%s", err);
		return rc;
	}
	if (want && strcmp(want, name) != 0) {
		*out = error_obj("the XML names the domain '%s', not '%s'", name, want);
		return CD_ERR_INVALID;
	}
	{
		/* Shared-volume disks are leased at start: they must name real volumes. */
		struct cd_vm_disk d[CD_VM_DISKS_MAX];
		int n = cd_vm_disks(xml, cd_config_str(CD_CFG_CSVFS_RUN_DIR), d, err, sizeof(err)),
		    i;

		if (n < 0) {
			*out = error_obj("%s", err);
			return n;
		}
		for (i = 0; i < n; i++)
			if (!cd_state_volume(cd_replica_state(), d[i].vol)) {
				*out = error_obj("disk %s/%s: no volume '%s' in the cluster "
						 "(clusterctl volume add)",
						 d[i].vol, d[i].file, d[i].vol);
				return CD_ERR_NOT_FOUND;
			}
	}
	if ((rc = complete_identity(xml, uuid, &full, err, sizeof(err))) < 0) {
		*out = error_obj("%s", err);
		return rc;
	}
	a = json_object_new_object();
	json_object_object_add(a, "name", json_object_new_string(name));
	json_object_object_add(a, "xml", json_object_new_string(full));
	json_object_object_add(a, "vcpus", json_object_new_int64(vcpus));
	json_object_object_add(a, "memory_mb", json_object_new_int64((int64_t)mem));
	free(full);
	rc = submit_change(c, "vm.add", a, out);
	json_object_put(a);
	return rc;
}

static struct json_object *vm_view(const struct cd_vm *vm, bool with_xml)
{
	const struct cd_node *n = vm->node ? cd_state_node_by_id(cd_replica_state(), vm->node)
					   : NULL;
	struct json_object *o = cd_vm_to_json(vm);

	json_object_object_add(o, "node_name", n ? json_object_new_string(n->info.name) : NULL);
	{
		struct json_object *macs = json_object_new_array();
		const char *p;

		for (p = vm->macs; p && *p; p += CD_MAC_LEN + 1)
			json_object_array_add(macs, json_object_new_string_len(p, CD_MAC_LEN));
		json_object_object_add(o, "macs", macs);
	}
	if (!with_xml)
		json_object_object_del(o, "xml");
	return o;
}

static int cmd_vm_list(qb_ipcs_connection_t *c, struct json_object *args,
		       struct json_object **out)
{
	const struct cd_state *s = cd_replica_state();
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < s->n_vms; i++)
		json_object_array_add(a, vm_view(&s->vms[i], false));
	*out = json_object_new_object();
	json_object_object_add(*out, "vms", a);
	return 0;
}

static const struct cd_vm *find_vm(struct json_object *args, struct json_object **out, int *rc)
{
	const char *name = arg_str(args, "name");
	const struct cd_vm *vm = name ? cd_state_vm(cd_replica_state(), name) : NULL;

	if (!name) {
		*out = error_obj("missing VM name");
		*rc = CD_ERR_INVALID;
	} else if (!vm) {
		*out = error_obj("no VM '%s' (see 'clusterctl vm list')", name);
		*rc = CD_ERR_NOT_FOUND;
	}
	return vm;
}

static int cmd_vm_show(qb_ipcs_connection_t *c, struct json_object *args,
		       struct json_object **out)
{
	int rc = 0;
	const struct cd_vm *vm = find_vm(args, out, &rc);

	if (vm)
		*out = vm_view(vm, true);
	return rc;
}

static int cmd_vm_explain(qb_ipcs_connection_t *c, struct json_object *args,
			  struct json_object **out)
{
	int rc = 0;
	const struct cd_vm *vm = find_vm(args, out, &rc);
	char why[1024];

	if (!vm)
		return rc;
	rc = cd_coordinator_explain(vm->name, why, sizeof(why));
	if (rc < 0) {
		*out = error_obj("cannot explain '%s': %s", vm->name, cd_strerror(rc));
		return rc;
	}
	*out = vm_view(vm, false);
	json_object_object_add(*out, "explanation", json_object_new_string(why));
	return 0;
}

/* --- volumes --- */

static int cmd_volume_add(qb_ipcs_connection_t *c, struct json_object *args,
			  struct json_object **out)
{
	const char *name = arg_str(args, "name"), *dev = arg_str(args, "device");
	char uuid[40], err[512];
	uint32_t hosts, expiry, renewal;
	struct json_object *a;
	int rc;

	if (!name || !dev) {
		*out = error_obj("volume add needs NAME and DEVICE");
		return CD_ERR_INVALID;
	}
	rc = cd_volmgr_probe(dev, uuid, sizeof(uuid), &hosts, &expiry, &renewal, err,
			     sizeof(err));
	if (rc < 0) {
		*out = error_obj("%s", err);
		return rc;
	}
	a = json_object_new_object();
	json_object_object_add(a, "name", json_object_new_string(name));
	json_object_object_add(a, "device", json_object_new_string(dev));
	json_object_object_add(a, "uuid", json_object_new_string(uuid));
	json_object_object_add(a, "hosts", json_object_new_int64(hosts));
	json_object_object_add(a, "expiry_ms", json_object_new_int64(expiry));
	json_object_object_add(a, "renewal_ms", json_object_new_int64(renewal));
	rc = submit_change(c, "volume.add", a, out);
	json_object_put(a);
	return rc;
}

CHANGE_CMD(cmd_volume_remove, "volume.remove")

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
	const char *name = arg_str(args, "name");
	const struct cd_volume *v = name ? cd_state_volume(cd_replica_state(), name) : NULL;

	if (!v) {
		*out = error_obj("no volume '%s' (see 'clusterctl volume list')", name ? name : "");
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

		send_reply(c, 0, o);
		json_object_put(o);
	} else {
		send_error(c, rc, err);
	}
	qb_ipcs_connection_unref(c);
}

/* The request is recorded in the state; then we wait for its result there. */
struct file_call {
	qb_ipcs_connection_t *c;
	char vol[64];
	uint64_t id;
	int timeout_ms;
};

static void file_request_recorded(void *ctx, int rc, const char *err)
{
	struct file_call *fc = ctx;

	if (rc == 0)
		rc = cd_volmgr_wait_result(fc->vol, fc->id, fc->timeout_ms, reply_done, fc->c);
	if (rc < 0)
		reply_done(fc->c, rc, err && *err ? err : cd_strerror(rc));
	free(fc);
}

static int cmd_volume_file(qb_ipcs_connection_t *c, struct json_object *args,
			   struct json_object **out)
{
	int rc = 0;
	const struct cd_volume *v = find_volume(args, out, &rc);
	struct json_object *ch, *t;
	struct file_call *fc;

	if (!v)
		return rc;
	fc = calloc(1, sizeof(*fc));
	if (!fc) {
		*out = error_obj("out of memory");
		return -ENOMEM;
	}
	fc->c = c;
	cd_strlcpy(fc->vol, v->name, sizeof(fc->vol));
	/*
	 * The client's id, if it gave one (it sends the same on a retry: the
	 * request is then carried out once and the retry waits for, or gets,
	 * the first answer); else a new one. Ids only need to be unique among
	 * the volume's recent requests.
	 */
	if (json_object_object_get_ex(args, "request_id", &t) && json_object_get_int64(t) > 0)
		fc->id = (uint64_t)json_object_get_int64(t);
	if (fc->id == 0)
		fc->id = cd_random_id();
	fc->timeout_ms = 60000;
	if (json_object_object_get_ex(args, "timeout_ms", &t) && json_object_get_int(t) > 0)
		fc->timeout_ms = json_object_get_int(t);
	ch = json_object_new_object();
	json_object_object_foreach(args, k, val)
		if (strcmp(k, "timeout_ms") != 0 && strcmp(k, "request_id") != 0)
			json_object_object_add(ch, k, json_object_get(val));
	json_object_object_add(ch, "op", json_object_new_string("volume.request"));
	json_object_object_add(ch, "id", json_object_new_int64((int64_t)fc->id));
	json_object_object_add(ch, "node", json_object_new_int64(cd_membership_local_nodeid()));
	qb_ipcs_connection_ref(c);
	rc = cd_replica_submit(ch, file_request_recorded, fc);
	json_object_put(ch);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		free(fc);
		*out = error_obj("%s", cd_strerror(rc));
		return rc;
	}
	return CMD_ASYNC;
}

static int cmd_volume_lease(qb_ipcs_connection_t *c, struct json_object *args,
			    struct json_object **out)
{
	int rc = 0;
	const struct cd_volume *v = find_volume(args, out, &rc);
	const char *file = arg_str(args, "file");
	struct json_object *t;
	bool acquire = true, shared = false;

	if (!v)
		return rc;
	if (!file) {
		*out = error_obj("missing file name");
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
		*out = error_obj("%s", cd_strerror(rc));
		return rc;
	}
	return CMD_ASYNC;
}

#ifdef CD_TEST_HOOKS
/*
 * A test aid that lets an admin void this node's leases, and so power off
 * every VM on the volume: only in builds configured with --enable-test-hooks.
 */
static int cmd_debug_volume_stall(qb_ipcs_connection_t *c, struct json_object *args,
				  struct json_object **out)
{
	const char *mode = arg_str(args, "mode");
	enum cd_volmgr_fault f;
	int rc;

	if (mode && strcmp(mode, "stall") == 0)
		f = CD_VOLMGR_FAULT_STALL;
	else if (mode && strcmp(mode, "error") == 0)
		f = CD_VOLMGR_FAULT_ERROR;
	else if (mode && strcmp(mode, "off") == 0)
		f = CD_VOLMGR_FAULT_NONE;
	else {
		*out = error_obj("mode must be stall, error or off");
		return CD_ERR_INVALID;
	}
	rc = cd_volmgr_debug_fault(arg_str(args, "name") ? arg_str(args, "name") : "", f);
	if (rc < 0)
		*out = error_obj("no such volume on this node");
	else
		*out = json_object_new_object();
	return rc;
}
#endif

/* --- fence devices --- */

static int cmd_fence_add(qb_ipcs_connection_t *c, struct json_object *args,
			 struct json_object **out)
{
	const char *params = arg_str(args, "params");
	struct cd_fence_params *p = NULL;
	char err[256];
	int rc;

	/* The fence-agents rules, checked where the parameters enter. */
	if (params && *params) {
		rc = cd_fence_parse_params(params, &p, err, sizeof(err));
		cd_fence_params_free(p);
		if (rc < 0) {
			*out = error_obj("bad fence parameters: %s", err);
			return CD_ERR_INVALID;
		}
	}
	return submit_change(c, "fence.add", args, out);
}

CHANGE_CMD(cmd_fence_remove, "fence.remove")

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
		char plug[128], masked[1024], e[64];
		size_t k;

		json_object_object_add(f, "name", json_object_new_string(d->name));
		json_object_object_add(f, "agent", json_object_new_string(d->agent));
		/* Never show secrets: list the keys, mask the values that are. */
		masked[0] = '\0';
		if (cd_fence_parse_params(d->params, &p, e, sizeof(e)) == 0 && p)
			for (k = 0; k < p->n; k++)
				snprintf(masked + strlen(masked), sizeof(masked) - strlen(masked),
					 "%s%s=%s", k ? " " : "", p->v[k].key,
					 cd_fence_param_is_secret(p->v[k].key) ? "****" : p->v[k].value);
		cd_fence_params_free(p);
		json_object_object_add(f, "params", json_object_new_string(masked));
		for (k = 0; k < s->n_nodes; k++)
			if (cd_fencedev_plug(d, s->nodes[k].info.name, plug, sizeof(plug)))
				json_object_array_add(nodes,
						      json_object_new_string(s->nodes[k].info.name));
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
		send_reply(c, 0, o);
	} else {
		json_object_object_add(o, "error", json_object_new_string(cd_strerror(r->rc)));
		send_reply(c, r->rc, o);
	}
	json_object_put(o);
	qb_ipcs_connection_unref(c);
}

/* A harmless check from this node: status of a node's plug, or monitor. */
static int cmd_fence_test(qb_ipcs_connection_t *c, struct json_object *args,
			  struct json_object **out)
{
	const char *name = arg_str(args, "name"), *node = arg_str(args, "node");
	const struct cd_fencedev *d = name ? cd_state_fencedev(cd_replica_state(), name) : NULL;
	struct cd_fence_device dev;
	struct cd_fence_params *p = NULL;
	char plug[128], err[256];
	int rc;

	if (!d) {
		*out = error_obj("no fence device '%s' (see 'clusterctl fence list')", name ? name : "");
		return CD_ERR_NOT_FOUND;
	}
	if (node && !cd_fencedev_plug(d, node, plug, sizeof(plug))) {
		*out = error_obj("fence device %s does not fence node %s", d->name, node);
		return CD_ERR_INVALID;
	}
	if (d->params[0] && cd_fence_parse_params(d->params, &p, err, sizeof(err)) < 0) {
		*out = error_obj("bad fence parameters: %s", err);
		return CD_ERR_INVALID;
	}
	dev.name = d->name;
	dev.agent = d->agent;
	dev.params = p;
	qb_ipcs_connection_ref(c);
	rc = cd_fence_run(&dev, node ? "status" : "monitor", node ? plug : NULL, 30000, 0,
			  fence_test_done, c);
	cd_fence_params_free(p);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		*out = error_obj("cannot run %s: %s", d->agent, cd_strerror(rc));
		return rc;
	}
	return CMD_ASYNC;
}

static int cmd_events(qb_ipcs_connection_t *c, struct json_object *args,
		      struct json_object **out)
{
	struct json_object *since = NULL;

	json_object_object_get_ex(args, "since", &since);
	*out = cd_events_since(since ? (uint64_t)json_object_get_int64(since) : 0);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out);
} commands[] = {
	{"status", cmd_status},
	{"node.list", cmd_node_list},
	{"node.show", cmd_node_show},
	{"node.maintenance", cmd_node_maintenance},
	{"node.remove", cmd_node_remove},
	{"node.confirm_dead", cmd_node_confirm_dead},
	{"node.quarantine", cmd_node_quarantine},
	{"property.get", cmd_property_get},
	{"property.list", cmd_property_list},
	{"property.set", cmd_property_set},
	{"property.delete", cmd_property_delete},
	{"vm.add", cmd_vm_add},
	{"vm.remove", cmd_vm_remove},
	{"vm.list", cmd_vm_list},
	{"vm.show", cmd_vm_show},
	{"vm.start", cmd_vm_start},
	{"vm.stop", cmd_vm_stop},
	{"vm.set", cmd_vm_set},
	{"vm.explain", cmd_vm_explain},
	{"volume.add", cmd_volume_add},
	{"volume.remove", cmd_volume_remove},
	{"volume.list", cmd_volume_list},
	{"volume.show", cmd_volume_show},
	{"volume.file", cmd_volume_file},
	{"volume.lease", cmd_volume_lease},
#ifdef CD_TEST_HOOKS
	{"debug.volume_stall", cmd_debug_volume_stall},
#endif
	{"events", cmd_events},
	{"fence.add", cmd_fence_add},
	{"fence.remove", cmd_fence_remove},
	{"fence.list", cmd_fence_list},
	{"fence.test", cmd_fence_test},
};

static int32_t msg_process(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct qb_ipc_request_header *h = data;
	struct json_object *req = NULL, *v, *args = NULL, *out = NULL;
	const char *text = (const char *)(h + 1), *cmd;
	size_t i;
	int rc;

	if (size < sizeof(*h) + 1 || h->id != CD_IPC_REQUEST || (size_t)h->size != size ||
	    ((char *)data)[size - 1] != '\0') {
		send_error(c, CD_ERR_PROTOCOL, "malformed request");
		return 0;
	}
	req = json_tokener_parse(text);
	if (!req || !json_object_is_type(req, json_type_object) ||
	    !json_object_object_get_ex(req, "v", &v) || !json_object_is_type(v, json_type_int)) {
		send_error(c, CD_ERR_PROTOCOL, "request is not a versioned JSON object");
		goto out;
	}
	if (json_object_get_int(v) != CD_IPC_VERSION) {
		send_error(c, CD_ERR_VERSION, "clusterctl and clusterd versions differ");
		goto out;
	}
	if (!json_object_object_get_ex(req, "cmd", &v) || !json_object_is_type(v, json_type_string)) {
		send_error(c, CD_ERR_PROTOCOL, "request has no command");
		goto out;
	}
	cmd = json_object_get_string(v);
	json_object_object_get_ex(req, "args", &args);
	if (args && !json_object_is_type(args, json_type_object)) {
		send_error(c, CD_ERR_PROTOCOL, "request arguments must be an object");
		goto out;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, cmd) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		send_error(c, CD_ERR_PROTOCOL, "unknown command");
		goto out;
	}
	rc = commands[i].fn(c, args, &out);
	if (rc == CMD_ASYNC)
		goto out;
	if (rc == 0)
		send_reply(c, 0, out);
	else
		send_error(c, rc, out ? json_object_get_string(json_object_object_get(out, "error"))
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
			qb_log(LOG_NOTICE, "admin group '%s' does not exist: root only", admin_group);
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
