#include "config.h"

#include <stdbool.h>

#include "core/deadrule.h"

int cd_host_dead_rule(const enum cd_slot_seen *seen, size_t n)
{
	bool never = false;
	size_t i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++)
		switch (seen[i]) {
		case CD_SLOT_DEAD:
		case CD_SLOT_GONE:
			break;
		case CD_SLOT_NEVER:
			never = true;
			break;
		case CD_SLOT_UNKNOWN:
		case CD_SLOT_ALIVE:
			return 0;
		}
	return never ? -1 : 1;
}
