/*
 * How this node settles a live move (lrm_int.h): it looks at both ends'
 * domains, its own and (through the other node's libvirtd) the other's,
 * has core/move_settle.h decide, carries out the fixes that decision needs
 * (a power-off at either end, a resume here) and reports the outcome. The
 * line is "settling" from the first look to the decision; an undecided
 * move is looked at again a second later.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "clusterd/lrm_int.h"
#include "clusterd/timing.h"
#include "core/move_settle.h"
#include "lib/jsonget.h"
#include "lib/util.h"

/* How long an undecided move waits before its ends are looked at again. */
#define SETTLE_AGAIN_MS 1000

/* --- settling: both ends' real state decides --- */

struct settle {
	char name[64];
	uint64_t action;
	bool orphan;	/* this node is the target of a move whose source died */
	char peer[256]; /* the other end's libvirtd; "" if it died */
	enum cd_domain_status here, there;
	bool here_paused, there_paused;
	char there_err[200];
	struct lrm_times times;
	void (*then)(struct settle *x); /* after a fix (a power-off, a resume) worked */
};

/*
 * The settling is over (x freed): the line is free again; v's move still
 * the one it settled, or NULL.
 */
static struct lvm *settled(struct settle *x, const char *why)
{
	struct lvm *v = lvm_find(x->name);

	if (v)
		lrm_step(v, CD_LRM_EV_SETTLED, why);
	if (v && v->move_action != x->action)
		v = NULL;
	return v;
}

/* Undecided: look again a little later. */
static void again(struct settle *x, const char *why)
{
	struct lvm *v = settled(x, "undecided");

	vm_log(LOG_WARNING, x->name, "move not settled yet: %s; looking again", why);
	if (v)
		v->next_settle = cd_now_ms() + SETTLE_AGAIN_MS;
	free(x);
	cd_lrm_state_changed();
}

/* It runs on this node, the source: the move did not happen. */
static void stayed(struct settle *x)
{
	struct lvm *v = settled(x, "runs here");
	const char *err = v && v->move_err[0] ? v->move_err : NULL;

	vm_log(LOG_NOTICE, x->name, "the move is over: it runs here%s%s", err ? " (" : "",
	       err ? err : "");
	lrm_report(x->name, x->action, "running", err);
	free(x);
}

/* It runs on the target: this node gives its leases up, then says so. */
static void moved(struct settle *x)
{
	struct lvm *v = settled(x, "runs on the target");

	vm_log(LOG_NOTICE, x->name,
	       "the move is over: it runs on the target (libvirt downtime %" PRIu64 " ms, %" PRIu64
	       " ms in all)",
	       x->times.downtime_ms, x->times.total_ms);
	if (v)
		lrm_release_then_report_times(v, x->action, "moved", NULL, &x->times);
	else
		lrm_report_times(x->name, x->action, "moved", NULL, &x->times);
	free(x);
}

/* It runs on neither end: both domains are known gone. */
static void failed(struct settle *x)
{
	struct lvm *v = settled(x, "runs nowhere");
	char why[CD_VM_ERROR_MAX + 64];

	snprintf(why, sizeof(why), "the move left it running on neither node%s%.180s",
		 v && v->move_err[0] ? ": " : "", v ? v->move_err : "");
	vm_log(LOG_ERR, x->name, "%s", why);
	if (v)
		lrm_release_then_report(v, x->action, "failed", why);
	else
		lrm_report(x->name, x->action, "failed", why);
	free(x);
}

/* An orphaned move's target keeps what runs here. */
static void kept(struct settle *x)
{
	settled(x, "runs here");
	vm_log(LOG_NOTICE, x->name, "its move's source died; it runs here, the target");
	lrm_report(x->name, x->action, "running", NULL);
	free(x);
}

static void fixed(void *ctx, const struct cd_agent_result *r)
{
	struct settle *x = ctx;

	if (r->rc < 0) {
		char why[300];

		snprintf(why, sizeof(why), "a fix failed: %s", r->err);
		again(x, why);
		return;
	}
	x->then(x);
}

/* Power this node's copy off, then go on with then. */
static void off_here(struct settle *x, void (*then)(struct settle *x))
{
	vm_log(LOG_WARNING, x->name, "powering off the copy here");
	x->then = then;
	if (cd_vm_agent_call(CD_AGENT_DESTROY, x->name, NULL, lrm_move_timeout(), fixed, x) < 0)
		again(x, "out of memory");
}

/* Power the other end's copy off (through its libvirtd), then go on with then. */
static void off_there(struct settle *x, void (*then)(struct settle *x))
{
	vm_log(LOG_WARNING, x->name, "powering off the copy on the target (%s)", x->peer);
	x->then = then;
	if (cd_vm_agent_peer_destroy(x->name, x->peer, lrm_move_timeout(), fixed, x) < 0)
		again(x, "out of memory");
}

static void resume_here(struct settle *x)
{
	vm_log(LOG_NOTICE, x->name, "resuming it here: the target does not run it");
	x->then = stayed;
	if (cd_vm_agent_call(CD_AGENT_RESUME, x->name, NULL, lrm_move_timeout(), fixed, x) < 0)
		again(x, "out of memory");
}

static void got_times(void *ctx, const struct cd_agent_result *r)
{
	struct settle *x = ctx;
	struct json_object *o = r->rc == 0 && r->xml ? json_tokener_parse(r->xml) : NULL;
	uint64_t ms, data, elapsed;

	if (o && cd_jget_u64(o, "downtime_ms", &ms) == 0)
		x->times.downtime_ms = ms;
	/* What it sent over the time it took: the copy rate, if it sent enough to tell. */
	if (o && cd_jget_u64(o, "data_processed", &data) == 0 &&
	    cd_jget_u64(o, "time_elapsed_ms", &elapsed) == 0 && elapsed &&
	    data >= ((uint64_t)CD_MOVE_RATE_MIN_MIB << 20))
		x->times.rate_mib_s = (data >> 20) * 1000 / elapsed;
	json_object_put(o);
	moved(x);
}

/* It runs on the target: how long it stood still, as the target's libvirt measured it. */
static void moved_measured(struct settle *x)
{
	if (cd_vm_agent_job_stats(x->name, x->peer, true, lrm_move_timeout(), got_times, x) < 0)
		moved(x);
}

static enum cd_settle_end end_of(enum cd_domain_status st, bool paused)
{
	switch (st) {
	case CD_DOMAIN_RUNNING:
		return paused ? CD_END_PAUSED : CD_END_RUNS;
	case CD_DOMAIN_STOPPED:
	case CD_DOMAIN_FAILED:
		return CD_END_GONE;
	case CD_DOMAIN_UNKNOWN:
		break;
	}
	return CD_END_UNKNOWN;
}

/* Both ends looked at: carry out what move_settle.h decides. */
static void decide(struct settle *x)
{
	struct lvm *v = lvm_find(x->name);
	struct cd_settle_in in = {
		.orphan = x->orphan,
		.here = end_of(x->here, x->here_paused),
		.there = x->peer[0] ? end_of(x->there, x->there_paused) : CD_END_GONE,
		.paused_looks = v ? v->paused_looks : 0,
	};
	const char *why = NULL;
	enum cd_settle_do d = cd_settle_decide(&in, &why);

	vm_log(d == CD_SETTLE_OFF_THERE_STAYED ? LOG_CRIT : LOG_INFO, x->name,
	       "move: here %s, %s: %s", cd_settle_end_to_str(in.here),
	       x->orphan    ? "the source dead"
	       : x->peer[0] ? cd_settle_end_to_str(in.there)
			    : "the target dead",
	       why);
	switch (d) {
	case CD_SETTLE_STAYED:
		stayed(x);
		break;
	case CD_SETTLE_OFF_THERE_STAYED:
		off_there(x, stayed);
		break;
	case CD_SETTLE_RESUME:
		resume_here(x);
		break;
	case CD_SETTLE_OFF_THERE_RESUME:
		off_there(x, resume_here);
		break;
	case CD_SETTLE_MOVED:
		moved_measured(x);
		break;
	case CD_SETTLE_OFF_HERE_MOVED:
		off_here(x, moved_measured);
		break;
	case CD_SETTLE_FAILED:
		failed(x);
		break;
	case CD_SETTLE_OFF_THERE_FAILED:
		off_there(x, failed);
		break;
	case CD_SETTLE_OFF_HERE_FAILED:
		off_here(x, failed);
		break;
	case CD_SETTLE_KEPT:
		kept(x);
		break;
	case CD_SETTLE_AGAIN:
		if (v && in.here == CD_END_GONE && in.there == CD_END_PAUSED)
			v->paused_looks++;
		again(x, in.there == CD_END_UNKNOWN && x->there_err[0] ? x->there_err : why);
		break;
	}
}

static void got_there(void *ctx, const struct cd_agent_result *r)
{
	struct settle *x = ctx;

	x->there = r->rc < 0 ? CD_DOMAIN_UNKNOWN : r->status;
	x->there_paused = r->paused;
	if (r->rc < 0)
		snprintf(x->there_err, sizeof(x->there_err), "the target's libvirtd: %s", r->err);
	decide(x);
}

/* Both ends looked at here: ask the other end, unless there is none to ask. */
static void look_there(struct settle *x)
{
	if (x->orphan || !x->peer[0])
		decide(x); /* the target died (or this is it): nothing to ask there */
	else if (cd_vm_agent_peer_status(x->name, x->peer, lrm_move_timeout(), got_there, x) < 0)
		again(x, "out of memory");
}

/*
 * Whether libvirt still runs a job of the domain here: a migration begun
 * by this node's clusterd before it restarted goes on without it, and
 * ends the move by itself. Nothing is decided while one runs.
 */
static void got_job(void *ctx, const struct cd_agent_result *r)
{
	struct settle *x = ctx;
	const struct cd_vm *vm;
	struct lvm *v;
	struct json_object *o = r->rc == 0 && r->xml ? json_tokener_parse(r->xml) : NULL;
	const char *type = o ? cd_jget_str(o, "type") : NULL;
	bool busy = type && (strcmp(type, "bounded") == 0 || strcmp(type, "unbounded") == 0);

	json_object_put(o);
	if (!busy) {
		look_there(x);
		return;
	}
	/* A job this process did not begin is called off as well when the move is. */
	if ((vm = lrm_state_vm(x->name)) && vm->state == CD_VM_MIGRATING &&
	    vm->move.phase == CD_MOVE_ABORTING && (v = lvm_find(x->name)) && !v->abort_sent)
		lrm_move_abort(v);
	again(x, "a migration job of it still runs here");
}

static void got_here(void *ctx, const struct cd_agent_result *r)
{
	struct settle *x = ctx;

	x->here = r->status;
	x->here_paused = r->paused;
	if (x->here == CD_DOMAIN_UNKNOWN)
		again(x, r->err && *r->err ? r->err : "cannot read the domain here");
	else if (!x->orphan && x->here == CD_DOMAIN_RUNNING &&
		 cd_vm_agent_job_stats(x->name, NULL, false, lrm_move_timeout(), got_job, x) == 0)
		return;
	else
		look_there(x);
}

void lrm_settle(struct lvm *v, const struct cd_vm *vm, bool orphan)
{
	struct settle *x;

	if (cd_now_ms() < v->next_settle)
		return;
	x = calloc(1, sizeof(*x));
	if (!x)
		return;
	cd_strlcpy(x->name, vm->name, sizeof(x->name));
	x->action = vm->action_id;
	x->orphan = orphan;
	x->there = CD_DOMAIN_STOPPED;
	x->times.total_ms = v->move_begun ? cd_now_ms() - v->move_begun : 0;
	/*
	 * The dirty rate this node (the source) measured before this move's
	 * copy, else the most the copy saw after its first pass.
	 */
	if (v->move_action == vm->action_id && (v->dirty_mibs >= 0 || v->dirty_seen_mibs >= 0)) {
		x->times.dirty_measured = true;
		x->times.dirty_mib_s =
			(uint64_t)(v->dirty_mibs >= 0 ? v->dirty_mibs : v->dirty_seen_mibs);
	}
	if (!orphan && vm->move.target && !vm->move.target_lost &&
	    lrm_node_uris(vm->move.target, x->peer, sizeof(x->peer), NULL, 0) < 0)
		x->peer[0] = '\0';
	if (cd_vm_agent_call(CD_AGENT_STATUS, vm->name, NULL, lrm_move_timeout(), got_here, x) <
	    0) {
		free(x);
		return;
	}
	lrm_step(v, CD_LRM_EV_SETTLE, orphan ? "orphaned" : cd_move_phase_to_str(vm->move.phase));
}
