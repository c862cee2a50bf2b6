/*
 * The watchdog process's rule, kept pure so that it can be tested.
 *
 * clusterd tells its watchdog process, for every volume whose host lease
 * it holds, two instants on CLOCK_MONOTONIC (shared by every process of
 * the machine):
 *
 *   kill_at  the lease's validity plus half its margin: clusterd itself
 *            powers the volume's VMs off when the validity ends; if it has
 *            not said "done" by kill_at, the watchdog process kills every
 *            QEMU of the node;
 *   hard_at  the validity plus the whole margin: past it the others may
 *            start this node's VMs (csvfs/timing.h). A hardware watchdog
 *            is kept alive only while its timeout would reset the machine
 *            by hard_at, so that a dead or stuck watchdog process is
 *            backed up too.
 *
 * Messages, one per datagram, text:
 *   "L VOL GEN KILL_AT HARD_AT"   lease of VOL (generation GEN) renewed
 *   "C VOL GEN"                   VOL's leases of generation GEN are given
 *                                 up and nothing of them runs any more
 *   "D"                           clean exit: nothing runs here
 * The end of the stream without "D" means clusterd died: every QEMU of the
 * node is killed at once.
 */
#ifndef CD_WDRULE_H
#define CD_WDRULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CD_WD_MAX_VOLS 64
#define CD_WD_MSG_MAX 160

struct cd_wd_vol {
	char name[64];
	uint64_t generation;
	uint64_t kill_at, hard_at;
};

struct cd_wd_rule {
	struct cd_wd_vol vol[CD_WD_MAX_VOLS];
	size_t n;
	bool disarmed; /* "D" seen */
};

/* Apply one message. Returns 0 or CD_ERR_INVALID (nothing changed). */
int cd_wd_apply(struct cd_wd_rule *r, const char *msg, size_t len);

/*
 * The first volume whose kill_at has come (NULL if none): time to kill
 * every QEMU here.
 */
const struct cd_wd_vol *cd_wd_due(const struct cd_wd_rule *r, uint64_t now);

/* After the kill: nothing is protected any more until the next "L". */
void cd_wd_clear(struct cd_wd_rule *r);

/*
 * Whether a hardware watchdog with this timeout may be kept alive now: a
 * reset timeout_ms from now would still come by every volume's hard_at.
 */
bool cd_wd_may_pet(const struct cd_wd_rule *r, uint64_t now, uint64_t timeout_ms);

/* The earliest kill_at, or UINT64_MAX. */
uint64_t cd_wd_next(const struct cd_wd_rule *r);

/* Format the messages (return the length, or 0 if it does not fit). */
size_t cd_wd_fmt_lease(char *buf, size_t n, const char *vol, uint64_t gen, uint64_t kill_at,
		       uint64_t hard_at);
size_t cd_wd_fmt_clear(char *buf, size_t n, const char *vol, uint64_t gen);

#endif
