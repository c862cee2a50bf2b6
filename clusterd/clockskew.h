/*
 * How far each member's wall clock is from this node's, for `clusterctl
 * cluster check`. Members stamp their sync reports (at every membership
 * change) and their state checksums (every state_check_interval_ms) with
 * their wall clock; the offset is that stamp minus this node's wall clock
 * when the message is delivered. CPG's delivery time (a few milliseconds
 * on a LAN) counts as skew, far below the check's 500 ms.
 */
#ifndef CD_CLOCKSKEW_H
#define CD_CLOCKSKEW_H

#include <stdint.h>

/* Node id's message stamped wall_ms (its clock) was delivered now. */
void cd_clockskew_seen(uint32_t node, uint64_t wall_ms);

/*
 * Node id's clock minus this node's in *offset_ms, and how long ago it was
 * measured in *age_ms: 0, or -1 if never measured. This node's own is 0.
 */
int cd_clockskew_get(uint32_t node, int64_t *offset_ms, uint64_t *age_ms);

#endif
