/*
 * clusterd.conf: "key = value" lines, '#' comments. One table drives
 * parsing, validation, defaults and printing (clusterd --check-config).
 */
#ifndef CD_CONF_H
#define CD_CONF_H

#include <stdint.h>
#include <stdio.h>

enum cd_config_key {
	CD_CFG_STATE_DIR,
	CD_CFG_RUN_DIR,
	CD_CFG_LOG_FILE,
	CD_CFG_LOG_LEVEL,
	CD_CFG_BLACKBOX_SIZE_KIB,
	CD_CFG_ADMIN_GROUP,
	CD_CFG_LIBVIRT_URI,
	CD_CFG_LIBVIRT_TIMEOUT_MS,
	CD_CFG_LIBVIRT_PEER_URI,
	CD_CFG_VM_STOP_TIMEOUT_MS,
	CD_CFG_SHUTDOWN_DRAIN_TIMEOUT_MS,
	CD_CFG_VM_MONITOR_INTERVAL_MS,
	CD_CFG_CSVFS_RUN_DIR,
	CD_CFG_BOOT_FILE_DIRS,
	CD_CFG_WATCHDOG_DEVICE,
	CD_CFG_WATCHDOG_TIMEOUT_S,
	CD_CFG_QEMU_PID_DIR,
	CD_CFG_SYNC_TIMEOUT_MS,
	CD_CFG_STATE_CHECK_INTERVAL_MS,
	CD_CFG_MIGRATION_MAX_DOWNTIME_MS,
	CD_CFG_MIGRATION_BANDWIDTH_MIB,
	CD_CFG_MIGRATION_PARALLEL,
	CD_CFG_MIGRATION_AUTO_CONVERGE,
	CD_CFG_MIGRATION_TLS,
	CD_CFG_MIGRATION_TIMEOUT_MS,
	CD_CFG_CONSOLE,
	CD_CFG_CONSOLE_PORT,
	CD_CFG_METRICS_TOKEN_FILE,
	CD_CFG_METRICS_LOOPBACK,
	CD_CFG__COUNT
};

#define CD_CONFIG_DEFAULT_PATH SYSCONFDIR "/clusterd/clusterd.conf"

/* Reset to defaults. */
void cd_config_defaults(void);

/*
 * Read path. A missing file is fine when missing_ok (defaults stay).
 * Returns 0, or -EINVAL with err naming the line, or -errno.
 */
int cd_config_load(const char *path, int missing_ok, char *err, size_t errlen);

const char *cd_config_str(enum cd_config_key k);
uint64_t cd_config_uint(enum cd_config_key k);

/*
 * Node address addr's libvirtd (libvirt_peer_uri, addr for its %s) in uri:
 * 0, or CD_ERR_INVALID if it does not fit.
 */
int cd_config_peer_uri(const char *addr, char *uri, size_t len);

/* Whether a yes/no key says yes. */
int cd_config_yes(enum cd_config_key k);

/* The normalised configuration, every key with its value. */
void cd_config_print(FILE *f);

#endif
