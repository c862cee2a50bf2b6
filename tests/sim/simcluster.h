/*
 * A simulated cluster for the unit tests: one simulated disk, a scheduler,
 * and hosts, each with its own view of the disk (its own faults), its own
 * clock offset and its own open volume.
 */
#ifndef TESTS_SIM_SIMCLUSTER_H
#define TESTS_SIM_SIMCLUSTER_H

#include <stdint.h>

#include "csvfs/delta_lease.h"
#include "csvfs/format.h"
#include "tests/sim/simdisk.h"
#include "tests/sim/simsched.h"

#define CSVFS_SIM_MAX_HOSTS 8

struct csvfs_sim_host {
	struct csvfs_sim_cluster *cluster;
	uint32_t slot;
	struct csvfs_disk *disk; /* this host's view */
	struct csvfs_sim_clock clock;
	struct csvfs_vol vol;
	struct csvfs_host host;
	int join_rc; /* of csvfs_sim_join_all */
};

struct csvfs_sim_cluster {
	struct csvfs_sched *sched;
	struct csvfs_simdisk *medium;
	struct csvfs_disk *admin_disk; /* fault-free: set-up and verdicts */
	struct csvfs_sim_clock admin_clock;
	struct csvfs_vol admin;
	uint32_t nhosts;
	struct csvfs_sim_host hosts[CSVFS_SIM_MAX_HOSTS]; /* hosts[i] has slot i + 1 */
};

struct csvfs_sim_opts {
	uint64_t seed;
	uint32_t sector_size; /* 512 or 4096 */
	uint32_t hosts;	      /* host slots formatted, and simulated hosts */
	uint32_t files;
	uint32_t expiry_ms;
	uint64_t disk_size;
};

/* Format a volume and open it for every host. Returns 0 or a negative code. */
int csvfs_sim_cluster_init(struct csvfs_sim_cluster *c, const struct csvfs_sim_opts *o);
void csvfs_sim_cluster_free(struct csvfs_sim_cluster *c);

/* Join host slot (outside a run, or inside one). Returns as csvfs_host_join. */
int csvfs_sim_join(struct csvfs_sim_host *h);

/*
 * Join every host, all at once (one after the other, the first would
 * expire while the last waits out its join delay). Returns 0 or the first
 * failure.
 */
int csvfs_sim_join_all(struct csvfs_sim_cluster *c);

/*
 * A daemon thread body (arg: struct csvfs_sim_host *): renew every
 * renewal interval until the run stops or the host lease is lost.
 */
void csvfs_sim_renewer(void *arg);

/* The end of h's host-lease validity on the scheduler's clock (0: none). */
uint64_t csvfs_sim_valid_until(const struct csvfs_sim_host *h);

/* The scheduler's clock now (the one all hosts' clocks are offsets of). */
uint64_t csvfs_sim_now(const struct csvfs_sim_cluster *c);

#endif
