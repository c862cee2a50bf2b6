/*
 * The timing rule of host leases (delta leases), from one number: the
 * expiry E, stored in the superblock so that every host uses the same one.
 *
 * Reader (any host deciding whether host H is dead): H is dead once a read
 * of H's slot *issued* at least E after this reader first saw the slot's
 * current content (timed when that first read completed) still returns
 * that content. Only the reader's own CLOCK_MONOTONIC is used; times
 * written by other hosts are never compared with it.
 *
 * Holder (host H itself): a renewal counts only if it was started while
 * H's lease was still valid and its write and read-back completed within
 * T_io = E/4 of its start. A renewal started at t makes H's lease valid
 * until t + U, U = E - T_io - M = 5E/8, with a margin M = E/8. H stops
 * issuing I/O under its resource leases at t + U (kills its VMs) and treats
 * the slot as lost from then on (it must join again, with a new
 * generation). H renews every R = E/8 by default (R <= U/2), so a single
 * slow or failed renewal does not stop it.
 *
 * Why this is safe: let c be the last content of H's slot a reader saw
 * before declaring H dead, written by a renewal H started at t_c. The
 * reader saw c at r0 >= t_c, so it declares H dead no earlier than
 * r0 + E >= t_c + E. H's validity from c ends at t_c + U, and I/O it had
 * issued by then completes within T_io: t_c + U + T_io = t_c + E - M.
 * A later renewal c+1 that the reader did not see must have landed after
 * the reader's last read was issued (>= t_c + E) while it started before
 * t_c + U, so it took longer than E - U > T_io and does not count. The
 * margin M absorbs the difference in rate of the two hosts' monotonic
 * clocks (well under 0.1%) and the time between deciding to stop and
 * having stopped. Nothing depends on the hosts' clocks agreeing.
 *
 * Defaults: E = 8 s (R = 1 s, T_io = 2 s, U = 5 s). Corosync with its
 * default token of 3 s takes about 8 s to form a new membership after a
 * node dies (LAB-NOTES), and no failover can start before that, so waiting
 * for the host lease to expire costs nothing extra. With token 1000 ms
 * (about 3.4 s) format the volume with --expiry-ms 3200. sanlock's defaults
 * are minutes because its I/O timeout is 10 s and it waits for a watchdog
 * reset; here a host that cannot renew for U stops its VMs itself and a
 * watchdog, where present, backs that up.
 */
#ifndef CSVFS_TIMING_H
#define CSVFS_TIMING_H

#include <stdint.h>

#define CSVFS_EXPIRY_DEFAULT_MS 8000u
#define CSVFS_EXPIRY_MIN_MS 80u
#define CSVFS_EXPIRY_MAX_MS 600000u

struct csvfs_timing {
	uint32_t expiry_ms;  /* E: a reader's wait without progress */
	uint32_t renewal_ms; /* R: a holder's renewal interval */
	uint32_t io_ms;	     /* T_io: longest renewal that counts */
	uint32_t use_ms;     /* U: validity of a renewal, from its start */
	uint32_t margin_ms;  /* M */
};

/*
 * Derive the rule from E and R (0 for the default E/8). Returns 0, or
 * CD_ERR_INVALID if E is outside [CSVFS_EXPIRY_MIN_MS, CSVFS_EXPIRY_MAX_MS]
 * or R is not in [1, U/2].
 */
int csvfs_timing_init(struct csvfs_timing *t, uint32_t expiry_ms, uint32_t renewal_ms);

/*
 * How long a joining host waits after writing a slot before it reads it
 * back to see whether another host raced it for the same slot: longer than
 * a concurrent joiner's write and read-back can take.
 */
static inline uint32_t csvfs_timing_join_delay(const struct csvfs_timing *t)
{
	return 2 * t->io_ms;
}

#endif
