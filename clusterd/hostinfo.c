#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "clusterd/hostinfo.h"
#include "lib/util.h"

void cd_hostinfo_capacity(struct cd_capacity *cap)
{
	struct sysinfo si;
	char line[512];
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	FILE *f;

	memset(cap, 0, sizeof(*cap));
	cap->cores = n > 0 ? (uint32_t)n : 1;
	if (sysinfo(&si) == 0)
		cap->memory_mb = (uint64_t)si.totalram * si.mem_unit / (1024 * 1024);
	cd_strlcpy(cap->cpu_model, "unknown", sizeof(cap->cpu_model));
	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		cd_strlcpy(cap->cpu_model, colon, sizeof(cap->cpu_model));
		break;
	}
	fclose(f);
}
