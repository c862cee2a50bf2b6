/*
 * The cluster properties clusterd itself reads: one table (props.c) names
 * each, its type, bounds or choices and default. A value is checked against
 * it when property.set applies it and when a state is loaded, so what is
 * stored always parses; the readers then ask cd_props_get() for the value
 * instead of parsing the string again. Any other key is the admins' own
 * (motd, maintenance-window, ...): a free-form string clusterd never reads.
 */
#ifndef CD_PROPS_H
#define CD_PROPS_H

#include <stddef.h>
#include <stdint.h>

struct cd_state;

enum cd_props_id {
	CD_PROPS_FAILOVER_CONFIRM,   /* enum: cd_failover_confirm bits */
	CD_PROPS_FAILOVER_GRACE_MS,  /* duration in ms */
	CD_PROPS_FLAP_LIMIT,	     /* count, 0 turns quarantine off */
	CD_PROPS_QUORUM_LOSS_POLICY, /* enum cd_quorum_loss_policy */
	CD_PROPS_MIGRATION_NETWORK,  /* IPv4 CIDR (CD_PROPS_CIDR4), 0: none */
	CD_PROPS_CPU_OVERCOMMIT,     /* vCPUs per host core, in thousandths */
	CD_PROPS_DRAIN_MAX_PARALLEL, /* count: moves a drain runs at once, at most */
	CD_PROPS_DRAIN_STEP_TIMEOUT, /* count: seconds one try of a drain's move may take */
	CD_PROPS_SHUTDOWN_POLICY,    /* enum cd_shutdown_policy */
	CD_PROPS_STATE_VOLUME,	     /* name (CD_PROPS_NAME): the volume for saved states */
	CD_PROPS_N
};

enum cd_props_type {
	CD_PROPS_COUNT,	      /* a decimal number within [min, max] */
	CD_PROPS_DURATION_MS, /* likewise, in milliseconds */
	CD_PROPS_ENUM,	      /* one of choices; its value is the choice's */
	CD_PROPS_CIDR4,	      /* "A.B.C.D/N", or "none" (0): address << 8 | N */
	CD_PROPS_MILLI,	      /* a decimal with up to 3 places, in thousandths within [min, max] */
	CD_PROPS_NAME,	      /* a name (cd_valid_name(), at most max bytes): 1, or "none": 0 */
};

/* The automatic paths to a lost node's death (failover-confirm). */
enum cd_failover_confirm {
	CD_CONFIRM_LEASE = 1 << 0, /* its csvfs host lease expired or was released */
	CD_CONFIRM_FENCE = 1 << 1, /* a fence device powered it off */
};

/* What a node's VMs do while it waits out the grace without quorum. */
enum cd_quorum_loss_policy {
	CD_QUORUM_LOSS_STOP,   /* keep running, powered off when the grace ends */
	CD_QUORUM_LOSS_FREEZE, /* paused at once, resumed if quorum comes back */
};

struct cd_props_choice {
	const char *name;
	uint64_t value;
};

struct cd_props_def {
	const char *key;
	enum cd_props_type type;
	uint64_t min, max;		       /* COUNT, DURATION_MS, MILLI; NAME: max length */
	const struct cd_props_choice *choices; /* ENUM, ends with a NULL name */
	const char *dflt;		       /* the value when the property is unset */
	const char *what;		       /* the values it takes, for an admin */
};

/* The definition of key, or NULL when clusterd does not read that key. */
const struct cd_props_def *cd_props_def(const char *key);

/* The definition of id. */
const struct cd_props_def *cd_props_def_of(enum cd_props_id id);

/* Parse value as d takes it: 0 with *out set, or CD_ERR_INVALID (d->what says what goes). */
int cd_props_parse(const struct cd_props_def *d, const char *value, uint64_t *out);

/*
 * Check value for key: 0 for a key clusterd does not read (any string goes)
 * or a value its definition takes, else CD_ERR_INVALID with err set.
 */
int cd_props_check(const char *key, const char *value, char *err, size_t errlen);

/*
 * The first of n addresses (IPv4 text) inside cidr (a CD_PROPS_CIDR4
 * value, not 0): its index, or -1 if none is.
 */
int cd_props_cidr4_pick(uint64_t cidr, const char (*addrs)[64], size_t n);

/* The value of property id in s: its default when unset (or, never expected, unparsable). */
uint64_t cd_props_get(const struct cd_state *s, enum cd_props_id id);

/*
 * The name a CD_PROPS_NAME property id holds in s (a string of s), or
 * NULL when it is none or unset.
 */
const char *cd_props_get_name(const struct cd_state *s, enum cd_props_id id);

/*
 * shutdown-policy: what stopping clusterd on a node does first. drain: the
 * node is drained (live first), what is left powered off; save: drained
 * with quick moves, what is left saved in place (restored where the policy
 * places it); stop: its VMs are powered off at once.
 */
enum cd_shutdown_policy { CD_SHUTDOWN_DRAIN, CD_SHUTDOWN_STOP, CD_SHUTDOWN_SAVE };

#endif
