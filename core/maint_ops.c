/*
 * The changes of scheduled maintenance (maint.h): an admin adds, removes,
 * runs and cancels schedules; the coordinator moves a run on step by step;
 * the node being serviced says how its hook went. Each checks everything
 * before it changes anything, so a refused change leaves the state as it
 * was. Pure: no I/O.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/maint.h"
#include "core/maint_int.h"
#include "core/state.h"
#include "lib/jsonget.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/* The schedule c's "name" names, or NULL with err and *rc set. */
static struct cd_maint *named(struct cd_state *s, const struct json_object *c, int *rc, char *err,
			      size_t errlen)
{
	const char *name = cd_jget_str(c, "name");
	struct cd_maint *m = (struct cd_maint *)cd_state_maint(s, name);

	if (!name) {
		snprintf(err, errlen, "missing maintenance name");
		*rc = CD_ERR_INVALID;
	} else if (!m) {
		snprintf(err, errlen, "no maintenance '%s' (see 'clusterctl maintenance list')",
			 name);
		*rc = CD_ERR_NOT_FOUND;
	}
	return m;
}

/* Whether every one of the n names is a node the state knows; if not, err names one. */
static bool known_nodes(const struct cd_state *s, char (*names)[64], size_t n, char *err,
			size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!cd_state_node_by_name(s, names[i])) {
			snprintf(err, errlen, "no node '%s' (see 'clusterctl node list')",
				 names[i]);
			return false;
		}
	return true;
}

static uint64_t wall(const struct json_object *c)
{
	uint64_t ms = 0;

	cd_jget_u64(c, "wall_ms", &ms);
	return ms;
}

/* The hook of a new phase: asked anew in PRE and POST, none in the others. */
static void hook_reset(struct cd_state *s, struct cd_maint_run *r)
{
	r->hook_id =
		r->phase == CD_MPHASE_PRE || r->phase == CD_MPHASE_POST ? ++s->last_action_id : 0;
	r->hook_state = CD_MHOOK_NONE;
	r->hook_rc = 0;
	r->hook_epoch = 0;
	r->hook_output[0] = '\0';
}

/* Node idx of run r becomes the one serviced, from its gate, at now. */
static void activate(struct cd_state *s, struct cd_maint_run *r, uint32_t idx, uint64_t now)
{
	r->idx = idx;
	r->nodes[idx].outcome = CD_MNODE_ACTIVE;
	r->nodes[idx].began_ms = now;
	r->phase = CD_MPHASE_GATE;
	r->phase_ms = now;
	hook_reset(s, r);
}

/*
 * Run r ends with outcome at now, why saying so; the nodes it had not
 * finished are SKIPPED (the one being serviced is left as it is).
 */
static void end_run(struct cd_maint_run *r, enum cd_maint_outcome outcome, const char *why,
		    uint64_t now)
{
	size_t i;

	r->outcome = outcome;
	r->ended_ms = now;
	cd_strlcpy(r->why, why, sizeof(r->why));
	for (i = 0; i < r->n_nodes; i++) {
		struct cd_maint_run_node *n = &r->nodes[i];

		if (n->outcome == CD_MNODE_ACTIVE) {
			snprintf(n->why, sizeof(n->why),
				 "the run ended (%s) in its %s phase: left as it was",
				 cd_maint_outcome_to_str(outcome), cd_maint_phase_to_str(r->phase));
			n->ended_ms = now;
		} else if (n->outcome == CD_MNODE_PENDING) {
			snprintf(n->why, sizeof(n->why), "not reached: the run ended first");
		} else {
			continue;
		}
		n->outcome = CD_MNODE_SKIPPED;
	}
}

/* An optional "next_ms" of c into *out (kept as it was if absent): 0, or -1 if malformed. */
static int next_field(const struct json_object *c, uint64_t *out)
{
	return json_object_object_get_ex(c, "next_ms", NULL) && cd_jget_u64(c, "next_ms", out) < 0
		       ? -1
		       : 0;
}

/* --- an admin's --- */

int cd_maint_op_add(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_maint *m = malloc(sizeof(*m)), *grown;
	bool found;
	size_t i;
	int rc;

	if (!m)
		FAIL(-ENOMEM, "out of memory");
	if ((rc = cd_maint_config_from_json(m, c, err, errlen)) < 0)
		goto out_free;
	rc = CD_ERR_EXISTS;
	i = cd_maint_index(s, m->name, &found);
	if (found) {
		snprintf(err, errlen, "maintenance %s exists already", m->name);
		goto out_free;
	}
	rc = CD_ERR_INVALID;
	if (s->n_maints >= CD_MAINT_MAX) {
		snprintf(err, errlen, "the cluster has %d maintenance schedules already, its limit",
			 CD_MAINT_MAX);
		goto out_free;
	}
	if (!known_nodes(s, m->nodes, m->n_nodes, err, errlen)) {
		rc = CD_ERR_NOT_FOUND;
		goto out_free;
	}
	grown = realloc(s->maints, (s->n_maints + 1) * sizeof(*grown));
	if (!grown) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	s->maints = grown;
	memmove(&grown[i + 1], &grown[i], (s->n_maints - i) * sizeof(*grown));
	grown[i] = *m;
	s->n_maints++;
	rc = 0;
out_free:
	free(m);
	return rc;
}

/* maintenance.remove {name}: gone, a run under way with it (its node is left as it is). */
int cd_maint_op_remove(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	int rc = 0;
	struct cd_maint *m = named(s, c, &rc, err, errlen);
	size_t i;

	if (!m)
		return rc;
	i = (size_t)(m - s->maints);
	memmove(&s->maints[i], &s->maints[i + 1], (s->n_maints - i - 1) * sizeof(*m));
	s->n_maints--;
	return 0;
}

/*
 * maintenance.cancel {name, wall_ms[, next_ms]}: the run under way ends
 * CANCELLED; next_ms, if given, is the schedule's next run (an admin's
 * cancel does not stop a repeating schedule).
 */
int cd_maint_op_cancel(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	int rc = 0;
	struct cd_maint *m = named(s, c, &rc, err, errlen);
	uint64_t next;

	if (!m)
		return rc;
	next = m->next_ms;
	if (next_field(c, &next) < 0)
		FAIL(CD_ERR_INVALID, "malformed cancel of maintenance %s", m->name);
	if (!m->run.id || m->run.outcome != CD_MRUN_RUNNING)
		FAIL(CD_ERR_INVALID, "maintenance %s is not running", m->name);
	end_run(&m->run, CD_MRUN_CANCELLED, "cancelled by an admin", wall(c));
	m->next_ms = next;
	return 0;
}

/* maintenance.run {name, wall_ms}: its next run is now. */
int cd_maint_op_run(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	int rc = 0;
	struct cd_maint *m = named(s, c, &rc, err, errlen);
	uint64_t now = 0;

	if (!m)
		return rc;
	if (cd_jget_u64(c, "wall_ms", &now) < 0 || now == 0)
		FAIL(CD_ERR_INVALID, "maintenance.run needs the asker's wall_ms");
	if (m->run.id && m->run.outcome == CD_MRUN_RUNNING)
		FAIL(CD_ERR_EXISTS, "maintenance %s is running already (run %llu)", m->name,
		     (unsigned long long)m->run.id);
	m->next_ms = now;
	return 0;
}

/* --- the coordinator's --- */

/* A new run of m over the nodes of c; the last run goes into the history. */
static int step_begin(struct cd_state *s, struct cd_maint *m, const struct json_object *c,
		      char *err, size_t errlen)
{
	char names[CD_MAINT_NODES][64];
	struct json_object *a = NULL;
	struct cd_maint_run *r = &m->run;
	uint64_t now = wall(c);
	size_t n, i, keep;

	if (r->id && r->outcome == CD_MRUN_RUNNING)
		FAIL(CD_ERR_EXISTS, "maintenance %s is running already (run %llu)", m->name,
		     (unsigned long long)r->id);
	json_object_object_get_ex(c, "nodes", &a);
	if (cd_maint_names_from_json(a, names, &n, err, errlen) < 0)
		return CD_ERR_INVALID;
	if (!known_nodes(s, names, n, err, errlen))
		return CD_ERR_NOT_FOUND;
	if (r->id) {
		keep = m->n_history < CD_MAINT_HISTORY ? m->n_history : CD_MAINT_HISTORY - 1;
		memmove(&m->history[1], &m->history[0], keep * sizeof(m->history[0]));
		m->history[0] = *r;
		m->n_history = keep + 1;
	}
	memset(r, 0, sizeof(*r));
	r->id = ++s->last_action_id;
	r->outcome = CD_MRUN_RUNNING;
	r->began_ms = now;
	r->n_nodes = n;
	for (i = 0; i < n; i++) {
		cd_strlcpy(r->nodes[i].node, names[i], sizeof(r->nodes[i].node));
		r->nodes[i].outcome = CD_MNODE_PENDING;
	}
	activate(s, r, 0, now);
	m->next_ms = 0;
	return 0;
}

/* nodes[idx] ends done or failed; the next one's turn, or the run's end. */
static int step_node(struct cd_state *s, struct cd_maint *m, const struct json_object *c,
		     const char *outcome, char *err, size_t errlen)
{
	struct cd_maint_run *r = &m->run;
	struct cd_maint_run_node *n = &r->nodes[r->idx];
	char why[CD_MAINT_NODE_WHY_MAX + 1];
	bool failed = strcmp(outcome, "failed") == 0;
	uint64_t now = wall(c), next = m->next_ms;

	if ((!failed && strcmp(outcome, "done") != 0) ||
	    !cd_maint_text_field(c, "why", why, sizeof(why)) || next_field(c, &next) < 0)
		FAIL(CD_ERR_INVALID, "malformed node outcome of maintenance %s", m->name);
	n->outcome = failed ? CD_MNODE_FAILED : CD_MNODE_DONE;
	n->ended_ms = now;
	cd_strlcpy(n->why, why, sizeof(n->why));
	if (failed)
		r->failed++;
	if (r->idx + 1 < r->n_nodes) {
		activate(s, r, r->idx + 1, now);
		return 0;
	}
	r->outcome = r->failed ? CD_MRUN_FAILED : CD_MRUN_DONE;
	r->ended_ms = now;
	if (r->failed)
		snprintf(r->why, sizeof(r->why), "%u of %zu nodes failed", r->failed, r->n_nodes);
	m->next_ms = next;
	return 0;
}

/* The run ends as the coordinator says (failed, window, done). */
static int step_end(struct cd_maint *m, const struct json_object *c, const char *end, char *err,
		    size_t errlen)
{
	char why[CD_MAINT_WHY_MAX + 1];
	enum cd_maint_outcome o;
	uint64_t next = 0;

	if (strcmp(end, "failed") == 0)
		o = CD_MRUN_FAILED;
	else if (strcmp(end, "window") == 0)
		o = CD_MRUN_WINDOW;
	else if (strcmp(end, "done") == 0)
		o = CD_MRUN_DONE;
	else
		FAIL(CD_ERR_INVALID, "a run ends failed, window or done, not '%s'", end);
	if (!cd_maint_text_field(c, "why", why, sizeof(why)) || next_field(c, &next) < 0)
		FAIL(CD_ERR_INVALID, "malformed end of maintenance %s", m->name);
	end_run(&m->run, o, why, wall(c));
	m->next_ms = next;
	return 0;
}

int cd_maint_op_step(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	int rc = 0, ph;
	struct cd_maint *m = named(s, c, &rc, err, errlen);
	const char *phase = cd_jget_str(c, "phase"), *node = cd_jget_str(c, "node_outcome");
	const char *end = cd_jget_str(c, "end");
	uint64_t id;

	if (!m)
		return rc;
	if (cd_jget_bool_or(c, "begin", false))
		return step_begin(s, m, c, err, errlen);
	if (cd_jget_u64(c, "id", &id) < 0 || (phase != NULL) + (node != NULL) + (end != NULL) != 1)
		FAIL(CD_ERR_INVALID, "malformed step of maintenance %s", m->name);
	if (!id || m->run.id != id || m->run.outcome != CD_MRUN_RUNNING)
		FAIL(CD_ERR_INVALID, "run %llu of maintenance %s is not running",
		     (unsigned long long)id, m->name);
	if (node)
		return step_node(s, m, c, node, err, errlen);
	if (end)
		return step_end(m, c, end, err, errlen);
	if ((ph = cd_maint_phase_index(phase)) < 0)
		FAIL(CD_ERR_INVALID, "no maintenance phase '%s'", phase);
	m->run.phase = (enum cd_maint_phase)ph;
	m->run.phase_ms = wall(c);
	hook_reset(s, &m->run);
	return 0;
}

/* --- the serviced node's --- */

/* The hook c speaks of is run r's current one, on its current node: 0, or CD_ERR_INVALID. */
static int current_hook(const struct cd_state *s, const struct cd_maint *m,
			const struct json_object *c, char *err, size_t errlen)
{
	const struct cd_maint_run *r = &m->run;
	const struct cd_node *n;
	uint64_t id, hook, node;

	if (cd_jget_u64(c, "id", &id) < 0 || cd_jget_u64(c, "hook_id", &hook) < 0 ||
	    cd_jget_u64(c, "node", &node) < 0)
		FAIL(CD_ERR_INVALID, "malformed hook report of maintenance %s", m->name);
	if (!id || r->id != id || r->outcome != CD_MRUN_RUNNING)
		FAIL(CD_ERR_INVALID, "run %llu of maintenance %s is not running",
		     (unsigned long long)id, m->name);
	if (!hook || r->hook_id != hook ||
	    (r->phase != CD_MPHASE_PRE && r->phase != CD_MPHASE_POST))
		FAIL(CD_ERR_INVALID, "hook %llu of maintenance %s is not the one asked for",
		     (unsigned long long)hook, m->name);
	n = cd_state_node_by_name(s, r->nodes[r->idx].node);
	if (!n || n->info.id != node)
		FAIL(CD_ERR_INVALID, "the hook of maintenance %s runs on %s, not on node %llu",
		     m->name, r->nodes[r->idx].node, (unsigned long long)node);
	return 0;
}

int cd_maint_op_hook(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	int rc = 0;
	struct cd_maint *m = named(s, c, &rc, err, errlen);
	const char *state = cd_jget_str(c, "state"), *output;
	struct cd_maint_run *r;
	struct json_object *rcj;
	uint64_t epoch;

	if (!m)
		return rc;
	if ((rc = current_hook(s, m, c, err, errlen)) < 0)
		return rc;
	r = &m->run;
	if (state && strcmp(state, "started") == 0) {
		if (cd_jget_u64(c, "epoch", &epoch) < 0)
			FAIL(CD_ERR_INVALID, "a hook that started says in which epoch");
		if (r->hook_state != CD_MHOOK_NONE)
			FAIL(CD_ERR_INVALID, "hook %llu of maintenance %s has started already",
			     (unsigned long long)r->hook_id, m->name);
		r->hook_state = CD_MHOOK_STARTED;
		r->hook_epoch = epoch;
		return 0;
	}
	if (!state || strcmp(state, "done") != 0)
		FAIL(CD_ERR_INVALID, "a hook's state is started or done");
	output = cd_jget_str(c, "output");
	if (!json_object_object_get_ex(c, "rc", &rcj) || !json_object_is_type(rcj, json_type_int) ||
	    json_object_get_int64(rcj) < -1 || json_object_get_int64(rcj) > 255 ||
	    (json_object_object_get_ex(c, "output", NULL) &&
	     (!output || !cd_maint_valid_output(output, CD_MAINT_OUTPUT_MAX))))
		FAIL(CD_ERR_INVALID,
		     "malformed end of a hook of maintenance %s (rc -1 to 255, "
		     "output at most %d bytes)",
		     m->name, CD_MAINT_OUTPUT_MAX);
	if (r->hook_state == CD_MHOOK_DONE)
		FAIL(CD_ERR_INVALID, "hook %llu of maintenance %s is done already",
		     (unsigned long long)r->hook_id, m->name);
	r->hook_state = CD_MHOOK_DONE;
	r->hook_rc = (int)json_object_get_int64(rcj);
	cd_strlcpy(r->hook_output, output ? output : "", sizeof(r->hook_output));
	return 0;
}
