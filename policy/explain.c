/*
 * Explanations: a VM's record from cd_policy_decide() in words, for
 * `clusterctl vm explain` and for the log line of every action. Nothing is
 * worked out again here; the words only read what decide recorded, so the
 * explanation cannot drift from the decision.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "policy/policy.h"

struct sbuf {
	char *p;
	size_t len, off;
};

static void add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->off >= b->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->off, b->len - b->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->off += (size_t)n;
}

/* "is offline", "is in maintenance": how a node's state reads in a sentence. */
static const char *node_state_phrase(const struct cd_policy_input *in, uint32_t id)
{
	const struct cd_policy_node *n = cd_policy_node_by_id(in, id);

	if (!n)
		return "unknown";
	if (n->state == CD_PNODE_MAINTENANCE)
		return "in maintenance";
	return cd_policy_enum_str(CD_PENUM_NODE_STATE, (int)n->state);
}

/* "1", "1.5", "0.125": a ratio in thousandths as an admin writes it. */
static void add_milli(struct sbuf *b, uint32_t milli)
{
	uint32_t frac = milli % 1000, places = 3;

	add(b, "%u", milli / 1000);
	if (!frac)
		return;
	for (; frac % 10 == 0; frac /= 10)
		places--;
	add(b, ".%0*u", (int)places, frac);
}

/* ": it has 2 cores, 8 vCPUs at 4 per core, 7 in use": the limit that binds. */
static void add_vcpus(struct sbuf *b, const struct cd_policy_input *in,
		      const struct cd_policy_node *node, const struct cd_policy_note *n)
{
	unsigned long long cap = cd_policy_vcpu_cap(in, node);

	add(b, ": it has %u core%s, %llu vCPU%s at ", node->cores, node->cores == 1 ? "" : "s", cap,
	    cap == 1 ? "" : "s");
	add_milli(b, cd_policy_cpu_overcommit(in));
	add(b, " per core, %u in use", n->used_vcpus);
}

/* "node2 lacks memory (needs 1024 MiB, 512 free)": why node n->node was passed over. */
static void add_excl(struct sbuf *b, const struct cd_policy_input *in,
		     const struct cd_policy_vm *vm, const struct cd_policy_note *n)
{
	const struct cd_policy_node *node = &in->nodes[n->node];
	unsigned long long need = vm->memory_mb, have = n->free_memory_mb;

	add(b, "%s ", node->name);
	switch ((enum cd_policy_excl)n->excl) {
	case CD_EXCL_NONE:
		add(b, "fits");
		break;
	case CD_EXCL_NODE_STATE:
		add(b, "is %s", node_state_phrase(in, node->id));
		break;
	case CD_EXCL_NOT_POSSIBLE:
		add(b, "is not a possible owner");
		break;
	case CD_EXCL_CPU_MODEL:
		add(b, "does not support CPU model %s", vm->cpu_model);
		break;
	case CD_EXCL_FAILURES:
		add(b, "is where it failed %u times (limit %u)", vm->failures, vm->failure_limit);
		break;
	case CD_EXCL_ANTI_HARD:
		add(b, "already runs a VM of class %s (hard anti-affinity)", vm->anti_class);
		break;
	case CD_EXCL_FEW_CORES:
		add(b, "has %u core%s, fewer than the VM's %u vCPU%s", node->cores,
		    node->cores == 1 ? "" : "s", vm->vcpus, vm->vcpus == 1 ? "" : "s");
		break;
	case CD_EXCL_MEMORY:
		add(b, "lacks memory (needs %llu MiB, %llu free)", need, have);
		break;
	case CD_EXCL_CORES:
		add(b, "lacks vCPUs (needs %u, %u free)", vm->vcpus, n->free_vcpus);
		add_vcpus(b, in, node, n);
		break;
	case CD_EXCL_MEMORY_CORES:
		add(b, "lacks memory (needs %llu MiB, %llu free) and vCPUs (needs %u, %u free)",
		    need, have, vm->vcpus, n->free_vcpus);
		add_vcpus(b, in, node, n);
		break;
	case CD_EXCL_ANTI_SOFT:
		add(b, "runs a VM of class %s (soft anti-affinity: avoided)", vm->anti_class);
		break;
	case CD_EXCL__COUNT:
		break;
	}
}

static void add_note(struct sbuf *b, const struct cd_policy_input *in,
		     const struct cd_policy_vm *vm, const struct cd_policy_note *n)
{
	add(b, "; ");
	add_excl(b, in, vm, n);
}

void cd_policy_note_text(const struct cd_policy_input *in, const struct cd_policy_vm *vm,
			 const struct cd_policy_note *n, char *buf, size_t len)
{
	struct sbuf b = {buf, len, 0};

	if (len == 0)
		return;
	buf[0] = '\0';
	add_excl(&b, in, vm, n);
}

/* 1-based rank of node id among vm's preferred owners; past the end if absent. */
static uint32_t rank_of(const struct cd_policy_vm *vm, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < vm->n_preferred; i++)
		if (vm->preferred[i] == id)
			return i + 1;
	return vm->n_preferred + 1;
}

/*
 * The notes of nodes passed over. With max_rank set, only those of preferred
 * owners ranked before it: the others played no part in the choice.
 */
static void add_notes(struct sbuf *b, const struct cd_policy_input *in,
		      const struct cd_policy_result *res, size_t v, uint32_t max_rank)
{
	const struct cd_policy_vm_result *r = &res->vms[v];
	uint32_t i;

	for (i = 0; i < r->n_notes; i++) {
		const struct cd_policy_note *n = &res->notes[r->notes + i];

		if (max_rank && rank_of(&in->vms[v], in->nodes[n->node].id) >= max_rank)
			continue;
		add_note(b, in, &in->vms[v], n);
	}
}

static void add_hhmm(struct sbuf *b, unsigned int minute)
{
	add(b, "%02u:%02u", minute / 60, minute % 60);
}

static void add_window(struct sbuf *b, const struct cd_policy_vm *vm, const char *prefix)
{
	add(b, "%s", prefix);
	add_hhmm(b, vm->failback.start);
	add(b, "-");
	add_hhmm(b, vm->failback.end);
}

static void add_soft_shared(struct sbuf *b, const struct cd_policy_input *in,
			    const struct cd_policy_result *res, size_t v)
{
	if (res->vms[v].soft_shared)
		add(b, "; every node that fits runs a VM of class %s (soft anti-affinity: shared)",
		    in->vms[v].anti_class);
}

static void add_failback(struct sbuf *b, const struct cd_policy_input *in,
			 const struct cd_policy_result *res, size_t v)
{
	const struct cd_policy_vm *vm = &in->vms[v];

	switch (res->vms[v].fb) {
	case CD_FB_NONE:
		break;
	case CD_FB_NEVER:
		add(b,
		    "; it is not on its first preferred owner, but its failback policy is never");
		break;
	case CD_FB_OUTSIDE:
	case CD_FB_NO_TIME:
		add_window(b, vm, "; failback waits for the window ");
		if (res->vms[v].fb == CD_FB_NO_TIME) {
			add(b, " (the time of day is unknown)");
			break;
		}
		add(b, " (now ");
		add_hhmm(b, (unsigned int)in->now_minute);
		add(b, ")");
		break;
	case CD_FB_NO_ROOM:
		add(b, "; no more preferred owner can take it back");
		add_notes(b, in, res, v, 0);
		break;
	case CD_FB__COUNT:
		break;
	}
}

/* "(node3, where it ran, is lost)" for a VM whose node died. */
static void add_was_on(struct sbuf *b, const struct cd_policy_input *in, uint32_t was_on)
{
	if (was_on)
		add(b, " (%s, where it ran, is %s)", cd_policy_node_name(in, was_on),
		    node_state_phrase(in, was_on));
}

void cd_policy_explain_vm(const struct cd_policy_input *in, const struct cd_policy_result *res,
			  size_t v, char *buf, size_t len)
{
	const struct cd_policy_vm *vm = &in->vms[v];
	const struct cd_policy_vm_result *r = &res->vms[v];
	struct sbuf b = {buf, len, 0};

	if (len == 0)
		return;
	buf[0] = '\0';
	add(&b, "%s ", vm->name);
	switch (r->why) {
	case CD_WHY_STAYS:
		add(&b, "runs on %s and stays there: running VMs are not moved",
		    cd_policy_node_name(in, r->node));
		add_failback(&b, in, res, v);
		break;
	case CD_WHY_BUSY:
		add(&b, "is %s %s %s; placement leaves it alone until that ends",
		    cd_policy_enum_str(CD_PENUM_VM_STATE, (int)vm->state),
		    vm->state == CD_PVM_MIGRATING ? "from" : "on",
		    cd_policy_node_name(in, r->node));
		break;
	case CD_WHY_STOPPED:
		add(&b, "is not running: its target is stopped");
		add_was_on(&b, in, r->was_on);
		break;
	case CD_WHY_STOP:
		add(&b, "is to stop on %s: its target is stopped",
		    cd_policy_node_name(in, r->from));
		break;
	case CD_WHY_NO_AUTO_START:
		add(&b, "is not running: its priority is no-auto-start and no admin started it");
		add_was_on(&b, in, r->was_on);
		break;
	case CD_WHY_PREFERRED:
		add(&b, "is to start on %s", cd_policy_node_name(in, r->node));
		add_was_on(&b, in, r->was_on);
		add(&b, ": preferred owner %u of %u", r->rank, vm->n_preferred);
		add_soft_shared(&b, in, res, v);
		add_notes(&b, in, res, v, r->rank);
		break;
	case CD_WHY_MOST_FREE:
		add(&b, "is to start on %s", cd_policy_node_name(in, r->node));
		add_was_on(&b, in, r->was_on);
		add(&b, ": %s%s has the most free memory of the nodes that fit",
		    vm->n_preferred ? "no preferred owner can take it, and " : "",
		    cd_policy_node_name(in, r->node));
		add_soft_shared(&b, in, res, v);
		add_notes(&b, in, res, v, 0);
		break;
	case CD_WHY_RESTART:
		add(&b,
		    "is to restart on %s, where it failed (%u of %u failures allowed there "
		    "this period)",
		    cd_policy_node_name(in, r->node), vm->failures, vm->failure_limit);
		add_notes(&b, in, res, v, 0);
		break;
	case CD_WHY_UNPLACED:
		add(&b, "is not running");
		add_was_on(&b, in, r->was_on);
		if (in->n_nodes == 0)
			add(&b, ": the cluster has no nodes");
		else
			add(&b, ": no node fits (%s)",
			    cd_policy_enum_str(CD_PENUM_UNPLACED, (int)r->unplaced));
		add_notes(&b, in, res, v, 0);
		break;
	case CD_WHY_FAILBACK:
		add(&b, "is to migrate from %s back to %s: preferred owner %u of %u, failback ",
		    cd_policy_node_name(in, r->from), cd_policy_node_name(in, r->node), r->rank,
		    vm->n_preferred);
		if (vm->failback.mode == CD_PFAILBACK_WINDOW)
			add_window(&b, vm, "in the window ");
		else
			add(&b, "%s",
			    cd_policy_enum_str(CD_PENUM_FAILBACK, (int)vm->failback.mode));
		add_notes(&b, in, res, v, 0);
		break;
	case CD_WHY__COUNT:
		break;
	}
}

int cd_policy_explain(const struct cd_policy_input *in, const char *vm_name, char *buf, size_t len)
{
	struct cd_policy_result res;
	size_t v;
	int rc;

	rc = cd_policy_decide(in, &res);
	if (rc) {
		snprintf(buf, len, "%s", res.error[0] ? res.error : cd_strerror(rc));
		return rc;
	}
	rc = CD_ERR_NOT_FOUND;
	for (v = 0; v < in->n_vms; v++)
		if (strcmp(in->vms[v].name, vm_name) == 0) {
			cd_policy_explain_vm(in, &res, v, buf, len);
			rc = 0;
			break;
		}
	if (rc)
		snprintf(buf, len, "no VM named %s", vm_name);
	cd_policy_result_free(&res);
	return rc;
}

int cd_policy_explain_start(const struct cd_policy_input *in, const char *vm_name, char *buf,
			    size_t len)
{
	struct cd_policy_input what_if = *in;
	struct cd_policy_vm *vms;
	size_t v;
	int rc;

	vms = malloc((in->n_vms ? in->n_vms : 1) * sizeof(*vms));
	if (!vms) {
		snprintf(buf, len, "out of memory");
		return -ENOMEM;
	}
	if (in->n_vms)
		memcpy(vms, in->vms, in->n_vms * sizeof(*vms));
	for (v = 0; v < in->n_vms; v++)
		if (strcmp(vms[v].name, vm_name) == 0) {
			vms[v].target = CD_TARGET_STARTED;
			vms[v].admin_start = true;
		}
	what_if.vms = vms;
	rc = cd_policy_explain(&what_if, vm_name, buf, len);
	free(vms);
	return rc;
}
