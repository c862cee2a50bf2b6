/*
 * libclusterd-client: talk to the local clusterd.
 */
#ifndef CLUSTERD_CLIENT_H
#define CLUSTERD_CLIENT_H

#include <stddef.h>

#include <json-c/json.h>

struct cd_client;

/*
 * Connect to the local clusterd (the IPC name is $CLUSTERD_IPC_NAME or
 * "clusterd") and check that the server that answered runs as root. On
 * success *out is a new client the caller frees with cd_client_close().
 * Returns 0, CD_ERR_NO_DAEMON, CD_ERR_DENIED (clusterd refused us),
 * CD_ERR_UNTRUSTED (the server is not root) or -ENOMEM; on failure err
 * (errlen bytes) holds one line for a person.
 */
int cd_client_connect(struct cd_client **out, char *err, size_t errlen);

/*
 * cd_client_connect() for messages of at most max_msg bytes each way
 * (CD_IPC_SMALL_MSG up to CD_IPC_MAX_MSG, clusterd/ipc.h), which is what
 * clusterd sets up for the connection: an answer larger than that is
 * refused by clusterd with an error that says so.
 */
int cd_client_connect_sized(struct cd_client **out, size_t max_msg, char *err, size_t errlen);

/*
 * Send one command and wait up to timeout_ms for its answer.
 * args is borrowed (may be NULL). On return *reply (always set, never NULL)
 * is a new reference the caller puts with json_object_put(); on failure it
 * holds {"error": "..."}. Returns the command's result code.
 */
int cd_client_call(struct cd_client *c, const char *cmd, struct json_object *args, int timeout_ms,
		   struct json_object **reply);

/* Disconnect and free. Accepts NULL. */
void cd_client_close(struct cd_client *c);

#endif
