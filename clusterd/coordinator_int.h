/*
 * What the coordinator's files share; coordinator.h is its interface.
 *
 *   coordinator.c     the wiring: init and fini, the timers, what a state
 *                     change sets off (failover first, then placement);
 *   placement.c       the policy's decisions sent through the cluster,
 *                     each VM's at most once at a time, and explain;
 *   drain.c           the drains of nodes carried out: each one's plan,
 *                     its moves sent, its end recorded;
 *   failover.c        a lost node with VMs: wait out the grace period,
 *                     then learn it is dead (host lease, fencing) and
 *                     record it so that its VMs may run elsewhere;
 *   policy_adapter.c  the state as the policy sees it (pure, libcdcore).
 *
 * Each acts only while this node is the coordinator.
 */
#ifndef CD_COORDINATOR_INT_H
#define CD_COORDINATOR_INT_H

#include <qb/qbloop.h>

/* Run the policy and send the placements it decides (placement.c). */
void cd_placement_decide(void);
/* Forget the placements on their way (at shutdown). */
void cd_placement_fini(void);

/*
 * Scheduled maintenance (maint_run.c): runs begun and moved on (on the
 * coordinator), the hooks asked of this node run (on every node).
 */
void cd_maint_decide(void);
void cd_maint_init(qb_loop_t *loop);
void cd_maint_fini(void);

/* Carry the drains under way on (drain.c), and forget them at shutdown. */
void cd_drain_decide(void);
void cd_drain_fini(void);

/* Look at the nodes that left with VMs: are they known dead yet? (failover.c) */
void cd_failover_check(void);

#endif
