/*
 * The states of this node's leases on a shared volume, as tables: its host
 * lease (the slot it renews) and the volume's metadata lease (held by the
 * cluster's coordinator). Pure: the volume manager (volmgr_int.h) keeps the
 * states and says which thread makes which transition; this module only
 * knows which transitions exist, and logs through the caller's function.
 *
 * Host lease. One table serves two records of it: the renew thread's (the
 * slot on disk) and the loop's (what the loop knows, later, through the
 * pipe). Either may lag the other, so the table also takes the events a
 * lagging record sees (a join reported to a loop that thinks the lease is
 * still held, a join after a release the loop asked for).
 *
 *   joining --joined--> held --expired--> lapsed --joined--> held
 *   held --release--> released --resume--> joining     (this node runs nothing)
 *   held --leave--> left to lapse                       (VMs may still run)
 *
 * Metadata lease, on the loop only. Its jobs run on the volume's op thread
 * in order, one at a time; "lost" is the host lease's lapse (or suspend, or
 * a job refused for want of it) voiding a lease whose job is still queued:
 *
 *   not held --acquire--> acquiring --acquired--> held
 *                         acquiring --acquire failed--> not held
 *   held --refresh--> refreshing --refreshed--> held
 *   held --release--> releasing --released--> not held
 *   held --lost--> not held;  refreshing, releasing --lost--> void, job queued
 *   void, job queued --refreshed or released--> not held
 */
#ifndef CD_LEASESTATE_H
#define CD_LEASESTATE_H

#include <stdbool.h>

enum cd_host_lease_state {
	CD_HOST_LEASE_JOINING,	/* not joined: the renew thread is joining */
	CD_HOST_LEASE_HELD,	/* joined and renewed */
	CD_HOST_LEASE_LAPSED,	/* expired (storage lost, renewals stuck): join anew */
	CD_HOST_LEASE_RELEASED, /* given up on purpose: this node runs nothing */
	CD_HOST_LEASE_LEFT,	/* the thread stopped and left the slot to lapse */
};
#define CD_HOST_LEASE_N_STATES (CD_HOST_LEASE_LEFT + 1)

enum cd_host_lease_event {
	CD_HOST_EV_JOINED,
	CD_HOST_EV_EXPIRED,
	CD_HOST_EV_RELEASE,
	CD_HOST_EV_RESUME,
	CD_HOST_EV_LEAVE,
};
#define CD_HOST_EV_N (CD_HOST_EV_LEAVE + 1)

enum cd_meta_lease_state {
	CD_META_LEASE_NOT_HELD,
	CD_META_LEASE_ACQUIRING,
	CD_META_LEASE_HELD,
	CD_META_LEASE_REFRESHING, /* held; the disk's file list is being read */
	CD_META_LEASE_RELEASING,
	CD_META_LEASE_VOID_QUEUED, /* lost while a refresh or release was queued */
};
#define CD_META_LEASE_N_STATES (CD_META_LEASE_VOID_QUEUED + 1)

enum cd_meta_lease_event {
	CD_META_EV_ACQUIRE,
	CD_META_EV_ACQUIRED,
	CD_META_EV_ACQUIRE_FAILED,
	CD_META_EV_REFRESH,
	CD_META_EV_REFRESHED,
	CD_META_EV_RELEASE,
	CD_META_EV_RELEASED,
	CD_META_EV_LOST,
};
#define CD_META_EV_N (CD_META_EV_LOST + 1)

/* Names for logs and JSON; "unknown" out of range. */
const char *cd_host_lease_state_to_str(enum cd_host_lease_state s);
const char *cd_host_lease_event_to_str(enum cd_host_lease_event ev);
const char *cd_meta_lease_state_to_str(enum cd_meta_lease_state s);
const char *cd_meta_lease_event_to_str(enum cd_meta_lease_event ev);
/* The enum named s: 0, or CD_ERR_INVALID (out untouched). */
int cd_host_lease_state_from_str(const char *s, enum cd_host_lease_state *out);
int cd_host_lease_event_from_str(const char *s, enum cd_host_lease_event *out);
int cd_meta_lease_state_from_str(const char *s, enum cd_meta_lease_state *out);
int cd_meta_lease_event_from_str(const char *s, enum cd_meta_lease_event *out);

/* Whether the renew thread's slot is joined on disk in s: held, or left to lapse. */
bool cd_host_lease_joined(enum cd_host_lease_state s);

/* Whether this node holds the metadata lease in s (held, refreshing, releasing). */
bool cd_meta_lease_held(enum cd_meta_lease_state s);
/* Whether a metadata-lease job of this node is queued in s. */
bool cd_meta_lease_queued(enum cd_meta_lease_state s);

/* Takes one log line (without a newline) at a syslog priority. */
typedef void cd_lease_log_fn(void *ctx, int prio, const char *line);

/*
 * Event ev on volume vol's lease in *state. A transition sets *state and is
 * logged at LOG_INFO ("volume VOL: host lease: joining -> held (why)"; why
 * may be NULL) and returns 1. An event the state takes without a change
 * returns 0, silently. An impossible event is logged at LOG_WARNING, changes
 * nothing and returns CD_ERR_INVALID. log may be NULL: nothing is logged.
 */
int cd_host_lease_transition(enum cd_host_lease_state *state, enum cd_host_lease_event ev,
			     const char *vol, const char *why, cd_lease_log_fn *log, void *ctx);
int cd_meta_lease_transition(enum cd_meta_lease_state *state, enum cd_meta_lease_event ev,
			     const char *vol, const char *why, cd_lease_log_fn *log, void *ctx);

#endif
