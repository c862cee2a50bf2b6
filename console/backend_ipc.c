#include "config.h"

#include <string.h>
#include <time.h>

#include <clusterd/client.h>
#include <clusterd/ipc.h>
#include <clusterd/result.h>

#include "console/backend_ipc.h"
#include "lib/util.h"

static struct json_object *error_reply(const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

/*
 * The message size to ask clusterd for: the lists, the events and the
 * drains' plans can be large; every other answer is small, and a small
 * connection spares clusterd's loop the setup of 8 MiB rings (clusterd/ipc.h).
 */
static size_t answer_size(const char *cmd)
{
	static const char *const big[] = {"vm.list",	       "events",	  "volume.list",
					  "volume.show",       "fence.list",	  "node.drain",
					  "node.drain.status", "maintenance.list"};
	size_t i;

	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		if (!strcmp(cmd, big[i]))
			return CD_IPC_MAX_MSG;
	return CD_IPC_SMALL_MSG;
}

/*
 * While clusterd re-synchronises after a membership change, or has not
 * joined yet, the call is tried again until the timeout, as clusterctl does.
 */
static int call(void *ctx, const char *cmd, struct json_object *args, struct json_object **reply)
{
	uint64_t deadline = cd_now_ms() + CN_IPC_TIMEOUT_MS;
	struct cd_client *c;
	char err[256];
	int rc;

	(void)ctx;
	rc = cd_client_connect_sized(&c, answer_size(cmd), err, sizeof(err));
	if (rc < 0) {
		*reply = error_reply(err);
		return rc;
	}
	for (;;) {
		uint64_t now = cd_now_ms();

		rc = cd_client_call(c, cmd, args, now < deadline ? (int)(deadline - now) : 1,
				    reply);
		if ((rc != CD_ERR_SYNCING && rc != CD_ERR_NOT_JOINED) || cd_now_ms() >= deadline)
			break;
		json_object_put(*reply);
		nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
	}
	cd_client_close(c);
	return rc;
}

const struct cn_backend_ops cn_backend_ipc_ops = {
	.call = call,
};
