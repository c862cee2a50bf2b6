/* The lease state machines of a volume (leasestate.h): names and tables. */
#include "config.h"

#include <stdio.h>
#include <syslog.h>

#include <clusterd/result.h>

#include "core/leasestate.h"
#include "lib/fsm.h"
#include "lib/util.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* --- names --- */

/* clang-format off */
static const char *const host_state_names[] = {
	[CD_HOST_LEASE_JOINING] = "joining",
	[CD_HOST_LEASE_HELD] = "held",
	[CD_HOST_LEASE_LAPSED] = "lapsed",
	[CD_HOST_LEASE_RELEASED] = "released",
	[CD_HOST_LEASE_LEFT] = "left to lapse",
};

static const char *const host_event_names[] = {
	[CD_HOST_EV_JOINED] = "joined",
	[CD_HOST_EV_EXPIRED] = "expired",
	[CD_HOST_EV_RELEASE] = "release",
	[CD_HOST_EV_RESUME] = "resume",
	[CD_HOST_EV_LEAVE] = "leave",
};

static const char *const meta_state_names[] = {
	[CD_META_LEASE_NOT_HELD] = "not held",
	[CD_META_LEASE_ACQUIRING] = "acquiring",
	[CD_META_LEASE_HELD] = "held",
	[CD_META_LEASE_REFRESHING] = "refreshing",
	[CD_META_LEASE_RELEASING] = "releasing",
	[CD_META_LEASE_VOID_QUEUED] = "void, job queued",
};

static const char *const meta_event_names[] = {
	[CD_META_EV_ACQUIRE] = "acquire",
	[CD_META_EV_ACQUIRED] = "acquired",
	[CD_META_EV_ACQUIRE_FAILED] = "acquire failed",
	[CD_META_EV_REFRESH] = "refresh",
	[CD_META_EV_REFRESHED] = "refreshed",
	[CD_META_EV_RELEASE] = "release",
	[CD_META_EV_RELEASED] = "released",
	[CD_META_EV_LOST] = "lost",
};
/* clang-format on */

_Static_assert(N_OF(host_state_names) == CD_HOST_LEASE_N_STATES, "host lease state names");
_Static_assert(N_OF(host_event_names) == CD_HOST_EV_N, "host lease event names");
_Static_assert(N_OF(meta_state_names) == CD_META_LEASE_N_STATES, "metadata lease state names");
_Static_assert(N_OF(meta_event_names) == CD_META_EV_N, "metadata lease event names");

#define NAMES(prefix, type, names)                                                                 \
	const char *prefix##_to_str(type v)                                                        \
	{                                                                                          \
		return cd_fsm_name(names, N_OF(names), (int)v);                                    \
	}                                                                                          \
	int prefix##_from_str(const char *s, type *out)                                            \
	{                                                                                          \
		int i = cd_fsm_index(names, N_OF(names), s);                                       \
                                                                                                   \
		if (i < 0)                                                                         \
			return CD_ERR_INVALID;                                                     \
		*out = (type)i;                                                                    \
		return 0;                                                                          \
	}

NAMES(cd_host_lease_state, enum cd_host_lease_state, host_state_names)
NAMES(cd_host_lease_event, enum cd_host_lease_event, host_event_names)
NAMES(cd_meta_lease_state, enum cd_meta_lease_state, meta_state_names)
NAMES(cd_meta_lease_event, enum cd_meta_lease_event, meta_event_names)
#undef NAMES

bool cd_host_lease_joined(enum cd_host_lease_state s)
{
	switch (s) {
	case CD_HOST_LEASE_HELD:
	case CD_HOST_LEASE_LEFT:
		return true;
	case CD_HOST_LEASE_JOINING:
	case CD_HOST_LEASE_LAPSED:
	case CD_HOST_LEASE_RELEASED:
		return false;
	}
	return false;
}

bool cd_meta_lease_held(enum cd_meta_lease_state s)
{
	switch (s) {
	case CD_META_LEASE_HELD:
	case CD_META_LEASE_REFRESHING:
	case CD_META_LEASE_RELEASING:
		return true;
	case CD_META_LEASE_NOT_HELD:
	case CD_META_LEASE_ACQUIRING:
	case CD_META_LEASE_VOID_QUEUED:
		return false;
	}
	return false;
}

bool cd_meta_lease_queued(enum cd_meta_lease_state s)
{
	switch (s) {
	case CD_META_LEASE_ACQUIRING:
	case CD_META_LEASE_REFRESHING:
	case CD_META_LEASE_RELEASING:
	case CD_META_LEASE_VOID_QUEUED:
		return true;
	case CD_META_LEASE_NOT_HELD:
	case CD_META_LEASE_HELD:
		return false;
	}
	return false;
}

/* --- the tables --- */

/*
 * In state from, event ev moves to state to, or KEEP: the event is taken and
 * the state stays. A cell without a row is impossible.
 */
#define KEEP CD_FSM_KEEP

/* clang-format off */
static const struct cd_fsm_row host_rows[] = {
#define R(from, ev, to) {CD_HOST_LEASE_##from, CD_HOST_EV_##ev, to}
#define S(state) CD_HOST_LEASE_##state
	R(JOINING,  JOINED,  S(HELD)),
	/* The loop: suspended before the join. */
	R(JOINING,  RELEASE, S(RELEASED)),
	R(JOINING,  RESUME,  KEEP),

	/* The loop: a join it had not seen the lapse of (a quick rejoin). */
	R(HELD,     JOINED,  KEEP),
	R(HELD,     EXPIRED, S(LAPSED)),
	R(HELD,     RELEASE, S(RELEASED)),
	/* The loop: a join reported after it was suspended, then resumed. */
	R(HELD,     RESUME,  KEEP),
	/* The renew thread stops while VMs may still run: the slot lapses. */
	R(HELD,     LEAVE,   S(LEFT)),

	R(LAPSED,   JOINED,  S(HELD)),
	R(LAPSED,   RELEASE, S(RELEASED)),
	R(LAPSED,   RESUME,  KEEP),

	/* The renew thread joins again once resumed; the loop may hear it late. */
	R(RELEASED, JOINED,  S(HELD)),
	R(RELEASED, RELEASE, KEEP),
	R(RELEASED, RESUME,  S(JOINING)),
	/* LEFT: the thread is gone; nothing follows. */
#undef S
#undef R
};

static const struct cd_fsm_row meta_rows[] = {
#define R(from, ev, to) {CD_META_LEASE_##from, CD_META_EV_##ev, to}
#define S(state) CD_META_LEASE_##state
	R(NOT_HELD,    ACQUIRE,        S(ACQUIRING)),
	R(NOT_HELD,    LOST,           KEEP),

	/* A lapse while acquiring: the job's answer decides, as for any acquire. */
	R(ACQUIRING,   ACQUIRED,       S(HELD)),
	R(ACQUIRING,   ACQUIRE_FAILED, S(NOT_HELD)),
	R(ACQUIRING,   LOST,           KEEP),

	R(HELD,        REFRESH,        S(REFRESHING)),
	R(HELD,        RELEASE,        S(RELEASING)),
	R(HELD,        LOST,           S(NOT_HELD)),

	/* A refresh that failed is tried again: the lease is held either way. */
	R(REFRESHING,  REFRESHED,      S(HELD)),
	R(REFRESHING,  LOST,           S(VOID_QUEUED)),

	R(RELEASING,   RELEASED,       S(NOT_HELD)),
	R(RELEASING,   LOST,           S(VOID_QUEUED)),

	/* The queued job still answers: only then may the next one be queued. */
	R(VOID_QUEUED, REFRESHED,      S(NOT_HELD)),
	R(VOID_QUEUED, RELEASED,       S(NOT_HELD)),
	R(VOID_QUEUED, LOST,           KEEP),
#undef S
#undef R
};
#undef KEEP

/* What a machine's transition function needs to know of it. */
struct machine {
	const char *what; /* in the log: "host lease" */
	const struct cd_fsm_row *rows;
	size_t n_rows;
	const char *const *states, *const *events;
	size_t n_states, n_events;
};

#define MACHINE(what, rows, states, events)                                                 \
	{what, rows, N_OF(rows), states, events, N_OF(states), N_OF(events)}
static const struct machine host_machine =
    MACHINE("host lease", host_rows, host_state_names, host_event_names);
static const struct machine meta_machine =
    MACHINE("metadata lease", meta_rows, meta_state_names, meta_event_names);
#undef MACHINE
/* clang-format on */

static int transition(const struct machine *m, int *state, int ev, const char *vol, const char *why,
		      cd_lease_log_fn *log, void *ctx)
{
	const struct cd_fsm_row *row =
		cd_fsm_find(m->rows, m->n_rows, sizeof(m->rows[0]), *state, ev, NULL, NULL);
	char line[512];

	if (!row) {
		if (log) {
			snprintf(line, sizeof(line),
				 "volume %s: %s: no '%s' when %s; ignored%s%s%s", vol, m->what,
				 cd_fsm_name(m->events, m->n_events, ev),
				 cd_fsm_name(m->states, m->n_states, *state), why ? " (" : "",
				 why ? why : "", why ? ")" : "");
			log(ctx, LOG_WARNING, line);
		}
		return CD_ERR_INVALID;
	}
	if (row->to == CD_FSM_KEEP)
		return 0;
	if (log) {
		snprintf(line, sizeof(line), "volume %s: %s: %s -> %s%s%s%s", vol, m->what,
			 cd_fsm_name(m->states, m->n_states, *state),
			 cd_fsm_name(m->states, m->n_states, row->to), why ? " (" : "",
			 why ? why : "", why ? ")" : "");
		log(ctx, LOG_INFO, line);
	}
	*state = row->to;
	return 1;
}

int cd_host_lease_transition(enum cd_host_lease_state *state, enum cd_host_lease_event ev,
			     const char *vol, const char *why, cd_lease_log_fn *log, void *ctx)
{
	int s = (int)*state, rc = transition(&host_machine, &s, (int)ev, vol, why, log, ctx);

	*state = (enum cd_host_lease_state)s;
	return rc;
}

int cd_meta_lease_transition(enum cd_meta_lease_state *state, enum cd_meta_lease_event ev,
			     const char *vol, const char *why, cd_lease_log_fn *log, void *ctx)
{
	int s = (int)*state, rc = transition(&meta_machine, &s, (int)ev, vol, why, log, ctx);

	*state = (enum cd_meta_lease_state)s;
	return rc;
}
