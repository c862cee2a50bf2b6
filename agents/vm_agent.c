#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/cpubaseline.h"
#include "agents/import.h"
#include "agents/migrate.h"
#include "agents/peer_facts.h"
#include "agents/quick.h"
#include "agents/vm_agent.h"
#include "lib/looptimer.h"
#include "lib/util.h"

struct job {
	enum cd_agent_op op;
	char name[64];
	char *xml;
	char *uri; /* the other node's libvirtd: PEER_FACTS, PEER_STATUS, JOB_STATS */
	struct cd_mig_args *args; /* the migration calls' own arguments (migrate.h) */
	struct cd_cpu_list *cpus; /* START: the host CPUs of its baseline; NULL: as defined */
	int timeout_ms;
	cd_agent_done_fn done;
	void *ctx;
	qb_loop_timer_handle timer;
	bool timed_out;	  /* reported to the caller already; drop the late result */
	struct job *next; /* in agent.jobs, until its thread has returned */
	/* Filled by the worker thread. */
	int rc;
	enum cd_domain_status status;
	bool paused;
	char err[256];
	char note[256]; /* what to log when done, if anything */
	char *names;
	char *out_xml;
	uint64_t lib_version, hv_version; /* DOMCAPS */
};

/* What the event thread passes to the loop. */
struct event {
	char name[64];
	enum cd_domain_status status;
};

static struct {
	qb_loop_t *loop;
	char uri[256];
	char pid_dir[256];
	cd_agent_event_fn on_event;
	pthread_mutex_t lock; /* guards conn */
	virConnectPtr conn;
	int callback_id;
	int done_pipe[2];  /* worker threads -> loop: struct job * */
	int event_pipe[2]; /* libvirt event thread -> loop: struct event */
	pthread_t event_thread;
	bool event_thread_running;
	volatile bool stopping;
	volatile bool broken; /* libvirt closed the connection */
	struct job *jobs;     /* loop side: every call whose thread has not returned */
} agent = {.lock = PTHREAD_MUTEX_INITIALIZER,
	   .done_pipe = {-1, -1},
	   .event_pipe = {-1, -1},
	   .callback_id = -1};

/* libvirt prints errors to stderr by default; we report them ourselves. */
static void quiet_errors(void *data, virErrorPtr e)
{
}

const char *cd_agent_last_error(void)
{
	virErrorPtr e = virGetLastError();

	return e && e->message ? e->message : "unknown libvirt error";
}

/* --- events, in libvirt's event thread --- */

static void write_all(int fd, const void *p, size_t n)
{
	const char *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

static int lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	cd_strlcpy(ev.name, virDomainGetName(dom), sizeof(ev.name));
	switch (event) {
	case VIR_DOMAIN_EVENT_STOPPED:
		ev.status = detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED ||
					    detail == VIR_DOMAIN_EVENT_STOPPED_FAILED
				    ? CD_DOMAIN_FAILED
				    : CD_DOMAIN_STOPPED;
		break;
	case VIR_DOMAIN_EVENT_CRASHED:
		ev.status = CD_DOMAIN_FAILED;
		break;
	case VIR_DOMAIN_EVENT_STARTED:
	case VIR_DOMAIN_EVENT_RESUMED:
		ev.status = CD_DOMAIN_RUNNING;
		break;
	default:
		return 0;
	}
	write_all(agent.event_pipe[1], &ev, sizeof(ev));
	return 0;
}

static void close_cb(virConnectPtr conn, int reason, void *opaque)
{
	/* Only note it: the next call drops the dead connection and reopens. */
	agent.broken = true;
}

static void *event_thread(void *arg)
{
	while (!agent.stopping)
		if (virEventRunDefaultImpl() < 0)
			usleep(100000);
	return NULL;
}

/* --- the connection --- */

/* A referenced connection, opened if needed. Caller virConnectClose()s it. */
static virConnectPtr get_conn(char *err, size_t errlen)
{
	virConnectPtr c;
	bool opened = false;

	pthread_mutex_lock(&agent.lock);
	if (agent.conn && agent.broken) {
		virConnectUnregisterCloseCallback(agent.conn, close_cb);
		virConnectClose(agent.conn);
		agent.conn = NULL;
	}
	if (!agent.conn) {
		agent.broken = false;
		agent.conn = virConnectOpen(agent.uri);
		if (agent.conn) {
			virConnectRegisterCloseCallback(agent.conn, close_cb, NULL, NULL);
			agent.callback_id = virConnectDomainEventRegisterAny(
				agent.conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
				VIR_DOMAIN_EVENT_CALLBACK(lifecycle_cb), NULL, NULL);
			opened = true;
		}
	}
	c = agent.conn;
	if (c)
		virConnectRef(c);
	else
		snprintf(err, errlen, "cannot connect to libvirt at %.64s: %s", agent.uri,
			 cd_agent_last_error());
	pthread_mutex_unlock(&agent.lock);
	if (opened) {
		/*
		 * libvirtd loads its QEMU capabilities lazily, at the first call
		 * that needs them, and probes QEMU again (0.6 s under TCG) when
		 * its cache is stale: after an upgrade, or when the host CPUID it
		 * recorded differs, which on nested PVM it does whenever it runs
		 * on another core (each reports its own APIC ID). Have that
		 * happen now, not inside the first VM start of a failover.
		 */
		free(virConnectGetDomainCapabilities(c, NULL, NULL, NULL, NULL, 0));
		virResetLastError();
	}
	return c;
}

/* --- calls, each in its own thread --- */

/* 1 if the domain's QEMU process lives, 0 if it is gone, -1 if unknown. */
static int qemu_pid_alive(const char *name)
{
	char path[512], *buf = NULL;
	size_t len;
	long pid;

	/* libvirt's QEMU driver keeps the pid here (qemu_pid_dir). */
	snprintf(path, sizeof(path), "%s/%s.pid", agent.pid_dir, name);
	if (cd_read_file(path, &buf, &len) < 0)
		return -1;
	pid = strtol(buf, NULL, 10);
	free(buf);
	if (pid <= 0)
		return -1;
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

static enum cd_domain_status qemu_alive(const char *name)
{
	/* Cannot tell: trust libvirt's state. */
	return qemu_pid_alive(name) == 0 ? CD_DOMAIN_FAILED : CD_DOMAIN_RUNNING;
}

static enum cd_domain_status domain_status(virDomainPtr d)
{
	int state = 0, reason = 0;

	if (!d)
		return CD_DOMAIN_STOPPED;
	if (virDomainGetState(d, &state, &reason, 0) < 0)
		return CD_DOMAIN_UNKNOWN;
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
	case VIR_DOMAIN_PAUSED:
	case VIR_DOMAIN_PMSUSPENDED:
		return qemu_alive(virDomainGetName(d));
	case VIR_DOMAIN_CRASHED:
		return CD_DOMAIN_FAILED;
	case VIR_DOMAIN_SHUTDOWN:
		return CD_DOMAIN_RUNNING; /* on its way down, not down yet */
	default:
		return CD_DOMAIN_STOPPED;
	}
}

/* d's status into j, and whether its vCPUs are paused (false if unknown). */
static void fill_state(struct job *j, virDomainPtr d)
{
	int state = 0, reason = 0;

	j->status = domain_status(d);
	j->paused =
		d && virDomainGetState(d, &state, &reason, 0) == 0 && state == VIR_DOMAIN_PAUSED;
}

/*
 * Look up domain name: 1 with *d set, 0 if libvirt says there is no such
 * domain, or -1 (err set) if the lookup failed otherwise. Only
 * VIR_ERR_NO_DOMAIN means absent: a broken connection or a busy libvirtd
 * tells nothing about the domain, and reading it as "stopped" would let
 * the cluster start the VM elsewhere while it still runs here.
 */
static int lookup(virConnectPtr c, const char *name, virDomainPtr *d, char *err, size_t errlen)
{
	virErrorPtr e;
	int rc;

	*d = virDomainLookupByName(c, name);
	if (*d) {
		virResetLastError();
		return 1;
	}
	e = virGetLastError();
	rc = e && e->code == VIR_ERR_NO_DOMAIN ? 0 : -1;
	if (rc < 0)
		snprintf(err, errlen, "cannot look the domain up: %s", cd_agent_last_error());
	virResetLastError();
	return rc;
}

/*
 * After a failed call on d: whether the domain is surely off (inactive, or
 * no longer known to libvirt). Any other answer, an error included, is not.
 */
static bool gone(virDomainPtr d)
{
	virErrorPtr e = virGetLastError();
	int active;

	if (e && e->code == VIR_ERR_NO_DOMAIN)
		return true;
	active = virDomainIsActive(d);
	if (active == 0)
		return true;
	e = virGetLastError();
	return active < 0 && e && e->code == VIR_ERR_NO_DOMAIN;
}

static void list_domains(virConnectPtr c, struct job *j)
{
	virDomainPtr *doms = NULL;
	size_t len = 1, i;
	int n = virConnectListAllDomains(c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);

	if (n < 0) {
		j->rc = CD_ERR_INVALID;
		snprintf(j->err, sizeof(j->err), "cannot list domains: %s", cd_agent_last_error());
		return;
	}
	for (i = 0; i < (size_t)n; i++)
		len += strlen(virDomainGetName(doms[i])) + 1;
	j->names = calloc(1, len);
	for (i = 0; i < (size_t)n; i++) {
		if (j->names) {
			strcat(j->names, virDomainGetName(doms[i]));
			strcat(j->names, "\n");
		}
		virDomainFree(doms[i]);
	}
	free(doms);
}

static void pause_resume(virDomainPtr d, struct job *j)
{
	bool suspend = j->op == CD_AGENT_SUSPEND;
	int state = 0, reason = 0;

	if (!d || virDomainGetState(d, &state, &reason, 0) < 0) {
		j->rc = CD_ERR_NOT_FOUND;
		snprintf(j->err, sizeof(j->err), "no such active domain");
		return;
	}
	if ((state == VIR_DOMAIN_PAUSED) != suspend &&
	    (suspend ? virDomainSuspend(d) : virDomainResume(d)) < 0) {
		j->rc = CD_ERR_INVALID;
		snprintf(j->err, sizeof(j->err), "%s failed: %s", suspend ? "suspend" : "resume",
			 cd_agent_last_error());
	}
	fill_state(j, d);
}

/* libvirtd's version and its hypervisor's, for the cluster check (0: not told). */
static void versions(virConnectPtr c, struct job *j)
{
	unsigned long lib = 0, hv = 0;

	if (virConnectGetLibVersion(c, &lib) == 0)
		j->lib_version = lib;
	if (virConnectGetVersion(c, &hv) == 0)
		j->hv_version = hv;
	virResetLastError();
}

/*
 * Tell the network where the guest now runs, as soon as its QEMU runs:
 * QEMU sends a RARP from each of the guest's MACs (announce-self), five
 * times in the first half second, so every bridge and switch on the way
 * learns the guest's new port at once, whatever the guest itself sends
 * (many send nothing until spoken to). Harmless on the node the guest ran
 * on before. libvirt has no API of its own for it: QMP through
 * libvirt-qemu. A failure is logged; the VM runs all the same.
 */
static void announce(virDomainPtr d, struct job *j)
{
	static const char cmd[] = "{\"execute\":\"announce-self\",\"arguments\":"
				  "{\"initial\":50,\"max\":550,\"rounds\":5,\"step\":100}}";
	char *reply = NULL;

	size_t at = strlen(j->note); /* after what start() noted */

	if (virDomainQemuMonitorCommand(d, cmd, &reply, 0) < 0)
		snprintf(j->note + at, sizeof(j->note) - at,
			 "cannot announce its MAC addresses: %s", cd_agent_last_error());
	else
		snprintf(j->note + at, sizeof(j->note) - at,
			 "MAC addresses announced to the network");
	free(reply);
}

#ifdef CD_TEST_HOOKS
/*
 * Test aid (builds configured with --enable-test-hooks only): a start of
 * NAME on host HOST waits, before it reaches libvirt, while the file
 * $CD_TEST_HOLD_DIR/HOST-NAME exists, as a start slowed by a busy host
 * would; HOST-NAME.held says it is waiting. Lab tests use it to put a start
 * in flight at the moment they choose.
 */
static void test_hold_start(const char *name)
{
	while (cd_test_held(name, "") && !agent.stopping)
		poll(NULL, 0, 50);
}
#endif

/*
 * Whether d is paused by anything but a start: a start's own domain runs
 * (or is on its way down, or crashed, which the monitor sees), never paused.
 */
static bool paused_copy(virDomainPtr d)
{
	int state = 0, reason = 0;

	return virDomainGetState(d, &state, &reason, 0) == 0 && state == VIR_DOMAIN_PAUSED;
}

/*
 * Create the domain from j's XML, with the baseline of j->cpus in place of
 * its CPU if it has them (cpubaseline.h); *d is its lookup, then the new
 * domain. A failed baseline starts nothing, and changes nothing.
 */
static void start(virConnectPtr c, virDomainPtr *d, struct job *j)
{
	char *xml = NULL;

	if (*d && virDomainIsActive(*d) == 1 && !paused_copy(*d)) {
		/* Started before (this node restarted mid-action): do not start twice. */
		fill_state(j, *d);
		return;
	}
	if (*d && virDomainIsActive(*d) == 1) {
		/*
		 * Paused: not what a start leaves. A copy restored here, or an
		 * incoming migration, that the cluster never let run: its memory
		 * may be older than its disks. It goes, and the VM starts afresh.
		 */
		if (virDomainDestroy(*d) < 0 && !gone(*d)) {
			j->rc = CD_ERR_INVALID;
			snprintf(j->err, sizeof(j->err),
				 "a paused copy of it here cannot be powered off: %s",
				 cd_agent_last_error());
			j->status = domain_status(*d);
			return;
		}
		snprintf(j->note, sizeof(j->note),
			 "a paused copy of it here, never let run, powered off first; ");
	}
	if (j->cpus &&
	    (j->rc = cd_agent_baseline_xml(c, j->xml, j->cpus, &xml, j->err, sizeof(j->err))) < 0) {
		j->status = CD_DOMAIN_STOPPED;
		return;
	}
	if (*d) {
		/* A stale persistent definition: the cluster's XML is the truth. */
		virDomainUndefine(*d);
		virDomainFree(*d);
	}
	*d = virDomainCreateXML(c, xml ? xml : j->xml, 0);
	free(xml);
	if (!*d) {
		j->rc = CD_ERR_INVALID;
		snprintf(j->err, sizeof(j->err), "start failed: %s", cd_agent_last_error());
		j->status = CD_DOMAIN_FAILED;
		return;
	}
	announce(*d, j);
	fill_state(j, *d);
}

static void run_job(struct job *j)
{
	virConnectPtr c;
	virDomainPtr d = NULL;
	int found;

#ifdef CD_TEST_HOOKS
	if (j->op == CD_AGENT_START)
		test_hold_start(j->name);
#endif
	if (j->op == CD_AGENT_PEER_FACTS) {
		/* Another node's libvirtd, on a connection of its own. */
		j->status = CD_DOMAIN_UNKNOWN;
		j->rc = cd_peer_facts_run(j->uri, j->xml, &j->out_xml, j->err, sizeof(j->err));
		return;
	}
	if (j->op == CD_AGENT_PEER_STATUS || j->op == CD_AGENT_PEER_DESTROY ||
	    (j->op == CD_AGENT_JOB_STATS && j->uri)) {
		j->rc = cd_migrate_peer(j->op, j->uri, j->name, j->args, &j->out_xml, &j->status,
					&j->paused, j->err, sizeof(j->err));
		return;
	}
	c = get_conn(j->err, sizeof(j->err));

	j->status = CD_DOMAIN_UNKNOWN;
	if (!c) {
		j->rc = CD_ERR_NO_DAEMON;
		return;
	}
	found = j->op == CD_AGENT_LIST || j->op == CD_AGENT_DOMCAPS
			? 0
			: lookup(c, j->name, &d, j->err, sizeof(j->err));
	if (found < 0) {
		/* Nothing is known of the domain: no action, status unknown. */
		j->rc = CD_ERR_NO_DAEMON;
		virConnectClose(c);
		return;
	}
	switch (j->op) {
	case CD_AGENT_START:
		start(c, &d, j);
		break;
	case CD_AGENT_SHUTDOWN:
		if (d && virDomainIsActive(d) == 1 && virDomainShutdown(d) < 0) {
			j->rc = CD_ERR_INVALID;
			snprintf(j->err, sizeof(j->err), "shutdown failed: %s",
				 cd_agent_last_error());
		}
		break;
	case CD_AGENT_DESTROY:
		/* A domain that went away meanwhile is off: that is no failure. */
		if (d && virDomainIsActive(d) == 1 && virDomainDestroy(d) < 0) {
			char why[200];

			cd_strlcpy(why, cd_agent_last_error(), sizeof(why));
			if (!gone(d)) {
				j->rc = CD_ERR_INVALID;
				snprintf(j->err, sizeof(j->err), "destroy failed: %s", why);
			}
		}
		break;
	case CD_AGENT_STATUS:
		fill_state(j, d);
		/*
		 * A libvirtd that just restarted may not list a domain whose QEMU
		 * still runs: that is no stopped VM.
		 */
		if (!d && qemu_pid_alive(j->name) == 1)
			j->status = CD_DOMAIN_RUNNING;
		if (j->status == CD_DOMAIN_UNKNOWN) {
			j->rc = CD_ERR_INVALID;
			snprintf(j->err, sizeof(j->err), "cannot read the domain state: %s",
				 cd_agent_last_error());
		}
		break;
	case CD_AGENT_LIST:
		list_domains(c, j);
		break;
	case CD_AGENT_SUSPEND:
	case CD_AGENT_RESUME:
		pause_resume(d, j);
		break;
	case CD_AGENT_XML:
		j->status = domain_status(d);
		if (d && j->status == CD_DOMAIN_RUNNING) {
			j->out_xml = virDomainGetXMLDesc(d, 0);
			if (!j->out_xml) {
				j->rc = CD_ERR_INVALID;
				snprintf(j->err, sizeof(j->err), "cannot read the domain XML: %s",
					 cd_agent_last_error());
			}
		}
		break;
	case CD_AGENT_DEFINITION:
	case CD_AGENT_UNDEFINE:
		if (!d) {
			j->rc = CD_ERR_NOT_FOUND;
			snprintf(j->err, sizeof(j->err), "no such domain");
			j->status = CD_DOMAIN_STOPPED;
			break;
		}
		j->rc = j->op == CD_AGENT_DEFINITION
				? cd_agent_import_read(d, &j->out_xml, j->err, sizeof(j->err))
				: cd_agent_import_undefine(d, j->err, sizeof(j->err));
		fill_state(j, d);
		break;
	case CD_AGENT_DOMCAPS:
		j->rc = cd_agent_domain_caps(c, &j->out_xml, j->err, sizeof(j->err));
		j->status = CD_DOMAIN_STOPPED;
		versions(c, j);
		break;
	case CD_AGENT_MIGRATE:
	case CD_AGENT_ABORT_JOB:
	case CD_AGENT_JOB_STATS:
	case CD_AGENT_DIRTY_RATE:
	case CD_AGENT_POSTCOPY:
		j->rc = cd_migrate_local(j->op, d, j->args, &j->out_xml, j->err, sizeof(j->err),
					 j->note, sizeof(j->note));
		fill_state(j, d);
		break;
	case CD_AGENT_ANNOUNCE:
		if (d && virDomainIsActive(d) == 1) {
			announce(d, j);
		} else {
			j->rc = CD_ERR_NOT_FOUND;
			snprintf(j->err, sizeof(j->err), "no such active domain");
		}
		fill_state(j, d);
		break;
	case CD_AGENT_PEER_FACTS:
	case CD_AGENT_PEER_STATUS:
	case CD_AGENT_PEER_DESTROY:
		break; /* answered above */
	case CD_AGENT_SAVE:
		j->rc = cd_quick_save(d, j->name, &j->args->quick, &j->out_xml, j->err,
				      sizeof(j->err), j->note, sizeof(j->note));
		break;
	case CD_AGENT_RESTORE:
		j->rc = cd_quick_restore(c, j->name, &d, &j->args->quick, &j->out_xml, j->err,
					 sizeof(j->err), j->note, sizeof(j->note));
		fill_state(j, d);
		break;
	}
	if (d)
		virDomainFree(d);
	/*
	 * A destroyed, shut down or migrated transient domain is gone: its old
	 * handle can no longer tell its state. Look again by name; a failed
	 * look leaves the state unknown, never "stopped".
	 */
	if (j->op == CD_AGENT_DESTROY || j->op == CD_AGENT_SHUTDOWN || j->op == CD_AGENT_MIGRATE ||
	    j->op == CD_AGENT_ABORT_JOB || j->op == CD_AGENT_SAVE) {
		char err[256];

		found = lookup(c, j->name, &d, err, sizeof(err));
		if (found < 0) {
			j->status = CD_DOMAIN_UNKNOWN;
			if (j->rc == 0) {
				j->rc = CD_ERR_NO_DAEMON;
				cd_strlcpy(j->err, err, sizeof(j->err));
			}
		} else {
			fill_state(j, d);
		}
		if (d)
			virDomainFree(d);
	}
	virConnectClose(c);
}

static void *job_thread(void *arg)
{
	struct job *j = arg;

	run_job(j);
	write_all(agent.done_pipe[1], &j, sizeof(j));
	return NULL;
}

/* --- the loop side --- */

static void job_unlink(struct job *j)
{
	struct job **p;

	for (p = &agent.jobs; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			return;
		}
}

bool cd_vm_agent_starting(const char *name)
{
	struct job *j;

	for (j = agent.jobs; j; j = j->next)
		if (j->op == CD_AGENT_START && (!name || strcmp(j->name, name) == 0))
			return true;
	return false;
}

static void job_free(struct job *j)
{
	free(j->names);
	free(j->out_xml);
	free(j->xml);
	free(j->uri);
	free(j->args);
	cd_cpu_list_free(j->cpus);
	free(j);
}

static void job_timeout(void *data)
{
	struct job *j = data;

	struct cd_agent_result r = {
		.rc = CD_ERR_TIMEOUT, .status = CD_DOMAIN_UNKNOWN, .err = "libvirt call timed out"};

	j->timed_out = true;
	qb_log(LOG_ERR, "libvirt %s of %s did not return within %d ms: abandoned",
	       cd_agent_op_to_str(j->op), j->name, j->timeout_ms);
	j->done(j->ctx, &r);
}

static int32_t done_pipe_cb(int32_t fd, int32_t revents, void *data)
{
	struct job *j;

	while (read(fd, &j, sizeof(j)) == (ssize_t)sizeof(j)) {
		if (j->note[0])
			qb_log(LOG_NOTICE, "vm %s: %s", j->name, j->note);
		if (j->timed_out) {
			qb_log(LOG_WARNING, "libvirt %s of %s returned late (%s); dropped",
			       cd_agent_op_to_str(j->op), j->name,
			       cd_domain_status_to_str(j->status));
		} else {
			struct cd_agent_result r = {.rc = j->rc,
						    .status = j->status,
						    .paused = j->paused,
						    .err = j->err,
						    .names = j->names,
						    .xml = j->out_xml,
						    .lib_version = j->lib_version,
						    .hv_version = j->hv_version};

			cd_timer_del(agent.loop, j->timer);
			j->done(j->ctx, &r);
		}
		job_unlink(j);
		job_free(j);
	}
	return 0;
}

static int32_t event_pipe_cb(int32_t fd, int32_t revents, void *data)
{
	struct event ev;

	while (read(fd, &ev, sizeof(ev)) == (ssize_t)sizeof(ev))
		if (agent.on_event)
			agent.on_event(ev.name, ev.status);
	return 0;
}

/* A job, as cd_agent_start_job starts one, with a start's baseline CPUs (taken over). */
static int start_job(enum cd_agent_op op, const char *name, const char *uri, const char *xml,
		     const struct cd_mig_args *a, struct cd_cpu_list *cpus, int timeout_ms,
		     cd_agent_done_fn done, void *ctx)
{
	struct job *j = calloc(1, sizeof(*j));
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (!j) {
		cd_cpu_list_free(cpus);
		return -ENOMEM;
	}
	j->cpus = cpus;
	j->op = op;
	cd_strlcpy(j->name, name, sizeof(j->name));
	j->xml = xml ? strdup(xml) : NULL;
	j->uri = uri ? strdup(uri) : NULL;
	/* Always there: an op asked through cd_vm_agent_call reads zeros. */
	j->args = calloc(1, sizeof(*j->args));
	if (j->args && a)
		*j->args = *a;
	j->timeout_ms = timeout_ms;
	j->done = done;
	j->ctx = ctx;
	if ((xml && !j->xml) || (uri && !j->uri) || !j->args) {
		job_free(j);
		return -ENOMEM;
	}
	cd_timer_add(agent.loop, QB_LOOP_MED, (uint64_t)timeout_ms * 1000000ull, j, job_timeout,
		     &j->timer);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, job_thread, j);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		cd_timer_del(agent.loop, j->timer);
		job_free(j);
		return -rc;
	}
	j->next = agent.jobs;
	agent.jobs = j;
	return 0;
}

int cd_vm_agent_call(enum cd_agent_op op, const char *name, const char *xml, int timeout_ms,
		     cd_agent_done_fn done, void *ctx)
{
	return cd_agent_start_job(op, name, NULL, xml, NULL, timeout_ms, done, ctx);
}

int cd_vm_agent_peer_facts(const char *node, const char *uri, const char *req, int timeout_ms,
			   cd_agent_done_fn done, void *ctx)
{
	return cd_agent_start_job(CD_AGENT_PEER_FACTS, node, uri, req, NULL, timeout_ms, done, ctx);
}

int cd_agent_start_job(enum cd_agent_op op, const char *name, const char *uri, const char *xml,
		       const struct cd_mig_args *a, int timeout_ms, cd_agent_done_fn done,
		       void *ctx)
{
	return start_job(op, name, uri, xml, a, NULL, timeout_ms, done, ctx);
}

int cd_agent_start_baseline_job(const char *name, const char *xml, struct cd_cpu_list *cpus,
				int timeout_ms, cd_agent_done_fn done, void *ctx)
{
	return start_job(CD_AGENT_START, name, NULL, xml, NULL, cpus, timeout_ms, done, ctx);
}

int cd_vm_agent_init(qb_loop_t *loop, const char *uri, const char *pid_dir,
		     cd_agent_event_fn on_event)
{
	agent.loop = loop;
	agent.on_event = on_event;
	cd_strlcpy(agent.uri, uri, sizeof(agent.uri));
	cd_strlcpy(agent.pid_dir, pid_dir, sizeof(agent.pid_dir));
	virSetErrorFunc(NULL, quiet_errors);
	if (pipe2(agent.done_pipe, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(agent.event_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	qb_loop_poll_add(loop, QB_LOOP_MED, agent.done_pipe[0], POLLIN, NULL, done_pipe_cb);
	qb_loop_poll_add(loop, QB_LOOP_HIGH, agent.event_pipe[0], POLLIN, NULL, event_pipe_cb);
	if (virEventRegisterDefaultImpl() < 0) {
		qb_log(LOG_ERR, "cannot set up libvirt's event loop: %s", cd_agent_last_error());
		return CD_ERR_INVALID;
	}
	if (pthread_create(&agent.event_thread, NULL, event_thread, NULL) != 0)
		return -EAGAIN;
	agent.event_thread_running = true;
	return 0;
}

void cd_vm_agent_fini(void)
{
	agent.stopping = true;
	pthread_mutex_lock(&agent.lock);
	if (agent.conn) {
		if (agent.callback_id >= 0)
			virConnectDomainEventDeregisterAny(agent.conn, agent.callback_id);
		virConnectUnregisterCloseCallback(agent.conn, close_cb);
		virConnectClose(agent.conn);
		agent.conn = NULL;
	}
	pthread_mutex_unlock(&agent.lock);
	/* The event thread is left to end with the process. */
}
