/*
 * Who is at the other end of a libqb IPC name.
 *
 * Both ends care. A client must not hand root's requests (fence passwords
 * among them) to whatever local user bound the name first, so it talks
 * only to a server that runs as root. clusterd must not start on a name
 * another process already serves, so it probes the name first.
 * The credentials come from the kernel (SCM_CREDENTIALS and SO_PEERCRED
 * on libqb's setup socket), not from anything the other end says about
 * itself.
 */
#ifndef CD_IPCPEER_H
#define CD_IPCPEER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <qb/qbipcc.h>
#include <qb/qbipcs.h>

/* The process at the other end of an IPC name; -1 in each field if unknown. */
struct cd_ipc_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/*
 * The IPC name clients and clusterd use: $CLUSTERD_IPC_NAME when set and
 * not empty, else CD_IPC_NAME. A static string or the environment's.
 */
const char *cd_ipc_name(void);

/* Whether a client may talk to a server that runs as uid: root only. */
bool cd_ipc_server_trusted(uid_t uid);

/*
 * The server at the other end of conn, as the kernel reported it when the
 * connection was set up (qb_ipcc_auth_get(), checked against SO_PEERCRED).
 * Returns 0 or -errno.
 */
int cd_ipc_server_peer(qb_ipcc_connection_t *conn, struct cd_ipc_peer *peer);

/*
 * Whether a server answers on name. Returns 0 if none does, -EADDRINUSE if
 * one does (*peer is who: its pid, uid and gid, or -1 in each when it
 * refused our connection before saying), or another -errno.
 */
int cd_ipc_probe(const char *name, struct cd_ipc_peer *peer);

/*
 * qb_ipcs_create() on name, unless another server already answers on it:
 * libqb would fail to bind an abstract socket, but with filesystem sockets
 * it unlinks the old one and takes the name over. On success *svc is a new
 * service (not running yet) the caller destroys with qb_ipcs_destroy().
 * Returns 0, -EADDRINUSE with *holder set as cd_ipc_probe() says, or
 * -errno.
 */
int cd_ipcs_create_exclusive(const char *name, enum qb_ipc_type type,
			     struct qb_ipcs_service_handlers *handlers, qb_ipcs_service_t **svc,
			     struct cd_ipc_peer *holder);

#endif
