/* What this host offers: cores, memory, CPU model. */
#ifndef CD_HOSTINFO_H
#define CD_HOSTINFO_H

#include "clusterd/state.h"

/* Fill cap from the host (/proc/cpuinfo, sysinfo). Never fails. */
void cd_hostinfo_capacity(struct cd_capacity *cap);

#endif
