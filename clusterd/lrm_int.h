/*
 * What the local resource manager's files share; lrm.h is its interface.
 *
 *   lrm.c         each VM's actions, carried out once (start, stop,
 *                 monitor, reports), the start gate, the reconcile loop,
 *                 the scan for a second copy of a VM, init and fini;
 *   lrm_leases.c  a VM's disk leases: taken before its start, given back
 *                 before its report, shared while it moves;
 *   lrm_move.c    a VM's live move: the steps of each end, the copy and
 *                 its strategy, the leases and announcements afterwards;
 *   lrm_settle.c  a move's outcome, from both ends' real state;
 *   lrm_sweep.c   what acts on every VM of the node at once: the power-off
 *                 when a host lease lapses, the self-fence, freeze and thaw.
 */
#ifndef CD_LRM_INT_H
#define CD_LRM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qblog.h>
#include <qb/qbloop.h>
#include <qb/qbmap.h>

#include "agents/vm_agent.h"
#include "clusterd/lrm.h"
#include "core/lrm_phase.h"
#include "core/state.h"
#include "core/vmdisks.h"

#define vm_log(prio, name, fmt, ...) qb_log(prio, "vm %s: " fmt, name, ##__VA_ARGS__)

/* What this node remembers of a VM; nothing here is replicated. */
struct lvm {
	char name[64];
	/* What the line does now (lrm_phase.h): changed only by lrm_step(). */
	enum cd_lrm_phase phase;
	/*
	 * The node-wide power-offs under way beside the line (a lapsed host
	 * lease), with their reports: the line begins nothing while any is.
	 */
	int beside;
	uint64_t done_action; /* the last action carried out: never run twice */
	uint64_t stop_deadline;
	uint64_t stop_action; /* the stop action begun (shutdown once, then destroy) */
	uint64_t next_check;  /* monotonic ms of the next monitor check */
	int misses;	      /* checks in a row that found it not running */
	bool seen;	      /* still in the state (for pruning) */
	int gated;	      /* why its start was last held back (logged once per reason) */
	uint64_t gated_since; /* monotonic ms since when, for that reason */
	struct cd_vm_disk held[CD_VM_DISKS_MAX]; /* disk leases this node holds for it */
	size_t n_held;
	bool held_shared; /* held in shared mode (a move's), not exclusive */
	/* Its move (lrm_move.c): what this node did of move_action. */
	uint64_t move_action;
	unsigned move_done;		    /* a bit per cd_move_phase this node began */
	bool abort_sent;		    /* the migration's abort went out */
	uint64_t move_begun;		    /* monotonic ms: this node first saw the move */
	uint64_t next_settle;		    /* monotonic ms: look at an undecided move again */
	char move_err[CD_VM_ERROR_MAX + 1]; /* the migration call's error, if any */
	int lease_wait;			    /* an exclusive lease asked again (logged once) */
	int paused_looks;   /* looks that found the target paused, the source gone */
	uint64_t announced; /* the move whose arrival here was announced */
	/* The copy's progress, watched every CD_MOVE_WATCH_MS (lrm_move.c). */
	uint64_t next_watch;
	bool watching;		 /* a look at the job statistics is out */
	uint64_t min_remaining;	 /* the least data left to send seen so far */
	int stalled;		 /* looks in a row that found no less left */
	bool postcopy_sent;	 /* the switch to post-copy went out */
	bool stall_said;	 /* the copy's not converging was said */
	bool fallback_sent;	 /* the fall back to a quick move went out */
	bool fallback_refused;	 /* the fall back found no state file place (said once) */
	int64_t dirty_mibs;	 /* measured before the copy: MiB/s dirtied; -1 unknown */
	int64_t dirty_seen_mibs; /* the most seen during the copy, after its first pass; -1 none */
	/* A quick move's or a save's end here (lrm_quick.c), for q_action. */
	uint64_t q_action;
	uint64_t q_file_req; /* the state file's request (its id), 0: none sent */
	bool q_saved;	     /* the save here returned its complete image, q_sv */
	struct cd_vm_saved q_sv;
	int q_restore;	/* the restore here: 0 none, 1 under way, 2 paused here, -1 failed */
	bool q_corrupt; /* the restore failed its image's checks */
	int q_tries;	/* restores begun */
	char q_sha[65]; /* the image the restore here read */
	uint64_t q_len;
	bool q_cancel_sent;	/* the save's cancel went out */
	bool q_restore_dropped; /* the restore under way here was called off */
	int64_t q_rate;		/* MiB/s it dirtied before its save; -1 unknown, -2 not measured */
	bool q_cleared;		/* a copy of it here unknown to this clusterd was powered off */
	bool q_resumed;		/* the restored copy was let run */
	char q_err[CD_VM_ERROR_MAX + 1];
};

/* The module's state (defined in lrm.c). */
struct lrm {
	qb_loop_t *loop;
	struct cd_lrm_config cfg;
	struct lvm **vms; /* each its own allocation, so that a pointer stays valid */
	size_t n_vms;
	qb_map_t *by_name; /* the same, by name: a node may run thousands */
	qb_loop_timer_handle tick;
	uint64_t next_scan;
	bool scanning;
	bool up;
	/*
	 * The one gate on starts: set when this node begins to self-fence or
	 * stop; no start begins while it is set, and one whose disk leases
	 * arrive after it is not carried out.
	 */
	bool no_starts;
};

extern struct lrm lrm;

/* Why a start may not begin here now (lrm_may_start). */
enum gate { GATE_OPEN, GATE_STOPPING, GATE_QUORUM, GATE_LEASE };

/* VMs powered off together, and who waits for all of them to be off. */
struct group {
	int pending;
	bool ok;
	void (*off)(void *ctx, bool ok);
	void *ctx;
};

/* Every call's context: which VM, which action. */
struct call {
	char name[64];
	uint64_t action;
	enum cd_agent_op op;
	struct group *group;
};

/* lrm.c */

/* Whether a start may begin here now; logs why not (once per reason). */
enum gate lrm_may_start(struct lvm *v, const char *name);

/* What this node remembers of name: lvm_find() NULL if nothing, lvm_get() adds it. */
struct lvm *lvm_find(const char *name);
struct lvm *lvm_get(const char *name);

/* Move v's line by event ev (lrm_phase.h), logged; why may be NULL. */
void lrm_step(struct lvm *v, enum cd_lrm_event ev, const char *why);

/* Whether v's line may begin a step: idle, and nothing under way beside it. */
bool lrm_line_free(const struct lvm *v);

/*
 * Send vm.report: what became of action (0: what the monitor found). As a
 * step of name's line (lrm_report), or beside it (lrm_report_beside: the
 * node-wide power-off's own report).
 */
void lrm_report(const char *name, uint64_t action, const char *result, const char *err);
/* What a move's report carries besides (0: not measured), and a save's image (volume "": none). */
struct lrm_times {
	uint64_t downtime_ms, total_ms;
	uint64_t rate_mib_s; /* a live move's copy rate, if measured */
	bool dirty_measured; /* a live move's dirty rate was measured before its copy: */
	uint64_t dirty_mib_s;
	struct cd_vm_saved saved;
};
void lrm_report_times(const char *name, uint64_t action, const char *result, const char *err,
		      const struct lrm_times *t);
void lrm_report_beside(const char *name, uint64_t action, const char *result, const char *err);

/*
 * A libvirt call for v: a step of its line, begun by event ev
 * (lrm_call_agent), or beside it, one of group g's power-offs
 * (lrm_call_power_off). The done callback gets a struct call.
 */
int lrm_call_agent(struct lvm *v, enum cd_lrm_event ev, enum cd_agent_op op, const char *xml,
		   uint64_t action, cd_agent_done_fn done);
/*
 * A start of v from xml as lrm_call_agent(v, CD_LRM_EV_START,
 * CD_AGENT_START, ...) makes one, but with the CPU baseline of the n host
 * CPU definitions cpus (cd_vm_agent_start_baseline; copied).
 */
int lrm_call_start_baseline(struct lvm *v, const char *xml, const char *const *cpus, size_t n,
			    uint64_t action, cd_agent_done_fn done);
int lrm_call_power_off(struct lvm *v, cd_agent_done_fn done, struct group *g);

/*
 * A libvirt call on domain name outside any line (a look or a fix beside
 * it): done gets a malloc'd copy of name as its ctx and frees it. 0, or
 * -ENOMEM (done is not called).
 */
int lrm_call_named(enum cd_agent_op op, const char *name, cd_agent_done_fn done);

/* The VM as the state has it now (the state may have moved on meanwhile). */
const struct cd_vm *lrm_state_vm(const char *name);

/* Whether vm is placed on this node. */
bool lrm_mine(const struct cd_vm *vm);
struct lvm *lrm_mine_lvm(const struct cd_vm *vm);
bool lrm_any_start_under_way(void);

/* A start of name begun here has not returned: the domain may yet come up. */
bool lrm_start_under_way(const struct lvm *v, const char *name);

/* A start's libvirt call returned (a struct call). */
void lrm_start_done(void *ctx, const struct cd_agent_result *r);

/* lrm_leases.c */

/* Start vm: its shared disks' leases first, if it has any. */
void lrm_begin_start(struct lvm *v, const struct cd_vm *vm);

/* Give back v's disk leases, then report result (if not NULL), with t (may be NULL). */
void lrm_release_then_report(struct lvm *v, uint64_t action, const char *result, const char *err);
void lrm_release_then_report_times(struct lvm *v, uint64_t action, const char *result,
				   const char *err, const struct lrm_times *t);

/* Give back v's disk leases, then call after(name, action, ctx) (whether they were or not). */
void lrm_release_then(struct lvm *v, uint64_t action,
		      void (*after)(const char *name, uint64_t action, void *ctx), void *ctx);
/* The answer of lrm_leases_mode() for v's move action: rc 0 or < 0 with err. */
typedef void lrm_leases_done_fn(struct lvm *v, uint64_t action, int rc, const char *err);

/*
 * Take vm's disk leases in shared mode (a move's two ends) or exclusive, as
 * a step of v's line: the same leases held exclusive turn shared, shared
 * ones turn exclusive once no other live host holds them shared. v->held
 * then lists them. done is called once, from the loop.
 */
void lrm_leases_mode(struct lvm *v, const struct cd_vm *vm, bool shared, lrm_leases_done_fn *done);

/* lrm_move.c */

/*
 * What this node does for vm's move (vm.h: struct cd_vm_move) when it is
 * its source (v: vm->node is this node), its target (lrm_move_target), or
 * holds its leases though it is neither (lrm_move_leftover); and where a
 * VM that runs here holds shared leases, making them exclusive
 * (lrm_move_upgrade, which also announces a VM that has just arrived).
 * The reconcile loop calls them.
 */
void lrm_move_source(struct lvm *v, const struct cd_vm *vm);
void lrm_move_target(struct lvm *v, const struct cd_vm *vm);
void lrm_move_leftover(struct lvm *v, const struct cd_vm *vm);
void lrm_move_upgrade(struct lvm *v, const struct cd_vm *vm);

/* The timeout of a move's libvirt calls but the copy's own. */
int lrm_move_timeout(void);

/*
 * Node id's libvirtd in uri and (if mig) the address its memory comes to
 * in mig ("tcp://ADDR"): 0, or CD_ERR_NOT_FOUND / CD_ERR_INVALID.
 */
int lrm_node_uris(uint32_t id, char *uri, size_t len, char *mig, size_t mlen);

/* Call v's migration off (beside the line: the call may be under way). */
void lrm_move_abort(struct lvm *v);

/*
 * lrm_settle.c: settle vm's move, as its source (or, orphan, as the target
 * of a move whose source died) once its line is free; not before
 * v->next_settle.
 */
void lrm_settle(struct lvm *v, const struct cd_vm *vm, bool orphan);

/*
 * lrm_quick.c: a quick move at each end (lrm_move_source and
 * lrm_move_target hand it over), vm stop --save on the VM's node, and a
 * start that restores a saved VM (its leases held).
 */
void lrm_quick_move(struct lvm *v, const struct cd_vm *vm);
void lrm_quick_follow(struct lvm *v, const struct cd_vm *vm);
void lrm_quick_stop_save(struct lvm *v, const struct cd_vm *vm);
void lrm_quick_restore_start(struct lvm *v, const struct cd_vm *vm);
/*
 * A start of a saved VM here whose restore the cluster has not recorded
 * yet: its record sent again, or (this node knows nothing of it: clusterd
 * restarted) whatever copy is here powered off and the start failed, so
 * that it is restored afresh.
 */
void lrm_quick_start_pending(struct lvm *v, const struct cd_vm *vm);
/* A restore under way here that is no longer wanted (the move is over or elsewhere): off. */
void lrm_quick_drop_restore(struct lvm *v);
/*
 * A plain start (no saved state) of vm here: a copy restored here by a
 * quick move that the cluster never recorded (its source died before it
 * recorded the save) is not the VM's any more. It is said, and forgotten:
 * the start powers it off and starts the VM afresh (vm_agent.h).
 */
void lrm_quick_plain_start(struct lvm *v, const struct cd_vm *vm);
/* Send vm.move.step for v's move: phase done (ok) or failed (why); extra's fields added (may be
 * NULL). */
void lrm_send_step(struct lvm *v, enum cd_move_phase phase, bool ok, const char *why,
		   struct json_object *extra);
/* lrm_sweep.c */

/* Forget the domains the freeze paused (cd_lrm_fini). */
void lrm_sweep_fini(void);

#endif
