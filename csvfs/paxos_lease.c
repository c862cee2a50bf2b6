#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "csvfs/paxos_lease.h"
#include "lib/util.h"

/* Looks at the leader after someone else's decision, before giving up. */
#define MAX_RESTARTS 16
/* Ballots lost to higher ballot numbers within one version. */
#define MAX_BALLOTS 64

/*
 * Besides 0 and negative codes. A look at the lease (attempt() and its
 * steps) may end in LOOK_AGAIN: someone else decided, or a later version
 * started, so the caller reads the lease again. A ballot (run_ballot(),
 * phase()) may end in one of the other two. The values differ, so that
 * none can pass for another.
 */
#define LOOK_AGAIN 1
#define BALLOT_ABORTED 2 /* a higher ballot number: retry higher */
#define BALLOT_NEWER 3	 /* a later version has started: look again */

static uint64_t ballot_off(const struct csvfs_vol *v, uint32_t lease, uint32_t slot)
{
	return csvfs_lease_off(v, lease) + (uint64_t)slot * v->sb.sector_size;
}

/* The leader and ballot records after the common header; see csvfs(5). */
static const struct csvfs_field leader_fields[] = {
	CSVFS_F32(struct csvfs_leader, lease),
	CSVFS_F32(struct csvfs_leader, flags),
	CSVFS_F64(struct csvfs_leader, lver),
	CSVFS_F32(struct csvfs_leader, owner),
	CSVFS_F32(struct csvfs_leader, writer),
	CSVFS_F64(struct csvfs_leader, owner_generation),
	CSVFS_F64(struct csvfs_leader, writer_generation),
	CSVFS_F64(struct csvfs_leader, wall_ms),
	CSVFS_FSTR(struct csvfs_leader, name),
};
#define N_LEADER_FIELDS (sizeof(leader_fields) / sizeof(leader_fields[0]))

static const struct csvfs_field ballot_fields[] = {
	CSVFS_F32(struct csvfs_ballot, lease),
	CSVFS_F32(struct csvfs_ballot, slot),
	CSVFS_F64(struct csvfs_ballot, lver),
	CSVFS_F64(struct csvfs_ballot, mbal),
	CSVFS_F64(struct csvfs_ballot, bal),
	CSVFS_F32(struct csvfs_ballot, inp),
	CSVFS_F32(struct csvfs_ballot, mode),
	CSVFS_F64(struct csvfs_ballot, inp_generation),
	CSVFS_F64(struct csvfs_ballot, mode_generation),
};
#define N_BALLOT_FIELDS (sizeof(ballot_fields) / sizeof(ballot_fields[0]))

static int leader_decode(const struct csvfs_vol *v, uint32_t lease, const void *buf,
			 struct csvfs_leader *l)
{
	int rc = csvfs_rec_decode(buf, v->sb.sector_size, CSVFS_MAGIC_LEADER, v->sb.uuid,
				  leader_fields, N_LEADER_FIELDS, l, sizeof(*l));

	if (rc == 0 && (l->lease != lease || l->owner > v->sb.max_hosts ||
			(!(l->flags & CSVFS_LEADER_FREE) && l->owner == 0)))
		rc = CD_ERR_CORRUPT;
	if (rc < 0) {
		/* Never written, or unusable: free at version 0 to the caller. */
		memset(l, 0, sizeof(*l));
		l->lease = lease;
		l->flags = CSVFS_LEADER_FREE;
	}
	return rc;
}

static int ballot_decode(const struct csvfs_vol *v, uint32_t lease, uint32_t slot, const void *buf,
			 struct csvfs_ballot *b)
{
	int rc = csvfs_rec_decode(buf, v->sb.sector_size, CSVFS_MAGIC_BALLOT, v->sb.uuid,
				  ballot_fields, N_BALLOT_FIELDS, b, sizeof(*b));

	if (rc == 0 && (b->lease != lease || b->slot != slot || b->inp > v->sb.max_hosts))
		rc = CD_ERR_CORRUPT;
	if (rc < 0) {
		/* Like a block in its initial state (Disk Paxos' NotAnInput). */
		memset(b, 0, sizeof(*b));
		b->lease = lease;
		b->slot = slot;
	}
	return rc;
}

int csvfs_lease_inspect(struct csvfs_vol *v, uint32_t lease, struct csvfs_lease_state *st)
{
	uint32_t s = v->sb.sector_size, q;
	uint8_t *buf;
	int rc;

	if (lease > v->sb.max_files)
		return CD_ERR_INVALID;
	rc = csvfs_vol_read(v, csvfs_lease_off(v, lease), v->sb.lease_stride, &buf);
	if (rc == 0) {
		st->leader_status = leader_decode(v, lease, buf, &st->leader);
		for (q = 1; q <= v->sb.max_hosts; q++)
			st->status[q - 1] =
				ballot_decode(v, lease, q, buf + (size_t)q * s, &st->ballot[q - 1]);
	}
	free(buf);
	return rc;
}

int csvfs_lease_read(struct csvfs_vol *v, uint32_t lease, struct csvfs_leader *l)
{
	uint8_t *buf;
	int rc;

	if (lease > v->sb.max_files)
		return CD_ERR_INVALID;
	rc = csvfs_vol_read(v, csvfs_lease_off(v, lease), v->sb.sector_size, &buf);
	if (rc == 0)
		rc = leader_decode(v, lease, buf, l);
	free(buf);
	return rc == -ENODATA ? 0 : rc;
}

static int write_ballot(struct csvfs_vol *v, uint32_t lease, const struct csvfs_ballot *b)
{
	uint8_t *buf = csvfs_io_alloc(v->sb.sector_size);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = csvfs_rec_encode(buf, v->sb.sector_size, CSVFS_MAGIC_BALLOT, v->sb.uuid, ballot_fields,
			      N_BALLOT_FIELDS, b);
	/* Our own sector: a lost write here would make us vote unseen. */
	if (rc == 0)
		rc = csvfs_write_verified(v->disk, ballot_off(v, lease, b->slot), buf,
					  v->sb.sector_size);
	free(buf);
	return rc;
}

static int write_leader(struct csvfs_vol *v, const struct csvfs_host *h, struct csvfs_leader *l)
{
	uint8_t *buf = csvfs_io_alloc(v->sb.sector_size);
	int rc;

	if (!buf)
		return -ENOMEM;
	l->writer = h->slot;
	l->writer_generation = h->generation;
	l->wall_ms = cd_wall_ms();
	rc = csvfs_rec_encode(buf, v->sb.sector_size, CSVFS_MAGIC_LEADER, v->sb.uuid, leader_fields,
			      N_LEADER_FIELDS, l);
	/*
	 * Not verified: any host may write the leader, and a lost write of it
	 * only costs time, since the next acquirer learns the same decision
	 * from the ballots.
	 */
	if (rc == 0)
		rc = csvfs_write(v->disk, csvfs_lease_off(v, l->lease), buf, v->sb.sector_size);
	free(buf);
	return rc;
}

bool csvfs_leader_is(const struct csvfs_leader *l, const struct csvfs_host *h)
{
	return !(l->flags & CSVFS_LEADER_FREE) && l->owner == h->slot &&
	       l->owner_generation == h->generation;
}

/*
 * One phase of a ballot: write our sector, then read everyone's. Aborts if
 * anyone started a higher ballot (or a later version). With best, collects
 * the vote with the highest ballot number (phase 1).
 */
static int phase(struct csvfs_vol *v, uint32_t lease, const struct csvfs_ballot *mine,
		 struct csvfs_ballot *best, uint64_t *seen_mbal)
{
	struct csvfs_lease_state *st;
	uint32_t q;
	int rc;

	rc = write_ballot(v, lease, mine);
	if (rc < 0)
		return rc;
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	rc = csvfs_lease_inspect(v, lease, st);
	for (q = 1; rc == 0 && q <= v->sb.max_hosts; q++) {
		const struct csvfs_ballot *b = &st->ballot[q - 1];

		if (q == mine->slot || st->status[q - 1] != 0 || b->lver < mine->lver)
			continue;
		if (b->lver > mine->lver) {
			rc = BALLOT_NEWER;
		} else if (b->mbal > mine->mbal) {
			*seen_mbal = b->mbal;
			rc = BALLOT_ABORTED;
		} else if (best && b->inp && b->bal > best->bal) {
			*best = *b;
		}
	}
	free(st);
	return rc;
}

/*
 * A ballot of disk Paxos in version lver with ballot number mbal. On 0,
 * mine->inp is the owner decided for lver (not necessarily us).
 */
static int run_ballot(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease,
		      struct csvfs_ballot *mine, uint64_t lver, uint64_t mbal, uint64_t *seen_mbal)
{
	struct csvfs_ballot best;
	int rc;

	if (mine->lver != lver) {
		mine->bal = 0;
		mine->inp = 0;
		mine->inp_generation = 0;
	}
	mine->lver = lver;
	mine->mbal = mbal;
	/* Our own earlier vote in this version is among the blocks seen. */
	best = *mine;
	rc = phase(v, lease, mine, &best, seen_mbal);
	if (rc != 0)
		return rc;
	if (best.inp) {
		mine->inp = best.inp;
		mine->inp_generation = best.inp_generation;
	} else {
		mine->inp = h->slot;
		mine->inp_generation = h->generation;
	}
	mine->bal = mbal;
	return phase(v, lease, mine, NULL, seen_mbal);
}

/* The smallest ballot number of ours above floor: unique per slot. */
static uint64_t next_mbal(const struct csvfs_vol *v, const struct csvfs_host *h, uint64_t floor)
{
	return (floor / v->sb.max_hosts + 1) * v->sb.max_hosts + h->slot;
}

/*
 * Write the decision down, unless the leader shows it already (0). If it
 * shows a later version, this one is history: LOOK_AGAIN.
 */
static int commit(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease, const char *name,
		  const struct csvfs_ballot *mine)
{
	struct csvfs_leader l;
	int rc = csvfs_lease_read(v, lease, &l);

	if (rc < 0 && rc != CD_ERR_CORRUPT)
		return rc;
	if (rc == 0 && l.lver > mine->lver)
		return LOOK_AGAIN;
	if (rc == 0 && l.lver == mine->lver)
		return 0;
	memset(&l, 0, sizeof(l));
	l.lease = lease;
	l.lver = mine->lver;
	l.owner = mine->inp;
	l.owner_generation = mine->inp_generation;
	cd_strlcpy(l.name, name, sizeof(l.name));
	return write_leader(v, h, &l);
}

/*
 * Contend for version next. Returns 0 if h won it, LOOK_AGAIN (someone
 * else won, or a later version started), or a negative code.
 */
static int contend(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease,
		   const char *name, const struct csvfs_lease_state *st, uint64_t next)
{
	struct csvfs_ballot mine = st->ballot[h->slot - 1];
	struct csvfs_leader l;
	uint64_t floor = mine.lver == next ? mine.mbal : 0, seen = 0, mbal;
	int tries, rc;

	for (tries = 0; tries < MAX_BALLOTS; tries++) {
		rc = csvfs_lease_read(v, lease, &l);
		if (rc < 0 && rc != CD_ERR_CORRUPT)
			return rc;
		if (rc == 0 && l.lver >= next)
			return LOOK_AGAIN;
		mbal = next_mbal(v, h, floor > seen ? floor : seen);
		rc = run_ballot(v, h, lease, &mine, next, mbal, &seen);
		if (rc == BALLOT_NEWER)
			return LOOK_AGAIN;
		if (rc == BALLOT_ABORTED) {
			/* Random back-off, so that duelling hosts stop duelling. */
			floor = mbal;
			csvfs_sleep(v->env, csvfs_random(v->env) % (v->timing.renewal_ms + 1u));
			continue;
		}
		if (rc < 0)
			return rc;
		rc = commit(v, h, lease, name, &mine);
		if (rc != 0)
			return rc;
		return mine.inp == h->slot && mine.inp_generation == h->generation ? 0 : LOOK_AGAIN;
	}
	return CD_ERR_TIMEOUT;
}

/* A host's liveness: the caller's own watch, or a wait of up to the expiry. */
static int liveness(struct csvfs_vol *v, uint32_t slot, uint64_t generation,
		    enum csvfs_liveness *live)
{
	if (v->seen_dead && v->seen_dead(v->seen_dead_arg, slot) == 1) {
		*live = CSVFS_LIVE_DEAD;
		return 0;
	}
	return csvfs_watch_wait(v, slot, generation, live);
}

/*
 * The leader names another owner: go ahead (0) only once its host lease
 * is seen dead or gone. LOOK_AGAIN: the leader changed meanwhile.
 */
static int wait_owner(struct csvfs_vol *v, uint32_t lease, const struct csvfs_leader *cur,
		      struct csvfs_busy *busy)
{
	enum csvfs_liveness live;
	struct csvfs_leader now;
	int rc;

	rc = liveness(v, cur->owner, cur->owner_generation, &live);
	if (rc < 0)
		return rc;
	if (live != CSVFS_LIVE_ALIVE)
		return 0;
	/* A shared acquirer holds the leader only for a moment. */
	rc = csvfs_lease_read(v, lease, &now);
	if (rc < 0 && rc != CD_ERR_CORRUPT)
		return rc;
	if (now.lver != cur->lver || now.flags != cur->flags || now.owner != cur->owner)
		return LOOK_AGAIN;
	busy->lease = lease;
	busy->slot = cur->owner;
	busy->shared = 0;
	return -EBUSY;
}

static int free_leader(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease)
{
	struct csvfs_leader l;
	int rc = csvfs_lease_read(v, lease, &l);

	if (rc < 0)
		return rc;
	if (!csvfs_leader_is(&l, h))
		return CD_ERR_NOT_FOUND;
	l.flags |= CSVFS_LEADER_FREE;
	return write_leader(v, h, &l);
}

/* Set or clear our shared mark, keeping our vote as it is. */
static int set_mode(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease,
		    struct csvfs_ballot mine, uint32_t mode)
{
	mine.mode = mode;
	mine.mode_generation = mode ? h->generation : 0;
	return write_ballot(v, lease, &mine);
}

/* An exclusive holder must not coexist with a live shared one. */
static int wait_shared(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease,
		       const struct csvfs_lease_state *st, struct csvfs_busy *busy)
{
	enum csvfs_liveness live;
	uint32_t q;
	int rc;

	for (q = 1; q <= v->sb.max_hosts; q++) {
		const struct csvfs_ballot *b = &st->ballot[q - 1];

		if (q == h->slot || st->status[q - 1] != 0 || !(b->mode & CSVFS_MODE_SHARED))
			continue;
		rc = liveness(v, q, b->mode_generation, &live);
		if (rc < 0)
			return rc;
		if (live == CSVFS_LIVE_ALIVE) {
			busy->lease = lease;
			busy->slot = q;
			busy->shared = 1;
			return -EBUSY;
		}
	}
	return 0;
}

/* h owns the leader: turn that into what was asked for. */
static int finish(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease, uint32_t flags,
		  struct csvfs_busy *busy)
{
	struct csvfs_lease_state *st = malloc(sizeof(*st));
	const struct csvfs_ballot *mine;
	int rc;

	if (!st)
		return -ENOMEM;
	rc = csvfs_lease_inspect(v, lease, st);
	if (rc < 0)
		goto out_free_state;
	mine = &st->ballot[h->slot - 1];
	if (flags & CSVFS_LEASE_SHARED) {
		/* Marked before the leader is freed, so an exclusive winner sees it. */
		rc = set_mode(v, h, lease, *mine, CSVFS_MODE_SHARED);
		if (rc == 0)
			rc = free_leader(v, h, lease);
		goto out_free_state;
	}
	rc = wait_shared(v, h, lease, st, busy);
	if (rc == -EBUSY)
		free_leader(v, h, lease);
	else if (rc == 0 && (mine->mode & CSVFS_MODE_SHARED))
		rc = set_mode(v, h, lease, *mine, 0);
out_free_state:
	free(st);
	return rc;
}

static uint64_t max_ballot_lver(const struct csvfs_vol *v, const struct csvfs_lease_state *st)
{
	uint64_t m = 0;
	uint32_t q;

	for (q = 0; q < v->sb.max_hosts; q++)
		if (st->status[q] == 0 && st->ballot[q].lver > m)
			m = st->ballot[q].lver;
	return m;
}

/*
 * One look at the lease: 0 if h now owns the leader, LOOK_AGAIN,
 * -EBUSY or another negative code.
 */
static int attempt(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease,
		   const char *name, struct csvfs_lease_state *st, struct csvfs_busy *busy)
{
	const struct csvfs_leader *cur = &st->leader;
	uint64_t maxb, next;
	int rc;

	rc = csvfs_lease_inspect(v, lease, st);
	if (rc < 0)
		return rc;
	/*
	 * A ballot in a version past the leader's means someone found the
	 * leader's owner gone and started the next one: join it. Otherwise
	 * the leader's owner must be gone first. (A damaged leader reads as
	 * free at version 0, so the ballots tell where things are.)
	 */
	maxb = max_ballot_lver(v, st);
	next = maxb > cur->lver ? maxb : cur->lver + 1;
	if (maxb <= cur->lver && !(cur->flags & CSVFS_LEADER_FREE)) {
		if (csvfs_leader_is(cur, h))
			return 0;
		rc = wait_owner(v, lease, cur, busy);
		if (rc != 0)
			return rc;
	}
	return contend(v, h, lease, name, st, next);
}

int csvfs_lease_acquire(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease,
			const char *name, uint32_t flags, struct csvfs_busy *busy)
{
	struct csvfs_lease_state *st;
	struct csvfs_busy ignored;
	int rc = LOOK_AGAIN, i;

	if (lease > v->sb.max_files || h->slot < 1 || h->slot > v->sb.max_hosts)
		return CD_ERR_INVALID;
	if (!busy)
		busy = &ignored;
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	for (i = 0; i < MAX_RESTARTS && rc == LOOK_AGAIN; i++)
		rc = attempt(v, h, lease, name ? name : "", st, busy);
	free(st);
	if (rc == LOOK_AGAIN)
		return CD_ERR_TIMEOUT;
	if (rc < 0)
		return rc;
	return finish(v, h, lease, flags, busy);
}

int csvfs_lease_release(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease)
{
	struct csvfs_lease_state *st;
	const struct csvfs_ballot *mine;
	int rc, did = 0;

	if (lease > v->sb.max_files || h->slot < 1 || h->slot > v->sb.max_hosts)
		return CD_ERR_INVALID;
	st = malloc(sizeof(*st));
	if (!st)
		return -ENOMEM;
	rc = csvfs_lease_inspect(v, lease, st);
	if (rc < 0)
		goto out_free_state;
	mine = &st->ballot[h->slot - 1];
	if ((mine->mode & CSVFS_MODE_SHARED) && mine->mode_generation == h->generation) {
		rc = set_mode(v, h, lease, *mine, 0);
		if (rc < 0)
			goto out_free_state;
		did = 1;
	}
	if (csvfs_leader_is(&st->leader, h)) {
		rc = free_leader(v, h, lease);
		if (rc < 0)
			goto out_free_state;
		did = 1;
	}
	rc = did ? 0 : CD_ERR_NOT_FOUND;
out_free_state:
	free(st);
	return rc;
}
