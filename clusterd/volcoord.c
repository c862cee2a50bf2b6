/*
 * The coordinator of each volume (volmgr.h): the cluster's coordinator
 * holds the volume's metadata lease, mirrors the disk's file list in the
 * state and carries out the file requests (create, resize, remove)
 * recorded there, one at a time, recording each result.
 */
#include "config.h"

#include <stdio.h>

#include <clusterd/result.h>

#include "core/change.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "clusterd/volmgr_int.h"
#include "lib/util.h"

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

void vols_submit_done(struct rt *rt, uint64_t id, int rc, const char *err, struct job *j)
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
	json_object_object_add(c, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VOLUME_DONE)));
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
		rt->done_retry = cd_now_ms() + CD_VOLUME_DONE_RETRY_MS;
	}
	submit(c, "a file result", rt->name);
}

/* --- decisions, after every state change and every tick --- */

void vols_coordinate(struct rt *rt, const struct cd_volume *v)
{
	uint32_t me = cd_membership_local_nodeid();
	bool want = cd_replica_coordinator() == me;
	struct job *j;

	/* Mid-round there is no coordinator yet: wait rather than hand over. */
	if (rt->host_state != CD_HOST_LEASE_HELD || cd_meta_lease_queued(rt->meta) ||
	    cd_replica_phase() != CD_SYNC_DONE)
		return;
	/* No metadata job is queued: the lease is held or not. */
	if (want && rt->meta == CD_META_LEASE_NOT_HELD) {
		if (cd_now_ms() < rt->meta_next_try)
			return;
		if ((j = vols_new_job(J_META_ACQUIRE))) {
			vols_meta_event(rt, CD_META_EV_ACQUIRE,
					"this node is the cluster's coordinator");
			vols_queue_job(rt, j);
		}
		return;
	}
	if (!want && rt->meta == CD_META_LEASE_HELD && !rt->busy_req) {
		/* The cluster's coordinator moved: hand the volume over. */
		if ((j = vols_new_job(J_META_RELEASE))) {
			vols_meta_event(rt, CD_META_EV_RELEASE, "the cluster's coordinator moved");
			vols_queue_job(rt, j);
		}
		return;
	}
	if (rt->meta != CD_META_LEASE_HELD || !cd_replica_quorate())
		return;
	if (v->coordinator != me && rt->reported_coordinator != me) {
		struct json_object *c = json_object_new_object();

		json_object_object_add(
			c, "op",
			json_object_new_string(cd_change_name(CD_CHANGE_VOLUME_COORDINATOR)));
		json_object_object_add(c, "name", json_object_new_string(rt->name));
		json_object_object_add(c, "node", json_object_new_int64(me));
		submit(c, "the coordinator", rt->name);
		rt->reported_coordinator = me;
	}
	if (!rt->refreshed) {
		/* A new holder mirrors the disk's file list first. */
		if ((j = vols_new_job(J_REFRESH))) {
			vols_meta_event(rt, CD_META_EV_REFRESH, "to mirror the disk's file list");
			vols_queue_job(rt, j);
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
			rt->done_retry = cd_now_ms() + CD_VOLUME_DONE_RETRY_MS;
			submit_keep(rt->done_msg, "a file result", rt->name);
		}
	}
	if (!rt->busy_req && v->n_reqs) {
		if ((j = vols_new_job(J_FILE_OP))) {
			j->req = v->reqs[0];
			rt->busy_req = j->req.id;
			vol_log(LOG_INFO, rt->name, "file %s %s for node %u",
				cd_vreq_op_to_str(j->req.op), j->req.file, j->req.node);
			vols_queue_job(rt, j);
		}
	}
}
