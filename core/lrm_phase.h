/*
 * What the local resource manager is doing for one VM (its "line"), as a
 * table: {phase, event} -> next phase. Pure: no loop, no libvirt.
 *
 * The line is one thing at a time: taking the disk leases, the start call,
 * a monitor check, a stop call, giving the leases back, a report. The
 * reconcile loop begins a step only in IDLE, and each step's answer brings
 * the line back to IDLE. A start under way whose disk leases were voided (the
 * host lease lapsed) is VOIDED: carried no further, whatever its answer.
 *
 * The node-wide power-offs (a lapsed host lease, the self-fence) do not wait
 * for the line: they run beside it and are counted apart (struct lvm).
 *
 * A move adds its phases: the migration call, the settling looks at both
 * ends, a move step's report; its lease changes are LEASING like a start's.
 * A quick move or a save adds the save and the restore calls.
 */
#ifndef CD_LRM_PHASE_H
#define CD_LRM_PHASE_H

#include <stdbool.h>

enum cd_lrm_phase {
	CD_LRM_IDLE,	  /* nothing under way */
	CD_LRM_LEASING,	  /* taking the disk leases of a start */
	CD_LRM_STARTING,  /* the start's libvirt call */
	CD_LRM_VOIDED,	  /* a start under way whose leases were voided */
	CD_LRM_CHECKING,  /* a monitor call (a look, or clearing a crashed domain) */
	CD_LRM_STOPPING,  /* a stop's libvirt call (shutdown, look, destroy) */
	CD_LRM_RELEASING, /* giving the disk leases back */
	CD_LRM_REPORTING, /* a report on its way through the cluster */
	CD_LRM_MIGRATING, /* a move's libvirt migration call (the source) */
	CD_LRM_SETTLING,  /* a move's looks at both ends' real state, and their fixes */
	CD_LRM_STEPPING,  /* a move's step (vm.move.step) on its way through the cluster */
	CD_LRM_MEASURING, /* a move's look at how fast the guest dirties its memory */
	CD_LRM_SAVING,	  /* a save into a state file (a quick move's, vm stop --save) */
	CD_LRM_RESTORING, /* a restore from a state file (paused, until it is recorded) */
};
#define CD_LRM_N_PHASES (CD_LRM_RESTORING + 1)

enum cd_lrm_event {
	CD_LRM_EV_LEASE,	  /* begin taking the disk leases */
	CD_LRM_EV_LEASES_DONE,	  /* the leases' answer (taken or not) */
	CD_LRM_EV_START,	  /* the start call goes out */
	CD_LRM_EV_START_RETURNED, /* the start call answered */
	CD_LRM_EV_VOID,		  /* the disk leases were voided (host lease lapsed) */
	CD_LRM_EV_CHECK,	  /* a monitor call goes out */
	CD_LRM_EV_CHECKED,	  /* it answered */
	CD_LRM_EV_STOP,		  /* a stop call goes out */
	CD_LRM_EV_STOP_RETURNED,  /* it answered */
	CD_LRM_EV_RELEASE,	  /* begin giving the disk leases back */
	CD_LRM_EV_RELEASED,	  /* they are given back (or failed to be) */
	CD_LRM_EV_REPORT,	  /* a report goes out */
	CD_LRM_EV_REPORTED,	  /* it is recorded (or refused) */
	CD_LRM_EV_MIGRATE,	  /* the migration call goes out */
	CD_LRM_EV_MIGRATED,	  /* it answered (whatever came of it) */
	CD_LRM_EV_SETTLE,	  /* the first look at a move's ends goes out */
	CD_LRM_EV_SETTLED,	  /* the looks are over (decided, or to look again) */
	CD_LRM_EV_STEP,		  /* a move step goes out */
	CD_LRM_EV_STEPPED,	  /* it is recorded (or refused) */
	CD_LRM_EV_MEASURE,	  /* the dirty-rate measurement goes out */
	CD_LRM_EV_MEASURED,	  /* it answered */
	CD_LRM_EV_SAVE,		  /* the save call goes out */
	CD_LRM_EV_SAVED,	  /* it answered (whatever came of it) */
	CD_LRM_EV_RESTORE,	  /* the restore call goes out */
	CD_LRM_EV_RESTORED,	  /* it answered */
};
#define CD_LRM_EV_N (CD_LRM_EV_RESTORED + 1)

const char *cd_lrm_phase_to_str(enum cd_lrm_phase p);
const char *cd_lrm_event_to_str(enum cd_lrm_event ev);

/* Whether a start begun here has not returned in p: the domain may yet come up. */
bool cd_lrm_phase_start_under_way(enum cd_lrm_phase p);

/* Takes one log line (without a newline) at a syslog priority. */
typedef void cd_lrm_log_fn(void *ctx, int prio, const char *line);

/*
 * Event ev in *phase of VM vm: moves *phase by the table and logs the move
 * ("vm web1: lrm: idle -> starting (action 7)"; why may be NULL). Returns 1 if
 * the phase moved, 0 if the event was taken and the phase stays, and
 * CD_ERR_INVALID for an impossible cell: logged, and *phase is unchanged.
 */
int cd_lrm_step(enum cd_lrm_phase *phase, enum cd_lrm_event ev, const char *vm, const char *why,
		cd_lrm_log_fn *log, void *ctx);

#endif
