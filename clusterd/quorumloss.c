/*
 * What this node does when it loses quorum, and when quorum comes back
 * (quorumloss.h).
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "clusterd/events.h"
#include "clusterd/lrm.h"
#include "clusterd/membership.h"
#include "core/props.h"
#include "clusterd/quorumloss.h"
#include "clusterd/replica.h"
#include "clusterd/volmgr.h"
#include "lib/looptimer.h"

static qb_loop_t *loop;

static bool was_quorate;
static qb_loop_timer_handle grace_timer;
static bool grace_armed;

static void self_fenced(bool ok);

static bool frozen;

/*
 * In the quorate partition: corosync says so, and the last sync round did
 * not leave this node out (to the others it would have left).
 */
static bool in_quorum(void)
{
	return cd_membership_joined() && cd_membership_quorate() && !cd_replica_left_out();
}

static void grace_over(void *data)
{
	grace_armed = false;
	if (in_quorum())
		return;
	qb_log(LOG_CRIT, "quorum lost: stopping every VM on this node (self-fence)");
	cd_event("node", "self", "quorum lost: powering off every VM here (self-fence)");
	frozen = false;
	cd_lrm_self_fence(self_fenced);
}

static void self_fenced(bool ok)
{
	/* Everything is off: release the host leases so survivors need not wait. */
	cd_event("node", "self", "self-fence %s",
		 ok ? "complete: no VM runs here" : "INCOMPLETE: a VM may still run here");
	if (ok && !in_quorum())
		cd_volmgr_suspend(true);
}

static void freeze_done(bool ok)
{
	cd_event("node", "self", "freeze %s",
		 ok ? "complete: every VM here is paused" : "incomplete: a VM could not be paused");
}

/*
 * Quorum lost: nothing here may run any more, and it must stop before this
 * node's disk leases can expire in the others' eyes. Quorum back: rejoin.
 *
 * With a grace period (failover-grace-ms) the majority waits that long
 * before it declares this node dead, and this node's host leases stay
 * valid meanwhile: the VMs may wait for quorum to come back, running
 * (quorum-loss-policy=stop, the default) or paused (freeze), and are
 * powered off when the grace period ends. Without one, they are powered
 * off at once whatever the policy: freezing needs a wait to be worth it.
 */
void cd_quorumloss_watch(bool stopping)
{
	/*
	 * The live view: a sync round in a quorate partition is not a loss.
	 * Losing corosync altogether is.
	 */
	bool q = in_quorum();

	/*
	 * Right after a configuration change the quorum report for the new
	 * ring may not have come yet (it follows within milliseconds, or is
	 * given up on after a while and read as inquorate): until then this
	 * node starts nothing, but nothing is lost either.
	 */
	if (cd_membership_joined() && !cd_membership_quorum_current())
		return;
	if (was_quorate && !q) {
		const struct cd_state *s = cd_replica_state();
		uint64_t grace = cd_props_get(s, CD_PROPS_FAILOVER_GRACE_MS);
		bool freeze = cd_props_get(s, CD_PROPS_QUORUM_LOSS_POLICY) == CD_QUORUM_LOSS_FREEZE;

		if (grace) {
			qb_log(LOG_WARNING,
			       "quorum lost: %s, self-fence in %llu ms unless it "
			       "comes back",
			       freeze ? "pausing every VM here" : "VMs keep running",
			       (unsigned long long)grace);
			if (freeze) {
				cd_event("node", "self",
					 "quorum lost: pausing every VM here for up "
					 "to %llu ms (freeze)",
					 (unsigned long long)grace);
				frozen = true;
				cd_lrm_freeze(freeze_done);
			}
			cd_timer_add(loop, QB_LOOP_HIGH, grace * 1000000ull, NULL, grace_over,
				     &grace_timer);
			grace_armed = true;
		} else {
			grace_over(NULL);
		}
	} else if (!was_quorate && q) {
		if (grace_armed) {
			cd_timer_del(loop, grace_timer);
			grace_armed = false;
			cd_event("node", "self",
				 "quorum back within the grace period: nothing moved%s",
				 frozen ? ", resuming the paused VMs" : "");
		}
		if (frozen)
			cd_lrm_thaw();
		frozen = false;
		if (!stopping)
			cd_lrm_allow_starts();
		cd_volmgr_suspend(false);
	}
	was_quorate = q;
}

void cd_quorumloss_init(qb_loop_t *main_loop)
{
	loop = main_loop;
}
