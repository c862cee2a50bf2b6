#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <clusterd/ipc.h>

#include "lib/ipcpeer.h"

/* Enough for libqb's connection setup; the probe sends no request. */
#define PROBE_MAX_MSG 4096

const char *cd_ipc_name(void)
{
	const char *n = getenv("CLUSTERD_IPC_NAME");

	return n && *n ? n : CD_IPC_NAME;
}

bool cd_ipc_server_trusted(uid_t uid)
{
	/*
	 * clusterd always runs as root. A server on the name that does not
	 * is not clusterd, whoever started it, the caller's own uid included.
	 */
	return uid == 0;
}

int cd_ipc_server_peer(qb_ipcc_connection_t *conn, struct cd_ipc_peer *peer)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int32_t fd, rc;

	peer->pid = -1;
	peer->uid = (uid_t)-1;
	peer->gid = (gid_t)-1;
	rc = qb_ipcc_auth_get(conn, &peer->pid, &peer->uid, &peer->gid);
	if (rc < 0)
		return rc;
	/*
	 * libqb takes these from the SCM_CREDENTIALS of the server's setup
	 * answer. A libqb that did not fill them in would leave uid 0 (its
	 * connection is zeroed), which reads as root. So ask the kernel too:
	 * SO_PEERCRED of the same socket, the server's credentials when it
	 * began to listen. Where the two differ, the one that is not root
	 * wins.
	 */
	if (qb_ipcc_fd_get(conn, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof(cred)) {
		if (peer->uid == 0 && cred.uid != 0) {
			peer->uid = cred.uid;
			peer->gid = cred.gid;
		}
		if (peer->pid <= 0)
			peer->pid = cred.pid;
	}
	return 0;
}

int cd_ipc_probe(const char *name, struct cd_ipc_peer *peer)
{
	qb_ipcc_connection_t *conn;
	int rc;

	peer->pid = -1;
	peer->uid = (uid_t)-1;
	peer->gid = (gid_t)-1;
	conn = qb_ipcc_connect(name, PROBE_MAX_MSG);
	if (!conn) {
		switch (errno) {
		case ECONNREFUSED: /* an abstract socket nobody listens on */
		case ENOENT:	   /* a filesystem socket that is not there */
			return 0;
		case EACCES:
		case EPERM:
			/* Someone answered, and refused us. */
			return -EADDRINUSE;
		default:
			return errno ? -errno : -EIO;
		}
	}
	rc = cd_ipc_server_peer(conn, peer);
	qb_ipcc_disconnect(conn);
	return rc < 0 ? rc : -EADDRINUSE;
}

int cd_ipcs_create_exclusive(const char *name, enum qb_ipc_type type,
			     struct qb_ipcs_service_handlers *handlers, qb_ipcs_service_t **svc,
			     struct cd_ipc_peer *holder)
{
	int rc = cd_ipc_probe(name, holder);

	*svc = NULL;
	if (rc < 0)
		return rc;
	/*
	 * What remains is a race with a server that binds the name between
	 * the probe and our bind; qb_ipcs_run() then fails on an abstract
	 * socket, which is every Linux default.
	 */
	*svc = qb_ipcs_create(name, 0, type, handlers);
	return *svc ? 0 : (errno ? -errno : -ENOMEM);
}
