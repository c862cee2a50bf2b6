/*
 * clusterd: sets things up and runs the loop. Nothing else lives here.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <syslog.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <qb/qbloop.h>

#include <clusterd/result.h>

#include "agents/fence.h"
#include "clusterd/blackbox.h"
#include "clusterd/conf.h"
#include "clusterd/console.h"
#include "clusterd/coordinator.h"
#include "clusterd/debugdump.h"
#include "clusterd/nodecall.h"
#include "clusterd/events.h"
#include "clusterd/hostinfo.h"
#include "clusterd/ipc_cmd.h"
#include "clusterd/identity.h"
#include "clusterd/lrm.h"
#include "clusterd/volmgr.h"
#include "clusterd/ipcs.h"
#include "clusterd/membership.h"
#include "clusterd/quorumloss.h"
#include "clusterd/replica.h"
#include "clusterd/shutdown.h"
#include "clusterd/statecheck.h"
#include "clusterd/watchdog.h"
#include "core/journal.h"
#include "core/state_file.h"
#include "lib/ipcpeer.h"
#include "lib/util.h"
#include "lib/looptimer.h"

static qb_loop_t *loop;

static bool stopping; /* SIGTERM: powering off, then stopping */

/*
 * Every hook below delays the next change this node serves: one that takes
 * longer than this is said in the debug log, so that a slow one is found.
 */
#define SLOW_HOOK_US 10000

#define HOOK(call)                                                                                 \
	do {                                                                                       \
		uint64_t t0_ = cd_now_us(), dt_;                                                   \
		call;                                                                              \
		if ((dt_ = cd_now_us() - t0_) > SLOW_HOOK_US)                                      \
			qb_log(LOG_DEBUG, "after a batch of changes: %s took %" PRIu64 " us",      \
			       #call, dt_);                                                        \
	} while (0)

/* After every batch of changes: this node's own work, then the coordinator's. */
static void state_changed(void)
{
	HOOK(cd_quorumloss_watch(stopping));
	HOOK(cd_volmgr_state_changed());
	HOOK(cd_lrm_state_changed());
	HOOK(cd_coordinator_state_changed());
	HOOK(cd_identity_state_changed());
	HOOK(cd_shutdown_state_changed(stopping));
	HOOK(cd_debugdump_state_changed());
	HOOK(cd_nodecall_state_changed());
}

/*
 * Join once libvirt told the host's CPU models (or soon without them): a
 * node's information reaches the cluster when it joins. Models told later
 * follow through a new sync round (cd_replica_local_info_changed()).
 */
static void join_cluster(void)
{
	cd_membership_start(loop, &cd_replica_membership_ops);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: clusterd [-f] [-c FILE] [--check-config]\n"
		"  -f, --foreground     stay in the foreground, also log to stderr\n"
		"  -c, --config FILE    configuration (default %s)\n"
		"      --check-config   print the normalised configuration and exit\n"
		"      --export-state FILE  write the saved state (snapshot and journal) as one\n"
		"                       state file, with clusterd stopped, and exit\n"
		"  -V, --version        print the version and exit\n",
		CD_CONFIG_DEFAULT_PATH);
}

static int log_priority(const char *level)
{
	static const struct {
		const char *name;
		int prio;
	} t[] = {{"debug", LOG_DEBUG},
		 {"info", LOG_INFO},
		 {"notice", LOG_NOTICE},
		 {"warning", LOG_WARNING},
		 {"err", LOG_ERR}};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].name, level) == 0)
			return t[i].prio;
	return LOG_INFO;
}

/* Our own files at the configured level; libqb's chatter from info up. */
static void add_filters(int32_t target, int prio)
{
	qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
			  prio < LOG_INFO ? prio : LOG_INFO);
	qb_log_filter_ctl(target, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "clusterd/", prio);
}

/* The log file's qb_log target, for SIGHUP (0: none). */
static int32_t log_target;

static int setup_logging(int foreground)
{
	const char *file = cd_config_str(CD_CFG_LOG_FILE);
	int prio = log_priority(cd_config_str(CD_CFG_LOG_LEVEL));
	int32_t t;

	qb_log_init("clusterd", LOG_DAEMON, LOG_INFO);
	qb_log_format_set(QB_LOG_SYSLOG, "%b");
	add_filters(QB_LOG_SYSLOG, prio);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, *file ? QB_FALSE : QB_TRUE);
	/* A ring of recent messages at debug level, for post-mortems (blackbox.h). */
	cd_blackbox_init(cd_config_str(CD_CFG_STATE_DIR),
			 (size_t)cd_config_uint(CD_CFG_BLACKBOX_SIZE_KIB) * 1024);
	if (*file) {
		t = qb_log_file_open(file);
		if (t < 0) {
			fprintf(stderr, "clusterd: cannot open log file %s: %s\n", file,
				strerror(-t));
			return t;
		}
		log_target = t;
		qb_log_format_set(t, "%T [%P] %p: %b");
		add_filters(t, prio);
		qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
	if (foreground) {
		qb_log_format_set(QB_LOG_STDERR, "%T %p: %b");
		add_filters(QB_LOG_STDERR, *file ? LOG_WARNING : prio);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
	return 0;
}

/*
 * One clusterd per node: the pid file is locked for the daemon's life.
 * Returns the open fd (kept) or a negative code.
 */
static int take_pidfile(const char *run_dir, bool write_pid)
{
	char path[PATH_MAX], buf[32];
	int fd, rc, n;

	rc = cd_mkdir_p(run_dir, 0755);
	if (rc < 0) {
		fprintf(stderr, "clusterd: cannot create %s: %s\n", run_dir, strerror(-rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/clusterd.pid", run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "clusterd: cannot open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "clusterd: another clusterd is running (%s is locked)\n", path);
		close(fd);
		return -EBUSY;
	}
	if (!write_pid)
		return fd;
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/*
 * --export-state FILE: the state this node saved, recovered from its
 * snapshot and journal as clusterd would at start (a torn tail dropped),
 * written as one state file (state_file.h). Not while clusterd runs: the
 * recovery may truncate the journal it appends to.
 */
static int export_state(const char *path)
{
	struct cd_journal j;
	struct cd_journal_report rep;
	struct cd_state s;
	struct cd_version v = {0};
	char err[512];
	int lock = take_pidfile(cd_config_str(CD_CFG_RUN_DIR), false), rc;

	if (lock < 0)
		return 1;
	memset(&j, 0, sizeof(j));
	rc = cd_journal_open(&j, cd_config_str(CD_CFG_STATE_DIR), &s, &rep, err, sizeof(err));
	if (rc == 0) {
		cd_journal_close(&j);
		v = s.version;
		rc = cd_state_file_save(path, &s, err, sizeof(err));
		cd_state_free(&s);
	}
	close(lock);
	if (rc < 0) {
		fprintf(stderr, "clusterd: %s\n", err);
		return 1;
	}
	printf("state %" PRIu64 ".%" PRIu64 " (snapshot %" PRIu64 ".%" PRIu64
	       " and %zu change(s)) written to %s\n",
	       v.epoch, v.seq, rep.base.epoch, rep.base.seq, rep.records, path);
	return 0;
}

static bool nothing_runs;

static void shutdown_fenced(bool ok)
{
	nothing_runs = ok;
	if (ok)
		cd_watchdog_disarm();
	else
		qb_log(LOG_CRIT, "stopping with a VM that could not be powered off: the watchdog "
				 "process kills it");
	qb_loop_stop(loop);
}

static void power_off_then_stop(void)
{
	qb_log(LOG_NOTICE, "powering off the VMs here, then stopping");
	cd_event("node", "self", "clusterd stopping: powering off the VMs here");
	cd_lrm_self_fence(shutdown_fenced);
}

/*
 * A VM must not outlive the clusterd that holds its leases: stopping
 * empties the node as shutdown-policy says (shutdown.c), then powers off
 * what still runs here (the cluster then starts it elsewhere). A second
 * signal stops at once, and the watchdog process kills the rest.
 */
static int32_t on_signal(int32_t sig, void *data)
{
	if (stopping) {
		qb_log(LOG_WARNING, "signal %d again: stopping now", sig);
		qb_loop_stop(loop);
		return 0;
	}
	stopping = true;
	qb_log(LOG_NOTICE, "signal %d: stopping", sig);
	if (!cd_shutdown_begin(loop, power_off_then_stop))
		power_off_then_stop();
	return 0;
}

/*
 * The other signals a daemon gets: by default each would end clusterd, and
 * its watchdog process would then kill every VM of the node (one "kill -HUP"
 * from a log rotation would stop them all). SIGHUP reopens the log file (for
 * log rotation), SIGUSR1 writes the blackbox ring of recent debug messages
 * to STATE_DIR/blackbox (blackbox.h), SIGUSR2 is only logged.
 */
static int32_t on_other_signal(int32_t sig, void *data)
{
	char path[PATH_MAX + 256];
	int rc;

	switch (sig) {
	case SIGHUP:
		if (log_target > 0 &&
		    qb_log_file_reopen(log_target, cd_config_str(CD_CFG_LOG_FILE)) < 0)
			qb_log(LOG_ERR, "SIGHUP: cannot reopen the log file %s",
			       cd_config_str(CD_CFG_LOG_FILE));
		else
			qb_log(LOG_NOTICE, "SIGHUP: log file reopened");
		break;
	case SIGUSR1:
		rc = cd_blackbox_write("signal", path, sizeof(path));
		if (rc < 0)
			qb_log(LOG_ERR, "SIGUSR1: cannot write the blackbox: %s", strerror(-rc));
		else
			qb_log(LOG_NOTICE,
			       "SIGUSR1: blackbox written to %s (read it with "
			       "qb-blackbox)",
			       path);
		break;
	default:
		qb_log(LOG_NOTICE, "signal %d ignored", sig);
		break;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* clang-format off */
	static const struct option opts[] = {
		{"foreground", no_argument, NULL, 'f'},
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 'C'},
		{"export-state", required_argument, NULL, 'E'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* clang-format on */
	const char *config = CD_CONFIG_DEFAULT_PATH, *export_to = NULL;
	int foreground = 0, check = 0, config_given = 0, c, rc, pidfd;
	char err[512];
	qb_loop_signal_handle sh;

	while ((c = getopt_long(argc, argv, "fc:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreground = 1;
			break;
		case 'c':
			config = optarg;
			config_given = 1;
			break;
		case 'C':
			check = 1;
			break;
		case 'E':
			export_to = optarg;
			break;
		case 'V':
			printf("clusterd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	cd_config_defaults();
	if (cd_config_load(config, !config_given, err, sizeof(err)) < 0) {
		fprintf(stderr, "clusterd: %s\n", err);
		return 1;
	}
	if (check) {
		cd_config_print(stdout);
		return 0;
	}
	if (export_to)
		return export_state(export_to);
	if (!foreground && daemon(0, 0) < 0) {
		perror("clusterd: daemon");
		return 1;
	}
	pidfd = take_pidfile(cd_config_str(CD_CFG_RUN_DIR), true);
	if (pidfd < 0)
		return 1;
	{
		/*
		 * A name another process serves (a local user's squatter) stops
		 * clusterd here, before its watchdog process exists: a start that
		 * fails later makes that process kill every QEMU of the node.
		 */
		struct cd_ipc_peer holder;

		if (cd_ipc_probe(cd_ipc_name(), &holder) == -EADDRINUSE) {
			fprintf(stderr,
				"clusterd: the IPC name %s is already served by pid %ld (uid %ld): "
				"not starting\n",
				cd_ipc_name(), (long)holder.pid, (long)holder.uid);
			return 1;
		}
	}
	{
		struct cd_watchdog_config wc = {
			.device = cd_config_str(CD_CFG_WATCHDOG_DEVICE),
			.timeout_s = (unsigned)cd_config_uint(CD_CFG_WATCHDOG_TIMEOUT_S),
			.qemu_pid_dir = cd_config_str(CD_CFG_QEMU_PID_DIR),
			.log_file = cd_config_str(CD_CFG_LOG_FILE),
			.log_priority = log_priority(cd_config_str(CD_CFG_LOG_LEVEL)),
		};

		/* Before any thread: the watchdog process is a plain fork. */
		if (cd_watchdog_start(&wc) < 0) {
			fprintf(stderr, "clusterd: cannot start the watchdog process: %s\n",
				strerror(errno));
			return 1;
		}
	}
	if (setup_logging(foreground) < 0)
		return 1;
	qb_log(LOG_NOTICE, "clusterd %s starting", PACKAGE_VERSION);
#ifdef CD_TEST_HOOKS
	/* Said at every start, so a test build that reached a real cluster is seen. */
	qb_log(LOG_WARNING, "a test build (--enable-test-hooks, debug volume-stall): "
			    "not for production");
#endif

	loop = qb_loop_create();
	if (!loop) {
		qb_log(LOG_ERR, "cannot create the main loop");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGTERM, NULL, on_signal, &sh);
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGINT, NULL, on_signal, &sh);
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGHUP, NULL, on_other_signal, &sh);
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGUSR1, NULL, on_other_signal, &sh);
	qb_loop_signal_add(loop, QB_LOOP_HIGH, SIGUSR2, NULL, on_other_signal, &sh);

	rc = cd_replica_init(cd_config_str(CD_CFG_STATE_DIR));
	if (rc < 0) {
		fprintf(stderr, "clusterd: cannot load the saved state: %s (see the log)\n",
			cd_strerror(rc));
		return 1;
	}
	rc = cd_ipcs_start(loop, cd_config_str(CD_CFG_ADMIN_GROUP));
	if (rc < 0) {
		fprintf(stderr, "clusterd: cannot start IPC: %s\n", cd_strerror(rc));
		return 1;
	}
	{
		struct cd_lrm_config lc = {
			.libvirt_uri = cd_config_str(CD_CFG_LIBVIRT_URI),
			.qemu_pid_dir = cd_config_str(CD_CFG_QEMU_PID_DIR),
			.call_timeout_ms = (int)cd_config_uint(CD_CFG_LIBVIRT_TIMEOUT_MS),
			.stop_timeout_ms = (int)cd_config_uint(CD_CFG_VM_STOP_TIMEOUT_MS),
			.monitor_interval_ms = (int)cd_config_uint(CD_CFG_VM_MONITOR_INTERVAL_MS),
			.csvfs_run_dir = cd_config_str(CD_CFG_CSVFS_RUN_DIR),
			.run_dir = cd_config_str(CD_CFG_RUN_DIR),
		};

		rc = cd_lrm_init(loop, &lc);
		if (rc < 0) {
			fprintf(stderr, "clusterd: cannot start the VM agent: %s\n",
				cd_strerror(rc));
			return 1;
		}
	}
	rc = cd_volmgr_init(loop, cd_config_str(CD_CFG_CSVFS_RUN_DIR), cd_lrm_storage_lost);
	if (rc < 0) {
		fprintf(stderr, "clusterd: cannot start the volume manager: %s\n", cd_strerror(rc));
		return 1;
	}
	rc = cd_fence_init(loop);
	if (rc < 0)
		qb_log(LOG_WARNING, "fencing unavailable: %s", cd_strerror(rc));
	cd_coordinator_init(loop);
	cd_debugdump_init(loop);
	cd_nodecall_init(loop);
	cd_import_init();
	cd_quorumloss_init(loop);
	cd_replica_set_listener(state_changed);
	cd_replica_set_sync_timeout(loop, cd_config_uint(CD_CFG_SYNC_TIMEOUT_MS));
	cd_statecheck_init(loop, cd_config_uint(CD_CFG_STATE_CHECK_INTERVAL_MS));
	{
		struct cd_console_config cc = {
			.enabled = cd_config_yes(CD_CFG_CONSOLE),
			.port = (uint16_t)cd_config_uint(CD_CFG_CONSOLE_PORT),
			.admin_group = cd_config_str(CD_CFG_ADMIN_GROUP),
			.program = SBINDIR "/clusterd-console",
			.cert = CD_CONSOLE_CERT,
			.key = CD_CONSOLE_KEY,
			.metrics_token_file = cd_config_str(CD_CFG_METRICS_TOKEN_FILE),
			.metrics_loopback = cd_config_yes(CD_CFG_METRICS_LOOPBACK),
		};

		cd_console_start(loop, &cc);
	}
	cd_hostinfo_probe_cpus(loop, (int)cd_config_uint(CD_CFG_LIBVIRT_TIMEOUT_MS), 5000,
			       join_cluster, cd_replica_local_info_changed);

	qb_loop_run(loop);

	cd_console_fini();
	cd_membership_stop();
	cd_volmgr_fini(nothing_runs);
	cd_fence_fini();
	cd_coordinator_fini();
	cd_identity_fini();
	cd_lrm_fini();
	cd_ipcs_stop();
	cd_statecheck_fini();
	cd_debugdump_fini();
	cd_nodecall_fini();
	cd_replica_fini();
	cd_shutdown_fini();
	cd_loop_destroy(loop);
	qb_log(LOG_NOTICE, "clusterd stopped");
	qb_log_fini();
	close(pidfd);
	return 0;
}
