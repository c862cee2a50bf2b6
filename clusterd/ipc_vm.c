/*
 * The IPC commands about VMs (vm.*).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "clusterd/conf.h"
#include "clusterd/coordinator.h"
#include "clusterd/ipc_cmd.h"
#include "clusterd/replica.h"
#include "core/move_check.h"
#include "core/move_peer.h"
#include "core/vmdisks.h"
#include "core/vmident.h"
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

static struct json_object *vm_view(const struct cd_vm *vm, bool with_xml)
{
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
	return o;
}

static int cmd_vm_list(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
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
		*out = cd_ipc_error_obj("cannot explain '%s': %s", vm->name, cd_strerror(rc));
		return rc;
	}
	*out = vm_view(vm, false);
	json_object_object_add(*out, "explanation", json_object_new_string(why));
	return 0;
}

/* The mode a client named, or the VM's own (live for no VM: it is reported missing). */
static int move_mode_arg(struct json_object *args, const char *vm_name, enum cd_move_mode *mode)
{
	const char *want = cd_ipc_arg_str(args, "mode");
	const struct cd_vm *vm = cd_state_vm(cd_replica_state(), vm_name);
	enum cd_move_mode m;

	*mode = vm ? vm->move_mode : CD_MOVE_LIVE;
	if (!want)
		return 0;
	for (m = CD_MOVE_LIVE; m <= CD_MOVE_COLD; m++)
		if (strcmp(want, cd_move_mode_to_str(m)) == 0) {
			*mode = m;
			return 0;
		}
	return CD_ERR_INVALID;
}

/* {"report": the report's JSON, "text": it in words}, or NULL if out of memory. */
static struct json_object *move_report_reply(const struct cd_move_report *rep)
{
	struct json_object *o = json_object_new_object(), *j = cd_move_report_to_json(rep);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = f ? cd_move_report_print(f, rep) : -ENOMEM;

	if (f && fclose(f) != 0)
		rc = -EIO;
	if (rc < 0 || !o || !j) {
		free(text);
		json_object_put(j);
		json_object_put(o);
		return NULL;
	}
	json_object_object_add(o, "report", j);
	json_object_object_add(o, "text", json_object_new_string_len(text, (int)len));
	free(text);
	return o;
}

/* A move's preflight under way: the question to the target's libvirtd is out. */
struct move_check {
	qb_ipcs_connection_t *c;
	char name[CD_NAME_MAX + 1], target[CD_NAME_MAX + 1];
	enum cd_move_mode mode;
	bool chosen;		    /* the preflight chose the target: say so again */
	char why[CD_MOVE_TEXT_MAX]; /* and why */
};

/*
 * The preflight of name's move to target (NULL: the one it chooses), with
 * facts: 0 and *rep filled (the caller frees it), or a negative code with
 * *out set to the error.
 */
static int preflight(const char *name, const char *target, enum cd_move_mode mode,
		     const struct cd_move_facts *facts, struct cd_move_report **rep,
		     struct json_object **out)
{
	int rc;

	*rep = malloc(sizeof(**rep));
	if (!*rep) {
		*out = cd_ipc_error_obj("out of memory");
		return -ENOMEM;
	}
	rc = cd_move_preflight(cd_replica_state(), name, target, mode, facts, *rep);
	if (rc < 0) {
		*out = cd_ipc_error_obj("cannot check the move of '%s': %s", name,
					(*rep)->error[0] ? (*rep)->error : cd_strerror(rc));
		free(*rep);
		*rep = NULL;
	}
	return rc;
}

/* The preflight with facts, answered to m's client (or its error). */
static void move_check_answer(const struct move_check *m, const struct cd_move_facts *facts,
			      const char *facts_error)
{
	struct cd_move_report *rep;
	struct json_object *o = NULL;
	int rc = preflight(m->name, m->target, m->mode, facts, &rep, &o);

	if (rc == 0) {
		/* Asked of the target the first pass chose: the same words as that pass. */
		if (m->chosen) {
			rep->target_chosen = true;
			cd_strlcpy(rep->target_why, m->why, sizeof(rep->target_why));
		}
		o = move_report_reply(rep);
		free(rep);
		if (!o)
			rc = -ENOMEM;
		else if (facts_error)
			json_object_object_add(o, "facts_error",
					       json_object_new_string(facts_error));
	}
	/* o: the report, or preflight()'s error; none only when out of memory. */
	if (o)
		cd_ipc_send_reply(m->c, rc, o);
	else
		cd_ipc_send_error(m->c, rc, NULL);
	json_object_put(o);
}

static struct cd_move_facts local_facts(void)
{
	struct cd_move_facts f = {
		.quorate = cd_replica_quorate(),
		.csvfs_run_dir = cd_config_str(CD_CFG_CSVFS_RUN_DIR),
		.cpu_compatible = CD_MOVE_CPU_UNKNOWN,
	};

	return f;
}

static void peer_facts_done(void *ctx, const struct cd_agent_result *r)
{
	struct move_check *m = ctx;
	struct cd_move_facts facts = local_facts();
	struct cd_move_peer_answer a;
	char why[320] = "";

	if (r->rc < 0)
		snprintf(why, sizeof(why), "%s's libvirtd did not answer: %s", m->target, r->err);
	else if (cd_move_peer_answer_read(r->xml, &a) < 0)
		snprintf(why, sizeof(why), "%s's libvirtd gave no answer that parses", m->target);
	else
		cd_move_peer_answer_facts(&a, &facts);
	move_check_answer(m, &facts, why[0] ? why : NULL);
	qb_ipcs_connection_unref(m->c);
	free(m);
}

/* The libvirtd of node n (libvirt_peer_uri, its first address for %s), in uri. */
static int peer_uri(const struct cd_node *n, char *uri, size_t len)
{
	const char *t = cd_config_str(CD_CFG_LIBVIRT_PEER_URI), *p = strstr(t, "%s");
	int w;

	if (!n || n->info.n_addrs == 0)
		return CD_ERR_NOT_FOUND;
	w = p ? snprintf(uri, len, "%.*s%s%s", (int)(p - t), t, n->info.addrs[0], p + 2)
	      : snprintf(uri, len, "%s", t);
	return w < 0 || (size_t)w >= len ? CD_ERR_INVALID : 0;
}

/*
 * Ask the target's libvirtd what only it can say (its CPU, its bridges and
 * networks) when the preflight found a target that is a member: CD_IPC_ASYNC,
 * or < 0 if it cannot be asked (then the report goes without).
 */
static int ask_target(qb_ipcs_connection_t *c, const struct cd_move_report *rep,
		      enum cd_move_mode mode)
{
	const struct cd_state *s = cd_replica_state();
	const struct cd_node *n = cd_state_node_by_name(s, rep->target);
	const struct cd_vm *vm = cd_state_vm(s, rep->vm);
	struct json_object *q;
	struct move_check *m;
	char uri[512], err[160];
	size_t i;
	int rc;

	for (i = 0; i < rep->n_failures; i++)
		if (rep->failures[i].code == CD_MOVE_NOT_MEMBER ||
		    rep->failures[i].code == CD_MOVE_NO_NODE)
			return CD_ERR_NOT_FOUND;
	if (!vm || !vm->xml || !n || !n->member || peer_uri(n, uri, sizeof(uri)) < 0)
		return CD_ERR_NOT_FOUND;
	q = cd_move_peer_ask(vm->xml, err, sizeof(err));
	m = calloc(1, sizeof(*m));
	if (!q || !m) {
		json_object_put(q);
		free(m);
		return CD_ERR_INVALID;
	}
	m->c = c;
	m->mode = mode;
	cd_strlcpy(m->name, rep->vm, sizeof(m->name));
	cd_strlcpy(m->target, rep->target, sizeof(m->target));
	m->chosen = rep->target_chosen;
	cd_strlcpy(m->why, rep->target_why, sizeof(m->why));
	rc = cd_vm_agent_peer_facts(
		rep->target, uri, json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN),
		(int)cd_config_uint(CD_CFG_LIBVIRT_TIMEOUT_MS), peer_facts_done, m);
	json_object_put(q);
	if (rc < 0) {
		free(m);
		return rc;
	}
	qb_ipcs_connection_ref(c);
	return CD_IPC_ASYNC;
}

/*
 * The preflight of a move (clusterctl vm move --check): read-only, and
 * answered without quorum too, since its absence is one of the reasons
 * reported. The report is the answer whether or not the move may go ahead.
 * Once the state names a target, its libvirtd is asked what only it can
 * say (ask_target), and the preflight runs again with that.
 */
static int cmd_vm_move_check(qb_ipcs_connection_t *c, struct json_object *args,
			     struct json_object **out)
{
	const char *name = cd_ipc_arg_str(args, "name");
	struct cd_move_facts facts = local_facts();
	struct cd_move_report *rep;
	enum cd_move_mode mode;
	int rc;

	if (!name) {
		*out = cd_ipc_error_obj("missing VM name");
		return CD_ERR_INVALID;
	}
	if (move_mode_arg(args, name, &mode) < 0) {
		*out = cd_ipc_error_obj("no move mode '%s' (live, quick or cold)",
					cd_ipc_arg_str(args, "mode"));
		return CD_ERR_INVALID;
	}
	rc = preflight(name, cd_ipc_arg_str(args, "target"), mode, &facts, &rep, out);
	if (rc < 0)
		return rc;
	if (rep->target[0] && (rc = ask_target(c, rep, mode)) == CD_IPC_ASYNC)
		*out = NULL;
	else if (!(*out = move_report_reply(rep))) {
		*out = cd_ipc_error_obj("out of memory");
		rc = -ENOMEM;
	} else {
		rc = 0;
	}
	free(rep);
	return rc;
}

/* Reads, vm.move.check among them, answer from this node's copy of the state. */
const struct cd_ipc_cmd cd_ipc_vm_cmds[] = {
	{"vm.add", CD_IPC_SUBMITS, cmd_vm_add},
	{"vm.remove", CD_IPC_SUBMITS, NULL, CD_CHANGE_VM_REMOVE},
	{"vm.list", 0, cmd_vm_list},
	{"vm.show", 0, cmd_vm_show},
	{"vm.start", CD_IPC_SUBMITS, NULL, CD_CHANGE_VM_START},
	{"vm.stop", CD_IPC_SUBMITS, NULL, CD_CHANGE_VM_STOP},
	{"vm.set", CD_IPC_SUBMITS, NULL, CD_CHANGE_VM_SET},
	{"vm.explain", 0, cmd_vm_explain},
	{"vm.move.check", 0, cmd_vm_move_check},
};
const size_t cd_ipc_vm_n_cmds = sizeof(cd_ipc_vm_cmds) / sizeof(cd_ipc_vm_cmds[0]);
