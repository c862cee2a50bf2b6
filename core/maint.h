/*
 * Scheduled rolling maintenance in the replicated state: named schedules
 * that drain, service and resume nodes one at a time (clusterctl
 * maintenance). A schedule (struct cd_maint) says which nodes, when
 * (core/schedule.h), how VMs move, the commands run on each node before
 * (pre) and after (post) it is serviced, after how many failed nodes a run
 * stops, and the window a run must end in. Its run (struct cd_maint_run)
 * is carried out by the coordinator (clusterd/maint_run.c), step by step
 * through maintenance.step changes, so a new coordinator carries it on;
 * the hooks are run by the node itself, which reports through
 * maintenance.hook. Pure: no I/O.
 */
#ifndef CD_MAINT_H
#define CD_MAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/vm.h" /* enum cd_move_mode */

#define CD_MAINT_MAX 8	       /* schedules in a cluster */
#define CD_MAINT_NODES 32      /* nodes of one schedule (the cluster's limit) */
#define CD_MAINT_HISTORY 4     /* past runs kept per schedule */
#define CD_MAINT_HOOK_MAX 1023 /* a pre or post command */
#define CD_MAINT_WHY_MAX 255
#define CD_MAINT_NODE_WHY_MAX 127 /* a node's outcome in a run */
/*
 * The largest schedule in JSON (state.h's budget): its nodes 32 x 66 x 2,
 * pre and post 2 x 1023 x 6, and five runs (the current one and
 * CD_MAINT_HISTORY), each a why and an output of 255 x 6 and 32 nodes of
 * 64 x 2 + 127 x 6 and their numbers: about 205 KiB.
 */
#define CD_MAINT_JSON_MAX (224 * 1024)
#define CD_MAINT_OUTPUT_MAX 255 /* the end of a hook's output kept */

enum cd_maint_outcome {
	CD_MRUN_RUNNING,
	CD_MRUN_DONE,	   /* every node serviced */
	CD_MRUN_FAILED,	   /* stopped after max_failed failed nodes */
	CD_MRUN_CANCELLED, /* an admin cancelled it */
	CD_MRUN_WINDOW,	   /* its window ended before it did */
};

/* Where a run is with its current node, in order. */
enum cd_maint_phase {
	CD_MPHASE_GATE,	  /* waiting for the cluster to be healthy enough to take the node out */
	CD_MPHASE_DRAIN,  /* the node's drain runs */
	CD_MPHASE_PRE,	  /* the pre command runs on the node */
	CD_MPHASE_BACK,	  /* waiting for the node to be back and healthy (it may reboot) */
	CD_MPHASE_POST,	  /* the post command runs on the node */
	CD_MPHASE_RESUME, /* the node is resumed (failback by policy) */
};

enum cd_maint_node_outcome {
	CD_MNODE_PENDING,
	CD_MNODE_ACTIVE, /* being serviced */
	CD_MNODE_DONE,
	CD_MNODE_FAILED,
	CD_MNODE_SKIPPED, /* not reached (the run ended first) */
};

/* A hook asked of a node: not yet begun, begun (the node said so), done with rc. */
enum cd_maint_hook_state { CD_MHOOK_NONE, CD_MHOOK_STARTED, CD_MHOOK_DONE };

struct cd_maint_run_node {
	char node[64];
	enum cd_maint_node_outcome outcome;
	uint64_t began_ms, ended_ms;
	char why[CD_MAINT_NODE_WHY_MAX + 1];
};

struct cd_maint_run {
	uint64_t id; /* an action id; 0: never ran */
	enum cd_maint_outcome outcome;
	uint64_t began_ms, ended_ms;
	uint32_t idx; /* the node being serviced: nodes[idx] */
	enum cd_maint_phase phase;
	uint64_t phase_ms; /* when the phase began (coordinator's wall clock) */
	/* The hook of phase PRE or POST on nodes[idx]. */
	uint64_t hook_id; /* which ask (an action id), 0: none asked yet */
	enum cd_maint_hook_state hook_state;
	int hook_rc; /* CD_MHOOK_DONE: its exit status (-1: killed or lost) */
	/* Which clusterd of the node began it (a random id per start of clusterd). */
	uint64_t hook_epoch;
	char hook_output[CD_MAINT_OUTPUT_MAX + 1];
	uint32_t failed; /* nodes failed in this run */
	char why[CD_MAINT_WHY_MAX + 1];
	struct cd_maint_run_node nodes[CD_MAINT_NODES]; /* resolved at the start */
	size_t n_nodes;
};

struct cd_maint {
	char name[64];
	bool all_nodes; /* every node of the cluster, resolved when a run starts */
	char nodes[CD_MAINT_NODES][64];
	size_t n_nodes;
	bool every; /* false: once at at_ms */
	uint64_t at_ms;
	char schedule[128]; /* every: the schedule text (core/schedule.h) */
	enum cd_move_mode mode;
	char pre[CD_MAINT_HOOK_MAX + 1], post[CD_MAINT_HOOK_MAX + 1]; /* "" none */
	uint32_t max_failed;	 /* a run stops once this many nodes failed (>= 1) */
	uint64_t window_ms;	 /* a run must end within this (0: no window) */
	uint64_t next_ms;	 /* the next run's start (wall ms), 0: none planned */
	struct cd_maint_run run; /* the current run (RUNNING) or the last one */
	struct cd_maint_run history[CD_MAINT_HISTORY]; /* earlier runs, newest first */
	size_t n_history;
};

const char *cd_maint_outcome_to_str(enum cd_maint_outcome o);
const char *cd_maint_phase_to_str(enum cd_maint_phase p);
const char *cd_maint_node_outcome_to_str(enum cd_maint_node_outcome o);
const char *cd_maint_hook_state_to_str(enum cd_maint_hook_state h);

struct json_object *cd_maint_to_json(const struct cd_maint *m);
int cd_maint_from_json(struct cd_maint *m, const struct json_object *o, char *err, size_t errlen);

struct cd_state;
const struct cd_maint *cd_state_maint(const struct cd_state *s, const char *name);

/*
 * The changes (core/change.c's table):
 *   maintenance.add {name, nodes: [names] | "all", at_ms | schedule (text),
 *     next_ms, mode, pre, post, max_failed, window_ms}: a new schedule
 *     (the asker parsed the schedule and computed next_ms: nodes' time zones
 *     may differ, the state must not); refused if the name exists, a node is
 *     unknown, more than CD_MAINT_MAX, a field is malformed.
 *   maintenance.remove {name}: gone (a run under way ends cancelled first,
 *     leaving its node as it is: an admin resumes it).
 *   maintenance.cancel {name, wall_ms}: the run under way ends CANCELLED.
 *   maintenance.run {name, wall_ms}: next_ms = wall_ms (run now), refused
 *     while one runs.
 *   maintenance.step {name, id, ...} (coordinator): the run moves on:
 *     {"begin": true, "nodes": [names], "wall_ms"}: a new run (id = a new
 *       action id, the previous run pushed into history), nodes PENDING,
 *       idx 0 ACTIVE, phase GATE; next_ms 0 while it runs; the change's
 *       "id" is ignored for begin;
 *     {"phase": P, "wall_ms"} for run id: phase P from now, hook reset
 *       (hook_id = a new action id if P is PRE or POST, else 0);
 *     {"node_outcome": "done"|"failed", "why", "wall_ms"}: nodes[idx] ends so
 *       (failed counts), then idx moves to the next node (ACTIVE, phase GATE)
 *       or, after the last, the run ends DONE (or FAILED if any failed);
 *     {"end": "failed"|"window"|"done", "why", "next_ms", "wall_ms"}: the run
 *       ends so, the nodes not reached SKIPPED; next_ms is the next run.
 *   maintenance.hook {name, id, hook_id, node, state: "started"|"done", rc,
 *     output, epoch} (from that node): the hook's progress, only for the
 *     current hook_id of run id and its node nodes[idx].
 */
int cd_maint_op_add(struct cd_state *s, const struct json_object *c, char *err, size_t errlen);
int cd_maint_op_remove(struct cd_state *s, const struct json_object *c, char *err, size_t errlen);
int cd_maint_op_cancel(struct cd_state *s, const struct json_object *c, char *err, size_t errlen);
int cd_maint_op_run(struct cd_state *s, const struct json_object *c, char *err, size_t errlen);
int cd_maint_op_step(struct cd_state *s, const struct json_object *c, char *err, size_t errlen);
int cd_maint_op_hook(struct cd_state *s, const struct json_object *c, char *err, size_t errlen);

#endif
