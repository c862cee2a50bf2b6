/*
 * The IPC commands that make an existing libvirt domain a cluster VM:
 * vm.import.check (what an import would find) and vm.import (clusterctl
 * vm import DOMAIN --node NODE).
 *
 * Both may be asked of any member. The work runs on NODE, whose libvirtd
 * has the domain and whose clusterd takes its disk leases: the member
 * asked sends it a node call (clusterd/nodecall.h) and gives the client
 * NODE's answer. There the domain's definition is read (agents/import.h),
 * judged (core/vm_import.h: every reason it cannot be highly available at
 * once) and checked by libvirt's own parser as vm.add checks a new VM. A
 * domain that runs is adopted where it runs, never restarted: its disk
 * leases are taken on NODE first (cd_lrm_import_leases), then the
 * vm.import change records it running there; a refusal at any step gives
 * the leases back and changes nothing. Once the cluster has the VM,
 * libvirt's own persistent definition is removed: the cluster's XML is the
 * truth, as for every VM it starts.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "clusterd/conf.h"
#include "clusterd/events.h"
#include "clusterd/ipc_cmd.h"
#include "clusterd/lrm.h"
#include "clusterd/membership.h"
#include "clusterd/nodecall.h"
#include "clusterd/replica.h"
#include "core/vm_import.h"
#include "lib/jsonget.h"
#include "lib/util.h"

/* The node call's methods, and how long the member asked waits for NODE's answer. */
#define METHOD_CHECK "vm.import.check"
#define METHOD_IMPORT "vm.import"
#define DEADLINE_MS 14000u
#define DEADLINE_MAX_MS 600000u

/* An import under way on NODE, from the call to its answer. */
struct import {
	struct cd_nodecall_origin from;
	bool go;		    /* vm.import: carry it out; else only check */
	char name[64];		    /* the domain, and the VM it becomes */
	char node[CD_NAME_MAX + 1]; /* this node's name */
	struct json_object *disks;  /* {old path: new path}, or NULL */
	struct json_object *def;    /* the agent's answer (agents/import.h) */
	const char *xml;	    /* the definition to store (in def, or repointed) */
	char *repointed;
	bool active, persistent;
	uint32_t vcpus;
	uint64_t memory_mb;
	struct cd_import_report rep;
};

static void import_free(struct import *imp)
{
	if (!imp)
		return;
	json_object_put(imp->disks);
	json_object_put(imp->def);
	free(imp->repointed);
	free(imp);
}

/* The answer's body: what was found and, with reasons, why it is refused. */
static struct json_object *body(const struct import *imp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "domain", json_object_new_string(imp->name));
	json_object_object_add(o, "node", json_object_new_string(imp->node));
	json_object_object_add(o, "running", json_object_new_boolean(imp->active));
	json_object_object_add(o, "persistent", json_object_new_boolean(imp->persistent));
	json_object_object_add(o, "report", cd_vm_import_report_to_json(&imp->rep));
	return o;
}

/* Answer imp's client with rc and its report (an error says how many reasons), and free imp. */
static void answer_report(struct import *imp, int rc)
{
	struct json_object *o = body(imp);

	if (rc < 0) {
		json_object_object_add(
			o, "error",
			json_object_new_string("the domain cannot be made highly available"));
		cd_event("vm", imp->name, "import from %s refused: %zu reason(s)", imp->node,
			 imp->rep.n_reasons + imp->rep.n_dropped);
	}
	cd_nodecall_answer(imp->from, rc, o);
	json_object_put(o);
	import_free(imp);
}

static void answer_error(struct cd_nodecall_origin from, int rc, const char *err)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(err));
	cd_nodecall_answer(from, rc, o);
	json_object_put(o);
}

static void fail(struct import *imp, int rc, const char *err)
{
	answer_error(imp->from, rc, err);
	import_free(imp);
}

static void undefined(void *ctx, const struct cd_agent_result *r)
{
	struct import *imp = ctx;
	struct json_object *o = body(imp);
	const struct cd_vm *vm = cd_state_vm(cd_replica_state(), imp->name);

	if (r->rc < 0)
		qb_log(LOG_WARNING, "vm %s: imported, but libvirt's own definition stays: %s",
		       imp->name, r->err);
	json_object_object_add(o, "vm", json_object_new_string(imp->name));
	json_object_object_add(o, "state",
			       json_object_new_string(vm ? cd_vm_state_to_str(vm->state) : "?"));
	json_object_object_add(o, "libvirt_definition",
			       json_object_new_string(r->rc < 0 ? "kept" : "removed"));
	if (r->rc < 0)
		json_object_object_add(o, "libvirt_definition_error",
				       json_object_new_string(r->err ? r->err : "?"));
	cd_nodecall_answer(imp->from, 0, o);
	json_object_put(o);
	import_free(imp);
}

/* The change is applied (or refused): the leases are the VM's, or given back. */
static void applied(void *ctx, int rc, const char *err)
{
	struct import *imp = ctx;

	if (rc < 0) {
		if (imp->active)
			cd_lrm_import_abandon(imp->name);
		fail(imp, rc, err);
		return;
	}
	if (imp->active)
		cd_lrm_import_adopted(imp->name);
	/* No persistent definition: nothing to remove, but the answer has the same form. */
	if (cd_vm_agent_call(imp->persistent ? CD_AGENT_UNDEFINE : CD_AGENT_STATUS, imp->name, NULL,
			     (int)cd_config_uint(CD_CFG_LIBVIRT_TIMEOUT_MS), undefined, imp) < 0)
		fail(imp, -ENOMEM, "imported, but libvirt's definition could not be looked at");
}

static void submit(struct import *imp)
{
	struct json_object *ch = json_object_new_object();
	int rc;

	json_object_object_add(ch, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VM_IMPORT)));
	json_object_object_add(ch, "name", json_object_new_string(imp->name));
	json_object_object_add(ch, "xml", json_object_new_string(imp->xml));
	json_object_object_add(ch, "vcpus", json_object_new_int64(imp->vcpus));
	json_object_object_add(ch, "memory_mb", json_object_new_int64((int64_t)imp->memory_mb));
	json_object_object_add(ch, "node", json_object_new_int64(cd_membership_local_nodeid()));
	json_object_object_add(ch, "running", json_object_new_boolean(imp->active));
	rc = cd_replica_submit(ch, applied, imp);
	json_object_put(ch);
	if (rc < 0)
		applied(imp, rc, cd_strerror(rc));
}

static void leases_done(void *ctx, int rc, const char *err)
{
	struct import *imp = ctx;

	if (rc < 0) {
		cd_vm_import_reason(&imp->rep, CD_IMPORT_LEASE, "%s", err ? err : cd_strerror(rc));
		answer_report(imp, CD_ERR_REFUSED);
		return;
	}
	submit(imp);
}

/* What only this daemon can say of the definition: libvirt's verdict, a managed save. */
static void judge_more(struct import *imp)
{
	char name[64], uuid[37], err[512];

	if (cd_jget_bool_or(imp->def, "managed_save", false))
		cd_vm_import_reason(&imp->rep, CD_IMPORT_MANAGED_SAVE,
				    "libvirt holds a saved memory image of it (managed save): "
				    "start it, or remove the image (virsh managedsave-remove)");
	if (cd_vm_agent_validate(imp->xml, name, sizeof(name), uuid, &imp->vcpus, &imp->memory_mb,
				 err, sizeof(err)) < 0)
		cd_vm_import_reason(&imp->rep, CD_IMPORT_INVALID, "%s", err);
	else if (strcmp(name, imp->name) != 0)
		cd_vm_import_reason(&imp->rep, CD_IMPORT_INVALID, "the XML names the domain '%s'",
				    name);
}

/* The domain's definition, read: judged, then refused, answered or carried out. */
static void definition_read(void *ctx, const struct cd_agent_result *r)
{
	struct import *imp = ctx;
	char err[512];
	int rc;

	if (r->rc == CD_ERR_NOT_FOUND) {
		snprintf(err, sizeof(err), "no domain '%s' in %s's libvirt (virsh list --all)",
			 imp->name, imp->node);
		fail(imp, CD_ERR_NOT_FOUND, err);
		return;
	}
	imp->def = r->rc == 0 && r->xml ? json_tokener_parse(r->xml) : NULL;
	imp->xml = cd_jget_str(imp->def, "xml");
	if (!imp->xml) {
		snprintf(err, sizeof(err), "cannot read '%s' from libvirt: %s", imp->name,
			 r->rc < 0 && r->err ? r->err : "no answer that parses");
		fail(imp, r->rc < 0 ? r->rc : CD_ERR_INVALID, err);
		return;
	}
	imp->active = cd_jget_bool_or(imp->def, "active", false);
	imp->persistent = cd_jget_bool_or(imp->def, "persistent", false);
	if (imp->disks && !imp->active) {
		rc = cd_vm_import_repoint(imp->xml, imp->disks, &imp->repointed, err, sizeof(err));
		if (rc < 0) {
			fail(imp, rc, err);
			return;
		}
		imp->xml = imp->repointed;
	}
	cd_vm_import_judge(cd_replica_state(), imp->name, imp->xml,
			   cd_config_str(CD_CFG_CSVFS_RUN_DIR),
			   cd_config_str(CD_CFG_BOOT_FILE_DIRS), &imp->rep);
	if (imp->disks && imp->active)
		cd_vm_import_reason(&imp->rep, CD_IMPORT_RUNNING_COPY,
				    "it runs: its disks are copied only while it is shut down "
				    "(shut it down first)");
	judge_more(imp);
	if (!imp->go || imp->rep.n_reasons) {
		answer_report(imp, imp->rep.n_reasons && imp->go ? CD_ERR_REFUSED : 0);
		return;
	}
	if (!imp->active) {
		submit(imp);
		return;
	}
	rc = cd_lrm_import_leases(imp->name, imp->xml, leases_done, imp, err, sizeof(err));
	if (rc < 0)
		leases_done(imp, rc, err);
}

/* On NODE: {name, node, disks}, checked again where the work is done. */
static void import_here(struct cd_nodecall_origin from, struct json_object *args, bool go)
{
	const char *name = cd_ipc_arg_str(args, "name"), *node = cd_ipc_arg_str(args, "node");
	const struct cd_node *me =
		cd_state_node_by_id(cd_replica_state(), cd_membership_local_nodeid());
	struct json_object *disks = NULL;
	struct import *imp;
	char err[256];

	if (!name || !cd_valid_name(name, 63) || !node || !me || strcmp(node, me->info.name) != 0) {
		snprintf(err, sizeof(err), "an import call for another node reached %s",
			 me ? me->info.name : "a node the state does not know yet");
		answer_error(from, CD_ERR_INVALID, err);
		return;
	}
	json_object_object_get_ex(args, "disks", &disks);
	imp = calloc(1, sizeof(*imp));
	if (!imp) {
		answer_error(from, -ENOMEM, "out of memory");
		return;
	}
	imp->from = from;
	imp->go = go;
	imp->disks = disks ? json_object_get(disks) : NULL;
	cd_strlcpy(imp->name, name, sizeof(imp->name));
	cd_strlcpy(imp->node, me->info.name, sizeof(imp->node));
	if (cd_vm_agent_call(CD_AGENT_DEFINITION, name, NULL,
			     (int)cd_config_uint(CD_CFG_LIBVIRT_TIMEOUT_MS), definition_read,
			     imp) < 0)
		fail(imp, -ENOMEM, "out of memory");
}

static void method_check(struct cd_nodecall_origin from, struct json_object *args)
{
	import_here(from, args, false);
}

static void method_import(struct cd_nodecall_origin from, struct json_object *args)
{
	import_here(from, args, true);
}

void cd_import_init(void)
{
	cd_nodecall_register(METHOD_CHECK, method_check);
	cd_nodecall_register(METHOD_IMPORT, method_import);
}

/* --- the member a client asked --- */

struct asked {
	qb_ipcs_connection_t *c;
	bool go;
	char name[64], node[CD_NAME_MAX + 1];
};

/* NODE's answer, or why there is none, to the client. */
static void answered(void *ctx, int rc, struct json_object *body, const char *err)
{
	struct asked *a = ctx;
	char msg[512];

	if (body) {
		cd_ipc_send_reply(a->c, rc, body);
	} else {
		snprintf(msg, sizeof(msg), "%s%s%s%s", err, a->go ? ": whether '" : "",
			 a->go ? a->name : "",
			 a->go ? "' was imported there is not known: see clusterctl vm show, "
				 "or ask again (an import done already is refused by name)"
			       : "");
		cd_ipc_send_error(a->c, rc, msg);
	}
	qb_ipcs_connection_unref(a->c);
	free(a);
}

/* {name, node, disks, local, deadline_ms}: see the file's comment. */
static int import_cmd(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out,
		      bool go)
{
	const char *name = cd_ipc_arg_str(args, "name"), *node = cd_ipc_arg_str(args, "node");
	const struct cd_state *st = cd_replica_state();
	const struct cd_node *me = cd_state_node_by_id(st, cd_membership_local_nodeid());
	const struct cd_node *there = node ? cd_state_node_by_name(st, node) : NULL;
	struct json_object *disks = NULL;
	uint64_t deadline = DEADLINE_MS;
	struct asked *a;
	int rc;

	if (!name || !cd_valid_name(name, 63)) {
		*out = cd_ipc_error_obj("missing or invalid domain name (a VM name is 1-63 of "
					"A-Z a-z 0-9 . _ -)");
		return CD_ERR_INVALID;
	}
	if (!node) {
		*out = cd_ipc_error_obj("missing node: the node whose libvirt has the domain");
		return CD_ERR_INVALID;
	}
	if (json_object_object_get_ex(args, "disks", &disks) &&
	    !json_object_is_type(disks, json_type_object)) {
		*out = cd_ipc_error_obj("disks takes a map of paths");
		return CD_ERR_INVALID;
	}
	if (args && cd_jget_u64(args, "deadline_ms", &deadline) == 0 &&
	    (deadline < 100 || deadline > DEADLINE_MAX_MS)) {
		*out = cd_ipc_error_obj("deadline_ms must be between 100 and %u", DEADLINE_MAX_MS);
		return CD_ERR_INVALID;
	}
	if (!there) {
		*out = cd_ipc_error_obj("no node named '%s' in the cluster (clusterctl node list)",
					node);
		return CD_ERR_NOT_FOUND;
	}
	if (cd_jget_bool_or(args, "local", false) && there != me) {
		*out = cd_ipc_error_obj(
			"--copy-disks reads the domain's disks from %s's own files: "
			"run it on %s (this is %s)",
			node, node, me ? me->info.name : "a node not known yet");
		return CD_ERR_INVALID;
	}
	if (!cd_membership_is_member(there->info.id)) {
		*out = cd_ipc_error_obj("%s is not a member now: its clusterd reads its libvirt "
					"and takes the disk leases, so the import needs it online",
					node);
		return CD_ERR_INVALID;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		*out = cd_ipc_error_obj("out of memory");
		return -ENOMEM;
	}
	a->c = c;
	a->go = go;
	cd_strlcpy(a->name, name, sizeof(a->name));
	cd_strlcpy(a->node, node, sizeof(a->node));
	qb_ipcs_connection_ref(c);
	rc = cd_nodecall_start(there->info.id, go ? METHOD_IMPORT : METHOD_CHECK, args,
			       (uint32_t)deadline, answered, a);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		free(a);
		*out = cd_ipc_error_obj("cannot ask %s: %s", node, cd_strerror(rc));
		return rc;
	}
	return CD_IPC_ASYNC;
}

static int cmd_vm_import_check(qb_ipcs_connection_t *c, struct json_object *args,
			       struct json_object **out)
{
	return import_cmd(c, args, out, false);
}

static int cmd_vm_import(qb_ipcs_connection_t *c, struct json_object *args,
			 struct json_object **out)
{
	return import_cmd(c, args, out, true);
}

/*
 * vm.import.check reads the domain's definition, its secrets included:
 * only for an admin. vm.import submits only if nothing refuses it.
 */
const struct cd_ipc_cmd cd_ipc_import_cmds[] = {
	{"vm.import.check", CD_IPC_ADMIN, cmd_vm_import_check},
	{"vm.import", CD_IPC_SUBMITS, cmd_vm_import},
};
const size_t cd_ipc_import_n_cmds = sizeof(cd_ipc_import_cmds) / sizeof(cd_ipc_import_cmds[0]);
