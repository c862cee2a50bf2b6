/*
 * The VM agent against libvirt's test driver (test:///default, in this
 * process), with libvirt's domain lookup wrapped (-Wl,--wrap) so that a test
 * can make it fail the way a broken connection or a busy libvirtd does.
 * What is checked: only "no such domain" reads as stopped; any other failed
 * lookup leaves the domain's state unknown and does nothing to it; the QEMU
 * liveness check reads the configured pid directory. The test driver has no
 * jobs (abort, job stats, dirty rate, migration say "not supported"): those
 * calls are checked on their error paths, and with libvirt's job calls
 * wrapped to play a domain with or without a job.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>

#include <clusterd/result.h>

#include "agents/migrate.h"
#include "agents/peer_facts.h"
#include "agents/vm_agent.h"
#include "agents/vmstate.h"
#include "check_common.h"
#include "lib/util.h"
#include "lib/looptimer.h"

/* --- the fake: a lookup that fails with a chosen libvirt error code --- */

virDomainPtr __real_virDomainLookupByName(virConnectPtr conn, const char *name);
virDomainPtr __wrap_virDomainLookupByName(virConnectPtr conn, const char *name);
virErrorPtr __real_virGetLastError(void);
virErrorPtr __wrap_virGetLastError(void);
void __real_virResetLastError(void);
void __wrap_virResetLastError(void);
int __real_virDomainDestroy(virDomainPtr d);
int __wrap_virDomainDestroy(virDomainPtr d);

static int fail_code;	    /* 0: the real lookup */
static virError fake_error; /* what the failed lookup left */
static __thread bool faked; /* the calling thread's last error is the fake */
static int lookups;

/* Leave the fake as the calling thread's last error. */
static void inject(int code, int domain, const char *message)
{
	fake_error.code = code;
	fake_error.domain = domain;
	fake_error.level = VIR_ERR_ERROR;
	fake_error.message = (char *)message;
	faked = true;
}

virDomainPtr __wrap_virDomainLookupByName(virConnectPtr conn, const char *name)
{
	__atomic_add_fetch(&lookups, 1, __ATOMIC_SEQ_CST);
	if (!fail_code) {
		faked = false;
		return __real_virDomainLookupByName(conn, name);
	}
	inject(fail_code, VIR_FROM_RPC, "injected: cannot recv data: connection reset by peer");
	return NULL;
}

virErrorPtr __wrap_virGetLastError(void)
{
	return faked ? &fake_error : __real_virGetLastError();
}

void __wrap_virResetLastError(void)
{
	faked = false;
	__real_virResetLastError();
}

/* A destroy that finds the domain gone already (it stopped meanwhile). */
static bool destroy_vanished;

int __wrap_virDomainDestroy(virDomainPtr d)
{
	if (!destroy_vanished)
		return __real_virDomainDestroy(d);
	__real_virDomainDestroy(d);
	inject(VIR_ERR_NO_DOMAIN, VIR_FROM_QEMU, "injected: Domain not found");
	return -1;
}

/*
 * libvirt's job calls: JOB_REAL passes them to the test driver (which
 * supports none), JOB_NONE plays a domain with no job, JOB_MIGRATING one
 * with a migration out under way.
 */
int __real_virDomainAbortJob(virDomainPtr d);
int __wrap_virDomainAbortJob(virDomainPtr d);
int __real_virDomainGetJobInfo(virDomainPtr d, virDomainJobInfoPtr info);
int __wrap_virDomainGetJobInfo(virDomainPtr d, virDomainJobInfoPtr info);
int __real_virDomainGetJobStats(virDomainPtr d, int *type, virTypedParameterPtr *params,
				int *nparams, unsigned int flags);
int __wrap_virDomainGetJobStats(virDomainPtr d, int *type, virTypedParameterPtr *params,
				int *nparams, unsigned int flags);

static enum { JOB_REAL, JOB_NONE, JOB_MIGRATING } job_play;

int __wrap_virDomainAbortJob(virDomainPtr d)
{
	if (job_play == JOB_REAL)
		return __real_virDomainAbortJob(d);
	if (job_play == JOB_MIGRATING)
		return 0;
	/* What libvirt's QEMU driver says when there is nothing to abort. */
	inject(VIR_ERR_OPERATION_INVALID, VIR_FROM_QEMU,
	       "injected: no job is active on the domain");
	return -1;
}

int __wrap_virDomainGetJobInfo(virDomainPtr d, virDomainJobInfoPtr info)
{
	if (job_play != JOB_NONE)
		return __real_virDomainGetJobInfo(d, info);
	memset(info, 0, sizeof(*info));
	info->type = VIR_DOMAIN_JOB_NONE;
	faked = false;
	return 0;
}

int __wrap_virDomainGetJobStats(virDomainPtr d, int *type, virTypedParameterPtr *params,
				int *nparams, unsigned int flags)
{
	int max = 0;

	if (job_play != JOB_MIGRATING)
		return __real_virDomainGetJobStats(d, type, params, nparams, flags);
	*type = flags & VIR_DOMAIN_JOB_STATS_COMPLETED ? VIR_DOMAIN_JOB_COMPLETED
						       : VIR_DOMAIN_JOB_UNBOUNDED;
	*params = NULL;
	*nparams = 0;
	virTypedParamsAddInt(params, nparams, &max, VIR_DOMAIN_JOB_OPERATION,
			     VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT);
	virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_DATA_TOTAL, 1000);
	virTypedParamsAddULLong(params, nparams, &max, VIR_DOMAIN_JOB_DATA_PROCESSED, 500);
	faked = false;
	return 0;
}

/*
 * libvirt's CPU baseline: the test driver has none, so BASELINE_PLAY
 * answers as libvirt's QEMU driver would, and records what it was asked.
 */
char *__real_virConnectBaselineHypervisorCPU(virConnectPtr c, const char *emulator,
					     const char *arch, const char *machine,
					     const char *virttype, const char **cpus,
					     unsigned int n, unsigned int flags);
char *__wrap_virConnectBaselineHypervisorCPU(virConnectPtr c, const char *emulator,
					     const char *arch, const char *machine,
					     const char *virttype, const char **cpus,
					     unsigned int n, unsigned int flags);

static struct {
	bool play;
	unsigned int n, flags;
	char virttype[16], last_cpu[128];
	bool arch_given;
} baseline;

char *__wrap_virConnectBaselineHypervisorCPU(virConnectPtr c, const char *emulator,
					     const char *arch, const char *machine,
					     const char *virttype, const char **cpus,
					     unsigned int n, unsigned int flags)
{
	if (!baseline.play)
		return __real_virConnectBaselineHypervisorCPU(c, emulator, arch, machine, virttype,
							      cpus, n, flags);
	baseline.n = n;
	baseline.flags = flags;
	baseline.arch_given = arch != NULL;
	cd_strlcpy(baseline.virttype, virttype ? virttype : "", sizeof(baseline.virttype));
	cd_strlcpy(baseline.last_cpu, n ? cpus[n - 1] : "", sizeof(baseline.last_cpu));
	faked = false;
	return strdup("<cpu mode='custom' match='exact'>\n"
		      "  <model fallback='forbid'>Westmere</model>\n"
		      "  <vendor>Intel</vendor>\n"
		      "</cpu>\n");
}

/* The test driver restores only running: ours asks for paused, which is the same to it. */
int __real_virDomainRestoreFlags(virConnectPtr c, const char *from, const char *dxml,
				 unsigned int flags);
int __wrap_virDomainRestoreFlags(virConnectPtr c, const char *from, const char *dxml,
				 unsigned int flags);

int __wrap_virDomainRestoreFlags(virConnectPtr c, const char *from, const char *dxml,
				 unsigned int flags)
{
	return __real_virDomainRestoreFlags(c, from, dxml, flags & ~VIR_DOMAIN_SAVE_PAUSED);
}

/* --- driving the agent from a qb loop --- */

static qb_loop_t *loop;
static char pid_dir[64];
static struct {
	bool done;
	int rc;
	enum cd_domain_status status;
	bool paused;
	char err[256];
	char xml[4096]; /* r->xml, "" if none */
} res;

static void on_done(void *ctx, const struct cd_agent_result *r)
{
	res.done = true;
	res.rc = r->rc;
	res.status = r->status;
	res.paused = r->paused;
	cd_strlcpy(res.err, r->err ? r->err : "", sizeof(res.err));
	cd_strlcpy(res.xml, r->xml ? r->xml : "", sizeof(res.xml));
	qb_loop_stop(loop);
}

static void on_event(const char *name, enum cd_domain_status st)
{
}

static void on_deadline(void *data)
{
	qb_loop_stop(loop);
}

/* Wait for the result of the call just made (a hang guard only). */
static void wait_done(void)
{
	qb_loop_timer_handle th;

	cd_timer_add(loop, QB_LOOP_HIGH, (uint64_t)TEST_MS(30000) * 1000000ull, NULL, on_deadline,
		     &th);
	while (!res.done)
		qb_loop_run(loop);
	cd_timer_del(loop, th);
}

/* Run op on name and wait for its result. */
static void call(enum cd_agent_op op, const char *name, const char *xml)
{
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(cd_vm_agent_call(op, name, xml, TEST_MS(20000), on_done, NULL), 0);
	wait_done();
}

static const char *xml = "<domain type='test'><name>vm1</name>"
			 "<uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f</uuid>"
			 "<memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>";

static void setup(void)
{
	qb_log_init("check_vm_agent", LOG_USER, LOG_ERR);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	tmpdir_make(pid_dir, sizeof(pid_dir), "check_vm_agent");
	loop = qb_loop_create();
	ck_assert_ptr_nonnull(loop);
	fail_code = 0;
	ck_assert_int_eq(cd_vm_agent_init(loop, "test:///default", pid_dir, on_event), 0);
	call(CD_AGENT_START, "vm1", xml);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
}

static void teardown(void)
{
	cd_vm_agent_fini();
	cd_loop_destroy(loop);
	tmpdir_remove(pid_dir);
}

START_TEST(test_lookup_error_is_unknown)
{
	static const int codes[] = {VIR_ERR_RPC, VIR_ERR_SYSTEM_ERROR, VIR_ERR_INTERNAL_ERROR,
				    VIR_ERR_OPERATION_TIMEOUT, VIR_ERR_NO_CONNECT};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		fail_code = codes[i];
		/* A destroy that cannot see the domain has not stopped it. */
		call(CD_AGENT_DESTROY, "vm1", NULL);
		ck_assert_int_lt(res.rc, 0);
		ck_assert_msg(res.status == CD_DOMAIN_UNKNOWN, "code %d: destroy says %s", codes[i],
			      cd_domain_status_to_str(res.status));
		ck_assert_ptr_nonnull(strstr(res.err, "injected"));
		call(CD_AGENT_STATUS, "vm1", NULL);
		ck_assert_int_lt(res.rc, 0);
		ck_assert_int_eq(res.status, CD_DOMAIN_UNKNOWN);
		call(CD_AGENT_SHUTDOWN, "vm1", NULL);
		ck_assert_int_eq(res.status, CD_DOMAIN_UNKNOWN);
		/* Nor is a start tried blind. */
		call(CD_AGENT_START, "vm1", xml);
		ck_assert_int_lt(res.rc, 0);
		ck_assert_int_eq(res.status, CD_DOMAIN_UNKNOWN);
	}
	/* It still runs: nothing was done to it. */
	fail_code = 0;
	call(CD_AGENT_STATUS, "vm1", NULL);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
}
END_TEST

START_TEST(test_no_domain_is_stopped)
{
	fail_code = VIR_ERR_NO_DOMAIN;
	call(CD_AGENT_STATUS, "vm1", NULL);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	call(CD_AGENT_DESTROY, "vm1", NULL);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	/* The real thing: destroyed, then gone. */
	fail_code = 0;
	call(CD_AGENT_DESTROY, "vm1", NULL);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	call(CD_AGENT_STATUS, "vm1", NULL);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	ck_assert_int_gt(lookups, 0);
}
END_TEST

/* A domain that stopped between the look and the destroy is off, not a failure. */
START_TEST(test_destroy_of_vanished_domain)
{
	destroy_vanished = true;
	call(CD_AGENT_DESTROY, "vm1", NULL);
	destroy_vanished = false;
	ck_assert_msg(res.rc == 0, "destroy says %s", res.err);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
}
END_TEST

/* The QEMU liveness check reads the configured pid directory. */
START_TEST(test_pid_dir)
{
	char path[128], pid[32];
	pid_t child = fork();

	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(child, NULL, 0), child);
	/* A pid file naming a process that is gone: libvirt's "running" is wrong. */
	snprintf(path, sizeof(path), "%s/vm1.pid", pid_dir);
	snprintf(pid, sizeof(pid), "%ld\n", (long)child);
	ck_assert_int_eq(cd_write_file_atomic(path, pid, strlen(pid)), 0);
	call(CD_AGENT_STATUS, "vm1", NULL);
	ck_assert_int_eq(res.status, CD_DOMAIN_FAILED);
	/* A live one: running. */
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	ck_assert_int_eq(cd_write_file_atomic(path, pid, strlen(pid)), 0);
	call(CD_AGENT_STATUS, "vm1", NULL);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
}
END_TEST

/* A move's question to another node's libvirtd, here the test driver's. */
START_TEST(test_peer_facts)
{
	char err[256] = "", *out = NULL;
	const char *cpu;

	ck_assert_int_eq(
		cd_peer_facts_run("test:///default",
				  "{\"virttype\":\"kvm\",\"bridges\":[\"eth1\",\"nosuchbr\"],"
				  "\"networks\":[\"default\",\"nonet\"],"
				  "\"cpu\":\"<cpu><model>qemu64</model></cpu>\"}",
				  &out, err, sizeof(err)),
		0);
	ck_assert_ptr_nonnull(out);
	/* The driver's own interface and network are there; the others are not. */
	ck_assert_msg(strstr(out, "\"missing_bridges\":[\"nosuchbr\"]"), "%s", out);
	ck_assert_msg(strstr(out, "\"missing_networks\":[\"nonet\"]"), "%s", out);
	cpu = strstr(out, "\"cpu\":\"");
	ck_assert_msg(cpu && (strncmp(cpu + 7, "yes\"", 4) == 0 ||
			      strncmp(cpu + 7, "no\"", 3) == 0 ||
			      strncmp(cpu + 7, "unknown\"", 8) == 0),
		      "%s", out);
	free(out);

	/* No <cpu>: QEMU's default CPU runs anywhere. */
	ck_assert_int_eq(cd_peer_facts_run("test:///default", "{\"virttype\":\"qemu\"}", &out, err,
					   sizeof(err)),
			 0);
	ck_assert_msg(strstr(out, "\"cpu\":\"yes\""), "%s", out);
	free(out);

	ck_assert_int_eq(
		cd_peer_facts_run("test:///no/such/file.xml", "{}", &out, err, sizeof(err)),
		CD_ERR_NO_DAEMON);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, "cannot reach the target's libvirtd"), "%s", err);
	ck_assert_int_eq(cd_peer_facts_run("test:///default", "[", &out, err, sizeof(err)),
			 CD_ERR_INVALID);
}
END_TEST

/* A paused domain is still running, and says it is paused. */
START_TEST(test_status_paused)
{
	call(CD_AGENT_STATUS, "vm1", NULL);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	ck_assert(!res.paused);
	call(CD_AGENT_SUSPEND, "vm1", NULL);
	ck_assert_int_eq(res.rc, 0);
	ck_assert(res.paused);
	call(CD_AGENT_STATUS, "vm1", NULL);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	ck_assert(res.paused);
	call(CD_AGENT_RESUME, "vm1", NULL);
	ck_assert_int_eq(res.rc, 0);
	ck_assert(!res.paused);
	call(CD_AGENT_STATUS, "nosuch", NULL);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	ck_assert(!res.paused);
}
END_TEST

/*
 * A start that finds the domain running leaves it be; one that finds it
 * paused (a copy restored or received here that the cluster never let
 * run) powers it off and starts it afresh: it runs, not paused.
 */
START_TEST(test_start_over_paused_copy)
{
	call(CD_AGENT_START, "vm1", xml);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	ck_assert(!res.paused);
	call(CD_AGENT_SUSPEND, "vm1", NULL);
	ck_assert(res.paused);
	call(CD_AGENT_START, "vm1", xml);
	ck_assert_msg(res.rc == 0, "%s", res.err);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	ck_assert(!res.paused);
	call(CD_AGENT_STATUS, "vm1", NULL);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	ck_assert(!res.paused);
}
END_TEST

START_TEST(test_abort_job)
{
	/* The test driver cannot abort: a failure, the domain's state told. */
	job_play = JOB_REAL;
	call(CD_AGENT_ABORT_JOB, "vm1", NULL);
	ck_assert_int_eq(res.rc, CD_ERR_INVALID);
	ck_assert_msg(strstr(res.err, "abort failed"), "%s", res.err);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	/* No job: nothing to abort, no failure. */
	job_play = JOB_NONE;
	call(CD_AGENT_SUSPEND, "vm1", NULL);
	call(CD_AGENT_ABORT_JOB, "vm1", NULL);
	ck_assert_msg(res.rc == 0, "%s", res.err);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	ck_assert(res.paused);
	/* A job: aborted. */
	job_play = JOB_MIGRATING;
	call(CD_AGENT_ABORT_JOB, "vm1", NULL);
	ck_assert_int_eq(res.rc, 0);
	/* Gone: nothing to abort either. */
	job_play = JOB_REAL;
	call(CD_AGENT_DESTROY, "vm1", NULL);
	call(CD_AGENT_ABORT_JOB, "vm1", NULL);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	ck_assert(!res.paused);
}
END_TEST

static void job_stats(const char *name, const char *uri, bool completed)
{
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(cd_vm_agent_job_stats(name, uri, completed, TEST_MS(20000), on_done, NULL),
			 0);
	wait_done();
}

/* Here (uri NULL) and at another libvirtd (the same test driver). */
START_TEST(test_job_stats)
{
	static const char *const uris[] = {NULL, "test:///default"};
	size_t i;

	for (i = 0; i < 2; i++) {
		job_play = JOB_REAL;
		job_stats("vm1", uris[i], false);
		ck_assert_int_eq(res.rc, CD_ERR_INVALID);
		ck_assert_msg(strstr(res.err, "cannot read the job statistics"), "%s", res.err);
		job_stats("nosuch", uris[i], false);
		ck_assert_int_eq(res.rc, CD_ERR_NOT_FOUND);
		ck_assert_str_eq(res.err, "no such active domain");
		job_play = JOB_MIGRATING;
		job_stats("vm1", uris[i], false);
		ck_assert_msg(res.rc == 0, "%s", res.err);
		ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
		ck_assert_msg(strstr(res.xml, "\"type\":\"unbounded\"") &&
				      strstr(res.xml, "\"operation\":\"migration-out\"") &&
				      strstr(res.xml, "\"percent\":50"),
			      "%s", res.xml);
		job_stats("vm1", uris[i], true);
		ck_assert_msg(strstr(res.xml, "\"type\":\"completed\""), "%s", res.xml);
	}
	job_play = JOB_REAL;
	job_stats("vm1", "test:///no/such/file.xml", false);
	ck_assert_int_lt(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_UNKNOWN);
}
END_TEST

static void peer_status(const char *name, const char *uri)
{
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(cd_vm_agent_peer_status(name, uri, TEST_MS(20000), on_done, NULL), 0);
	wait_done();
}

START_TEST(test_peer_status)
{
	peer_status("vm1", "test:///default");
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	ck_assert(!res.paused);
	call(CD_AGENT_SUSPEND, "vm1", NULL);
	peer_status("vm1", "test:///default");
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	ck_assert(res.paused);
	peer_status("nosuch", "test:///default");
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	/* A look that fails tells nothing of the domain. */
	fail_code = VIR_ERR_RPC;
	peer_status("vm1", "test:///default");
	fail_code = 0;
	ck_assert_int_lt(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_UNKNOWN);
	ck_assert_msg(strstr(res.err, "injected"), "%s", res.err);
	peer_status("vm1", "test:///no/such/file.xml");
	ck_assert_int_lt(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_UNKNOWN);
}
END_TEST

/* The test driver can neither migrate nor measure: the error paths. */
START_TEST(test_migrate_and_dirty_rate_unsupported)
{
	struct cd_migrate_params p;

	memset(&p, 0, sizeof(p));
	cd_strlcpy(p.peer_uri, "test:///default", sizeof(p.peer_uri));
	p.max_downtime_ms = 300;
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(cd_vm_agent_migrate("vm1", &p, TEST_MS(20000), on_done, NULL), 0);
	wait_done();
	ck_assert_int_eq(res.rc, CD_ERR_INVALID);
	ck_assert_msg(strncmp(res.err, "migration failed: ", 18) == 0, "%s", res.err);
	/* Still here, and said so. */
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(cd_vm_agent_migrate("nosuch", &p, TEST_MS(20000), on_done, NULL), 0);
	wait_done();
	ck_assert_int_eq(res.rc, CD_ERR_NOT_FOUND);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);

	ck_assert_int_eq(cd_vm_agent_dirty_rate("vm1", 0, TEST_MS(20000), on_done, NULL), -EINVAL);
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(cd_vm_agent_dirty_rate("vm1", 1, TEST_MS(20000), on_done, NULL), 0);
	wait_done();
	ck_assert_int_eq(res.rc, CD_ERR_INVALID);
	ck_assert_msg(strstr(res.err, "cannot measure the dirty rate"), "%s", res.err);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
}
END_TEST

/* The test driver has no QEMU monitor: logged, no failure; no domain is one. */
START_TEST(test_announce)
{
	call(CD_AGENT_ANNOUNCE, "vm1", NULL);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	call(CD_AGENT_ANNOUNCE, "nosuch", NULL);
	ck_assert_int_eq(res.rc, CD_ERR_NOT_FOUND);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
}
END_TEST

/*
 * The test driver has no QEMU monitor: a save fails where QEMU is to get
 * the pipe and is undone (the domain runs again, the image is marked
 * failed), and a restore of that image is refused by the reader (the
 * domain is not there, the FIFO gone). Without O_DIRECT here (tmpfs) the
 * state file cannot even be opened: only the outcome is checked.
 */
START_TEST(test_save_restore_without_qemu)
{
	struct cd_vmstate_head h;
	char path[128], fifo[160];
	int fd;

	snprintf(path, sizeof(path), "%s/state", pid_dir);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(
		cd_vm_agent_save("vm1", path, 9, false, false, TEST_MS(20000), on_done, NULL), 0);
	wait_done();
	ck_assert_int_eq(res.rc, CD_ERR_INVALID);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	ck_assert(!res.paused);
	ck_assert_uint_eq(cd_vm_agent_save_progress("vm1"), 0);
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(
		cd_vm_agent_save("nosuch", path, 9, false, false, TEST_MS(20000), on_done, NULL),
		0);
	wait_done();
	ck_assert_int_eq(res.rc, CD_ERR_NOT_FOUND);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	/* One that runs here already is not restored over. */
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(cd_vm_agent_restore("vm1", path, pid_dir, 9, 0, NULL, TEST_MS(5000),
					     TEST_MS(20000), on_done, NULL),
			 0);
	wait_done();
	ck_assert_int_eq(res.rc, CD_ERR_INVALID);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);

	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "SKIP: %s refuses O_DIRECT (tmpfs?)\n", pid_dir);
		return;
	}
	ck_assert_int_eq(cd_vmstate_peek(fd, &h, NULL), 0);
	close(fd);
	ck_assert(h.failed);
	ck_assert_uint_eq(h.action_id, 9);
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(cd_vm_agent_restore("vm2", path, pid_dir, 9, 0, NULL, TEST_MS(5000),
					     TEST_MS(20000), on_done, NULL),
			 0);
	wait_done();
	ck_assert_msg(res.rc == CD_ERR_CORRUPT, "%d %s", res.rc, res.err);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	ck_assert_uint_eq(cd_vm_agent_restore_progress("vm2"), 0);
	snprintf(fifo, sizeof(fifo), "%s/vm2.restore", pid_dir);
	ck_assert_int_eq(access(fifo, F_OK), -1);
}
END_TEST

/* Start name with the baseline of the n CPU definitions cpus; wait for the result. */
static void start_baseline(const char *name, const char *domain, const char *const *cpus, size_t n)
{
	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(
		cd_vm_agent_start_baseline(name, domain, cpus, n, TEST_MS(20000), on_done, NULL),
		0);
	wait_done();
}

/*
 * A start with the cluster's CPU baseline: a running domain keeps the CPU
 * it has; without host CPUs, or with a libvirt that computes no baseline
 * (the test driver has none), nothing starts and the error says why; with
 * libvirt's baseline (played) the domain runs with it.
 */
START_TEST(test_start_baseline)
{
	static const char *const cpus[] = {
		"<cpu mode='custom' match='exact'><model>Skylake-Client-IBRS</model></cpu>",
		"<cpu mode='custom' match='exact'><model>Westmere</model></cpu>"};

	start_baseline("vm1", xml, cpus, 0);
	ck_assert_int_eq(res.rc, 0);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	call(CD_AGENT_DESTROY, "vm1", NULL);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);

	start_baseline("vm1", xml, cpus, 0);
	ck_assert_int_eq(res.rc, CD_ERR_INVALID);
	ck_assert_str_eq(res.err, "no CPU baseline: no node of the cluster has told its host CPU");
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	ck_assert(cd_vm_agent_starting("vm1") == false);
	start_baseline("vm1", xml, cpus, 2);
	ck_assert_int_eq(res.rc, CD_ERR_INVALID);
	ck_assert_msg(strstr(res.err, "no CPU baseline: ") == res.err &&
			      strstr(res.err, "virConnectBaselineHypervisorCPU"),
		      "%s", res.err);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);
	call(CD_AGENT_STATUS, "vm1", NULL);
	ck_assert_int_eq(res.status, CD_DOMAIN_STOPPED);

	baseline.play = true;
	start_baseline("vm1", xml, cpus, 2);
	ck_assert_msg(res.rc == 0, "%s", res.err);
	ck_assert_int_eq(res.status, CD_DOMAIN_RUNNING);
	ck_assert_uint_eq(baseline.n, 2);
	ck_assert_str_eq(baseline.last_cpu, cpus[1]);
	ck_assert_uint_eq(baseline.flags, VIR_CONNECT_BASELINE_CPU_MIGRATABLE);
	ck_assert_str_eq(baseline.virttype, "test");
	ck_assert(!baseline.arch_given);
	call(CD_AGENT_XML, "vm1", NULL);
	ck_assert_msg(strstr(res.xml, "<model fallback='forbid'>Westmere</model>"), "%s", res.xml);
	/* The XML's architecture goes to libvirt too. */
	start_baseline("vm2",
		       "<domain type='test'><name>vm2</name><memory unit='MiB'>64</memory>"
		       "<os><type arch='x86_64'>hvm</type></os></domain>",
		       cpus, 1);
	baseline.play = false;
	ck_assert_msg(res.rc == 0, "%s", res.err);
	ck_assert(baseline.arch_given);
	ck_assert_uint_eq(baseline.n, 1);
	call(CD_AGENT_DESTROY, "vm2", NULL);
}
END_TEST

static void add_agent_tcase(Suite *s, const TTest *t, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

int main(void)
{
	Suite *s = suite_create("vm_agent");

	add_agent_tcase(s, test_lookup_error_is_unknown, "lookup_error_is_unknown");
	add_agent_tcase(s, test_no_domain_is_stopped, "no_domain_is_stopped");
	add_agent_tcase(s, test_pid_dir, "pid_dir");
	add_agent_tcase(s, test_destroy_of_vanished_domain, "destroy_of_vanished_domain");
	add_agent_tcase(s, test_peer_facts, "peer_facts");
	add_agent_tcase(s, test_status_paused, "status_paused");
	add_agent_tcase(s, test_start_over_paused_copy, "start_over_paused_copy");
	add_agent_tcase(s, test_abort_job, "abort_job");
	add_agent_tcase(s, test_job_stats, "job_stats");
	add_agent_tcase(s, test_peer_status, "peer_status");
	add_agent_tcase(s, test_migrate_and_dirty_rate_unsupported, "migrate_and_dirty_rate");
	add_agent_tcase(s, test_announce, "announce");
	add_agent_tcase(s, test_start_baseline, "start_baseline");
	add_agent_tcase(s, test_save_restore_without_qemu, "save_restore_without_qemu");
	return run_suite(s);
}
