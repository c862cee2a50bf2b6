#include "config.h"

#include <clusterd/result.h>

#include "csvfs/timing.h"

int csvfs_timing_init(struct csvfs_timing *t, uint32_t expiry_ms, uint32_t renewal_ms)
{
	if (expiry_ms < CSVFS_EXPIRY_MIN_MS || expiry_ms > CSVFS_EXPIRY_MAX_MS)
		return CD_ERR_INVALID;
	t->expiry_ms = expiry_ms;
	t->io_ms = expiry_ms / 4;
	t->margin_ms = expiry_ms / 8;
	t->use_ms = expiry_ms - t->io_ms - t->margin_ms;
	t->renewal_ms = renewal_ms ? renewal_ms : expiry_ms / 8;
	if (t->renewal_ms < 1 || t->renewal_ms > t->use_ms / 2)
		return CD_ERR_INVALID;
	return 0;
}
