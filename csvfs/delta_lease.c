#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "csvfs/delta_lease.h"
#include "lib/util.h"

/* Join attempts that find the slot changing hands under them. */
#define JOIN_TRIES 3

static int valid_slot(const struct csvfs_vol *v, uint32_t slot)
{
	return slot >= 1 && slot <= v->sb.max_hosts;
}

/* The host slot record after the common header; see csvfs(5). */
/* clang-format off */
static const struct csvfs_field host_fields[] = {
	CSVFS_F32(struct csvfs_host_rec, slot),
	CSVFS_F32(struct csvfs_host_rec, flags),
	CSVFS_F64(struct csvfs_host_rec, generation),
	CSVFS_F64(struct csvfs_host_rec, counter),
	CSVFS_F64(struct csvfs_host_rec, nonce),
	CSVFS_F64(struct csvfs_host_rec, wall_ms),
	CSVFS_F32(struct csvfs_host_rec, renewal_ms),
	CSVFS_FPAD,
	CSVFS_FSTR(struct csvfs_host_rec, owner),
};
/* clang-format on */
#define N_HOST_FIELDS (sizeof(host_fields) / sizeof(host_fields[0]))

static int host_decode(const struct csvfs_vol *v, uint32_t slot, const void *buf,
		       struct csvfs_host_rec *r)
{
	int rc = csvfs_rec_decode(buf, v->sb.sector_size, CSVFS_MAGIC_HOST, v->sb.uuid, host_fields,
				  N_HOST_FIELDS, r, sizeof(*r));

	return rc == 0 && r->slot != slot ? CD_ERR_CORRUPT : rc;
}

int csvfs_host_read(struct csvfs_vol *v, uint32_t slot, struct csvfs_host_rec *r)
{
	uint8_t *buf;
	int rc;

	if (!valid_slot(v, slot))
		return CD_ERR_INVALID;
	rc = csvfs_vol_read(v, csvfs_host_off(v, slot), v->sb.sector_size, &buf);
	if (rc == 0)
		rc = host_decode(v, slot, buf, r);
	free(buf);
	return rc;
}

/*
 * verified: read back, so a lost write is not taken for a renewal. Joins
 * do not: racing joiners overwrite each other on purpose, and the join's
 * own delayed read-back decides.
 */
static int host_write(struct csvfs_vol *v, struct csvfs_host_rec *r, int verified)
{
	uint8_t *buf = csvfs_io_alloc(v->sb.sector_size);
	int rc;

	if (!buf)
		return -ENOMEM;
	r->wall_ms = cd_wall_ms();
	rc = csvfs_rec_encode(buf, v->sb.sector_size, CSVFS_MAGIC_HOST, v->sb.uuid, host_fields,
			      N_HOST_FIELDS, r);
	if (rc == 0 && verified)
		rc = csvfs_write_verified(v->disk, csvfs_host_off(v, r->slot), buf,
					  v->sb.sector_size);
	else if (rc == 0)
		rc = csvfs_write(v->disk, csvfs_host_off(v, r->slot), buf, v->sb.sector_size);
	free(buf);
	return rc;
}

static void host_to_rec(const struct csvfs_vol *v, const struct csvfs_host *h, uint32_t flags,
			struct csvfs_host_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->slot = h->slot;
	r->flags = flags;
	r->generation = h->generation;
	r->counter = h->counter;
	r->nonce = h->nonce;
	r->renewal_ms = v->timing.renewal_ms;
	cd_strlcpy(r->owner, h->owner, sizeof(r->owner));
}

/*
 * 0 if the slot still holds h's incarnation (a damaged sector may be ours,
 * torn), -ESTALE if another one or none, or another negative code.
 */
static int still_ours(struct csvfs_vol *v, const struct csvfs_host *h)
{
	struct csvfs_host_rec cur;
	int rc = csvfs_host_read(v, h->slot, &cur);

	if (rc == CD_ERR_CORRUPT)
		return 0;
	if (rc == -ENODATA)
		return -ESTALE;
	if (rc < 0)
		return rc;
	if (cur.generation != h->generation || cur.nonce != h->nonce ||
	    (cur.flags & CSVFS_HOST_RELEASED))
		return -ESTALE;
	return 0;
}

int csvfs_host_renew(struct csvfs_vol *v, struct csvfs_host *h)
{
	struct csvfs_host_rec r;
	uint64_t t0 = csvfs_now(v->env);
	int rc;

	/* A renewal started after expiry would resurrect leases others may hold. */
	if (h->valid_until && t0 >= h->valid_until)
		return CD_ERR_TIMEOUT;
	rc = still_ours(v, h);
	if (rc < 0)
		return rc;
	h->counter++;
	host_to_rec(v, h, 0, &r);
	rc = host_write(v, &r, 1);
	if (rc < 0)
		return rc;
	if (csvfs_now(v->env) - t0 > v->timing.io_ms)
		return CD_ERR_TIMEOUT;
	if (h->valid_until)
		h->valid_until = t0 + v->timing.use_ms;
	return 0;
}

/*
 * The generation to use after a damaged slot, whose old generation is
 * unknown: leases record their owner's generation and compare it for
 * equality, so a random one far above any count of joins will do.
 */
static uint64_t unknown_generation(const struct csvfs_vol *v)
{
	return (csvfs_random(v->env) >> 17) | (1ull << 46);
}

/* Find the generation to join with: wait for a previous holder to go. */
static int join_wait(struct csvfs_vol *v, uint32_t slot, struct csvfs_host_rec *old, uint64_t *gen)
{
	enum csvfs_liveness l;
	int tries, rc, damaged;

	for (tries = 0; tries < JOIN_TRIES; tries++) {
		rc = csvfs_host_read(v, slot, old);
		if (rc == -ENODATA || (rc == 0 && (old->flags & CSVFS_HOST_RELEASED))) {
			*gen = old->generation;
			return 0;
		}
		if (rc < 0 && rc != CD_ERR_CORRUPT)
			return rc;
		damaged = rc == CD_ERR_CORRUPT;
		rc = csvfs_watch_wait(v, slot, damaged ? 0 : old->generation, &l);
		if (rc < 0)
			return rc;
		if (l == CSVFS_LIVE_ALIVE)
			return -EBUSY;
		if (l == CSVFS_LIVE_DEAD) {
			*gen = damaged ? unknown_generation(v) : old->generation;
			return 0;
		}
		/* GONE or FREE: released, wiped or joined by someone else meanwhile; look again. */
	}
	return -EBUSY;
}

int csvfs_host_join(struct csvfs_vol *v, uint32_t slot, const char *owner, struct csvfs_host *h,
		    struct csvfs_host_rec *busy)
{
	struct csvfs_host_rec old, mine, back;
	uint64_t gen, t0;
	int rc;

	if (!valid_slot(v, slot) || !cd_valid_name(owner, CSVFS_NAME_LEN - 1))
		return CD_ERR_INVALID;
	rc = join_wait(v, slot, &old, &gen);
	if (rc < 0)
		goto out_report_holder;
	memset(h, 0, sizeof(*h));
	h->slot = slot;
	h->generation = gen + 1;
	h->counter = old.counter + 1;
	h->nonce = csvfs_random(v->env);
	cd_strlcpy(h->owner, owner, sizeof(h->owner));
	host_to_rec(v, h, 0, &mine);
	t0 = csvfs_now(v->env);
	rc = host_write(v, &mine, 0);
	if (rc < 0)
		return rc;
	/* A joiner that raced us wrote within the delay; the last write wins. */
	csvfs_sleep(v->env, csvfs_timing_join_delay(&v->timing));
	rc = csvfs_host_read(v, slot, &back);
	if (rc < 0 && rc != CD_ERR_CORRUPT)
		return rc;
	if (rc < 0 || back.nonce != mine.nonce || back.generation != mine.generation) {
		old = back;
		rc = -EBUSY;
		goto out_report_holder;
	}
	h->valid_until = t0 + v->timing.use_ms;
	return csvfs_host_renew(v, h);

out_report_holder:
	if (rc == -EBUSY && busy)
		*busy = old;
	return rc;
}

int csvfs_host_release(struct csvfs_vol *v, struct csvfs_host *h)
{
	struct csvfs_host_rec r;
	int rc = still_ours(v, h);

	if (rc < 0)
		return rc;
	h->counter++;
	host_to_rec(v, h, CSVFS_HOST_RELEASED, &r);
	return host_write(v, &r, 1);
}

int csvfs_host_attach(struct csvfs_vol *v, uint32_t slot, const char *owner, struct csvfs_host *h)
{
	struct csvfs_host_rec r;
	int rc = csvfs_host_read(v, slot, &r);

	if (rc == -ENODATA || (rc == 0 && (r.flags & CSVFS_HOST_RELEASED)))
		return CD_ERR_NOT_FOUND;
	if (rc < 0)
		return rc;
	if (owner && strcmp(owner, r.owner) != 0)
		return -EPERM;
	memset(h, 0, sizeof(*h));
	h->slot = slot;
	h->generation = r.generation;
	h->counter = r.counter;
	h->nonce = r.nonce;
	cd_strlcpy(h->owner, r.owner, sizeof(h->owner));
	return 0;
}

bool csvfs_host_valid(const struct csvfs_vol *v, const struct csvfs_host *h)
{
	return !h->valid_until || csvfs_now(v->env) < h->valid_until;
}

const char *csvfs_liveness_str(enum csvfs_liveness l)
{
	switch (l) {
	case CSVFS_LIVE_UNKNOWN:
		return "unknown";
	case CSVFS_LIVE_ALIVE:
		return "alive";
	case CSVFS_LIVE_DEAD:
		return "dead";
	case CSVFS_LIVE_GONE:
		return "gone";
	case CSVFS_LIVE_FREE:
		return "free";
	}
	return "?";
}

void csvfs_watch_init(struct csvfs_watch *w, uint32_t slot, uint64_t generation)
{
	memset(w, 0, sizeof(*w));
	w->slot = slot;
	w->generation = generation;
}

int csvfs_watch_poll(struct csvfs_vol *v, struct csvfs_watch *w, enum csvfs_liveness *l)
{
	struct csvfs_host_rec r;
	uint8_t *buf, sum[CSVFS_SUM_LEN];
	uint64_t issued = csvfs_now(v->env), done;
	int rc;

	if (!valid_slot(v, w->slot))
		return CD_ERR_INVALID;
	rc = csvfs_vol_read(v, csvfs_host_off(v, w->slot), v->sb.sector_size, &buf);
	if (rc < 0)
		goto out_free_buf;
	done = csvfs_now(v->env);
	rc = host_decode(v, w->slot, buf, &r);
	/*
	 * Blank and released are both free of leases, but only a release is
	 * a promise of its holder: a host that never joined may run anything.
	 */
	if (rc == -ENODATA) {
		*l = CSVFS_LIVE_FREE;
		rc = 0;
		goto out_free_buf;
	}
	if (rc == 0 &&
	    ((r.flags & CSVFS_HOST_RELEASED) || (w->generation && r.generation != w->generation))) {
		*l = CSVFS_LIVE_GONE;
		rc = 0;
		goto out_free_buf;
	}
	/* Damage counts as content: a slot that keeps changing is alive. */
	rc = 0;
	csvfs_sum(buf, v->sb.sector_size, sum);
	if (w->seen && memcmp(sum, w->content, sizeof(sum)) == 0) {
		*l = issued - w->since_ms >= v->timing.expiry_ms ? CSVFS_LIVE_DEAD
								 : CSVFS_LIVE_UNKNOWN;
		goto out_free_buf;
	}
	*l = w->seen ? CSVFS_LIVE_ALIVE : CSVFS_LIVE_UNKNOWN;
	w->seen = 1;
	memcpy(w->content, sum, sizeof(sum));
	w->since_ms = done;
out_free_buf:
	free(buf);
	return rc;
}

int csvfs_watch_wait(struct csvfs_vol *v, uint32_t slot, uint64_t generation,
		     enum csvfs_liveness *l)
{
	/*
	 * A live holder changes its slot at least every U/2 = 5E/16: polling
	 * every E/16 sees that well within E.
	 */
	uint64_t poll_ms = v->timing.expiry_ms / 16;
	struct csvfs_watch w;
	int rc;

	csvfs_watch_init(&w, slot, generation);
	for (;;) {
		rc = csvfs_watch_poll(v, &w, l);
		if (rc < 0 || *l != CSVFS_LIVE_UNKNOWN)
			return rc;
		csvfs_sleep(v->env, poll_ms ? poll_ms : 1);
	}
}
