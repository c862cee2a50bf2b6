/*
 * The table of the cluster properties clusterd reads (see props.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/props.h"
#include "core/state.h"
#include "lib/util.h"

#define CD_STR_(x) #x
#define CD_STR(x) CD_STR_(x)

static const struct cd_props_choice confirm_choices[] = {
	{"lease", CD_CONFIRM_LEASE},
	{"fence", CD_CONFIRM_FENCE},
	{"lease,fence", CD_CONFIRM_LEASE | CD_CONFIRM_FENCE},
	{"fence,lease", CD_CONFIRM_LEASE | CD_CONFIRM_FENCE},
	{NULL, 0},
};

static const struct cd_props_choice shutdown_choices[] = {
	{"drain", CD_SHUTDOWN_DRAIN},
	{"save", CD_SHUTDOWN_SAVE},
	{"stop", CD_SHUTDOWN_STOP},
	{NULL, 0},
};

static const struct cd_props_choice policy_choices[] = {
	{"stop", CD_QUORUM_LOSS_STOP},
	{"freeze", CD_QUORUM_LOSS_FREEZE},
	{NULL, 0},
};

/*
 * Indexed by enum cd_props_id. failover-grace-ms stops at an hour, longer
 * than any blip a grace period is meant to ride out; flap-limit at
 * CD_FLAP_LIMIT, the returns a node remembers. cpu-overcommit starts at 1,
 * where a node runs no more vCPUs than it has cores (the policy also never
 * puts a VM on a node with fewer cores than its vCPUs, which a ratio below
 * 1 would contradict), and stops at 64, far past any sane consolidation.
 */
static const struct cd_props_def props[CD_PROPS_N] = {
	/* key, type, min, max, choices, default, what */
	[CD_PROPS_FAILOVER_CONFIRM] = {"failover-confirm", CD_PROPS_ENUM, 0, 0, confirm_choices,
				       "lease,fence", "lease, fence or lease,fence"},
	[CD_PROPS_FAILOVER_GRACE_MS] = {"failover-grace-ms", CD_PROPS_DURATION_MS, 0, 3600000, NULL,
					"0", "milliseconds, 0 to 3600000"},
	[CD_PROPS_FLAP_LIMIT] = {"flap-limit", CD_PROPS_COUNT, 0, CD_FLAP_LIMIT, NULL,
				 CD_STR(CD_FLAP_LIMIT),
				 "a count, 0 (off) to " CD_STR(CD_FLAP_LIMIT)},
	[CD_PROPS_QUORUM_LOSS_POLICY] = {"quorum-loss-policy", CD_PROPS_ENUM, 0, 0, policy_choices,
					 "stop", "stop or freeze"},
	[CD_PROPS_MIGRATION_NETWORK] = {"migration-network", CD_PROPS_CIDR4, 0, 0, NULL, "none",
					"an IPv4 network A.B.C.D/N (live moves use the target's "
					"address in it), or none"},
	[CD_PROPS_CPU_OVERCOMMIT] = {"cpu-overcommit", CD_PROPS_MILLI, 1000, 64000, NULL, "4",
				     "vCPUs per host core, 1 to 64, up to 3 decimal places "
				     "(1.5)"},
	[CD_PROPS_DRAIN_MAX_PARALLEL] = {"drain-max-parallel", CD_PROPS_COUNT, 1, 64, NULL, "4",
					 "a count of moves at once, 1 to 64"},
	[CD_PROPS_DRAIN_STEP_TIMEOUT] = {"drain-step-timeout", CD_PROPS_COUNT, 10, 86400, NULL,
					 "600", "seconds, 10 to 86400"},
	[CD_PROPS_SHUTDOWN_POLICY] = {"shutdown-policy", CD_PROPS_ENUM, 0, 0, shutdown_choices,
				      "drain", "drain, save or stop"},
	[CD_PROPS_STATE_VOLUME] = {"state-volume", CD_PROPS_NAME, 0, 63, NULL, "none",
				   "a volume name (letters, digits, '.', '_', '-'; saved states "
				   "go there), or none (the volume of the VM's disks)"},
};

const struct cd_props_def *cd_props_def_of(enum cd_props_id id)
{
	return &props[id];
}

const struct cd_props_def *cd_props_def(const char *key)
{
	size_t i;

	for (i = 0; i < CD_PROPS_N; i++)
		if (strcmp(props[i].key, key) == 0)
			return &props[i];
	return NULL;
}

/* Plain decimal digits only: no sign, space, base prefix or unit. */
static int parse_number(const struct cd_props_def *d, const char *v, uint64_t *out)
{
	unsigned long long u;
	char *end;

	if (*v < '0' || *v > '9')
		return CD_ERR_INVALID;
	errno = 0;
	u = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || u < d->min || u > d->max)
		return CD_ERR_INVALID;
	*out = u;
	return 0;
}

/* "1.5" as 1500, within [min, max] thousandths. */
static int parse_milli(const struct cd_props_def *d, const char *v, uint64_t *out)
{
	uint64_t m;

	if (cd_parse_milli(v, &m) < 0 || m < d->min || m > d->max)
		return CD_ERR_INVALID;
	*out = m;
	return 0;
}

/* "A.B.C.D" into *a: 0, or CD_ERR_INVALID. */
static int parse_ipv4(const char *v, uint32_t *a)
{
	unsigned b[4];
	char tail;

	if (sscanf(v, "%3u.%3u.%3u.%3u%c", &b[0], &b[1], &b[2], &b[3], &tail) != 4 || b[0] > 255 ||
	    b[1] > 255 || b[2] > 255 || b[3] > 255 || *v < '0' || *v > '9')
		return CD_ERR_INVALID;
	*a = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
	return 0;
}

static int parse_cidr4(const char *v, uint64_t *out)
{
	char addr[16];
	const char *slash = strchr(v, '/');
	unsigned long len;
	char *end;
	uint32_t a;

	if (strcmp(v, "none") == 0) {
		*out = 0;
		return 0;
	}
	if (!slash || (size_t)(slash - v) >= sizeof(addr) || slash[1] < '0' || slash[1] > '9')
		return CD_ERR_INVALID;
	memcpy(addr, v, (size_t)(slash - v));
	addr[slash - v] = '\0';
	len = strtoul(slash + 1, &end, 10);
	if (*end || len < 1 || len > 32 || parse_ipv4(addr, &a) < 0)
		return CD_ERR_INVALID;
	*out = (uint64_t)a << 8 | len;
	return 0;
}

int cd_props_cidr4_pick(uint64_t cidr, const char (*addrs)[64], size_t n)
{
	uint32_t net = (uint32_t)(cidr >> 8), len = (uint32_t)(cidr & 0xff), a;
	uint32_t mask = len >= 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	size_t i;

	for (i = 0; cidr && i < n; i++)
		if (parse_ipv4(addrs[i], &a) == 0 && (a & mask) == (net & mask))
			return (int)i;
	return -1;
}

/* A name, or none: whether one is set. */
static int parse_name(const struct cd_props_def *d, const char *v, uint64_t *out)
{
	if (strcmp(v, "none") == 0) {
		*out = 0;
		return 0;
	}
	if (!cd_valid_name(v, (size_t)d->max))
		return CD_ERR_INVALID;
	*out = 1;
	return 0;
}

int cd_props_parse(const struct cd_props_def *d, const char *value, uint64_t *out)
{
	const struct cd_props_choice *c;

	switch (d->type) {
	case CD_PROPS_NAME:
		return parse_name(d, value, out);
	case CD_PROPS_CIDR4:
		return parse_cidr4(value, out);
	case CD_PROPS_MILLI:
		return parse_milli(d, value, out);
	case CD_PROPS_COUNT:
	case CD_PROPS_DURATION_MS:
		return parse_number(d, value, out);
	case CD_PROPS_ENUM:
		for (c = d->choices; c->name; c++)
			if (strcmp(c->name, value) == 0) {
				*out = c->value;
				return 0;
			}
		return CD_ERR_INVALID;
	}
	return CD_ERR_INVALID;
}

int cd_props_check(const char *key, const char *value, char *err, size_t errlen)
{
	const struct cd_props_def *d = cd_props_def(key);
	uint64_t v;

	if (!d || cd_props_parse(d, value, &v) == 0)
		return 0;
	snprintf(err, errlen, "invalid value '%s' for %s (%s)", value, key, d->what);
	return CD_ERR_INVALID;
}

uint64_t cd_props_get(const struct cd_state *s, enum cd_props_id id)
{
	const struct cd_props_def *d = &props[id];
	const char *value = cd_state_prop(s, d->key);
	uint64_t v = 0;

	/*
	 * What is stored was checked when it was set or loaded; the default
	 * stands in for a value that somehow does not parse, as for none.
	 */
	if (value && cd_props_parse(d, value, &v) == 0)
		return v;
	cd_props_parse(d, d->dflt, &v);
	return v;
}

const char *cd_props_get_name(const struct cd_state *s, enum cd_props_id id)
{
	const char *value = cd_state_prop(s, props[id].key);
	uint64_t set = 0;

	if (!value || cd_props_parse(&props[id], value, &set) < 0 || !set)
		return NULL;
	return value;
}
