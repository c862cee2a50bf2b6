/*
 * The placement policy: a pure function from a cluster picture to actions.
 *
 * cd_policy_decide() reads a self-contained input (nodes, VMs, the time of
 * day) and returns the actions that bring the cluster closer to what the
 * VMs' targets ask for: start, stop, migrate (failback), and "unplaced"
 * records for VMs that should run but fit nowhere. It does no I/O, keeps no
 * state between calls and gives the same answer for the same input on every
 * node, so the coordinator can be replaced at any moment and the golden tests
 * in tests/golden/ pin its behaviour down.
 *
 * The rules, in the order they apply:
 *
 *  1. A VM that runs (or is starting, stopping, migrating) on a node that is
 *     alive (online, maintenance, quarantined) stays there: placement never
 *     moves a VM just because another node would suit it better. Its vCPUs
 *     and memory count against that node.
 *  2. A VM whose target is stopped and that runs on an alive node is stopped.
 *  3. A VM whose target is started and that runs nowhere (stopped, failed, or
 *     its node is offline, fenced or lost: the daemon feeds those only after
 *     fencing is confirmed) is placed, highest priority first, then by name.
 *     No-auto-start VMs are placed only when an admin started them.
 *  4. A node fits when it is online, is a possible owner, supports the VM's
 *     CPU model, is not where the VM reached its failure limit, holds no VM
 *     of the VM's hard anti-affinity class, has at least as many cores as
 *     the VM has vCPUs, and has the vCPUs and memory left after everything
 *     running or placed there. A node runs floor(cores x cpu-overcommit)
 *     vCPUs (the input's ratio, 4 per core by default), so vCPUs are shared
 *     as admins count them; memory is never overcommitted.
 *  5. A VM that failed fewer times than its limit on a node restarts there
 *     if that node fits: a local restart first, a move only after the limit.
 *     Otherwise, among the nodes that fit: nodes without a VM of the VM's soft
 *     anti-affinity class if there are any; of those the first preferred
 *     owner in order; else the node with the most free memory, the lowest
 *     node id on a tie.
 *  6. Failback: a running VM on a node that is not its most preferred owner
 *     migrates to the first more preferred online node that fits (soft
 *     anti-affinity counting as hard here: a move must not make things
 *     worse), if its failback policy is "immediately", or "window" and the
 *     input's time of day is inside the window.
 *
 * Every VM gets a record of why it ends up where it does, which
 * cd_policy_explain_vm() turns into words.
 */
#ifndef CD_POLICY_H
#define CD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CD_POLICY_NAME_MAX 63	    /* node, VM and anti-affinity class names */
#define CD_POLICY_CPU_MAX 127	    /* a CPU model name */
#define CD_POLICY_CPU_MODELS_MAX 64 /* CPU models one node supports */
#define CD_POLICY_MAX_NODES 32	    /* the cluster's limit; masks are 32 bits */
#define CD_POLICY_NO_TIME (-1)	    /* cd_policy_input.now_minute unknown */
/* vCPUs a node runs per core, in thousandths, when the input says 0. */
#define CD_POLICY_CPU_OVERCOMMIT_DEFAULT 4000

enum cd_policy_node_state {
	CD_PNODE_ONLINE,      /* takes new VMs */
	CD_PNODE_OFFLINE,     /* gone; its VMs are placed elsewhere */
	CD_PNODE_MAINTENANCE, /* alive, draining: keeps its VMs, takes none */
	CD_PNODE_FENCED,      /* power-fenced: its VMs are placed elsewhere */
	CD_PNODE_LOST,	      /* lost, fencing confirmed: likewise */
	CD_PNODE_QUARANTINED, /* alive but distrusted: keeps its VMs, takes none */
	CD_PNODE__COUNT
};

enum cd_policy_priority {
	CD_PPRIO_HIGH,
	CD_PPRIO_MEDIUM,
	CD_PPRIO_LOW,
	CD_PPRIO_NO_AUTO_START, /* started by placement only on an admin's word */
	CD_PPRIO__COUNT
};

enum cd_policy_target { CD_TARGET_STARTED, CD_TARGET_STOPPED, CD_TARGET__COUNT };

enum cd_policy_vm_state {
	CD_PVM_STOPPED,
	CD_PVM_STARTING,
	CD_PVM_RUNNING,
	CD_PVM_STOPPING,
	CD_PVM_FAILED, /* crashed or failed to start; runs nowhere */
	CD_PVM_MIGRATING,
	CD_PVM__COUNT
};

enum cd_policy_anti {
	CD_ANTI_HARD, /* never two VMs of the class on one node */
	CD_ANTI_SOFT, /* avoid it while another node fits */
	CD_ANTI__COUNT
};

enum cd_policy_failback_mode {
	CD_PFAILBACK_NEVER,
	CD_PFAILBACK_IMMEDIATELY,
	CD_PFAILBACK_WINDOW,
	CD_PFAILBACK__COUNT
};

struct cd_policy_failback {
	enum cd_policy_failback_mode mode;
	/*
	 * For CD_PFAILBACK_WINDOW: minutes after midnight, start inclusive, end
	 * exclusive; start > end wraps past midnight (22:00-06:00).
	 */
	uint16_t start, end;
};

struct cd_policy_node {
	uint32_t id; /* unique, not 0 */
	char name[CD_POLICY_NAME_MAX + 1];
	enum cd_policy_node_state state;
	uint32_t cores;
	uint64_t memory_mb;
	/* [0] is the node's own CPU model; the rest are models it can also run. */
	char cpu_models[CD_POLICY_CPU_MODELS_MAX][CD_POLICY_CPU_MAX + 1];
	uint32_t n_cpu_models;
	/*
	 * Its models are not known (its libvirt had not answered, or it runs
	 * an older clusterd): the CPU rule admits it and libvirt checks the
	 * CPU at start, as it always does.
	 */
	bool cpu_models_unknown;
};

struct cd_policy_vm {
	char name[CD_POLICY_NAME_MAX + 1]; /* unique */
	uint32_t vcpus;
	uint64_t memory_mb;
	char cpu_model[CD_POLICY_CPU_MAX + 1]; /* required model; "" runs anywhere */
	enum cd_policy_priority priority;
	enum cd_policy_target target;
	bool admin_start;			 /* an admin started it: overrides no-auto-start */
	uint32_t preferred[CD_POLICY_MAX_NODES]; /* node ids, most preferred first */
	uint32_t n_preferred;
	uint32_t possible[CD_POLICY_MAX_NODES]; /* node ids; none means every node */
	uint32_t n_possible;
	char anti_class[CD_POLICY_NAME_MAX + 1]; /* "" for none */
	enum cd_policy_anti anti; /* this VM's mode rules its placement: keep a class all one */
	enum cd_policy_vm_state state;
	uint32_t node;		/* node id it is on (or failed on, for CD_PVM_FAILED); 0 none */
	uint32_t move_to;	/* CD_PVM_MIGRATING: the node it moves to, held too; 0 none */
	uint32_t failures;	/* in the current period, on failed_on */
	uint32_t failure_limit; /* 0: no limit */
	uint32_t failed_on;	/* node id the failures happened on; 0 none */
	struct cd_policy_failback failback;
};

/* Owned by the caller; decide only reads it. */
struct cd_policy_input {
	const struct cd_policy_node *nodes;
	size_t n_nodes;
	const struct cd_policy_vm *vms;
	size_t n_vms;
	int now_minute; /* time of day in minutes (0..1439) or CD_POLICY_NO_TIME */
	/* vCPUs per core, in thousandths (1500: 1.5); 0: CD_POLICY_CPU_OVERCOMMIT_DEFAULT */
	uint32_t cpu_overcommit_milli;
};

enum cd_policy_action_type {
	CD_ACT_START,	 /* start vm on node `to` */
	CD_ACT_STOP,	 /* stop vm on node `from` */
	CD_ACT_MIGRATE,	 /* migrate vm from `from` to `to` */
	CD_ACT_UNPLACED, /* vm should run but fits nowhere; see `unplaced` */
	CD_ACT__COUNT
};

/*
 * Why a VM that should run fits nowhere: the check that stopped the node
 * that came closest to fitting, so "capacity" means some node passed every
 * constraint and lacked only room, or had fewer cores than the VM's vCPUs.
 */
enum cd_policy_unplaced {
	CD_UNPLACED_NO_ONLINE_NODE,
	CD_UNPLACED_POSSIBLE_OWNERS,
	CD_UNPLACED_CPU_MODEL,
	CD_UNPLACED_FAILURES,
	CD_UNPLACED_ANTI_AFFINITY,
	CD_UNPLACED_CAPACITY,
	CD_UNPLACED__COUNT
};

/* Why one node was not chosen for a VM, in the order the checks run. */
enum cd_policy_excl {
	CD_EXCL_NONE, /* fits (but another node was better) */
	CD_EXCL_NODE_STATE,
	CD_EXCL_NOT_POSSIBLE,
	CD_EXCL_CPU_MODEL,
	CD_EXCL_FAILURES,
	CD_EXCL_ANTI_HARD,
	CD_EXCL_FEW_CORES, /* fewer cores than the VM has vCPUs, however empty */
	CD_EXCL_MEMORY,
	CD_EXCL_CORES, /* its vCPUs (cores x overcommit) are taken */
	CD_EXCL_MEMORY_CORES,
	CD_EXCL_ANTI_SOFT, /* fits, avoided for soft anti-affinity */
	CD_EXCL__COUNT
};
/* A set of enum cd_policy_excl values as a mask. */
#define CD_POLICY_EXCL_BIT(e) (1u << (e))

struct cd_policy_note {
	uint16_t node;	     /* index into cd_policy_input.nodes */
	uint8_t excl;	     /* enum cd_policy_excl */
	uint32_t free_vcpus; /* left of cd_policy_vcpu_cap(), 0 when overcommitted past it */
	uint32_t used_vcpus; /* by the VMs that hold the node */
	uint64_t free_memory_mb;
};

/* What decide made of one VM. */
enum cd_policy_why {
	CD_WHY_STAYS,	      /* runs on an alive node and stays */
	CD_WHY_BUSY,	      /* starting, stopping or migrating: left alone */
	CD_WHY_STOPPED,	      /* target stopped and it runs nowhere */
	CD_WHY_STOP,	      /* target stopped: stop it */
	CD_WHY_NO_AUTO_START, /* no-auto-start and no admin start */
	CD_WHY_PREFERRED,     /* placed on a preferred owner */
	CD_WHY_MOST_FREE,     /* placed on the node with the most free memory */
	CD_WHY_RESTART,	      /* failed below its limit: restarts where it failed */
	CD_WHY_UNPLACED,      /* fits nowhere */
	CD_WHY_FAILBACK,      /* migrates back to a more preferred owner */
	CD_WHY__COUNT
};

/* Why a running VM on a less preferred node did not fail back. */
enum cd_policy_fb_note {
	CD_FB_NONE,    /* not applicable: on its best node, or not running */
	CD_FB_NEVER,   /* failback policy is never */
	CD_FB_OUTSIDE, /* window policy, now is outside the window */
	CD_FB_NO_TIME, /* window policy, the input has no time of day */
	CD_FB_NO_ROOM, /* no more preferred owner fits; see the notes */
	CD_FB__COUNT
};

struct cd_policy_vm_result {
	enum cd_policy_why why;
	enum cd_policy_unplaced unplaced; /* for CD_WHY_UNPLACED */
	enum cd_policy_fb_note fb;
	uint32_t node;	  /* node id it runs on or will run on; 0 none */
	uint32_t from;	  /* node id it leaves (failback, stop); 0 none */
	uint32_t was_on;  /* dead node id it ran on before placement; 0 none */
	uint32_t rank;	  /* for CD_WHY_PREFERRED/FAILBACK: 1-based preferred rank */
	bool soft_shared; /* placed: every node that fit had its soft class already */
	size_t notes;	  /* its notes: result.notes[notes .. notes + n_notes) */
	uint32_t n_notes; /* nodes looked at and why each was not chosen */
};

struct cd_policy_action {
	enum cd_policy_action_type type;
	size_t vm;	   /* index into cd_policy_input.vms */
	uint32_t from, to; /* node ids, 0 where not used */
	enum cd_policy_unplaced unplaced;
};

/*
 * Actions are ordered: stops, then starts and unplaced records in placement
 * order (priority, then name), then migrations. An action's explanation is
 * its VM's record: cd_policy_explain_vm(in, res, action->vm, ...).
 */
struct cd_policy_result {
	struct cd_policy_action *actions;
	size_t n_actions;
	struct cd_policy_vm_result *vms; /* one per input VM, same index */
	struct cd_policy_note *notes;
	size_t n_notes;
	char error[256]; /* why decide returned CD_ERR_INVALID */
};

/*
 * Decide what to do. On success returns 0 and fills *out, which the caller
 * releases with cd_policy_result_free(). Returns CD_ERR_INVALID for an input
 * that is not self-consistent (out->error says what: a duplicate node id, a
 * VM naming an unknown node, ...) or -ENOMEM; *out then holds nothing to free
 * but may be freed all the same.
 */
int cd_policy_decide(const struct cd_policy_input *in, struct cd_policy_result *out);

/* Release what decide allocated. Accepts a zeroed or already freed result. */
void cd_policy_result_free(struct cd_policy_result *res);

/*
 * Why VM number vm is where it is, or why it is not running, in one line
 * written into buf (truncated to len, always NUL-terminated), from a result
 * of decide on the same input.
 */
void cd_policy_explain_vm(const struct cd_policy_input *in, const struct cd_policy_result *res,
			  size_t vm, char *buf, size_t len);

/*
 * Why node n->node was passed over for VM vm, in the words of explain's
 * notes ("node2 lacks memory (needs 1024 MiB, 512 free)"), into buf
 * (truncated to len, always NUL-terminated).
 */
void cd_policy_note_text(const struct cd_policy_input *in, const struct cd_policy_vm *vm,
			 const struct cd_policy_note *n, char *buf, size_t len);

/*
 * Decide, then explain the VM named vm_name into buf. Returns 0,
 * CD_ERR_NOT_FOUND if there is no such VM, or what decide returned (with
 * its error text in buf).
 */
int cd_policy_explain(const struct cd_policy_input *in, const char *vm_name, char *buf, size_t len);

/*
 * What starting the VM named vm_name would do: decide on a copy of in where
 * an admin started it (its target started), then explain it into buf, as
 * cd_policy_explain(). Returns the same, or -ENOMEM; in is not changed.
 */
int cd_policy_explain_start(const struct cd_policy_input *in, const char *vm_name, char *buf,
			    size_t len);

/* The enums with names, as the text format and the explanations spell them. */
enum cd_policy_enum {
	CD_PENUM_NODE_STATE,
	CD_PENUM_PRIORITY,
	CD_PENUM_TARGET,
	CD_PENUM_VM_STATE,
	CD_PENUM_ANTI,
	CD_PENUM_FAILBACK,
	CD_PENUM_ACTION,
	CD_PENUM_UNPLACED,
	CD_PENUM__COUNT
};

/* The name of value in enum e; "?" for a value out of range. */
const char *cd_policy_enum_str(enum cd_policy_enum e, int value);

/* The value named s in enum e, or -1. */
int cd_policy_enum_value(enum cd_policy_enum e, const char *s);

/* The names of enum e joined by ", " into buf (for error messages). */
void cd_policy_enum_list(enum cd_policy_enum e, char *buf, size_t len);

/*
 * The vCPUs node n runs: floor(n->cores x the input's cpu-overcommit), the
 * one place the ratio is applied (rules.c, and explain's words about it).
 */
uint64_t cd_policy_vcpu_cap(const struct cd_policy_input *in, const struct cd_policy_node *n);

/* The input's cpu-overcommit in thousandths, its default in place of 0. */
uint32_t cd_policy_cpu_overcommit(const struct cd_policy_input *in);

/* The node with id id, or NULL. */
const struct cd_policy_node *cd_policy_node_by_id(const struct cd_policy_input *in, uint32_t id);

/* The name of the node with id id, or "?". */
const char *cd_policy_node_name(const struct cd_policy_input *in, uint32_t id);

#endif
