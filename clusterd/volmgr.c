#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/events.h"
#include "clusterd/loopdev.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/deadrule.h"
#include "clusterd/volmgr.h"
#include "clusterd/watchdog.h"
#include "csvfs/csvfs.h"
#include "lib/util.h"

#define vol_log(prio, vol, fmt, ...) qb_log(prio, "volume %s: " fmt, vol, ##__VA_ARGS__)
#define TICK_MS 200
#define META_RETRY_MS 1000
#define WATCH_MS 50 /* how often the other hosts' slots are read */

enum job_type {
	J_META_ACQUIRE,
	J_META_RELEASE,
	J_FILE_OP,
	J_REFRESH,
	J_LEASE_ACQUIRE,
	J_LEASE_RELEASE,
};

struct rt;

struct job {
	struct job *next;
	enum job_type type;
	struct rt *rt;
	struct cd_vreq req;	 /* J_FILE_OP */
	char file[64];		 /* J_LEASE_* */
	bool shared;
	cd_volmgr_done_fn done;	 /* J_LEASE_* */
	void *ctx;
	/* Results, filled by the op thread. */
	int rc;
	char err[256];
	struct cd_vfile *files; /* J_FILE_OP, J_REFRESH */
	size_t n_files;
	uint64_t meta_gen;
};

/* What the threads tell the loop, through one pipe. */
struct event {
	enum { EV_JOB_DONE, EV_JOINED, EV_JOIN_FAILED, EV_RENEW_FAILED } kind;
	struct rt *rt;
	struct job *job;
	int rc;
};

struct exposed {
	char name[64];
	int loop;
	uint64_t offset, size;
};

/* One volume on this node. */
struct rt {
	char name[64];
	char device[CD_VOL_DEVICE_MAX + 1];
	char uuid[40]; /* the cluster's record of the volume's superblock UUID */
	/*
	 * Under lock: the device was opened and holds that volume (uuid_ok), or
	 * it holds another one (found_uuid). Nothing is joined, leased or
	 * exposed on a device before it proved to hold the cluster's volume:
	 * device names may differ between hosts.
	 */
	bool uuid_ok;
	char found_uuid[40];
	bool uuid_reported;
	bool seen;

	pthread_t renew_thread, op_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;		/* under lock */
#ifdef CD_TEST_HOOKS
	bool stall;		/* under lock: a test's stuck storage */
	atomic_bool io_error;	/* a test's failing storage: every I/O fails (EIO) */
#endif
	uint32_t self_id;		/* this node's id: its host slot (never 0) */
	char owner[CSVFS_NAME_LEN]; /* this node's name, written in its slot */
	bool suspend;		/* under lock: released on purpose, do not rejoin */
	bool keep_slot;		/* under lock: stop without releasing (VMs may run) */
	/* Every other host's slot, watched continuously so that a dead host
	 * is known dead as soon as its lease has expired, not E later. */
	struct csvfs_watch watch[CSVFS_MAX_HOSTS + 1];
	enum csvfs_liveness live[CSVFS_MAX_HOSTS + 1]; /* under lock */
	struct job *queue;	/* under lock */
	struct csvfs_host host; /* under lock: the renew thread updates it */
	bool joined;		/* under lock */
	struct csvfs_disk *disk;
	struct csvfs_vol vol;
	bool opened;
	int threads;

	/* Loop side only. */
	bool valid; /* the host lease is valid as far as the loop knows */
	bool meta_held, meta_busy;
	uint64_t meta_next_try;
	/*
	 * The request id under way, 0 for none. It stays set after the work is
	 * done, until its result (done_msg, sent again until then) is in the
	 * state: the request is still queued meanwhile and must not run twice.
	 */
	uint64_t busy_req;
	struct json_object *done_msg;
	uint64_t done_retry; /* monotonic ms of the next send of done_msg */
	bool refreshed;
	uint32_t reported_coordinator;
	struct exposed *exp;
	size_t n_exp;
	char (*leases)[64]; /* files whose lease this node holds */
	size_t n_leases;
	int last_join_rc;
};

struct waiter {
	struct waiter *next;
	char vol[64];
	uint64_t id;
	uint64_t deadline;
	cd_volmgr_done_fn done;
	void *ctx;
};

static struct {
	qb_loop_t *loop;
	char run_dir[256];
	int pipe[2];
	struct rt **rts;
	size_t n_rts;
	struct waiter *waiters;
	qb_loop_timer_handle timer;
	void (*lost)(const char *vol, const char *dir, cd_volmgr_off_fn off, void *ctx);
} vm = {.pipe = {-1, -1}};

static void post(struct event ev)
{
	ssize_t n;

	do {
		n = write(vm.pipe[1], &ev, sizeof(ev));
	} while (n < 0 && errno == EINTR);
}

/* --- the threads --- */

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
	return l == CSVFS_LIVE_DEAD || l == CSVFS_LIVE_GONE;
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
		pthread_mutex_unlock(&rt->lock);
	}
}

static void *renew_thread(void *arg)
{
	struct rt *rt = arg;
	const char *owner = rt->owner;
	struct {
		uint32_t id;
	} self = {rt->self_id};
	int rc;

	for (;;) {
		struct csvfs_host h;
		bool joined;

		bool suspended;

		pthread_mutex_lock(&rt->lock);
		joined = rt->joined;
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
				rt->joined = false;
				pthread_mutex_unlock(&rt->lock);
			}
			if (nap(rt, rt->opened ? rt->vol.timing.renewal_ms : 1000))
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
				rt->joined = true;
				pthread_mutex_unlock(&rt->lock);
				cd_watchdog_lease(rt->name, h.generation, h.valid_until,
						  rt->vol.timing.margin_ms);
				post((struct event){EV_JOINED, rt, NULL, 0});
			} else {
				post((struct event){EV_JOIN_FAILED, rt, NULL, rc});
				if (nap(rt, 1000))
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

				stop = nap(rt, left < WATCH_MS ? left : WATCH_MS);
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
		rc = csvfs_host_renew(&rt->vol, &h);
		pthread_mutex_lock(&rt->lock);
		if (rc == 0 || rc == CD_ERR_TIMEOUT) {
			/* The record advanced even when the renewal came too late. */
			rt->host.counter = h.counter;
			rt->host.valid_until = h.valid_until;
		}
		if (rc < 0 && !csvfs_host_valid(&rt->vol, &h))
			rt->joined = false; /* join again: a new generation */
		pthread_mutex_unlock(&rt->lock);
		if (rc == 0)
			cd_watchdog_lease(rt->name, h.generation, h.valid_until,
					  rt->vol.timing.margin_ms);
		if (rc < 0)
			post((struct event){EV_RENEW_FAILED, rt, NULL, rc});
	}
	pthread_mutex_lock(&rt->lock);
	if (rt->joined && rt->keep_slot) {
		/* A VM may still run: the slot must lapse, not be given up. */
		pthread_mutex_unlock(&rt->lock);
		return NULL;
	}
	if (rt->joined) {
		struct csvfs_host h = rt->host;

		pthread_mutex_unlock(&rt->lock);
		/* Leaving for good: give the slot up so others need not wait. */
		csvfs_host_release(&rt->vol, &h);
		cd_watchdog_clear(rt->name, h.generation);
		pthread_mutex_lock(&rt->lock);
		rt->joined = false;
	}
	pthread_mutex_unlock(&rt->lock);
	return NULL;
}

static int read_files(struct rt *rt, struct job *j)
{
	struct csvfs_meta m;
	uint32_t i, k = 0;
	int rc = csvfs_meta_init(&m, rt->vol.sb.max_files);

	if (rc < 0)
		return rc;
	rc = csvfs_meta_read(&rt->vol, &m, NULL);
	if (rc == -ENODATA || (rc == 0 && m.generation == 0)) {
		rc = 0; /* never written: no files */
	} else if (rc < 0) {
		goto out;
	}
	j->meta_gen = m.generation;
	j->files = calloc(m.nfiles + 1, sizeof(*j->files));
	if (!j->files) {
		rc = -ENOMEM;
		goto out;
	}
	for (i = 0; i < m.max_files && k < m.nfiles; i++) {
		const struct csvfs_file *f = &m.files[i];

		if (!f->name[0])
			continue;
		cd_strlcpy(j->files[k].name, f->name, sizeof(j->files[k].name));
		j->files[k].index = f->index;
		j->files[k].size = f->size;
		j->files[k].offset = f->offset;
		j->files[k].alloc = f->alloc;
		j->files[k].generation = f->generation;
		k++;
	}
	j->n_files = k;
out:
	csvfs_meta_free(&m);
	return rc;
}

static void busy_text(struct job *j, const struct csvfs_busy *b)
{
	snprintf(j->err, sizeof(j->err), "held by another live host (node %u%s)", b->slot,
		 b->shared ? ", shared" : "");
}

static void run_job(struct rt *rt, struct job *j, const struct csvfs_host *h)
{
	struct csvfs_busy busy;
	struct csvfs_file out;
	uint32_t lease;

	memset(&busy, 0, sizeof(busy));
	switch (j->type) {
	case J_META_ACQUIRE:
		j->rc = csvfs_lease_acquire(&rt->vol, h, CSVFS_META_LEASE, CSVFS_META_LEASE_NAME, 0,
					    &busy);
		if (j->rc == -EBUSY)
			busy_text(j, &busy);
		break;
	case J_META_RELEASE:
		j->rc = csvfs_lease_release(&rt->vol, h, CSVFS_META_LEASE);
		break;
	case J_FILE_OP:
		switch (j->req.op) {
		case CD_VREQ_CREATE:
			j->rc = csvfs_file_create(&rt->vol, h, j->req.file, j->req.size, &out, &busy);
			break;
		case CD_VREQ_REMOVE:
			j->rc = csvfs_file_remove(&rt->vol, h, j->req.file, &busy);
			break;
		case CD_VREQ_RESIZE:
			j->rc = csvfs_file_resize(&rt->vol, h, j->req.file, j->req.size, &out, &busy);
			break;
		}
		if (j->rc == -EBUSY)
			busy_text(j, &busy);
		else if (j->rc < 0)
			snprintf(j->err, sizeof(j->err), "%s %s: %s", cd_vreq_op_to_str(j->req.op),
				 j->req.file, cd_strerror(j->rc));
		/* Whatever happened, the list the cluster sees is the disk's. */
		read_files(rt, j);
		break;
	case J_REFRESH:
		j->rc = read_files(rt, j);
		break;
	case J_LEASE_ACQUIRE:
	case J_LEASE_RELEASE:
		j->rc = csvfs_lease_lookup(&rt->vol, j->file, &lease);
		if (j->rc == 0 && j->type == J_LEASE_ACQUIRE)
			j->rc = csvfs_lease_acquire(&rt->vol, h, lease, j->file,
						    j->shared ? CSVFS_LEASE_SHARED : 0, &busy);
		else if (j->rc == 0)
			j->rc = csvfs_lease_release(&rt->vol, h, lease);
		if (j->rc == -EBUSY)
			busy_text(j, &busy);
		break;
	}
	if (j->rc == -EBUSY)
		j->rc = CD_ERR_HELD;
	if (j->rc < 0 && !j->err[0])
		cd_strlcpy(j->err, cd_strerror(j->rc), sizeof(j->err));
}

static void *op_thread(void *arg)
{
	struct rt *rt = arg;

	for (;;) {
		struct csvfs_host h;
		struct job *j;
		bool joined;

		pthread_mutex_lock(&rt->lock);
		while (!rt->stop && !rt->queue)
			pthread_cond_wait(&rt->cond, &rt->lock);
		if (rt->stop && !rt->queue) {
			pthread_mutex_unlock(&rt->lock);
			break;
		}
		j = rt->queue;
		rt->queue = j->next;
		h = rt->host;
		joined = rt->joined;
		pthread_mutex_unlock(&rt->lock);
		if (!joined || !csvfs_host_valid(&rt->vol, &h)) {
			j->rc = CD_ERR_NOT_JOINED;
			snprintf(j->err, sizeof(j->err), "this node holds no valid host lease on %s",
				 rt->name);
		} else {
			run_job(rt, j, &h);
		}
		post((struct event){EV_JOB_DONE, rt, j, j->rc});
	}
	return NULL;
}

/* --- the loop side --- */

static void queue_job(struct rt *rt, struct job *j)
{
	struct job **pp;

	j->rt = rt;
	pthread_mutex_lock(&rt->lock);
	for (pp = &rt->queue; *pp; pp = &(*pp)->next)
		;
	*pp = j;
	pthread_cond_broadcast(&rt->cond);
	pthread_mutex_unlock(&rt->lock);
}

static struct job *new_job(enum job_type t)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j)
		j->type = t;
	return j;
}

static void submit(struct json_object *c, const char *what, const char *vol)
{
	int rc = cd_replica_submit(c, NULL, NULL);

	if (rc < 0)
		vol_log(LOG_NOTICE, vol, "cannot record %s now: %s", what, cd_strerror(rc));
	json_object_put(c);
}

/* Send the change c, keeping the caller's reference. */
static void submit_keep(struct json_object *c, const char *what, const char *vol)
{
	submit(json_object_get(c), what, vol);
}

static void submit_done(struct rt *rt, uint64_t id, int rc, const char *err, struct job *j)
{
	struct json_object *c = json_object_new_object(), *a = json_object_new_array();
	char why[160];
	size_t i;

	/*
	 * Every member checks the list as the state's rules say; a file they
	 * would refuse (a name that is no path component, an extent out of
	 * range) is left out here rather than have the whole list refused.
	 */
	for (i = 0; i < j->n_files; i++) {
		if (cd_vfile_check(&j->files[i], why, sizeof(why)) < 0) {
			vol_log(LOG_ERR, rt->name, "file left out of the cluster's list: %s", why);
			continue;
		}
		json_object_array_add(a, cd_vfile_to_json(&j->files[i]));
	}
	json_object_object_add(c, "op", json_object_new_string("volume.done"));
	json_object_object_add(c, "name", json_object_new_string(rt->name));
	json_object_object_add(c, "id", json_object_new_int64((int64_t)id));
	json_object_object_add(c, "rc", json_object_new_int(rc));
	json_object_object_add(c, "error", json_object_new_string(err ? err : ""));
	json_object_object_add(c, "meta_generation", json_object_new_int64((int64_t)j->meta_gen));
	json_object_object_add(c, "files", a);
	if (id && id == rt->busy_req) {
		/* Kept until the state has it (see busy_req). */
		json_object_put(rt->done_msg);
		rt->done_msg = json_object_get(c);
		rt->done_retry = cd_now_ms() + 1000;
	}
	submit(c, "a file result", rt->name);
}

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

static void drop_leases(struct rt *rt, const char *why)
{
	char dir[PATH_MAX];
	struct lapse *l = calloc(1, sizeof(*l));

	vol_log(LOG_CRIT, rt->name,
		"%s: this node's leases on the volume are void (metadata lease %s, %zu file "
		"leases); stopping everything that uses its files",
		why, rt->meta_held ? "held" : "not held", rt->n_leases);
	cd_event("volume", rt->name, "host lease lapsed here: leases void, stopping what uses them");
	rt->meta_held = false;
	rt->n_leases = 0;
	rt->reported_coordinator = 0;
	snprintf(dir, sizeof(dir), "%s/%s/", vm.run_dir, rt->name);
	if (l) {
		cd_strlcpy(l->vol, rt->name, sizeof(l->vol));
		pthread_mutex_lock(&rt->lock);
		l->generation = rt->host.generation;
		pthread_mutex_unlock(&rt->lock);
	}
	if (vm.lost && l)
		vm.lost(rt->name, dir, lapse_off, l);
	else if (vm.lost)
		vm.lost(rt->name, dir, NULL, NULL);
	else
		free(l);
}

static void lease_list_set(struct rt *rt, const char *file, bool held)
{
	size_t i;
	char (*n)[64];

	for (i = 0; i < rt->n_leases; i++)
		if (strcmp(rt->leases[i], file) == 0) {
			if (!held)
				memmove(&rt->leases[i], &rt->leases[i + 1],
					(rt->n_leases - i - 1) * sizeof(*rt->leases));
			rt->n_leases -= !held;
			return;
		}
	if (!held)
		return;
	n = realloc(rt->leases, (rt->n_leases + 1) * sizeof(*n));
	if (!n)
		return;
	rt->leases = n;
	cd_strlcpy(rt->leases[rt->n_leases++], file, 64);
}

static void job_done(struct job *j)
{
	struct rt *rt = j->rt;

	switch (j->type) {
	case J_META_ACQUIRE:
		rt->meta_busy = false;
		if (j->rc == 0) {
			rt->meta_held = true;
			rt->refreshed = false;
			vol_log(LOG_NOTICE, rt->name, "this node holds the metadata lease: it "
						      "coordinates the volume");
		} else {
			rt->meta_next_try = cd_now_ms() + META_RETRY_MS;
			vol_log(LOG_INFO, rt->name, "metadata lease not acquired: %s", j->err);
		}
		break;
	case J_META_RELEASE:
		rt->meta_busy = false;
		rt->meta_held = false;
		break;
	case J_REFRESH:
		rt->meta_busy = false;
		if (j->rc == 0) {
			rt->refreshed = true;
			submit_done(rt, 0, 0, NULL, j);
		}
		break;
	case J_FILE_OP:
		vol_log(j->rc ? LOG_WARNING : LOG_NOTICE, rt->name, "file %s %s: %s",
			cd_vreq_op_to_str(j->req.op), j->req.file,
			j->rc ? j->err : "done");
		if (j->rc == CD_ERR_NOT_JOINED || j->rc == CD_ERR_HELD) {
			/* Not ours to answer: the request stays for the next holder. */
			rt->busy_req = 0;
			rt->meta_held = false;
			break;
		}
		submit_done(rt, j->req.id, j->rc, j->rc ? j->err : NULL, j);
		break;
	case J_LEASE_ACQUIRE:
	case J_LEASE_RELEASE:
		if (j->rc == 0) {
			lease_list_set(rt, j->file, j->type == J_LEASE_ACQUIRE);
			vol_log(LOG_NOTICE, rt->name, "lease on %s %s%s", j->file,
				j->type == J_LEASE_ACQUIRE ? "acquired" : "released",
				j->shared ? " (shared)" : "");
		}
		if (j->done)
			j->done(j->ctx, j->rc, j->err);
		break;
	}
	free(j->files);
	free(j);
}

static int32_t pipe_cb(int32_t fd, int32_t revents, void *data)
{
	struct event ev;

	while (read(fd, &ev, sizeof(ev)) == (ssize_t)sizeof(ev)) {
		struct rt *rt = ev.rt;

		switch (ev.kind) {
		case EV_JOB_DONE:
			job_done(ev.job);
			break;
		case EV_JOINED:
			rt->valid = true;
			rt->last_join_rc = 0;
			vol_log(LOG_NOTICE, rt->name, "joined host slot %u (renewal every %u ms, "
						      "expiry %u ms)",
				cd_membership_local_nodeid(), rt->vol.timing.renewal_ms,
				rt->vol.timing.expiry_ms);
			break;
		case EV_JOIN_FAILED: {
			char found[40];

			pthread_mutex_lock(&rt->lock);
			cd_strlcpy(found, rt->found_uuid, sizeof(found));
			pthread_mutex_unlock(&rt->lock);
			if (found[0] && !rt->uuid_reported) {
				rt->uuid_reported = true;
				vol_log(LOG_ERR, rt->name,
					"%s holds csvfs volume %s, not the cluster's %s: the volume "
					"is unusable on this node (give it the right device)",
					rt->device, found, rt->uuid);
				cd_event("volume", rt->name,
					 "unusable on this node: %s holds another volume (%s)",
					 rt->device, found);
			}
			if (ev.rc != rt->last_join_rc)
				vol_log(LOG_ERR, rt->name, "cannot join host slot %u on %s: %s",
					cd_membership_local_nodeid(), rt->device, cd_strerror(ev.rc));
			rt->last_join_rc = ev.rc;
			break;
		}
		case EV_RENEW_FAILED:
			vol_log(LOG_WARNING, rt->name, "host lease renewal failed: %s",
				cd_strerror(ev.rc));
			break;
		}
	}
	cd_volmgr_state_changed();
	return 0;
}

bool cd_volmgr_leases_held(char *lacking, size_t len)
{
	size_t i;

	for (i = 0; i < vm.n_rts; i++) {
		struct rt *rt = vm.rts[i];
		uint64_t until;
		bool usable;

		pthread_mutex_lock(&rt->lock);
		usable = rt->uuid_ok;
		until = rt->suspend ? 0 : rt->host.valid_until;
		pthread_mutex_unlock(&rt->lock);
		/* Also the moment before the tick that notices the end. */
		if (usable && (!rt->valid || cd_now_ms() >= until)) {
			if (lacking)
				cd_strlcpy(lacking, rt->name, len);
			return false;
		}
	}
	return true;
}

static struct rt *rt_find(const char *name)
{
	size_t i;

	for (i = 0; i < vm.n_rts; i++)
		if (strcmp(vm.rts[i]->name, name) == 0)
			return vm.rts[i];
	return NULL;
}

/*
 * Start using volume v. Only once corosync has given this node its id: the
 * id is the node's host slot, and a slot taken before (0) would never be
 * a valid one: the node would hold no host lease at all.
 */
static struct rt *rt_start(const struct cd_volume *v)
{
	struct cd_node_info self;
	struct rt *rt, **n;

	if (cd_membership_local_info(&self) < 0 || self.id == 0)
		return NULL;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return NULL;
	rt->self_id = self.id;
	cd_strlcpy(rt->owner, self.name, sizeof(rt->owner));
	n = realloc(vm.rts, (vm.n_rts + 1) * sizeof(*n));
	if (!n) {
		free(rt);
		return NULL;
	}
	vm.rts = n;
	cd_strlcpy(rt->name, v->name, sizeof(rt->name));
	cd_strlcpy(rt->device, v->device, sizeof(rt->device));
	cd_strlcpy(rt->uuid, v->uuid, sizeof(rt->uuid));
	pthread_mutex_init(&rt->lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&rt->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (pthread_create(&rt->renew_thread, NULL, renew_thread, rt) == 0)
		rt->threads++;
	if (pthread_create(&rt->op_thread, NULL, op_thread, rt) == 0)
		rt->threads++;
	vm.rts[vm.n_rts++] = rt;
	vol_log(LOG_NOTICE, rt->name, "using %s", rt->device);
	return rt;
}

static void unexpose_all(struct rt *rt);

static void rt_stop(struct rt *rt)
{
	size_t i;

	pthread_mutex_lock(&rt->lock);
	rt->stop = true;
	pthread_cond_broadcast(&rt->cond);
	pthread_mutex_unlock(&rt->lock);
	pthread_join(rt->renew_thread, NULL);
	pthread_join(rt->op_thread, NULL);
	unexpose_all(rt);
	if (rt->disk)
		csvfs_disk_close(rt->disk);
	for (i = 0; i < vm.n_rts; i++)
		if (vm.rts[i] == rt) {
			vm.rts[i] = vm.rts[--vm.n_rts];
			break;
		}
	free(rt->exp);
	free(rt->leases);
	json_object_put(rt->done_msg);
	free(rt);
}

/* The state's limits for volumes (volume.h) are the csvfs format's. */
_Static_assert(CD_VOL_MAX_HOSTS == CSVFS_MAX_HOSTS, "host slots");
_Static_assert(CD_VOL_MAX_FILES == CSVFS_MAX_FILES, "files per volume");
_Static_assert(CD_VOL_ALLOC_UNIT == CSVFS_ALLOC_UNIT, "allocation unit");
_Static_assert(CD_VOL_FILE_SIZE_MAX == CSVFS_MAX_FILE_SIZE, "file size");
_Static_assert(sizeof(((struct cd_vfile *)0)->name) == CSVFS_NAME_LEN, "file names");

/* --- exposure: RUN_DIR/VOLUME/FILE -> /dev/loopN --- */

static void link_path(const struct rt *rt, const char *file, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s/%s", vm.run_dir, rt->name, file);
}

static void unexpose(struct rt *rt, size_t i)
{
	char path[PATH_MAX];
	int rc;

	link_path(rt, rt->exp[i].name, path, sizeof(path));
	unlink(path);
	rc = cd_loop_detach(rt->exp[i].loop);
	if (rc < 0)
		vol_log(LOG_WARNING, rt->name, "cannot detach loop%d of %s: %s", rt->exp[i].loop,
			rt->exp[i].name, cd_strerror(rc));
	rt->exp[i] = rt->exp[--rt->n_exp];
}

static void unexpose_all(struct rt *rt)
{
	while (rt->n_exp)
		unexpose(rt, rt->n_exp - 1);
}

static void expose(struct rt *rt, const struct cd_vfile *f)
{
	char path[PATH_MAX], dev[32], dir[PATH_MAX];
	struct exposed *n;
	int loop, rc;

	rc = cd_loop_attach(rt->device, f->offset, f->size, &loop);
	if (rc < 0) {
		vol_log(LOG_ERR, rt->name, "cannot expose file %s: %s", f->name, cd_strerror(rc));
		return;
	}
	snprintf(dir, sizeof(dir), "%s/%s", vm.run_dir, rt->name);
	cd_mkdir_p(dir, 0755);
	link_path(rt, f->name, path, sizeof(path));
	snprintf(dev, sizeof(dev), "/dev/loop%d", loop);
	unlink(path);
	if (symlink(dev, path) < 0)
		vol_log(LOG_ERR, rt->name, "cannot link %s: %s", path, strerror(errno));
	n = realloc(rt->exp, (rt->n_exp + 1) * sizeof(*n));
	if (!n) {
		cd_loop_detach(loop);
		return;
	}
	rt->exp = n;
	cd_strlcpy(n[rt->n_exp].name, f->name, sizeof(n->name));
	n[rt->n_exp].loop = loop;
	n[rt->n_exp].offset = f->offset;
	n[rt->n_exp].size = f->size;
	rt->n_exp++;
	vol_log(LOG_INFO, rt->name, "file %s at %s (%s)", f->name, path, dev);
}

static void reconcile_files(struct rt *rt, const struct cd_volume *v)
{
	size_t i;
	bool ok;

	for (i = 0; i < rt->n_exp;) {
		const struct cd_vfile *f = cd_volume_file(v, rt->exp[i].name);

		if (!f || f->offset != rt->exp[i].offset) {
			unexpose(rt, i);
			continue;
		}
		if (f->size != rt->exp[i].size && cd_loop_resize(rt->exp[i].loop, f->size) == 0)
			rt->exp[i].size = f->size;
		i++;
	}
	pthread_mutex_lock(&rt->lock);
	ok = rt->uuid_ok;
	pthread_mutex_unlock(&rt->lock);
	if (!ok)
		return; /* not before the device proved to hold the volume */
	for (i = 0; i < v->n_files; i++) {
		size_t k;

		for (k = 0; k < rt->n_exp; k++)
			if (strcmp(rt->exp[k].name, v->files[i].name) == 0)
				break;
		if (k == rt->n_exp)
			expose(rt, &v->files[i]);
	}
}

/* --- decisions, after every state change and every tick --- */

static void coordinate(struct rt *rt, const struct cd_volume *v)
{
	uint32_t me = cd_membership_local_nodeid();
	bool want = cd_replica_coordinator() == me;
	struct job *j;

	/* Mid-round there is no coordinator yet: wait rather than hand over. */
	if (!rt->valid || rt->meta_busy || cd_replica_phase() != CD_SYNC_DONE)
		return;
	if (want && !rt->meta_held) {
		if (cd_now_ms() < rt->meta_next_try)
			return;
		if ((j = new_job(J_META_ACQUIRE))) {
			rt->meta_busy = true;
			queue_job(rt, j);
		}
		return;
	}
	if (!want && rt->meta_held && !rt->busy_req) {
		/* The cluster's coordinator moved: hand the volume over. */
		if ((j = new_job(J_META_RELEASE))) {
			rt->meta_busy = true;
			queue_job(rt, j);
		}
		return;
	}
	if (!rt->meta_held || !cd_replica_quorate())
		return;
	if (v->coordinator != me && rt->reported_coordinator != me) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(c, "op", json_object_new_string("volume.coordinator"));
		json_object_object_add(c, "name", json_object_new_string(rt->name));
		json_object_object_add(c, "node", json_object_new_int64(me));
		submit(c, "the coordinator", rt->name);
		rt->reported_coordinator = me;
	}
	if (!rt->refreshed) {
		/* A new holder mirrors the disk's file list first. */
		if ((j = new_job(J_REFRESH))) {
			rt->meta_busy = true;
			queue_job(rt, j);
		}
		return;
	}
	if (rt->busy_req) {
		size_t k;

		for (k = 0; k < v->n_reqs && v->reqs[k].id != rt->busy_req; k++)
			;
		if (k == v->n_reqs) {
			/* Its result is in the state: the next request may run. */
			rt->busy_req = 0;
			json_object_put(rt->done_msg);
			rt->done_msg = NULL;
		} else if (rt->done_msg && cd_now_ms() >= rt->done_retry) {
			rt->done_retry = cd_now_ms() + 1000;
			submit_keep(rt->done_msg, "a file result", rt->name);
		}
	}
	if (!rt->busy_req && v->n_reqs) {
		if ((j = new_job(J_FILE_OP))) {
			j->req = v->reqs[0];
			rt->busy_req = j->req.id;
			vol_log(LOG_INFO, rt->name, "file %s %s for node %u",
				cd_vreq_op_to_str(j->req.op), j->req.file, j->req.node);
			queue_job(rt, j);
		}
	}
}

static void answer_waiters(void)
{
	const struct cd_state *s = cd_replica_state();
	struct waiter **pp = &vm.waiters, *w;
	uint64_t now = cd_now_ms();

	while ((w = *pp)) {
		const struct cd_volume *v = cd_state_volume(s, w->vol);
		const struct cd_vresult *r = v ? cd_volume_result(v, w->id) : NULL;

		if (!r && v && now < w->deadline) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		if (r)
			w->done(w->ctx, r->rc, r->error);
		else if (!v)
			w->done(w->ctx, CD_ERR_NOT_FOUND, "the volume was removed");
		else
			w->done(w->ctx, CD_ERR_TIMEOUT,
				"no answer from the volume's coordinator in time; the request stays "
				"queued");
		free(w);
	}
}

void cd_volmgr_state_changed(void)
{
	const struct cd_state *s = cd_replica_state();
	uint64_t now = cd_now_ms();
	size_t i;

	for (i = 0; i < vm.n_rts; i++)
		vm.rts[i]->seen = false;
	for (i = 0; i < s->n_volumes; i++) {
		const struct cd_volume *v = &s->volumes[i];
		struct rt *rt = rt_find(v->name);

		if (!rt)
			rt = rt_start(v);
		if (!rt)
			continue;
		rt->seen = true;
		/* The loop's own watch: validity passes even if renewals hang. */
		if (rt->valid) {
			struct csvfs_host h;

			pthread_mutex_lock(&rt->lock);
			h = rt->host;
			pthread_mutex_unlock(&rt->lock);
			if (h.valid_until && now >= h.valid_until && !rt->suspend) {
				rt->valid = false;
				drop_leases(rt, "host lease expired (storage lost or renewals stuck)");
			}
		}
		coordinate(rt, v);
		reconcile_files(rt, v);
	}
	for (i = 0; i < vm.n_rts;) {
		if (!vm.rts[i]->seen) {
			vol_log(LOG_NOTICE, vm.rts[i]->name, "removed from the cluster");
			rt_stop(vm.rts[i]);
			continue;
		}
		i++;
	}
	answer_waiters();
}

/* Every TICK_MS, and exactly when a host lease's validity ends. */
static void tick(void *data)
{
	uint64_t now, next = TICK_MS;
	size_t i;

	cd_volmgr_state_changed();
	now = cd_now_ms();
	for (i = 0; i < vm.n_rts; i++) {
		struct rt *rt = vm.rts[i];
		uint64_t until;

		if (!rt->valid)
			continue;
		pthread_mutex_lock(&rt->lock);
		until = rt->suspend ? 0 : rt->host.valid_until;
		pthread_mutex_unlock(&rt->lock);
		if (until >= now && until - now + 1 < next)
			next = until - now + 1;
	}
	qb_loop_timer_add(vm.loop, QB_LOOP_HIGH, next * 1000000ull, NULL, tick, &vm.timer);
}

int cd_volmgr_init(qb_loop_t *loop, const char *run_dir,
		   void (*lost)(const char *vol, const char *dir, cd_volmgr_off_fn off,
				void *ctx))
{
	vm.loop = loop;
	vm.lost = lost;
	cd_strlcpy(vm.run_dir, run_dir, sizeof(vm.run_dir));
	if (pipe2(vm.pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	qb_loop_poll_add(loop, QB_LOOP_MED, vm.pipe[0], POLLIN, NULL, pipe_cb);
	return qb_loop_timer_add(loop, QB_LOOP_MED, TICK_MS * 1000000ull, NULL, tick, &vm.timer);
}

void cd_volmgr_fini(bool release)
{
	size_t i;

	for (i = 0; i < vm.n_rts; i++) {
		pthread_mutex_lock(&vm.rts[i]->lock);
		vm.rts[i]->keep_slot = !release;
		pthread_mutex_unlock(&vm.rts[i]->lock);
	}
	while (vm.n_rts)
		rt_stop(vm.rts[vm.n_rts - 1]);
	free(vm.rts);
	vm.rts = NULL;
}

int cd_volmgr_wait_result(const char *vol, uint64_t id, int timeout_ms, cd_volmgr_done_fn done,
			  void *ctx)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	cd_strlcpy(w->vol, vol, sizeof(w->vol));
	w->id = id;
	w->deadline = cd_now_ms() + (uint64_t)timeout_ms;
	w->done = done;
	w->ctx = ctx;
	w->next = vm.waiters;
	vm.waiters = w;
	return 0;
}

int cd_volmgr_lease(const char *vol, const char *file, bool acquire, bool shared,
		    cd_volmgr_done_fn done, void *ctx)
{
	struct rt *rt = rt_find(vol);
	struct job *j;

	if (!rt)
		return CD_ERR_NOT_FOUND;
	if (!cd_valid_path_name(file, 63))
		return CD_ERR_INVALID;
	j = new_job(acquire ? J_LEASE_ACQUIRE : J_LEASE_RELEASE);
	if (!j)
		return -ENOMEM;
	cd_strlcpy(j->file, file, sizeof(j->file));
	j->shared = shared;
	j->done = done;
	j->ctx = ctx;
	queue_job(rt, j);
	return 0;
}

int cd_volmgr_host_dead(uint32_t nodeid)
{
	enum cd_slot_seen *seen;
	size_t i;
	int answer;

	if (nodeid == 0 || nodeid > CSVFS_MAX_HOSTS)
		return 0;
	if (vm.n_rts == 0)
		return -1;
	seen = calloc(vm.n_rts, sizeof(*seen));
	if (!seen)
		return 0;
	for (i = 0; i < vm.n_rts; i++) {
		struct rt *rt = vm.rts[i];
		enum csvfs_liveness l;

		pthread_mutex_lock(&rt->lock);
		l = rt->live[nodeid];
		pthread_mutex_unlock(&rt->lock);
		switch (l) {
		case CSVFS_LIVE_UNKNOWN:
			seen[i] = CD_SLOT_UNKNOWN;
			break;
		case CSVFS_LIVE_ALIVE:
			seen[i] = CD_SLOT_ALIVE;
			break;
		case CSVFS_LIVE_DEAD:
			seen[i] = CD_SLOT_DEAD;
			break;
		case CSVFS_LIVE_GONE:
			seen[i] = CD_SLOT_GONE;
			break;
		}
	}
	answer = cd_host_dead_rule(seen, vm.n_rts);
	free(seen);
	return answer;
}

void cd_volmgr_suspend(bool suspend)
{
	size_t i;

	for (i = 0; i < vm.n_rts; i++) {
		struct rt *rt = vm.rts[i];

		pthread_mutex_lock(&rt->lock);
		if (rt->suspend != suspend)
			vol_log(suspend ? LOG_WARNING : LOG_NOTICE, rt->name, "%s",
				suspend ? "releasing the host lease: this node runs nothing now"
					: "joining again");
		rt->suspend = suspend;
		pthread_cond_broadcast(&rt->cond);
		pthread_mutex_unlock(&rt->lock);
		if (suspend) {
			rt->valid = false;
			rt->meta_held = false;
			rt->n_leases = 0;
		}
	}
}

#ifdef CD_TEST_HOOKS
int cd_volmgr_debug_fault(const char *vol, enum cd_volmgr_fault fault)
{
	struct rt *rt = rt_find(vol);

	if (!rt)
		return CD_ERR_NOT_FOUND;
	pthread_mutex_lock(&rt->lock);
	rt->stall = fault == CD_VOLMGR_FAULT_STALL;
	pthread_mutex_unlock(&rt->lock);
	atomic_store(&rt->io_error, fault == CD_VOLMGR_FAULT_ERROR);
	vol_log(LOG_WARNING, vol, "test aid: %s",
		fault == CD_VOLMGR_FAULT_STALL	 ? "host-lease renewals stalled"
		: fault == CD_VOLMGR_FAULT_ERROR ? "every I/O of this node fails (EIO)"
						 : "storage healthy again");
	return 0;
}
#endif

struct json_object *cd_volmgr_local_json(const char *vol)
{
	struct rt *rt = rt_find(vol);
	struct json_object *o, *a;
	struct csvfs_host h;
	uint64_t now = cd_now_ms();
	size_t i;

	if (!rt)
		return NULL;
	pthread_mutex_lock(&rt->lock);
	h = rt->host;
	pthread_mutex_unlock(&rt->lock);
	o = json_object_new_object();
	json_object_object_add(o, "host_slot", json_object_new_int64(cd_membership_local_nodeid()));
	json_object_object_add(o, "host_lease_valid", json_object_new_boolean(rt->valid));
	json_object_object_add(o, "host_generation", json_object_new_int64((int64_t)h.generation));
	json_object_object_add(o, "valid_for_ms",
			       json_object_new_int64(rt->valid && h.valid_until > now
							     ? (int64_t)(h.valid_until - now)
							     : 0));
	json_object_object_add(o, "metadata_lease", json_object_new_boolean(rt->meta_held));
	a = json_object_new_array();
	for (i = 0; i < rt->n_leases; i++)
		json_object_array_add(a, json_object_new_string(rt->leases[i]));
	json_object_object_add(o, "file_leases", a);
	a = json_object_new_array();
	for (i = 0; i < rt->n_exp; i++) {
		struct json_object *e = json_object_new_object();
		char path[PATH_MAX], dev[32];

		link_path(rt, rt->exp[i].name, path, sizeof(path));
		snprintf(dev, sizeof(dev), "/dev/loop%d", rt->exp[i].loop);
		json_object_object_add(e, "file", json_object_new_string(rt->exp[i].name));
		json_object_object_add(e, "path", json_object_new_string(path));
		json_object_object_add(e, "device", json_object_new_string(dev));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "exposed", a);
	return o;
}

int cd_volmgr_probe(const char *device, char *uuid, size_t uuid_len, uint32_t *hosts,
		    uint32_t *expiry_ms, uint32_t *renewal_ms, char *err, size_t errlen)
{
	struct csvfs_disk *d;
	struct csvfs_vol v;
	int rc;

	rc = csvfs_disk_open(device, 1, &d);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open %s: %s", device, cd_strerror(rc));
		return rc == -ENOENT ? CD_ERR_NOT_FOUND : rc;
	}
	rc = csvfs_vol_open(&v, d, &csvfs_env_real);
	if (rc < 0) {
		snprintf(err, errlen, "%s is not a csvfs volume (%s); format it with 'csvfs format'",
			 device, cd_strerror(rc));
		csvfs_disk_close(d);
		return CD_ERR_INVALID;
	}
	{
		char u[37];

		csvfs_uuid_str(v.sb.uuid, u);
		cd_strlcpy(uuid, u, uuid_len);
	}
	*hosts = v.sb.max_hosts;
	*expiry_ms = v.sb.expiry_ms;
	*renewal_ms = v.sb.renewal_ms;
	csvfs_disk_close(d);
	return 0;
}
