/*
 * Admission of IPC requests (see ipc_admit.h).
 */
#include "config.h"

#include <errno.h>

#include <clusterd/result.h>

#include "core/ipc_admit.h"

int cd_ipc_admit(unsigned flags, const struct cd_ipc_standing *st)
{
	if ((flags & CD_IPC_ADMIN) && !st->admin)
		return -EACCES;
	if (!(flags & CD_IPC_QUORUM))
		return 0;
	if (!st->joined || st->phase == CD_SYNC_IDLE)
		return CD_ERR_NOT_JOINED;
	if (st->phase != CD_SYNC_DONE)
		return CD_ERR_SYNCING;
	if (!st->quorate)
		return CD_ERR_NOT_QUORATE;
	return 0;
}
