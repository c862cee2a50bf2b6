/* Live migration and what goes with it (migrate.h). */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <clusterd/result.h>

#include "agents/migrate.h"
#include "agents/vm_agent.h"
#include "lib/util.h"

/* --- pure --- */

int cd_migrate_build(const struct cd_migrate_params *p, virTypedParameterPtr *params, int *nparams,
		     unsigned int *flags)
{
	int max = 0, rc = 0;

	*params = NULL;
	*nparams = 0;
	*flags = VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_ABORT_ON_ERROR;
	if (p->auto_converge)
		*flags |= VIR_MIGRATE_AUTO_CONVERGE;
	if (p->tls)
		*flags |= VIR_MIGRATE_TLS;
	if (p->parallel > 1)
		*flags |= VIR_MIGRATE_PARALLEL;
	if (p->postcopy)
		*flags |= VIR_MIGRATE_POSTCOPY;
	if (p->migrate_uri[0])
		rc = virTypedParamsAddString(params, nparams, &max, VIR_MIGRATE_PARAM_URI,
					     p->migrate_uri);
	if (rc == 0 && p->bandwidth_mib > 0)
		rc = virTypedParamsAddULLong(params, nparams, &max, VIR_MIGRATE_PARAM_BANDWIDTH,
					     p->bandwidth_mib);
	if (rc == 0 && p->parallel > 1)
		rc = virTypedParamsAddInt(params, nparams, &max,
					  VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, (int)p->parallel);
	if (rc < 0) {
		virTypedParamsFree(*params, *nparams);
		*params = NULL;
		*nparams = 0;
		return -ENOMEM;
	}
	return 0;
}

/* A typed parameter's value as a number: 1, or 0 if params has none such. */
static int param_number(virTypedParameterPtr params, int n, const char *name, long long *v)
{
	virTypedParameterPtr t = virTypedParamsGet(params, n, name);

	if (!t)
		return 0;
	switch (t->type) {
	case VIR_TYPED_PARAM_INT:
		*v = t->value.i;
		return 1;
	case VIR_TYPED_PARAM_UINT:
		*v = t->value.ui;
		return 1;
	case VIR_TYPED_PARAM_LLONG:
		*v = t->value.l;
		return 1;
	case VIR_TYPED_PARAM_ULLONG:
		*v = (long long)t->value.ul;
		return 1;
	default:
		return 0; /* double, boolean, string: none of ours */
	}
}

/* libvirt's job type (virDomainJobType) as a word. */
static const char *job_type_word(int type)
{
	static const char *const words[] = {
		[VIR_DOMAIN_JOB_NONE] = "none",		  [VIR_DOMAIN_JOB_BOUNDED] = "bounded",
		[VIR_DOMAIN_JOB_UNBOUNDED] = "unbounded", [VIR_DOMAIN_JOB_COMPLETED] = "completed",
		[VIR_DOMAIN_JOB_FAILED] = "failed",	  [VIR_DOMAIN_JOB_CANCELLED] = "cancelled",
	};

	return type >= 0 && (size_t)type < sizeof(words) / sizeof(words[0]) ? words[type]
									    : "unknown";
}

/* What started the job (virDomainJobOperation) as a word. */
static const char *job_operation_word(long long op)
{
	static const char *const words[] = {
		[VIR_DOMAIN_JOB_OPERATION_UNKNOWN] = "unknown",
		[VIR_DOMAIN_JOB_OPERATION_START] = "start",
		[VIR_DOMAIN_JOB_OPERATION_SAVE] = "save",
		[VIR_DOMAIN_JOB_OPERATION_RESTORE] = "restore",
		[VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN] = "migration-in",
		[VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT] = "migration-out",
		[VIR_DOMAIN_JOB_OPERATION_SNAPSHOT] = "snapshot",
		[VIR_DOMAIN_JOB_OPERATION_SNAPSHOT_REVERT] = "snapshot-revert",
		[VIR_DOMAIN_JOB_OPERATION_DUMP] = "dump",
		[VIR_DOMAIN_JOB_OPERATION_BACKUP] = "backup",
		[VIR_DOMAIN_JOB_OPERATION_SNAPSHOT_DELETE] = "snapshot-delete",
	};

	return op >= 0 && (size_t)op < sizeof(words) / sizeof(words[0]) ? words[op] : "unknown";
}

char *cd_job_stats_json(int type, virTypedParameterPtr params, int nparams)
{
	/* Ours, libvirt's: copied as they are when libvirt gives them. */
	static const struct {
		const char *key, *param;
	} fields[] = {
		{"time_elapsed_ms", VIR_DOMAIN_JOB_TIME_ELAPSED},
		{"time_remaining_ms", VIR_DOMAIN_JOB_TIME_REMAINING},
		{"data_total", VIR_DOMAIN_JOB_DATA_TOTAL},
		{"data_processed", VIR_DOMAIN_JOB_DATA_PROCESSED},
		{"data_remaining", VIR_DOMAIN_JOB_DATA_REMAINING},
		{"memory_total", VIR_DOMAIN_JOB_MEMORY_TOTAL},
		{"memory_processed", VIR_DOMAIN_JOB_MEMORY_PROCESSED},
		{"memory_remaining", VIR_DOMAIN_JOB_MEMORY_REMAINING},
		{"memory_dirty_rate", VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE},
		{"memory_page_size", VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE},
		{"memory_iteration", VIR_DOMAIN_JOB_MEMORY_ITERATION},
		{"downtime_ms", VIR_DOMAIN_JOB_DOWNTIME},
		{"setup_time_ms", VIR_DOMAIN_JOB_SETUP_TIME},
		{"auto_converge_throttle", VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE},
	};
	struct json_object *o = json_object_new_object();
	long long v, rate, page, total, done;
	size_t i;
	char *text;

	if (!o)
		return NULL;
	json_object_object_add(o, "type", json_object_new_string(job_type_word(type)));
	if (param_number(params, nparams, VIR_DOMAIN_JOB_OPERATION, &v))
		json_object_object_add(o, "operation",
				       json_object_new_string(job_operation_word(v)));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (param_number(params, nparams, fields[i].param, &v))
			json_object_object_add(o, fields[i].key, json_object_new_int64(v));
	if (param_number(params, nparams, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, &rate) &&
	    param_number(params, nparams, VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE, &page))
		json_object_object_add(o, "dirty_bytes_per_s", json_object_new_int64(rate * page));
	if (param_number(params, nparams, VIR_DOMAIN_JOB_DATA_TOTAL, &total) && total > 0 &&
	    param_number(params, nparams, VIR_DOMAIN_JOB_DATA_PROCESSED, &done))
		json_object_object_add(o, "percent", json_object_new_int64(done * 100 / total));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

void cd_dirty_rate_parse(virTypedParameterPtr params, int nparams, struct cd_dirty_rate *out)
{
	long long v;

	out->calc_status = param_number(params, nparams, "dirtyrate.calc_status", &v) ? (int)v : -1;
	out->start_time = param_number(params, nparams, "dirtyrate.calc_start_time", &v) ? v : -1;
	out->period_s = param_number(params, nparams, "dirtyrate.calc_period", &v) ? (int)v : -1;
	out->mbps = param_number(params, nparams, "dirtyrate.megabytes_per_second", &v) ? v : -1;
}

/* --- in an agent job's thread --- */

static int last_code(void)
{
	virErrorPtr e = virGetLastError();

	return e ? e->code : VIR_ERR_OK;
}

/* 0 if d is active; CD_ERR_NOT_FOUND if not; CD_ERR_NO_DAEMON if libvirt cannot tell. */
static int need_active(virDomainPtr d, char *err, size_t errlen)
{
	int active = d ? virDomainIsActive(d) : 0;

	if (active == 1)
		return 0;
	if (active < 0 && last_code() != VIR_ERR_NO_DOMAIN) {
		snprintf(err, errlen, "cannot read the domain's state: %s", cd_agent_last_error());
		return CD_ERR_NO_DAEMON;
	}
	snprintf(err, errlen, "no such active domain");
	return CD_ERR_NOT_FOUND;
}

/*
 * libvirt sets QEMU's downtime limit at once (migrate-set-parameters),
 * with or without a migration job (so does 9.0, Debian 12's), and keeps
 * it for the migration that follows. Should one refuse all the same, the
 * migration goes on with libvirt's default: a longer pause, not a failure.
 */
static int migrate(virDomainPtr d, const struct cd_migrate_params *p, char *err, size_t errlen,
		   char *note, size_t notelen)
{
	virTypedParameterPtr params;
	unsigned int flags;
	int n, rc = 0;

	if (cd_migrate_build(p, &params, &n, &flags) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (p->max_downtime_ms > 0 && virDomainMigrateSetMaxDowntime(d, p->max_downtime_ms, 0) < 0)
		snprintf(note, notelen,
			 "cannot set the maximum downtime to %u ms before migrating "
			 "(libvirt's default applies): %s",
			 p->max_downtime_ms, cd_agent_last_error());
	virResetLastError();
	if (virDomainMigrateToURI3(d, p->peer_uri, params, (unsigned int)n, flags) < 0) {
		snprintf(err, errlen, "migration failed: %s", cd_agent_last_error());
		rc = CD_ERR_INVALID;
	}
	virTypedParamsFree(params, n);
	return rc;
}

/*
 * Nothing to abort is no failure: the domain is gone (the migration ended
 * and took it), or it has no job (the job ended before the abort came).
 */
static int abort_job(virDomainPtr d, char *err, size_t errlen, char *note, size_t notelen)
{
	virDomainJobInfo info;
	char why[200];
	int active;

	if (d && virDomainAbortJob(d) == 0) {
		snprintf(note, notelen, "its job was aborted");
		return 0;
	}
	if (d && last_code() != VIR_ERR_NO_DOMAIN) {
		snprintf(why, sizeof(why), "%s", cd_agent_last_error());
		active = virDomainIsActive(d);
		memset(&info, 0, sizeof(info));
		if ((active < 0 && last_code() != VIR_ERR_NO_DOMAIN) ||
		    (active == 1 &&
		     (virDomainGetJobInfo(d, &info) < 0 || info.type != VIR_DOMAIN_JOB_NONE))) {
			snprintf(err, errlen, "abort failed: %s", why);
			return CD_ERR_INVALID;
		}
	}
	snprintf(note, notelen, "no job to abort");
	return 0;
}

static int job_stats(virDomainPtr d, bool completed, char **out, char *err, size_t errlen)
{
	virTypedParameterPtr params = NULL;
	int type = VIR_DOMAIN_JOB_NONE, n = 0, rc = need_active(d, err, errlen);

	if (rc < 0)
		return rc;
	if (virDomainGetJobStats(d, &type, &params, &n,
				 completed ? VIR_DOMAIN_JOB_STATS_COMPLETED : 0) < 0) {
		snprintf(err, errlen, "cannot read the job statistics: %s", cd_agent_last_error());
		return CD_ERR_INVALID;
	}
	*out = cd_job_stats_json(type, params, n);
	virTypedParamsFree(params, n);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* What d's dirty rate record says now: 0, or -1 if libvirt gave none. */
static int read_dirty_rate(virDomainPtr d, struct cd_dirty_rate *r)
{
	virDomainPtr doms[] = {d, NULL};
	virDomainStatsRecordPtr *recs = NULL;
	int n = virDomainListGetStats(doms, VIR_DOMAIN_STATS_DIRTYRATE, &recs, 0);

	if (n < 1) {
		virDomainStatsRecordListFree(recs);
		return -1;
	}
	cd_dirty_rate_parse(recs[0]->params, recs[0]->nparams, r);
	virDomainStatsRecordListFree(recs);
	return 0;
}

/*
 * QEMU keeps the last measure: one counts only if it began after ours was
 * asked for, which a start time other than the one before tells.
 */
static int dirty_rate(virDomainPtr d, int seconds, char **out, char *err, size_t errlen)
{
	struct cd_dirty_rate before = {.start_time = -1}, r;
	struct json_object *o;
	uint64_t deadline;
	int rc = need_active(d, err, errlen);

	if (rc < 0)
		return rc;
	if (read_dirty_rate(d, &before) < 0)
		before.start_time = -1;
	if (virDomainStartDirtyRateCalc(d, seconds, 0) < 0) {
		snprintf(err, errlen, "cannot measure the dirty rate: %s", cd_agent_last_error());
		return CD_ERR_INVALID;
	}
	deadline = cd_now_ms() + (uint64_t)seconds * 1000 + 2000;
	do {
		poll(NULL, 0, 200);
		if (read_dirty_rate(d, &r) == 0 && r.calc_status == VIR_DOMAIN_DIRTYRATE_MEASURED &&
		    r.start_time != before.start_time && r.mbps >= 0) {
			o = json_object_new_object();
			json_object_object_add(o, "megabytes_per_second",
					       json_object_new_int64(r.mbps));
			json_object_object_add(
				o, "calc_period_s",
				json_object_new_int(r.period_s >= 0 ? r.period_s : seconds));
			*out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
			return *out ? 0 : -ENOMEM;
		}
	} while (cd_now_ms() < deadline);
	snprintf(err, errlen, "no dirty rate measured within %d s (libvirt or QEMU cannot)",
		 seconds + 2);
	return CD_ERR_INVALID;
}

int cd_migrate_local(enum cd_agent_op op, virDomainPtr d, const struct cd_mig_args *a, char **out,
		     char *err, size_t errlen, char *note, size_t notelen)
{
	int rc;

	if (op == CD_AGENT_ABORT_JOB)
		return abort_job(d, err, errlen, note, notelen);
	if (op == CD_AGENT_JOB_STATS)
		return job_stats(d, a->completed, out, err, errlen);
	if (op == CD_AGENT_DIRTY_RATE)
		return dirty_rate(d, a->seconds, out, err, errlen);
	if (op == CD_AGENT_POSTCOPY) {
		rc = need_active(d, err, errlen);
		if (rc == 0 && virDomainMigrateStartPostCopy(d, 0) < 0) {
			snprintf(err, errlen, "cannot switch to post-copy: %s",
				 cd_agent_last_error());
			rc = CD_ERR_INVALID;
		}
		return rc;
	}
	if (op != CD_AGENT_MIGRATE) {
		snprintf(err, errlen, "%s is no migration call", cd_agent_op_to_str(op));
		return -EINVAL;
	}
	rc = need_active(d, err, errlen);
	return rc < 0 ? rc : migrate(d, &a->p, err, errlen, note, notelen);
}

/*
 * The state of domain name over connection c: 1 with *d set if active, 0
 * if there is no such domain or it is inactive, -1 (err set) if the call
 * failed and tells nothing.
 */
static int peer_state(virConnectPtr c, const char *name, virDomainPtr *d, bool *paused, char *err,
		      size_t errlen)
{
	int active, state = 0, reason = 0;

	*paused = false;
	*d = virDomainLookupByName(c, name);
	active = *d ? virDomainIsActive(*d) : -1;
	if (active < 0 && last_code() != VIR_ERR_NO_DOMAIN) {
		snprintf(err, errlen, "cannot read the domain's state there: %s",
			 cd_agent_last_error());
		return -1;
	}
	if (active == 1 && virDomainGetState(*d, &state, &reason, 0) == 0)
		*paused = state == VIR_DOMAIN_PAUSED;
	return active == 1;
}

int cd_migrate_peer(enum cd_agent_op op, const char *uri, const char *name,
		    const struct cd_mig_args *a, char **out, enum cd_domain_status *st,
		    bool *paused, char *err, size_t errlen)
{
	virConnectPtr c = virConnectOpen(uri);
	virDomainPtr d = NULL;
	int rc = 0, active;

	*st = CD_DOMAIN_UNKNOWN;
	*paused = false;
	if (!c) {
		snprintf(err, errlen, "cannot reach the libvirtd at %s: %s", uri,
			 cd_agent_last_error());
		return CD_ERR_NO_DAEMON;
	}
	active = peer_state(c, name, &d, paused, err, errlen);
	if (active < 0)
		rc = CD_ERR_NO_DAEMON;
	else
		*st = active ? CD_DOMAIN_RUNNING : CD_DOMAIN_STOPPED;
	if (active >= 0 && op == CD_AGENT_JOB_STATS)
		rc = job_stats(active ? d : NULL, a->completed, out, err, errlen);
	if (active == 1 && op == CD_AGENT_PEER_DESTROY) {
		char why[200];
		virDomainPtr again = NULL;

		/* A failed destroy of a domain gone meanwhile is no failure: look again. */
		if (virDomainDestroy(d) < 0) {
			cd_strlcpy(why, cd_agent_last_error(), sizeof(why));
			active = peer_state(c, name, &again, paused, err, errlen);
			if (again)
				virDomainFree(again);
		} else {
			active = 0;
		}
		if (active != 0) {
			snprintf(err, errlen, "cannot power it off there: %s", why);
			rc = CD_ERR_INVALID;
		} else {
			*st = CD_DOMAIN_STOPPED;
			*paused = false;
		}
	}
	if (d)
		virDomainFree(d);
	virConnectClose(c);
	return rc;
}

/* --- the calls (vm_agent.h) --- */

int cd_vm_agent_migrate(const char *name, const struct cd_migrate_params *p, int timeout_ms,
			cd_agent_done_fn done, void *ctx)
{
	struct cd_mig_args a = {.p = *p};

	return cd_agent_start_job(CD_AGENT_MIGRATE, name, NULL, NULL, &a, timeout_ms, done, ctx);
}

int cd_vm_agent_job_stats(const char *name, const char *uri, bool completed, int timeout_ms,
			  cd_agent_done_fn done, void *ctx)
{
	struct cd_mig_args a = {.completed = completed};

	return cd_agent_start_job(CD_AGENT_JOB_STATS, name, uri, NULL, &a, timeout_ms, done, ctx);
}

int cd_vm_agent_peer_status(const char *name, const char *uri, int timeout_ms,
			    cd_agent_done_fn done, void *ctx)
{
	return cd_agent_start_job(CD_AGENT_PEER_STATUS, name, uri, NULL, NULL, timeout_ms, done,
				  ctx);
}

int cd_vm_agent_peer_destroy(const char *name, const char *uri, int timeout_ms,
			     cd_agent_done_fn done, void *ctx)
{
	return cd_agent_start_job(CD_AGENT_PEER_DESTROY, name, uri, NULL, NULL, timeout_ms, done,
				  ctx);
}

int cd_vm_agent_dirty_rate(const char *name, int seconds, int timeout_ms, cd_agent_done_fn done,
			   void *ctx)
{
	struct cd_mig_args a = {.seconds = seconds};

	/* QEMU's calc-dirty-rate takes 1 to 60 seconds. */
	if (seconds < 1 || seconds > 60)
		return -EINVAL;
	return cd_agent_start_job(CD_AGENT_DIRTY_RATE, name, NULL, NULL, &a, timeout_ms, done, ctx);
}
