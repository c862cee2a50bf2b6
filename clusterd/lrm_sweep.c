/*
 * The local resource manager's acts on every VM of the node at once
 * (lrm_int.h): the power-off when a host lease lapses, the self-fence, the
 * freeze and the thaw.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "clusterd/lrm_int.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "lib/looptimer.h"
#include "lib/util.h"

/* --- a host lease lapsed: every VM of the node powered off --- */

static void group_put(struct group *g, bool ok)
{
	if (!g)
		return;
	g->ok = g->ok && ok;
	if (--g->pending > 0)
		return;
	if (g->off)
		g->off(g->ctx, g->ok);
	free(g);
}

static void fenced_done(void *ctx, const struct cd_agent_result *r);

/* A power-off after a lapse, done again once the start under way has returned. */
struct refence {
	char name[64];
	struct group *group;
	qb_loop_timer_handle timer;
};

static void refence(void *data)
{
	struct refence *f = data;
	struct lvm *v = lvm_get(f->name);

	if (v && lrm_start_under_way(v, f->name)) {
		cd_timer_add(lrm.loop, QB_LOOP_HIGH, CD_LRM_RECHECK_MS * 1000000ull, f, refence,
			     &f->timer);
		return;
	}
	if (!v || lrm_call_power_off(v, fenced_done, f->group) < 0) {
		vm_log(LOG_CRIT, f->name, "cannot power off");
		group_put(f->group, false);
	} else {
		group_put(f->group, true); /* the new call holds the group now */
	}
	free(f);
}

static void fenced_done(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_get(c->name);
	struct refence *f;

	if (v) {
		if (v->beside > 0)
			v->beside--;
		v->n_held = 0; /* void with the host lease */
	}
	if (r->rc == 0 && r->status == CD_DOMAIN_STOPPED && lrm_start_under_way(v, c->name)) {
		/*
		 * Off now, but a start begun before the lapse has not returned
		 * and may yet bring it up: reporting it failed would let it
		 * start elsewhere as well. Power off again once it has returned.
		 */
		f = calloc(1, sizeof(*f));
		if (!f) {
			vm_log(LOG_CRIT, c->name, "cannot power off again: out of memory");
			group_put(c->group, false);
			free(c);
			return;
		}
		vm_log(LOG_WARNING, c->name,
		       "off, but its start has not returned: powering off "
		       "again once it has");
		cd_strlcpy(f->name, c->name, sizeof(f->name));
		f->group = c->group;
		if (f->group)
			f->group->pending++;
		cd_timer_add(lrm.loop, QB_LOOP_HIGH, CD_LRM_RECHECK_MS * 1000000ull, f, refence,
			     &f->timer);
		group_put(c->group, true);
		free(c);
		return;
	}
	/* A VM on its way to stopped is stopped now: its stop is done, as asked. */
	if (r->rc == 0 && r->status == CD_DOMAIN_STOPPED)
		lrm_report_beside(c->name, 0,
				  cd_vm_lapse_report(cd_state_vm(cd_replica_state(), c->name),
						     cd_membership_local_nodeid()),
				  "powered off: its storage lease was lost");
	else
		vm_log(LOG_CRIT, c->name,
		       "could not be powered off after its storage lease was "
		       "lost: %s",
		       r->err);
	group_put(c->group, r->rc == 0 && r->status == CD_DOMAIN_STOPPED);
	free(c);
}

void cd_lrm_storage_lost(const char *vol, const char *dir, void (*off)(void *ctx, bool ok),
			 void *ctx)
{
	const struct cd_state *s = cd_replica_state();
	struct group *g = calloc(1, sizeof(*g));
	size_t i;

	if (!g) {
		if (off)
			off(ctx, false);
		off = NULL;
	} else {
		/* One reference held until every call is under way. */
		g->pending = 1;
		g->ok = true;
		g->off = off;
		g->ctx = ctx;
	}

	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *vm = s->vms[i];
		struct lvm *v;

		/*
		 * Every VM of the node, not only those on this volume: the
		 * others call this node dead only when every volume shows its
		 * lease gone (deadrule.h), and a lapse anywhere must mean that
		 * nothing of it runs any more.
		 */
		v = lrm_mine_lvm(vm);
		if (!v)
			continue;
		vm_log(LOG_CRIT, vm->name,
		       "this node's host lease on volume %s lapsed: powering off (%s)", vol,
		       vm->xml && strstr(vm->xml, dir) ? "it uses the volume"
						       : "a lapse on any volume stops every VM");
		/* A start under way is carried no further (acquired, lrm_start_done). */
		lrm_step(v, CD_LRM_EV_VOID, "its disk leases were voided");
		/* Beside the line, not behind it: this must not wait. */
		if (lrm_call_power_off(v, fenced_done, g) < 0) {
			vm_log(LOG_CRIT, vm->name, "cannot power off");
			if (g)
				g->ok = false;
		}
	}
	group_put(g, true);
}

/* --- self-fencing and freezing: one operation on every domain here --- */

struct sweep {
	enum cd_agent_op op;
	const char *why;	  /* logged for each domain */
	void (*done[2])(bool ok); /* a shutdown may come during a self-fence */
	int pending;
	bool ok;
	bool running;
	bool start_at_list; /* a start was under way when this pass listed the domains */
	bool said_again;    /* "sweeping again" was logged in this run */
	qb_loop_timer_handle timer;
};

static struct sweep fence_sweep = {.op = CD_AGENT_DESTROY, .why = "no quorum: powering off"};
static struct sweep freeze_sweep = {.op = CD_AGENT_SUSPEND, .why = "no quorum: pausing (freeze)"};

/* The domains the freeze paused: only those are resumed. */
static char (*frozen)[64];
static size_t n_frozen;
static bool thaw_after_freeze; /* quorum came back while the freeze ran */

static void frozen_add(const char *name)
{
	char(*n)[64] = realloc(frozen, (n_frozen + 1) * sizeof(*n));

	if (!n)
		return;
	frozen = n;
	cd_strlcpy(frozen[n_frozen++], name, sizeof(*frozen));
}

static void sweep_list(struct sweep *sw);

static void resweep(void *data)
{
	sweep_list(data);
}

static void sweep_finish(struct sweep *sw)
{
	void (*done[2])(bool ok) = {sw->done[0], sw->done[1]};

	if (sw->pending > 0 || !sw->running)
		return;
	if (sw->op == CD_AGENT_DESTROY && (sw->start_at_list || lrm_any_start_under_way())) {
		/*
		 * A start that was under way when the domains were listed may
		 * have created one since, or may yet: list and power off again.
		 * Only a pass that began with no start under way (the gate lets
		 * none begin now) has seen every domain.
		 */
		if (!sw->said_again)
			vm_log(LOG_WARNING, "*",
			       "self-fence: a start was under way: sweeping again "
			       "until a pass begins with none");
		sw->said_again = true;
		cd_timer_add(lrm.loop, QB_LOOP_HIGH, CD_LRM_RECHECK_MS * 1000000ull, sw, resweep,
			     &sw->timer);
		return;
	}
	sw->running = false;
	if (sw->op == CD_AGENT_DESTROY)
		vm_log(sw->ok ? LOG_WARNING : LOG_CRIT, "*", "self-fence %s",
		       sw->ok ? "complete: no domain runs here"
			      : "INCOMPLETE: a domain may still run");
	else
		vm_log(sw->ok ? LOG_WARNING : LOG_ERR, "*", "freeze %s",
		       sw->ok ? "complete: every domain here is paused" : "incomplete");
	if (done[0])
		done[0](sw->ok);
	if (done[1])
		done[1](sw->ok);
	if (sw == &freeze_sweep && thaw_after_freeze) {
		thaw_after_freeze = false;
		cd_lrm_thaw();
	}
}

struct sweep_call {
	struct sweep *sw;
	char name[64];
};

static void sweep_one_done(void *ctx, const struct cd_agent_result *r)
{
	struct sweep_call *c = ctx;
	struct sweep *sw = c->sw;
	bool ok = sw->op == CD_AGENT_DESTROY ? r->rc == 0 && r->status == CD_DOMAIN_STOPPED
					     : r->rc == 0;

	if (ok && sw->op == CD_AGENT_SUSPEND)
		frozen_add(c->name);
	if (!ok) {
		vm_log(LOG_CRIT, c->name, "could not %s: %s",
		       sw->op == CD_AGENT_DESTROY ? "be powered off" : "be paused", r->err);
		sw->ok = false;
	}
	free(c);
	sw->pending--;
	sweep_finish(sw);
}

static void sweep_listed(void *ctx, const struct cd_agent_result *r)
{
	struct sweep *sw = ctx;
	const char *p = r->names;

	sw->pending--;
	if (r->rc < 0 || !p) {
		vm_log(LOG_CRIT, "*", "%s: cannot list domains: %s", sw->why, r->err);
		sw->ok = false;
		sweep_finish(sw);
		return;
	}
	while (*p) {
		size_t n = strcspn(p, "\n");
		struct sweep_call *c = calloc(1, sizeof(*c));

		if (c) {
			c->sw = sw;
			snprintf(c->name, sizeof(c->name), "%.*s", (int)(n < 63 ? n : 63), p);
			vm_log(LOG_WARNING, c->name, "%s", sw->why);
			if (cd_vm_agent_call(sw->op, c->name, NULL, lrm.cfg.call_timeout_ms,
					     sweep_one_done, c) == 0)
				sw->pending++;
			else {
				free(c);
				sw->ok = false;
			}
		} else {
			sw->ok = false;
		}
		p += n + (p[n] == '\n');
	}
	sweep_finish(sw);
}

static void sweep(struct sweep *sw, void (*done)(bool ok))
{
	if (sw->running) {
		if (sw->done[0] != done)
			sw->done[1] = done;
		return;
	}
	sw->running = true;
	sw->said_again = false;
	sw->done[0] = done;
	sw->done[1] = NULL;
	sw->ok = true;
	sweep_list(sw);
}

/* List the active domains, then act on each (sweep_listed). */
static void sweep_list(struct sweep *sw)
{
	/*
	 * Each pass judges anew: a power-off that failed in an earlier pass
	 * (a destroy that timed out behind a start) is tried again in this
	 * one, whose list has every domain still active.
	 */
	sw->ok = true;
	sw->start_at_list = lrm_any_start_under_way();
	sw->pending = 1;
	if (cd_vm_agent_call(CD_AGENT_LIST, "-", NULL, lrm.cfg.call_timeout_ms, sweep_listed, sw) <
	    0) {
		sw->pending = 0;
		sw->ok = false;
		sweep_finish(sw);
	}
}

void cd_lrm_self_fence(void (*done)(bool ok))
{
	lrm.no_starts = true;
	n_frozen = 0; /* nothing is to be resumed any more */
	thaw_after_freeze = false;
	sweep(&fence_sweep, done);
}

void cd_lrm_freeze(void (*done)(bool ok))
{
	sweep(&freeze_sweep, done);
}

static void thawed(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx;

	if (r->rc < 0)
		vm_log(LOG_ERR, name, "could not be resumed: %s", r->err);
	else
		vm_log(LOG_NOTICE, name, "resumed: quorum is back");
	free(name);
}

void cd_lrm_thaw(void)
{
	size_t i;

	if (freeze_sweep.running) {
		thaw_after_freeze = true;
		return;
	}
	for (i = 0; i < n_frozen; i++) {
		char *name = strdup(frozen[i]);

		if (name && cd_vm_agent_call(CD_AGENT_RESUME, name, NULL, lrm.cfg.call_timeout_ms,
					     thawed, name) < 0) {
			vm_log(LOG_ERR, name, "cannot resume");
			free(name);
		}
	}
	n_frozen = 0;
}

void lrm_sweep_fini(void)
{
	free(frozen);
	frozen = NULL;
	n_frozen = 0;
}
