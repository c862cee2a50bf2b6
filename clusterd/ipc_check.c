/*
 * The IPC command `cluster.check` (core/clustercheck.h) and the failover
 * paths that status shows (core/failpath.h): what only this daemon can see
 * (membership, clock offsets, host leases) handed to the pure checks.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <clusterd/result.h>

#include "clusterd/clockskew.h"
#include "clusterd/conf.h"
#include "clusterd/ipc_cmd.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/volmgr.h"
#include "core/clustercheck.h"
#include "core/failpath.h"

/* The VMs without a failover path that status lists by name, at most. */
#define STATUS_MAX_VMS 100
/* The entries of corosync's nodelist the check reads, at most. */
#define NODELIST_MAX (2 * CD_MAX_NODES)

/*
 * Whether node id's host leases confirm its death should it be lost: a
 * member seen holding its host lease on every volume; a node that left
 * already, if its leases say it is dead (failover.c acts on that).
 */
static bool lease_held(uint32_t id, void *ctx)
{
	if (cd_membership_is_member(id))
		return cd_volmgr_host_ready(id, NULL, 0);
	return cd_volmgr_host_dead(id) > 0;
}

static bool reachable(uint32_t id, void *ctx)
{
	return cd_membership_is_member(id);
}

static int clock_of(uint32_t id, int64_t *offset_ms, uint64_t *age_ms, void *ctx)
{
	return cd_clockskew_get(id, offset_ms, age_ms);
}

static int sees_volume(const struct cd_volume *vol, uint32_t id, void *ctx)
{
	return cd_volmgr_host_sees(vol->name, id);
}

void cd_ipc_failover_status(struct json_object *o)
{
	struct cd_failpath fp;
	struct json_object *f;

	if (cd_failpath_compute(cd_replica_state(), NULL, lease_held, NULL, &fp) < 0)
		return;
	f = cd_failpath_to_json(&fp, STATUS_MAX_VMS);
	json_object_object_foreach(f, k, v)
		json_object_object_add(o, k, json_object_get(v));
	json_object_put(f);
	cd_failpath_free(&fp);
}

static int cmd_cluster_check(qb_ipcs_connection_t *c, struct json_object *args,
			     struct json_object **out)
{
	const struct cd_state *s = cd_replica_state();
	struct cd_check_result r[CD_CHECK_N];
	struct cd_node_info *nodelist = calloc(NODELIST_MAX, sizeof(*nodelist));
	struct cd_quorum_info qi;
	struct cd_failpath fp;
	struct cd_check_input in = {
		.s = s,
		.fp = &fp,
		.local_id = cd_membership_local_nodeid(),
		.reachable = reachable,
		.clock = clock_of,
		.clock_max_age_ms =
			cd_check_clock_max_age_ms(cd_config_uint(CD_CFG_STATE_CHECK_INTERVAL_MS)),
		.sees_volume = sees_volume,
		.nodelist = nodelist,
		.quorate = cd_replica_quorate(),
	};

	if (!nodelist || cd_failpath_compute(s, cd_config_str(CD_CFG_CSVFS_RUN_DIR), lease_held,
					     NULL, &fp) < 0) {
		free(nodelist);
		*out = cd_ipc_error_obj("out of memory");
		return -ENOMEM;
	}
	in.n_nodelist = cd_membership_nodelist(nodelist, NODELIST_MAX);
	if (cd_membership_quorum_info(&qi) == 0) {
		in.total_votes = qi.total_votes;
		in.quorum_votes = qi.quorum;
	}
	cd_check_run(&in, r);
	free(nodelist);
	*out = cd_check_to_json(r, CD_CHECK_N);
	json_object_object_add(*out, "quorate", json_object_new_boolean(cd_replica_quorate()));
	cd_failpath_free(&fp);
	return 0;
}

const struct cd_ipc_cmd cd_ipc_check_cmds[] = {
	{"cluster.check", 0, cmd_cluster_check},
};
const size_t cd_ipc_check_n_cmds = sizeof(cd_ipc_check_cmds) / sizeof(cd_ipc_check_cmds[0]);
