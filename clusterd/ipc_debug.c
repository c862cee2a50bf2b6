/*
 * The IPC commands of clusterctl debug dump (debugdump.h): debug.dump
 * gathers every node's blackbox and answers the summary; debug.dump_part
 * hands out a node's text piece by piece (the texts together exceed what
 * one IPC message carries).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>

#include <clusterd/result.h>

#include "clusterd/debugdump.h"
#include "clusterd/ipc_cmd.h"
#include "core/dump.h"
#include "lib/jsonget.h"

static void dump_done(void *ctx, struct json_object *summary)
{
	qb_ipcs_connection_t *c = ctx;

	cd_ipc_send_reply(c, 0, summary);
	qb_ipcs_connection_unref(c);
}

/* args: {"deadline_ms"} (optional): how long to wait for the members' answers. */
static int cmd_debug_dump(qb_ipcs_connection_t *c, struct json_object *args,
			  struct json_object **out)
{
	uint64_t deadline = CD_DUMP_DEADLINE_MS;
	int rc;

	if (args && cd_jget_u64(args, "deadline_ms", &deadline) == 0 &&
	    (deadline < 100 || deadline > CD_DUMP_DEADLINE_MAX_MS)) {
		*out = cd_ipc_error_obj("deadline_ms must be between 100 and %u",
					CD_DUMP_DEADLINE_MAX_MS);
		return CD_ERR_INVALID;
	}
	qb_ipcs_connection_ref(c);
	rc = cd_debugdump_start(deadline, dump_done, c);
	if (rc < 0) {
		qb_ipcs_connection_unref(c);
		*out = rc == -EBUSY ? cd_ipc_error_obj("a dump is under way on this node; try "
						       "again when it is over")
				    : cd_ipc_error_obj("%s", cd_strerror(rc));
		return rc;
	}
	return CD_IPC_ASYNC;
}

/* args: {"dump", "node", "offset"}. */
static int cmd_debug_dump_part(qb_ipcs_connection_t *c, struct json_object *args,
			       struct json_object **out)
{
	const char *node = cd_ipc_arg_str(args, "node");
	uint64_t id, offset = 0;
	int rc;

	if (!node || cd_jget_u64(args, "dump", &id) < 0 || id > UINT32_MAX ||
	    (json_object_object_get_ex(args, "offset", NULL) &&
	     cd_jget_u64(args, "offset", &offset) < 0)) {
		*out = cd_ipc_error_obj("debug.dump_part takes dump, node and offset");
		return CD_ERR_INVALID;
	}
	rc = cd_debugdump_piece((uint32_t)id, node, offset, out);
	if (rc < 0)
		*out = cd_ipc_error_obj("no text of node %s in dump %llu (dumps are kept 10 "
					"minutes, the last one only)",
					node, (unsigned long long)id);
	return rc;
}

const struct cd_ipc_cmd cd_ipc_debug_cmds[] = {
	{"debug.dump", CD_IPC_ADMIN, cmd_debug_dump},
	{"debug.dump_part", CD_IPC_ADMIN, cmd_debug_dump_part},
};
const size_t cd_ipc_debug_n_cmds = sizeof(cd_ipc_debug_cmds) / sizeof(cd_ipc_debug_cmds[0]);
