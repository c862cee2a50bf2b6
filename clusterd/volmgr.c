/*
 * This node's side of the cluster shared volumes (volmgr.h): the interface,
 * the loop's event pipe and tick, and each volume's start and stop. The
 * rest is in the files volmgr_int.h lists.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "core/deadrule.h"
#include "clusterd/events.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "clusterd/volmgr_int.h"
#include "csvfs/csvfs.h"
#include "lib/looptimer.h"
#include "lib/util.h"

struct waiter {
	struct waiter *next;
	char vol[64];
	uint64_t id;
	uint64_t deadline;
	cd_volmgr_done_fn done;
	void *ctx;
};

struct volmgr vols = {.pipe = {-1, -1}};

void vols_post(struct event ev)
{
	ssize_t n;

	do {
		n = write(vols.pipe[1], &ev, sizeof(ev));
	} while (n < 0 && errno == EINTR);
}

/* --- the loop side --- */

/* The lease tables' log (leasestate.h), on the loop. */
static void log_line(void *ctx, int prio, const char *line)
{
	qb_log(prio, "%s", line);
}

void vols_host_event(struct rt *rt, enum cd_host_lease_event ev, const char *why)
{
	cd_host_lease_transition(&rt->host_state, ev, rt->name, why, log_line, NULL);
}

void vols_meta_event(struct rt *rt, enum cd_meta_lease_event ev, const char *why)
{
	cd_meta_lease_transition(&rt->meta, ev, rt->name, why, log_line, NULL);
}

static int32_t pipe_cb(int32_t fd, int32_t revents, void *data)
{
	struct event ev;

	while (read(fd, &ev, sizeof(ev)) == (ssize_t)sizeof(ev)) {
		struct rt *rt = ev.rt;

		switch (ev.kind) {
		case EV_JOB_DONE:
			vols_job_done(ev.job);
			break;
		case EV_JOINED: {
			char why[32];

			snprintf(why, sizeof(why), "joined slot %u", cd_membership_local_nodeid());
			vols_host_event(rt, CD_HOST_EV_JOINED, why);
			rt->last_join_rc = 0;
			vol_log(LOG_NOTICE, rt->name,
				"joined host slot %u (renewal every %u ms, "
				"expiry %u ms)",
				cd_membership_local_nodeid(), rt->vol.timing.renewal_ms,
				rt->vol.timing.expiry_ms);
			break;
		}
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
					cd_membership_local_nodeid(), rt->device,
					cd_strerror(ev.rc));
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

	for (i = 0; i < vols.n_rts; i++) {
		struct rt *rt = vols.rts[i];
		uint64_t until;
		bool usable;

		pthread_mutex_lock(&rt->lock);
		usable = rt->uuid_ok;
		until = rt->suspend ? 0 : rt->host.valid_until;
		pthread_mutex_unlock(&rt->lock);
		/* Also the moment before the tick that notices the end. */
		if (usable && (rt->host_state != CD_HOST_LEASE_HELD || cd_now_ms() >= until)) {
			if (lacking)
				cd_strlcpy(lacking, rt->name, len);
			return false;
		}
	}
	return true;
}

bool cd_volmgr_host_ready(uint32_t nodeid, char *lacking, size_t len)
{
	size_t i;

	if (nodeid == cd_membership_local_nodeid())
		return cd_volmgr_leases_held(lacking, len);
	if (nodeid == 0 || nodeid > CSVFS_MAX_HOSTS)
		return false;
	for (i = 0; i < vols.n_rts; i++) {
		struct rt *rt = vols.rts[i];
		bool usable, alive;

		/* Renewed within the expiry time: its slot changed since then. */
		pthread_mutex_lock(&rt->lock);
		usable = rt->uuid_ok;
		alive = rt->renewed_ms[nodeid] &&
			cd_now_ms() < rt->renewed_ms[nodeid] + rt->watch_expiry_ms;
		pthread_mutex_unlock(&rt->lock);
		if (usable && !alive) {
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

	for (i = 0; i < vols.n_rts; i++)
		if (strcmp(vols.rts[i]->name, name) == 0)
			return vols.rts[i];
	return NULL;
}

int cd_volmgr_host_sees(const char *vol, uint32_t nodeid)
{
	struct rt *rt = rt_find(vol);
	bool usable, alive, self = nodeid == cd_membership_local_nodeid();
	uint64_t until;

	if (!rt || nodeid == 0 || nodeid > CSVFS_MAX_HOSTS)
		return self ? 0 : -1;
	pthread_mutex_lock(&rt->lock);
	usable = rt->uuid_ok;
	until = rt->suspend ? 0 : rt->host.valid_until;
	alive = rt->renewed_ms[nodeid] &&
		cd_now_ms() < rt->renewed_ms[nodeid] + rt->watch_expiry_ms;
	pthread_mutex_unlock(&rt->lock);
	if (self)
		return usable && rt->host_state == CD_HOST_LEASE_HELD && cd_now_ms() < until;
	if (!usable)
		return -1;
	return alive;
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
	cd_hist_init(&rt->renew_us, &cd_hist_renew_us);
	cd_strlcpy(rt->owner, self.name, sizeof(rt->owner));
	n = realloc(vols.rts, (vols.n_rts + 1) * sizeof(*n));
	if (!n) {
		free(rt);
		return NULL;
	}
	vols.rts = n;
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
	if (pthread_create(&rt->renew_thread, NULL, vols_renew_thread, rt) == 0)
		rt->threads++;
	if (pthread_create(&rt->op_thread, NULL, vols_op_thread, rt) == 0)
		rt->threads++;
	vols.rts[vols.n_rts++] = rt;
	vol_log(LOG_NOTICE, rt->name, "using %s", rt->device);
	return rt;
}

static void rt_stop(struct rt *rt)
{
	size_t i;

	pthread_mutex_lock(&rt->lock);
	rt->stop = true;
	pthread_cond_broadcast(&rt->cond);
	pthread_mutex_unlock(&rt->lock);
	pthread_join(rt->renew_thread, NULL);
	pthread_join(rt->op_thread, NULL);
	vols_unexpose_all(rt);
	if (rt->disk)
		csvfs_disk_close(rt->disk);
	for (i = 0; i < vols.n_rts; i++)
		if (vols.rts[i] == rt) {
			vols.rts[i] = vols.rts[--vols.n_rts];
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

/* --- decisions, after every state change and every tick --- */

static void answer_waiters(void)
{
	const struct cd_state *s = cd_replica_state();
	struct waiter **pp = &vols.waiters, *w;
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

	for (i = 0; i < vols.n_rts; i++)
		vols.rts[i]->seen = false;
	for (i = 0; i < s->n_volumes; i++) {
		const struct cd_volume *v = &s->volumes[i];
		struct rt *rt = rt_find(v->name);

		if (!rt)
			rt = rt_start(v);
		if (!rt)
			continue;
		rt->seen = true;
		/* The loop's own watch: validity passes even if renewals hang. */
		if (rt->host_state == CD_HOST_LEASE_HELD) {
			struct csvfs_host h;

			pthread_mutex_lock(&rt->lock);
			h = rt->host;
			pthread_mutex_unlock(&rt->lock);
			if (h.valid_until && now >= h.valid_until && !rt->suspend) {
				vols_host_event(rt, CD_HOST_EV_EXPIRED,
						"storage lost or renewals stuck");
				vols_drop_leases(
					rt, "host lease expired (storage lost or renewals stuck)");
			}
		}
		vols_coordinate(rt, v);
		vols_reconcile_files(rt, v);
	}
	for (i = 0; i < vols.n_rts;) {
		if (!vols.rts[i]->seen) {
			vol_log(LOG_NOTICE, vols.rts[i]->name, "removed from the cluster");
			rt_stop(vols.rts[i]);
			continue;
		}
		i++;
	}
	answer_waiters();
}

/* Every CD_VOLMGR_TICK_MS, and exactly when a host lease's validity ends. */
static void tick(void *data)
{
	uint64_t now, next = CD_VOLMGR_TICK_MS;
	size_t i;

	cd_volmgr_state_changed();
	now = cd_now_ms();
	for (i = 0; i < vols.n_rts; i++) {
		struct rt *rt = vols.rts[i];
		uint64_t until;

		if (rt->host_state != CD_HOST_LEASE_HELD)
			continue;
		pthread_mutex_lock(&rt->lock);
		until = rt->suspend ? 0 : rt->host.valid_until;
		pthread_mutex_unlock(&rt->lock);
		if (until >= now && until - now + 1 < next)
			next = until - now + 1;
	}
	cd_timer_add(vols.loop, QB_LOOP_HIGH, next * 1000000ull, NULL, tick, &vols.timer);
}

int cd_volmgr_init(qb_loop_t *loop, const char *run_dir,
		   void (*lost)(const char *vol, const char *dir, cd_volmgr_off_fn off, void *ctx))
{
	vols.loop = loop;
	vols.lost = lost;
	cd_strlcpy(vols.run_dir, run_dir, sizeof(vols.run_dir));
	if (pipe2(vols.pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	qb_loop_poll_add(loop, QB_LOOP_MED, vols.pipe[0], POLLIN, NULL, pipe_cb);
	return cd_timer_add(loop, QB_LOOP_MED, CD_VOLMGR_TICK_MS * 1000000ull, NULL, tick,
			    &vols.timer);
}

void cd_volmgr_fini(bool release)
{
	size_t i;

	/* The renew threads leave their slots (left to lapse) or release them. */
	for (i = 0; i < vols.n_rts; i++) {
		pthread_mutex_lock(&vols.rts[i]->lock);
		vols.rts[i]->keep_slot = !release;
		pthread_mutex_unlock(&vols.rts[i]->lock);
	}
	while (vols.n_rts)
		rt_stop(vols.rts[vols.n_rts - 1]);
	free(vols.rts);
	vols.rts = NULL;
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
	w->next = vols.waiters;
	vols.waiters = w;
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
	j = vols_new_job(acquire ? J_LEASE_ACQUIRE : J_LEASE_RELEASE);
	if (!j)
		return -ENOMEM;
	cd_strlcpy(j->file, file, sizeof(j->file));
	j->shared = shared;
	j->done = done;
	j->ctx = ctx;
	vols_queue_job(rt, j);
	return 0;
}

static enum cd_slot_seen slot_seen(enum csvfs_liveness l)
{
	switch (l) {
	case CSVFS_LIVE_UNKNOWN:
		return CD_SLOT_UNKNOWN;
	case CSVFS_LIVE_ALIVE:
		return CD_SLOT_ALIVE;
	case CSVFS_LIVE_DEAD:
		return CD_SLOT_DEAD;
	case CSVFS_LIVE_GONE:
		return CD_SLOT_GONE;
	case CSVFS_LIVE_FREE:
		return CD_SLOT_NEVER;
	}
	return CD_SLOT_UNKNOWN;
}

int cd_volmgr_host_dead(uint32_t nodeid)
{
	enum cd_slot_seen *seen;
	size_t i;
	int answer;

	if (nodeid == 0 || nodeid > CSVFS_MAX_HOSTS)
		return 0;
	if (vols.n_rts == 0)
		return -1;
	seen = calloc(vols.n_rts, sizeof(*seen));
	if (!seen)
		return 0;
	for (i = 0; i < vols.n_rts; i++) {
		struct rt *rt = vols.rts[i];
		enum csvfs_liveness l;

		pthread_mutex_lock(&rt->lock);
		l = rt->live[nodeid];
		pthread_mutex_unlock(&rt->lock);
		seen[i] = slot_seen(l);
	}
	answer = cd_host_dead_rule(seen, vols.n_rts);
	free(seen);
	return answer;
}

size_t cd_volmgr_host_slots(uint32_t nodeid, struct cd_slot_view *out, size_t max)
{
	uint64_t now = cd_now_ms();
	size_t i, n = 0;

	if (nodeid == 0 || nodeid > CSVFS_MAX_HOSTS)
		return 0;
	for (i = 0; i < vols.n_rts && n < max; i++) {
		struct rt *rt = vols.rts[i];
		struct cd_slot_view *v = &out[n++];
		uint64_t renewed, expiry;

		memset(v, 0, sizeof(*v));
		cd_strlcpy(v->volume, rt->name, sizeof(v->volume));
		pthread_mutex_lock(&rt->lock);
		v->seen = slot_seen(rt->live[nodeid]);
		renewed = rt->renewed_ms[nodeid];
		expiry = rt->watch_expiry_ms;
		pthread_mutex_unlock(&rt->lock);
		if (v->seen != CD_SLOT_ALIVE && v->seen != CD_SLOT_UNKNOWN)
			continue;
		/* Not seen renewed since this node watches: at most the expiry time. */
		if (!renewed)
			v->expires_in_ms = expiry;
		else if (now < renewed + expiry)
			v->expires_in_ms = renewed + expiry - now;
	}
	return n;
}

void cd_volmgr_suspend(bool suspend)
{
	size_t i;

	for (i = 0; i < vols.n_rts; i++) {
		struct rt *rt = vols.rts[i];
		bool resume;

		pthread_mutex_lock(&rt->lock);
		if (rt->suspend != suspend)
			vol_log(suspend ? LOG_WARNING : LOG_NOTICE, rt->name, "%s",
				suspend ? "releasing the host lease: this node runs nothing now"
					: "joining again");
		resume = rt->suspend && !suspend;
		rt->suspend = suspend;
		pthread_cond_broadcast(&rt->cond);
		pthread_mutex_unlock(&rt->lock);
		/* The renew thread releases its slot, or joins again, on its own. */
		if (suspend) {
			vols_host_event(rt, CD_HOST_EV_RELEASE, "this node runs nothing now");
			vols_meta_event(rt, CD_META_EV_LOST, "the host lease is released");
			rt->n_leases = 0;
		} else if (resume) {
			vols_host_event(rt, CD_HOST_EV_RESUME, NULL);
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
	struct json_object *o, *a, *lat;
	struct csvfs_host h;
	uint64_t now = cd_now_ms(), renewals, failures;
	size_t i;

	if (!rt)
		return NULL;
	pthread_mutex_lock(&rt->lock);
	h = rt->host;
	renewals = rt->renewals;
	failures = rt->renew_failures;
	/* The histogram's sum, count and buckets, with the last and the longest. */
	lat = cd_hist_to_json(&rt->renew_us);
	json_object_object_add(lat, "last", json_object_new_int64((int64_t)rt->renew_us_last));
	json_object_object_add(lat, "max", json_object_new_int64((int64_t)rt->renew_us_max));
	pthread_mutex_unlock(&rt->lock);
	o = json_object_new_object();
	/* Since clusterd started: the metrics' counters. */
	json_object_object_add(o, "renewals", json_object_new_int64((int64_t)renewals));
	json_object_object_add(o, "renew_failures", json_object_new_int64((int64_t)failures));
	json_object_object_add(o, "renew_latency_us", lat);
	json_object_object_add(o, "host_slot", json_object_new_int64(cd_membership_local_nodeid()));
	json_object_object_add(o, "host_lease_valid",
			       json_object_new_boolean(rt->host_state == CD_HOST_LEASE_HELD));
	json_object_object_add(o, "host_lease_state",
			       json_object_new_string(cd_host_lease_state_to_str(rt->host_state)));
	json_object_object_add(o, "host_generation", json_object_new_int64((int64_t)h.generation));
	json_object_object_add(
		o, "valid_for_ms",
		json_object_new_int64(rt->host_state == CD_HOST_LEASE_HELD && h.valid_until > now
					      ? (int64_t)(h.valid_until - now)
					      : 0));
	json_object_object_add(o, "metadata_lease",
			       json_object_new_boolean(cd_meta_lease_held(rt->meta)));
	json_object_object_add(o, "metadata_lease_state",
			       json_object_new_string(cd_meta_lease_state_to_str(rt->meta)));
	a = json_object_new_array();
	for (i = 0; i < rt->n_leases; i++)
		json_object_array_add(a, json_object_new_string(rt->leases[i]));
	json_object_object_add(o, "file_leases", a);
	a = json_object_new_array();
	for (i = 0; i < rt->n_exp; i++) {
		struct json_object *e = json_object_new_object();
		char path[PATH_MAX], dev[32];

		vols_link_path(rt, rt->exp[i].name, path, sizeof(path));
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
		snprintf(err, errlen,
			 "%s is not a csvfs volume (%s); format it with 'csvfs format'", device,
			 cd_strerror(rc));
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
