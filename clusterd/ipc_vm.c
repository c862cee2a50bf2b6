/*
 * The IPC commands about VMs (vm.*).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/ipc.h>
#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "clusterd/conf.h"
#include "clusterd/coordinator.h"
#include "clusterd/ipc_cmd.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "clusterd/volmgr.h"
#include "core/lostnode.h"
#include "core/move_check.h"
#include "core/move_peer.h"
#include "core/vmdisks.h"
#include "core/vmident.h"
#include "core/vmpage.h"
#include "lib/jsonget.h"
#include "lib/util.h"

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
		snprintf(err, errlen, "UUID %s belongs to VM '%s' already: give this VM its own",
			 id.uuid, other->name);
		return CD_ERR_EXISTS;
	}
	for (i = 0; i < id.n_nics; i++)
		if (id.macs[i][0] && (other = cd_vm_mac_user(s, id.macs[i], NULL))) {
			snprintf(
				err, errlen,
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
static int cmd_vm_add(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	const char *xml = cd_ipc_arg_str(args, "xml"), *want = cd_ipc_arg_str(args, "name");
	char name[64], uuid[37], err[512], *full = NULL;
	struct json_object *a;
	uint32_t vcpus;
	uint64_t mem;
	int rc;

	if (!xml) {
		*out = cd_ipc_error_obj("missing domain XML");
		return CD_ERR_INVALID;
	}
	rc = cd_vm_agent_validate(xml, name, sizeof(name), uuid, &vcpus, &mem, err, sizeof(err));
	if (rc < 0) {
		*out = cd_ipc_error_obj("%s", err);
		return rc;
	}
	if (want && strcmp(want, name) != 0) {
		*out = cd_ipc_error_obj("the XML names the domain '%s', not '%s'", name, want);
		return CD_ERR_INVALID;
	}
	{
		/* Shared-volume disks are leased at start: they must name real volumes. */
		struct cd_vm_disk d[CD_VM_DISKS_MAX];
		int n = cd_vm_disks(xml, cd_config_str(CD_CFG_CSVFS_RUN_DIR), d, err, sizeof(err)),
		    i;

		if (n < 0) {
			*out = cd_ipc_error_obj("%s", err);
			return n;
		}
		for (i = 0; i < n; i++)
			if (!cd_state_volume(cd_replica_state(), d[i].vol)) {
				*out = cd_ipc_error_obj("disk %s/%s: no volume '%s' in the cluster "
							"(clusterctl volume add)",
							d[i].vol, d[i].file, d[i].vol);
				return CD_ERR_NOT_FOUND;
			}
	}
	if ((rc = complete_identity(xml, uuid, &full, err, sizeof(err))) < 0) {
		*out = cd_ipc_error_obj("%s", err);
		return rc;
	}
	a = json_object_new_object();
	json_object_object_add(a, "name", json_object_new_string(name));
	json_object_object_add(a, "xml", json_object_new_string(full));
	json_object_object_add(a, "vcpus", json_object_new_int64(vcpus));
	json_object_object_add(a, "memory_mb", json_object_new_int64((int64_t)mem));
	free(full);
	rc = cd_ipc_submit_change(c, CD_CHANGE_VM_ADD, a, out);
	json_object_put(a);
	return rc;
}

/*
 * What this node sees of node id for core/lostnode.h: a member if the state
 * says so and corosync still lists it (and the sync round did not leave it
 * out: as failover.c), the host slots it watches, the wall clock. Before
 * this node joined the group corosync tells nothing: the state's word
 * stands; and this node is never lost to itself.
 */
static void lost_view(uint32_t id, struct cd_lost_view *v, void *ctx)
{
	if (cd_membership_joined() && id != cd_membership_local_nodeid())
		v->member =
			v->member && cd_membership_is_member(id) && !cd_replica_node_left_out(id);
	v->quorate = cd_replica_quorate();
	v->now_ms = cd_wall_ms();
	if (!v->member)
		v->n_slots = cd_volmgr_host_slots(id, v->slots, CD_MAX_VOLUMES);
}

/* lost_nodes: the request's verdicts (cd_lost_table), or NULL for a request about one VM. */
static struct json_object *vm_view(const struct cd_vm *vm, bool with_xml,
				   struct cd_lost_table *lost_nodes)
{
	struct cd_node_lost lost;
	const struct cd_node *n =
		vm->node ? cd_state_node_by_id(cd_replica_state(), vm->node) : NULL;
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
	json_object_object_add(o, "move", cd_ipc_move_json(vm, false));
	json_object_object_add(o, "last_move", cd_ipc_move_json(vm, true));
	/* "state" stays what the state records: scripts compare it; node_lost tells the truth. */
	if (lost_nodes)
		cd_lost_table_vm(lost_nodes, vm, &lost);
	else
		cd_vm_lost(cd_replica_state(), vm, lost_view, NULL, &lost);
	cd_node_lost_to_json(&lost, o);
	return o;
}

/*
 * A page's answer stops short of the connection's cap (cd_ipc_reply_cap(),
 * at most CD_IPC_MAX_MSG) even with VMs at their largest (CD_VM_JSON_MAX
 * each, some 2,000 of which would pass 8 MiB): the margin keeps room for
 * the rest of the answer.
 */
#define VM_PAGE_MARGIN (64 * 1024)

/*
 * vm.list {after, limit}: a page of the VMs in name order (core/vmpage.h),
 * {"vms": [...], "next": the name to ask after for the rest (null: none),
 * "total": how many VMs there are}. Without arguments, the first page: an
 * asker follows "next" for the rest.
 */
static int cmd_vm_list(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	const struct cd_state *s = cd_replica_state();
	struct cd_vm *const *page;
	struct cd_lost_table lost_nodes;
	const char *after = cd_ipc_arg_str(args, "after"), *next;
	struct json_object *a, *t;
	size_t i, n, bytes = 0, limit = 0;

	if (json_object_object_get_ex(args, "after", &t) && !after &&
	    !json_object_is_type(t, json_type_null)) {
		*out = cd_ipc_error_obj("vm.list: after takes a VM name");
		return CD_ERR_INVALID;
	}
	if (json_object_object_get_ex(args, "limit", &t) &&
	    !json_object_is_type(t, json_type_null)) {
		if (!json_object_is_type(t, json_type_int) || json_object_get_int64(t) < 1) {
			*out = cd_ipc_error_obj("vm.list: limit takes a positive number of VMs "
						"(at most %d are answered)",
						CD_VM_PAGE_MAX);
			return CD_ERR_INVALID;
		}
		limit = (size_t)json_object_get_int64(t);
	}
	cd_vm_page(s, after, limit, &page, &n, &next);
	/* A lost node's host slots are asked of the volume manager once, not once a VM. */
	cd_lost_table_init(&lost_nodes, s, lost_view, NULL);
	a = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *v = vm_view(page[i], false, &lost_nodes);
		size_t len = strlen(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)) + 1;

		if (i > 0 && bytes + len > cd_ipc_reply_cap(c) - VM_PAGE_MARGIN) {
			json_object_put(v);
			next = page[i - 1]->name;
			break;
		}
		bytes += len;
		json_object_array_add(a, v);
	}
	cd_lost_table_fini(&lost_nodes);
	*out = json_object_new_object();
	json_object_object_add(*out, "vms", a);
	json_object_object_add(*out, "next", next ? json_object_new_string(next) : NULL);
	json_object_object_add(*out, "total", json_object_new_int64((int64_t)s->n_vms));
	return 0;
}

static const struct cd_vm *find_vm(struct json_object *args, struct json_object **out, int *rc)
{
	const char *name = cd_ipc_arg_str(args, "name");
	const struct cd_vm *vm = name ? cd_state_vm(cd_replica_state(), name) : NULL;

	if (!name) {
		*out = cd_ipc_error_obj("missing VM name");
		*rc = CD_ERR_INVALID;
	} else if (!vm) {
		*out = cd_ipc_error_obj("no VM '%s' (see 'clusterctl vm list')", name);
		*rc = CD_ERR_NOT_FOUND;
	}
	return vm;
}

static int cmd_vm_show(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	int rc = 0;
	const struct cd_vm *vm = find_vm(args, out, &rc);

	if (vm)
		*out = vm_view(vm, true, NULL);
	return rc;
}

/*
 * vm.explain {name, start}: why the VM is where it is; with start, what
 * vm.start would do (the start's preflight: the console shows it before
 * asking to confirm, clusterctl vm start --check prints it).
 */
static int cmd_vm_explain(qb_ipcs_connection_t *c, struct json_object *args,
			  struct json_object **out)
{
	int rc = 0;
	const struct cd_vm *vm = find_vm(args, out, &rc);
	char why[1024];

	if (!vm)
		return rc;
	rc = cd_coordinator_explain(vm->name, cd_jget_bool_or(args, "start", false), why,
				    sizeof(why));
	if (rc < 0) {
		*out = cd_ipc_error_obj("cannot explain '%s': %s", vm->name, cd_strerror(rc));
		return rc;
	}
	*out = vm_view(vm, false, NULL);
	json_object_object_add(*out, "explanation", json_object_new_string(why));
	return 0;
}

/*
 * vm.stop {name, force, save}: with save, its node saves it into a state
 * file on a shared volume (the volume of its disks, else the first), from
 * which vm start restores it.
 */
static int cmd_vm_stop(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	const struct cd_vm *vm;
	struct json_object *t;
	char err[512];
	int rc = 0;

	if (!json_object_object_get_ex(args, "save", &t) || !json_object_get_boolean(t))
		return cd_ipc_submit_change(c, CD_CHANGE_VM_STOP, args, out);
	if (!(vm = find_vm(args, out, &rc)))
		return rc;
	rc = cd_vm_save_args(cd_replica_state(), vm, cd_config_str(CD_CFG_CSVFS_RUN_DIR), false,
			     args, err, sizeof(err));
	if (rc < 0) {
		*out = cd_ipc_error_obj("%s", err);
		return rc;
	}
	return cd_ipc_submit_change(c, CD_CHANGE_VM_STOP, args, out);
}

/* A vm.remove on its way: the client, and the state file it discards (vol "": none). */
struct removal {
	qb_ipcs_connection_t *c;
	char vol[64], file[64];
	int timeout_ms;		   /* the file's removal's */
	struct json_object *reply; /* once the VM is removed */
};

static void removal_answer(struct removal *r, int rc)
{
	cd_ipc_send_reply(r->c, rc, r->reply);
	json_object_put(r->reply);
	qb_ipcs_connection_unref(r->c);
	free(r);
}

/* The state file's removal came back: the answer says whether it is gone. */
static void state_file_removed(void *ctx, int rc, const char *err)
{
	struct removal *r = ctx;

	json_object_object_add(r->reply, "state_file_removed", json_object_new_boolean(rc == 0));
	if (rc < 0) {
		char w[512];

		snprintf(w, sizeof(w),
			 "VM removed, but its state file %s/%s is not (%s): remove it with "
			 "'clusterctl volume file remove %s %s'",
			 r->vol, r->file, err && *err ? err : cd_strerror(rc), r->vol, r->file);
		json_object_object_add(r->reply, "warning", json_object_new_string(w));
		qb_log(LOG_WARNING, "vm remove: %s", w);
	}
	removal_answer(r, 0);
}

/* The VM is removed (or refused): then its state file, if it had one. */
static void vm_removed(void *ctx, int rc, const char *err)
{
	struct removal *r = ctx;
	const struct cd_state *s = cd_replica_state();
	struct json_object *req, *v;

	if (rc < 0) {
		cd_ipc_send_error(r->c, rc, err);
		json_object_put(r->reply);
		qb_ipcs_connection_unref(r->c);
		free(r);
		return;
	}
	r->reply = json_object_new_object();
	v = json_object_new_object();
	json_object_object_add(v, "epoch", json_object_new_int64((int64_t)s->version.epoch));
	json_object_object_add(v, "seq", json_object_new_int64((int64_t)s->version.seq));
	json_object_object_add(r->reply, "version", v);
	if (!r->vol[0]) {
		removal_answer(r, 0);
		return;
	}
	json_object_object_add(r->reply, "state_volume", json_object_new_string(r->vol));
	json_object_object_add(r->reply, "state_file", json_object_new_string(r->file));
	req = json_object_new_object();
	json_object_object_add(req, "fop", json_object_new_string("remove"));
	json_object_object_add(req, "file", json_object_new_string(r->file));
	rc = cd_ipc_volume_file_request(r->vol, req, 0, r->timeout_ms, state_file_removed, r);
	json_object_put(req);
	if (rc < 0)
		state_file_removed(r, rc, NULL);
}

/*
 * vm.remove {name, discard_saved, timeout_ms}: a VM with a saved state is removed only
 * with discard_saved (the change refuses it otherwise, core/vm.c), and then
 * its state file is removed too, as 'volume file remove' would: a VM gone
 * leaves no file behind on the volume that nothing would ever restore
 * (timeout_ms bounds the wait for it). The answer says so
 * ("state_file_removed"), or gives the command to run ("warning").
 */
static int cmd_vm_remove(qb_ipcs_connection_t *c, struct json_object *args,
			 struct json_object **out)
{
	int rc = 0;
	const struct cd_vm *vm = find_vm(args, out, &rc);
	struct removal *r;
	struct json_object *ch, *t;

	if (!vm)
		return rc;
	r = calloc(1, sizeof(*r));
	if (!r) {
		*out = cd_ipc_error_obj("out of memory");
		return -ENOMEM;
	}
	r->c = c;
	r->timeout_ms = CD_VOLUME_FILE_TIMEOUT_MS;
	if (json_object_object_get_ex(args, "timeout_ms", &t) && json_object_get_int(t) > 0)
		r->timeout_ms = json_object_get_int(t);
	if (vm->saved.volume[0] && cd_jget_bool_or(args, "discard_saved", false)) {
		cd_strlcpy(r->vol, vm->saved.volume, sizeof(r->vol));
		cd_strlcpy(r->file, vm->saved.file, sizeof(r->file));
	}
	ch = json_object_new_object();
	json_object_object_add(ch, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VM_REMOVE)));
	json_object_object_add(ch, "name", json_object_new_string(vm->name));
	if (cd_jget_bool_or(args, "discard_saved", false))
		json_object_object_add(ch, "discard_saved", json_object_new_boolean(true));
	qb_ipcs_connection_ref(c);
	rc = cd_replica_submit(ch, vm_removed, r);
	json_object_put(ch);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		free(r);
		*out = cd_ipc_error_obj("%s", cd_strerror(rc));
		return rc;
	}
	return CD_IPC_ASYNC;
}

/* Reads answer from this node's copy of the state; the moves are in ipc_move.c. */
const struct cd_ipc_cmd cd_ipc_vm_cmds[] = {
	{"vm.add", CD_IPC_SUBMITS, cmd_vm_add},
	{"vm.remove", CD_IPC_SUBMITS, cmd_vm_remove},
	{"vm.list", 0, cmd_vm_list},
	{"vm.show", 0, cmd_vm_show},
	{"vm.start", CD_IPC_SUBMITS, NULL, CD_CHANGE_VM_START},
	{"vm.stop", CD_IPC_SUBMITS, cmd_vm_stop},
	{"vm.set", CD_IPC_SUBMITS, NULL, CD_CHANGE_VM_SET},
	{"vm.explain", 0, cmd_vm_explain},
};
const size_t cd_ipc_vm_n_cmds = sizeof(cd_ipc_vm_cmds) / sizeof(cd_ipc_vm_cmds[0]);
