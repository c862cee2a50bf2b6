/*
 * The preflight of a move (clusterctl vm move VM [NODE] [--mode
 * live|quick|cold]): every reason the move cannot go ahead, found before
 * anything changes and reported together, each with a stable code, so an
 * admin sees them all at once.
 *
 * Pure: it reads the replicated state and the facts the daemon found
 * (quorum; what the target's libvirt says), asks the placement policy's own
 * rules about the target (policy/fit.h: the same rules, the same counting
 * of free room, the moving VM not counted on the target), and writes a
 * report. The checks:
 *
 *   - the cluster is quorate;
 *   - the VM exists; for a live or quick move it is running (and not
 *     moving already), for a cold one running or stopped;
 *   - every disk is a csvfs file: a disk elsewhere exists on its node only;
 *   - the target exists, is a cluster member, is not where the VM runs,
 *     and passes every placement rule (policy/fit.h); a VM of the VM's soft
 *     anti-affinity class there is a warning. Without a target, the node
 *     placement would choose among the others is taken, and why is said;
 *   - what the daemon learnt from the target's libvirt, when it did: the
 *     CPU comparison, missing bridges, disks it cannot reach.
 *
 * A cold move restarts the VM, so a host-model or host-passthrough VM
 * needs of the target only what it needs to start (cpumodels.h); a live or
 * quick one keeps its CPU and needs its node's model.
 */
#ifndef CD_MOVE_CHECK_H
#define CD_MOVE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "core/state.h"
#include "core/vm.h"

#define CD_MOVE_TEXT_MAX 256
#define CD_MOVE_FAILURES_MAX 64
#define CD_MOVE_WARNINGS_MAX 16

/*
 * Why a move is refused, or (the last) what it risks. Values and names are
 * stable: clients match the names ("code" in the JSON); new codes are
 * added at the end.
 */
enum cd_move_code {
	CD_MOVE_NOT_QUORATE = 1,	 /* "not-quorate" */
	CD_MOVE_NO_VM = 2,		 /* "no-vm": no VM of that name */
	CD_MOVE_VM_NOT_RUNNING = 3,	 /* "vm-not-running": live or quick, VM not running */
	CD_MOVE_VM_MOVING = 4,		 /* "vm-moving": it is migrating already */
	CD_MOVE_VM_BUSY = 5,		 /* "vm-busy": cold, VM starting, stopping or failed */
	CD_MOVE_DISK_LOCAL = 6,		 /* "disk-local": a disk that is no csvfs file */
	CD_MOVE_DISKS_UNREADABLE = 7,	 /* "disks-unreadable": its XML's disks cannot be read */
	CD_MOVE_NO_NODE = 8,		 /* "no-node": no node of the target's name */
	CD_MOVE_TARGET_IS_SOURCE = 9,	 /* "target-is-source" */
	CD_MOVE_NOT_MEMBER = 10,	 /* "not-member": not in the quorate membership */
	CD_MOVE_NO_TARGET = 11,		 /* "no-target": none given, and no other node fits */
	CD_MOVE_NODE_STATE = 12,	 /* "node-state": maintenance, quarantined, fenced ... */
	CD_MOVE_NOT_POSSIBLE_OWNER = 13, /* "not-possible-owner" */
	CD_MOVE_CPU_MODEL = 14,		 /* "cpu-model": does not list the model it needs */
	CD_MOVE_FAILURE_LIMIT = 15,	 /* "failure-limit": it failed there to its limit */
	CD_MOVE_ANTI_AFFINITY = 16,	 /* "anti-affinity": hard class already there */
	CD_MOVE_MEMORY = 17,		 /* "memory" */
	CD_MOVE_CORES = 18,		 /* "cores" */
	CD_MOVE_CPU_INCOMPATIBLE = 19,	 /* "cpu-incompatible": the target's libvirt says so */
	CD_MOVE_BRIDGE_MISSING = 20,	 /* "bridge-missing" on the target */
	CD_MOVE_DISK_MISSING = 21,	 /* "disk-missing": the target cannot reach a disk */
	CD_MOVE_SOFT_ANTI_AFFINITY = 22, /* "soft-anti-affinity": a warning only */
	CD_MOVE__COUNT
};

/* The code's name ("memory"), "unknown" for a value out of range. */
const char *cd_move_code_to_str(enum cd_move_code c);

/* What the target's libvirt said of the VM's CPU. */
enum cd_move_cpu {
	CD_MOVE_CPU_UNKNOWN, /* not asked (yet) */
	CD_MOVE_CPU_YES,
	CD_MOVE_CPU_NO,
};

/*
 * What the preflight cannot find out itself: the daemon fills it. The
 * lists and strings are the caller's; they are only read.
 */
struct cd_move_facts {
	bool quorate;		   /* this node's partition has quorum */
	const char *csvfs_run_dir; /* where csvfs files are (clusterd's csvfs_run_dir); set */
	enum cd_move_cpu cpu_compatible;
	const char *cpu_text;		    /* libvirt's words for CD_MOVE_CPU_NO; NULL for none */
	const char *const *missing_bridges; /* bridges the VM uses that the target lacks */
	size_t n_missing_bridges;
	const char *const *missing_disks; /* disk paths the target cannot open */
	size_t n_missing_disks;
};

/* One reason: a failure or a warning. */
struct cd_move_item {
	enum cd_move_code code;
	char node[CD_NAME_MAX + 1];  /* the node it is about; "" for the VM or the cluster */
	char text[CD_MOVE_TEXT_MAX]; /* in words, e.g. "node2 lacks memory (needs 1024 MiB, 512
					free)" */
};

struct cd_move_report {
	char vm[CD_NAME_MAX + 1];
	enum cd_move_mode mode;
	char source[CD_NAME_MAX + 1];	   /* the node it runs on; "" for none */
	uint32_t source_id;		   /* 0 for none */
	char target[CD_NAME_MAX + 1];	   /* the target given or chosen; "" for none */
	uint32_t target_id;		   /* 0: none, or no node of that name */
	bool target_chosen;		   /* none was given: placement chose it */
	char target_why[CD_MOVE_TEXT_MAX]; /* why it was chosen */
	struct cd_move_item failures[CD_MOVE_FAILURES_MAX];
	size_t n_failures;
	struct cd_move_item warnings[CD_MOVE_WARNINGS_MAX];
	size_t n_warnings;
	size_t n_dropped;	      /* failures and warnings beyond the arrays, not kept */
	char error[CD_MOVE_TEXT_MAX]; /* why cd_move_preflight() returned an error */
};

/*
 * Run every check of a move of VM vm_name in state s to the node named
 * target (NULL: the one placement would choose) in mode, with facts (not
 * NULL), into *out (overwritten). Returns 0 when the checks ran: the move
 * may go ahead if cd_move_report_ok(). Otherwise -ENOMEM, or
 * CD_ERR_INVALID when the state's picture is not one the policy takes
 * (out->error says why); out then holds the reasons found so far.
 */
int cd_move_preflight(const struct cd_state *s, const char *vm_name, const char *target,
		      enum cd_move_mode mode, const struct cd_move_facts *facts,
		      struct cd_move_report *out);

/* Whether r allows the move: a target and no failure. */
bool cd_move_report_ok(const struct cd_move_report *r);

/*
 * r as lines of text for a person, to f: a first line with the verdict,
 * then the target chosen and why, each failure and each warning, one a
 * line with its code. Returns 0, or -EIO if f has an error.
 */
int cd_move_report_print(FILE *f, const struct cd_move_report *r);

/*
 * r as a JSON object (for --json): {"vm", "mode", "source", "target",
 * "target_chosen", "target_why", "ok", "failures": [{"code", "node",
 * "text"}], "warnings": [...], "dropped"}; source and target are null for
 * none. A new reference (the caller puts it), NULL if out of memory.
 */
struct json_object *cd_move_report_to_json(const struct cd_move_report *r);

#endif
