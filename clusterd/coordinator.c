#include "config.h"

#include <qb/qbloop.h>

#include "clusterd/coordinator.h"
#include "clusterd/coordinator_int.h"
#include "core/policy_adapter.h"
#include "clusterd/timing.h"

static struct {
	qb_loop_t *loop;
	qb_loop_timer_handle timer;
	qb_loop_timer_handle failover_timer;
} co;

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
