#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <clusterd/result.h>

#include "csvfs/check.h"
#include "csvfs/delta_lease.h"
#include "csvfs/files.h"
#include "csvfs/meta.h"
#include "csvfs/paxos_lease.h"

struct checker {
	struct csvfs_vol *v;
	void (*found)(void *ctx, enum csvfs_finding kind, const char *where, const char *msg);
	void *ctx;
	struct csvfs_check_counts *counts;
};

static void report(struct checker *c, enum csvfs_finding kind, const char *where, const char *msg)
{
	if (kind == CSVFS_FINDING_DAMAGE)
		c->counts->damage++;
	else
		c->counts->notes++;
	if (c->found)
		c->found(c->ctx, kind, where, msg);
}

/* A record's status: never written and valid are fine, the rest is damage. */
static void record(struct checker *c, int status, const char *where, const char *what)
{
	char msg[160];

	if (status == 0 || status == -ENODATA)
		return;
	snprintf(msg, sizeof(msg), "%s: %s", what,
		 status == CD_ERR_VERSION ? "unsupported version" : "checksum or format error");
	report(c, CSVFS_FINDING_DAMAGE, where, msg);
}

static int check_hosts(struct checker *c)
{
	struct csvfs_host_rec r;
	char where[32];
	uint32_t slot;
	int rc;

	for (slot = 1; slot <= c->v->sb.max_hosts; slot++) {
		rc = csvfs_host_read(c->v, slot, &r);
		if (rc < 0 && rc != -ENODATA && rc != CD_ERR_CORRUPT && rc != CD_ERR_VERSION)
			return rc;
		snprintf(where, sizeof(where), "host %u", slot);
		record(c, rc, where, "host-lease sector");
	}
	return 0;
}

static int check_leases(struct checker *c)
{
	struct csvfs_lease_state *st = malloc(sizeof(*st));
	char where[32], what[48];
	uint32_t lease, q;
	int rc = 0;

	if (!st)
		return -ENOMEM;
	for (lease = 0; lease <= c->v->sb.max_files && rc == 0; lease++) {
		rc = csvfs_lease_inspect(c->v, lease, st);
		if (rc < 0)
			break;
		snprintf(where, sizeof(where), "lease %u", lease);
		record(c, st->leader_status, where, "leader record");
		for (q = 1; q <= c->v->sb.max_hosts; q++) {
			snprintf(what, sizeof(what), "ballot sector of host %u", q);
			record(c, st->status[q - 1], where, what);
		}
	}
	free(st);
	return rc;
}

static void file_problem(void *ctx, const char *msg)
{
	struct checker *c = ctx;

	report(c, CSVFS_FINDING_DAMAGE, "metadata", msg);
}

static int check_meta(struct checker *c)
{
	struct csvfs_meta_found found;
	struct csvfs_meta m;
	char msg[160];
	int rc, i, newest;

	rc = csvfs_meta_init(&m, c->v->sb.max_files);
	if (rc < 0)
		return rc;
	rc = csvfs_meta_read(c->v, &m, &found);
	if (rc == CD_ERR_CORRUPT) {
		report(c, CSVFS_FINDING_DAMAGE, "metadata", "no valid copy: the namespace is lost");
		rc = 0;
		goto out_free_meta;
	}
	if (rc < 0)
		goto out_free_meta;
	newest = m.copy;
	for (i = 0; i < 2; i++) {
		if (i == newest || found.status[i] == 0 || found.status[i] == -ENODATA)
			continue;
		/* The older copy is the one an interrupted update was writing. */
		snprintf(msg, sizeof(msg),
			 "copy %c is not valid (an interrupted update; the next one rewrites it), "
			 "copy %c (generation %" PRIu64 ") is in use",
			 'A' + i, 'A' + newest, m.generation);
		report(c, CSVFS_FINDING_NOTE, "metadata", msg);
	}
	rc = csvfs_files_verify(&m, &c->v->sb, file_problem, c);
	if (rc > 0)
		rc = 0;
out_free_meta:
	csvfs_meta_free(&m);
	return rc;
}

int csvfs_check(struct csvfs_vol *v,
		void (*found)(void *ctx, enum csvfs_finding kind, const char *where,
			      const char *msg),
		void *ctx, struct csvfs_check_counts *counts)
{
	struct checker c = {v, found, ctx, counts};
	char msg[160];
	int rc;

	counts->damage = counts->notes = 0;
	if (v->disk->size > v->sb.device_size) {
		snprintf(msg, sizeof(msg),
			 "the device (%" PRIu64 " bytes) is larger than the volume (%" PRIu64 ")",
			 v->disk->size, v->sb.device_size);
		report(&c, CSVFS_FINDING_NOTE, "superblock", msg);
	}
	rc = check_hosts(&c);
	if (rc == 0)
		rc = check_leases(&c);
	if (rc == 0)
		rc = check_meta(&c);
	return rc;
}
