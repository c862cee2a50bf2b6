/* The table of a VM's line in the local resource manager (lrm_phase.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/lrm_phase.h"

/* The table restated as the design says it: to is a phase, or KEEP; absent is impossible. */
#define KEEP (-1)
/* clang-format off */
#define C(from, ev, to) {CD_LRM_##from, CD_LRM_EV_##ev, to}
#define P(p) CD_LRM_##p
/* clang-format on */
static const struct {
	int from, ev, to;
} cells[] = {
	/* A step begins only on an idle line. */
	C(IDLE, LEASE, P(LEASING)),
	C(IDLE, START, P(STARTING)),
	C(IDLE, CHECK, P(CHECKING)),
	C(IDLE, STOP, P(STOPPING)),
	C(IDLE, RELEASE, P(RELEASING)),
	C(IDLE, REPORT, P(REPORTING)),
	C(IDLE, MIGRATE, P(MIGRATING)),
	C(IDLE, SETTLE, P(SETTLING)),
	C(IDLE, STEP, P(STEPPING)),
	C(IDLE, MEASURE, P(MEASURING)),
	C(MEASURING, MEASURED, P(IDLE)),
	C(IDLE, SAVE, P(SAVING)),
	C(IDLE, RESTORE, P(RESTORING)),
	C(SAVING, SAVED, P(IDLE)),
	C(RESTORING, RESTORED, P(IDLE)),
	/* Each step's answer brings it back. */
	C(MIGRATING, MIGRATED, P(IDLE)),
	C(SETTLING, SETTLED, P(IDLE)),
	C(STEPPING, STEPPED, P(IDLE)),
	C(LEASING, LEASES_DONE, P(IDLE)),
	C(STARTING, START_RETURNED, P(IDLE)),
	C(CHECKING, CHECKED, P(IDLE)),
	C(STOPPING, STOP_RETURNED, P(IDLE)),
	C(RELEASING, RELEASED, P(IDLE)),
	C(REPORTING, REPORTED, P(IDLE)),
	/* A void marks a start under way; elsewhere it changes nothing. */
	C(LEASING, VOID, P(VOIDED)),
	C(STARTING, VOID, P(VOIDED)),
	C(VOIDED, LEASES_DONE, P(IDLE)),
	C(VOIDED, START_RETURNED, P(IDLE)),
	C(VOIDED, VOID, KEEP),
	C(IDLE, VOID, KEEP),
	C(CHECKING, VOID, KEEP),
	C(STOPPING, VOID, KEEP),
	C(RELEASING, VOID, KEEP),
	C(REPORTING, VOID, KEEP),
	C(MIGRATING, VOID, KEEP),
	C(SETTLING, VOID, KEEP),
	C(STEPPING, VOID, KEEP),
	C(MEASURING, VOID, KEEP),
	C(SAVING, VOID, KEEP),
	C(RESTORING, VOID, KEEP),
};

START_TEST(test_every_cell)
{
	int from, ev, moves = 0, impossible = 0;
	size_t i;

	for (from = 0; from < CD_LRM_N_PHASES; from++)
		for (ev = 0; ev < CD_LRM_EV_N; ev++) {
			enum cd_lrm_phase p = (enum cd_lrm_phase)from;
			int rc, to = -2;

			for (i = 0; i < sizeof(cells) / sizeof(cells[0]); i++)
				if (cells[i].from == from && cells[i].ev == ev)
					to = cells[i].to;
			memset(&logged, 0, sizeof(logged));
			rc = cd_lrm_step(&p, (enum cd_lrm_event)ev, "web1", NULL, log_capture,
					 &logged);
			if (to == -2) {
				/* Impossible: said loudly, and nothing moves. */
				ck_assert_int_eq(rc, CD_ERR_INVALID);
				ck_assert_int_eq(p, from);
				ck_assert_int_eq(logged.n, 1);
				ck_assert_int_eq(logged.prio, LOG_ERR);
				ck_assert(strstr(logged.line, "ignored"));
				impossible++;
			} else if (to == KEEP) {
				ck_assert_int_eq(rc, 0);
				ck_assert_int_eq(p, from);
				ck_assert_int_eq(logged.n, 0);
			} else {
				ck_assert_int_eq(rc, 1);
				ck_assert_int_eq(p, to);
				ck_assert_int_eq(logged.n, 1);
				ck_assert(strncmp(logged.line, "vm web1: lrm: ", 14) == 0);
				moves++;
			}
		}
	ck_assert_int_eq(moves, 28);
	ck_assert_int_gt(impossible, 0);
}
END_TEST

START_TEST(test_log_lines)
{
	enum cd_lrm_phase p = CD_LRM_IDLE;

	memset(&logged, 0, sizeof(logged));
	ck_assert_int_eq(cd_lrm_step(&p, CD_LRM_EV_START, "web1", "action 7", log_capture, &logged),
			 1);
	ck_assert_str_eq(logged.line, "vm web1: lrm: idle -> starting (action 7)");
	ck_assert_int_eq(logged.prio, LOG_INFO);
	ck_assert_int_eq(cd_lrm_step(&p, CD_LRM_EV_VOID, "web1", NULL, log_capture, &logged), 1);
	ck_assert_str_eq(logged.line, "vm web1: lrm: starting -> voided");
	ck_assert_int_eq(logged.prio, LOG_WARNING);
	ck_assert_int_eq(cd_lrm_step(&p, CD_LRM_EV_CHECK, "web1", NULL, log_capture, &logged),
			 CD_ERR_INVALID);
	ck_assert_str_eq(logged.line, "vm web1: lrm: no 'check' when voided; ignored");
	ck_assert_int_eq(p, CD_LRM_VOIDED);
	/* The monitor's look every few seconds is logged at debug. */
	p = CD_LRM_IDLE;
	ck_assert_int_eq(cd_lrm_step(&p, CD_LRM_EV_CHECK, "web1", NULL, log_capture, &logged), 1);
	ck_assert_int_eq(logged.prio, LOG_DEBUG);
	/* Without a log function the line still moves. */
	logged.n = 0;
	ck_assert_int_eq(cd_lrm_step(&p, CD_LRM_EV_CHECKED, "web1", NULL, NULL, NULL), 1);
	ck_assert_int_eq(p, CD_LRM_IDLE);
	ck_assert_int_eq(logged.n, 0);
}
END_TEST

START_TEST(test_start_under_way)
{
	int p;

	for (p = 0; p < CD_LRM_N_PHASES; p++)
		ck_assert(cd_lrm_phase_start_under_way((enum cd_lrm_phase)p) ==
			  (p == CD_LRM_LEASING || p == CD_LRM_STARTING || p == CD_LRM_VOIDED ||
			   p == CD_LRM_RESTORING));
	ck_assert_str_eq(cd_lrm_phase_to_str((enum cd_lrm_phase)99), "unknown");
	ck_assert_str_eq(cd_lrm_event_to_str(CD_LRM_EV_START_RETURNED), "start returned");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lrm_phase");

	add_tcase(s, test_every_cell);
	add_tcase(s, test_log_lines);
	add_tcase(s, test_start_under_way);
	return run_suite(s);
}
