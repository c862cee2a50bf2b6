/*
 * This node's host lease on each volume (volmgr.h): the renew thread, one a
 * volume, that opens the device, joins the node's host slot, renews it and
 * watches the other hosts' slots, and the loop's answer when the lease
 * lapses.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clusterd/result.h>

#include "clusterd/events.h"
#include "clusterd/timing.h"
#include "clusterd/volmgr_int.h"
#include "clusterd/watchdog.h"
#include "lib/util.h"

/* --- the renew thread --- */

/* The renew thread's continuous watch, for taking over a dead host's leases. */
static int seen_dead(void *arg, uint32_t slot)
{
	struct rt *rt = arg;
	enum csvfs_liveness l;

	if (slot == 0 || slot > CSVFS_MAX_HOSTS)
		return 0;
	pthread_mutex_lock(&rt->lock);
	l = rt->live[slot];
	pthread_mutex_unlock(&rt->lock);
	/* A blank slot holds no lease: nothing of it is to be waited for. */
	return l == CSVFS_LIVE_DEAD || l == CSVFS_LIVE_GONE || l == CSVFS_LIVE_FREE;
}

#ifdef CD_TEST_HOOKS
/*
 * A test aid: the volume's device as seen through a disk that fails every
 * transfer with EIO while the volume's io_error is set (a failing LUN, for
 * labs whose kernel has no device-mapper error target).
 */
struct failing_disk {
	struct csvfs_disk base;
	struct csvfs_disk *inner;
	atomic_bool *error;
};

static int failing_read(struct csvfs_disk *d, uint64_t off, void *buf, size_t len)
{
	struct failing_disk *f = (struct failing_disk *)d;

	return atomic_load(f->error) ? -EIO : f->inner->ops->read(f->inner, off, buf, len);
}

static int failing_write(struct csvfs_disk *d, uint64_t off, const void *buf, size_t len)
{
	struct failing_disk *f = (struct failing_disk *)d;

	return atomic_load(f->error) ? -EIO : f->inner->ops->write(f->inner, off, buf, len);
}

static void failing_close(struct csvfs_disk *d)
{
	struct failing_disk *f = (struct failing_disk *)d;

	csvfs_disk_close(f->inner);
	free(f);
}

static const struct csvfs_disk_ops failing_ops = {failing_read, failing_write, failing_close};

static int failing_wrap(struct rt *rt)
{
	struct failing_disk *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->base.ops = &failing_ops;
	f->base.sector_size = rt->disk->sector_size;
	f->base.size = rt->disk->size;
	f->inner = rt->disk;
	f->error = &rt->io_error;
	rt->disk = &f->base;
	return 0;
}
#endif

static int open_volume(struct rt *rt)
{
	char found[40];
	int rc;

	if (rt->opened)
		return 0;
	rc = csvfs_disk_open(rt->device, 0, &rt->disk);
	if (rc < 0)
		return rc;
#ifdef CD_TEST_HOOKS
	rc = failing_wrap(rt);
	if (rc < 0) {
		csvfs_disk_close(rt->disk);
		rt->disk = NULL;
		return rc;
	}
#endif
	rc = csvfs_vol_open(&rt->vol, rt->disk, &csvfs_env_real);
	if (rc < 0) {
		csvfs_disk_close(rt->disk);
		rt->disk = NULL;
		return rc;
	}
	csvfs_uuid_str(rt->vol.sb.uuid, found);
	if (strcasecmp(found, rt->uuid) != 0) {
		csvfs_disk_close(rt->disk);
		rt->disk = NULL;
		pthread_mutex_lock(&rt->lock);
		cd_strlcpy(rt->found_uuid, found, sizeof(rt->found_uuid));
		pthread_mutex_unlock(&rt->lock);
		return CD_ERR_CORRUPT;
	}
	pthread_mutex_lock(&rt->lock);
	rt->uuid_ok = true;
	pthread_mutex_unlock(&rt->lock);
	rt->vol.seen_dead = seen_dead;
	rt->vol.seen_dead_arg = rt;
	rt->opened = true;
	return 0;
}

/* Wait up to ms or until stop; returns true if stopping. */
static bool nap(struct rt *rt, uint64_t ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&rt->lock);
	if (!rt->stop)
		pthread_cond_timedwait(&rt->cond, &rt->lock, &ts);
	stop = rt->stop;
	pthread_mutex_unlock(&rt->lock);
	return stop;
}

/* One read of every other host's slot. */
static void watch_hosts(struct rt *rt, uint32_t self)
{
	uint32_t slot;

	if (!rt->opened)
		return;
	for (slot = 1; slot <= rt->vol.sb.max_hosts && slot <= CSVFS_MAX_HOSTS; slot++) {
		enum csvfs_liveness l = CSVFS_LIVE_UNKNOWN;

		if (slot == self)
			continue;
		if (rt->watch[slot].slot != slot)
			csvfs_watch_init(&rt->watch[slot], slot, 0);
		if (csvfs_watch_poll(&rt->vol, &rt->watch[slot], &l) < 0)
			l = CSVFS_LIVE_UNKNOWN;
		pthread_mutex_lock(&rt->lock);
		rt->live[slot] = l;
		if (l == CSVFS_LIVE_ALIVE)
			rt->renewed_ms[slot] = cd_now_ms();
		else if (l != CSVFS_LIVE_UNKNOWN)
			rt->renewed_ms[slot] = 0;
		rt->watch_expiry_ms = rt->vol.timing.expiry_ms;
		pthread_mutex_unlock(&rt->lock);
	}
}

/*
 * The renew thread's record of its slot, under lock (volmgr_int.h). Only
 * this thread moves it, and silently: the loop logs its own record's moves.
 */
static void slot_event(struct rt *rt, enum cd_host_lease_event ev)
{
	cd_host_lease_transition(&rt->slot, ev, rt->name, NULL, NULL, NULL);
}

/* A renewal that took us and returned rc, for the metrics. Under lock. */
static void count_renewal(struct rt *rt, int rc, uint64_t us)
{
	if (rc == 0)
		rt->renewals++;
	else
		rt->renew_failures++;
	cd_hist_observe(&rt->renew_us, us);
	rt->renew_us_last = us;
	if (us > rt->renew_us_max)
		rt->renew_us_max = us;
}

void *vols_renew_thread(void *arg)
{
	struct rt *rt = arg;
	const char *owner = rt->owner;
	struct {
		uint32_t id;
	} self = {rt->self_id};
	int rc;

	for (;;) {
		struct csvfs_host h;
		bool joined, suspended, ended = false;

		pthread_mutex_lock(&rt->lock);
		joined = rt->slot == CD_HOST_LEASE_HELD;
		h = rt->host;
		suspended = rt->suspend;
		pthread_mutex_unlock(&rt->lock);
		watch_hosts(rt, self.id);
		if (suspended) {
			if (joined) {
				/* Our VMs are gone: others need not wait for expiry. */
				csvfs_host_release(&rt->vol, &h);
				cd_watchdog_clear(rt->name, h.generation);
				pthread_mutex_lock(&rt->lock);
				slot_event(rt, CD_HOST_EV_RELEASE);
				pthread_mutex_unlock(&rt->lock);
			}
			if (nap(rt, rt->opened ? rt->vol.timing.renewal_ms : CD_HOSTLEASE_RETRY_MS))
				break;
			continue;
		}
		if (!joined) {
			struct csvfs_host_rec busy;

			rc = open_volume(rt);
			if (rc == 0)
				rc = csvfs_host_join(&rt->vol, self.id, owner, &h, &busy);
			if (rc == 0) {
				pthread_mutex_lock(&rt->lock);
				rt->host = h;
				slot_event(rt, CD_HOST_EV_JOINED);
				pthread_mutex_unlock(&rt->lock);
				cd_watchdog_lease(rt->name, h.generation, h.valid_until,
						  rt->vol.timing.margin_ms);
				vols_post((struct event){EV_JOINED, rt, NULL, 0});
			} else {
				vols_post((struct event){EV_JOIN_FAILED, rt, NULL, rc});
				if (nap(rt, CD_HOSTLEASE_RETRY_MS))
					break;
			}
			continue;
		}
		/*
		 * Between renewals, watch the other slots often: a dead host
		 * must be known dead as soon as its lease expires, which with
		 * the lab's timings is just before corosync reports it gone.
		 */
		{
			uint64_t due = cd_now_ms() + rt->vol.timing.renewal_ms;
			bool stop = false;

			while (!stop && cd_now_ms() < due) {
				uint64_t left = due - cd_now_ms();

				stop = nap(rt, left < CD_HOSTLEASE_WATCH_MS
						       ? left
						       : CD_HOSTLEASE_WATCH_MS);
				if (!stop)
					watch_hosts(rt, self.id);
			}
			if (stop)
				break;
		}
#ifdef CD_TEST_HOOKS
		pthread_mutex_lock(&rt->lock);
		joined = !rt->stall;
		pthread_mutex_unlock(&rt->lock);
		if (!joined)
			continue;
#endif
		{
			uint64_t t0 = cd_now_us();

			rc = csvfs_host_renew(&rt->vol, &h);
			pthread_mutex_lock(&rt->lock);
			count_renewal(rt, rc, cd_now_us() - t0);
		}
		if (rc == 0 || rc == CD_ERR_TIMEOUT) {
			/* The record advanced even when the renewal came too late. */
			rt->host.counter = h.counter;
			rt->host.valid_until = h.valid_until;
		}
		if (rc < 0 && !csvfs_host_valid(&rt->vol, &h)) {
			slot_event(rt, CD_HOST_EV_EXPIRED); /* join again: a new generation */
		} else if (rt->lapsed_generation == h.generation) {
			/*
			 * The loop saw the validity pass while a renewal was
			 * under way (a renewal begun later fails above), and
			 * voided this incarnation's leases. Going on with it
			 * would leave the loop's record lapsed for good, the
			 * leases it forgot held on disk: join again instead, as
			 * after a lapse seen here, once the slot expired. The
			 * watchdog keeps the lapse's kill time: a new one for an
			 * incarnation nobody renews would outlive the loop's
			 * "off" for it.
			 */
			slot_event(rt, CD_HOST_EV_EXPIRED);
			ended = true;
		}
		pthread_mutex_unlock(&rt->lock);
		if (rc == 0 && !ended)
			cd_watchdog_lease(rt->name, h.generation, h.valid_until,
					  rt->vol.timing.margin_ms);
		if (rc < 0)
			vols_post((struct event){EV_RENEW_FAILED, rt, NULL, rc});
	}
	pthread_mutex_lock(&rt->lock);
	if (rt->slot == CD_HOST_LEASE_HELD && rt->keep_slot) {
		/*
		 * A VM may still run: the slot must lapse, not be given up. It
		 * is still this node's: queued jobs may use it meanwhile.
		 */
		slot_event(rt, CD_HOST_EV_LEAVE);
		pthread_mutex_unlock(&rt->lock);
		return NULL;
	}
	if (rt->slot == CD_HOST_LEASE_HELD) {
		struct csvfs_host h = rt->host;

		pthread_mutex_unlock(&rt->lock);
		/* Leaving for good: give the slot up so others need not wait. */
		csvfs_host_release(&rt->vol, &h);
		cd_watchdog_clear(rt->name, h.generation);
		pthread_mutex_lock(&rt->lock);
		slot_event(rt, CD_HOST_EV_RELEASE);
	}
	pthread_mutex_unlock(&rt->lock);
	return NULL;
}

/* --- the loop side --- */

/* A lapsed incarnation whose VMs are being powered off. */
struct lapse {
	char vol[64];
	uint64_t generation;
};

static void lapse_off(void *ctx, bool ok)
{
	struct lapse *l = ctx;

	/* Otherwise the watchdog process kills every QEMU at kill_at. */
	if (ok)
		cd_watchdog_clear(l->vol, l->generation);
	free(l);
}

void vols_drop_leases(struct rt *rt, const char *why)
{
	char dir[PATH_MAX];
	struct lapse *l = calloc(1, sizeof(*l));

	vol_log(LOG_CRIT, rt->name,
		"%s: this node's leases on the volume are void (metadata lease %s, %zu file "
		"leases); stopping everything that uses its files",
		why, cd_meta_lease_held(rt->meta) ? "held" : "not held", rt->n_leases);
	cd_event("volume", rt->name,
		 "host lease lapsed here: leases void, stopping what uses them");
	vols_meta_event(rt, CD_META_EV_LOST, "the host lease lapsed");
	rt->n_leases = 0;
	rt->reported_coordinator = 0;
	snprintf(dir, sizeof(dir), "%s/%s/", vols.run_dir, rt->name);
	/* The renew thread ends this incarnation too (a renewal may be under way). */
	pthread_mutex_lock(&rt->lock);
	rt->lapsed_generation = rt->host.generation;
	pthread_mutex_unlock(&rt->lock);
	if (l) {
		cd_strlcpy(l->vol, rt->name, sizeof(l->vol));
		l->generation = rt->lapsed_generation;
	}
	if (vols.lost && l)
		vols.lost(rt->name, dir, lapse_off, l);
	else if (vols.lost)
		vols.lost(rt->name, dir, NULL, NULL);
	else
		free(l);
}
