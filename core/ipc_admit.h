/*
 * Which IPC requests clusterd takes, decided from a command's flags and
 * this node's standing before the command's handler runs, as corosync's
 * handler table says what is allowed while inquorate. Pure: ipcs.c fills
 * in the standing and answers the refusal.
 */
#ifndef CD_IPC_ADMIT_H
#define CD_IPC_ADMIT_H

#include <stdbool.h>

#include "core/sync.h"

/* What a command asks of this node and of its client (struct cd_ipc_cmd's flags). */
enum cd_ipc_flags {
	CD_IPC_CHANGE = 1 << 0, /* submits a change to the cluster's state */
	CD_IPC_QUORUM = 1 << 1, /* needs this node joined, synchronised and quorate */
	CD_IPC_ADMIN = 1 << 2,	/* only for an admin (root or the admin group) */
};

/* An admin's change to the replicated state, which is refused without quorum. */
#define CD_IPC_SUBMITS (CD_IPC_CHANGE | CD_IPC_QUORUM | CD_IPC_ADMIN)

/* This node, and the client asking, as admission sees them. */
struct cd_ipc_standing {
	bool joined;		  /* to corosync's process group */
	enum cd_sync_phase phase; /* of the state sync round */
	bool quorate;		  /* the partition is, and the round agreed */
	bool admin;		  /* the client */
};

/*
 * Whether a command with flags may run now: 0, or the code it is refused
 * with (its text is cd_strerror()'s). The codes, and their order, are those
 * cd_replica_submit() refuses a change with, so a client sees the same
 * answer whether the refusal comes before the handler or at the submit.
 */
int cd_ipc_admit(unsigned flags, const struct cd_ipc_standing *st);

#endif
