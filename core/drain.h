/*
 * Drains in the replicated state: a node emptied for planned maintenance.
 *
 * A drain is a job of the node (struct cd_drain), so it outlives the
 * coordinator that runs it: node.drain sets the node in maintenance (it
 * takes no VMs) and starts the job; the coordinator moves the node's VMs
 * away, highest priority first, and ends the job with node.drain.end
 * ("drained" once the node runs nothing, "blocked" when what is left can
 * go nowhere). node.drain.cancel stops it and leaves the node paused;
 * node.resume lets the node take VMs again and says how VMs return to it.
 *
 * Each VM of a drain climbs a ladder of move modes, live, then quick, then
 * cold (stop, start elsewhere). Its rung, its tries and the reason of its
 * last step up are the VM's (struct cd_vm_drain), written by the vm.move
 * that the coordinator submits, so a new coordinator carries on where the
 * old one was. cd_drain_next() is the ladder: pure, from the state alone.
 */
#ifndef CD_DRAIN_H
#define CD_DRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/change.h"
#include "core/vm.h"

enum cd_drain_state {
	CD_DRAIN_NONE,	    /* no drain (or the node was resumed) */
	CD_DRAIN_RUNNING,   /* its VMs are being moved away */
	CD_DRAIN_DRAINED,   /* it runs nothing */
	CD_DRAIN_BLOCKED,   /* what is left can go nowhere: why says what */
	CD_DRAIN_CANCELLED, /* an admin stopped it: the node stays paused */
};
#define CD_DRAIN_N_STATES (CD_DRAIN_CANCELLED + 1)

/* How VMs return to a node an admin resumed (node resume --failback). */
enum cd_resume_failback {
	CD_RESUME_POLICY, /* each VM's own failback setting */
	CD_RESUME_NOW,	  /* as if each VM preferring the node failed back immediately */
	CD_RESUME_NEVER,  /* none returns because of this resume */
};

#define CD_DRAIN_WHY_MAX 255

struct cd_drain {
	uint64_t id; /* the job, an action id; 0: never drained */
	enum cd_drain_state state;
	enum cd_move_mode mode;	     /* where each VM's ladder starts */
	uint64_t begun_ms, ended_ms; /* the asker's / the coordinator's wall clock */
	char why[CD_DRAIN_WHY_MAX + 1];
	enum cd_resume_failback failback; /* since the last resume */
	/*
	 * Stopping clusterd on the node began it (shutdown-policy): the node's
	 * next clusterd resumes it once it joined a quorate cluster. An admin's
	 * drain is never resumed but by an admin; a resume clears it.
	 */
	bool on_shutdown;
};

const char *cd_drain_state_to_str(enum cd_drain_state s);
const char *cd_resume_failback_to_str(enum cd_resume_failback f);
int cd_resume_failback_from_str(const char *s, enum cd_resume_failback *out);

/* The node's drain as JSON (NULL when it never had one), and back (absent: none). */
struct json_object *cd_drain_to_json(const struct cd_drain *d);
int cd_drain_from_json(struct cd_drain *d, const struct json_object *o);

/* A VM's place on its drain's ladder, as JSON in the VM's record, and back. */
struct json_object *cd_vm_drain_to_json(const struct cd_vm_drain *d);
int cd_vm_drain_from_json(struct cd_vm_drain *d, const struct json_object *o);

/*
 * vm.move's optional {"drain": {"job", "tries", "why"}} into d (all zero
 * if absent); the caller sets the rung and action once the move began.
 * 0, or -1 if malformed.
 */
int cd_vm_drain_parse(const struct json_object *c, struct cd_vm_drain *d);

struct cd_state;
struct cd_node;

/*
 * The ladder. Given the drain of the node a VM runs on, what comes next
 * for that VM: wait (it moves, or stops), move in mode (tries is then the
 * try of that rung it is, why the reason it stepped up, "" if none), or
 * stop (its ladder ran out or it may not go colder: why says so).
 */
enum cd_drain_step { CD_DRAIN_WAIT, CD_DRAIN_MOVE, CD_DRAIN_STUCK };
struct cd_drain_next {
	enum cd_drain_step step;
	enum cd_move_mode mode;
	uint32_t tries;
	char why[CD_DRAIN_WHY_MAX + 1];
};
void cd_drain_next(const struct cd_drain *d, const struct cd_vm *vm, struct cd_drain_next *out);

/* Tries of each rung before the next: live 1 (a live move falls back to quick itself), quick 2,
 * cold 2. */
uint32_t cd_drain_tries(enum cd_move_mode rung);

/*
 * Whether a VM is still on node: it runs, starts or stops there, moves
 * from there, or moves there (a move begun before the drain: it lands,
 * then it moves away).
 */
bool cd_drain_vm_on(const struct cd_vm *vm, uint32_t node);

/*
 * The change op about node (by name), stamped wall_ms: what node.drain,
 * node.drain.end, node.drain.cancel and node.resume start from, whoever
 * sends them; node.drain's takes the mode too.
 */
struct json_object *cd_node_change(enum cd_change op, const char *node, uint64_t wall_ms);
struct json_object *cd_node_drain_change(const char *node, enum cd_move_mode mode,
					 uint64_t wall_ms);
/* The same node.drain, begun by stopping clusterd on node (struct cd_drain's on_shutdown). */
struct json_object *cd_node_shutdown_drain_change(const char *node, enum cd_move_mode mode,
						  uint64_t wall_ms);

/* The changes (core/change.c's table). */
int cd_node_op_drain(struct cd_state *s, const struct json_object *c, char *err, size_t errlen);
int cd_node_op_drain_end(struct cd_state *s, const struct json_object *c, char *err, size_t errlen);
int cd_node_op_drain_cancel(struct cd_state *s, const struct json_object *c, char *err,
			    size_t errlen);
int cd_node_op_resume(struct cd_state *s, const struct json_object *c, char *err, size_t errlen);

#endif
