/*
 * What the IPC server's command handlers share. ipcs.c is the transport:
 * it parses a request, looks its command up in the subjects' tables
 * (ipc_cluster.c, ipc_vm.c, ipc_volume.c, ipc_fence.c, ipc_drain.c,
 * ipc_maint.c) and admits it by
 * the command's flags (ipc_admit.h) before its handler runs; the helpers
 * the handlers share are in ipc_cmd.c.
 */
#ifndef CD_IPC_CMD_H
#define CD_IPC_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>
#include <qb/qbipcs.h>

#include "core/change.h"
#include "core/ipc_admit.h"

/* Handlers return 0 with *out set, a negative code with *out = error text, or ASYNC. */
#define CD_IPC_ASYNC 1

/*
 * One command. A handler that returns CD_IPC_ASYNC holds a reference on c
 * and answers later, with cd_ipc_send_reply() or cd_ipc_send_error().
 */
struct cd_ipc_cmd {
	const char *name;
	unsigned flags; /* enum cd_ipc_flags: what it needs before it runs */
	int (*fn)(qb_ipcs_connection_t *c, struct json_object *args, struct json_object **out);
	/* With no fn: the client's arguments are submitted as a change of this kind. */
	enum cd_change change;
};

/* Each subject's commands: ipcs.c searches these tables in this order. */
extern const struct cd_ipc_cmd cd_ipc_cluster_cmds[]; /* status, events, property.*, node.* */
extern const size_t cd_ipc_cluster_n_cmds;
extern const struct cd_ipc_cmd cd_ipc_vm_cmds[]; /* vm.* */
extern const size_t cd_ipc_vm_n_cmds;
extern const struct cd_ipc_cmd cd_ipc_move_cmds[]; /* vm.move* */
extern const size_t cd_ipc_move_n_cmds;
extern const struct cd_ipc_cmd cd_ipc_volume_cmds[]; /* volume.*, debug.volume_stall */
extern const size_t cd_ipc_volume_n_cmds;
extern const struct cd_ipc_cmd cd_ipc_fence_cmds[]; /* fence.* */
extern const size_t cd_ipc_fence_n_cmds;
extern const struct cd_ipc_cmd cd_ipc_drain_cmds[]; /* node.drain*, node.resume */
extern const size_t cd_ipc_drain_n_cmds;
extern const struct cd_ipc_cmd cd_ipc_maint_cmds[]; /* maintenance.* */
extern const size_t cd_ipc_maint_n_cmds;
extern const struct cd_ipc_cmd cd_ipc_check_cmds[]; /* cluster.check */
extern const size_t cd_ipc_check_n_cmds;
extern const struct cd_ipc_cmd cd_ipc_import_cmds[]; /* vm.import* */
/* The import's node-call methods (ipc_import.c), registered at start. */
void cd_import_init(void);
extern const size_t cd_ipc_import_n_cmds;
extern const struct cd_ipc_cmd cd_ipc_debug_cmds[]; /* debug.dump, debug.dump_part */
extern const size_t cd_ipc_debug_n_cmds;

/* What clusterctl status --json shows of this node: a new object. */
struct json_object *cd_ipc_status_json(void);

/*
 * Add status's failover fields to o (core/failpath.h): no_failover_path
 * (the first 100), no_failover_path_count, unconfirmable_nodes.
 */
void cd_ipc_failover_status(struct json_object *o);

struct cd_vm;
/*
 * A VM's move (last false: the one under way) or its last move as a reply
 * shows it, with node names; NULL for none.
 */
struct json_object *cd_ipc_move_json(const struct cd_vm *vm, bool last);

/*
 * Answer c: rc and body as JSON. A body above the IPC cap is answered
 * -EMSGSIZE with {"error"} saying its size.
 */
void cd_ipc_send_reply(qb_ipcs_connection_t *c, int rc, struct json_object *body);

/* The largest message connection c takes: the size its client asked for, up to CD_IPC_MAX_MSG. */
size_t cd_ipc_reply_cap(qb_ipcs_connection_t *c);

/* Answer c with rc and {"error": msg}, or rc's own text when msg is NULL or empty. */
void cd_ipc_send_error(qb_ipcs_connection_t *c, int rc, const char *msg);

/* The string argument key, or NULL when args lacks it or it is not a string. */
const char *cd_ipc_arg_str(struct json_object *args, const char *key);

/* A new {"error": text}, text formatted like printf (at most 511 bytes). */
struct json_object *cd_ipc_error_obj(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Submit a change of kind kind, with args, to the cluster's state:
 * CD_IPC_ASYNC (c is answered the new version, or the error, once the change
 * is applied), or a negative code with *out set.
 */
int cd_ipc_submit_change(qb_ipcs_connection_t *c, enum cd_change kind, struct json_object *args,
			 struct json_object **out);

/*
 * The answer to a change submitted with cd_ipc_submit_answer(), built from
 * the client's args once the change is applied: 0 with *out set, or a
 * negative code with *out an {"error"} object (or NULL: rc's own text).
 */
typedef int cd_ipc_answer_fn(struct json_object *args, struct json_object **out);

/*
 * Submit change ch (taken) for client c: CD_IPC_ASYNC, and c is answered
 * by answer(args) once ch is applied (args is referenced until then), or
 * with the refusal; or a negative code with *out set.
 */
int cd_ipc_submit_answer(qb_ipcs_connection_t *c, struct json_object *ch, struct json_object *args,
			 cd_ipc_answer_fn *answer, struct json_object **out);

/*
 * Ask for a file request on volume vol, as volume.file does (clusterctl
 * volume file create|remove|resize): req holds the request's fields ("fop",
 * "file", "size"; its "timeout_ms", "request_id" and "name" are not
 * copied, req is not taken), id its id (0: a new one). The request is
 * recorded in the state, then its result awaited there: done(ctx, rc, err)
 * is called once, from the loop, with the volume coordinator's answer or
 * CD_ERR_TIMEOUT after timeout_ms. 0, or a negative code (done is then
 * never called).
 */
int cd_ipc_volume_file_request(const char *vol, struct json_object *req, uint64_t id,
			       int timeout_ms, void (*done)(void *ctx, int rc, const char *err),
			       void *ctx);

#endif
