/* The table of a VM's line in the local resource manager (lrm_phase.h). */
#include "config.h"

#include <stdio.h>
#include <syslog.h>

#include <clusterd/result.h>

#include "core/lrm_phase.h"
#include "lib/fsm.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* clang-format off */
static const char *const phase_names[] = {
	[CD_LRM_IDLE] = "idle",
	[CD_LRM_LEASING] = "leasing",
	[CD_LRM_STARTING] = "starting",
	[CD_LRM_VOIDED] = "voided",
	[CD_LRM_CHECKING] = "checking",
	[CD_LRM_STOPPING] = "stopping",
	[CD_LRM_RELEASING] = "releasing",
	[CD_LRM_REPORTING] = "reporting",
	[CD_LRM_MIGRATING] = "migrating",
	[CD_LRM_SETTLING] = "settling",
	[CD_LRM_STEPPING] = "stepping",
	[CD_LRM_MEASURING] = "measuring",
	[CD_LRM_SAVING] = "saving",
	[CD_LRM_RESTORING] = "restoring",
};

static const char *const event_names[] = {
	[CD_LRM_EV_LEASE] = "lease",
	[CD_LRM_EV_LEASES_DONE] = "leases done",
	[CD_LRM_EV_START] = "start",
	[CD_LRM_EV_START_RETURNED] = "start returned",
	[CD_LRM_EV_VOID] = "void",
	[CD_LRM_EV_CHECK] = "check",
	[CD_LRM_EV_CHECKED] = "checked",
	[CD_LRM_EV_STOP] = "stop",
	[CD_LRM_EV_STOP_RETURNED] = "stop returned",
	[CD_LRM_EV_RELEASE] = "release",
	[CD_LRM_EV_RELEASED] = "released",
	[CD_LRM_EV_REPORT] = "report",
	[CD_LRM_EV_REPORTED] = "reported",
	[CD_LRM_EV_MIGRATE] = "migrate",
	[CD_LRM_EV_MIGRATED] = "migrated",
	[CD_LRM_EV_SETTLE] = "settle",
	[CD_LRM_EV_SETTLED] = "settled",
	[CD_LRM_EV_STEP] = "step",
	[CD_LRM_EV_STEPPED] = "stepped",
	[CD_LRM_EV_MEASURE] = "measure",
	[CD_LRM_EV_MEASURED] = "measured",
	[CD_LRM_EV_SAVE] = "save",
	[CD_LRM_EV_SAVED] = "saved",
	[CD_LRM_EV_RESTORE] = "restore",
	[CD_LRM_EV_RESTORED] = "restored",
};
/* clang-format on */

_Static_assert(N_OF(phase_names) == CD_LRM_N_PHASES, "a name for every phase");
_Static_assert(N_OF(event_names) == CD_LRM_EV_N, "a name for every event");

const char *cd_lrm_phase_to_str(enum cd_lrm_phase p)
{
	return cd_fsm_name(phase_names, N_OF(phase_names), (int)p);
}

const char *cd_lrm_event_to_str(enum cd_lrm_event ev)
{
	return cd_fsm_name(event_names, N_OF(event_names), (int)ev);
}

bool cd_lrm_phase_start_under_way(enum cd_lrm_phase p)
{
	return p == CD_LRM_LEASING || p == CD_LRM_STARTING || p == CD_LRM_VOIDED ||
	       p == CD_LRM_RESTORING;
}

/*
 * The line's table. prio: how loudly the move is logged: the steps that
 * repeat (the monitor's look every few seconds, a stop's look every tick
 * until the domain is off; the stop itself is logged at notice where it
 * begins) at debug, the rest at info. A cell without a row is impossible:
 * logged and ignored.
 */
/* clang-format off */
static const struct lrm_row {
	struct cd_fsm_row r;
	int prio;
} rows[] = {
#define R(from, ev, to, prio) {{CD_LRM_##from, CD_LRM_EV_##ev, to}, LOG_##prio}
#define P(phase) CD_LRM_##phase
#define KEEP CD_FSM_KEEP
	/* R(phase,   event,          next phase,   log) */
	R(IDLE,      LEASE,          P(LEASING),   INFO),
	R(IDLE,      START,          P(STARTING),  INFO),
	R(IDLE,      CHECK,          P(CHECKING),  DEBUG),
	R(IDLE,      STOP,           P(STOPPING),  DEBUG),
	R(IDLE,      RELEASE,        P(RELEASING), INFO),
	R(IDLE,      REPORT,         P(REPORTING), INFO),
	R(IDLE,      MIGRATE,        P(MIGRATING), INFO),
	R(IDLE,      SETTLE,         P(SETTLING),  INFO),
	R(IDLE,      STEP,           P(STEPPING),  INFO),
	R(IDLE,      MEASURE,        P(MEASURING), INFO),
	R(IDLE,      SAVE,           P(SAVING),    INFO),
	R(IDLE,      RESTORE,        P(RESTORING), INFO),
	/* Nothing under way to void: the power-off beside the line sees to it. */
	R(IDLE,      VOID,           KEEP,         INFO),

	/* The leases' answer: the start goes on, or they are given back. */
	R(LEASING,   LEASES_DONE,    P(IDLE),      INFO),
	R(LEASING,   VOID,           P(VOIDED),    WARNING),

	R(STARTING,  START_RETURNED, P(IDLE),      INFO),
	R(STARTING,  VOID,           P(VOIDED),    WARNING),

	/* Voided: its answer is awaited, then the start goes no further. */
	R(VOIDED,    LEASES_DONE,    P(IDLE),      INFO),
	R(VOIDED,    START_RETURNED, P(IDLE),      INFO),
	R(VOIDED,    VOID,           KEEP,         INFO),

	R(CHECKING,  CHECKED,        P(IDLE),      DEBUG),
	R(CHECKING,  VOID,           KEEP,         INFO),

	R(STOPPING,  STOP_RETURNED,  P(IDLE),      DEBUG),
	R(STOPPING,  VOID,           KEEP,         INFO),

	R(RELEASING, RELEASED,       P(IDLE),      INFO),
	R(RELEASING, VOID,           KEEP,         INFO),

	R(REPORTING, REPORTED,       P(IDLE),      DEBUG),
	R(REPORTING, VOID,           KEEP,         INFO),

	/* The power-off beside a move's call sees to the domain; the call fails. */
	R(MIGRATING, MIGRATED,       P(IDLE),      INFO),
	R(MIGRATING, VOID,           KEEP,         INFO),

	R(SETTLING,  SETTLED,        P(IDLE),      INFO),
	R(SETTLING,  VOID,           KEEP,         INFO),

	R(STEPPING,  STEPPED,        P(IDLE),      DEBUG),
	R(STEPPING,  VOID,           KEEP,         INFO),

	R(MEASURING, MEASURED,       P(IDLE),      INFO),
	R(MEASURING, VOID,           KEEP,         INFO),

	R(SAVING,    SAVED,          P(IDLE),      INFO),
	R(SAVING,    VOID,           KEEP,         INFO),

	R(RESTORING, RESTORED,       P(IDLE),      INFO),
	R(RESTORING, VOID,           KEEP,         INFO),
#undef KEEP
#undef P
#undef R
};
/* clang-format on */

int cd_lrm_step(enum cd_lrm_phase *phase, enum cd_lrm_event ev, const char *vm, const char *why,
		cd_lrm_log_fn *log, void *ctx)
{
	const struct lrm_row *row =
		cd_fsm_find(rows, N_OF(rows), sizeof(rows[0]), (int)*phase, (int)ev, NULL, NULL);
	char line[256];

	if (!row) {
		if (log) {
			snprintf(line, sizeof(line), "vm %s: lrm: no '%s' when %s; ignored%s%s%s",
				 vm, cd_lrm_event_to_str(ev), cd_lrm_phase_to_str(*phase),
				 why ? " (" : "", why ? why : "", why ? ")" : "");
			log(ctx, LOG_ERR, line);
		}
		return CD_ERR_INVALID;
	}
	if (row->r.to == CD_FSM_KEEP)
		return 0;
	if (log) {
		snprintf(line, sizeof(line), "vm %s: lrm: %s -> %s%s%s%s", vm,
			 cd_lrm_phase_to_str(*phase),
			 cd_lrm_phase_to_str((enum cd_lrm_phase)row->r.to), why ? " (" : "",
			 why ? why : "", why ? ")" : "");
		log(ctx, row->prio, line);
	}
	*phase = (enum cd_lrm_phase)row->r.to;
	return 1;
}
