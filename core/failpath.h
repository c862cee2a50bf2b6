/*
 * Which VMs can fail over on their own, and which nodes' deaths the cluster
 * can confirm: the rule of clusterd/failover.c, kept pure for status and
 * `clusterctl cluster check`.
 *
 * A lost node's VMs start elsewhere only once its death is confirmed
 * (node.dead). The coordinator confirms it automatically in two ways, each
 * allowed by the property failover-confirm:
 *   lease  every shared volume shows the node's host slot expired or
 *          released. That proves its VMs are off only if the node held its
 *          host lease on every volume: a node that holds them powers off
 *          all its VMs when one lapses. A slot never joined reads as
 *          released too, so a node that holds no lease would be called dead
 *          at once, proving nothing: the lease counts as a path only for a
 *          node seen holding its host lease on every volume.
 *   fence  a fence device covers the node (its map names it, or it has
 *          none) and powers it off.
 * Without either, the VMs of a lost node wait until it comes back or an
 * admin runs `clusterctl node confirm-dead`.
 *
 * A VM placed on a node (running, starting, stopping, moving: its node, or
 * a move's target) has a failover path when that node's death can be
 * confirmed, every disk of it is a csvfs file (any other exists on its
 * node only, so a start elsewhere fails), and its possible owners, if
 * any, name a node besides its own. A VM placed nowhere needs none.
 */
#ifndef CD_FAILPATH_H
#define CD_FAILPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/state.h"
#include "core/vmdisks.h"

/* How a node's death can be confirmed (bits). */
enum cd_death_path {
	CD_DEATH_LEASE = 1 << 0,
	CD_DEATH_FENCE = 1 << 1,
};

/* Why a node's death cannot be confirmed (when it has no path). */
enum cd_death_gap {
	CD_GAP_NONE,
	CD_GAP_NEITHER,	    /* no fence device covers it, it holds no host lease */
	CD_GAP_NO_VOLUME,   /* no fence device covers it, the cluster has no shared volume */
	CD_GAP_FENCE_ONLY,  /* failover-confirm=fence and no fence device covers it */
	CD_GAP_LEASE_ONLY,  /* failover-confirm=lease and it holds no host lease */
	CD_GAP_LEASE_NOVOL, /* failover-confirm=lease and the cluster has no shared volume */
};

/* Why a VM has no failover path. */
enum cd_vm_gap {
	CD_VGAP_NODE,	    /* its node's death cannot be confirmed */
	CD_VGAP_LOCAL_DISK, /* a disk of it is no csvfs file */
	CD_VGAP_OWNERS,	    /* its possible owners are its node alone */
	CD_VGAP_BAD_XML,    /* its XML's disks cannot be read */
};

struct cd_failpath_node {
	uint32_t id;
	char name[CD_NAME_MAX + 1];
	unsigned paths; /* enum cd_death_path bits; 0: cannot be confirmed */
	enum cd_death_gap gap;
	size_t n_vms; /* VMs placed on it */
};

struct cd_failpath_vm {
	char name[64];
	uint32_t node;
	enum cd_vm_gap gap;
	char detail[CD_VM_DISK_PATH_MAX + 1]; /* the local disk, for CD_VGAP_LOCAL_DISK */
};

struct cd_failpath {
	struct cd_failpath_node *nodes; /* every node of the state not known dead, by id */
	size_t n_nodes;
	struct cd_failpath_vm *vms; /* the placed VMs without a path, by name */
	size_t n_vms;
	size_t n_placed; /* placed VMs looked at */
};

/*
 * Whether node id holds its host lease on every shared volume, as the
 * caller sees it (clusterd: cd_volmgr_host_ready()).
 */
typedef bool cd_failpath_lease_fn(uint32_t id, void *ctx);

/*
 * Work out f (zeroed first; free with cd_failpath_free()) for s. run_dir:
 * where csvfs files are (clusterd's csvfs_run_dir); NULL: the VMs' disks
 * are not looked at (their XML is not parsed: what status affords at
 * every call with thousands of VMs). Returns 0 or -ENOMEM.
 */
int cd_failpath_compute(const struct cd_state *s, const char *run_dir, cd_failpath_lease_fn *held,
			void *ctx, struct cd_failpath *f);
void cd_failpath_free(struct cd_failpath *f);

/*
 * How the death of node fn->name could be confirmed, into fn->paths and
 * fn->gap, as the property failover-confirm allows: lease says whether its
 * host leases can tell (it holds them on every shared volume, or a lost
 * node's slots are watched expiring); a fence device that covers it counts.
 */
void cd_failpath_node_paths(const struct cd_state *s, bool lease, struct cd_failpath_node *fn);

/* The first fence device that covers node (the one failover tries first), or NULL. */
const struct cd_fencedev *cd_failpath_fencedev(const struct cd_state *s, const char *node);

/* The node record of id in f, or NULL. */
const struct cd_failpath_node *cd_failpath_node(const struct cd_failpath *f, uint32_t id);

/* Words for a gap, to follow the node's name ("has no fence device and ..."). */
const char *cd_death_gap_text(enum cd_death_gap g);
/* A gap as a key for JSON ("no-fence-no-lease"). */
const char *cd_death_gap_key(enum cd_death_gap g);
/* What to do about a gap, for an admin. */
const char *cd_death_gap_fix(enum cd_death_gap g);
const char *cd_vm_gap_to_str(enum cd_vm_gap g);

/*
 * For status: {"no_failover_path": [{"vm", "node", "reason", "detail"}],
 * "no_failover_path_count", "unconfirmable_nodes": [{"node", "reason",
 * "text", "vms"}]}: the first max_vms VMs without a path and how many there
 * are, and the nodes whose death cannot be confirmed. A new object.
 */
struct json_object *cd_failpath_to_json(const struct cd_failpath *f, size_t max_vms);

#endif
