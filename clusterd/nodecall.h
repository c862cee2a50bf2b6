/*
 * Calls between members over CPG (core/nodecall.h has the messages): work
 * that only one node can do, asked by whichever member a client reached.
 *
 * The caller: cd_nodecall_start() sends the call and gives its done
 * function the node's answer, or an error once the node leaves the
 * membership or the deadline passes (then the work may or may not have
 * been done there: the caller says so). The called node: a method
 * registered with cd_nodecall_register() runs with the call's origin and
 * arguments and answers, now or later, with cd_nodecall_answer().
 */
#ifndef CD_CLUSTERD_NODECALL_H
#define CD_CLUSTERD_NODECALL_H

#include <stdint.h>

#include <json-c/json.h>
#include <qb/qbloop.h>

#include "core/msg.h"

/* Who asked: the answer's address. */
struct cd_nodecall_origin {
	uint32_t caller;
	uint32_t id;
};

/* A method: args are borrowed for the call only. It must answer exactly once. */
typedef void (*cd_nodecall_method_fn)(struct cd_nodecall_origin from, struct json_object *args);

/*
 * The answer: rc and body (borrowed; NULL stands for {}), or, with err set
 * and body NULL, why there is none.
 */
typedef void (*cd_nodecall_done_fn)(void *ctx, int rc, struct json_object *body, const char *err);

void cd_nodecall_init(qb_loop_t *loop);
/* Pending calls end with CD_ERR_NO_DAEMON: clusterd stops. */
void cd_nodecall_fini(void);

/* Register method (a static string) on this node. Returns 0 or -ENOSPC. */
int cd_nodecall_register(const char *method, cd_nodecall_method_fn fn);

/*
 * Ask node to (a member, this node included) run method with args
 * (borrowed) and call done with its answer, within deadline_ms. Returns 0,
 * or a negative code with nothing sent and done never called.
 */
int cd_nodecall_start(uint32_t to, const char *method, struct json_object *args,
		      uint32_t deadline_ms, cd_nodecall_done_fn done, void *ctx);

/* Answer a call with rc and body (borrowed; NULL for {}). Returns 0 or a negative code. */
int cd_nodecall_answer(struct cd_nodecall_origin from, int rc, struct json_object *body);

/* Delivered messages (replica.c's dispatch), whatever the sync phase. */
void cd_nodecall_on_call(const struct cd_msg *m);
void cd_nodecall_on_reply(const struct cd_msg *m);

/* After a batch of changes or a membership change: calls to nodes that left end. */
void cd_nodecall_state_changed(void);

#endif
