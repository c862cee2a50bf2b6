/*
 * The jobs of each volume (volmgr.h): disk work queued by the loop (the
 * metadata lease, file requests, the file list, file leases), carried out
 * in turn by the volume's op thread, and answered on the loop.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "clusterd/timing.h"
#include "clusterd/volmgr_int.h"
#include "lib/util.h"

/* --- the op thread --- */

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
			j->rc = csvfs_file_create(&rt->vol, h, j->req.file, j->req.size, &out,
						  &busy);
			break;
		case CD_VREQ_REMOVE:
			j->rc = csvfs_file_remove(&rt->vol, h, j->req.file, &busy);
			break;
		case CD_VREQ_RESIZE:
			j->rc = csvfs_file_resize(&rt->vol, h, j->req.file, j->req.size, &out,
						  &busy);
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

void *vols_op_thread(void *arg)
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
		joined = cd_host_lease_joined(rt->slot);
		pthread_mutex_unlock(&rt->lock);
		if (!joined || !csvfs_host_valid(&rt->vol, &h)) {
			j->rc = CD_ERR_NOT_JOINED;
			snprintf(j->err, sizeof(j->err),
				 "this node holds no valid host lease on %s", rt->name);
		} else {
			run_job(rt, j, &h);
		}
		vols_post((struct event){EV_JOB_DONE, rt, j, j->rc});
	}
	return NULL;
}

/* --- the loop side --- */

void vols_queue_job(struct rt *rt, struct job *j)
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

struct job *vols_new_job(enum job_type t)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j)
		j->type = t;
	return j;
}

static void lease_list_set(struct rt *rt, const char *file, bool held)
{
	size_t i;
	char(*n)[64];

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

void vols_job_done(struct job *j)
{
	struct rt *rt = j->rt;

	switch (j->type) {
	case J_META_ACQUIRE:
		if (j->rc == 0) {
			vols_meta_event(rt, CD_META_EV_ACQUIRED, NULL);
			rt->refreshed = false;
			vol_log(LOG_NOTICE, rt->name,
				"this node holds the metadata lease: it "
				"coordinates the volume");
		} else {
			vols_meta_event(rt, CD_META_EV_ACQUIRE_FAILED, j->err);
			rt->meta_next_try = cd_now_ms() + CD_META_RETRY_MS;
			vol_log(LOG_INFO, rt->name, "metadata lease not acquired: %s", j->err);
		}
		break;
	case J_META_RELEASE:
		vols_meta_event(rt, CD_META_EV_RELEASED, j->rc ? j->err : NULL);
		break;
	case J_REFRESH:
		vols_meta_event(rt, CD_META_EV_REFRESHED, j->rc ? j->err : NULL);
		if (j->rc == 0) {
			rt->refreshed = true;
			vols_submit_done(rt, 0, 0, NULL, j);
		}
		break;
	case J_FILE_OP:
		vol_log(j->rc ? LOG_WARNING : LOG_NOTICE, rt->name, "file %s %s: %s",
			cd_vreq_op_to_str(j->req.op), j->req.file, j->rc ? j->err : "done");
		if (j->rc == CD_ERR_NOT_JOINED || j->rc == CD_ERR_HELD) {
			/* Not ours to answer: the request stays for the next holder. */
			rt->busy_req = 0;
			vols_meta_event(rt, CD_META_EV_LOST, j->err);
			break;
		}
		vols_submit_done(rt, j->req.id, j->rc, j->rc ? j->err : NULL, j);
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
