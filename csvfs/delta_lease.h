/*
 * Host leases (delta leases, after Chockler and Malkhi, as in sanlock's
 * delta_lease.c): one sector per host slot. A host holding a slot rewrites
 * it every renewal interval with its counter advanced; a host is alive
 * while its slot keeps changing, as observed by the reader over the expiry
 * time on the reader's own monotonic clock. timing.h has the rule.
 *
 * The generation of a slot increases every time a host joins it. Resource
 * leases record their owner as (slot, generation), so the leases of a
 * previous incarnation are free as soon as the slot has a newer generation
 * (which can only happen after that incarnation expired or released).
 */
#ifndef CSVFS_DELTA_LEASE_H
#define CSVFS_DELTA_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "csvfs/format.h"

#define CSVFS_MAGIC_HOST 0x48565343u /* "CSVH" */
#define CSVFS_HOST_RELEASED 0x1u

/* The content of a host slot. */
struct csvfs_host_rec {
	uint32_t slot;
	uint32_t flags;	     /* CSVFS_HOST_RELEASED */
	uint64_t generation; /* bumped on every join */
	uint64_t counter;    /* bumped on every write */
	uint64_t nonce;	     /* random per join: tells two joiners apart */
	uint64_t wall_ms;    /* writer's wall clock, for people only */
	uint32_t renewal_ms; /* the writer's interval, for people only */
	char owner[CSVFS_NAME_LEN];
};

/* This process's hold on a slot (or an attachment to one, see below). */
struct csvfs_host {
	uint32_t slot;
	uint64_t generation;
	uint64_t counter;
	uint64_t nonce;
	char owner[CSVFS_NAME_LEN];
	/*
	 * Local monotonic ms until which this host may use its leases: start
	 * of the last renewal that counted + U. 0 for an attachment, whose
	 * validity is the business of the process that renews the slot.
	 */
	uint64_t valid_until;
};

/* Returns 0, -ENODATA (never written), CD_ERR_CORRUPT or -errno. */
int csvfs_host_read(struct csvfs_vol *v, uint32_t slot, struct csvfs_host_rec *r);

/*
 * Join slot as owner (a name for people, e.g. the host name). Waits up to
 * the expiry time if the slot's previous holder neither released it nor
 * is seen dead yet, then writes a new generation, waits the join delay
 * and reads it back (another joiner may have raced us), then renews once.
 * Returns 0, -EBUSY (held by a live host, or lost a race; *busy tells by
 * whom if not NULL), CD_ERR_INVALID (bad slot) or -errno.
 */
int csvfs_host_join(struct csvfs_vol *v, uint32_t slot, const char *owner, struct csvfs_host *h,
		    struct csvfs_host_rec *busy);

/*
 * One renewal. Returns 0; CD_ERR_TIMEOUT if the lease had already expired
 * (nothing written: join again) or the renewal took longer than T_io (it
 * was written but does not count); -ESTALE if another host has taken the
 * slot; -EIO if the write did not stick; or -errno.
 */
int csvfs_host_renew(struct csvfs_vol *v, struct csvfs_host *h);

/*
 * Give the slot up: this host promises it holds no resource lease any
 * more, so they are free at once. Returns 0, -ESTALE or -errno.
 */
int csvfs_host_release(struct csvfs_vol *v, struct csvfs_host *h);

/*
 * Act under a slot another process renews (the csvfs tool's lease and
 * file commands, next to a running `csvfs host join`). owner may be NULL
 * (any). Returns 0, CD_ERR_NOT_FOUND (not joined or released), -EPERM
 * (another owner), CD_ERR_CORRUPT or -errno.
 */
int csvfs_host_attach(struct csvfs_vol *v, uint32_t slot, const char *owner, struct csvfs_host *h);

/* Whether h may still use its leases now (always true for attachments). */
bool csvfs_host_valid(const struct csvfs_vol *v, const struct csvfs_host *h);

enum csvfs_liveness {
	CSVFS_LIVE_UNKNOWN, /* not watched long enough */
	CSVFS_LIVE_ALIVE,   /* the slot changed while watched */
	CSVFS_LIVE_DEAD,    /* no change for the expiry time */
	CSVFS_LIVE_GONE,    /* released, or a newer generation */
	CSVFS_LIVE_FREE,    /* never joined: the slot is blank */
};

const char *csvfs_liveness_str(enum csvfs_liveness l);

/* What a reader has seen of one slot. */
struct csvfs_watch {
	uint32_t slot;
	uint64_t generation; /* the incarnation asked about; 0: any */
	int seen;
	uint8_t content[CSVFS_SUM_LEN]; /* checksum of the raw sector */
	uint64_t since_ms;		/* when this content was first seen */
};

void csvfs_watch_init(struct csvfs_watch *w, uint32_t slot, uint64_t generation);

/* One read of the slot. Returns 0 or -errno; *l says what is known. */
int csvfs_watch_poll(struct csvfs_vol *v, struct csvfs_watch *w, enum csvfs_liveness *l);

/*
 * Poll until the answer is ALIVE, DEAD or GONE: at most the expiry time
 * plus one poll. Returns 0 or -errno.
 */
int csvfs_watch_wait(struct csvfs_vol *v, uint32_t slot, uint64_t generation,
		     enum csvfs_liveness *l);

#endif
