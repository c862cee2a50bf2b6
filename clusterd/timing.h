/*
 * clusterd's fixed intervals and timeouts, in one place, each with why it
 * is what it is (as sanlock's timeouts.h). The host-lease rule itself (the
 * expiry E, renewal, I/O bound and margin derived from it) is csvfs's, in
 * csvfs/timing.h, and E is per volume; what an admin may tune (libvirt
 * calls, VM stop and monitor, the sync round) is in clusterd.conf (conf.c)
 * and what the cluster may tune (failover grace, flap limit) is a cluster
 * property (props.c).
 *
 * The timeline of a failover, for orientation: corosync forms a new
 * membership (about 8 s with its default token of 3 s); the lost node's
 * host lease expires E after the survivors last saw it renewed (default
 * 8 s, counted in parallel); the coordinator notices within
 * CD_FAILOVER_TICK_MS and either declares the node dead or fences it
 * (CD_FENCE_TIMEOUT_MS per try); the next placement then starts its VMs.
 */
#ifndef CD_TIMING_H
#define CD_TIMING_H

#include "csvfs/timing.h"

/* --- the coordinator (coordinator.c, placement.c, failover.c) --- */

/*
 * How often a lost node's death is looked for: what the watch thread last
 * read of its host lease is in memory, so this is cheap, and a failover
 * starts within this and CD_HOSTLEASE_WATCH_MS of the lease expiring.
 */
#define CD_FAILOVER_TICK_MS 20

/*
 * How often placement is decided even when nothing changed: time alone
 * ends failure periods and opens failback windows, and neither needs to
 * be noticed to the second.
 */
#define CD_REDECIDE_MS 5000

/*
 * The pause after the state refused a placement (the state and the policy
 * disagree): long enough not to spin, short enough that a disagreement
 * cleared by the next change is hardly noticed.
 */
#define CD_PLACE_BACKOFF_MS 2000
/* The policy moves one VM (failback) at most once in this time. */
#define CD_POLICY_MOVE_PAUSE_MS 60000

/*
 * One fence attempt: an agent that talks to a BMC or a PDU over the network
 * may take many seconds; fence-agents' own default power timeout is 20 s.
 * It is tried CD_FENCE_RETRIES more times, then again every
 * CD_FENCE_RETRY_MS until it succeeds or the node is otherwise known dead
 * (its host lease, an admin's confirm-dead).
 */
#define CD_FENCE_TIMEOUT_MS 30000
#define CD_FENCE_RETRIES 2
#define CD_FENCE_RETRY_MS 5000

/* An admin's fence test runs the same agent, so it gets the same time. */
#define CD_FENCE_TEST_TIMEOUT_MS CD_FENCE_TIMEOUT_MS

/* --- this node's VMs (lrm.c, lrm_sweep.c) --- */

/*
 * How often the local resource manager reconciles when nothing woke it:
 * state changes and libvirt events reconcile at once, so this only bounds
 * how late a monitor check or a deadline is seen.
 */
#define CD_LRM_TICK_MS 250

/* How often libvirt's domain list is read for domains the cluster does not know. */
#define CD_LRM_SCAN_MS 5000

/*
 * A start held back because this node lacks a host lease is reported failed
 * after this long, so that the cluster may start the VM elsewhere; shorter
 * waits (a node rejoining its volumes, which takes about E/2 after the
 * volume is open) just delay it.
 */
#define CD_LEASE_GATE_FAIL_MS 30000
_Static_assert(CD_LEASE_GATE_FAIL_MS > CSVFS_EXPIRY_DEFAULT_MS,
	       "a rejoin with the default expiry does not fail a held-back start");

/*
 * How soon a self-fence looks again at a start that has not returned (to
 * power off what it created) or sweeps again: short, since VMs of a node
 * that must stop are still running meanwhile, but not a busy loop.
 */
#define CD_LRM_RECHECK_MS 100

/* --- shared volumes (volmgr.c, voljobs.c, volcoord.c, hostlease.c) --- */

/*
 * How often the volume manager looks at its volumes when nothing woke it;
 * it also wakes exactly when a host lease's validity ends, so this bounds
 * nothing safety depends on.
 */
#define CD_VOLMGR_TICK_MS 200

/*
 * How often the other hosts' slots are read: a lost host is seen dead
 * within this long of its expiry, which must stay short next to the
 * shortest expiry a volume may have.
 */
#define CD_HOSTLEASE_WATCH_MS 50
_Static_assert(CD_HOSTLEASE_WATCH_MS < CSVFS_EXPIRY_MIN_MS, "watch within the shortest expiry");

/* A failed join, or a volume not yet open, is tried again after this. */
#define CD_HOSTLEASE_RETRY_MS 1000

/* A volume's metadata lease, not acquired, is tried for again after this. */
#define CD_META_RETRY_MS 1000

/* A file request's result, not yet in the state, is submitted again after this. */
#define CD_VOLUME_DONE_RETRY_MS 1000

/*
 * How long "clusterctl volume file" waits for its request's result unless
 * it says otherwise: creating or resizing a file writes to shared storage.
 */
#define CD_VOLUME_FILE_TIMEOUT_MS 60000

/* --- the state sync round (replica.c) --- */

/*
 * A member left out of a sync round asks for a new one after this, doubled
 * each time it is left out again up to the maximum, so that a member the
 * others cannot hear does not make them start round after round.
 */
#define CD_SYNC_RESTART_FIRST_MS 1000u
#define CD_SYNC_RESTART_MAX_MS 60000u

#endif
