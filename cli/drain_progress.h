/*
 * A node drain in clusterctl's words: the plan of a node.drain answer as a
 * table, the lines of a node.drain.status reply (one per VM and one for
 * the whole drain), which VMs changed between two replies, how the drain
 * ended and its result code, and the answer of node.resume. Pure: nothing
 * here talks to clusterd or looks at a terminal. Every function that
 * writes a line writes it into buf (n bytes), cut to fit, and returns buf.
 */
#ifndef CD_DRAIN_PROGRESS_H
#define CD_DRAIN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

/* The head of the plan table: ORDER VM PRIORITY TARGET METHOD EXPECTED BLOCKER. */
const char *drain_plan_header(char *buf, size_t n);

/*
 * The row of the plan's entry (its order-th, from 1), such as
 *
 *     1  web1             high          node3            live       12 s  -
 */
const char *drain_plan_row(struct json_object *entry, size_t order, char *buf, size_t n);

/*
 * What the plan of answer (node.drain's) comes to, such as "node2: 6 VMs,
 * 2 at a time (95 MiB/s measured / (4 x 10 MiB/s dirtied, assumed)), about
 * 34 s" (the bandwidth over the margin times the dirty rate of the VM that
 * binds, named when some VM's was measured), and "; 1 VM blocked" when
 * some can move nowhere.
 */
const char *drain_plan_summary(struct json_object *answer, char *buf, size_t n);

/*
 * The line of a drain that started (node.drain's answer), such as
 * "drain 41 of node2 started: 6 VMs, 2 at a time, about 34 s".
 */
const char *drain_started_line(struct json_object *answer, char *buf, size_t n);

/* "web3: fits nowhere: ..." for a plan entry with a blocker, or NULL without one. */
const char *drain_blocker_line(struct json_object *entry, char *buf, size_t n);

/* The head of the per-VM table: VM METHOD STATE PHASE PERCENT TARGET WHY. */
const char *drain_status_header(char *buf, size_t n);

/*
 * The row of vm (one of node.drain.status's "vms"), cut at width
 * characters (0: not cut), such as
 *
 *     web1             live   moving   copying        37%  node3
 */
const char *drain_vm_line(struct json_object *vm, size_t width, char *buf, size_t n);

/*
 * The whole drain of status (node.drain.status's), cut at width, such as
 * "node2: drain 41 running, 3/6 moved, 1 blocked, about 20 s left, 2 at a
 * time (95 MiB/s measured / (4 x 50 MiB/s dirtied by db1, measured))".
 */
const char *drain_overall_line(struct json_object *status, size_t width, char *buf, size_t n);

/*
 * Whether vm (of a status) is news after prev (the status before, or
 * NULL): prev does not list it, or lists it in another state or method.
 */
bool drain_vm_changed(struct json_object *prev, struct json_object *vm);

/*
 * How the drain of status ended, such as "drain 41 of node2 done: 6 of 6
 * VMs moved in 41 s; node2 stays in maintenance until node resume".
 */
const char *drain_end_line(struct json_object *status, char *buf, size_t n);

/*
 * The result of the drain's state in status: 0 drained,
 * CD_ERR_DRAIN_BLOCKED, CD_ERR_DRAIN_CANCELLED, CD_ERR_TIMEOUT while it
 * runs (a wait that stops then gave up), CD_ERR_NOT_FOUND for none (no
 * drain, or its record cleared by node resume), CD_ERR_PROTOCOL for a
 * state this version does not know.
 */
int drain_state_result(struct json_object *status);

/*
 * The answer of node.resume, such as "node2 takes VMs again (failback
 * policy); moving back now: web1, db1".
 */
const char *drain_resume_line(struct json_object *answer, char *buf, size_t n);

#endif
