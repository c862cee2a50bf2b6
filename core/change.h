/*
 * The kinds of change to the replicated state, in one table: the op each
 * is known by on the wire (the "op" string of the change's JSON), the
 * function that applies it, who may send it, whether it needs quorum and
 * whether an admin asks for it through clusterctl.
 *
 * Code that writes a change names its op with cd_change_name(); code that
 * reads one looks the op up once with cd_change_lookup(). The op strings
 * are the wire format between members of different versions: a name is
 * never changed, only added. Pure: no I/O.
 */
#ifndef CD_CHANGE_H
#define CD_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct cd_state;

enum cd_change {
	CD_CHANGE_PROPERTY_SET,
	CD_CHANGE_PROPERTY_DELETE,
	CD_CHANGE_NODE_MAINTENANCE,
	CD_CHANGE_NODE_REMOVE,
	CD_CHANGE_NODE_DEAD,
	CD_CHANGE_NODE_QUARANTINE,
	CD_CHANGE_FENCE_ADD,
	CD_CHANGE_FENCE_REMOVE,
	CD_CHANGE_VM_ADD,
	CD_CHANGE_VM_REMOVE,
	CD_CHANGE_VM_START,
	CD_CHANGE_VM_STOP,
	CD_CHANGE_VM_SET,
	CD_CHANGE_VM_PLACE,
	CD_CHANGE_VM_REPORT,
	CD_CHANGE_VM_IDENTITY,
	CD_CHANGE_VOLUME_ADD,
	CD_CHANGE_VOLUME_REMOVE,
	CD_CHANGE_VOLUME_REQUEST,
	CD_CHANGE_VOLUME_DONE,
	CD_CHANGE_VOLUME_COORDINATOR,
	CD_CHANGE_VM_MOVE,
	CD_CHANGE_VM_MOVE_STEP,
	CD_CHANGE_VM_MOVE_CANCEL,
	CD_CHANGE_VM_RESTORED,
	CD_CHANGE_NODE_DRAIN,
	CD_CHANGE_NODE_DRAIN_END,
	CD_CHANGE_NODE_DRAIN_CANCEL,
	CD_CHANGE_NODE_RESUME,
	CD_CHANGE_MAINT_ADD,
	CD_CHANGE_MAINT_REMOVE,
	CD_CHANGE_MAINT_CANCEL,
	CD_CHANGE_MAINT_RUN,
	CD_CHANGE_MAINT_STEP,
	CD_CHANGE_MAINT_HOOK,
	CD_CHANGE_VM_IMPORT,
};
#define CD_CHANGE_COUNT (CD_CHANGE_VM_IMPORT + 1)

/*
 * Who may send a change. Only CD_SENDER_NODE is enforced when a change is
 * applied (cd_change_check_sender()); the others say who sends it, for the
 * reader (see the table in change.c for why).
 */
enum cd_change_sender {
	CD_SENDER_ANY,		 /* any member, for a client of its IPC socket */
	CD_SENDER_NODE,		 /* the node the change's "node" field names */
	CD_SENDER_COORDINATOR,	 /* the cluster's coordinator */
	CD_SENDER_DEAD_CONFIRM,	 /* the coordinator, or any member for an admin */
	CD_SENDER_VM_IDENTITY,	 /* the VM's node, or the coordinator if it runs nowhere */
	CD_SENDER_VOLUME_HOLDER, /* the volume's coordinator */
};

/*
 * Apply a change to s, called by cd_state_apply_from() with the change
 * object: 0, or a negative code with err set and s unchanged.
 */
typedef int cd_change_apply_fn(struct cd_state *s, const struct json_object *c, char *err,
			       size_t errlen);

struct cd_change_row {
	const char *name; /* the op on the wire */
	cd_change_apply_fn *apply;
	enum cd_change_sender sender;
	bool quorum; /* applied only in a quorate partition */
	bool admin;  /* asked for by an admin, through clusterctl */
};

/* The row of change kind c, or NULL for a value outside the enum. */
const struct cd_change_row *cd_change_row(enum cd_change c);

/* The op of change kind c, e.g. "vm.report"; NULL outside the enum. */
const char *cd_change_name(enum cd_change c);

/* The kind whose op is op: 0 with *out set, or CD_ERR_NOT_FOUND (op NULL too). */
int cd_change_lookup(const char *op, enum cd_change *out);

/*
 * Whether sender (a CPG node id; 0: unchecked) may send change c of kind
 * kind to s, by the rules every member decides alike from the change and
 * s alone: 0, or CD_ERR_INVALID with err naming both nodes.
 */
int cd_change_check_sender(const struct cd_state *s, enum cd_change kind,
			   const struct json_object *c, uint32_t sender, char *err, size_t errlen);

/*
 * Whether change c, as applied to s (s is the state after it), can alter
 * what the coordinator decides: the placement policy, drains and
 * maintenance runs. Not for a property they do not read, a VM added or
 * set while it is stopped on no node and not wanted running, or a VM
 * removed (only such a VM can be): a burst of those at 10,000 VMs need
 * not pay for a decision over the whole state each. Everything else does.
 */
bool cd_change_needs_decision(const struct cd_state *s, const struct json_object *c);

/* What a change, as applied, can have altered: see cd_change_scope(). */
enum cd_change_scope {
	CD_SCOPE_NONE, /* nothing anyone reads: a property no code knows */
	CD_SCOPE_VM,   /* one VM that runs nowhere and is not to run, or is gone */
	CD_SCOPE_ANY,  /* anything */
};

/*
 * What change c, as applied to s (s is the state after it), can have
 * altered, for those that act on a batch of changes (the coordinator, a
 * node's resource manager) and would rather not look at every VM after a
 * change that touched none they care about. CD_SCOPE_NONE for a property
 * nothing reads (cd_props_def() does not know it); CD_SCOPE_VM, with
 * *vm_name set to the VM's name (pointing into c), for a VM added or set
 * while it is stopped on no node and not wanted running, or a VM removed
 * (only such a VM can be); CD_SCOPE_ANY, *vm_name NULL, for everything
 * else. A change refused changed nothing; ask only of one applied.
 */
enum cd_change_scope cd_change_scope(const struct cd_state *s, const struct json_object *c,
				     const char **vm_name);

#endif
