/*
 * The IPC commands of scheduled maintenance: maintenance.add, .list,
 * .show, .run, .cancel and .remove. The schedule's words are parsed here,
 * in this node's time zone, and its next run computed, so that the
 * replicated state holds only times (core/maint.h says why). The runs are
 * carried out by the coordinator (maint_run.c).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <clusterd/result.h>

#include "clusterd/ipc_cmd.h"
#include "clusterd/replica.h"
#include "core/maint.h"
#include "core/schedule.h"
#include "core/state.h"
#include "lib/util.h"

/* A wall time as ISO 8601 local time with its offset ("2026-12-24T02:00:00+01:00"). */
static struct json_object *iso_json(uint64_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	char buf[40], off[8];
	struct tm tm;

	if (!wall_ms || !localtime_r(&t, &tm) ||
	    !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm) ||
	    !strftime(off, sizeof(off), "%z", &tm) || strlen(off) != 5)
		return NULL;
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%.3s:%s", off, off + 3);
	return json_object_new_string(buf);
}

/* m's schedule in words: the schedule module's, as people read it. */
static void describe(const struct cd_maint *m, char *buf, size_t len)
{
	struct cd_schedule s = {.kind = CD_SCHED_AT, .at_ms = m->at_ms};
	char err[128];

	if (m->every && cd_schedule_parse_every(m->schedule, &s, err, sizeof(err)) < 0) {
		snprintf(buf, len, "every %s", m->schedule);
		return;
	}
	cd_schedule_describe(&s, buf, len);
}

/* A schedule as the answers show it: its record, its schedule in words, its next run. */
static struct json_object *view(const struct cd_maint *m)
{
	struct json_object *o = cd_maint_to_json(m);
	char words[256];

	describe(m, words, sizeof(words));
	json_object_object_add(o, "schedule_text", json_object_new_string(words));
	json_object_object_add(o, "next", iso_json(m->next_ms));
	return o;
}

static const struct cd_maint *named(struct json_object *args, struct json_object **out, int *rc)
{
	const char *name = cd_ipc_arg_str(args, "name");
	const struct cd_maint *m = name ? cd_state_maint(cd_replica_state(), name) : NULL;

	if (!name) {
		*out = cd_ipc_error_obj("missing maintenance name");
		*rc = CD_ERR_INVALID;
	} else if (!m) {
		*out = cd_ipc_error_obj("no maintenance '%s' (see 'clusterctl maintenance list')",
					name);
		*rc = CD_ERR_NOT_FOUND;
	}
	return m;
}

/* The answer once a change is applied: the schedule's view. */
static int answer_view(struct json_object *args, struct json_object **out)
{
	int rc = 0;
	const struct cd_maint *m = named(args, out, &rc);

	if (!m)
		return rc;
	*out = view(m);
	return 0;
}

/* The answer once maintenance.remove is applied. */
static int answer_removed(struct json_object *args, struct json_object **out)
{
	*out = json_object_new_object();
	json_object_object_add(*out, "name", json_object_new_string(cd_ipc_arg_str(args, "name")));
	json_object_object_add(*out, "removed", json_object_new_boolean(true));
	return 0;
}

static struct json_object *change(enum cd_change op, const char *name)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "op", json_object_new_string(cd_change_name(op)));
	json_object_object_add(c, "name", json_object_new_string(name));
	json_object_object_add(c, "wall_ms", json_object_new_int64((int64_t)cd_wall_ms()));
	return c;
}

/*
 * The schedule of args (at or every) into ch: its time or text and its
 * next run. 0, or CD_ERR_INVALID with *out.
 */
static int add_schedule(struct json_object *args, struct json_object *ch, struct json_object **out)
{
	const char *at = cd_ipc_arg_str(args, "at"), *every = cd_ipc_arg_str(args, "every");
	uint64_t now = cd_wall_ms(), next;
	struct cd_schedule s;
	char err[256];

	if (!at == !every) {
		*out = cd_ipc_error_obj("a maintenance runs either --at TIME or --every SCHEDULE");
		return CD_ERR_INVALID;
	}
	if ((at ? cd_schedule_parse_at(at, now, &s, err, sizeof(err))
		: cd_schedule_parse_every(every, &s, err, sizeof(err))) < 0) {
		*out = cd_ipc_error_obj("%s: %s", at ? "--at" : "--every", err);
		return CD_ERR_INVALID;
	}
	next = cd_schedule_next(&s, now);
	if (!next) {
		*out = cd_ipc_error_obj(at ? "--at %s is in the past" : "--every %s never comes",
					at ? at : every);
		return CD_ERR_INVALID;
	}
	if (at)
		json_object_object_add(ch, "at_ms", json_object_new_int64((int64_t)s.at_ms));
	else
		json_object_object_add(ch, "schedule", json_object_new_string(s.every));
	json_object_object_add(ch, "next_ms", json_object_new_int64((int64_t)next));
	return 0;
}

/* The window of args ("4h", "90m": the +DURATION of --at) into ch as window_ms. */
static int add_window(struct json_object *args, struct json_object *ch, struct json_object **out)
{
	const char *w = cd_ipc_arg_str(args, "window");
	struct cd_schedule s;
	char text[64], err[256];

	if (!w)
		return 0;
	snprintf(text, sizeof(text), "+%s", w);
	if (w[0] == '+' || w[0] == '-' || strlen(w) >= sizeof(text) - 1 ||
	    cd_schedule_parse_at(text, 0, &s, err, sizeof(err)) < 0 || s.at_ms == 0) {
		*out = cd_ipc_error_obj(
			"--window takes a duration such as 4h, 90m or 1h30m, not '%s'", w);
		return CD_ERR_INVALID;
	}
	json_object_object_add(ch, "window_ms", json_object_new_int64((int64_t)s.at_ms));
	return 0;
}

/* Copy args' member key into ch, if given. */
static void pass(struct json_object *args, struct json_object *ch, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(args, key, &v))
		json_object_object_add(ch, key, json_object_get(v));
}

/*
 * maintenance.add {name, nodes, at | every, mode, pre, post, max_failed,
 * window}: the rest is checked by the change, alike on every member.
 */
static int cmd_add(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	const char *name = cd_ipc_arg_str(args, "name");
	struct json_object *ch;
	int rc;

	if (!name) {
		*out = cd_ipc_error_obj("missing maintenance name");
		return CD_ERR_INVALID;
	}
	ch = change(CD_CHANGE_MAINT_ADD, name);
	if ((rc = add_schedule(args, ch, out)) < 0 || (rc = add_window(args, ch, out)) < 0) {
		json_object_put(ch);
		return rc;
	}
	pass(args, ch, "nodes");
	pass(args, ch, "mode");
	pass(args, ch, "pre");
	pass(args, ch, "post");
	pass(args, ch, "max_failed");
	return cd_ipc_submit_answer(c, ch, args, answer_view, out);
}

static int cmd_list(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	const struct cd_state *s = cd_replica_state();
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < s->n_maints; i++)
		json_object_array_add(a, view(&s->maints[i]));
	*out = json_object_new_object();
	json_object_object_add(*out, "maintenance", a);
	return 0;
}

static int cmd_show(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	return answer_view(args, out);
}

static int cmd_run(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	int rc = 0;
	const struct cd_maint *m = named(args, out, &rc);

	if (!m)
		return rc;
	if (m->run.id && m->run.outcome == CD_MRUN_RUNNING) {
		*out = cd_ipc_error_obj("maintenance %s is running already", m->name);
		return CD_ERR_EXISTS;
	}
	return cd_ipc_submit_answer(c, change(CD_CHANGE_MAINT_RUN, m->name), args, answer_view,
				    out);
}

/* The next run of m after now, for a repeating schedule (0: none). */
static uint64_t next_after(const struct cd_maint *m, uint64_t now)
{
	struct cd_schedule s;
	char err[128];

	if (!m->every || cd_schedule_parse_every(m->schedule, &s, err, sizeof(err)) < 0)
		return 0;
	return cd_schedule_next(&s, now);
}

static int cmd_cancel(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	int rc = 0;
	const struct cd_maint *m = named(args, out, &rc);
	struct json_object *ch;

	if (!m)
		return rc;
	if (!m->run.id || m->run.outcome != CD_MRUN_RUNNING) {
		*out = cd_ipc_error_obj("maintenance %s is not running", m->name);
		return CD_ERR_INVALID;
	}
	ch = change(CD_CHANGE_MAINT_CANCEL, m->name);
	/* A repeating schedule goes on at its next time. */
	json_object_object_add(ch, "next_ms",
			       json_object_new_int64((int64_t)next_after(m, cd_wall_ms())));
	return cd_ipc_submit_answer(c, ch, args, answer_view, out);
}

static int cmd_remove(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out)
{
	int rc = 0;
	const struct cd_maint *m = named(args, out, &rc);

	if (!m)
		return rc;
	return cd_ipc_submit_answer(c, change(CD_CHANGE_MAINT_REMOVE, m->name), args,
				    answer_removed, out);
}

const struct cd_ipc_cmd cd_ipc_maint_cmds[] = {
	{"maintenance.add", CD_IPC_SUBMITS, cmd_add},
	{"maintenance.list", 0, cmd_list},
	{"maintenance.show", 0, cmd_show},
	{"maintenance.run", CD_IPC_SUBMITS, cmd_run},
	{"maintenance.cancel", CD_IPC_SUBMITS, cmd_cancel},
	{"maintenance.remove", CD_IPC_SUBMITS, cmd_remove},
};
const size_t cd_ipc_maint_n_cmds = sizeof(cd_ipc_maint_cmds) / sizeof(cd_ipc_maint_cmds[0]);
