/*
 * The IPC commands about the cluster itself: status, events, its
 * properties and its nodes.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <clusterd/result.h>

#include "clusterd/coordinator.h"
#include "clusterd/events.h"
#include "clusterd/ipc_cmd.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/stats.h"
#include "lib/util.h"

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
	/* A drain shows: "draining", then "drained" only once it runs nothing. */
	if (n->maintenance && n->drain.state == CD_DRAIN_RUNNING)
		return "draining";
	if (n->maintenance && n->drain.state == CD_DRAIN_DRAINED)
		return "drained";
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
	json_object_object_add(o, "drain", cd_drain_to_json(&n->drain));
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

/*
 * The drains and maintenance runs under way, for status:
 * {"drains": [{"node", "id", "mode"}], "maintenance": [{"name", "run", "node", "phase", "done",
 * "of"}]}.
 */
static struct json_object *under_way(const struct cd_state *s)
{
	struct json_object *o = json_object_new_object(), *d = json_object_new_array();
	struct json_object *m = json_object_new_array();
	size_t i, k, done;

	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node *n = &s->nodes[i];
		struct json_object *e;

		if (n->drain.state != CD_DRAIN_RUNNING)
			continue;
		e = json_object_new_object();
		json_object_object_add(e, "node", json_object_new_string(n->info.name));
		json_object_object_add(e, "id", json_object_new_int64((int64_t)n->drain.id));
		json_object_object_add(e, "mode",
				       json_object_new_string(cd_move_mode_to_str(n->drain.mode)));
		json_object_array_add(d, e);
	}
	for (i = 0; i < s->n_maints; i++) {
		const struct cd_maint_run *r = &s->maints[i].run;
		struct json_object *e;

		if (!r->id || r->outcome != CD_MRUN_RUNNING || r->idx >= r->n_nodes)
			continue;
		for (done = 0, k = 0; k < r->n_nodes; k++)
			done += r->nodes[k].outcome == CD_MNODE_DONE ||
				r->nodes[k].outcome == CD_MNODE_FAILED;
		e = json_object_new_object();
		json_object_object_add(e, "name", json_object_new_string(s->maints[i].name));
		json_object_object_add(e, "run", json_object_new_int64((int64_t)r->id));
		json_object_object_add(e, "node", json_object_new_string(r->nodes[r->idx].node));
		json_object_object_add(e, "phase",
				       json_object_new_string(cd_maint_phase_to_str(r->phase)));
		json_object_object_add(e, "done", json_object_new_int64((int64_t)done));
		json_object_object_add(e, "of", json_object_new_int64((int64_t)r->n_nodes));
		json_object_array_add(m, e);
	}
	json_object_object_add(o, "drains", d);
	json_object_object_add(o, "maintenance", m);
	return o;
}

/* What this node's decisions as coordinator cost lately, or null. */
static struct json_object *decisions_view(void)
{
	struct cd_decision_costs c;
	size_t n = cd_coordinator_decisions(&c);
	struct json_object *o;

	if (!n || cd_replica_coordinator() != cd_membership_local_nodeid())
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "count", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "last_ms", json_object_new_double(c.last_us / 1000.0));
	json_object_object_add(o, "median_ms", json_object_new_double(c.median_us / 1000.0));
	json_object_object_add(o, "max_ms", json_object_new_double(c.max_us / 1000.0));
	json_object_object_add(o, "cpu_median_ms",
			       json_object_new_double(c.cpu_median_us / 1000.0));
	json_object_object_add(o, "cpu_max_ms", json_object_new_double(c.cpu_max_us / 1000.0));
	return o;
}

/* --- commands --- */

struct json_object *cd_ipc_status_json(void)
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
	json_object_object_add(o, "under_way", under_way(s));
	json_object_object_add(o, "decisions", decisions_view());
	json_object_object_add(o, "counters", cd_stats_to_json());
	cd_ipc_failover_status(o);
	return o;
}

static int cmd_status(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	*out = cd_ipc_status_json();
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
	const char *name = cd_ipc_arg_str(args, "node");
	const struct cd_node *n;

	if (!name) {
		*out = cd_ipc_error_obj("missing node name");
		return CD_ERR_INVALID;
	}
	n = find_node(name);
	if (!n) {
		*out = cd_ipc_error_obj("no node '%s' (see 'clusterctl node list')", name);
		return CD_ERR_NOT_FOUND;
	}
	*out = node_view(n);
	return 0;
}

static int cmd_property_get(qb_ipcs_connection_t *c, struct json_object *args,
			    struct json_object **out)
{
	const char *key = cd_ipc_arg_str(args, "key"), *v;

	if (!key) {
		*out = cd_ipc_error_obj("missing property name");
		return CD_ERR_INVALID;
	}
	v = cd_state_prop(cd_replica_state(), key);
	if (!v) {
		*out = cd_ipc_error_obj("no property '%s'", key);
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

static int cmd_node_quarantine(qb_ipcs_connection_t *c, struct json_object *args,
			       struct json_object **out)
{
	const char *name = cd_ipc_arg_str(args, "node");
	struct json_object *on = NULL, *a;
	int rc;

	json_object_object_get_ex(args, "on", &on);
	a = json_object_new_object();
	json_object_object_add(a, "node", json_object_new_string(name ? name : ""));
	json_object_object_add(
		a, "until",
		json_object_new_int64(on && json_object_get_boolean(on)
					      ? (int64_t)(cd_wall_ms() + CD_QUARANTINE_MS)
					      : 0));
	rc = cd_ipc_submit_change(c, CD_CHANGE_NODE_QUARANTINE, a, out);
	json_object_put(a);
	return rc;
}

/* An admin vouches that a lost node is off: its VMs may run elsewhere. */
static int cmd_node_confirm_dead(qb_ipcs_connection_t *c, struct json_object *args,
				 struct json_object **out)
{
	const char *name = cd_ipc_arg_str(args, "node");
	const struct cd_node *n = name ? find_node(name) : NULL;
	struct json_object *a;
	int rc;

	if (!n) {
		*out = cd_ipc_error_obj("no node '%s' (see 'clusterctl node list')",
					name ? name : "");
		return CD_ERR_NOT_FOUND;
	}
	a = json_object_new_object();
	json_object_object_add(a, "node", json_object_new_int64(n->info.id));
	json_object_object_add(a, "how", json_object_new_string("admin"));
	rc = cd_ipc_submit_change(c, CD_CHANGE_NODE_DEAD, a, out);
	json_object_put(a);
	return rc;
}

static int cmd_events(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	struct json_object *since = NULL;

	json_object_object_get_ex(args, "since", &since);
	*out = cd_events_since(since ? (uint64_t)json_object_get_int64(since) : 0);
	return 0;
}

/* Reads answer from this node's copy of the state, quorate or not. */
#ifdef CD_TEST_HOOKS
/* Test aid: this node's state changed without a change, for the divergence checks. */
static int cmd_debug_state_diverge(qb_ipcs_connection_t *c, struct json_object *args,
				   struct json_object **out)
{
	int rc = cd_replica_debug_diverge();

	*out = rc < 0 ? cd_ipc_error_obj("%s", cd_strerror(rc)) : json_object_new_object();
	return rc;
}
#endif

const struct cd_ipc_cmd cd_ipc_cluster_cmds[] = {
	{"status", 0, cmd_status},
	{"node.list", 0, cmd_node_list},
	{"node.show", 0, cmd_node_show},
	{"node.maintenance", CD_IPC_SUBMITS, NULL, CD_CHANGE_NODE_MAINTENANCE},
	{"node.remove", CD_IPC_SUBMITS, NULL, CD_CHANGE_NODE_REMOVE},
	{"node.confirm_dead", CD_IPC_SUBMITS, cmd_node_confirm_dead},
	{"node.quarantine", CD_IPC_SUBMITS, cmd_node_quarantine},
	{"property.get", 0, cmd_property_get},
	{"property.list", 0, cmd_property_list},
	{"property.set", CD_IPC_SUBMITS, NULL, CD_CHANGE_PROPERTY_SET},
	{"property.delete", CD_IPC_SUBMITS, NULL, CD_CHANGE_PROPERTY_DELETE},
	{"events", 0, cmd_events},
#ifdef CD_TEST_HOOKS
	{"debug.state_diverge", CD_IPC_ADMIN, cmd_debug_state_diverge},
#endif
};
const size_t cd_ipc_cluster_n_cmds = sizeof(cd_ipc_cluster_cmds) / sizeof(cd_ipc_cluster_cmds[0]);
