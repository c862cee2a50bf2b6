/*
 * The names of the policy's enums: one table for the text format, the
 * explanations and the error messages alike, so a name is spelled the same
 * everywhere.
 */
#include "config.h"

#include <stdio.h>

#include "lib/fsm.h"
#include "policy/policy.h"

/* clang-format off */
static const char *const node_states[CD_PNODE__COUNT] = {
	[CD_PNODE_ONLINE] = "online",
	[CD_PNODE_OFFLINE] = "offline",
	[CD_PNODE_MAINTENANCE] = "maintenance",
	[CD_PNODE_FENCED] = "fenced",
	[CD_PNODE_LOST] = "lost",
	[CD_PNODE_QUARANTINED] = "quarantined",
};

static const char *const priorities[CD_PPRIO__COUNT] = {
	[CD_PPRIO_HIGH] = "high",
	[CD_PPRIO_MEDIUM] = "medium",
	[CD_PPRIO_LOW] = "low",
	[CD_PPRIO_NO_AUTO_START] = "no-auto-start",
};

static const char *const targets[CD_TARGET__COUNT] = {
	[CD_TARGET_STARTED] = "started",
	[CD_TARGET_STOPPED] = "stopped",
};

static const char *const vm_states[CD_PVM__COUNT] = {
	[CD_PVM_STOPPED] = "stopped",
	[CD_PVM_STARTING] = "starting",
	[CD_PVM_RUNNING] = "running",
	[CD_PVM_STOPPING] = "stopping",
	[CD_PVM_FAILED] = "failed",
	[CD_PVM_MIGRATING] = "migrating",
};

static const char *const antis[CD_ANTI__COUNT] = {
	[CD_ANTI_HARD] = "hard",
	[CD_ANTI_SOFT] = "soft",
};

static const char *const failbacks[CD_PFAILBACK__COUNT] = {
	[CD_PFAILBACK_NEVER] = "never",
	[CD_PFAILBACK_IMMEDIATELY] = "immediately",
	[CD_PFAILBACK_WINDOW] = "window",
};

static const char *const actions[CD_ACT__COUNT] = {
	[CD_ACT_START] = "start",
	[CD_ACT_STOP] = "stop",
	[CD_ACT_MIGRATE] = "migrate",
	[CD_ACT_UNPLACED] = "unplaced",
};

static const char *const unplaced[CD_UNPLACED__COUNT] = {
	[CD_UNPLACED_NO_ONLINE_NODE] = "no-online-node",
	[CD_UNPLACED_POSSIBLE_OWNERS] = "possible-owners",
	[CD_UNPLACED_CPU_MODEL] = "cpu-model",
	[CD_UNPLACED_FAILURES] = "failures",
	[CD_UNPLACED_ANTI_AFFINITY] = "anti-affinity",
	[CD_UNPLACED_CAPACITY] = "capacity",
};
/* clang-format on */

static const struct {
	const char *const *names;
	int count;
} enums[CD_PENUM__COUNT] = {
	[CD_PENUM_NODE_STATE] = {node_states, CD_PNODE__COUNT},
	[CD_PENUM_PRIORITY] = {priorities, CD_PPRIO__COUNT},
	[CD_PENUM_TARGET] = {targets, CD_TARGET__COUNT},
	[CD_PENUM_VM_STATE] = {vm_states, CD_PVM__COUNT},
	[CD_PENUM_ANTI] = {antis, CD_ANTI__COUNT},
	[CD_PENUM_FAILBACK] = {failbacks, CD_PFAILBACK__COUNT},
	[CD_PENUM_ACTION] = {actions, CD_ACT__COUNT},
	[CD_PENUM_UNPLACED] = {unplaced, CD_UNPLACED__COUNT},
};

const char *cd_policy_enum_str(enum cd_policy_enum e, int value)
{
	if ((unsigned int)e >= CD_PENUM__COUNT || value < 0 || value >= enums[e].count)
		return "?";
	return enums[e].names[value];
}

int cd_policy_enum_value(enum cd_policy_enum e, const char *s)
{
	if ((unsigned int)e >= CD_PENUM__COUNT)
		return -1;
	return cd_fsm_index(enums[e].names, (size_t)enums[e].count, s);
}

void cd_policy_enum_list(enum cd_policy_enum e, char *buf, size_t len)
{
	size_t off = 0;
	int i, n;

	if (len == 0)
		return;
	buf[0] = '\0';
	if ((unsigned int)e >= CD_PENUM__COUNT)
		return;
	for (i = 0; i < enums[e].count && off < len; i++) {
		n = snprintf(buf + off, len - off, "%s%s", i ? ", " : "", enums[e].names[i]);
		if (n < 0)
			return;
		off += (size_t)n;
	}
}
