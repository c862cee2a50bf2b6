/*
 * Scheduled rolling maintenance in the replicated state (maint.h): the
 * names of its enums, a schedule as JSON and back, with the checks a
 * snapshot or a saved state must pass, and the look-up by name. The
 * changes are in maint_ops.c. Pure: no I/O.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/maint.h"
#include "core/maint_int.h"
#include "core/state.h"
#include "lib/fsm.h"
#include "lib/jsonget.h"
#include "lib/util.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* clang-format off */
static const char *const outcome_names[] = {
	[CD_MRUN_RUNNING] = "running",
	[CD_MRUN_DONE] = "done",
	[CD_MRUN_FAILED] = "failed",
	[CD_MRUN_CANCELLED] = "cancelled",
	[CD_MRUN_WINDOW] = "window",
};
static const char *const phase_names[] = {
	[CD_MPHASE_GATE] = "gate",
	[CD_MPHASE_DRAIN] = "drain",
	[CD_MPHASE_PRE] = "pre",
	[CD_MPHASE_BACK] = "back",
	[CD_MPHASE_POST] = "post",
	[CD_MPHASE_RESUME] = "resume",
};
static const char *const node_outcome_names[] = {
	[CD_MNODE_PENDING] = "pending",
	[CD_MNODE_ACTIVE] = "active",
	[CD_MNODE_DONE] = "done",
	[CD_MNODE_FAILED] = "failed",
	[CD_MNODE_SKIPPED] = "skipped",
};
static const char *const hook_state_names[] = {
	[CD_MHOOK_NONE] = "none",
	[CD_MHOOK_STARTED] = "started",
	[CD_MHOOK_DONE] = "done",
};
static const char *const mode_names[] = {
	[CD_MOVE_LIVE] = "live",
	[CD_MOVE_QUICK] = "quick",
	[CD_MOVE_COLD] = "cold",
};
/* clang-format on */

_Static_assert(N_OF(outcome_names) == CD_MRUN_WINDOW + 1, "a name for every run outcome");
_Static_assert(N_OF(phase_names) == CD_MPHASE_RESUME + 1, "a name for every phase");
_Static_assert(N_OF(node_outcome_names) == CD_MNODE_SKIPPED + 1, "a name for every node outcome");
_Static_assert(N_OF(hook_state_names) == CD_MHOOK_DONE + 1, "a name for every hook state");

const char *cd_maint_outcome_to_str(enum cd_maint_outcome o)
{
	return cd_fsm_name(outcome_names, N_OF(outcome_names), (int)o);
}

const char *cd_maint_phase_to_str(enum cd_maint_phase p)
{
	return cd_fsm_name(phase_names, N_OF(phase_names), (int)p);
}

const char *cd_maint_node_outcome_to_str(enum cd_maint_node_outcome o)
{
	return cd_fsm_name(node_outcome_names, N_OF(node_outcome_names), (int)o);
}

const char *cd_maint_hook_state_to_str(enum cd_maint_hook_state h)
{
	return cd_fsm_name(hook_state_names, N_OF(hook_state_names), (int)h);
}

int cd_maint_mode_index(const char *text)
{
	return cd_fsm_index(mode_names, N_OF(mode_names), text);
}

int cd_maint_phase_index(const char *text)
{
	return cd_fsm_index(phase_names, N_OF(phase_names), text);
}

bool cd_maint_valid_output(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (i >= max || ((unsigned char)s[i] < 0x20 && s[i] != '\n' && s[i] != '\t') ||
		    s[i] == 0x7f)
			return false;
	return true;
}

bool cd_maint_text_field(const struct json_object *o, const char *key, char *out, size_t len)
{
	const char *v = cd_jget_str(o, key);

	out[0] = '\0';
	if (!v)
		return !json_object_object_get_ex(o, key, NULL);
	return cd_valid_text(v, len - 1) && cd_strlcpy(out, v, len) < len;
}

size_t cd_maint_index(const struct cd_state *s, const char *name, bool *found)
{
	size_t lo = 0, hi = s->n_maints;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(s->maints[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n_maints && strcmp(s->maints[lo].name, name) == 0;
	return lo;
}

const struct cd_maint *cd_state_maint(const struct cd_state *s, const char *name)
{
	bool found;
	size_t i = name ? cd_maint_index(s, name, &found) : 0;

	return name && found ? &s->maints[i] : NULL;
}

/* --- to JSON --- */

static struct json_object *u64_json(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

static void add_str(struct json_object *o, const char *key, const char *v)
{
	json_object_object_add(o, key, json_object_new_string(v));
}

static struct json_object *run_node_to_json(const struct cd_maint_run_node *n)
{
	struct json_object *o = json_object_new_object();

	add_str(o, "node", n->node);
	add_str(o, "outcome", cd_maint_node_outcome_to_str(n->outcome));
	json_object_object_add(o, "began_ms", u64_json(n->began_ms));
	json_object_object_add(o, "ended_ms", u64_json(n->ended_ms));
	add_str(o, "why", n->why);
	return o;
}

static struct json_object *run_to_json(const struct cd_maint_run *r)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t i;

	json_object_object_add(o, "id", u64_json(r->id));
	add_str(o, "outcome", cd_maint_outcome_to_str(r->outcome));
	json_object_object_add(o, "began_ms", u64_json(r->began_ms));
	json_object_object_add(o, "ended_ms", u64_json(r->ended_ms));
	json_object_object_add(o, "idx", u64_json(r->idx));
	add_str(o, "phase", cd_maint_phase_to_str(r->phase));
	json_object_object_add(o, "phase_ms", u64_json(r->phase_ms));
	json_object_object_add(o, "hook_id", u64_json(r->hook_id));
	add_str(o, "hook_state", cd_maint_hook_state_to_str(r->hook_state));
	json_object_object_add(o, "hook_rc", json_object_new_int(r->hook_rc));
	json_object_object_add(o, "hook_epoch", u64_json(r->hook_epoch));
	add_str(o, "hook_output", r->hook_output);
	json_object_object_add(o, "failed", u64_json(r->failed));
	add_str(o, "why", r->why);
	for (i = 0; i < r->n_nodes; i++)
		json_object_array_add(a, run_node_to_json(&r->nodes[i]));
	json_object_object_add(o, "nodes", a);
	return o;
}

struct json_object *cd_maint_to_json(const struct cd_maint *m)
{
	struct json_object *o = json_object_new_object(), *a;
	size_t i;

	add_str(o, "name", m->name);
	if (m->all_nodes) {
		add_str(o, "nodes", "all");
	} else {
		a = json_object_new_array();
		for (i = 0; i < m->n_nodes; i++)
			json_object_array_add(a, json_object_new_string(m->nodes[i]));
		json_object_object_add(o, "nodes", a);
	}
	if (m->every)
		add_str(o, "schedule", m->schedule);
	else
		json_object_object_add(o, "at_ms", u64_json(m->at_ms));
	add_str(o, "mode", mode_names[m->mode]);
	add_str(o, "pre", m->pre);
	add_str(o, "post", m->post);
	json_object_object_add(o, "max_failed", u64_json(m->max_failed));
	json_object_object_add(o, "window_ms", u64_json(m->window_ms));
	json_object_object_add(o, "next_ms", u64_json(m->next_ms));
	if (m->run.id)
		json_object_object_add(o, "run", run_to_json(&m->run));
	if (m->n_history) {
		a = json_object_new_array();
		for (i = 0; i < m->n_history; i++)
			json_object_array_add(a, run_to_json(&m->history[i]));
		json_object_object_add(o, "history", a);
	}
	return o;
}

/* --- from JSON --- */

#define FAIL CD_FAIL

/* An optional unsigned member: absent is def. 0, or -1 if malformed. */
static int opt_u64(const struct json_object *o, const char *key, uint64_t def, uint64_t *out)
{
	*out = def;
	return json_object_object_get_ex(o, key, NULL) && cd_jget_u64(o, key, out) < 0 ? -1 : 0;
}

/* Whether name appears in the first n names of list. */
static bool listed(char (*list)[64], size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

int cd_maint_names_from_json(const struct json_object *a, char (*names)[64], size_t *n, char *err,
			     size_t errlen)
{
	size_t i, len;

	*n = 0;
	if (!a || !json_object_is_type(a, json_type_array))
		FAIL(-1, "nodes must be a list of node names or \"all\"");
	len = json_object_array_length(a);
	if (len < 1 || len > CD_MAINT_NODES)
		FAIL(-1, "a schedule names 1 to %d nodes, not %zu", CD_MAINT_NODES, len);
	for (i = 0; i < len; i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		const char *name =
			json_object_is_type(e, json_type_string) ? json_object_get_string(e) : NULL;

		if (!name || !cd_valid_name(name, CD_NAME_MAX))
			FAIL(-1, "node %zu of the list is not a node name", i + 1);
		if (listed(names, *n, name))
			FAIL(-1, "node %s is listed twice", name);
		cd_strlcpy(names[(*n)++], name, 64);
	}
	return 0;
}

int cd_maint_config_from_json(struct cd_maint *m, const struct json_object *o, char *err,
			      size_t errlen)
{
	const char *name = cd_jget_str(o, "name"), *mode = cd_jget_str(o, "mode");
	bool has_at = json_object_object_get_ex(o, "at_ms", NULL);
	bool has_sched = json_object_object_get_ex(o, "schedule", NULL);
	struct json_object *nodes = NULL;
	uint64_t maxf;
	int mi = mode ? cd_maint_mode_index(mode) : CD_MOVE_LIVE;

	memset(m, 0, sizeof(*m));
	if (!name || !cd_valid_name(name, sizeof(m->name) - 1))
		FAIL(CD_ERR_INVALID, "invalid maintenance name (use 1-%zu of A-Z a-z 0-9 . _ -)",
		     sizeof(m->name) - 1);
	cd_strlcpy(m->name, name, sizeof(m->name));
	json_object_object_get_ex(o, "nodes", &nodes);
	if (nodes && json_object_is_type(nodes, json_type_string) &&
	    strcmp(json_object_get_string(nodes), "all") == 0)
		m->all_nodes = true;
	else if (cd_maint_names_from_json(nodes, m->nodes, &m->n_nodes, err, errlen) < 0)
		return CD_ERR_INVALID;
	if (has_at == has_sched)
		FAIL(CD_ERR_INVALID, "maintenance %s needs either at_ms or schedule", name);
	if (has_sched) {
		m->every = true;
		if (!cd_maint_text_field(o, "schedule", m->schedule, sizeof(m->schedule)) ||
		    !m->schedule[0])
			FAIL(CD_ERR_INVALID, "maintenance %s has an invalid schedule", name);
	} else if (cd_jget_u64(o, "at_ms", &m->at_ms) < 0 || m->at_ms == 0) {
		FAIL(CD_ERR_INVALID, "maintenance %s has an invalid time", name);
	}
	if (mi < 0)
		FAIL(CD_ERR_INVALID, "a maintenance mode is live, quick or cold");
	m->mode = (enum cd_move_mode)mi;
	if (!cd_maint_text_field(o, "pre", m->pre, sizeof(m->pre)) ||
	    !cd_maint_text_field(o, "post", m->post, sizeof(m->post)))
		FAIL(CD_ERR_INVALID,
		     "a hook is text of at most %d bytes without control characters",
		     CD_MAINT_HOOK_MAX);
	if (opt_u64(o, "max_failed", 1, &maxf) < 0 || maxf < 1 || maxf > CD_MAINT_NODES)
		FAIL(CD_ERR_INVALID, "max_failed is 1 to %d", CD_MAINT_NODES);
	m->max_failed = (uint32_t)maxf;
	if (opt_u64(o, "window_ms", 0, &m->window_ms) < 0 ||
	    opt_u64(o, "next_ms", 0, &m->next_ms) < 0)
		FAIL(CD_ERR_INVALID, "maintenance %s has an invalid window or next time", name);
	return 0;
}

static int enum_field(const struct json_object *o, const char *key, const char *const *names,
		      size_t n, int *out)
{
	*out = cd_fsm_index(names, n, cd_jget_str(o, key));
	return *out;
}

static int run_node_from_json(struct cd_maint_run_node *n, const struct json_object *o)
{
	const char *name = cd_jget_str(o, "node");
	int oc;

	if (!name || !cd_valid_name(name, CD_NAME_MAX) ||
	    enum_field(o, "outcome", node_outcome_names, N_OF(node_outcome_names), &oc) < 0 ||
	    cd_jget_u64(o, "began_ms", &n->began_ms) < 0 ||
	    cd_jget_u64(o, "ended_ms", &n->ended_ms) < 0 ||
	    !cd_maint_text_field(o, "why", n->why, sizeof(n->why)))
		return -1;
	cd_strlcpy(n->node, name, sizeof(n->node));
	n->outcome = (enum cd_maint_node_outcome)oc;
	return 0;
}

static int run_from_json(struct cd_maint_run *r, const struct json_object *o)
{
	struct json_object *a, *rc;
	uint64_t idx, failed;
	int oc, ph, hs;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_object_is_type(o, json_type_object) || cd_jget_u64(o, "id", &r->id) < 0 ||
	    r->id == 0 || enum_field(o, "outcome", outcome_names, N_OF(outcome_names), &oc) < 0 ||
	    enum_field(o, "phase", phase_names, N_OF(phase_names), &ph) < 0 ||
	    enum_field(o, "hook_state", hook_state_names, N_OF(hook_state_names), &hs) < 0 ||
	    cd_jget_u64(o, "began_ms", &r->began_ms) < 0 ||
	    cd_jget_u64(o, "ended_ms", &r->ended_ms) < 0 || cd_jget_u64(o, "idx", &idx) < 0 ||
	    cd_jget_u64(o, "phase_ms", &r->phase_ms) < 0 ||
	    cd_jget_u64(o, "hook_id", &r->hook_id) < 0 ||
	    cd_jget_u64(o, "hook_epoch", &r->hook_epoch) < 0 ||
	    cd_jget_u64(o, "failed", &failed) < 0 ||
	    !json_object_object_get_ex(o, "hook_rc", &rc) ||
	    !json_object_is_type(rc, json_type_int) || json_object_get_int64(rc) < INT32_MIN ||
	    json_object_get_int64(rc) > INT32_MAX || !cd_jget_str(o, "hook_output") ||
	    !cd_maint_valid_output(cd_jget_str(o, "hook_output"), CD_MAINT_OUTPUT_MAX) ||
	    !cd_maint_text_field(o, "why", r->why, sizeof(r->why)) ||
	    !json_object_object_get_ex(o, "nodes", &a) || !json_object_is_type(a, json_type_array))
		return -1;
	r->outcome = (enum cd_maint_outcome)oc;
	r->phase = (enum cd_maint_phase)ph;
	r->hook_state = (enum cd_maint_hook_state)hs;
	r->hook_rc = (int)json_object_get_int64(rc);
	cd_strlcpy(r->hook_output, cd_jget_str(o, "hook_output"), sizeof(r->hook_output));
	r->n_nodes = json_object_array_length(a);
	if (r->n_nodes < 1 || r->n_nodes > CD_MAINT_NODES || idx >= r->n_nodes ||
	    failed > r->n_nodes)
		return -1;
	r->idx = (uint32_t)idx;
	r->failed = (uint32_t)failed;
	for (i = 0; i < r->n_nodes; i++)
		if (run_node_from_json(&r->nodes[i], json_object_array_get_idx(a, i)) < 0)
			return -1;
	return 0;
}

int cd_maint_from_json(struct cd_maint *m, const struct json_object *o, char *err, size_t errlen)
{
	struct json_object *v;
	const char *name;
	size_t i;
	int rc;

	if (!o || !json_object_is_type(o, json_type_object))
		FAIL(CD_ERR_INVALID, "a maintenance record must be an object");
	if ((rc = cd_maint_config_from_json(m, o, err, errlen)) < 0)
		return rc;
	name = m->name;
	if (json_object_object_get_ex(o, "run", &v) && run_from_json(&m->run, v) < 0)
		FAIL(CD_ERR_INVALID, "maintenance %s has an invalid run", name);
	if (!json_object_object_get_ex(o, "history", &v))
		return 0;
	if (!json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) > CD_MAINT_HISTORY)
		FAIL(CD_ERR_INVALID, "maintenance %s has an invalid history (at most %d runs)",
		     name, CD_MAINT_HISTORY);
	for (i = 0; i < json_object_array_length(v); i++) {
		struct cd_maint_run *r = &m->history[i];

		if (run_from_json(r, json_object_array_get_idx(v, i)) < 0 ||
		    r->outcome == CD_MRUN_RUNNING)
			FAIL(CD_ERR_INVALID, "maintenance %s has an invalid run in its history",
			     name);
		m->n_history = i + 1;
	}
	return 0;
}
