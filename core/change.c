#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/change.h"
#include "core/drain.h"
#include "core/fencedev.h"
#include "core/maint.h"
#include "core/node.h"
#include "core/props.h"
#include "core/state.h"
#include "lib/jsonget.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/*
 * Every change, in the order of enum cd_change (check_change holds each
 * kind to its name).
 *
 * Who may send a change. Every member applies every change, in the same
 * order, and must come to the same result: a change one member refuses and
 * another applies splits the state. So a rule on the sender (the CPG node
 * id of the member that multicast it, the same on every member) is enforced
 * only if every member decides it alike from the change and the replicated
 * state alone. Two are of that kind, and enforced (CD_SENDER_NODE): a node
 * speaks only for itself, so vm.report (what became of a VM it runs) and
 * volume.coordinator (that it holds the volume's metadata lease) must come
 * from the node their "node" field names; so must maintenance.hook (how the
 * hook of a scheduled maintenance went on the node being serviced), and
 * vm.import (a domain its libvirtd has, whose disk leases it took).
 *
 * The other senders are written down here but not enforced:
 *   - vm.place and node.dead come from the coordinator, which the sync
 *     round chooses (replica.c) and the state does not record; node.dead
 *     also from whatever member an admin runs "clusterctl node
 *     confirm-dead" on;
 *   - volume.done comes from the volume's coordinator, but a coordinator
 *     that hands the volume over after carrying out a request must still
 *     record its result, or the next one would carry it out again;
 *   - vm.identity comes from the VM's node, or from the coordinator for a
 *     VM that runs nowhere;
 *   - what an admin asks for comes from the member clusterctl talks to.
 *
 * Every change needs quorum: replica.c refuses any change in a partition
 * without it, whatever its op.
 */
static const struct cd_change_row rows[] = {
	/* name, apply, sender, quorum, admin */
	{"property.set", cd_state_op_property_set, CD_SENDER_ANY, true, true},
	{"property.delete", cd_state_op_property_delete, CD_SENDER_ANY, true, true},
	{"node.maintenance", cd_node_op_maintenance, CD_SENDER_ANY, true, true},
	{"node.remove", cd_node_op_remove, CD_SENDER_ANY, true, true},
	{"node.dead", cd_node_op_dead, CD_SENDER_DEAD_CONFIRM, true, true},
	{"node.quarantine", cd_node_op_quarantine, CD_SENDER_ANY, true, true},
	{"fence.add", cd_fencedev_op_add, CD_SENDER_ANY, true, true},
	{"fence.remove", cd_fencedev_op_remove, CD_SENDER_ANY, true, true},
	{"vm.add", cd_vm_op_add, CD_SENDER_ANY, true, true},
	{"vm.remove", cd_vm_op_remove, CD_SENDER_ANY, true, true},
	{"vm.start", cd_vm_op_start, CD_SENDER_ANY, true, true},
	{"vm.stop", cd_vm_op_stop, CD_SENDER_ANY, true, true},
	{"vm.set", cd_vm_op_set, CD_SENDER_ANY, true, true},
	{"vm.place", cd_vm_op_place, CD_SENDER_COORDINATOR, true, false},
	{"vm.report", cd_vm_op_report, CD_SENDER_NODE, true, false},
	{"vm.identity", cd_vm_op_identity, CD_SENDER_VM_IDENTITY, true, false},
	{"volume.add", cd_volume_op_add, CD_SENDER_ANY, true, true},
	{"volume.remove", cd_volume_op_remove, CD_SENDER_ANY, true, true},
	{"volume.request", cd_volume_op_request, CD_SENDER_ANY, true, true},
	{"volume.done", cd_volume_op_done, CD_SENDER_VOLUME_HOLDER, true, false},
	{"volume.coordinator", cd_volume_op_coordinator, CD_SENDER_NODE, true, false},
	{"vm.move", cd_vm_op_move, CD_SENDER_ANY, true, true},
	{"vm.move.step", cd_vm_op_move_step, CD_SENDER_NODE, true, false},
	{"vm.move.cancel", cd_vm_op_move_cancel, CD_SENDER_ANY, true, true},
	{"vm.restored", cd_vm_op_restored, CD_SENDER_NODE, true, false},
	{"node.drain", cd_node_op_drain, CD_SENDER_ANY, true, true},
	{"node.drain.end", cd_node_op_drain_end, CD_SENDER_COORDINATOR, true, false},
	{"node.drain.cancel", cd_node_op_drain_cancel, CD_SENDER_ANY, true, true},
	{"node.resume", cd_node_op_resume, CD_SENDER_ANY, true, true},
	{"maintenance.add", cd_maint_op_add, CD_SENDER_ANY, true, true},
	{"maintenance.remove", cd_maint_op_remove, CD_SENDER_ANY, true, true},
	{"maintenance.cancel", cd_maint_op_cancel, CD_SENDER_ANY, true, true},
	{"maintenance.run", cd_maint_op_run, CD_SENDER_ANY, true, true},
	{"maintenance.step", cd_maint_op_step, CD_SENDER_COORDINATOR, true, false},
	{"maintenance.hook", cd_maint_op_hook, CD_SENDER_NODE, true, false},
	{"vm.import", cd_vm_op_import, CD_SENDER_NODE, true, true},
};
_Static_assert(sizeof(rows) / sizeof(rows[0]) == CD_CHANGE_COUNT, "a row for every change");

const struct cd_change_row *cd_change_row(enum cd_change c)
{
	return (unsigned)c < CD_CHANGE_COUNT ? &rows[c] : NULL;
}

const char *cd_change_name(enum cd_change c)
{
	return (unsigned)c < CD_CHANGE_COUNT ? rows[c].name : NULL;
}

int cd_change_lookup(const char *op, enum cd_change *out)
{
	size_t i;

	for (i = 0; op && i < CD_CHANGE_COUNT; i++)
		if (strcmp(rows[i].name, op) == 0) {
			*out = (enum cd_change)i;
			return 0;
		}
	return CD_ERR_NOT_FOUND;
}

/* "node 2 (node2)", or "node 2" for a node s does not know. */
static const char *node_label(const struct cd_state *s, uint64_t id, char *buf, size_t len)
{
	const struct cd_node *n = id <= UINT32_MAX ? cd_state_node_by_id(s, (uint32_t)id) : NULL;

	if (n)
		snprintf(buf, len, "node %" PRIu64 " (%s)", id, n->info.name);
	else
		snprintf(buf, len, "node %" PRIu64, id);
	return buf;
}

int cd_change_check_sender(const struct cd_state *s, enum cd_change kind,
			   const struct json_object *c, uint32_t sender, char *err, size_t errlen)
{
	const struct cd_change_row *row = cd_change_row(kind);
	char named[96], by[96];
	uint64_t node;

	/* A change without a readable "node" is refused as malformed by its op. */
	if (!sender || !row || row->sender != CD_SENDER_NODE || cd_jget_u64(c, "node", &node) < 0 ||
	    node == sender)
		return 0;
	FAIL(CD_ERR_INVALID, "%s about %s sent by %s: only the node it names may send it",
	     row->name, node_label(s, node, named, sizeof(named)),
	     node_label(s, sender, by, sizeof(by)));
}

enum cd_change_scope cd_change_scope(const struct cd_state *s, const struct json_object *c,
				     const char **vm_name)
{
	const char *op = cd_jget_str(c, "op"), *name = cd_jget_str(c, "name");
	const struct cd_vm *vm;

	*vm_name = NULL;
	if (!op)
		return CD_SCOPE_ANY;
	if (!strcmp(op, "property.set") || !strcmp(op, "property.delete")) {
		const char *key = cd_jget_str(c, "key");

		return !key || cd_props_def(key) != NULL ? CD_SCOPE_ANY : CD_SCOPE_NONE;
	}
	if (!name)
		return CD_SCOPE_ANY;
	/* Only a VM stopped or failed on no node can be removed (cd_vm_op_remove()). */
	if (!strcmp(op, "vm.remove")) {
		*vm_name = name;
		return CD_SCOPE_VM;
	}
	if (!strcmp(op, "vm.add") || !strcmp(op, "vm.set")) {
		vm = cd_state_vm(s, name);
		if (!vm || vm->target_started || vm->state != CD_VM_STOPPED || vm->node != 0)
			return CD_SCOPE_ANY;
		*vm_name = name;
		return CD_SCOPE_VM;
	}
	return CD_SCOPE_ANY;
}

bool cd_change_needs_decision(const struct cd_state *s, const struct json_object *c)
{
	const char *name;

	return cd_change_scope(s, c, &name) == CD_SCOPE_ANY;
}
