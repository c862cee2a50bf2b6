/*
 * The watchdog process: clusterd's backstop for the safety rule.
 *
 * The others may start this node's VMs once its csvfs host lease has
 * lapsed, trusting that the node stopped them first. clusterd does that
 * itself (lrm_sweep.c, volmgr.c); this separate, small, memory-locked process
 * covers clusterd dying or hanging while QEMUs run:
 *
 *   - clusterd dies (the stream between them ends without "D"): every QEMU
 *     of the node is killed at once;
 *   - a volume's host lease lapses and clusterd has not reported its VMs
 *     off by half the lease margin later (clusterd hung or libvirt stuck):
 *     every QEMU of the node is killed;
 *   - a hardware watchdog (watchdog_device, when present) is kept alive
 *     only while a reset would still come before the others may take
 *     over, so that a dead watchdog process is covered as well; a failed
 *     kill leaves it to reset the machine.
 *
 * The rule itself is in wdrule.h. QEMUs are found through libvirt's pid
 * files and killed through pidfds, after checking that the process is a
 * QEMU, so a reused pid is never hit.
 */
#ifndef CD_WATCHDOG_H
#define CD_WATCHDOG_H

#include <stdint.h>

struct cd_watchdog_config {
	const char *device; /* "" for none */
	unsigned timeout_s; /* the hardware watchdog's */
	const char *qemu_pid_dir;
	const char *log_file; /* "" for syslog */
	int log_priority;
};

/*
 * Fork the watchdog process. Call before any thread or loop exists.
 * Returns 0 or -errno.
 */
int cd_watchdog_start(const struct cd_watchdog_config *cfg);

/* VOL's host lease (generation gen) is valid until valid_until; margin_ms
 * as in csvfs/timing.h. Any thread. */
void cd_watchdog_lease(const char *vol, uint64_t gen, uint64_t valid_until, uint64_t margin_ms);

/* VOL's leases of generation gen are given up and nothing of them runs. */
void cd_watchdog_clear(const char *vol, uint64_t gen);

/* Clean exit: nothing runs here any more. */
void cd_watchdog_disarm(void);

#endif
