/*
 * The changes that drive a VM's lifecycle from outside it: an admin's
 * start and stop, the coordinator's placement, its node's reports. Each
 * reads its change and hands the event to the lifecycle's table
 * (vm_lifecycle.c: cd_vm_transition).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/node.h"
#include "core/state.h"
#include "core/vm.h"
#include "core/vm_internal.h"
#include "core/volume.h"
#include "lib/jsonget.h"
#include "lib/util.h"

#define FAIL CD_FAIL

int cd_vm_op_start(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_vm *vm;

	NAMED_VM(vm);
	return cd_vm_transition(s, vm, CD_VM_EV_START, NULL, err, errlen);
}

int cd_vm_op_stop(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_vm_event_args a = {.force = cd_jget_bool_or(c, "force", false),
				     .save = cd_jget_bool_or(c, "save", false),
				     .resume = cd_jget_bool_or(c, "resume", false),
				     .volume = cd_jget_str(c, "state_volume"),
				     .file = cd_jget_str(c, "state_file")};
	struct cd_vm *vm;

	NAMED_VM(vm);
	if (a.save) {
		if (vm->state != CD_VM_RUNNING)
			FAIL(CD_ERR_INVALID, "VM '%s' is %s: only a running VM is saved", vm->name,
			     cd_vm_state_to_str(vm->state));
		if (!a.volume || !cd_state_volume(s, a.volume) || !a.file || !*a.file ||
		    strlen(a.file) >= 64)
			FAIL(CD_ERR_INVALID, "a save of '%s' needs a state file on a volume",
			     vm->name);
	} else if (a.resume) {
		FAIL(CD_ERR_INVALID, "only a save of '%s' may keep it wanted running", vm->name);
	}
	return cd_vm_transition(s, vm, CD_VM_EV_STOP, &a, err, errlen);
}

int cd_vm_op_place(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_vm_event_args a = {0};
	struct cd_vm *vm;
	uint64_t node;
	const struct cd_node *n;

	NAMED_VM(vm);
	if (cd_jget_u64(c, "node", &node) < 0 || node > UINT32_MAX ||
	    !(n = cd_state_node_by_id(s, (uint32_t)node)))
		FAIL(CD_ERR_INVALID, "placement of '%s' names no known node", vm->name);
	if (!n->member || n->maintenance)
		FAIL(CD_ERR_INVALID, "node %s cannot take '%s' now", n->info.name, vm->name);
	if (!vm->target_started)
		FAIL(CD_ERR_INVALID, "VM '%s' is not to be started", vm->name);
	a.node = (uint32_t)node;
	return cd_vm_transition(s, vm, CD_VM_EV_PLACE, &a, err, errlen);
}

/* The event a report's result is: "moved" or a state's name; -1 for none. */
static int report_event(const char *result)
{
	enum cd_vm_state got;

	if (result && strcmp(result, "moved") == 0)
		return CD_VM_EV_REPORT_MOVED;
	if (result && strcmp(result, "saved") == 0)
		return CD_VM_EV_REPORT_SAVED;
	if (cd_vm_state_from_str(result, &got) < 0)
		return -1;
	switch (got) {
	case CD_VM_RUNNING:
		return CD_VM_EV_REPORT_RUNNING;
	case CD_VM_STOPPED:
		return CD_VM_EV_REPORT_STOPPED;
	case CD_VM_FAILED:
		return CD_VM_EV_REPORT_FAILED;
	case CD_VM_STARTING:
	case CD_VM_STOPPING:
	case CD_VM_MIGRATING:
		break;
	}
	return CD_VM_EV_REPORT_OTHER;
}

/*
 * A node reports on a VM it owns. action_id is the action it carried out, or
 * 0 for what its monitor found. A report about anything but the VM's current
 * action on its current node is stale, and refused alike everywhere.
 */
int cd_vm_op_report(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *result = cd_jget_str(c, "result");
	struct cd_vm_event_args a = {.error = cd_jget_str(c, "error")};
	uint64_t node, action;
	int ev;
	char old_error[CD_VM_ERROR_MAX + 1];
	struct cd_vm_saved sv;
	struct cd_vm *vm;
	int rc;

	NAMED_VM(vm);
	if (cd_jget_u64(c, "node", &node) < 0 || cd_jget_u64(c, "action_id", &action) < 0 ||
	    (ev = report_event(result)) < 0)
		FAIL(CD_ERR_INVALID, "malformed report on '%s'", vm->name);
	cd_jget_u64(c, "wall_ms", &a.wall_ms);
	cd_jget_u64(c, "downtime_ms", &a.downtime_ms);
	cd_jget_u64(c, "total_ms", &a.total_ms);
	cd_jget_u64(c, "rate_mib_s", &a.rate_mib_s);
	a.dirty_measured = cd_jget_u64(c, "dirty_mib_s", &a.dirty_mib_s) == 0;
	if (ev == CD_VM_EV_REPORT_SAVED) {
		struct json_object *o;

		if (!json_object_object_get_ex(c, "saved", &o) || cd_vm_saved_from_json(&sv, o) < 0)
			FAIL(CD_ERR_INVALID, "report saved on '%s' without its image", vm->name);
		a.saved = &sv;
	}
	if (node != vm->node || (action && action != vm->action_id))
		FAIL(CD_ERR_INVALID, "stale report on '%s' from node %" PRIu64, vm->name, node);
	a.node = (uint32_t)node;
	/*
	 * The report's error is the VM's before the table is asked (its rows
	 * may clear it); a report the table refuses changes nothing, its error
	 * included: a refused change that left a trace would differ from the
	 * state on disk and in the checksum.
	 */
	if (a.error) {
		cd_strlcpy(old_error, vm->last_error, sizeof(old_error));
		cd_strlcpy(vm->last_error, a.error, sizeof(vm->last_error));
	}
	rc = cd_vm_transition(s, vm, (enum cd_vm_event)ev, &a, err, errlen);
	if (rc < 0 && a.error)
		cd_strlcpy(vm->last_error, old_error, sizeof(vm->last_error));
	return rc;
}

/*
 * vm.import {name, xml, vcpus, memory_mb, node, running}: a domain of the
 * libvirtd of node becomes a cluster VM, checked as vm.add checks a new one
 * (name, XML, a UUID and MACs of its own). A domain that runs there is
 * adopted where it runs (its node sends this once it holds the disk
 * leases): running on node, wanted running, never restarted. Otherwise it
 * is added stopped. All or nothing: a VM added and then refused its
 * adoption is removed again before the change returns.
 */
int cd_vm_op_import(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	bool running = cd_jget_bool_or(c, "running", false);
	struct cd_vm_event_args a = {0};
	const struct cd_node *n;
	struct cd_vm *vm;
	uint64_t node;
	char why[256];
	int rc;

	if (cd_jget_u64(c, "node", &node) < 0 || node == 0 || node > UINT32_MAX ||
	    !(n = cd_state_node_by_id(s, (uint32_t)node)))
		FAIL(CD_ERR_INVALID, "an import names no known node");
	if (running && (!n->member || n->maintenance))
		FAIL(CD_ERR_INVALID, "node %s cannot take a running VM now (%s)", n->info.name,
		     !n->member ? "not a member" : "in maintenance");
	if ((rc = cd_vm_op_add(s, c, err, errlen)) < 0 || !running)
		return rc;
	vm = cd_state_vm_mut(s, cd_jget_str(c, "name"));
	a.node = (uint32_t)node;
	rc = vm ? cd_vm_transition(s, vm, CD_VM_EV_ADOPT, &a, err, errlen) : CD_ERR_NOT_FOUND;
	if (rc < 0) {
		/* Added but not adopted: undone, so that a refusal changes nothing. */
		if (!vm)
			snprintf(err, errlen, "the imported VM is gone");
		cd_vm_op_remove(s, c, why, sizeof(why));
	}
	return rc;
}
