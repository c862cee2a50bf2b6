/* A VM on a lost node: what status tells of it (lostnode.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/lostnode.h"
#include "core/props.h"
#include "lib/util.h"

/* Whole seconds, rounded up: "about 1 s" rather than "about 0 s". */
static unsigned long long secs(uint64_t ms)
{
	return (unsigned long long)((ms + 999) / 1000);
}

/* The failover grace left since n left (all of it if the state has not recorded that yet). */
static uint64_t grace_left(const struct cd_state *s, const struct cd_node *n, uint64_t now)
{
	uint64_t grace = cd_props_get(s, CD_PROPS_FAILOVER_GRACE_MS);

	if (!grace || !now)
		return 0;
	if (n->member)
		return grace;
	return now < n->left_ms + grace ? n->left_ms + grace - now : 0;
}

/*
 * What the volumes say of the node: 1 dead, 0 not yet, -1 they cannot tell
 * (deadrule.h); for 0, the slots still to expire and the last of them.
 */
static int lease_watch(const struct cd_lost_view *v, struct cd_node_lost *out)
{
	enum cd_slot_seen seen[CD_MAX_VOLUMES];
	size_t i, n = v->n_slots < CD_MAX_VOLUMES ? v->n_slots : CD_MAX_VOLUMES;
	int rule;

	for (i = 0; i < n; i++)
		seen[i] = v->slots[i].seen;
	rule = cd_host_dead_rule(seen, n);
	if (rule != 0)
		return rule;
	for (i = 0; i < n; i++) {
		const struct cd_slot_view *sv = &v->slots[i];

		if (sv->seen != CD_SLOT_ALIVE && sv->seen != CD_SLOT_UNKNOWN)
			continue;
		if (!out->lease_pending++ || sv->expires_in_ms > out->lease_in_ms) {
			out->lease_in_ms = sv->expires_in_ms;
			cd_strlcpy(out->lease_volume, sv->volume, sizeof(out->lease_volume));
		}
	}
	return 0;
}

/* "node1's host lease on vol1 to expire (about 7 s)" at p, n bytes. */
static void lease_text(const struct cd_node_lost *l, char *p, size_t n)
{
	int k;

	if (l->lease_pending > 1)
		k = snprintf(p, n, "%s's host leases on %s and %zu other volume%s to expire",
			     l->node, l->lease_volume, l->lease_pending - 1,
			     l->lease_pending == 2 ? "" : "s");
	else
		k = snprintf(p, n, "%s's host lease on %s to expire", l->node, l->lease_volume);
	if (k > 0 && (size_t)k < n && l->lease_in_ms)
		snprintf(p + k, n - (size_t)k, " (about %llu s)", secs(l->lease_in_ms));
}

/* The last of what the cluster waits for: what confirms the node dead. */
static void confirm_text(const struct cd_node_lost *l, char *p, size_t n)
{
	size_t k;

	if (l->lease_expired) {
		snprintf(p, n, "the coordinator to record %s dead (its host leases expired)",
			 l->node);
		return;
	}
	switch (l->paths & (CD_DEATH_LEASE | CD_DEATH_FENCE)) {
	case CD_DEATH_LEASE | CD_DEATH_FENCE:
		lease_text(l, p, n);
		k = strlen(p);
		snprintf(p + k, n - k, " or %s to be fenced by %s", l->node, l->fence_device);
		break;
	case CD_DEATH_LEASE:
		lease_text(l, p, n);
		break;
	case CD_DEATH_FENCE:
		snprintf(p, n, "%s to be fenced by %s", l->node, l->fence_device);
		break;
	default:
		snprintf(p, n, "an admin: clusterctl node confirm-dead %s (%s %s)", l->node,
			 l->node, cd_death_gap_text(l->gap));
		break;
	}
}

static void waits_text(struct cd_node_lost *l)
{
	char *p = l->waits_for;
	size_t n = sizeof(l->waits_for);
	int k = 0;

	if (!l->quorate)
		k = snprintf(p, n, "quorum (this node's partition has none), then ");
	if (k >= 0 && (size_t)k < n && l->grace_left_ms)
		k += snprintf(p + k, n - (size_t)k, "the failover grace (about %llu s), then ",
			      secs(l->grace_left_ms));
	if (k >= 0 && (size_t)k < n)
		confirm_text(l, p + k, n - (size_t)k);
}

void cd_node_lost_eval(const struct cd_state *s, const struct cd_node *n,
		       const struct cd_lost_view *v, struct cd_node_lost *out)
{
	struct cd_failpath_node fn;
	const struct cd_fencedev *d;
	int rule;

	memset(out, 0, sizeof(*out));
	cd_strlcpy(out->node, n->info.name, sizeof(out->node));
	out->quorate = v->quorate;
	if (n->dead || (n->member && v->member))
		return;
	out->lost = true;
	out->grace_left_ms = grace_left(s, n, v->now_ms);
	rule = lease_watch(v, out);
	memset(&fn, 0, sizeof(fn));
	fn.id = n->info.id;
	cd_strlcpy(fn.name, n->info.name, sizeof(fn.name));
	cd_failpath_node_paths(s, rule >= 0, &fn);
	out->paths = fn.paths;
	out->gap = fn.gap;
	if (out->paths & CD_DEATH_LEASE) {
		out->lease_expired = rule > 0;
	} else {
		/* Watched or not, the leases do not count: failover-confirm says so. */
		out->lease_volume[0] = '\0';
		out->lease_pending = 0;
		out->lease_in_ms = 0;
	}
	if ((out->paths & CD_DEATH_FENCE) && (d = cd_failpath_fencedev(s, n->info.name)))
		cd_strlcpy(out->fence_device, d->name, sizeof(out->fence_device));
	waits_text(out);
}

/* The states in which a VM is on its node, and may be running there. */
static bool on_its_node(const struct cd_vm *vm)
{
	switch (vm->state) {
	case CD_VM_STARTING:
	case CD_VM_RUNNING:
	case CD_VM_STOPPING:
	case CD_VM_FAILED:
	case CD_VM_MIGRATING:
		return vm->node != 0;
	case CD_VM_STOPPED:
		return false;
	}
	return false;
}

/* n's verdict: what view says of it, over the state's member flag and quorum. */
static void node_lost(const struct cd_state *s, const struct cd_node *n, cd_lost_view_fn *view,
		      void *ctx, struct cd_node_lost *out)
{
	struct cd_lost_view v;

	memset(&v, 0, sizeof(v));
	v.member = n->member;
	v.quorate = true;
	if (view)
		view(n->info.id, &v, ctx);
	cd_node_lost_eval(s, n, &v, out);
}

static const struct cd_node *placed_on(const struct cd_state *s, const struct cd_vm *vm)
{
	return on_its_node(vm) ? cd_state_node_by_id(s, vm->node) : NULL;
}

bool cd_vm_lost(const struct cd_state *s, const struct cd_vm *vm, cd_lost_view_fn *view, void *ctx,
		struct cd_node_lost *out)
{
	const struct cd_node *n = placed_on(s, vm);

	memset(out, 0, sizeof(*out));
	if (!n)
		return false;
	node_lost(s, n, view, ctx, out);
	return out->lost;
}

void cd_lost_table_init(struct cd_lost_table *t, const struct cd_state *s, cd_lost_view_fn *view,
			void *ctx)
{
	t->s = s;
	t->view = view;
	t->ctx = ctx;
	t->e = s->n_nodes ? calloc(s->n_nodes, sizeof(*t->e)) : NULL;
}

bool cd_lost_table_vm(struct cd_lost_table *t, const struct cd_vm *vm, struct cd_node_lost *out)
{
	const struct cd_node *n = placed_on(t->s, vm);
	struct cd_lost_entry *e;

	if (!n || !t->e)
		return cd_vm_lost(t->s, vm, t->view, t->ctx, out);
	e = &t->e[n - t->s->nodes];
	if (!e->known) {
		node_lost(t->s, n, t->view, t->ctx, &e->lost);
		e->known = true;
	}
	*out = e->lost;
	return out->lost;
}

void cd_lost_table_fini(struct cd_lost_table *t)
{
	free(t->e);
	t->e = NULL;
}

static struct json_object *str_or_null(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

void cd_node_lost_to_json(const struct cd_node_lost *l, struct json_object *o)
{
	struct json_object *d, *paths;

	json_object_object_add(o, "node_lost", json_object_new_boolean(l->lost));
	if (!l->lost)
		return;
	json_object_object_add(o, "waits_for", json_object_new_string(l->waits_for));
	d = json_object_new_object();
	paths = json_object_new_array();
	if (l->paths & CD_DEATH_LEASE)
		json_object_array_add(paths, json_object_new_string("lease"));
	if (l->paths & CD_DEATH_FENCE)
		json_object_array_add(paths, json_object_new_string("fence"));
	if (!l->paths)
		json_object_array_add(paths, json_object_new_string("admin"));
	json_object_object_add(d, "node", json_object_new_string(l->node));
	json_object_object_add(d, "paths", paths);
	json_object_object_add(d, "reason", json_object_new_string(cd_death_gap_key(l->gap)));
	json_object_object_add(d, "quorate", json_object_new_boolean(l->quorate));
	json_object_object_add(d, "grace_left_ms",
			       json_object_new_int64((int64_t)l->grace_left_ms));
	json_object_object_add(d, "fence_device", str_or_null(l->fence_device));
	json_object_object_add(d, "lease_volume", str_or_null(l->lease_volume));
	json_object_object_add(d, "lease_expired", json_object_new_boolean(l->lease_expired));
	json_object_object_add(d, "lease_expires_in_ms",
			       json_object_new_int64((int64_t)l->lease_in_ms));
	json_object_object_add(o, "lost", d);
}
