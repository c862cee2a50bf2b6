/*
 * Live migration and what goes with it (vm_agent.h: cd_vm_agent_migrate,
 * CD_AGENT_ABORT_JOB, cd_vm_agent_job_stats, cd_vm_agent_peer_status,
 * cd_vm_agent_dirty_rate). The libvirt calls run in the calling agent
 * job's thread (vm_agent.c); what turns libvirt's answers into ours is
 * pure, so that tests can feed it by hand.
 */
#ifndef CD_MIGRATE_H
#define CD_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

#include "agents/quick.h"
#include "agents/vm_agent.h"

/* --- pure --- */

/*
 * The flags and parameters of virDomainMigrateToURI3 for p: always
 * VIR_MIGRATE_LIVE | PEER2PEER | ABORT_ON_ERROR, plus AUTO_CONVERGE, TLS
 * and PARALLEL (parallel > 1) as p asks; VIR_MIGRATE_PARAM_URI when
 * migrate_uri is set, VIR_MIGRATE_PARAM_BANDWIDTH when bandwidth_mib is,
 * VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS when parallel > 1. The maximum
 * downtime is no parameter: it is set before (cd_migrate_local). Returns 0
 * or -ENOMEM; the caller frees *params with virTypedParamsFree.
 */
int cd_migrate_build(const struct cd_migrate_params *p, virTypedParameterPtr *params, int *nparams,
		     unsigned int *flags);

/*
 * virDomainGetJobStats' answer (type, params) as JSON text: {"type":
 * "none"|"bounded"|"unbounded"|"completed"|"failed"|"cancelled",
 * "operation": "migration-out"..., "time_elapsed_ms", "time_remaining_ms",
 * "data_total", "data_processed", "data_remaining", "memory_total",
 * "memory_processed", "memory_remaining", "memory_dirty_rate" (pages/s),
 * "memory_page_size", "dirty_bytes_per_s", "memory_iteration",
 * "downtime_ms" (expected while running, real when completed),
 * "setup_time_ms", "auto_converge_throttle", "percent"}. A field libvirt
 * did not give is left out; dirty_bytes_per_s needs the dirty rate and the
 * page size, percent (data_processed * 100 / data_total) data_total > 0.
 * Returns malloc'd text (caller frees) or NULL if out of memory.
 */
char *cd_job_stats_json(int type, virTypedParameterPtr params, int nparams);

/* What a VIR_DOMAIN_STATS_DIRTYRATE record says (cd_dirty_rate_parse). */
struct cd_dirty_rate {
	int calc_status;      /* virDomainDirtyRateStatus; -1 if not given */
	long long start_time; /* when the measure began (QEMU's clock); -1 if not given */
	int period_s;	      /* how long it measured; -1 if not given */
	long long mbps;	      /* MiB dirtied per second; -1 if not given */
};
void cd_dirty_rate_parse(virTypedParameterPtr params, int nparams, struct cd_dirty_rate *out);

/* --- in an agent job's thread (vm_agent.c) --- */

/* An op's own arguments, copied into its job. */
struct cd_mig_args {
	struct cd_migrate_params p; /* CD_AGENT_MIGRATE */
	bool completed;		    /* CD_AGENT_JOB_STATS */
	int seconds;		    /* CD_AGENT_DIRTY_RATE */
	struct cd_quick_args quick; /* CD_AGENT_SAVE, CD_AGENT_RESTORE */
};

/*
 * Run op (MIGRATE, ABORT_JOB, JOB_STATS, DIRTY_RATE) on the local domain d
 * (NULL: there is none). Returns 0 or a negative code with err set; *out
 * gets the JSON answer (malloc'd) of JOB_STATS and DIRTY_RATE, note what
 * to log. The caller fills in the domain's state afterwards.
 */
int cd_migrate_local(enum cd_agent_op op, virDomainPtr d, const struct cd_mig_args *a, char **out,
		     char *err, size_t errlen, char *note, size_t notelen);

/*
 * Run op (PEER_STATUS, JOB_STATS) on domain name at another node's
 * libvirtd, uri, over a connection of its own. Returns 0 or a negative
 * code with err set; *st and *paused get the domain's state there, *out
 * JOB_STATS' answer.
 */
int cd_migrate_peer(enum cd_agent_op op, const char *uri, const char *name,
		    const struct cd_mig_args *a, char **out, enum cd_domain_status *st,
		    bool *paused, char *err, size_t errlen);

/*
 * vm_agent.c: start op as a job of the agent (cd_vm_agent_call), with
 * uri (copied) for the peer ops and a (copied; may be NULL).
 */
int cd_agent_start_job(enum cd_agent_op op, const char *name, const char *uri, const char *xml,
		       const struct cd_mig_args *a, int timeout_ms, cd_agent_done_fn done,
		       void *ctx);

#endif
