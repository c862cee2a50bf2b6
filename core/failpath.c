/* Which VMs can fail over on their own (failpath.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/failpath.h"
#include "core/props.h"
#include "core/vmdisks.h"
#include "lib/util.h"

const struct cd_fencedev *cd_failpath_fencedev(const struct cd_state *s, const char *node)
{
	char plug[128];
	size_t i;

	for (i = 0; i < s->n_fencedevs; i++)
		if (cd_fencedev_plug(&s->fencedevs[i], node, plug, sizeof(plug)))
			return &s->fencedevs[i];
	return NULL;
}

void cd_failpath_node_paths(const struct cd_state *s, bool lease, struct cd_failpath_node *fn)
{
	unsigned confirm = (unsigned)cd_props_get(s, CD_PROPS_FAILOVER_CONFIRM);
	bool use_lease = confirm & CD_CONFIRM_LEASE, use_fence = confirm & CD_CONFIRM_FENCE;
	bool fence = use_fence && cd_failpath_fencedev(s, fn->name);

	lease = use_lease && s->n_volumes > 0 && lease;
	fn->paths = (lease ? CD_DEATH_LEASE : 0) | (fence ? CD_DEATH_FENCE : 0);
	if (fn->paths)
		fn->gap = CD_GAP_NONE;
	else if (!use_lease)
		fn->gap = CD_GAP_FENCE_ONLY;
	else if (!use_fence)
		fn->gap = s->n_volumes ? CD_GAP_LEASE_ONLY : CD_GAP_LEASE_NOVOL;
	else
		fn->gap = s->n_volumes ? CD_GAP_NEITHER : CD_GAP_NO_VOLUME;
}

static struct cd_failpath_node *find_node(struct cd_failpath *f, uint32_t id)
{
	return (struct cd_failpath_node *)cd_failpath_node(f, id);
}

const struct cd_failpath_node *cd_failpath_node(const struct cd_failpath *f, uint32_t id)
{
	size_t i;

	for (i = 0; i < f->n_nodes; i++)
		if (f->nodes[i].id == id)
			return &f->nodes[i];
	return NULL;
}

/* Its possible owners, if set, name a node other than node (by name). */
static bool owners_elsewhere(const struct cd_vm *vm, const char *node)
{
	size_t i;

	if (vm->n_possible == 0)
		return true;
	for (i = 0; i < vm->n_possible; i++)
		if (strcmp(vm->possible[i], node) != 0)
			return true;
	return false;
}

/* The first reason vm, placed on node n, has no path; false if it has one. */
static bool vm_gap(const struct cd_vm *vm, const struct cd_failpath_node *n, const char *run_dir,
		   struct cd_failpath_vm *out)
{
	char local[1][CD_VM_DISK_PATH_MAX + 1];
	char err[256];
	int k;

	memset(out, 0, sizeof(*out));
	cd_strlcpy(out->name, vm->name, sizeof(out->name));
	out->node = n->id;
	if (!n->paths) {
		out->gap = CD_VGAP_NODE;
		return true;
	}
	if (!owners_elsewhere(vm, n->name)) {
		out->gap = CD_VGAP_OWNERS;
		return true;
	}
	if (!run_dir)
		return false;
	k = cd_vm_disks_local(vm->xml ? vm->xml : "", run_dir, local, 1, err, sizeof(err));
	if (k < 0) {
		out->gap = CD_VGAP_BAD_XML;
		cd_strlcpy(out->detail, err, sizeof(out->detail));
		return true;
	}
	if (k > 0) {
		out->gap = CD_VGAP_LOCAL_DISK;
		cd_strlcpy(out->detail, local[0], sizeof(out->detail));
		return true;
	}
	return false;
}

/* The node whose death frees vm (its node; a move's target too), looked at in turn. */
static int add_vm(struct cd_failpath *f, const struct cd_vm *vm, uint32_t id, const char *run_dir)
{
	struct cd_failpath_node *n = find_node(f, id);
	struct cd_failpath_vm g;

	if (!n)
		return 0; /* known dead already: failover is under way */
	n->n_vms++;
	if (!vm_gap(vm, n, run_dir, &g))
		return 0;
	f->vms[f->n_vms++] = g;
	return 1;
}

int cd_failpath_compute(const struct cd_state *s, const char *run_dir, cd_failpath_lease_fn *held,
			void *ctx, struct cd_failpath *f)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	f->nodes = calloc(s->n_nodes ? s->n_nodes : 1, sizeof(*f->nodes));
	f->vms = calloc(s->n_vms ? s->n_vms : 1, sizeof(*f->vms));
	if (!f->nodes || !f->vms) {
		cd_failpath_free(f);
		return -ENOMEM;
	}
	for (i = 0; i < s->n_nodes; i++) {
		struct cd_failpath_node *fn = &f->nodes[f->n_nodes];

		if (s->nodes[i].dead)
			continue;
		fn->id = s->nodes[i].info.id;
		cd_strlcpy(fn->name, s->nodes[i].info.name, sizeof(fn->name));
		cd_failpath_node_paths(s, s->n_volumes > 0 && held && held(fn->id, ctx), fn);
		f->n_nodes++;
	}
	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *vm = s->vms[i];
		uint32_t id = vm->node;

		if (!id)
			continue;
		f->n_placed++;
		/* A move's target may die too: either end must be confirmable. */
		if (!add_vm(f, vm, id, run_dir) && vm->state == CD_VM_MIGRATING &&
		    vm->move.target && vm->move.target != id)
			add_vm(f, vm, vm->move.target, run_dir);
	}
	return 0;
}

void cd_failpath_free(struct cd_failpath *f)
{
	if (!f)
		return;
	free(f->nodes);
	free(f->vms);
	memset(f, 0, sizeof(*f));
}

const char *cd_death_gap_text(enum cd_death_gap g)
{
	switch (g) {
	case CD_GAP_NONE:
		return "can be confirmed dead";
	case CD_GAP_NEITHER:
		return "has no fence device and holds no volume host lease";
	case CD_GAP_NO_VOLUME:
		return "has no fence device and the cluster has no shared volume";
	case CD_GAP_FENCE_ONLY:
		return "has no fence device (failover-confirm=fence)";
	case CD_GAP_LEASE_ONLY:
		return "holds no volume host lease (failover-confirm=lease)";
	case CD_GAP_LEASE_NOVOL:
		return "cannot be confirmed dead: failover-confirm=lease and the cluster has no "
		       "shared volume";
	}
	return "?";
}

const char *cd_death_gap_fix(enum cd_death_gap g)
{
	switch (g) {
	case CD_GAP_NONE:
		return "";
	case CD_GAP_NEITHER:
		return "add a fence device that covers it ('clusterctl fence add'), or find why it "
		       "holds no host lease ('clusterctl volume show VOLUME' on it)";
	case CD_GAP_NO_VOLUME:
		return "add a fence device that covers it ('clusterctl fence add') or a shared "
		       "volume ('clusterctl volume add')";
	case CD_GAP_FENCE_ONLY:
		return "add a fence device that covers it, or allow the lease: 'clusterctl property "
		       "set failover-confirm lease,fence'";
	case CD_GAP_LEASE_ONLY:
		return "find why it holds no host lease, or allow fencing: 'clusterctl property set "
		       "failover-confirm lease,fence'";
	case CD_GAP_LEASE_NOVOL:
		return "add a shared volume ('clusterctl volume add'), or allow fencing: "
		       "'clusterctl property set failover-confirm lease,fence'";
	}
	return "";
}

const char *cd_vm_gap_to_str(enum cd_vm_gap g)
{
	switch (g) {
	case CD_VGAP_NODE:
		return "node";
	case CD_VGAP_LOCAL_DISK:
		return "local-disk";
	case CD_VGAP_OWNERS:
		return "possible-owners";
	case CD_VGAP_BAD_XML:
		return "disks-unreadable";
	}
	return "?";
}

const char *cd_death_gap_key(enum cd_death_gap g)
{
	switch (g) {
	case CD_GAP_NONE:
		return "none";
	case CD_GAP_NEITHER:
		return "no-fence-no-lease";
	case CD_GAP_NO_VOLUME:
		return "no-fence-no-volume";
	case CD_GAP_FENCE_ONLY:
		return "no-fence";
	case CD_GAP_LEASE_ONLY:
		return "no-lease";
	case CD_GAP_LEASE_NOVOL:
		return "no-volume";
	}
	return "?";
}

struct json_object *cd_failpath_to_json(const struct cd_failpath *f, size_t max_vms)
{
	struct json_object *o = json_object_new_object(), *vms = json_object_new_array();
	struct json_object *nodes = json_object_new_array();
	size_t i;

	for (i = 0; i < f->n_vms && i < max_vms; i++) {
		const struct cd_failpath_vm *v = &f->vms[i];
		const struct cd_failpath_node *n = cd_failpath_node(f, v->node);
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "vm", json_object_new_string(v->name));
		json_object_object_add(e, "node", json_object_new_string(n ? n->name : ""));
		json_object_object_add(e, "reason",
				       json_object_new_string(cd_vm_gap_to_str(v->gap)));
		if (v->detail[0])
			json_object_object_add(e, "detail", json_object_new_string(v->detail));
		json_object_array_add(vms, e);
	}
	for (i = 0; i < f->n_nodes; i++) {
		const struct cd_failpath_node *n = &f->nodes[i];
		struct json_object *e;

		if (n->paths)
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "node", json_object_new_string(n->name));
		json_object_object_add(e, "reason",
				       json_object_new_string(cd_death_gap_key(n->gap)));
		json_object_object_add(e, "text",
				       json_object_new_string(cd_death_gap_text(n->gap)));
		json_object_object_add(e, "vms", json_object_new_int64((int64_t)n->n_vms));
		json_object_array_add(nodes, e);
	}
	json_object_object_add(o, "no_failover_path", vms);
	json_object_object_add(o, "no_failover_path_count",
			       json_object_new_int64((int64_t)f->n_vms));
	json_object_object_add(o, "unconfirmable_nodes", nodes);
	return o;
}
