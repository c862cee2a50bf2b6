#include "config.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/leasestate.h"

/* A cell of a table, restated here: to is a state, or KEEP, or absent (impossible). */
#define KEEP (-1)
struct cell {
	int from, ev, to;
};

/* clang-format off */
#define H(from, ev, to) {CD_HOST_LEASE_##from, CD_HOST_EV_##ev, to}
#define HS(s) CD_HOST_LEASE_##s
static const struct cell host_cells[] = {
	H(JOINING, JOINED, HS(HELD)),	    H(JOINING, RELEASE, HS(RELEASED)),
	H(JOINING, RESUME, KEEP),	    H(HELD, JOINED, KEEP),
	H(HELD, EXPIRED, HS(LAPSED)),	    H(HELD, RELEASE, HS(RELEASED)),
	H(HELD, RESUME, KEEP),		    H(HELD, LEAVE, HS(LEFT)),
	H(LAPSED, JOINED, HS(HELD)),	    H(LAPSED, RELEASE, HS(RELEASED)),
	H(LAPSED, RESUME, KEEP),	    H(RELEASED, JOINED, HS(HELD)),
	H(RELEASED, RELEASE, KEEP),	    H(RELEASED, RESUME, HS(JOINING)),
};

#define M(from, ev, to) {CD_META_LEASE_##from, CD_META_EV_##ev, to}
#define MS(s) CD_META_LEASE_##s
static const struct cell meta_cells[] = {
	M(NOT_HELD, ACQUIRE, MS(ACQUIRING)),	 M(NOT_HELD, LOST, KEEP),
	M(ACQUIRING, ACQUIRED, MS(HELD)),	 M(ACQUIRING, ACQUIRE_FAILED, MS(NOT_HELD)),
	M(ACQUIRING, LOST, KEEP),		 M(HELD, REFRESH, MS(REFRESHING)),
	M(HELD, RELEASE, MS(RELEASING)),	 M(HELD, LOST, MS(NOT_HELD)),
	M(REFRESHING, REFRESHED, MS(HELD)),	 M(REFRESHING, LOST, MS(VOID_QUEUED)),
	M(RELEASING, RELEASED, MS(NOT_HELD)),	 M(RELEASING, LOST, MS(VOID_QUEUED)),
	M(VOID_QUEUED, REFRESHED, MS(NOT_HELD)), M(VOID_QUEUED, RELEASED, MS(NOT_HELD)),
	M(VOID_QUEUED, LOST, KEEP),
};
/* clang-format on */

static const struct cell *find(const struct cell *cells, size_t n, int from, int ev)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cells[i].from == from && cells[i].ev == ev)
			return &cells[i];
	return NULL;
}

static int host_step(int *state, int ev)
{
	enum cd_host_lease_state s = (enum cd_host_lease_state)state[0];
	int rc = cd_host_lease_transition(&s, (enum cd_host_lease_event)ev, "vol1", "why",
					  log_capture, &logged);

	*state = (int)s;
	return rc;
}

static int meta_step(int *state, int ev)
{
	enum cd_meta_lease_state s = (enum cd_meta_lease_state)state[0];
	int rc = cd_meta_lease_transition(&s, (enum cd_meta_lease_event)ev, "vol1", NULL,
					  log_capture, &logged);

	*state = (int)s;
	return rc;
}

/* Every cell of a machine: a transition, a kept state, or an impossible event ignored. */
static void every_cell(const struct cell *cells, size_t n_cells, int n_states, int n_events,
		       int (*step)(int *, int), const char *what)
{
	int from, ev;

	for (from = 0; from < n_states; from++)
		for (ev = 0; ev < n_events; ev++) {
			const struct cell *c = find(cells, n_cells, from, ev);
			int state = from, rc;

			memset(&logged, 0, sizeof(logged));
			rc = step(&state, ev);
			if (!c) {
				ck_assert_int_eq(rc, CD_ERR_INVALID);
				ck_assert_int_eq(state, from);
				ck_assert_int_eq(logged.n, 1);
				ck_assert_int_eq(logged.prio, LOG_WARNING);
				ck_assert(strstr(logged.line, "ignored"));
			} else if (c->to == KEEP) {
				ck_assert_int_eq(rc, 0);
				ck_assert_int_eq(state, from);
				ck_assert_int_eq(logged.n, 0);
			} else {
				ck_assert_int_eq(rc, 1);
				ck_assert_int_eq(state, c->to);
				ck_assert_int_eq(logged.n, 1);
				ck_assert_int_eq(logged.prio, LOG_INFO);
				ck_assert(strncmp(logged.line, "volume vol1: ", 13) == 0);
				ck_assert(strstr(logged.line, what));
			}
		}
}

START_TEST(test_host_lease_table)
{
	every_cell(host_cells, sizeof(host_cells) / sizeof(host_cells[0]), CD_HOST_LEASE_N_STATES,
		   CD_HOST_EV_N, host_step, ": host lease: ");
}
END_TEST

START_TEST(test_meta_lease_table)
{
	every_cell(meta_cells, sizeof(meta_cells) / sizeof(meta_cells[0]), CD_META_LEASE_N_STATES,
		   CD_META_EV_N, meta_step, ": metadata lease: ");
}
END_TEST

START_TEST(test_log_lines)
{
	enum cd_host_lease_state h = CD_HOST_LEASE_JOINING;
	enum cd_meta_lease_state m = CD_META_LEASE_HELD;

	memset(&logged, 0, sizeof(logged));
	ck_assert_int_eq(cd_host_lease_transition(&h, CD_HOST_EV_JOINED, "vol1", "joined slot 3",
						  log_capture, &logged),
			 1);
	ck_assert_str_eq(logged.line, "volume vol1: host lease: joining -> held (joined slot 3)");
	ck_assert_int_eq(
		cd_meta_lease_transition(&m, CD_META_EV_LOST, "vol2", NULL, log_capture, &logged),
		1);
	ck_assert_str_eq(logged.line, "volume vol2: metadata lease: held -> not held");
	ck_assert_int_eq(cd_meta_lease_transition(&m, CD_META_EV_RELEASED, "vol2", NULL,
						  log_capture, &logged),
			 CD_ERR_INVALID);
	ck_assert_str_eq(logged.line, "volume vol2: metadata lease: no 'released' when not held; "
				      "ignored");
	/* Without a log function the machine still moves (the renew thread's record). */
	h = CD_HOST_LEASE_HELD;
	logged.n = 0;
	ck_assert_int_eq(cd_host_lease_transition(&h, CD_HOST_EV_EXPIRED, "vol1", NULL, NULL, NULL),
			 1);
	ck_assert_int_eq(h, CD_HOST_LEASE_LAPSED);
	ck_assert_int_eq(cd_host_lease_transition(&h, CD_HOST_EV_LEAVE, "vol1", NULL, NULL, NULL),
			 CD_ERR_INVALID);
	ck_assert_int_eq(h, CD_HOST_LEASE_LAPSED);
	ck_assert_int_eq(logged.n, 0);
}
END_TEST

/* Every name of an enum of n values reads back as its value. */
#define ROUND_TRIP(prefix, type, n)                                                                \
	do {                                                                                       \
		int i_;                                                                            \
                                                                                                   \
		for (i_ = 0; i_ < (n); i_++) {                                                     \
			type v_;                                                                   \
                                                                                                   \
			ck_assert_int_eq(prefix##_from_str(prefix##_to_str((type)i_), &v_), 0);    \
			ck_assert_int_eq(v_, i_);                                                  \
		}                                                                                  \
	} while (0)

START_TEST(test_names_round_trip)
{
	ROUND_TRIP(cd_host_lease_state, enum cd_host_lease_state, CD_HOST_LEASE_N_STATES);
	ROUND_TRIP(cd_host_lease_event, enum cd_host_lease_event, CD_HOST_EV_N);
	ROUND_TRIP(cd_meta_lease_state, enum cd_meta_lease_state, CD_META_LEASE_N_STATES);
	ROUND_TRIP(cd_meta_lease_event, enum cd_meta_lease_event, CD_META_EV_N);
	ck_assert_str_eq(cd_host_lease_state_to_str((enum cd_host_lease_state)99), "unknown");
	ck_assert_str_eq(cd_meta_lease_event_to_str((enum cd_meta_lease_event) - 1), "unknown");
	{
		enum cd_meta_lease_state s = CD_META_LEASE_HELD;

		ck_assert_int_eq(cd_meta_lease_state_from_str("nonsense", &s), CD_ERR_INVALID);
		ck_assert_int_eq(cd_meta_lease_state_from_str(NULL, &s), CD_ERR_INVALID);
		ck_assert_int_eq(s, CD_META_LEASE_HELD);
	}
}
END_TEST

START_TEST(test_predicates)
{
	int i;

	/* The booleans the states replaced: joined; held, and a metadata job queued. */
	for (i = 0; i < CD_HOST_LEASE_N_STATES; i++)
		ck_assert_int_eq(cd_host_lease_joined((enum cd_host_lease_state)i),
				 i == CD_HOST_LEASE_HELD || i == CD_HOST_LEASE_LEFT);
	for (i = 0; i < CD_META_LEASE_N_STATES; i++) {
		enum cd_meta_lease_state s = (enum cd_meta_lease_state)i;
		bool held = s == CD_META_LEASE_HELD || s == CD_META_LEASE_REFRESHING ||
			    s == CD_META_LEASE_RELEASING;

		ck_assert_int_eq(cd_meta_lease_held(s), held);
		ck_assert_int_eq(cd_meta_lease_queued(s),
				 s != CD_META_LEASE_NOT_HELD && s != CD_META_LEASE_HELD);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("leasestate");

	add_tcase(s, test_host_lease_table);
	add_tcase(s, test_meta_lease_table);
	add_tcase(s, test_log_lines);
	add_tcase(s, test_names_round_trip);
	add_tcase(s, test_predicates);
	return run_suite(s);
}
