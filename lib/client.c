#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qbipcc.h>

#include <clusterd/client.h>
#include <clusterd/ipc.h>
#include <clusterd/result.h>

#include "lib/ipcpeer.h"

struct cd_client {
	qb_ipcc_connection_t *conn;
	size_t max; /* the connection's message size */
	char *buf;  /* max bytes for the response */
};

int cd_client_connect(struct cd_client **out, char *err, size_t errlen)
{
	return cd_client_connect_sized(out, CD_IPC_MAX_MSG, err, errlen);
}

int cd_client_connect_sized(struct cd_client **out, size_t max_msg, char *err, size_t errlen)
{
	const char *name = cd_ipc_name();
	struct cd_ipc_peer peer;
	struct cd_client *c;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		rc = -ENOMEM;
		goto out_say_why;
	}
	if (max_msg < CD_IPC_SMALL_MSG)
		max_msg = CD_IPC_SMALL_MSG;
	if (max_msg > CD_IPC_MAX_MSG)
		max_msg = CD_IPC_MAX_MSG;
	c->max = max_msg;
	c->buf = malloc(max_msg);
	if (!c->buf) {
		rc = -ENOMEM;
		goto out_say_why;
	}
	c->conn = qb_ipcc_connect(name, max_msg);
	if (!c->conn) {
		rc = (errno == EACCES || errno == EPERM) ? CD_ERR_DENIED : CD_ERR_NO_DAEMON;
		goto out_say_why;
	}
	/*
	 * Any local user can bind the name while clusterd is down; whoever
	 * did would receive our requests, fence passwords included. So check
	 * who answered before a single request leaves.
	 */
	rc = cd_ipc_server_peer(c->conn, &peer);
	if (rc < 0) {
		snprintf(err, errlen, "cannot tell who serves the IPC name %s: %s", name,
			 cd_strerror(rc));
		rc = CD_ERR_UNTRUSTED;
		goto out_close;
	}
	if (!cd_ipc_server_trusted(peer.uid)) {
		snprintf(err, errlen,
			 "the server of IPC name %s (pid %ld) runs as uid %lu, not root: "
			 "refusing to talk to it",
			 name, (long)peer.pid, (unsigned long)peer.uid);
		rc = CD_ERR_UNTRUSTED;
		goto out_close;
	}
	*out = c;
	return 0;
out_say_why:
	snprintf(err, errlen, "%s", cd_strerror(rc));
out_close:
	cd_client_close(c);
	return rc;
}

static struct json_object *error_reply(int rc, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg ? msg : cd_strerror(rc)));
	return o;
}

int cd_client_call(struct cd_client *c, const char *cmd, struct json_object *args, int timeout_ms,
		   struct json_object **reply)
{
	struct qb_ipc_request_header *req;
	struct qb_ipc_response_header *res;
	struct json_object *msg;
	const char *text;
	size_t tlen, total;
	ssize_t n;
	int rc;

	msg = json_object_new_object();
	json_object_object_add(msg, "v", json_object_new_int(CD_IPC_VERSION));
	json_object_object_add(msg, "cmd", json_object_new_string(cmd));
	if (args)
		json_object_object_add(msg, "args", json_object_get(args));
	text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN);
	tlen = strlen(text) + 1;
	total = sizeof(*req) + tlen;
	if (total > c->max) {
		json_object_put(msg);
		*reply = error_reply(CD_ERR_INVALID, "request too large");
		return CD_ERR_INVALID;
	}
	req = malloc(total);
	if (!req) {
		json_object_put(msg);
		*reply = error_reply(-ENOMEM, NULL);
		return -ENOMEM;
	}
	req->id = CD_IPC_REQUEST;
	req->size = (int32_t)total;
	memcpy(req + 1, text, tlen);
	json_object_put(msg);

	n = qb_ipcc_sendv_recv(c->conn, &(struct iovec){.iov_base = req, .iov_len = total}, 1,
			       c->buf, c->max, timeout_ms);
	free(req);
	if (n < 0) {
		rc = (n == -ETIMEDOUT || n == -EAGAIN) ? CD_ERR_TIMEOUT : CD_ERR_NO_DAEMON;
		*reply = error_reply(rc, NULL);
		return rc;
	}
	res = (struct qb_ipc_response_header *)c->buf;
	if ((size_t)n < sizeof(*res) + 1 || res->id != CD_IPC_RESPONSE || res->size != n ||
	    c->buf[n - 1] != '\0') {
		*reply = error_reply(CD_ERR_PROTOCOL, NULL);
		return CD_ERR_PROTOCOL;
	}
	*reply = json_tokener_parse(c->buf + sizeof(*res));
	if (!*reply || !json_object_is_type(*reply, json_type_object)) {
		json_object_put(*reply);
		*reply = error_reply(CD_ERR_PROTOCOL, NULL);
		return CD_ERR_PROTOCOL;
	}
	return res->error;
}

void cd_client_close(struct cd_client *c)
{
	if (!c)
		return;
	if (c->conn)
		qb_ipcc_disconnect(c->conn);
	free(c->buf);
	free(c);
}
