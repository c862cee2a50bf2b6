/*
 * libcsvfs: cluster shared volumes. One shared LUN that every node reads
 * and writes at once, with an on-disk format of our own (man csvfs(5)):
 *
 *   format.h       superblock, layout, formatting and opening a volume
 *   timing.h       the timing rule of host leases
 *   delta_lease.h  host leases: a host is alive while its slot advances
 *   paxos_lease.h  resource leases, acquired with disk Paxos
 *   meta.h         the metadata copies A and B
 *   files.h        the namespace and allocator (pure)
 *   fileops.h      namespace changes under the metadata lease
 *   check.h        verification of a whole volume
 *   report.h       JSON descriptions for the tool
 *   disk.h, env.h  the I/O and clock interfaces the tests replace
 *
 * The simulated disk, scheduler and cluster that replace them in the unit
 * tests are test code, not part of libcsvfs: tests/sim/.
 *
 * Conventions: functions return 0 or a negative code (-errno or CD_ERR_*
 * of <clusterd/result.h>); -EBUSY means "held by a live host". All I/O is
 * O_DIRECT through struct csvfs_disk, in whole sectors.
 */
#ifndef CSVFS_CSVFS_H
#define CSVFS_CSVFS_H

#include "csvfs/check.h"
#include "csvfs/delta_lease.h"
#include "csvfs/disk.h"
#include "csvfs/env.h"
#include "csvfs/fileops.h"
#include "csvfs/files.h"
#include "csvfs/format.h"
#include "csvfs/meta.h"
#include "csvfs/paxos_lease.h"
#include "csvfs/report.h"
#include "csvfs/timing.h"

#endif
