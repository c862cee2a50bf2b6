/*
 * A drain's plan: for each VM on a node, where it goes, how, how long it
 * should take and what blocks it; how many moves run at once, and the
 * whole drain's expected time. Pure: computed from the replicated state
 * alone (and the placement policy), so a dry run, the status and the
 * coordinator that carries the drain out all see the same plan.
 *
 * Targets come from the placement policy itself: the VMs still to move are
 * handed to it as if they had to be placed, with the drained node taking
 * none, highest priority first, so the plan respects every rule placement
 * does (possible owners, anti-affinity, cores, memory, CPU) and counts the
 * VMs it places on each other.
 *
 * How many moves at once: a live move converges when its share of the
 * migration bandwidth stays well above what its guest dirties. The
 * bandwidth is what the cluster's last live moves measured (the median of
 * their copy rates, last_move.rate_mib_s: only copies large enough to
 * measure the network, not its latency), CD_DRAIN_ASSUMED_MIB_S before any
 * was. Each VM still to move (waiting, or moving: it shares the bandwidth
 * too) dirties what its source measured before its last live copy
 * (last_move.dirty_mib_s), CD_DRAIN_DIRTY_MIB_S until one was, at least
 * CD_DRAIN_DIRTY_MIN_MIB_S. Every move must keep CD_DRAIN_MARGIN times the
 * largest of these, so
 *
 *     parallel = bandwidth / (CD_DRAIN_MARGIN * largest dirty rate)
 *
 * at least 1, at most the cluster property drain-max-parallel (default 4,
 * core/props.c). A VM's expected time is its memory over its share of the
 * bandwidth (bandwidth / parallel).
 */
#ifndef CD_DRAIN_PLAN_H
#define CD_DRAIN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/drain.h"

struct cd_state;

#define CD_DRAIN_ASSUMED_MIB_S 100 /* bandwidth with no move measured yet */
#define CD_DRAIN_DIRTY_MIB_S 10	   /* a guest's dirty rate until its own is measured */
#define CD_DRAIN_DIRTY_MIN_MIB_S 1 /* the least dirty rate counted (an idle guest's) */
#define CD_DRAIN_MARGIN 4	   /* share of bandwidth over dirty rate a move keeps */
#define CD_DRAIN_COLD_S 60	   /* a cold move's expected time: stop, start */

enum cd_drain_vm_state {
	CD_DVM_WAITING, /* still to move */
	CD_DVM_MOVING,	/* its move (or cold stop) is under way */
	CD_DVM_MOVED,	/* the drain moved it away */
	CD_DVM_BLOCKED, /* it can go nowhere, or its ladder ran out */
	CD_DVM_FAILED,	/* it failed here (a failed stop): an admin must look */
};
const char *cd_drain_vm_state_to_str(enum cd_drain_vm_state s);

struct cd_drain_plan_vm {
	char vm[64];
	enum cd_vm_priority priority;
	uint32_t vcpus;
	uint64_t memory_mb;
	enum cd_drain_vm_state state;
	uint32_t target;		/* where it goes (or went, or moves); 0 none */
	enum cd_move_mode method;	/* the rung it is on or starts at */
	uint32_t tries;			/* the try of that rung */
	uint32_t expected_s;		/* for WAITING: its move's expected time */
	uint32_t dirty_mib_s;		/* its dirty rate, as the plan counts it */
	bool dirty_measured;		/* measured before its last live copy, or assumed */
	char why[CD_DRAIN_WHY_MAX + 1]; /* blocker, or why it stepped up ("" none) */
};

struct cd_drain_plan {
	struct cd_drain_plan_vm *vms; /* priority order, highest first, then name */
	size_t n_vms;
	uint32_t parallel;
	uint32_t bandwidth_mib_s;
	bool bandwidth_measured;
	/*
	 * The dirty rate parallel was computed from: the largest of the VMs
	 * still to move; dirty_vm the VM's ("" when none to move has a
	 * measured rate), dirty_measured whether its rate was measured or
	 * CD_DRAIN_DIRTY_MIB_S assumed.
	 */
	uint32_t dirty_mib_s;
	bool dirty_measured;
	char dirty_vm[64];
	uint32_t eta_s;	  /* what is still to move, at parallel at once */
	bool blocked;	  /* some VM is BLOCKED */
	size_t n_waiting; /* VMs still WAITING that can move */
	size_t n_moving;
};

/*
 * The plan of drain d of node (d may be a would-be drain of a dry run: id
 * 0). 0, or a negative code with err set. Free with cd_drain_plan_free().
 */
int cd_drain_plan(const struct cd_state *s, uint32_t node, const struct cd_drain *d,
		  struct cd_drain_plan *out, char *err, size_t errlen);
void cd_drain_plan_free(struct cd_drain_plan *p);

/* The median copy rate of the VMs' last live moves (MiB/s): 0 if none measured. */
uint32_t cd_drain_measured_mib_s(const struct cd_state *s);

#endif
