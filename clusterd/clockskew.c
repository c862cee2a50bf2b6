/* How far each member's wall clock is from this node's (clockskew.h). */
#include "config.h"

#include <stddef.h>

#include "clusterd/clockskew.h"
#include "clusterd/membership.h"
#include "core/state.h"
#include "lib/util.h"

static struct {
	uint32_t node;
	int64_t offset_ms;
	uint64_t at_ms; /* monotonic */
} seen[CD_MAX_NODES];

void cd_clockskew_seen(uint32_t node, uint64_t wall_ms)
{
	size_t i, slot = CD_MAX_NODES;

	if (!node || !wall_ms)
		return;
	for (i = 0; i < CD_MAX_NODES; i++) {
		if (seen[i].node == node) {
			slot = i;
			break;
		}
		/* A free slot, or else the oldest measure. */
		if (slot == CD_MAX_NODES || !seen[i].node ||
		    (seen[slot].node && seen[i].at_ms < seen[slot].at_ms))
			slot = i;
	}
	seen[slot].node = node;
	seen[slot].offset_ms = (int64_t)(wall_ms - cd_wall_ms());
	seen[slot].at_ms = cd_now_ms();
}

int cd_clockskew_get(uint32_t node, int64_t *offset_ms, uint64_t *age_ms)
{
	size_t i;

	if (node == cd_membership_local_nodeid()) {
		*offset_ms = 0;
		*age_ms = 0;
		return 0;
	}
	for (i = 0; i < CD_MAX_NODES; i++)
		if (seen[i].node == node) {
			*offset_ms = seen[i].offset_ms;
			*age_ms = cd_now_ms() - seen[i].at_ms;
			return 0;
		}
	return -1;
}
