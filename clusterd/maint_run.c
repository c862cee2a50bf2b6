/*
 * Scheduled maintenance carried out (core/maint.h).
 *
 * On the coordinator, each schedule whose time has come gets a run, and a
 * run under way is moved on one step at a time, each step a
 * maintenance.step change, so that a coordinator that takes over goes on
 * where the last one was:
 *
 *   gate    the cluster must be healthy enough to take the node out:
 *           quorate, every other node online and not paused, no failed VM,
 *           every volume coordinated; waited for up to GATE_WAIT_MS;
 *   drain   node.drain of the node (the run's mode; asked again while
 *           refused, up to DRAIN_BEGIN_WAIT_MS; a drain already running is
 *           waited for); drained goes on, blocked or cancelled fails the node;
 *   pre     the node runs the pre command (below); exit 0 goes on;
 *   back    the node must be a member again (it may have rebooted),
 *           waited for up to BACK_WAIT_MS;
 *   post    the node runs the post command; exit 0 goes on;
 *   resume  node.resume (failback by each VM's policy): the node is done,
 *           the next one's gate follows.
 * A failed node stays paused and drained, for an admin to look at; after
 * max_failed of them the run ends failed. A run that outlasts its window
 * ends at once ("window"), whatever node it is at.
 *
 * On every node, the hooks asked of this node are run here: the node says
 * it began (maintenance.hook "started", with this clusterd's instance: a
 * random id drawn at its start) before it
 * runs /bin/sh -c CMD, and reports its exit status and the end of its
 * output when it ends. A hook found begun but not running here (clusterd,
 * or the whole node, restarted during it: an upgrade that reboots) is
 * reported done with status 0 and says so; the back phase then checks the
 * node is healthy.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/coordinator.h"
#include "clusterd/coordinator_int.h"
#include "clusterd/events.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/sendonce.h"
#include "clusterd/volmgr.h"
#include "core/change.h"
#include "core/maint.h"
#include "core/schedule.h"
#include "core/state.h"
#include "lib/child.h"
#include "lib/util.h"

#define GATE_WAIT_MS (10 * 60 * 1000ull)       /* a gate that stays shut fails the node */
#define BACK_WAIT_MS (30 * 60 * 1000ull)       /* a node that does not come back fails */
#define DRAIN_BEGIN_WAIT_MS (5 * 60 * 1000ull) /* a drain that cannot begin fails the node */
#define HOOK_TIMEOUT_MS (60 * 60 * 1000)       /* a hook's time before SIGTERM */
#define HOOK_KILL_GRACE_MS 10000
#define HOOK_OUT_MAX 4096

static qb_loop_t *loop;
/* This clusterd: a hook begun by another instance of it was cut short by a restart. */
static uint64_t instance;

/* The runs' changes on their way (a refused one is not sent again for 10 s). */
static struct cd_sendonce sent = {.what = "maintenance", .refused_pause_ms = 10000};

static struct json_object *change(enum cd_change op, const char *name)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "op", json_object_new_string(cd_change_name(op)));
	json_object_object_add(c, "name", json_object_new_string(name));
	json_object_object_add(c, "wall_ms", json_object_new_int64((int64_t)cd_wall_ms()));
	return c;
}

/* A maintenance.step of m's run, under a key naming what it does. */
static void step(const struct cd_maint *m, struct json_object *c, const char *what)
{
	char key[160];

	snprintf(key, sizeof(key), "step:%s:%" PRIu64 ":%u:%s", m->name, m->run.id, m->run.idx,
		 what);
	json_object_object_add(c, "id", json_object_new_int64((int64_t)m->run.id));
	cd_sendonce_send(&sent, key, c);
}

static uint64_t next_of(const struct cd_maint *m)
{
	struct cd_schedule sc;
	char err[160];

	if (!m->every || cd_schedule_parse_every(m->schedule, &sc, err, sizeof(err)) < 0)
		return 0;
	return cd_schedule_next(&sc, cd_wall_ms());
}

static void one_line(char *out, size_t len, const char *text);

static void end_run(const struct cd_maint *m, const char *how, const char *why)
{
	struct json_object *c = change(CD_CHANGE_MAINT_STEP, m->name);
	char line[CD_MAINT_WHY_MAX + 1];

	one_line(line, sizeof(line), why);
	json_object_object_add(c, "end", json_object_new_string(how));
	json_object_object_add(c, "why", json_object_new_string(line));
	json_object_object_add(c, "next_ms", json_object_new_int64((int64_t)next_of(m)));
	step(m, c, how);
}

static void to_phase(const struct cd_maint *m, enum cd_maint_phase p)
{
	struct json_object *c = change(CD_CHANGE_MAINT_STEP, m->name);

	json_object_object_add(c, "phase", json_object_new_string(cd_maint_phase_to_str(p)));
	step(m, c, cd_maint_phase_to_str(p));
}

/* text as one line of at most len - 1 bytes (the state takes no control characters). */
static void one_line(char *out, size_t len, const char *text)
{
	size_t i;

	cd_strlcpy(out, text, len);
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
			out[i] = ' ';
}

static void node_ends(const struct cd_maint *m, bool ok, const char *why)
{
	struct json_object *c = change(CD_CHANGE_MAINT_STEP, m->name);
	char line[CD_MAINT_NODE_WHY_MAX + 1];

	one_line(line, sizeof(line), why);
	json_object_object_add(c, "node_outcome", json_object_new_string(ok ? "done" : "failed"));
	json_object_object_add(c, "why", json_object_new_string(line));
	step(m, c, ok ? "done" : "failed");
}

/* Whether the cluster may take node out now; why not in why. */
static bool gate_open(const struct cd_state *s, const struct cd_node *node, char *why, size_t len)
{
	char vol[64];
	size_t i;

	if (!cd_replica_quorate()) {
		snprintf(why, len, "the cluster is not quorate");
		return false;
	}
	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node *n = &s->nodes[i];

		if (n == node)
			continue;
		if (!n->member || n->dead || n->maintenance) {
			snprintf(why, len, "%s is %s", n->info.name,
				 !n->member || n->dead ? "offline" : "paused");
			return false;
		}
		/* Back from its restart, it takes VMs once it holds its host leases again. */
		if (!cd_volmgr_host_ready(n->info.id, vol, sizeof(vol))) {
			snprintf(why, len, "%s does not hold its host lease on volume %s yet",
				 n->info.name, vol);
			return false;
		}
	}
	for (i = 0; i < s->n_vms; i++)
		if (s->vms[i]->state == CD_VM_FAILED) {
			snprintf(why, len, "VM %s has failed", s->vms[i]->name);
			return false;
		}
	for (i = 0; i < s->n_volumes; i++)
		if (!s->volumes[i].coordinator) {
			snprintf(why, len, "volume %s has no coordinator", s->volumes[i].name);
			return false;
		}
	return true;
}

static void begin_run(const struct cd_state *s, const struct cd_maint *m)
{
	struct json_object *c = change(CD_CHANGE_MAINT_STEP, m->name), *a = json_object_new_array();
	char key[160];
	size_t i;

	if (m->all_nodes)
		for (i = 0; i < s->n_nodes; i++)
			json_object_array_add(a, json_object_new_string(s->nodes[i].info.name));
	else
		for (i = 0; i < m->n_nodes; i++)
			json_object_array_add(a, json_object_new_string(m->nodes[i]));
	json_object_object_add(c, "begin", json_object_new_boolean(true));
	json_object_object_add(c, "nodes", a);
	json_object_object_add(c, "id", json_object_new_int64(0));
	snprintf(key, sizeof(key), "begin:%s:%" PRIu64, m->name, m->next_ms);
	qb_log(LOG_NOTICE, "maintenance %s: a run begins", m->name);
	cd_sendonce_send(&sent, key, c);
}

/* The hook of phase PRE or POST: the node runs it; here only its outcome counts. */
static void hook_phase(const struct cd_maint *m, const char *node, enum cd_maint_phase next)
{
	const struct cd_maint_run *r = &m->run;
	char why[CD_MAINT_WHY_MAX + 1];

	if (r->hook_state == CD_MHOOK_DONE) {
		if (r->hook_rc == 0) {
			to_phase(m, next);
			return;
		}
		snprintf(why, sizeof(why), "its %s command exited %d: %.180s",
			 cd_maint_phase_to_str(r->phase), r->hook_rc, r->hook_output);
		node_ends(m, false, why);
		return;
	}
	if (cd_wall_ms() > r->phase_ms + HOOK_TIMEOUT_MS + 2 * HOOK_KILL_GRACE_MS +
				   (r->hook_state == CD_MHOOK_STARTED ? BACK_WAIT_MS : 0)) {
		snprintf(why, sizeof(why), "its %s command on %s did not end in time",
			 cd_maint_phase_to_str(r->phase), node);
		node_ends(m, false, why);
	}
}

/* node.drain of node name, in m's mode, once per node of the run (again after a refusal). */
static void ask_drain(const struct cd_maint *m, const char *name)
{
	struct json_object *c = cd_node_drain_change(name, m->mode, cd_wall_ms());
	char key[160];

	snprintf(key, sizeof(key), "drain:%s:%" PRIu64 ":%u", m->name, m->run.id, m->run.idx);
	if (cd_sendonce_may(&sent, key))
		cd_sendonce_send(&sent, key, c);
	else
		json_object_put(c);
}

static void move_on(const struct cd_state *s, const struct cd_maint *m)
{
	const struct cd_maint_run *r = &m->run;
	const char *name = r->nodes[r->idx].node;
	const struct cd_node *n = cd_state_node_by_name(s, name);
	uint64_t now = cd_wall_ms();
	char why[CD_MAINT_WHY_MAX + 1];

	if (r->failed >= m->max_failed) {
		snprintf(why, sizeof(why), "%u node%s failed (at most %u)", r->failed,
			 r->failed == 1 ? "" : "s", m->max_failed);
		end_run(m, "failed", why);
		return;
	}
	if (m->window_ms && now > r->began_ms + m->window_ms) {
		snprintf(why, sizeof(why), "its window ended with %s at %s", name,
			 cd_maint_phase_to_str(r->phase));
		end_run(m, "window", why);
		return;
	}
	if (!n) {
		node_ends(m, false, "no such node any more");
		return;
	}
	switch (r->phase) {
	case CD_MPHASE_GATE:
		if (!gate_open(s, n, why, sizeof(why))) {
			static char said[CD_MAINT_WHY_MAX + 1];

			if (strcmp(said, why) != 0) {
				qb_log(LOG_NOTICE,
				       "maintenance %s: %s waits at the health gate: %s", m->name,
				       name, why);
				cd_strlcpy(said, why, sizeof(said));
			}
			if (now > r->phase_ms + GATE_WAIT_MS) {
				char w2[CD_MAINT_WHY_MAX + 1];

				snprintf(w2, sizeof(w2), "the health gate stayed shut: %.200s",
					 why);
				node_ends(m, false, w2);
			}
			return;
		}
		ask_drain(m, name);
		to_phase(m, CD_MPHASE_DRAIN);
		return;
	case CD_MPHASE_DRAIN:
		if (n->drain.state == CD_DRAIN_RUNNING)
			return;
		/* Only a drain begun by this run counts: its id is newer than the run's. */
		if (n->drain.id <= r->id) {
			if (now > r->phase_ms + DRAIN_BEGIN_WAIT_MS) {
				node_ends(m, false, "its drain could not begin");
				return;
			}
			ask_drain(m, name); /* again, once a refusal's pause is over */
			return;
		}
		if (n->drain.state == CD_DRAIN_DRAINED) {
			to_phase(m, m->pre[0] ? CD_MPHASE_PRE : CD_MPHASE_BACK);
			return;
		}
		snprintf(why, sizeof(why), "its drain %s: %.200s",
			 cd_drain_state_to_str(n->drain.state), n->drain.why);
		node_ends(m, false, why);
		return;
	case CD_MPHASE_PRE:
		hook_phase(m, name, CD_MPHASE_BACK);
		return;
	case CD_MPHASE_BACK:
		if (n->member && !n->dead && cd_replica_quorate()) {
			to_phase(m, m->post[0] ? CD_MPHASE_POST : CD_MPHASE_RESUME);
		} else if (now > r->phase_ms + BACK_WAIT_MS) {
			snprintf(why, sizeof(why), "%s did not come back in time", name);
			node_ends(m, false, why);
		}
		return;
	case CD_MPHASE_POST:
		hook_phase(m, name, CD_MPHASE_RESUME);
		return;
	case CD_MPHASE_RESUME: {
		struct json_object *c = cd_node_change(CD_CHANGE_NODE_RESUME, name, cd_wall_ms());
		char key[160];

		json_object_object_add(c, "failback", json_object_new_string("policy"));
		snprintf(key, sizeof(key), "resume:%s:%" PRIu64 ":%u", m->name, r->id, r->idx);
		cd_sendonce_send(&sent, key, c);
		node_ends(m, true, "");
		return;
	}
	}
}

/* --- the hooks asked of this node --- */

static struct {
	struct cd_child *child;
	char name[64];
	uint64_t run, hook;
} hk;

static void hook_report(const char *name, uint64_t run, uint64_t hook, const char *state, int rc,
			const char *output)
{
	struct json_object *c = change(CD_CHANGE_MAINT_HOOK, name);
	char key[160];

	json_object_object_add(c, "id", json_object_new_int64((int64_t)run));
	json_object_object_add(c, "hook_id", json_object_new_int64((int64_t)hook));
	json_object_object_add(c, "node", json_object_new_int64(cd_membership_local_nodeid()));
	json_object_object_add(c, "state", json_object_new_string(state));
	json_object_object_add(c, "rc", json_object_new_int(rc));
	json_object_object_add(c, "output", json_object_new_string(output ? output : ""));
	json_object_object_add(c, "epoch", json_object_new_int64((int64_t)instance));
	snprintf(key, sizeof(key), "hook:%s:%" PRIu64 ":%s", name, hook, state);
	cd_sendonce_send(&sent, key, c);
}

/* The end of s (at most CD_MAINT_OUTPUT_MAX bytes) into out, lines and tabs kept, no other control.
 */
static const char *tail(char *out, const char *s, size_t len)
{
	size_t i;

	cd_strlcpy(out, len > CD_MAINT_OUTPUT_MAX ? s + len - CD_MAINT_OUTPUT_MAX : s,
		   CD_MAINT_OUTPUT_MAX + 1);
	for (i = 0; out[i]; i++)
		if (((unsigned char)out[i] < 0x20 && out[i] != '\n' && out[i] != '\t') ||
		    out[i] == 0x7f)
			out[i] = ' ';
	return out;
}

static void hook_ended(void *ctx, const struct cd_child_result *r)
{
	int rc = r->exit_status >= 0 ? r->exit_status : -1;
	char buf[CD_MAINT_OUTPUT_MAX + 1];
	const char *out =
		r->out_len ? tail(buf, r->out, r->out_len) : tail(buf, r->err, r->err_len);

	qb_log(rc == 0 ? LOG_NOTICE : LOG_WARNING, "maintenance %s: the hook on this node %s %d%s",
	       hk.name, r->exit_status >= 0 ? "exited" : "was killed by signal",
	       r->exit_status >= 0 ? r->exit_status : r->signal,
	       r->timed_out ? " (it outlived its time)" : "");
	hook_report(hk.name, hk.run, hk.hook, "done", rc, out);
	hk.child = NULL;
}

static void hook_start(const struct cd_maint *m, const char *cmd)
{
	char sh[] = "sh", dash_c[] = "-c", *argv[4] = {sh, dash_c, NULL, NULL};
	char env_name[96], env_node[96], env_run[64],
		env_path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	char *envp[] = {env_name, env_node, env_run, env_path, NULL};
	const struct cd_node *me =
		cd_state_node_by_id(cd_replica_state(), cd_membership_local_nodeid());
	struct cd_child_spec spec = {
		.path = "/bin/sh",
		.argv = argv,
		.envp = envp,
		.out_max = HOOK_OUT_MAX,
		.timeout_ms = HOOK_TIMEOUT_MS,
		.kill_grace_ms = HOOK_KILL_GRACE_MS,
	};
	int rc;

	argv[2] = (char *)cmd;
	snprintf(env_name, sizeof(env_name), "CD_MAINT_NAME=%s", m->name);
	snprintf(env_node, sizeof(env_node), "CD_MAINT_NODE=%s", me ? me->info.name : "");
	snprintf(env_run, sizeof(env_run), "CD_MAINT_RUN=%" PRIu64, m->run.id);
	cd_strlcpy(hk.name, m->name, sizeof(hk.name));
	hk.run = m->run.id;
	hk.hook = m->run.hook_id;
	rc = cd_child_start(loop, &spec, hook_ended, NULL, &hk.child);
	if (rc < 0) {
		qb_log(LOG_WARNING, "maintenance %s: cannot run its hook: %s", m->name,
		       cd_strerror(rc));
		hk.child = NULL;
		hook_report(m->name, m->run.id, m->run.hook_id, "done", 127, "cannot run /bin/sh");
		return;
	}
	qb_log(LOG_NOTICE, "maintenance %s: running its %s command on this node", m->name,
	       cd_maint_phase_to_str(m->run.phase));
}

/* This node's part of m's run: the hook asked of it. */
static void hooks_here(const struct cd_maint *m)
{
	const struct cd_maint_run *r = &m->run;
	const struct cd_node *me =
		cd_state_node_by_id(cd_replica_state(), cd_membership_local_nodeid());
	const char *cmd = r->phase == CD_MPHASE_PRE ? m->pre : m->post;
	bool mine_running = hk.child && hk.hook == r->hook_id && strcmp(hk.name, m->name) == 0;

	if (!me || r->outcome != CD_MRUN_RUNNING || r->idx >= r->n_nodes || !r->hook_id ||
	    (r->phase != CD_MPHASE_PRE && r->phase != CD_MPHASE_POST) ||
	    strcmp(r->nodes[r->idx].node, me->info.name) != 0)
		return;
	if (r->hook_state == CD_MHOOK_NONE) {
		/* Said first, run once the cluster has it: never run twice. */
		hook_report(m->name, r->id, r->hook_id, "started", 0, "");
	} else if (r->hook_state == CD_MHOOK_STARTED && !mine_running && !hk.child) {
		if (r->hook_epoch == instance && hk.hook != r->hook_id) {
			hook_start(m, cmd);
		} else if (hk.hook != r->hook_id) {
			/* Begun before a restart of clusterd or of the node: it restarted during
			 * it. */
			hook_report(m->name, r->id, r->hook_id, "done", 0,
				    "the node (or clusterd) restarted during the command");
		}
	}
}

void cd_maint_decide(void)
{
	const struct cd_state *s = cd_replica_state();
	bool coordinator = cd_replica_coordinator() == cd_membership_local_nodeid();
	uint64_t now = cd_wall_ms();
	size_t i;

	for (i = 0; i < s->n_maints; i++) {
		const struct cd_maint *m = &s->maints[i];

		hooks_here(m);
		if (!coordinator)
			continue;
		if (m->run.id && m->run.outcome == CD_MRUN_RUNNING)
			move_on(s, m);
		else if (m->next_ms && now >= m->next_ms)
			begin_run(s, m);
	}
}

void cd_maint_init(qb_loop_t *l)
{
	loop = l;
	instance = cd_random_id();
}

void cd_maint_fini(void)
{
	if (hk.child)
		cd_child_abandon(hk.child);
	hk.child = NULL;
	cd_sendonce_fini(&sent);
}
