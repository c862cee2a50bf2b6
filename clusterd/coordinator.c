#include "config.h"

#include <stdbool.h>

#include <qb/qbloop.h>

#include "clusterd/coordinator.h"
#include "clusterd/coordinator_int.h"
#include "core/policy_adapter.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"

/*
 * The domain XMLs the policy adapter reads in one turn of the loop while
 * it warms up (warm() below): some 150 us each, so some 10 ms a turn.
 */
#define WARM_READS 64

static struct {
	qb_loop_t *loop;
	qb_loop_timer_handle timer;
	qb_loop_timer_handle failover_timer;
	bool warming; /* warm() is queued */
} co;

/*
 * Every member, not only the coordinator, keeps the policy adapter's
 * reading of the VMs' XML up to date (policy_adapter.h), a slice per turn
 * of the loop at low priority: the member that becomes the coordinator
 * then decides at once, where it would first read every XML (1.5 s at
 * 10,000 VMs) on the loop. It starts from the redecide timer, so what
 * changed is read within CD_REDECIDE_MS, and runs until nothing is left.
 */
static void warm(void *data)
{
	co.warming = false;
	if (cd_policy_adapter_warm(cd_replica_state(), WARM_READS) > 0)
		co.warming = qb_loop_job_add(co.loop, QB_LOOP_LOW, NULL, warm) == 0;
}

static void failover_tick(void *data)
{
	cd_failover_check();
	qb_loop_timer_add(co.loop, QB_LOOP_HIGH, CD_FAILOVER_TICK_MS * 1000000ull, NULL,
			  failover_tick, &co.failover_timer);
}

void cd_coordinator_state_changed(void)
{
	cd_failover_check();
	cd_placement_decide();
	cd_drain_decide();
	cd_maint_decide();
}

/* Time passes too: failure periods end and failback windows open. */
static void redecide(void *data)
{
	cd_placement_decide();
	cd_drain_decide();
	cd_maint_decide();
	if (!co.warming)
		warm(NULL);
	qb_loop_timer_add(co.loop, QB_LOOP_LOW, CD_REDECIDE_MS * 1000000ull, NULL, redecide,
			  &co.timer);
}

int cd_coordinator_init(qb_loop_t *loop)
{
	co.loop = loop;
	cd_maint_init(loop);
	qb_loop_timer_add(loop, QB_LOOP_HIGH, CD_FAILOVER_TICK_MS * 1000000ull, NULL, failover_tick,
			  &co.failover_timer);
	return qb_loop_timer_add(loop, QB_LOOP_LOW, CD_REDECIDE_MS * 1000000ull, NULL, redecide,
				 &co.timer);
}

void cd_coordinator_fini(void)
{
	cd_placement_fini();
	cd_drain_fini();
	cd_maint_fini();
	cd_policy_adapter_fini();
}
