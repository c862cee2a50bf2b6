/*
 * Result codes shared by clusterd, its client library and clusterctl.
 *
 * Functions return 0 on success or a negative number on failure: either
 * -errno or one of the project codes below, which all lie under -1000 so
 * they never collide with errno values.
 */
#ifndef CLUSTERD_RESULT_H
#define CLUSTERD_RESULT_H

enum cd_result {
	CD_ERR_BASE = -1000,
	CD_ERR_NOT_QUORATE = -1001,	/* this node's partition has no quorum */
	CD_ERR_SYNCING = -1002,		/* membership changed, state sync under way */
	CD_ERR_NOT_FOUND = -1003,	/* no such node, property or object */
	CD_ERR_INVALID = -1004,		/* a bad argument; the message says which */
	CD_ERR_PROTOCOL = -1005,	/* a malformed or unknown message */
	CD_ERR_NO_DAEMON = -1006,	/* clusterd is not running or not reachable */
	CD_ERR_TIMEOUT = -1007,		/* no answer in time */
	CD_ERR_CORRUPT = -1008,		/* a checksum or format check failed */
	CD_ERR_VERSION = -1009,		/* an unsupported format or protocol version */
	CD_ERR_NOT_JOINED = -1010,	/* clusterd has not joined the cluster (yet) */
	CD_ERR_DENIED = -1011,		/* not allowed: root or the admin group only */
	CD_ERR_EXISTS = -1012,		/* the object exists already */
	CD_ERR_HELD = -1013,		/* a disk lease is held by another live host */
	CD_ERR_SLOT_LOST = -1014,	/* our host slot was taken over by another host */
	CD_ERR_UNTRUSTED = -1015,	/* the IPC server is not root: not clusterd */
	CD_ERR_REFUSED = -1016,		/* a check found reasons against it (it lists them) */
	CD_ERR_MOVE_STAYED = -1017,	/* a move ended without moving: the VM runs where it ran */
	CD_ERR_MOVE_FAILED = -1018,	/* a move failed and lost the VM: failover restarts it */
	CD_ERR_MOVE_SAVED = -1019,	/* a move ended with the VM saved: restored where placed */
	CD_ERR_DRAIN_BLOCKED = -1020,	/* a drain ended with VMs that could move nowhere */
	CD_ERR_DRAIN_CANCELLED = -1021, /* a drain was cancelled before the node was empty */
	CD_ERR_CHECK_FAILED = -1022,	/* cluster check: a check failed (it says which) */
	CD_ERR_LAST = -1023
};

/* A static string describing rc (0, -errno or a CD_ERR_* code). */
const char *cd_strerror(int rc);

/*
 * Exit codes of clusterctl, one per class of failure (documented in
 * clusterctl(8)). Maps any result code to one of them.
 */
enum cd_exit {
	CD_EXIT_OK = 0,
	CD_EXIT_FAILURE = 1,	      /* anything not listed below */
	CD_EXIT_USAGE = 2,	      /* bad command line */
	CD_EXIT_NOT_QUORATE = 3,      /* refused: no quorum */
	CD_EXIT_NOT_FOUND = 4,	      /* no such object */
	CD_EXIT_INVALID = 5,	      /* invalid argument or value */
	CD_EXIT_NO_DAEMON = 6,	      /* clusterd not reachable, or permission denied */
	CD_EXIT_TIMEOUT = 7,	      /* timed out (also: sync did not finish in time) */
	CD_EXIT_BUSY = 8,	      /* a lease is held by another live host */
	CD_EXIT_REFUSED = 9,	      /* refused by a check, which printed its reasons */
	CD_EXIT_UNSUPPORTED = 10,     /* not supported by this version (-EOPNOTSUPP) */
	CD_EXIT_MOVE_STAYED = 11,     /* the move did not happen: the VM runs where it ran */
	CD_EXIT_MOVE_FAILED = 12,     /* the move failed; the VM is being restarted by failover */
	CD_EXIT_MOVE_SAVED = 13,      /* the VM was saved: restored where the cluster places it */
	CD_EXIT_DRAIN_BLOCKED = 14,   /* the drain ended blocked: some VM can move nowhere */
	CD_EXIT_DRAIN_CANCELLED = 15, /* the drain was cancelled */
};
int cd_exit_code(int rc);

#endif
