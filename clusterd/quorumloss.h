/*
 * Quorum lost: nothing here may run any more. Per the cluster's properties
 * quorum-loss-policy and failover-grace-ms, this node powers off every VM
 * here (self-fence, then gives up its host leases), at once or when the
 * grace period ends, or pauses them (freeze) meanwhile. Quorum back within
 * the grace period: the paused VMs are resumed and starts are allowed again.
 */
#ifndef CD_QUORUMLOSS_H
#define CD_QUORUMLOSS_H

#include <stdbool.h>

#include <qb/qbloop.h>

/* The loop for the grace period's timer; before the first cd_quorumloss_watch(). */
void cd_quorumloss_init(qb_loop_t *main_loop);

/*
 * After every batch of changes: act if this node lost quorum or got it
 * back. stopping: clusterd is stopping (its VMs are being powered off), so
 * starts stay barred when quorum comes back.
 */
void cd_quorumloss_watch(bool stopping);

#endif
