/*
 * The replicated cluster state and the pure function that changes it.
 *
 * Every member holds one struct cd_state. It changes only through
 * cd_state_apply_from() (a change delivered by CPG in agreed order) and
 * cd_state_sync_finish() (the end of a sync round after a membership change),
 * both deterministic: the same inputs give the same state on every node.
 * Nothing here does I/O.
 */
#ifndef CD_STATE_H
#define CD_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/drain.h"
#include "core/maint.h"
#include "core/vm.h"
#include "core/volume.h"

#define CD_NAME_MAX 63
#define CD_ADDR_MAX 63
#define CD_ADDRS_MAX 4
#define CD_CPU_MODEL_MAX 127
/*
 * CPU models one node lists: its host model and the custom models libvirt
 * says it can run. libvirt's x86 CPU map (9.x) has 60 models, of which a
 * host runs a part: 64 keeps all of them; more are dropped and logged.
 */
#define CD_CPU_MODELS_MAX 64
/*
 * A node's host CPU as a CPU definition (core/cpubaseline.h), for the
 * cluster's CPU baseline: a model, a vendor and some 20 to 60 features of
 * some 40 bytes each.
 */
#define CD_HOST_CPU_XML_MAX 4095
#define CD_PROP_KEY_MAX 128
#define CD_PROP_VALUE_MAX 4096

/*
 * What one state may hold. The changes that add things enforce these, and
 * cd_state_from_json() enforces them again on a snapshot or a saved state,
 * so what one member accepted every member accepts.
 *
 * They are chosen so that the largest state serializes below
 * CD_STATE_JSON_MAX, the cap on a snapshot (msg.h) and on a state file:
 * every state the changes can reach can be synced. In JSON a string grows
 * by escaping: at most twice for names, paths and domain XML (only '/',
 * '"', '\\', tab, CR and LF are escaped: they hold no other control
 * characters) and six times for free text (\u00XX). The worst records:
 *   a VM without its XML     CD_VM_JSON_MAX       owners 2 x 32 x 66, error 6 x 255
 *   the VMs' XML, together   2 x CD_STATE_XML_MAX
 *   a volume                 CD_VOLUME_JSON_MAX   4096 files, 64 requests, 64 results
 *   a node                   CD_NODE_JSON_MAX     4 addresses and a CPU model, 6 x,
 *                                                 64 CPU models (names: not escaped),
 *                                                 its host CPU's XML (printable), 2 x
 *   a fence device           CD_FENCEDEV_JSON_MAX params and map, 6 x
 *   a property               CD_PROP_JSON_MAX     its value, 6 x
 *   a maintenance schedule   CD_MAINT_JSON_MAX    (maint.h)
 * With the counts below: 128 + 256 + 17.3 + 0.75 + 0.6 + 3.0 + 1.75 MiB = 407.4 MiB,
 * under 512 MiB (a large snapshot goes in chunks: clusterd/snapstream.h). state.c checks the sum
 * when it compiles; check_state_budget measures the worst records.
 */
#define CD_MAX_NODES 32 /* the policy's limit: its node masks have 32 bits */
#define CD_MAX_VMS 16384
#define CD_MAX_VOLUMES 16
#define CD_MAX_FENCEDEVS 64
#define CD_MAX_PROPS 128
#define CD_STATE_XML_MAX (128 * 1024 * 1024) /* the domain XML of all VMs */
#define CD_STATE_JSON_MAX (512 * 1024 * 1024)
#define CD_VM_JSON_MAX (8 * 1024)
#define CD_NODE_JSON_MAX (24 * 1024)
#define CD_FENCEDEV_JSON_MAX (10 * 1024)
#define CD_PROP_JSON_MAX (6 * CD_PROP_VALUE_MAX + CD_PROP_KEY_MAX + 16)
/* node.dead's "how", e.g. "lease" or "fence:DEVICE" (printable, at most 15) */
#define CD_DEAD_HOW_MAX 15
/* A node that comes back this many times within the window is quarantined. */
#define CD_FLAP_LIMIT 3
#define CD_FLAP_WINDOW_MS (10 * 60 * 1000ull)
#define CD_QUARANTINE_MS (10 * 60 * 1000ull)

/* The state version: ordered by epoch, then seq. */
struct cd_version {
	uint64_t epoch; /* bumped when a quorate partition forms */
	uint64_t seq;	/* bumped by every applied change within an epoch */
};

int cd_version_cmp(struct cd_version a, struct cd_version b);

enum cd_node_state {
	CD_NODE_ONLINE,
	CD_NODE_OFFLINE,
	CD_NODE_MAINTENANCE,
	CD_NODE_FENCED,	     /* left, and known dead: its VMs may run elsewhere */
	CD_NODE_QUARANTINED, /* flapped: keeps its VMs, takes no new ones */
};
const char *cd_node_state_to_str(enum cd_node_state s);

struct cd_capacity {
	uint32_t cores;
	uint64_t memory_mb;
	/* libvirt's host-model name; /proc/cpuinfo's until libvirt answered */
	char cpu_model[CD_CPU_MODEL_MAX + 1];
	/*
	 * What it can run, from libvirt's domain capabilities: the host model
	 * first (when libvirt names one), then the usable custom models. None:
	 * not known (libvirt has not answered, or an older clusterd).
	 */
	char cpu_models[CD_CPU_MODELS_MAX][CD_CPU_MODEL_MAX + 1];
	uint32_t n_cpu_models;
	/*
	 * Its host-model CPU from the same capabilities, as a CPU definition
	 * (core/cpubaseline.h), which a VM's cluster baseline is computed
	 * from. "": none (libvirt offers no host model, has not answered, or
	 * an older clusterd).
	 */
	char host_cpu_xml[CD_HOST_CPU_XML_MAX + 1];
};

/*
 * What a node tells of its set-up, for `clusterctl cluster check`: small,
 * sent with its information at every sync round. Each is "" or 0 when not
 * known (not read yet, or an older clusterd).
 */
#define CD_CRYPTO_NAME_MAX 15
struct cd_node_facts {
	char corosync_sha256[65];		    /* SHA-256 (hex) of its corosync.conf */
	char crypto_cipher[CD_CRYPTO_NAME_MAX + 1]; /* corosync's totem.crypto_cipher */
	char crypto_hash[CD_CRYPTO_NAME_MAX + 1];   /* corosync's totem.crypto_hash */
	uint64_t libvirt_version; /* libvirtd's, as libvirt encodes it: major * 1e6 + minor * 1e3 +
				     micro */
	uint64_t qemu_version;	  /* the hypervisor's (QEMU), encoded alike */
};

/* What a node reports about itself when it joins. */
struct cd_node_info {
	uint32_t id;
	char name[CD_NAME_MAX + 1];
	char addrs[CD_ADDRS_MAX][CD_ADDR_MAX + 1];
	uint32_t n_addrs;
	struct cd_capacity cap;
	struct cd_node_facts facts;
};

struct cd_node {
	struct cd_node_info info;
	bool member;	  /* in the last quorate membership */
	bool maintenance; /* set by an admin */
	bool dead;	  /* known dead since it left (fenced or lease expired) */
	char dead_how[CD_DEAD_HOW_MAX + 1];
	uint64_t left_ms;		 /* when it last left the membership (round time) */
	uint64_t rejoins[CD_FLAP_LIMIT]; /* when it came back, newest last */
	uint64_t quarantine_until;	 /* flapping: takes no VMs until then (wall ms) */
	uint64_t last_change;		 /* epoch in which member last changed */
	struct cd_drain drain;		 /* its last drain (core/drain.h) */
};

/*
 * A fence device: a fence-agents agent and its parameters. The record owns
 * its JSON objects (fencedev.h: cd_fencedev_copy(), cd_fencedev_free()).
 */
struct cd_fencedev {
	char name[64];
	char agent[128];
	struct json_object *params; /* {"key": "value", ...}: the agent's stdin lines, in order */
	struct json_object *map;    /* {"node": "plug", ...}; NULL: every node, plug = its name */
};

struct cd_prop {
	char *key;
	char *value;
};

struct cd_vm_keys;
void cd_vm_keys_free(struct cd_vm_keys *k);

struct cd_state {
	struct cd_version version;
	struct cd_node *nodes; /* sorted by id */
	size_t n_nodes;
	struct cd_prop *props; /* sorted by key */
	size_t n_props;
	struct cd_vm **vms; /* sorted by name, each its own allocation */
	size_t n_vms;
	size_t vms_cap;		 /* entries allocated (0: n_vms, as set by hand) */
	uint64_t last_action_id; /* action ids come from here, in apply order */
	struct cd_volume *volumes;
	size_t n_volumes;
	struct cd_fencedev *fencedevs;
	size_t n_fencedevs;
	struct cd_maint *maints; /* scheduled maintenance (maint.h), sorted by name */
	size_t n_maints;

	/*
	 * Not state: never copied, compared or serialized (init, copy and
	 * from_json leave it NULL), so a state that replaces this one comes
	 * without it. If set, told of each VM transition as a change makes it
	 * (vm.h): the daemon logs them, this pure module cannot.
	 */
	cd_vm_hook_fn *vm_hook;
	void *vm_hook_ctx;
	/*
	 * Not state either, and never copied: what vm.add asks of every VM,
	 * counted (vm_keys.c), so that it costs the same with 10 VMs or 10,000.
	 * Built by vm.add, freed by cd_state_free().
	 */
	struct cd_vm_keys *vm_keys;
};

/* Reset s to the empty state (version 0.0). Frees what s held. */
void cd_state_init(struct cd_state *s);
void cd_state_free(struct cd_state *s);

/* Deep-copy src into dst (dst is overwritten; it must be freed or empty). */
int cd_state_copy(struct cd_state *dst, const struct cd_state *src);

enum cd_node_state cd_node_state(const struct cd_node *n);
const struct cd_node *cd_state_node_by_id(const struct cd_state *s, uint32_t id);
const struct cd_node *cd_state_node_by_name(const struct cd_state *s, const char *name);
const char *cd_state_prop(const struct cd_state *s, const char *key);
const struct cd_vm *cd_state_vm(const struct cd_state *s, const char *name);
/* Where VM name is in s->vms (sorted by name); s->n_vms if s has none of that name. */
size_t cd_state_vm_index(const struct cd_state *s, const char *name);
const struct cd_fencedev *cd_state_fencedev(const struct cd_state *s, const char *name);
/* The plug of node name on device d, or NULL if d does not fence it. */
const char *cd_fencedev_plug(const struct cd_fencedev *d, const char *node, char *buf, size_t len);

/*
 * Apply one change, a JSON object {"op": ..., ...}. On success the version's
 * seq is bumped. On failure s is unchanged, err says why in one line and the
 * return is a negative result code. Every member gets the same result for
 * the same state and change, so a refused change is refused everywhere.
 */
int cd_state_apply(struct cd_state *s, const struct json_object *change, char *err, size_t errlen);

/*
 * The same, for a change that sender (its CPG node id) multicast: first
 * the rules on who may send it that every member decides alike (change.h);
 * one broken is CD_ERR_INVALID. Sender 0 is not checked: cd_state_apply()
 * is this with sender 0.
 */
int cd_state_apply_from(struct cd_state *s, const struct json_object *change, uint32_t sender,
			char *err, size_t errlen);

/*
 * The changes on properties (property.*), in change.c's table; same
 * contract as cd_state_apply().
 */
int cd_state_op_property_set(struct cd_state *s, const struct json_object *c, char *err,
			     size_t errlen);
int cd_state_op_property_delete(struct cd_state *s, const struct json_object *c, char *err,
				size_t errlen);

/*
 * Close a sync round in a quorate partition: record the joiners' own node
 * information, mark members and non-members, start the next epoch.
 * members[] are the node ids of the partition's members with their info.
 * A joiner beyond CD_MAX_NODES known nodes is not recorded (alike on every
 * member): the policy cannot place VMs on it, and a snapshot holding it
 * would be refused.
 */
void cd_state_sync_finish(struct cd_state *s, const struct cd_node_info *members, size_t n_members,
			  uint64_t new_epoch, uint64_t now_ms);

/* Quarantined at wall time now_ms? */
bool cd_node_quarantined(const struct cd_node *n, uint64_t now_ms);

/*
 * The state's format, written as "format" in every saved state and every
 * snapshot. A node reads the formats from CD_STATE_FORMAT_OLDEST to its
 * own, converting the older ones, and refuses a newer one (CD_ERR_VERSION)
 * rather than misread it:
 *   1  fence devices' params and map as strings (some states of this
 *      format hold them as objects already)
 *   2  fence devices' params and map as JSON objects (fencedev.h): a node
 *      that read them as strings would see a device without parameters
 * In a sync round, a member that cannot read the chosen snapshot leaves its
 * sender out, as for any invalid snapshot (replica.c), and the round ends
 * within its bound: an older node is left out, never the round wedged.
 */
#define CD_STATE_FORMAT 2
#define CD_STATE_FORMAT_OLDEST 1

/*
 * Serialization, canonical: the same state always gives the same bytes, so
 * its SHA-256 identifies it.
 * cd_state_to_json() returns a new object (caller puts it).
 * cd_state_from_json() fills an empty s; returns 0, CD_ERR_CORRUPT,
 * CD_ERR_VERSION or -ENOMEM, with err set. It checks every record as the
 * changes that made it would have (names, paths, sizes, counts, the limits
 * above); anything they would refuse makes the whole state refused, and s
 * is left empty.
 */
struct json_object *cd_state_to_json(const struct cd_state *s);
/* The same; without with_vms, its "vms" an empty array (state_sum.c fills it in). */
struct json_object *cd_state_to_json_ext(const struct cd_state *s, bool with_vms);
int cd_state_from_json(struct cd_state *s, const struct json_object *o, char *err, size_t errlen);

/* JSON of one node's info, and back (0 or CD_ERR_INVALID). */
struct json_object *cd_node_info_to_json(const struct cd_node_info *ni);
int cd_node_info_from_json(struct cd_node_info *ni, const struct json_object *o);

#endif
