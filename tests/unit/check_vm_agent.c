/*
 * The VM agent against libvirt's test driver (test:///default, in this
 * process), with libvirt's domain lookup wrapped (-Wl,--wrap) so that a test
 * can make it fail the way a broken connection or a busy libvirtd does.
 * What is checked: only "no such domain" reads as stopped; any other failed
 * lookup leaves the domain's state unknown and does nothing to it; the QEMU
 * liveness check reads the configured pid directory.
 */
#include "config.h"

#include <errno.h>
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

#include "agents/peer_facts.h"
#include "agents/vm_agent.h"
#include "check_common.h"
#include "lib/util.h"

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

virDomainPtr __wrap_virDomainLookupByName(virConnectPtr conn, const char *name)
{
	__atomic_add_fetch(&lookups, 1, __ATOMIC_SEQ_CST);
	if (!fail_code) {
		faked = false;
		return __real_virDomainLookupByName(conn, name);
	}
	fake_error.code = fail_code;
	fake_error.domain = VIR_FROM_RPC;
	fake_error.level = VIR_ERR_ERROR;
	fake_error.message = (char *)"injected: cannot recv data: connection reset by peer";
	faked = true;
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
	fake_error.code = VIR_ERR_NO_DOMAIN;
	fake_error.domain = VIR_FROM_QEMU;
	fake_error.level = VIR_ERR_ERROR;
	fake_error.message = (char *)"injected: Domain not found";
	faked = true;
	return -1;
}

/* --- driving the agent from a qb loop --- */

static qb_loop_t *loop;
static char pid_dir[64];
static struct {
	bool done;
	int rc;
	enum cd_domain_status status;
	char err[256];
} res;

static void on_done(void *ctx, const struct cd_agent_result *r)
{
	res.done = true;
	res.rc = r->rc;
	res.status = r->status;
	cd_strlcpy(res.err, r->err ? r->err : "", sizeof(res.err));
	qb_loop_stop(loop);
}

static void on_event(const char *name, enum cd_domain_status st)
{
}

static void on_deadline(void *data)
{
	qb_loop_stop(loop);
}

/* Run op on name and wait for its result (a hang guard only). */
static void call(enum cd_agent_op op, const char *name, const char *xml)
{
	qb_loop_timer_handle th;

	memset(&res, 0, sizeof(res));
	ck_assert_int_eq(cd_vm_agent_call(op, name, xml, TEST_MS(20000), on_done, NULL), 0);
	qb_loop_timer_add(loop, QB_LOOP_HIGH, (uint64_t)TEST_MS(30000) * 1000000ull, NULL,
			  on_deadline, &th);
	while (!res.done)
		qb_loop_run(loop);
	qb_loop_timer_del(loop, th);
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
	qb_loop_destroy(loop);
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
	return run_suite(s);
}
