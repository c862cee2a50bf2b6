/*
 * Virtual machines as cluster resources: their records in the replicated
 * state and the changes that act on them. Pure: no I/O.
 *
 * Who changes what:
 *   admins (clusterctl)  vm.add, vm.remove, vm.start, vm.stop, vm.set
 *   the coordinator      vm.place   (its policy decided where a VM runs)
 *   the owner node       vm.report  (an action's result or a monitor finding)
 *   any member           vm.identity (an old state's VM gets a fixed UUID
 *                        and MACs: those it runs with, or new ones)
 *
 * A VM's identity (UUID, MACs) is fixed in its XML when it is added and
 * unique in the cluster; see vmident.h.
 * Each placement or stop gets a new action id from the state itself, so
 * every member agrees on it and the owner runs each action at most once.
 */
#ifndef CD_VM_H
#define CD_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define CD_VM_XML_MAX (256 * 1024)
#define CD_VM_VCPUS_MAX 4096
#define CD_VM_MAX_OWNERS 32
#define CD_VM_ERROR_MAX 255
/* Restarts on one node within the period before the VM is moved away. */
#define CD_VM_FAIL_LIMIT 3
#define CD_VM_FAIL_PERIOD_MS (3600 * 1000ull)

enum cd_vm_priority {
	CD_PRIO_HIGH,
	CD_PRIO_MEDIUM,
	CD_PRIO_LOW,
	CD_PRIO_NO_AUTO_START,
};

enum cd_vm_state {
	CD_VM_STOPPED,
	CD_VM_STARTING,
	CD_VM_RUNNING,
	CD_VM_STOPPING,
	CD_VM_FAILED,
	CD_VM_MIGRATING,
};

enum cd_move_mode {
	CD_MOVE_LIVE,
	CD_MOVE_QUICK,
	CD_MOVE_COLD,
};

/*
 * Where a move stands (the replicated part; what each node does meanwhile
 * is its own, lrm_phase.h). Each phase is one node's turn:
 *   sharing    the source makes its disk leases shared;
 *   receiving  the target takes them shared too;
 *   copying    the source's libvirt copies the memory to the target;
 *   aborting   cancelled, the target failed or died: the source settles
 *              it from both domains' real state (mostly: it stays there);
 *   orphaned   the source died: the target's real state decides.
 * A quick move (the memory through a state file on a shared volume):
 *   saving     the source pauses the VM and writes its state file, the
 *              target meanwhile restores it paused as the file grows;
 *              done, the source has given its disk leases up and the VM
 *              is the target's, saved (struct cd_vm_saved);
 *   restoring  the target finishes the restore, checks the image against
 *              the recorded checksum and takes the disk leases; it says
 *              so (vm.restored), which consumes the saved state;
 *   resuming   the target lets it run and reports it running.
 * A live copy that does not converge is called off by the source (a step
 * "copying" with fallback); settled back on the source, the move goes on
 * as a quick one (saving) if the VM's live-fallback is quick.
 * The node that settles the move reports its outcome (vm.report).
 */
enum cd_move_phase {
	CD_MOVE_NONE,
	CD_MOVE_SHARING,
	CD_MOVE_RECEIVING,
	CD_MOVE_COPYING,
	CD_MOVE_ABORTING,
	CD_MOVE_ORPHANED,
	CD_MOVE_SAVING,
	CD_MOVE_RESTORING,
	CD_MOVE_RESUMING,
};
#define CD_MOVE_N_PHASES (CD_MOVE_RESUMING + 1)

/* How a move ended. */
enum cd_move_outcome {
	CD_MOVE_OUT_NONE,      /* no move yet */
	CD_MOVE_OUT_MOVED,     /* it runs on the target */
	CD_MOVE_OUT_STAYED,    /* it runs on the source (the move failed) */
	CD_MOVE_OUT_CANCELLED, /* it runs on the source (an admin cancelled) */
	CD_MOVE_OUT_FAILED,    /* it runs nowhere: failover restarts it */
	CD_MOVE_OUT_SAVED,     /* it runs nowhere, saved: restored where the policy puts it */
};
#define CD_MOVE_N_OUTCOMES (CD_MOVE_OUT_SAVED + 1)

const char *cd_move_phase_to_str(enum cd_move_phase p);
const char *cd_move_outcome_to_str(enum cd_move_outcome o);

/* A move under way (phase NONE: none). The VM's node is its source until it ends. */
struct cd_vm_move {
	enum cd_move_phase phase;
	enum cd_move_mode mode;
	uint32_t source, target;
	bool cancelled;	   /* an admin cancelled it */
	bool target_lost;  /* the target died: nothing of the VM runs there */
	bool copy_begun;   /* it reached copying: only then can it have moved */
	uint64_t begun_ms; /* the requester's wall clock */
	/* A quick move's state file (volume, file on it). */
	char state_volume[64], state_file[64];
	/* A live copy that did not converge was called off: once the source runs it
	 * alone again, the move goes on as a quick one (the VM's live-fallback). */
	bool fallback;
};

/*
 * A VM's memory state saved in a file of a shared volume (agents/vmstate.h),
 * by a quick move or vm stop --save (volume "": none). It is restored at
 * most once: the node that restored it says so (vm.restored) before it lets
 * the VM run, and that consumes it.
 */
struct cd_vm_saved {
	char volume[64], file[64];
	uint64_t action_id; /* the save that wrote it (the file's head names it) */
	uint64_t length;    /* bytes of image */
	char sha256[65];
	uint32_t node;	   /* where it was saved */
	uint64_t saved_ms; /* that node's wall clock */
};

/* How the VM's last move ended (action_id 0: it never moved). */
#define CD_MOVE_RATE_MIN_MIB 64 /* a copy this large measures a rate; a smaller one, latency */

struct cd_vm_last_move {
	uint64_t action_id;
	enum cd_move_outcome outcome;
	enum cd_move_mode mode;
	uint32_t source, target;
	uint64_t downtime_ms, total_ms; /* as the node that settled it measured them; 0 unknown */
	/*
	 * A live move's copy rate (MiB/s): the data it sent over the time it
	 * took, when it sent enough to be a measure of the network
	 * (CD_MOVE_RATE_MIN_MIB); 0 unknown.
	 */
	uint64_t rate_mib_s;
	/*
	 * How fast the guest dirtied its memory (MiB/s), measured on the
	 * source just before a live copy; dirty_measured false: not measured
	 * (0 is a measure: an idle guest).
	 */
	bool dirty_measured;
	uint64_t dirty_mib_s;
	char error[CD_VM_ERROR_MAX + 1];
};

/*
 * Its place on the ladder of the drain of the node it ran on (core/drain.h):
 * written by the drain's vm.move, so a new coordinator goes on from here.
 */
struct cd_vm_drain {
	uint64_t job;		       /* the drain (its id); 0: never moved by one */
	enum cd_move_mode rung;	       /* the mode of its last drain move */
	uint32_t tries;		       /* that move was the rung's try number tries (from 1) */
	uint64_t action_id;	       /* that move's action */
	char why[CD_VM_ERROR_MAX + 1]; /* why it stepped up to the rung ("" if it started there) */
};

enum cd_failback {
	CD_FAILBACK_NEVER,
	CD_FAILBACK_IMMEDIATELY,
	CD_FAILBACK_WINDOW,
};

const char *cd_vm_priority_to_str(enum cd_vm_priority p);
const char *cd_vm_state_to_str(enum cd_vm_state s);
const char *cd_move_mode_to_str(enum cd_move_mode m);
const char *cd_failback_to_str(enum cd_failback f);
int cd_vm_state_from_str(const char *s, enum cd_vm_state *out);

struct cd_vm {
	char name[64];
	char *xml;	/* the authoritative libvirt domain XML */
	size_t xml_len; /* strlen(xml): the VMs' total is summed at every vm.add */
	/*
	 * Not state: never serialized or compared. A number this process
	 * gives each XML it puts in a record (cd_vm_xml_stamp()), kept by a
	 * copy along with the same XML; 0: none given. With xml's address it
	 * tells a reader that keeps what it derived from the XML (the policy
	 * adapter) that the XML is the one it read, without reading it again:
	 * an address alone may be reused by the next XML after a free.
	 */
	uint64_t xml_stamp;
	/*
	 * Not state (derived from uuid and macs, set where they are): what the
	 * uniqueness checks of every vm.add compare first, an integer for each
	 * VM instead of strings (vm.c ident_keys()).
	 */
	uint64_t uuid_key;  /* a hash of the UUID, lowercase; 0 without one */
	uint64_t mac_bloom; /* a bit per MAC (a hash of it, mod 64) */
	char uuid[37];	    /* the domain UUID in xml, lower case ("" in an old state) */
	/*
	 * The MACs of xml's interfaces, lower case, each followed by a comma;
	 * derived from xml (never stored apart from it), NULL if none.
	 */
	char *macs;
	bool ident_missing; /* derived: xml lacks the UUID or a MAC (an old state) */
	uint32_t vcpus;
	uint64_t memory_mb;

	/*
	 * Settings (vm set). Owners are node names, validated when set. Each
	 * list is an array of exactly n names on the heap, NULL when n is 0,
	 * owned by the record like xml (cd_vm_copy() copies it, cd_vm_free()
	 * frees it; cd_vm_owners_set() sets it): most VMs have none, and a
	 * record is what every vm.add moves and every state copy copies.
	 */
	enum cd_vm_priority priority;
	char (*preferred)[64];
	size_t n_preferred;
	char (*possible)[64];
	size_t n_possible;
	char anti_class[64];
	bool anti_hard;
	enum cd_failback failback;
	uint16_t fb_start, fb_end; /* minutes of the day, for CD_FAILBACK_WINDOW */
	enum cd_move_mode move_mode;
	bool postcopy;	    /* a live move may switch to post-copy (its risk accepted) */
	bool fallback_none; /* a live move that cannot finish fails (no quick fallback) */
	/*
	 * cpu=cluster-baseline: each start gives it the CPU every node of the
	 * cluster runs (libvirt's baseline of their host CPUs) in place of its
	 * XML's <cpu>; cpu=as-defined (false): its XML's own.
	 */
	bool cpu_baseline;
	bool cold_never; /* cold-restart=never: a drain may not stop and restart it */

	/* What the admin wants, and what is. */
	bool target_started;
	bool force_stop;
	enum cd_vm_state state;
	uint32_t node;	    /* where it runs, starts or stops; 0 = nowhere */
	uint64_t action_id; /* the action the owner is to carry out */
	uint32_t fail_count;
	uint32_t failed_on;	/* node of the last failures */
	uint64_t first_fail_ms; /* wall clock of the first failure of the period */
	char last_error[CD_VM_ERROR_MAX + 1];
	struct cd_vm_move move; /* in state MIGRATING */
	struct cd_vm_last_move last_move;
	/* vm stop --save: its node saves it into this file (STOPPING). */
	bool stop_save;
	char save_volume[64], save_file[64];
	struct cd_vm_saved saved;
	/* A cold move (STOPPING): once stopped, it starts on this node. */
	uint32_t cold_to;
	struct cd_vm_drain drain;
	/*
	 * Not state: never compared or serialized. What the state checksum
	 * printed of this record last, with a copy of the record it printed
	 * it from (state_sum.c); NULL: nothing yet. Shared by the record's
	 * copies (cd_vm_copy()), freed by cd_vm_free().
	 */
	struct cd_vm_print *print;
};

/* A new xml_stamp, never 0 and never given before in this process; any thread. */
uint64_t cd_vm_xml_stamp(void);

struct cd_state;

/*
 * The lifecycle. A VM's state (and the node it is on) moves only through
 * cd_vm_transition(), by one table in vm_lifecycle.c: a row per state and
 * event says what the event does in that state, the next state, or that
 * the event is refused there. The changes call it with what they mean:
 */
enum cd_vm_event {
	CD_VM_EV_START,		 /* vm.start: an admin wants it to run */
	CD_VM_EV_STOP,		 /* vm.stop: an admin wants it stopped */
	CD_VM_EV_PLACE,		 /* vm.place: the coordinator put it on a node */
	CD_VM_EV_REPORT_RUNNING, /* vm.report "running" from its node */
	CD_VM_EV_REPORT_STOPPED, /* vm.report "stopped" */
	CD_VM_EV_REPORT_FAILED,	 /* vm.report "failed" */
	/* vm.report of a passing state ("starting", "stopping", "migrating") */
	CD_VM_EV_REPORT_OTHER,
	CD_VM_EV_NODE_DEAD,    /* node.dead: the node it is on (or moves to) is known dead */
	CD_VM_EV_MOVE,	       /* vm.move: an admin (or the policy) moves it */
	CD_VM_EV_MOVE_STEP,    /* vm.move.step: a node did its part of a move */
	CD_VM_EV_MOVE_CANCEL,  /* vm.move.cancel */
	CD_VM_EV_REPORT_MOVED, /* vm.report "moved" from the source: it runs on the target */
	CD_VM_EV_REPORT_SAVED, /* vm.report "saved" from its node: off, its state in a file */
	CD_VM_EV_RESTORED,     /* vm.restored: its node restored it paused (or could not) */
	CD_VM_EV_ADOPT,	       /* vm.import: it runs on its node already, outside the cluster */
};
const char *cd_vm_event_to_str(enum cd_vm_event ev);

/* What an event carries besides its kind; what it does not use is 0 or NULL. */
struct cd_vm_event_args {
	uint32_t node;	   /* PLACE: where; REPORT_*: the reporter; NODE_DEAD: the dead node */
	bool force;	   /* STOP: power it off */
	uint64_t wall_ms;  /* REPORT_*: the reporter's wall clock, for the failure count */
	const char *error; /* REPORT_*: the report's error, NULL if none */
	const char *node_name, *how;	/* NODE_DEAD: the dead node's name, how it died */
	uint32_t target;		/* MOVE: where to */
	enum cd_move_mode mode;		/* MOVE */
	enum cd_move_phase phase;	/* MOVE_STEP: the phase the node finished */
	bool ok;			/* MOVE_STEP: whether it did */
	uint64_t downtime_ms, total_ms; /* REPORT_* ending a move, if measured */
	uint64_t rate_mib_s;	   /* REPORT_* ending a live move: its copy rate, if measured */
	bool dirty_measured;	   /* REPORT_* ending a live move: its dirty rate was measured, */
	uint64_t dirty_mib_s;	   /* this many MiB/s before the copy */
	bool save;		   /* STOP: save it (into volume, file) */
	const char *volume, *file; /* STOP with save, MOVE quick: the state file */
	const struct cd_vm_saved *saved; /* REPORT_SAVED, MOVE_STEP saving: the image */
	bool corrupt;			 /* RESTORED not ok: the image failed its checks */
	bool fallback;			 /* MOVE_STEP copying: fall back to quick */
	/*
	 * STOP with save: it stays wanted running, so it is restored where the
	 * policy places it (a node that stops saves its VMs so); target_started
	 * carries this to the saved report, the record needs nothing more.
	 */
	bool resume;
};

/* A transition, as the state's hook (struct cd_state) is told of it once it is made. */
struct cd_vm_transition_rec {
	const struct cd_vm *vm; /* as the transition left it */
	enum cd_vm_state from, to;
	enum cd_vm_event ev;
	uint32_t node; /* the event's node (args.node); 0 for an admin's */
};
typedef void cd_vm_hook_fn(void *ctx, const struct cd_vm_transition_rec *t);

/*
 * Apply event ev (args a, NULL for none) to vm, a VM of s: the first row of
 * the table for vm's state and ev whose guard holds. 0, the transition made
 * (and told to s's hook unless the row keeps the state), or a negative code
 * with err set and nothing changed: the cell is impossible.
 */
int cd_vm_transition(struct cd_state *s, struct cd_vm *vm, enum cd_vm_event ev,
		     const struct cd_vm_event_args *a, char *err, size_t errlen);

/*
 * The changes on VMs, called by cd_state_apply() with the change object;
 * same contract: 0, or a negative code with err set and s unchanged.
 */
typedef int cd_vm_op_fn(struct cd_state *s, const struct json_object *c, char *err, size_t errlen);
cd_vm_op_fn cd_vm_op_add, cd_vm_op_remove, cd_vm_op_start, cd_vm_op_stop, cd_vm_op_set,
	cd_vm_op_place, cd_vm_op_report, cd_vm_op_identity, cd_vm_op_move, cd_vm_op_move_step,
	cd_vm_op_move_cancel, cd_vm_op_restored, cd_vm_op_import;

/* A VM's saved state as JSON ("saved"; NULL: none), and read back (0, or -1 if malformed). */
struct json_object *cd_vm_saved_to_json(const struct cd_vm_saved *sv);
int cd_vm_saved_from_json(struct cd_vm_saved *sv, const struct json_object *o);

/*
 * Where vm's state is saved: the volume the cluster property state-volume
 * names, else (none, the default) the volume of its first disk on a shared
 * volume, else the first volume of s by name; the file is "NAME.vmstate".
 * 0; or, with err set (what to do, for an admin), CD_ERR_INVALID when
 * state-volume names a volume the cluster does not have (never another
 * one instead: the admin chose it), CD_ERR_NOT_FOUND when it has none.
 */
int cd_vm_state_file_place(const struct cd_state *s, const struct cd_vm *vm, const char *run_dir,
			   char vol[64], char file[64], char *err, size_t errlen);

/*
 * What vm.stop needs besides the VM's name to save vm (vm stop --save, a
 * node's save on shutdown), added to args (the change or the request it
 * comes from): "save", the state file (cd_vm_state_file_place(), run_dir:
 * where volumes are mounted) and, with resume, "resume" (saved, it stays
 * wanted running, so the policy restores it where it places it). 0, or
 * CD_ERR_INVALID with err set: vm does not run, or there is no volume.
 */
int cd_vm_save_args(const struct cd_state *s, const struct cd_vm *vm, const char *run_dir,
		    bool resume, struct json_object *args, char *err, size_t errlen);

/*
 * The vm.move change that moves vm to target in mode (a quick move with
 * its state file placed, run_dir: where volumes are mounted), stamped
 * wall_ms: NULL with err set if it cannot be.
 */
struct json_object *cd_vm_move_change(const struct cd_state *s, const struct cd_vm *vm,
				      uint32_t target, enum cd_move_mode mode, const char *run_dir,
				      uint64_t wall_ms, char *err, size_t errlen);

/* The vm.move.cancel change of the move of VM name. */
struct json_object *cd_vm_move_cancel_change(const char *name);

/* The node that acts next in vm's move (0: none, or no move): the table's turn. */
uint32_t cd_vm_move_turn(const struct cd_vm *vm);

/* Whether another VM than except (NULL: none) has this UUID or this MAC. */
const struct cd_vm *cd_vm_uuid_user(const struct cd_state *s, const char *uuid,
				    const struct cd_vm *except);
const struct cd_vm *cd_vm_mac_user(const struct cd_state *s, const char *mac,
				   const struct cd_vm *except);
/* Whether vm's stored XML fixes its UUID and every MAC (false in an old state). */
bool cd_vm_identity_complete(const struct cd_vm *vm);

/*
 * What node reports of vm once it powered vm off because its storage
 * lease was lost: "stopped" when vm was being stopped for good there (its
 * state stopping on node, wanted stopped, no save asked, no cold move):
 * that stop is done, the VM runs nowhere as asked. Otherwise "failed":
 * it was wanted running (or saved, or moved) and did not get its way.
 */
const char *cd_vm_lapse_report(const struct cd_vm *vm, uint32_t node);

/* Free what vm owns (xml, macs, the owner lists) and leave it without them; again is a no-op. */
void cd_vm_free(struct cd_vm *vm);
/* One more holder of a record's print (struct cd_vm; state_sum.c), and one less; NULL is a no-op.
 */
struct cd_vm_print *cd_vm_print_hold(struct cd_vm_print *p);
void cd_vm_print_free(struct cd_vm_print *p);
/* Deep-copy src into dst (overwritten): 0, or -ENOMEM with dst left empty. */
int cd_vm_copy(struct cd_vm *dst, const struct cd_vm *src);
/*
 * Set an owner list of a VM (&vm->preferred, &vm->n_preferred or the
 * possible ones) to a copy of the n names (each truncated to 63 bytes),
 * freeing the old one; n 0 leaves it NULL. 0, or -ENOMEM with the list
 * unchanged. No check: the caller validated the names.
 */
int cd_vm_owners_set(char (**list)[64], size_t *n_list, const char *const *names, size_t n);

struct json_object *cd_vm_to_json(const struct cd_vm *vm);
/* A VM's move under way and its last move as its JSON has them ("move", "last_move"); NULL: none.
 */
struct json_object *cd_vm_move_to_json(const struct cd_vm *vm);
struct json_object *cd_vm_last_move_to_json(const struct cd_vm *vm);
/*
 * A VM record, checked as the changes that made it check theirs (name,
 * XML, counts, owners, settings). 0, or CD_ERR_CORRUPT (or -ENOMEM) with
 * err set; vm is left empty on failure.
 */
int cd_vm_from_json(struct cd_vm *vm, const struct json_object *o, char *err, size_t errlen);

/* Bytes of domain XML the VMs of s hold, except's not counted (may be NULL). */
size_t cd_vm_xml_total(const struct cd_state *s, const struct cd_vm *except);

#endif
