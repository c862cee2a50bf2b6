#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/state.h"
#include "core/vm.h"
#include "core/vm_internal.h"
#include "lib/fsm.h"
#include "lib/jsonget.h"
#include "lib/util.h"

/* --- the lifecycle: one table moves every VM's state --- */

static const char *const event_names[] = {
	[CD_VM_EV_START] = "admin start",
	[CD_VM_EV_STOP] = "admin stop",
	[CD_VM_EV_PLACE] = "placement",
	[CD_VM_EV_REPORT_RUNNING] = "report running",
	[CD_VM_EV_REPORT_STOPPED] = "report stopped",
	[CD_VM_EV_REPORT_FAILED] = "report failed",
	[CD_VM_EV_REPORT_OTHER] = "report of a passing state",
	[CD_VM_EV_NODE_DEAD] = "node dead",
	[CD_VM_EV_MOVE] = "move",
	[CD_VM_EV_MOVE_STEP] = "move step",
	[CD_VM_EV_MOVE_CANCEL] = "move cancel",
	[CD_VM_EV_REPORT_MOVED] = "report moved",
	[CD_VM_EV_REPORT_SAVED] = "report saved",
	[CD_VM_EV_RESTORED] = "restored",
	[CD_VM_EV_ADOPT] = "adopted",
};

const char *cd_vm_event_to_str(enum cd_vm_event ev)
{
	return cd_fsm_name(event_names, N_OF(event_names), (int)ev);
}

static void count_failure(struct cd_vm *vm, uint32_t node, uint64_t wall_ms)
{
	if (vm->failed_on != node || vm->fail_count == 0 ||
	    wall_ms > vm->first_fail_ms + CD_VM_FAIL_PERIOD_MS) {
		vm->fail_count = 0;
		vm->first_fail_ms = wall_ms;
		vm->failed_on = node;
	}
	vm->fail_count++;
}

#define FAIL CD_FAIL

/*
 * What a row does besides setting the state. Only a refusal fails, and it
 * changes nothing; the others cannot fail, so a transition is all or nothing.
 */
typedef int row_fn(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		   char *err, size_t errlen);

/* An admin's start is a fresh start: the failure history is forgotten. */
static int admin_start(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		       char *err, size_t errlen)
{
	vm->target_started = true;
	vm->force_stop = false;
	vm->fail_count = 0;
	vm->failed_on = 0;
	vm->last_error[0] = '\0';
	return 0;
}

static int admin_stop(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		      char *err, size_t errlen)
{
	vm->target_started = false;
	vm->force_stop = a->force;
	vm->stop_save = false;
	vm->cold_to = 0;
	return 0;
}

/* ... and its node is to stop it: a new action, so the owner runs it once. */
static int stop_there(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		      char *err, size_t errlen)
{
	admin_stop(s, vm, a, err, errlen);
	vm->action_id = ++s->last_action_id;
	return 0;
}

/*
 * An admin starts a VM whose stop failed on its node: that node powers it
 * off first (it may still run there); stopped, it is placed anew.
 */
static int restart_there(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			 char *err, size_t errlen)
{
	admin_start(s, vm, a, err, errlen);
	vm->force_stop = true;
	vm->action_id = ++s->last_action_id;
	return 0;
}

static int placed(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a, char *err,
		  size_t errlen)
{
	vm->node = a->node;
	vm->action_id = ++s->last_action_id;
	return 0;
}

/* It runs: an error of an earlier report is over, unless this one has its own. */
static int runs(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a, char *err,
		size_t errlen)
{
	if (!a->error)
		vm->last_error[0] = '\0';
	return 0;
}

/*
 * It is not running there: a failure, to be restarted or moved. A failed
 * start is cleaned up by its node; the VM is not there.
 */
static int failed_there(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			char *err, size_t errlen)
{
	count_failure(vm, vm->node, a->wall_ms);
	vm->node = 0;
	return 0;
}

static int stopped_there(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			 char *err, size_t errlen)
{
	vm->node = 0;
	vm->stop_save = false;
	return 0;
}

/*
 * An imported domain that runs on its node already (vm.import): the node
 * holds its disk leases, and it is wanted running there, under a new action
 * so that nothing the node did before is taken for it.
 */
static int adopted(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		   char *err, size_t errlen)
{
	if (!a->node)
		FAIL(CD_ERR_INVALID, "'%s' cannot be adopted on no node", vm->name);
	vm->target_started = true;
	vm->force_stop = false;
	vm->node = a->node;
	vm->action_id = ++s->last_action_id;
	vm->last_error[0] = '\0';
	return 0;
}

/* --- saved states (vm.h: struct cd_vm_saved) --- */

static bool saving(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return a->save;
}

/* vm stop --save: its node saves it into the file named; with resume, still wanted running. */
static int stop_saving(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		       char *err, size_t errlen)
{
	if (!a->volume || !a->file)
		FAIL(CD_ERR_INVALID, "a save of '%s' needs a state file", vm->name);
	stop_there(s, vm, a, err, errlen);
	vm->target_started = a->resume;
	vm->stop_save = true;
	cd_strlcpy(vm->save_volume, a->volume, sizeof(vm->save_volume));
	cd_strlcpy(vm->save_file, a->file, sizeof(vm->save_file));
	return 0;
}

static bool save_asked(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return vm->stop_save;
}

/* The save failed and it still runs there: it stays running (the report says why). */
static int save_failed(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		       char *err, size_t errlen)
{
	vm->target_started = true;
	vm->stop_save = false;
	return 0;
}

static int take_saved(struct cd_vm *vm, const struct cd_vm_event_args *a, char *err, size_t errlen)
{
	if (!a->saved)
		FAIL(CD_ERR_INVALID, "'%s' reported saved without its image", vm->name);
	vm->saved = *a->saved;
	return 0;
}

/* Saved and off: the VM runs nowhere; a start restores it. */
static int saved_there(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		       char *err, size_t errlen)
{
	if (take_saved(vm, a, err, errlen) < 0)
		return CD_ERR_INVALID;
	vm->node = 0;
	vm->stop_save = false;
	return 0;
}

static bool restore_ok(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return a->ok;
}

/* Its node restored it paused: the saved state is consumed (never restored twice). */
static int consumed(struct cd_vm *vm)
{
	memset(&vm->saved, 0, sizeof(vm->saved));
	return 0;
}

/* A start from the saved state: consumed, or (a corrupt image) discarded. */
static int restored_start(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			  char *err, size_t errlen)
{
	if (a->ok || a->corrupt)
		consumed(vm);
	return 0;
}

/* Known dead (fenced, or its lease expired): the VM runs nowhere now. */
static int node_died(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		     char *err, size_t errlen)
{
	vm->node = 0;
	vm->cold_to = 0;
	snprintf(vm->last_error, sizeof(vm->last_error), "node %s died (%s); its VMs run elsewhere",
		 a->node_name, a->how);
	return 0;
}

static int refuse_place(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			char *err, size_t errlen)
{
	FAIL(CD_ERR_INVALID, "VM '%s' is %s already", vm->name, cd_vm_state_to_str(vm->state));
}

static int refuse_report(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			 char *err, size_t errlen)
{
	FAIL(CD_ERR_INVALID, "report on '%s' which is %s", vm->name, cd_vm_state_to_str(vm->state));
}

/* Guards: where the VM is. */
static bool nowhere(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return vm->node == 0;
}

static bool somewhere(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return vm->node != 0;
}

/* --- moves (vm.h: struct cd_vm_move) --- */

static bool moving(enum cd_move_phase p)
{
	return p == CD_MOVE_SHARING || p == CD_MOVE_RECEIVING || p == CD_MOVE_COPYING ||
	       p == CD_MOVE_SAVING;
}

/* A quick move past its save: the VM is the target's, saved or being restored there. */
static bool restoring(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return vm->move.phase == CD_MOVE_RESTORING || vm->move.phase == CD_MOVE_RESUMING;
}

uint32_t cd_vm_move_turn(const struct cd_vm *vm)
{
	if (vm->state != CD_VM_MIGRATING)
		return 0;
	switch (vm->move.phase) {
	case CD_MOVE_RECEIVING:
		return vm->move.target;
	case CD_MOVE_SAVING:
	case CD_MOVE_RESTORING: /* the VM's node is the target by then */
	case CD_MOVE_RESUMING:
	case CD_MOVE_NONE: /* a state written before moves: its node settles it */
	case CD_MOVE_SHARING:
	case CD_MOVE_COPYING:
	case CD_MOVE_ABORTING:
	case CD_MOVE_ORPHANED:
		return vm->node;
	}
	return 0;
}

static int begin_move(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		      char *err, size_t errlen)
{
	if (!a->target || a->target == vm->node)
		FAIL(CD_ERR_INVALID, "VM '%s' runs on that node already", vm->name);
	memset(&vm->move, 0, sizeof(vm->move));
	vm->move.phase = CD_MOVE_SHARING;
	vm->move.mode = a->mode;
	vm->move.source = vm->node;
	vm->move.target = a->target;
	vm->move.begun_ms = a->wall_ms;
	if (a->mode == CD_MOVE_QUICK) {
		if (!a->volume || !a->file)
			FAIL(CD_ERR_INVALID, "a quick move of '%s' needs a state file", vm->name);
		vm->move.phase = CD_MOVE_SAVING;
		cd_strlcpy(vm->move.state_volume, a->volume, sizeof(vm->move.state_volume));
		cd_strlcpy(vm->move.state_file, a->file, sizeof(vm->move.state_file));
	}
	vm->action_id = ++s->last_action_id;
	vm->last_error[0] = '\0';
	return 0;
}

static int refuse_move(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		       char *err, size_t errlen)
{
	FAIL(CD_ERR_INVALID, "VM '%s' is %s: only a running VM moves", vm->name,
	     cd_vm_state_to_str(vm->state));
}

/* A node did its part: the move goes on, or (it could not) is settled back. */
static int move_step(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		     char *err, size_t errlen)
{
	uint32_t turn = cd_vm_move_turn(vm);

	if (a->phase != vm->move.phase || a->node != turn ||
	    (a->phase != CD_MOVE_SHARING && a->phase != CD_MOVE_RECEIVING &&
	     a->phase != CD_MOVE_SAVING && !(a->phase == CD_MOVE_COPYING && a->fallback)))
		FAIL(CD_ERR_INVALID,
		     "move step '%s' of '%s' from node %u out of turn (%s, node %u)",
		     cd_move_phase_to_str(a->phase), vm->name, a->node,
		     cd_move_phase_to_str(vm->move.phase), turn);
	if (a->fallback) {
		/* The copy does not converge: called off, then a quick move. */
		if (vm->move.mode != CD_MOVE_LIVE || vm->fallback_none)
			FAIL(CD_ERR_INVALID, "'%s' has no quick fallback for this move", vm->name);
		vm->move.fallback = true;
		cd_strlcpy(vm->move.state_volume, a->volume, sizeof(vm->move.state_volume));
		cd_strlcpy(vm->move.state_file, a->file, sizeof(vm->move.state_file));
		vm->move.phase = CD_MOVE_ABORTING;
		return 0;
	}
	if (!a->ok) {
		vm->move.phase = CD_MOVE_ABORTING;
	} else if (a->phase == CD_MOVE_SAVING) {
		/* Saved, the source's leases given up: the target's to restore. */
		if (take_saved(vm, a, err, errlen) < 0)
			return CD_ERR_INVALID;
		vm->node = vm->move.target;
		vm->move.phase = CD_MOVE_RESTORING;
		vm->move.copy_begun = true;
		return 0;
	} else {
		vm->move.phase = a->phase == CD_MOVE_SHARING ? CD_MOVE_RECEIVING : CD_MOVE_COPYING;
	}
	vm->move.copy_begun = vm->move.phase == CD_MOVE_COPYING;
	return 0;
}

static int move_cancel(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		       char *err, size_t errlen)
{
	if (vm->move.phase == CD_MOVE_ORPHANED)
		FAIL(CD_ERR_INVALID,
		     "too late to cancel the move of '%s': its source died and the target's real "
		     "state decides",
		     vm->name);
	if (restoring(vm, a))
		FAIL(CD_ERR_INVALID,
		     "too late to cancel the move of '%s': it is saved and its restore on the "
		     "target has begun",
		     vm->name);
	vm->move.cancelled = true;
	vm->move.phase = CD_MOVE_ABORTING;
	return 0;
}

/* An admin stops a moving VM: the move is called off, then it stops where it is. */
static int move_stop(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		     char *err, size_t errlen)
{
	admin_stop(s, vm, a, err, errlen);
	if (moving(vm->move.phase))
		vm->move.phase = CD_MOVE_ABORTING;
	return 0;
}

/* The move is over: recorded as outcome, the VM where the row leaves it. */
static void end_move(struct cd_vm *vm, enum cd_move_outcome outcome,
		     const struct cd_vm_event_args *a)
{
	struct cd_vm_last_move *l = &vm->last_move;

	memset(l, 0, sizeof(*l));
	l->action_id = vm->action_id;
	l->outcome = outcome;
	l->mode = vm->move.mode;
	l->source = vm->move.source;
	l->target = vm->move.target;
	if (outcome == CD_MOVE_OUT_MOVED) {
		l->downtime_ms = a->downtime_ms;
		l->rate_mib_s = a->rate_mib_s;
		l->dirty_measured = a->dirty_measured;
		l->dirty_mib_s = a->dirty_mib_s;
		l->total_ms = a->total_ms;
	}
	if (a->error)
		cd_strlcpy(l->error, a->error, sizeof(l->error));
	else if (outcome != CD_MOVE_OUT_MOVED)
		cd_strlcpy(l->error, vm->last_error, sizeof(l->error));
	memset(&vm->move, 0, sizeof(vm->move));
}

/* --- cold moves: stopped where it runs (STOPPING), then started on cold_to --- */

static bool cold(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return a->mode == CD_MOVE_COLD;
}

static bool cold_moving(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return vm->cold_to != 0;
}

static int cold_begin(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		      char *err, size_t errlen)
{
	if (!a->target || a->target == vm->node)
		FAIL(CD_ERR_INVALID, "VM '%s' runs on that node already", vm->name);
	vm->cold_to = a->target;
	vm->force_stop = false;
	vm->stop_save = false;
	vm->action_id = ++s->last_action_id;
	vm->last_error[0] = '\0';
	return 0;
}

/* A cold move's end: recorded as the move's action (the stop's), from the VM's node. */
static void cold_end(struct cd_vm *vm, enum cd_move_outcome outcome, const char *error)
{
	struct cd_vm_last_move *l = &vm->last_move;

	memset(l, 0, sizeof(*l));
	l->action_id = vm->action_id;
	l->outcome = outcome;
	l->mode = CD_MOVE_COLD;
	l->source = vm->node;
	l->target = vm->cold_to;
	if (error)
		cd_strlcpy(l->error, error, sizeof(l->error));
	vm->cold_to = 0;
}

/* Stopped for its cold move: it starts on the target, a new action there. */
static int cold_arrive(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		       char *err, size_t errlen)
{
	uint32_t to = vm->cold_to;

	cold_end(vm, CD_MOVE_OUT_MOVED, NULL);
	vm->node = to;
	vm->action_id = ++s->last_action_id;
	return 0;
}

/* Its stop failed: the move is over; the VM may still run where it was. */
static int cold_failed(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		       char *err, size_t errlen)
{
	cold_end(vm, CD_MOVE_OUT_FAILED, a->error ? a->error : "its stop failed");
	return 0;
}

/* Wanted stopped meanwhile: it stops where the move left it. */
static bool to_stop(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return !vm->target_started;
}

/* The source says it runs on the target now (it is gone from the source). */
static int moved(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a, char *err,
		 size_t errlen)
{
	if ((vm->move.phase != CD_MOVE_COPYING && vm->move.phase != CD_MOVE_ABORTING) ||
	    !vm->move.copy_begun || vm->move.target_lost)
		FAIL(CD_ERR_INVALID, "'%s' cannot have moved: its move is %s%s", vm->name,
		     cd_move_phase_to_str(vm->move.phase),
		     vm->move.target_lost   ? " and its target died"
		     : !vm->move.copy_begun ? ", its copy never began"
					    : "");
	vm->node = vm->move.target;
	end_move(vm, CD_MOVE_OUT_MOVED, a);
	if (!a->error)
		vm->last_error[0] = '\0';
	return 0;
}

/* It runs where the VM's node is: the source, or the target of an orphaned move. */
static int move_settled(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			char *err, size_t errlen)
{
	end_move(vm,
		 vm->move.phase == CD_MOVE_ORPHANED || vm->move.phase == CD_MOVE_RESUMING
			 ? CD_MOVE_OUT_MOVED
		 : vm->move.cancelled ? CD_MOVE_OUT_CANCELLED
				      : CD_MOVE_OUT_STAYED,
		 a);
	return 0;
}

/*
 * The source runs it alone again after a live copy called off for not
 * converging: unless cancelled, stopped or its target lost meanwhile, the
 * move goes on as a quick one.
 */
static bool falls_back(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return vm->move.fallback && vm->move.mode == CD_MOVE_LIVE &&
	       vm->move.phase == CD_MOVE_ABORTING && !vm->move.cancelled && !vm->move.target_lost &&
	       vm->target_started && a->node == vm->move.source;
}

static int fall_back(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		     char *err, size_t errlen)
{
	vm->move.mode = CD_MOVE_QUICK;
	vm->move.phase = CD_MOVE_SAVING;
	vm->move.copy_begun = false;
	return 0;
}

/* Running during a restore, before it was consumed: no report can say so. */
static bool unconsumed(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return vm->move.phase == CD_MOVE_RESTORING;
}

static int refuse_unconsumed(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			     char *err, size_t errlen)
{
	FAIL(CD_ERR_INVALID, "'%s' is being restored: it runs only once its restore is recorded",
	     vm->name);
}

/* The source saved it after all (its move was called off too late): saved, it runs nowhere. */
static bool saved_by_source(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return vm->move.mode == CD_MOVE_QUICK && !restoring(vm, a);
}

static int move_saved(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		      char *err, size_t errlen)
{
	if (saved_there(s, vm, a, err, errlen) < 0)
		return CD_ERR_INVALID;
	end_move(vm, CD_MOVE_OUT_SAVED, a);
	return 0;
}

/* The target restored it paused: consumed, it may let it run. */
static int restored_move(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			 char *err, size_t errlen)
{
	if (vm->move.phase != CD_MOVE_RESTORING)
		FAIL(CD_ERR_INVALID, "'%s' is not being restored (%s)", vm->name,
		     cd_move_phase_to_str(vm->move.phase));
	consumed(vm);
	vm->move.phase = CD_MOVE_RESUMING;
	return 0;
}

/* The target could not restore it: restored elsewhere (a corrupt image: started afresh). */
static int restore_failed(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			  char *err, size_t errlen)
{
	if (vm->move.phase != CD_MOVE_RESTORING)
		FAIL(CD_ERR_INVALID, "'%s' is not being restored (%s)", vm->name,
		     cd_move_phase_to_str(vm->move.phase));
	if (a->corrupt)
		consumed(vm);
	end_move(vm, vm->saved.volume[0] ? CD_MOVE_OUT_SAVED : CD_MOVE_OUT_FAILED, a);
	return failed_there(s, vm, a, err, errlen);
}

static int moved_then_stop(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			   char *err, size_t errlen)
{
	int rc = moved(s, vm, a, err, errlen);

	if (rc == 0)
		vm->action_id = ++s->last_action_id;
	return rc;
}

static int settled_then_stop(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			     char *err, size_t errlen)
{
	move_settled(s, vm, a, err, errlen);
	vm->action_id = ++s->last_action_id;
	return 0;
}

/* It runs on neither end (both domains confirmed gone): failover restarts it. */
static int move_failed(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
		       char *err, size_t errlen)
{
	end_move(vm, vm->saved.volume[0] ? CD_MOVE_OUT_SAVED : CD_MOVE_OUT_FAILED, a);
	return failed_there(s, vm, a, err, errlen);
}

/* Node dead: the move's target (not its node): nothing of it runs there. */
static bool target_died(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return a->node == vm->move.target && a->node != vm->node;
}

/* The source died mid-move, while the target may hold it: the target decides. */
static bool source_died(const struct cd_vm *vm, const struct cd_vm_event_args *a)
{
	return a->node == vm->node && vm->move.target && vm->move.target != vm->node &&
	       !vm->move.target_lost && vm->move.phase != CD_MOVE_ORPHANED &&
	       vm->move.phase != CD_MOVE_SAVING;
}

static int move_target_died(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			    char *err, size_t errlen)
{
	vm->move.target_lost = true;
	vm->move.phase = CD_MOVE_ABORTING;
	snprintf(vm->last_error, sizeof(vm->last_error), "the move's target %s died (%s)",
		 a->node_name, a->how);
	return 0;
}

static int move_source_died(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			    char *err, size_t errlen)
{
	vm->node = vm->move.target;
	vm->move.phase = CD_MOVE_ORPHANED;
	snprintf(vm->last_error, sizeof(vm->last_error),
		 "the move's source %s died (%s): the target decides", a->node_name, a->how);
	return 0;
}

/* The last node it could run on died: a cold failover. */
static int move_node_died(struct cd_state *s, struct cd_vm *vm, const struct cd_vm_event_args *a,
			  char *err, size_t errlen)
{
	node_died(s, vm, a, err, errlen);
	end_move(vm, vm->saved.volume[0] ? CD_MOVE_OUT_SAVED : CD_MOVE_OUT_FAILED, a);
	return 0;
}

/*
 * In state from, event ev (if guard when holds, or has none) runs fn and
 * moves the VM to state to. The first row that matches applies: a guarded
 * row comes before the unguarded one of its cell. A row that names its own
 * state is a transition all the same and is recorded (a stop that starts a
 * new stop action). A cell without a row is impossible and refused, so a
 * new state (migration's) takes only the events its rows allow.
 *
 * Besides a state, to may be KEEP: the event is taken, the state stays and
 * no transition is recorded; or REFUSE: the event is impossible in this
 * state, fn says why and nothing changes.
 */
/* clang-format off */
static const struct vm_row {
	struct cd_fsm_row r; /* {from, ev, to} */
	bool (*when)(const struct cd_vm *vm, const struct cd_vm_event_args *a);
	row_fn *fn;
} vm_rows[] = {
#define R(from, ev, when, to, fn) {{CD_VM_##from, CD_VM_EV_##ev, to}, when, fn}
#define KEEP CD_FSM_KEEP
#define REFUSE CD_FSM_REFUSE
#define S(state) CD_VM_##state
	/* R(state, event, guard, next state, what else it changes) */
	R(STOPPED,   START,          NULL,      KEEP,        admin_start),
	R(STOPPED,   STOP,           NULL,      KEEP,        admin_stop),
	R(STOPPED,   PLACE,          nowhere,   S(STARTING), placed),
	R(STOPPED,   PLACE,          NULL,      REFUSE,      refuse_place),
	R(STOPPED,   REPORT_RUNNING, NULL,      REFUSE,      refuse_report),
	R(STOPPED,   REPORT_STOPPED, NULL,      REFUSE,      refuse_report),
	R(STOPPED,   REPORT_FAILED,  NULL,      REFUSE,      refuse_report),
	R(STOPPED,   REPORT_OTHER,   NULL,      REFUSE,      refuse_report),
	R(STOPPED,   NODE_DEAD,      NULL,      S(STOPPED),  node_died),
	R(STOPPED,   ADOPT,          nowhere,   S(RUNNING),  adopted),

	R(STARTING,  START,          NULL,      KEEP,        admin_start),
	R(STARTING,  STOP,           NULL,      S(STOPPING), stop_there),
	R(STARTING,  PLACE,          NULL,      REFUSE,      refuse_place),
	R(STARTING,  REPORT_RUNNING, NULL,      S(RUNNING),  runs),
	R(STARTING,  REPORT_STOPPED, NULL,      S(FAILED),   failed_there),
	R(STARTING,  REPORT_FAILED,  NULL,      S(FAILED),   failed_there),
	R(STARTING,  REPORT_OTHER,   NULL,      S(FAILED),   failed_there),
	R(STARTING,  NODE_DEAD,      NULL,      S(STOPPED),  node_died),
	R(STARTING,  RESTORED,       NULL,      KEEP,        restored_start),

	R(RUNNING,   START,          NULL,      KEEP,        admin_start),
	R(RUNNING,   STOP,           saving,    S(STOPPING), stop_saving),
	R(RUNNING,   STOP,           NULL,      S(STOPPING), stop_there),
	R(RUNNING,   PLACE,          NULL,      REFUSE,      refuse_place),
	R(RUNNING,   REPORT_RUNNING, NULL,      KEEP,        runs),
	R(RUNNING,   REPORT_STOPPED, NULL,      S(FAILED),   failed_there),
	R(RUNNING,   REPORT_FAILED,  NULL,      S(FAILED),   failed_there),
	R(RUNNING,   REPORT_OTHER,   NULL,      S(FAILED),   failed_there),
	R(RUNNING,   NODE_DEAD,      NULL,      S(STOPPED),  node_died),
	R(RUNNING,   MOVE,           cold,      S(STOPPING), cold_begin),
	R(RUNNING,   MOVE,           NULL,      S(MIGRATING), begin_move),

	/* Stopping: only the stop's outcome moves it; other reports are taken. */
	R(STOPPING,  START,          NULL,      KEEP,        admin_start),
	R(STOPPING,  STOP,           NULL,      S(STOPPING), stop_there),
	R(STOPPING,  PLACE,          NULL,      REFUSE,      refuse_place),
	R(STOPPING,  REPORT_RUNNING, save_asked, S(RUNNING), save_failed),
	R(STOPPING,  REPORT_RUNNING, NULL,      KEEP,        NULL),
	R(STOPPING,  REPORT_STOPPED, cold_moving, S(STARTING), cold_arrive),
	R(STOPPING,  REPORT_STOPPED, NULL,      S(STOPPED),  stopped_there),
	R(STOPPING,  REPORT_SAVED,   save_asked, S(STOPPED), saved_there),
	/* The stop failed: it may still run there. Keep the owner. */
	R(STOPPING,  REPORT_FAILED,  cold_moving, S(FAILED), cold_failed),
	R(STOPPING,  REPORT_FAILED,  NULL,      S(FAILED),   NULL),
	R(STOPPING,  REPORT_OTHER,   NULL,      KEEP,        NULL),
	R(STOPPING,  NODE_DEAD,      NULL,      S(STOPPED),  node_died),

	/* Failed nowhere (a failed start or run), or on its node (a failed stop). */
	R(FAILED,    START,          nowhere,   S(STOPPED),  admin_start),
	R(FAILED,    START,          NULL,      S(STOPPING), restart_there),
	/* A failed VM may still be on its node: have the node make sure. */
	R(FAILED,    STOP,           somewhere, S(STOPPING), stop_there),
	R(FAILED,    STOP,           NULL,      KEEP,        admin_stop),
	R(FAILED,    PLACE,          nowhere,   S(STARTING), placed),
	R(FAILED,    PLACE,          NULL,      REFUSE,      refuse_place),
	R(FAILED,    REPORT_RUNNING, NULL,      REFUSE,      refuse_report),
	R(FAILED,    REPORT_STOPPED, NULL,      REFUSE,      refuse_report),
	R(FAILED,    REPORT_FAILED,  NULL,      REFUSE,      refuse_report),
	R(FAILED,    REPORT_OTHER,   NULL,      REFUSE,      refuse_report),
	R(FAILED,    NODE_DEAD,      NULL,      S(STOPPED),  node_died),

	/*
	 * Moving: its node is the source (the target once orphaned). Only the
	 * node that settles the move reports, and its report ends the move.
	 */
	R(MIGRATING, START,          NULL,        KEEP,         admin_start),
	R(MIGRATING, STOP,           NULL,        KEEP,         move_stop),
	R(MIGRATING, PLACE,          NULL,        REFUSE,       refuse_place),
	R(MIGRATING, MOVE,           NULL,        REFUSE,       refuse_move),
	R(MIGRATING, MOVE_STEP,      NULL,        KEEP,         move_step),
	R(MIGRATING, MOVE_CANCEL,    NULL,        KEEP,         move_cancel),
	R(MIGRATING, REPORT_MOVED,   to_stop,     S(STOPPING),  moved_then_stop),
	R(MIGRATING, REPORT_MOVED,   NULL,        S(RUNNING),   moved),
	R(MIGRATING, REPORT_SAVED,   saved_by_source, S(STOPPED), move_saved),
	R(MIGRATING, RESTORED,       restore_ok,  KEEP,         restored_move),
	R(MIGRATING, RESTORED,       NULL,        S(FAILED),    restore_failed),
	R(MIGRATING, REPORT_RUNNING, unconsumed,  REFUSE,       refuse_unconsumed),
	R(MIGRATING, REPORT_RUNNING, falls_back,  KEEP,         fall_back),
	R(MIGRATING, REPORT_RUNNING, to_stop,     S(STOPPING),  settled_then_stop),
	R(MIGRATING, REPORT_RUNNING, NULL,        S(RUNNING),   move_settled),
	R(MIGRATING, REPORT_STOPPED, NULL,        S(FAILED),    move_failed),
	R(MIGRATING, REPORT_FAILED,  NULL,        S(FAILED),    move_failed),
	R(MIGRATING, REPORT_OTHER,   NULL,        KEEP,         NULL),
	R(MIGRATING, NODE_DEAD,      target_died, S(MIGRATING), move_target_died),
	R(MIGRATING, NODE_DEAD,      source_died, S(MIGRATING), move_source_died),
	R(MIGRATING, NODE_DEAD,      NULL,        S(STOPPED),   move_node_died),
#undef S
#undef REFUSE
#undef KEEP
#undef R
};
/* clang-format on */

struct row_ctx {
	const struct cd_vm *vm;
	const struct cd_vm_event_args *a;
};

/* A row's guard for cd_fsm_find(): it applies if its when holds, or it has none. */
static bool row_applies(const void *row, const void *ctx)
{
	const struct vm_row *r = row;
	const struct row_ctx *x = ctx;

	return !r->when || r->when(x->vm, x->a);
}

int cd_vm_transition(struct cd_state *s, struct cd_vm *vm, enum cd_vm_event ev,
		     const struct cd_vm_event_args *a, char *err, size_t errlen)
{
	static const struct cd_vm_event_args none;
	struct cd_vm_transition_rec t;
	struct row_ctx x = {vm, a ? a : &none};
	const struct vm_row *row = cd_fsm_find(vm_rows, N_OF(vm_rows), sizeof(vm_rows[0]),
					       (int)vm->state, (int)ev, row_applies, &x);
	int rc;

	a = x.a;
	/* A refusal's fn says why (and changes nothing); a missing row is refused here. */
	if (row && row->fn && (rc = row->fn(s, vm, a, err, errlen)) < 0)
		return rc;
	if (!row || row->r.to == CD_FSM_REFUSE)
		FAIL(CD_ERR_INVALID, "VM '%s' is %s: no %s there", vm->name,
		     cd_vm_state_to_str(vm->state), cd_vm_event_to_str(ev));
	if (row->r.to == CD_FSM_KEEP)
		return 0;
	t.vm = vm;
	t.from = vm->state;
	t.to = (enum cd_vm_state)row->r.to;
	t.ev = ev;
	t.node = a->node;
	vm->state = t.to;
	if (s->vm_hook)
		s->vm_hook(s->vm_hook_ctx, &t);
	return 0;
}
