/*
 * What the files of the volume manager share (volmgr.h is its interface).
 * Not installed.
 *
 *   volmgr.c     the interface, init/fini, the loop's event pipe and tick,
 *                cd_volmgr_state_changed(), the volumes' start and stop
 *   hostlease.c  the renew thread of each volume (join, renew, watch the
 *                other hosts' slots) and the loop's answer to a lapse
 *   voljobs.c    the op thread of each volume: its job queue (metadata
 *                lease, file requests, file leases) and each job's answer
 *                on the loop
 *   volcoord.c   the volume's coordinator: the metadata lease, the file
 *                requests, their results in the state
 *   volfiles.c   every file of a volume exposed as a loop device at
 *                RUN_DIR/VOLUME/FILE
 *
 * Each volume has two threads (renew, op); they tell the loop through one
 * pipe (vols_post()).
 *
 * The leases' states follow the tables of leasestate.h. Who moves which:
 *   slot        the renew thread, under lock (joined, expired, release,
 *               leave); read by the op thread. Not logged: the threads
 *               never log, the loop logs host_state's moves instead.
 *               Expired also when the loop declared the lapse first
 *               (lapsed_generation): the thread joins anew, and its
 *               EV_JOINED takes the loop's record from lapsed to held.
 *   host_state  the loop (vols_host_event()): joined when the thread's
 *               EV_JOINED arrives, expired when it sees valid_until pass,
 *               release and resume as cd_volmgr_suspend() asks.
 *   meta        the loop (vols_meta_event()): as it queues the metadata
 *               jobs and takes their answers, lost when the host lease is.
 * suspend and keep_slot are not states but the loop's orders to the renew
 * thread, which makes the slot's transitions they call for.
 */
#ifndef CD_VOLMGR_INT_H
#define CD_VOLMGR_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "core/leasestate.h"
#include "clusterd/volmgr.h"
#include "core/volume.h"
#include "csvfs/csvfs.h"
#include "lib/histogram.h"

#define vol_log(prio, vol, fmt, ...) qb_log(prio, "volume %s: " fmt, vol, ##__VA_ARGS__)

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
	struct cd_vreq req; /* J_FILE_OP */
	char file[64];	    /* J_LEASE_* */
	bool shared;
	cd_volmgr_done_fn done; /* J_LEASE_* */
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
	bool stop; /* under lock */
#ifdef CD_TEST_HOOKS
	bool stall;	      /* under lock: a test's stuck storage */
	atomic_bool io_error; /* a test's failing storage: every I/O fails (EIO) */
#endif
	uint32_t self_id;	    /* this node's id: its host slot (never 0) */
	char owner[CSVFS_NAME_LEN]; /* this node's name, written in its slot */
	bool suspend;		    /* under lock: the loop's order: release, do not rejoin */
	bool keep_slot;		    /* under lock: the loop's order: stop without releasing */
	/* Every other host's slot, watched continuously so that a dead host
	 * is known dead as soon as its lease has expired, not E later. */
	struct csvfs_watch watch[CSVFS_MAX_HOSTS + 1];
	enum csvfs_liveness live[CSVFS_MAX_HOSTS + 1]; /* under lock */
	/* under lock: when each slot was last seen to change (renewed); 0 never,
	 * or dead or gone since; and the volume's lease expiry, for how recent */
	uint64_t renewed_ms[CSVFS_MAX_HOSTS + 1];
	uint64_t watch_expiry_ms;
	struct job *queue;	       /* under lock */
	struct csvfs_host host;	       /* under lock: the renew thread updates it */
	enum cd_host_lease_state slot; /* under lock: the renew thread's record */
	/*
	 * Under lock: the renewals since clusterd started (the metrics), how
	 * many failed, and what they took (every one timed, failed or not),
	 * in microseconds: a histogram over cd_hist_renew_us, the longest and
	 * the last.
	 */
	uint64_t renewals, renew_failures;
	struct cd_hist renew_us;
	uint64_t renew_us_max, renew_us_last;
	/*
	 * Under lock: the loop's word that it declared this generation of the
	 * host lease lapsed and voided its leases (0 for none). The renew
	 * thread then ends that incarnation even if a renewal came through.
	 */
	uint64_t lapsed_generation;
	struct csvfs_disk *disk;
	struct csvfs_vol vol;
	bool opened;
	int threads;

	/* Loop side only. */
	enum cd_host_lease_state host_state; /* the host lease as far as the loop knows */
	enum cd_meta_lease_state meta;
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

struct waiter; /* volmgr.c */

/* The volume manager's one global: this node's volumes and the loop's side. */
struct volmgr {
	qb_loop_t *loop;
	char run_dir[256];
	int pipe[2];
	struct rt **rts;
	size_t n_rts;
	struct waiter *waiters;
	qb_loop_timer_handle timer;
	void (*lost)(const char *vol, const char *dir, cd_volmgr_off_fn off, void *ctx);
};
extern struct volmgr vols;

/* volmgr.c: tell the loop, through the pipe (from any thread). */
void vols_post(struct event ev);
/* volmgr.c: on the loop, event ev on rt's host_state, or meta; why may be NULL. */
void vols_host_event(struct rt *rt, enum cd_host_lease_event ev, const char *why);
void vols_meta_event(struct rt *rt, enum cd_meta_lease_event ev, const char *why);

/* hostlease.c: the renew thread (pthread_create's start routine, arg a struct rt). */
void *vols_renew_thread(void *arg);
/* hostlease.c: on the loop, rt's host lease lapsed: its leases are void (lost is called). */
void vols_drop_leases(struct rt *rt, const char *why);

/* voljobs.c: the op thread (pthread_create's start routine, arg a struct rt). */
void *vols_op_thread(void *arg);
/* voljobs.c: hand j to rt's op thread; vols_job_done() gets it back on the loop. */
void vols_queue_job(struct rt *rt, struct job *j);
/* voljobs.c: a new job of type t, or NULL. */
struct job *vols_new_job(enum job_type t);
/* voljobs.c: on the loop, j's result; frees j. */
void vols_job_done(struct job *j);

/* volcoord.c: record the result of file request id (0 for none) and the disk's file list. */
void vols_submit_done(struct rt *rt, uint64_t id, int rc, const char *err, struct job *j);
/* volcoord.c: the metadata lease and the file requests of v, as the state says now. */
void vols_coordinate(struct rt *rt, const struct cd_volume *v);

/* volfiles.c: RUN_DIR/VOLUME/FILE for file of rt's volume. */
void vols_link_path(const struct rt *rt, const char *file, char *buf, size_t n);
/* volfiles.c: no file of rt's volume exposed any more. */
void vols_unexpose_all(struct rt *rt);
/* volfiles.c: expose v's files, and only those (none before the device proved to hold v). */
void vols_reconcile_files(struct rt *rt, const struct cd_volume *v);

#endif
