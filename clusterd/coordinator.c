#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qb/qbloop.h>
#include <qb/qbutil.h>

#include "clusterd/coordinator.h"
#include "clusterd/coordinator_int.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "core/policy_adapter.h"
#include "lib/looptimer.h"

/*
 * The domain XMLs the policy adapter reads in one turn of the loop while
 * it warms up (warm() below): some 150 us each, so some 10 ms a turn.
 */
#define WARM_READS 64

/*
 * A decision reads the whole state: a few ms at 10,000 VMs. Taken after
 * every change, it is what the next change of a burst waits for, and a
 * change's acknowledgement would grow with the cluster. So after a change
 * the coordinator decides at once only if its last decision is at least
 * DECIDE_SHARE times that decision's cost ago; otherwise once that gap
 * has passed, one decision for however many changes came meanwhile.
 * Deciding then takes at most about a tenth of the loop during a burst;
 * the gap is well under a millisecond at 100 VMs, some 50 ms at 10,000,
 * and never more than DECIDE_GAP_MAX_MS.
 */
#define DECIDE_SHARE 10
#define DECIDE_GAP_MAX_MS 500

static struct {
	qb_loop_t *loop;
	qb_loop_timer_handle timer;
	qb_loop_timer_handle failover_timer;
	qb_loop_timer_handle decide_timer;
	bool warming;				 /* warm() is queued */
	bool decide_queued;			 /* decide_timer runs */
	uint64_t last_ns, cost_ns;		 /* the last decision: its end, what it took */
	uint64_t kept_us[CD_DECISIONS_KEPT];	 /* the coordinator's, a ring */
	uint64_t kept_cpu_us[CD_DECISIONS_KEPT]; /* the same decisions' CPU time */
	size_t n_kept, next_kept;
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
	cd_timer_add(co.loop, QB_LOOP_HIGH, CD_FAILOVER_TICK_MS * 1000000ull, NULL, failover_tick,
		     &co.failover_timer);
}

/* The CPU time this thread has used, in microseconds. */
static uint64_t thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void decide(void)
{
	uint64_t t = qb_util_nano_current_get(), cpu = thread_cpu_us();

	cd_placement_decide();
	cd_drain_decide();
	cd_maint_decide();
	co.last_ns = qb_util_nano_current_get();
	co.cost_ns = co.last_ns - t;
	if (cd_replica_coordinator() == cd_membership_local_nodeid()) {
		co.kept_cpu_us[co.next_kept] = thread_cpu_us() - cpu;
		co.kept_us[co.next_kept] = co.cost_ns / 1000;
		co.next_kept = (co.next_kept + 1) % CD_DECISIONS_KEPT;
		if (co.n_kept < CD_DECISIONS_KEPT)
			co.n_kept++;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median and the longest of the first co.n_kept of ring. */
static void median_max(const uint64_t *ring, uint64_t *median, uint64_t *max)
{
	uint64_t sorted[CD_DECISIONS_KEPT];

	memcpy(sorted, ring, co.n_kept * sizeof(*sorted));
	qsort(sorted, co.n_kept, sizeof(*sorted), cmp_u64);
	*median = sorted[co.n_kept / 2];
	*max = sorted[co.n_kept - 1];
}

size_t cd_coordinator_decisions(struct cd_decision_costs *c)
{
	if (!co.n_kept)
		return 0;
	c->last_us = co.kept_us[(co.next_kept + CD_DECISIONS_KEPT - 1) % CD_DECISIONS_KEPT];
	median_max(co.kept_us, &c->median_us, &c->max_us);
	median_max(co.kept_cpu_us, &c->cpu_median_us, &c->cpu_max_us);
	return co.n_kept;
}

static void decide_later(void *data)
{
	co.decide_queued = false;
	decide();
}

void cd_coordinator_state_changed(void)
{
	uint64_t gap, since;

	cd_failover_check();
	if (co.decide_queued || !cd_replica_decision_needed())
		return;
	gap = co.cost_ns * DECIDE_SHARE;
	if (gap > DECIDE_GAP_MAX_MS * 1000000ull)
		gap = DECIDE_GAP_MAX_MS * 1000000ull;
	since = qb_util_nano_current_get() - co.last_ns;
	if (since >= gap || !co.loop) {
		decide();
		return;
	}
	co.decide_queued = cd_timer_add(co.loop, QB_LOOP_MED, gap - since, NULL, decide_later,
					&co.decide_timer) == 0;
	if (!co.decide_queued)
		decide();
}

/* Time passes too: failure periods end and failback windows open. */
static void redecide(void *data)
{
	decide();
	if (!co.warming)
		warm(NULL);
	cd_timer_add(co.loop, QB_LOOP_LOW, CD_REDECIDE_MS * 1000000ull, NULL, redecide, &co.timer);
}

int cd_coordinator_init(qb_loop_t *loop)
{
	co.loop = loop;
	cd_maint_init(loop);
	cd_timer_add(loop, QB_LOOP_HIGH, CD_FAILOVER_TICK_MS * 1000000ull, NULL, failover_tick,
		     &co.failover_timer);
	return cd_timer_add(loop, QB_LOOP_LOW, CD_REDECIDE_MS * 1000000ull, NULL, redecide,
			    &co.timer);
}

void cd_coordinator_fini(void)
{
	if (co.decide_queued)
		cd_timer_del(co.loop, co.decide_timer);
	co.decide_queued = false;
	cd_placement_fini();
	cd_drain_fini();
	cd_maint_fini();
	cd_policy_adapter_fini();
}
