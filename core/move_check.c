/*
 * The preflight of a move: every check, each reason reported (move_check.h).
 * The placement rules are the policy's (policy/fit.h); what is written here
 * is what only a move asks: the VM's state for the mode, its disks, the
 * target as the admin named it, and the facts the daemon brings.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/cpumodels.h"
#include "core/move_check.h"
#include "core/policy_adapter.h"
#include "core/vmdisks.h"
#include "lib/util.h"
#include "policy/fit.h"

static void add_item(struct cd_move_report *r, bool warning, enum cd_move_code code,
		     const char *node, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add_item(struct cd_move_report *r, bool warning, enum cd_move_code code,
		     const char *node, const char *fmt, ...)
{
	struct cd_move_item *it;
	va_list ap;

	if (warning ? r->n_warnings == CD_MOVE_WARNINGS_MAX
		    : r->n_failures == CD_MOVE_FAILURES_MAX) {
		r->n_dropped++;
		return;
	}
	it = warning ? &r->warnings[r->n_warnings++] : &r->failures[r->n_failures++];
	it->code = code;
	cd_strlcpy(it->node, node ? node : "", sizeof(it->node));
	va_start(ap, fmt);
	vsnprintf(it->text, sizeof(it->text), fmt, ap);
	va_end(ap);
}

#define FAIL(r, code, node, ...) add_item((r), false, (code), (node), __VA_ARGS__)
#define WARN(r, code, node, ...) add_item((r), true, (code), (node), __VA_ARGS__)

/* Whether a VM in state st is on its node (and so has one to leave). */
static bool on_node(enum cd_vm_state st)
{
	switch (st) {
	case CD_VM_STARTING:
	case CD_VM_RUNNING:
	case CD_VM_STOPPING:
	case CD_VM_MIGRATING:
		return true;
	case CD_VM_STOPPED:
	case CD_VM_FAILED:
		break;
	}
	return false;
}

/* A live or quick move takes a running VM; a cold one a running or stopped VM. */
static void check_vm_state(struct cd_move_report *r, const struct cd_vm *vm, enum cd_move_mode mode)
{
	const char *st = cd_vm_state_to_str(vm->state);

	if (vm->state == CD_VM_MIGRATING) {
		FAIL(r, CD_MOVE_VM_MOVING, NULL, "%s is moving already (from %s)", vm->name,
		     r->source[0] ? r->source : "?");
		return;
	}
	switch (mode) {
	case CD_MOVE_LIVE:
	case CD_MOVE_QUICK:
		if (vm->state != CD_VM_RUNNING)
			FAIL(r, CD_MOVE_VM_NOT_RUNNING, NULL,
			     "%s is %s: a %s move needs it running (a cold move takes it stopped)",
			     vm->name, st, cd_move_mode_to_str(mode));
		break;
	case CD_MOVE_COLD:
		if (vm->state != CD_VM_RUNNING && vm->state != CD_VM_STOPPED)
			FAIL(r, CD_MOVE_VM_BUSY, NULL,
			     "%s is %s: a cold move needs it running or stopped", vm->name, st);
		break;
	}
}

/* Every disk must be a csvfs file: any other exists on one node only. */
static void check_disks(struct cd_move_report *r, const struct cd_vm *vm, const char *run_dir)
{
	char local[CD_VM_DISKS_MAX][CD_VM_DISK_PATH_MAX + 1];
	struct cd_vm_disk shared[CD_VM_DISKS_MAX];
	const char *xml = vm->xml ? vm->xml : "";
	char err[CD_MOVE_TEXT_MAX - 64];
	int n, i;

	if (cd_vm_disks(xml, run_dir, shared, err, sizeof(err)) < 0)
		FAIL(r, CD_MOVE_DISKS_UNREADABLE, NULL, "%s's disks: %s", vm->name, err);
	n = cd_vm_disks_local(xml, run_dir, local, CD_VM_DISKS_MAX, err, sizeof(err));
	for (i = 0; i < n && i < CD_VM_DISKS_MAX; i++)
		FAIL(r, CD_MOVE_DISK_LOCAL, NULL,
		     "disk %s is not on a cluster shared volume: it is on %s only", local[i],
		     r->source[0] ? r->source : "one node");
	if (n > CD_VM_DISKS_MAX)
		FAIL(r, CD_MOVE_DISK_LOCAL, NULL, "and %d more disks not on a shared volume",
		     n - CD_VM_DISKS_MAX);
}

/* The policy's code for each rule a node breaks (fit.h), in the policy's order. */
static const enum cd_move_code rule_code[CD_EXCL__COUNT] = {
	[CD_EXCL_NODE_STATE] = CD_MOVE_NODE_STATE,
	[CD_EXCL_NOT_POSSIBLE] = CD_MOVE_NOT_POSSIBLE_OWNER,
	[CD_EXCL_CPU_MODEL] = CD_MOVE_CPU_MODEL,
	[CD_EXCL_FAILURES] = CD_MOVE_FAILURE_LIMIT,
	[CD_EXCL_ANTI_HARD] = CD_MOVE_ANTI_AFFINITY,
	[CD_EXCL_FEW_CORES] = CD_MOVE_CORES,
	[CD_EXCL_MEMORY] = CD_MOVE_MEMORY,
	[CD_EXCL_CORES] = CD_MOVE_CORES,
};

/*
 * Every rule f's node breaks for VM v. A node that is no member is said so
 * in the state's words (offline, fenced) rather than the policy's state,
 * which takes a node that left, not known dead, for quarantined.
 */
static void report_fit(struct cd_move_report *r, const struct cd_state *s,
		       const struct cd_policy_input *in, size_t v, const struct cd_policy_fit *f)
{
	const struct cd_node *n = cd_state_node_by_id(s, f->node);
	const char *name = in->nodes[f->idx].name;
	char text[CD_MOVE_TEXT_MAX];
	enum cd_policy_excl e;

	if (n && !n->member)
		FAIL(r, CD_MOVE_NOT_MEMBER, name, "%s is not a cluster member (%s)", name,
		     cd_node_state_to_str(cd_node_state(n)));
	for (e = CD_EXCL_NODE_STATE; e <= CD_EXCL_CORES; e++) {
		if (!(f->fails & CD_POLICY_EXCL_BIT(e)) ||
		    (e == CD_EXCL_NODE_STATE && n && !n->member))
			continue;
		cd_policy_fit_text(in, v, f, e, text, sizeof(text));
		FAIL(r, rule_code[e], name, "%s", text);
	}
	if (f->soft_clash) {
		cd_policy_fit_text(in, v, f, CD_EXCL_ANTI_SOFT, text, sizeof(text));
		WARN(r, CD_MOVE_SOFT_ANTI_AFFINITY, name, "%s", text);
	}
}

/*
 * A cold move restarts the VM: it needs of the target the CPU it needs to
 * start anywhere, not the model of the node it runs on.
 */
static void cold_cpu(struct cd_policy_vm *p, const struct cd_vm *vm)
{
	struct cd_vm_cpu cpu;
	char err[128];

	if (cd_vm_cpu_read(vm->xml ? vm->xml : "", &cpu, err, sizeof(err)) == 0) {
		cpu.baseline = vm->cpu_baseline;
		cd_strlcpy(p->cpu_model, cd_vm_cpu_need(&cpu, NULL), sizeof(p->cpu_model));
	}
}

/* Placement's choice among the nodes but the source, or every node's reasons. */
static int choose_target(struct cd_move_report *r, const struct cd_state *s,
			 const struct cd_policy_input *in, size_t v)
{
	struct cd_policy_pick *pick = malloc(sizeof(*pick));
	size_t i;
	int rc;

	if (!pick)
		return -ENOMEM;
	rc = cd_policy_pick_node(in, v, r->source_id, pick, r->error, sizeof(r->error));
	if (rc)
		goto out_free;
	if (!pick->node) {
		FAIL(r, CD_MOVE_NO_TARGET, NULL, "no other node fits %s", r->vm);
		for (i = 0; i < pick->n_fits; i++)
			report_fit(r, s, in, v, &pick->fits[i]);
		goto out_free;
	}
	r->target_chosen = true;
	r->target_id = pick->node;
	cd_strlcpy(r->target, in->nodes[pick->idx].name, sizeof(r->target));
	cd_policy_pick_text(in, v, pick, r->target_why, sizeof(r->target_why));
	for (i = 0; i < pick->n_fits; i++)
		if (pick->fits[i].node == pick->node)
			report_fit(r, s, in, v, &pick->fits[i]);
out_free:
	free(pick);
	return rc;
}

/* The target named: it exists, is not the source, and passes every rule. */
static int check_named(struct cd_move_report *r, const struct cd_state *s,
		       const struct cd_policy_input *in, size_t v, const struct cd_node *n)
{
	struct cd_policy_fit f;
	int rc;

	if (n->info.id == r->source_id) {
		FAIL(r, CD_MOVE_TARGET_IS_SOURCE, r->target, "%s runs on %s already", r->vm,
		     r->target);
		return 0;
	}
	rc = cd_policy_fit_node(in, v, n->info.id, &f, r->error, sizeof(r->error));
	if (rc == 0)
		report_fit(r, s, in, v, &f);
	return rc;
}

static int check_target(struct cd_move_report *r, const struct cd_state *s, const struct cd_vm *vm,
			const char *target, enum cd_move_mode mode)
{
	struct cd_policy_input in;
	const struct cd_node *n = NULL;
	size_t v;
	int rc;

	if (target) {
		n = cd_state_node_by_name(s, target);
		cd_strlcpy(r->target, target, sizeof(r->target));
		if (!n) {
			FAIL(r, CD_MOVE_NO_NODE, target, "no node named %s", target);
			return 0;
		}
		r->target_id = n->info.id;
		if (!vm && !n->member)
			FAIL(r, CD_MOVE_NOT_MEMBER, target, "%s is not a cluster member (%s)",
			     target, cd_node_state_to_str(cd_node_state(n)));
	}
	if (!vm)
		return 0;
	rc = cd_policy_adapter_input(s, &in);
	if (rc) {
		snprintf(r->error, sizeof(r->error), "%s", cd_strerror(rc));
		return rc;
	}
	/* The adapter keeps the state's order of VMs. */
	v = cd_state_vm_index(s, vm->name);
	if (mode == CD_MOVE_COLD)
		cold_cpu((struct cd_policy_vm *)&in.vms[v], vm);
	rc = n ? check_named(r, s, &in, v, n) : choose_target(r, s, &in, v);
	cd_policy_adapter_input_free(&in);
	return rc;
}

/* What the daemon learnt from the target's libvirt. */
static void report_facts(struct cd_move_report *r, const struct cd_move_facts *facts)
{
	const char *t = r->target[0] ? r->target : "the target";
	size_t i;

	if (facts->cpu_compatible == CD_MOVE_CPU_NO)
		FAIL(r, CD_MOVE_CPU_INCOMPATIBLE, r->target, "%s cannot run %s's CPU%s%s", t, r->vm,
		     facts->cpu_text ? ": " : "", facts->cpu_text ? facts->cpu_text : "");
	for (i = 0; i < facts->n_missing_bridges; i++)
		FAIL(r, CD_MOVE_BRIDGE_MISSING, r->target, "%s has no bridge %s", t,
		     facts->missing_bridges[i]);
	for (i = 0; i < facts->n_missing_disks; i++)
		FAIL(r, CD_MOVE_DISK_MISSING, r->target, "%s cannot reach disk %s", t,
		     facts->missing_disks[i]);
}

int cd_move_preflight(const struct cd_state *s, const char *vm_name, const char *target,
		      enum cd_move_mode mode, const struct cd_move_facts *facts,
		      struct cd_move_report *out)
{
	const struct cd_vm *vm = cd_state_vm(s, vm_name);
	const struct cd_node *src = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	cd_strlcpy(out->vm, vm_name, sizeof(out->vm));
	out->mode = mode;
	if (!facts->quorate)
		FAIL(out, CD_MOVE_NOT_QUORATE, NULL,
		     "this node's partition has no quorum: nothing may move");
	if (!vm)
		FAIL(out, CD_MOVE_NO_VM, NULL, "no VM named %s", vm_name);
	if (vm && vm->node && on_node(vm->state))
		src = cd_state_node_by_id(s, vm->node);
	if (src) {
		out->source_id = src->info.id;
		cd_strlcpy(out->source, src->info.name, sizeof(out->source));
	}
	if (vm) {
		check_vm_state(out, vm, mode);
		check_disks(out, vm, facts->csvfs_run_dir);
	}
	rc = check_target(out, s, vm, target, mode);
	report_facts(out, facts);
	return rc;
}

bool cd_move_report_ok(const struct cd_move_report *r)
{
	return r->target_id != 0 && r->n_failures == 0;
}
