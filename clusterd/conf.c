#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "clusterd/conf.h"
#include "lib/util.h"

enum cfg_type { CFG_STRING, CFG_PATH, CFG_ENUM, CFG_UINT };

static const char *const log_levels[] = {"debug", "info", "notice", "warning", "err", NULL};
static const char *const yes_no[] = {"yes", "no", NULL};

static const struct cfg_def {
	const char *key;
	enum cfg_type type;
	const char *def;
	uint64_t min, max;
	const char *const *choices;
	const char *help;
} defs[CD_CFG__COUNT] = {
	[CD_CFG_STATE_DIR] = {"state_dir", CFG_PATH, LOCALSTATEDIR "/lib/clusterd", 0, 0, NULL,
			      "where the replicated state is persisted"},
	[CD_CFG_RUN_DIR] = {"run_dir", CFG_PATH, RUNSTATEDIR "/clusterd", 0, 0, NULL,
			    "runtime files: pid file"},
	[CD_CFG_LOG_FILE] = {"log_file", CFG_STRING, "", 0, 0, NULL,
			     "log file; empty logs to syslog"},
	[CD_CFG_LOG_LEVEL] = {"log_level", CFG_ENUM, "info", 0, 0, log_levels,
			      "least severity logged"},
	[CD_CFG_BLACKBOX_SIZE_KIB] = {"blackbox_size_kib", CFG_UINT, "8192", 64, 262144, NULL,
				      "the blackbox ring of recent debug messages (KiB), "
				      "written on a crash and for clusterctl debug dump"},
	[CD_CFG_ADMIN_GROUP] = {"admin_group", CFG_STRING, "haclient", 0, 0, NULL,
				"group whose members may use clusterctl (besides root)"},
	[CD_CFG_LIBVIRT_URI] = {"libvirt_uri", CFG_STRING, "qemu:///system", 0, 0, NULL,
				"the local libvirtd that runs this node's VMs"},
	[CD_CFG_LIBVIRT_TIMEOUT_MS] = {"libvirt_timeout_ms", CFG_UINT, "30000", 100, 600000, NULL,
				       "longest a libvirt call may take before it is "
				       "reported as hung"},
	[CD_CFG_LIBVIRT_PEER_URI] = {"libvirt_peer_uri", CFG_STRING, "qemu+tls://%s/system", 0, 0,
				     NULL,
				     "another node's libvirtd, %s its address: what a move "
				     "there asks first, and where VMs migrate to"},
	[CD_CFG_VM_STOP_TIMEOUT_MS] = {"vm_stop_timeout_ms", CFG_UINT, "30000", 0, 3600000, NULL,
				       "graceful shutdown time before a VM is destroyed"},
	[CD_CFG_SHUTDOWN_DRAIN_TIMEOUT_MS] = {"shutdown_drain_timeout_ms", CFG_UINT, "300000", 0,
					      86400000, NULL,
					      "longest a stop of clusterd waits for its node's "
					      "drain (shutdown-policy drain or save)"},
	[CD_CFG_VM_MONITOR_INTERVAL_MS] = {"vm_monitor_interval_ms", CFG_UINT, "1000", 100, 600000,
					   NULL, "how often each running VM is checked"},
	[CD_CFG_CSVFS_RUN_DIR] = {"csvfs_run_dir", CFG_PATH, RUNSTATEDIR "/csvfs", 0, 0, NULL,
				  "where shared-volume files appear: DIR/VOLUME/FILE"},
	[CD_CFG_BOOT_FILE_DIRS] = {"boot_file_dirs", CFG_STRING, "", 0, 0, NULL,
				   "directories, ':' between them, kept alike on every node: "
				   "a VM may boot a kernel, initrd or device tree from them"},
	[CD_CFG_WATCHDOG_DEVICE] = {"watchdog_device", CFG_STRING, "/dev/watchdog", 0, 0, NULL,
				    "hardware watchdog the watchdog process keeps alive; "
				    "used when present, empty: none"},
	[CD_CFG_WATCHDOG_TIMEOUT_S] = {"watchdog_timeout_s", CFG_UINT, "1", 1, 60, NULL,
				       "the hardware watchdog's timeout"},
	[CD_CFG_QEMU_PID_DIR] = {"qemu_pid_dir", CFG_PATH, RUNSTATEDIR "/libvirt/qemu", 0, 0, NULL,
				 "where libvirt keeps the QEMU pid files the watchdog "
				 "process kills by"},
	[CD_CFG_SYNC_TIMEOUT_MS] = {"sync_timeout_ms", CFG_UINT, "10000", 3000, 600000, NULL,
				    "longest a sync round waits for a member's report or "
				    "snapshot before it leaves the member out"},
	[CD_CFG_STATE_CHECK_INTERVAL_MS] = {"state_check_interval_ms", CFG_UINT, "300000", 0,
					    86400000, NULL,
					    "how often the members compare their states' checksums "
					    "(a divergence is an event and a resync; 0: never)"},
	[CD_CFG_MIGRATION_MAX_DOWNTIME_MS] = {"migration_max_downtime_ms", CFG_UINT, "30", 0, 60000,
					      NULL,
					      "the pause a live move may take at its switch-over; "
					      "0: libvirt's default"},
	[CD_CFG_MIGRATION_BANDWIDTH_MIB] = {"migration_bandwidth_mib", CFG_UINT, "0", 0, 1048576,
					    NULL, "MiB/s a live move may use; 0: unlimited"},
	[CD_CFG_MIGRATION_PARALLEL] = {"migration_parallel", CFG_UINT, "1", 1, 64, NULL,
				       "connections a live move's memory copy uses"},
	[CD_CFG_MIGRATION_AUTO_CONVERGE] = {"migration_auto_converge", CFG_ENUM, "yes", 0, 0,
					    yes_no,
					    "slow a guest's vCPUs down when its memory is "
					    "dirtied faster than it is copied"},
	[CD_CFG_MIGRATION_TLS] = {"migration_tls", CFG_ENUM, "no", 0, 0, yes_no,
				  "encrypt live moves with libvirt's TLS (needs its "
				  "certificates on every node)"},
	[CD_CFG_MIGRATION_TIMEOUT_MS] = {"migration_timeout_ms", CFG_UINT, "600000", 10000,
					 86400000, NULL,
					 "longest a live move's copy may take before it is "
					 "aborted and the VM stays where it was"},
	[CD_CFG_CONSOLE] = {"console", CFG_ENUM, "yes", 0, 0, yes_no,
			    "run the web console (clusterd-console) where the node has its "
			    "certificate"},
	[CD_CFG_CONSOLE_PORT] = {"console_port", CFG_UINT, "9440", 1, 65535, NULL,
				 "the web console's HTTPS port"},
	[CD_CFG_METRICS_TOKEN_FILE] = {"metrics_token_file", CFG_STRING, "", 0, 0, NULL,
				       "a file whose first line is the bearer token that opens "
				       "the console's /metrics from anywhere; empty: none"},
	[CD_CFG_METRICS_LOOPBACK] = {"metrics_loopback", CFG_ENUM, "yes", 0, 0, yes_no,
				     "the console's /metrics answers loopback clients without "
				     "a session or token"},
};

static char values[CD_CFG__COUNT][PATH_MAX];

void cd_config_defaults(void)
{
	size_t i;

	for (i = 0; i < CD_CFG__COUNT; i++)
		cd_strlcpy(values[i], defs[i].def, sizeof(values[i]));
}

static int validate(const struct cfg_def *d, const char *v, char *why, size_t n)
{
	size_t i;
	char *end;
	unsigned long long u;

	switch (d->type) {
	case CFG_STRING:
		return 0;
	case CFG_PATH:
		if (v[0] != '/') {
			snprintf(why, n, "must be an absolute path");
			return -EINVAL;
		}
		return 0;
	case CFG_ENUM:
		for (i = 0; d->choices[i]; i++)
			if (strcmp(d->choices[i], v) == 0)
				return 0;
		snprintf(why, n, "must be one of:");
		for (i = 0; d->choices[i]; i++)
			snprintf(why + strlen(why), n - strlen(why), " %s", d->choices[i]);
		return -EINVAL;
	case CFG_UINT:
		errno = 0;
		u = strtoull(v, &end, 10);
		if (errno || *end || end == v || u < d->min || u > d->max) {
			snprintf(why, n, "must be a whole number from %llu to %llu",
				 (unsigned long long)d->min, (unsigned long long)d->max);
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int cd_config_load(const char *path, int missing_ok, char *err, size_t errlen)
{
	char line[PATH_MAX + 128], why[256];
	unsigned int lineno = 0;
	FILE *f = fopen(path, "re");
	int rc = 0;

	if (!f) {
		if (errno == ENOENT && missing_ok)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k, *v, *eq, *hash;
		size_t i;

		lineno++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		k = trim(line);
		if (!*k)
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'", path, lineno);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		v = trim(eq + 1);
		k = trim(k);
		for (i = 0; i < CD_CFG__COUNT; i++)
			if (strcmp(defs[i].key, k) == 0)
				break;
		if (i == CD_CFG__COUNT) {
			snprintf(err, errlen, "%s:%u: unknown key '%s'", path, lineno, k);
			rc = -EINVAL;
			break;
		}
		if (validate(&defs[i], v, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s:%u: %s %s", path, lineno, k, why);
			rc = -EINVAL;
			break;
		}
		if (cd_strlcpy(values[i], v, sizeof(values[i])) >= sizeof(values[i])) {
			snprintf(err, errlen, "%s:%u: %s is too long", path, lineno, k);
			rc = -EINVAL;
			break;
		}
	}
	fclose(f);
	return rc;
}

const char *cd_config_str(enum cd_config_key k)
{
	return values[k];
}

uint64_t cd_config_uint(enum cd_config_key k)
{
	return strtoull(values[k], NULL, 10);
}

void cd_config_print(FILE *f)
{
	size_t i;

	for (i = 0; i < CD_CFG__COUNT; i++)
		fprintf(f, "# %s\n%s = %s\n", defs[i].help, defs[i].key, values[i]);
}

int cd_config_peer_uri(const char *addr, char *uri, size_t len)
{
	const char *t = cd_config_str(CD_CFG_LIBVIRT_PEER_URI), *p = strstr(t, "%s");
	int w = p ? snprintf(uri, len, "%.*s%s%s", (int)(p - t), t, addr, p + 2)
		  : snprintf(uri, len, "%s", t);

	return w < 0 || (size_t)w >= len ? CD_ERR_INVALID : 0;
}

int cd_config_yes(enum cd_config_key k)
{
	return strcmp(cd_config_str(k), "yes") == 0;
}
