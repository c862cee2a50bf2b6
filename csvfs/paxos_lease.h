/*
 * Resource leases acquired with disk Paxos (Gafni and Lamport, "Disk
 * Paxos", 2000; the lease form is sanlock's paxos_lease.c): a lease is a
 * leader record followed by one ballot sector per host slot. Host p writes
 * only its own ballot sector and reads everyone's; the leader record says
 * who won the latest version and may be written by any host, since it only
 * repeats what Paxos decided.
 *
 * Each acquisition is one Paxos instance, numbered by the lease version
 * lver: the value decided is the new owner (slot, host generation). A
 * lease is held by its owner until it is released (leader marked free) or
 * the owner's host lease is seen dead (delta_lease.h) or has a newer
 * generation. The owner may use it only while its host lease is valid.
 *
 * Shared holders mark their own ballot sector (mode SHARED with their host
 * generation) while briefly holding the lease exclusively; an exclusive
 * acquirer that wins then waits out every live shared holder.
 *
 * Ballot sectors must be written atomically, which sector writes are on
 * the devices we support; a damaged one (a device fault, which csvfs check
 * reports) is skipped like a never-written one, as sanlock does.
 */
#ifndef CSVFS_PAXOS_LEASE_H
#define CSVFS_PAXOS_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "csvfs/delta_lease.h"
#include "csvfs/format.h"

#define CSVFS_MAGIC_LEADER 0x4c565343u /* "CSVL" */
#define CSVFS_MAGIC_BALLOT 0x42565343u /* "CSVB" */

#define CSVFS_LEADER_FREE 0x1u	/* released: no owner */
#define CSVFS_MODE_SHARED 0x1u	/* ballot sector: held shared */
#define CSVFS_LEASE_SHARED 0x1u /* csvfs_lease_acquire: shared, not exclusive */

struct csvfs_leader {
	uint32_t lease; /* its index */
	uint32_t flags; /* CSVFS_LEADER_FREE */
	uint64_t lver;	/* the version (Paxos instance) decided last */
	uint32_t owner; /* slot; 0 if never owned */
	uint64_t owner_generation;
	uint32_t writer; /* who wrote this record (not always the owner) */
	uint64_t writer_generation;
	uint64_t wall_ms; /* writer's wall clock, for people only */
	char name[CSVFS_NAME_LEN];
};

struct csvfs_ballot {
	uint32_t lease, slot;
	uint64_t lver; /* the instance this sector votes in */
	uint64_t mbal; /* highest ballot number started */
	uint64_t bal;  /* ballot number of the vote below; 0 for none */
	uint32_t inp;  /* voted owner slot; 0 for none */
	uint64_t inp_generation;
	uint32_t mode; /* CSVFS_MODE_SHARED */
	uint64_t mode_generation;
};

/* A whole lease as read in one I/O: leader and every ballot sector. */
struct csvfs_lease_state {
	int leader_status;	     /* 0, -ENODATA, CD_ERR_CORRUPT, CD_ERR_VERSION */
	struct csvfs_leader leader;  /* never written: free at version 0 */
	int status[CSVFS_MAX_HOSTS]; /* of each ballot sector, by slot - 1 */
	struct csvfs_ballot ballot[CSVFS_MAX_HOSTS];
};

/* Who holds a lease when an acquisition fails with -EBUSY. */
struct csvfs_busy {
	uint32_t lease;
	uint32_t slot;
	int shared;
};

/* The leader only. A never-written one reads as free at version 0. */
int csvfs_lease_read(struct csvfs_vol *v, uint32_t lease, struct csvfs_leader *l);

/* The whole lease. Returns 0, CD_ERR_INVALID (no such lease) or -errno. */
int csvfs_lease_inspect(struct csvfs_vol *v, uint32_t lease, struct csvfs_lease_state *st);

/*
 * Acquire lease for h, recording name in the leader. flags: 0 or
 * CSVFS_LEASE_SHARED. If the owner's host lease is neither released nor
 * of an older generation, this watches it for up to the expiry time.
 * Returns 0 (held; also if h held it already), -EBUSY with *busy (may be
 * NULL) filled when a live host holds it, CD_ERR_TIMEOUT if contention
 * did not settle, CD_ERR_INVALID, or -errno from the disk.
 */
int csvfs_lease_acquire(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease,
			const char *name, uint32_t flags, struct csvfs_busy *busy);

/*
 * Release h's exclusive and shared holdings of lease. Returns 0,
 * CD_ERR_NOT_FOUND if h holds neither, or -errno.
 */
int csvfs_lease_release(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease);

/* Whether the leader names h as owner. */
bool csvfs_leader_is(const struct csvfs_leader *l, const struct csvfs_host *h);

#endif
