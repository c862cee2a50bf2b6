#include "config.h"

#include <errno.h>
#include <string.h>

#include <clusterd/result.h>

/* clang-format off */
static const char *const cd_errors[] = {
	[-(CD_ERR_NOT_QUORATE - CD_ERR_BASE)] = "this node's partition has no quorum",
	[-(CD_ERR_SYNCING - CD_ERR_BASE)] = "cluster state is being synchronised after a membership change",
	[-(CD_ERR_NOT_FOUND - CD_ERR_BASE)] = "not found",
	[-(CD_ERR_INVALID - CD_ERR_BASE)] = "invalid argument",
	[-(CD_ERR_PROTOCOL - CD_ERR_BASE)] = "protocol error: malformed or unknown message",
	[-(CD_ERR_NO_DAEMON - CD_ERR_BASE)] = "cannot reach clusterd (is it running on this node?)",
	[-(CD_ERR_TIMEOUT - CD_ERR_BASE)] = "timed out",
	[-(CD_ERR_CORRUPT - CD_ERR_BASE)] = "data is corrupt (checksum or format check failed)",
	[-(CD_ERR_VERSION - CD_ERR_BASE)] = "unsupported format or protocol version",
	[-(CD_ERR_NOT_JOINED - CD_ERR_BASE)] = "clusterd has not joined the cluster",
	[-(CD_ERR_DENIED - CD_ERR_BASE)] = "permission denied: root or the cluster admin group only",
	[-(CD_ERR_EXISTS - CD_ERR_BASE)] = "already exists",
	[-(CD_ERR_HELD - CD_ERR_BASE)] = "held by another live host",
	[-(CD_ERR_SLOT_LOST - CD_ERR_BASE)] = "this host's lease slot was taken over by another host",
	[-(CD_ERR_UNTRUSTED - CD_ERR_BASE)] = "the IPC server does not run as root: not clusterd",
	[-(CD_ERR_REFUSED - CD_ERR_BASE)] = "refused: the check found reasons against it",
	[-(CD_ERR_MOVE_STAYED - CD_ERR_BASE)] = "the move did not happen: the VM runs where it ran",
	[-(CD_ERR_MOVE_FAILED - CD_ERR_BASE)] = "the move failed; the VM is being restarted by failover",
	[-(CD_ERR_MOVE_SAVED - CD_ERR_BASE)] = "the VM was saved: it is restored where the cluster places it",
	[-(CD_ERR_DRAIN_BLOCKED - CD_ERR_BASE)] = "the drain ended blocked: some VM can move nowhere",
	[-(CD_ERR_DRAIN_CANCELLED - CD_ERR_BASE)] = "the drain was cancelled",
	[-(CD_ERR_CHECK_FAILED - CD_ERR_BASE)] = "a cluster check failed",
};
/* clang-format on */

const char *cd_strerror(int rc)
{
	if (rc == 0)
		return "success";
	if (rc < CD_ERR_BASE && rc > CD_ERR_LAST) {
		const char *s = cd_errors[-(rc - CD_ERR_BASE)];
		return s ? s : "unknown error";
	}
	if (rc < 0 && rc > CD_ERR_BASE)
		return strerror(-rc);
	return "unknown error";
}

/* The one table from result codes to clusterctl exit codes. */
static const struct {
	int rc;
	enum cd_exit code;
} cd_exit_table[] = {
	{CD_ERR_NOT_QUORATE, CD_EXIT_NOT_QUORATE},
	{CD_ERR_NOT_FOUND, CD_EXIT_NOT_FOUND},
	{-ENOENT, CD_EXIT_NOT_FOUND},
	{CD_ERR_INVALID, CD_EXIT_INVALID},
	{-EINVAL, CD_EXIT_INVALID},
	{CD_ERR_EXISTS, CD_EXIT_INVALID},
	{CD_ERR_NO_DAEMON, CD_EXIT_NO_DAEMON},
	{CD_ERR_DENIED, CD_EXIT_NO_DAEMON},
	{CD_ERR_UNTRUSTED, CD_EXIT_NO_DAEMON},
	{-EACCES, CD_EXIT_NO_DAEMON},
	{CD_ERR_TIMEOUT, CD_EXIT_TIMEOUT},
	{-ETIMEDOUT, CD_EXIT_TIMEOUT},
	{CD_ERR_SYNCING, CD_EXIT_TIMEOUT},
	{CD_ERR_NOT_JOINED, CD_EXIT_TIMEOUT},
	{CD_ERR_HELD, CD_EXIT_BUSY},
	{-EBUSY, CD_EXIT_BUSY},
	{CD_ERR_REFUSED, CD_EXIT_REFUSED},
	{-EOPNOTSUPP, CD_EXIT_UNSUPPORTED},
	{CD_ERR_MOVE_STAYED, CD_EXIT_MOVE_STAYED},
	{CD_ERR_MOVE_FAILED, CD_EXIT_MOVE_FAILED},
	{CD_ERR_MOVE_SAVED, CD_EXIT_MOVE_SAVED},
	{CD_ERR_DRAIN_BLOCKED, CD_EXIT_DRAIN_BLOCKED},
	{CD_ERR_DRAIN_CANCELLED, CD_EXIT_DRAIN_CANCELLED},
	{CD_ERR_CHECK_FAILED, CD_EXIT_FAILURE},
};

int cd_exit_code(int rc)
{
	size_t i;

	if (rc == 0)
		return CD_EXIT_OK;
	for (i = 0; i < sizeof(cd_exit_table) / sizeof(cd_exit_table[0]); i++)
		if (cd_exit_table[i].rc == rc)
			return cd_exit_table[i].code;
	return CD_EXIT_FAILURE;
}
