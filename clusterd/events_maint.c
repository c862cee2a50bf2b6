/*
 * The events of scheduled maintenance (core/maint.h), for people: each
 * change of a schedule or its run, told from the state it left.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "clusterd/events.h"
#include "clusterd/replica.h"
#include "core/change.h"
#include "core/maint.h"
#include "core/state.h"
#include "lib/jsonget.h"

/* The node of run r that ended last (the one a node outcome was about). */
static const struct cd_maint_run_node *last_ended(const struct cd_maint_run *r)
{
	const struct cd_maint_run_node *last = NULL;
	size_t i;

	for (i = 0; i < r->n_nodes; i++)
		if ((r->nodes[i].outcome == CD_MNODE_DONE ||
		     r->nodes[i].outcome == CD_MNODE_FAILED) &&
		    (!last || r->nodes[i].ended_ms >= last->ended_ms))
			last = &r->nodes[i];
	return last;
}

static void step_event(const struct json_object *c, const struct cd_maint *m)
{
	const struct cd_maint_run *r = &m->run;
	const struct cd_maint_run_node *n;
	char nodes[512] = "";
	size_t i, len = 0;

	if (cd_jget_bool_or(c, "begin", false)) {
		for (i = 0; i < r->n_nodes && len < sizeof(nodes) - 1; i++)
			len += (size_t)snprintf(nodes + len, sizeof(nodes) - len, "%s%s",
						i ? ", " : "", r->nodes[i].node);
		cd_event("maintenance", m->name, "run %llu begins: %s, one at a time",
			 (unsigned long long)r->id, nodes);
	} else if (cd_jget_str(c, "phase") && r->idx < r->n_nodes) {
		cd_event("maintenance", m->name, "%s: %s", r->nodes[r->idx].node,
			 cd_maint_phase_to_str(r->phase));
	} else if (cd_jget_str(c, "node_outcome") && (n = last_ended(r))) {
		cd_event("maintenance", m->name, "%s %s%s%s", n->node,
			 cd_maint_node_outcome_to_str(n->outcome), n->why[0] ? ": " : "", n->why);
	}
	if (r->outcome != CD_MRUN_RUNNING &&
	    (cd_jget_str(c, "end") || cd_jget_str(c, "node_outcome")))
		cd_event("maintenance", m->name, "run %llu %s (%u node%s failed)%s%s",
			 (unsigned long long)r->id, cd_maint_outcome_to_str(r->outcome), r->failed,
			 r->failed == 1 ? "" : "s", r->why[0] ? ": " : "", r->why);
}

void cd_event_maint(const struct json_object *c, enum cd_change kind, const char *asked_on)
{
	const char *name = cd_jget_str(c, "name");
	const struct cd_maint *m = name ? cd_state_maint(cd_replica_state(), name) : NULL;

	switch (kind) {
	case CD_CHANGE_MAINT_ADD:
	case CD_CHANGE_MAINT_REMOVE:
	case CD_CHANGE_MAINT_CANCEL:
	case CD_CHANGE_MAINT_RUN:
		/* "add" of "maintenance.add" */
		cd_event("maintenance", name ? name : "?", "%s (asked on %s)",
			 cd_change_name(kind) + strlen("maintenance."), asked_on);
		break;
	case CD_CHANGE_MAINT_STEP:
		if (m)
			step_event(c, m);
		break;
	case CD_CHANGE_MAINT_HOOK:
		if (m && m->run.idx < m->run.n_nodes)
			cd_event("maintenance", m->name, "%s: its %s command %s%s%s",
				 m->run.nodes[m->run.idx].node, cd_maint_phase_to_str(m->run.phase),
				 m->run.hook_state == CD_MHOOK_DONE ? "ended" : "began",
				 m->run.hook_state == CD_MHOOK_DONE ? ", exit " : "",
				 m->run.hook_state == CD_MHOOK_DONE
					 ? (m->run.hook_rc == 0 ? "0" : "non-zero")
					 : "");
		break;
	default:
		break;
	}
}
