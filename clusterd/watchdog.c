#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/watchdog.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "clusterd/watchdog.h"
#include "core/wdrule.h"
#include "lib/util.h"

#define MAX_QEMUS 512
#define KILL_WAIT_MS 5000

/* --- clusterd's side --- */

static int wd_fd = -1;
static bool wd_warned;

static void send_msg(const char *buf, size_t len)
{
	if (wd_fd < 0 || len == 0)
		return;
	/* Never block a renewal on it; a stuck watchdog process is logged. */
	if (send(wd_fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && !wd_warned) {
		wd_warned = true;
		qb_log(LOG_CRIT,
		       "the watchdog process does not take messages (%s): the "
		       "backstop for a dying clusterd is gone",
		       strerror(errno));
	}
}

void cd_watchdog_lease(const char *vol, uint64_t gen, uint64_t valid_until, uint64_t margin_ms)
{
	char buf[CD_WD_MSG_MAX + 1];

	send_msg(buf, cd_wd_fmt_lease(buf, sizeof(buf), vol, gen, valid_until + margin_ms / 2,
				      valid_until + margin_ms));
}

void cd_watchdog_clear(const char *vol, uint64_t gen)
{
	char buf[CD_WD_MSG_MAX + 1];

	send_msg(buf, cd_wd_fmt_clear(buf, sizeof(buf), vol, gen));
}

void cd_watchdog_disarm(void)
{
	send_msg("D", 1);
}

/* --- the watchdog process --- */

static struct {
	const struct cd_watchdog_config *cfg;
	int hw;		/* hardware watchdog, -1 for none */
	uint64_t hw_ms; /* its timeout */
} wd_proc = {.hw = -1};

static bool is_qemu(pid_t pid)
{
	char path[64], comm[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return false;
	comm[n] = '\0';
	return strncmp(comm, "qemu", 4) == 0;
}

static pid_t read_pid(int dirfd, const char *name)
{
	char buf[32];
	ssize_t n;
	long pid;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
}

/*
 * SIGKILL every QEMU libvirt knows of here and wait until they are gone.
 * Returns true if none is left.
 */
static bool kill_qemus(void)
{
	struct pollfd pf[MAX_QEMUS];
	size_t n = 0, i;
	uint64_t deadline;
	struct dirent *e;
	int dfd;
	DIR *d;

	d = opendir(wd_proc.cfg->qemu_pid_dir);
	if (!d) {
		if (errno == ENOENT)
			return true; /* no libvirt QEMU has ever run here */
		qb_log(LOG_CRIT, "cannot read %s: %s", wd_proc.cfg->qemu_pid_dir, strerror(errno));
		return false;
	}
	dfd = dirfd(d);
	while ((e = readdir(d)) && n < MAX_QEMUS) {
		size_t len = strlen(e->d_name);
		pid_t pid;
		int fd;

		if (len < 5 || strcmp(e->d_name + len - 4, ".pid") != 0)
			continue;
		pid = read_pid(dfd, e->d_name);
		fd = pid ? pidfd_open(pid, 0) : -1;
		if (fd < 0)
			continue;
		/* Checked through the pidfd's process: a reused pid is left alone. */
		if (!is_qemu(pid)) {
			close(fd);
			continue;
		}
		if (pidfd_send_signal(fd, SIGKILL, NULL, 0) < 0) {
			qb_log(LOG_CRIT, "cannot kill QEMU %d (%.*s): %s", (int)pid, (int)(len - 4),
			       e->d_name, strerror(errno));
			close(fd);
			continue;
		}
		qb_log(LOG_CRIT, "killed QEMU %d (domain %.*s)", (int)pid, (int)(len - 4),
		       e->d_name);
		pf[n].fd = fd;
		pf[n].events = POLLIN;
		n++;
	}
	closedir(d);
	deadline = cd_now_ms() + KILL_WAIT_MS;
	while (n) {
		uint64_t now = cd_now_ms();
		int rc;

		if (now >= deadline)
			break;
		rc = poll(pf, (nfds_t)n, (int)(deadline - now));
		if (rc < 0 && errno != EINTR)
			break;
		for (i = 0; rc > 0 && i < n;) {
			if (pf[i].revents) {
				close(pf[i].fd);
				pf[i] = pf[--n];
				continue;
			}
			i++;
		}
	}
	for (i = 0; i < n; i++)
		close(pf[i].fd);
	if (n)
		qb_log(LOG_CRIT, "%zu QEMU process(es) still alive %d ms after SIGKILL", n,
		       KILL_WAIT_MS);
	return n == 0;
}

static void hw_open(void)
{
	int t = (int)wd_proc.cfg->timeout_s;

	wd_proc.hw_ms = (uint64_t)wd_proc.cfg->timeout_s * 1000u;
	if (!*wd_proc.cfg->device)
		return;
	wd_proc.hw = open(wd_proc.cfg->device, O_WRONLY | O_CLOEXEC);
	if (wd_proc.hw < 0) {
		qb_log(errno == ENOENT ? LOG_NOTICE : LOG_ERR,
		       "no hardware watchdog (%s: %s): the watchdog process alone backs up "
		       "clusterd",
		       wd_proc.cfg->device, strerror(errno));
		return;
	}
	if (ioctl(wd_proc.hw, WDIOC_SETTIMEOUT, &t) < 0 ||
	    ioctl(wd_proc.hw, WDIOC_GETTIMEOUT, &t) < 0)
		qb_log(LOG_WARNING, "%s: cannot set its timeout (%s); assuming %u s",
		       wd_proc.cfg->device, strerror(errno), wd_proc.cfg->timeout_s);
	else
		wd_proc.hw_ms = (uint64_t)t * 1000u;
	qb_log(LOG_NOTICE, "hardware watchdog %s armed, timeout %" PRIu64 " ms",
	       wd_proc.cfg->device, wd_proc.hw_ms);
}

static void hw_pet(void)
{
	if (wd_proc.hw >= 0 && write(wd_proc.hw, "k", 1) != 1)
		qb_log(LOG_ERR, "cannot keep %s alive: %s", wd_proc.cfg->device, strerror(errno));
}

/* Leave: a clean stop tells the hardware watchdog, a failed kill does not. */
static int leave(bool clean)
{
	if (wd_proc.hw >= 0 && clean && write(wd_proc.hw, "V", 1) != 1)
		qb_log(LOG_ERR, "cannot stop %s: %s", wd_proc.cfg->device, strerror(errno));
	if (wd_proc.hw >= 0 && !clean)
		qb_log(LOG_CRIT, "leaving %s running: it resets this machine", wd_proc.cfg->device);
	if (wd_proc.hw >= 0)
		close(wd_proc.hw);
	return clean ? 0 : 1;
}

static void child_setup(int fd)
{
	static const int ignored[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGUSR1, SIGUSR2};
	size_t i;
	FILE *f;

	setsid();
	prctl(PR_SET_NAME, "clusterd-wdog");
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	/* Keep stdio, the socket as fd 3, nothing else (the pid file's lock!). */
	if (fd != 3) {
		dup2(fd, 3);
		close(fd);
	}
	close_range(4, ~0u, 0);
	/* It must run when memory is short, and be the last thing killed. */
	if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		qb_log(LOG_WARNING, "mlockall: %s", strerror(errno));
	f = fopen("/proc/self/oom_score_adj", "w");
	if (f) {
		fputs("-1000", f);
		fclose(f);
	}
}

static void child_logging(const struct cd_watchdog_config *c)
{
	int32_t t;

	qb_log_init("clusterd-wdog", LOG_DAEMON, LOG_INFO);
	qb_log_format_set(QB_LOG_SYSLOG, "%b");
	qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
			  c->log_priority);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, *c->log_file ? QB_FALSE : QB_TRUE);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_FALSE);
	if (*c->log_file) {
		t = qb_log_file_open(c->log_file);
		if (t >= 0) {
			qb_log_format_set(t, "%T [%P] wdog %p: %b");
			qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
					  c->log_priority);
			qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
		}
	}
}

static int child_main(int fd, const struct cd_watchdog_config *cfg)
{
	struct cd_wd_rule r;
	uint64_t next_pet = 0, pet_every;
	bool pet_refused = false;

	memset(&r, 0, sizeof(r));
	wd_proc.cfg = cfg;
	hw_open();
	pet_every = wd_proc.hw_ms / 4 > 100 ? wd_proc.hw_ms / 4 : 100;
	qb_log(LOG_INFO, "watchdog process %d watching clusterd %d", (int)getpid(), (int)getppid());
	for (;;) {
		uint64_t now = cd_now_ms(), wake;
		const struct cd_wd_vol *due = cd_wd_due(&r, now);
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		char buf[CD_WD_MSG_MAX + 1];
		ssize_t n;
		int rc;

		if (due) {
			qb_log(LOG_CRIT,
			       "the host lease of volume %s lapsed and clusterd has not reported "
			       "its VMs off: killing every QEMU here",
			       due->name);
			if (!kill_qemus() && wd_proc.hw >= 0) {
				/* Let the hardware watchdog reset the machine. */
				qb_log(LOG_CRIT, "leaving %s running: it resets this machine",
				       cfg->device);
				close(wd_proc.hw);
				wd_proc.hw = -1;
			}
			cd_wd_clear(&r);
		}
		if (wd_proc.hw >= 0 && now >= next_pet) {
			bool may = cd_wd_may_pet(&r, now, wd_proc.hw_ms);

			if (may)
				hw_pet();
			if (!may && !pet_refused)
				qb_log(LOG_WARNING,
				       "not keeping %s alive: a host lease is about to "
				       "lapse",
				       cfg->device);
			pet_refused = !may;
			next_pet = now + pet_every;
		}
		wake = cd_wd_next(&r);
		if (wd_proc.hw >= 0 && next_pet < wake)
			wake = next_pet;
		rc = poll(&pf, 1, wake == UINT64_MAX ? -1 : wake > now ? (int)(wake - now) : 0);
		if (rc < 0 && errno != EINTR)
			return leave(false);
		if (rc <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n > 0) {
			if (cd_wd_apply(&r, buf, (size_t)n) < 0)
				qb_log(LOG_ERR, "ignored a malformed message (%zd bytes)", n);
			continue;
		}
		/* The end: clusterd is gone. */
		if (r.disarmed) {
			qb_log(LOG_INFO, "clusterd stopped cleanly");
			return leave(true);
		}
		qb_log(LOG_CRIT, "clusterd died: killing every QEMU here before its host leases "
				 "lapse");
		return leave(kill_qemus());
	}
}

int cd_watchdog_start(const struct cd_watchdog_config *cfg)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (pid == 0) {
		close(sv[0]);
		child_setup(sv[1]);
		child_logging(cfg);
		_exit(child_main(3, cfg));
	}
	close(sv[1]);
	wd_fd = sv[0];
	return 0;
}
