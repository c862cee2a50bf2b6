/*
 * Who serves an IPC name: the client refuses a server that is not root,
 * and a server does not start on a name another one serves. The servers
 * are child processes, each on a name of its own, since libqb's connect
 * waits for the server's answer and so cannot share a thread with it.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qbipcs.h>
#include <qb/qbloop.h>

#include <clusterd/client.h>
#include <clusterd/ipc.h>
#include <clusterd/result.h>

#include "check_common.h"
#include "lib/ipcpeer.h"

/* The uid of an unprivileged server when the tests run as root. */
#define NOBODY 65534

static char err[512];

/* A name no other test (or test run) uses. */
static const char *unique_name(void)
{
	static char name[64];
	static unsigned n;

	snprintf(name, sizeof(name), "cdtest-ipcpeer-%ld-%u", (long)getpid(), n++);
	return name;
}

/* --- a server in a child process --- */

static qb_loop_t *srv_loop;

static int32_t srv_accept(qb_ipcs_connection_t *c, uid_t uid, gid_t gid)
{
	/*
	 * Keep the shared memory's owner: an unprivileged server could not
	 * give it to a root client (libqb's default), and need not.
	 */
	qb_ipcs_connection_auth_set(c, -1, -1, 0600);
	return 0;
}

/* Every request is answered with the connection's message size, as clusterd would answer. */
static int32_t srv_msg(qb_ipcs_connection_t *c, void *data, size_t size)
{
	struct qb_ipc_response_header h;
	char body[64];
	struct iovec iov[2];

	snprintf(body, sizeof(body), "{\"buffer\": %d}", qb_ipcs_connection_get_buffer_size(c));
	h.id = CD_IPC_RESPONSE;
	h.size = (int32_t)(sizeof(h) + strlen(body) + 1);
	h.error = 0;
	iov[0].iov_base = &h;
	iov[0].iov_len = sizeof(h);
	iov[1].iov_base = body;
	iov[1].iov_len = strlen(body) + 1;
	qb_ipcs_response_sendv(c, iov, 2);
	return 0;
}

static int32_t srv_job_add(enum qb_loop_priority p, void *data, qb_loop_job_dispatch_fn fn)
{
	return qb_loop_job_add(srv_loop, p, data, fn);
}

static int32_t srv_poll_add(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			    qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_add(srv_loop, p, fd, events, data, fn);
}

static int32_t srv_poll_mod(enum qb_loop_priority p, int32_t fd, int32_t events, void *data,
			    qb_ipcs_dispatch_fn_t fn)
{
	return qb_loop_poll_mod(srv_loop, p, fd, events, data, fn);
}

static int32_t srv_poll_del(int32_t fd)
{
	return qb_loop_poll_del(srv_loop, fd);
}

static int32_t srv_stop(int32_t sig, void *data)
{
	qb_loop_stop(srv_loop);
	return 0;
}

static struct qb_ipcs_service_handlers srv_handlers = {
	.connection_accept = srv_accept,
	.msg_process = srv_msg,
};

/* Exit codes of the server child, for the message when it fails. */
enum { SRV_SETUID = 3, SRV_CREATE = 4, SRV_RUN = 5 };

static struct qb_ipcs_poll_handlers srv_poll = {
	.job_add = srv_job_add,
	.dispatch_add = srv_poll_add,
	.dispatch_mod = srv_poll_mod,
	.dispatch_del = srv_poll_del,
};

static void serve_child(int ready, const char *name, uid_t uid)
{
	struct cd_ipc_peer holder;
	qb_ipcs_service_t *svc;
	qb_loop_signal_handle term;

	/* Never outlive the test, whatever happens to it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (uid != (uid_t)-1 && (setgid(uid) != 0 || setuid(uid) != 0))
		_exit(SRV_SETUID);
	srv_loop = qb_loop_create();
	/* The way clusterd creates its service. */
	if (!srv_loop ||
	    cd_ipcs_create_exclusive(name, QB_IPC_NATIVE, &srv_handlers, &svc, &holder) != 0)
		_exit(SRV_CREATE);
	qb_ipcs_poll_handlers_set(svc, &srv_poll);
	if (qb_ipcs_run(svc) != 0 ||
	    qb_loop_signal_add(srv_loop, QB_LOOP_HIGH, SIGTERM, NULL, srv_stop, &term) != 0)
		_exit(SRV_RUN);
	if (write(ready, "x", 1) != 1)
		_exit(SRV_RUN);
	close(ready);
	qb_loop_run(srv_loop);
	/* Closes the connections left, and so removes their shared memory. */
	qb_ipcs_destroy(svc);
	qb_loop_destroy(srv_loop);
	_exit(0);
}

/* A child serving name, as uid unless it is -1; returns once it serves. */
static pid_t serve(const char *name, uid_t uid)
{
	int fds[2], status;
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		serve_child(fds[1], name, uid);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1) {
		waitpid(pid, &status, 0);
		ck_abort_msg("the server on %s did not start (exit %d)", name,
			     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	close(fds[0]);
	return pid;
}

/* Stop a server child cleanly (its shared memory removed), and reap it. */
static void stop(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the server did not stop cleanly (status %#x)", status);
}

/* --- the tests --- */

START_TEST(test_trusted_uid)
{
	ck_assert(cd_ipc_server_trusted(0));
	ck_assert(!cd_ipc_server_trusted(1));
	ck_assert(!cd_ipc_server_trusted(1000));
	ck_assert(!cd_ipc_server_trusted(NOBODY));
	ck_assert(!cd_ipc_server_trusted((uid_t)-1));
}
END_TEST

START_TEST(test_ipc_name)
{
	unsetenv("CLUSTERD_IPC_NAME");
	ck_assert_str_eq(cd_ipc_name(), CD_IPC_NAME);
	setenv("CLUSTERD_IPC_NAME", "", 1);
	ck_assert_str_eq(cd_ipc_name(), CD_IPC_NAME);
	setenv("CLUSTERD_IPC_NAME", "cdtest-other", 1);
	ck_assert_str_eq(cd_ipc_name(), "cdtest-other");
	unsetenv("CLUSTERD_IPC_NAME");
}
END_TEST

START_TEST(test_probe_free)
{
	struct cd_ipc_peer peer;

	ck_assert_int_eq(cd_ipc_probe(unique_name(), &peer), 0);
	ck_assert_int_eq(peer.pid, -1);
	ck_assert_uint_eq(peer.uid, (uid_t)-1);
}
END_TEST

START_TEST(test_probe_taken)
{
	const char *name = unique_name();
	struct cd_ipc_peer peer;
	pid_t pid = serve(name, (uid_t)-1);

	ck_assert_int_eq(cd_ipc_probe(name, &peer), -EADDRINUSE);
	ck_assert_int_eq(peer.pid, pid);
	ck_assert_uint_eq(peer.uid, geteuid());
	ck_assert_uint_eq(peer.gid, getegid());
	/* The probe left the server as it was: it still answers. */
	ck_assert_int_eq(cd_ipc_probe(name, &peer), -EADDRINUSE);
	stop(pid);
	ck_assert_int_eq(cd_ipc_probe(name, &peer), 0);
}
END_TEST

/* libqb's word and the kernel's SO_PEERCRED name the same server. */
START_TEST(test_server_peer)
{
	const char *name = unique_name();
	struct cd_ipc_peer peer;
	qb_ipcc_connection_t *conn;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	pid_t pid = serve(name, geteuid() == 0 ? NOBODY : (uid_t)-1);
	int32_t fd;

	conn = qb_ipcc_connect(name, 4096);
	ck_assert_ptr_nonnull(conn);
	ck_assert_int_eq(cd_ipc_server_peer(conn, &peer), 0);
	ck_assert_int_eq(peer.pid, pid);
	ck_assert_uint_eq(peer.uid, geteuid() == 0 ? NOBODY : geteuid());
	ck_assert_int_eq(qb_ipcc_fd_get(conn, &fd), 0);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len), 0);
	ck_assert_int_eq(cred.pid, pid);
	ck_assert_uint_eq(cred.uid, peer.uid);
	qb_ipcc_disconnect(conn);
	stop(pid);
}
END_TEST

/* Two servers, one name: the second refuses, naming the first. */
START_TEST(test_second_server_refused)
{
	const char *name = unique_name();
	char other[64];
	struct cd_ipc_peer holder;
	qb_ipcs_service_t *svc = (void *)1;
	pid_t pid = serve(name, (uid_t)-1);

	ck_assert_int_eq(
		cd_ipcs_create_exclusive(name, QB_IPC_NATIVE, &srv_handlers, &svc, &holder),
		-EADDRINUSE);
	ck_assert_ptr_null(svc);
	ck_assert_int_eq(holder.pid, pid);
	ck_assert_uint_eq(holder.uid, geteuid());

	/* Another name is free, and this process serves it. */
	srv_loop = qb_loop_create();
	ck_assert_ptr_nonnull(srv_loop);
	snprintf(other, sizeof(other), "%s", unique_name());
	ck_assert_int_eq(
		cd_ipcs_create_exclusive(other, QB_IPC_NATIVE, &srv_handlers, &svc, &holder), 0);
	ck_assert_ptr_nonnull(svc);
	qb_ipcs_poll_handlers_set(svc, &srv_poll);
	ck_assert_int_eq(qb_ipcs_run(svc), 0);
	qb_ipcs_destroy(svc);

	/* Once the first server is gone, its name is free again. */
	stop(pid);
	ck_assert_int_eq(
		cd_ipcs_create_exclusive(name, QB_IPC_NATIVE, &srv_handlers, &svc, &holder), 0);
	ck_assert_ptr_nonnull(svc);
	qb_ipcs_poll_handlers_set(svc, &srv_poll);
	ck_assert_int_eq(qb_ipcs_run(svc), 0);
	qb_ipcs_destroy(svc);
	qb_loop_destroy(srv_loop);
}
END_TEST

START_TEST(test_client_no_daemon)
{
	struct cd_client *c = (void *)1;

	setenv("CLUSTERD_IPC_NAME", unique_name(), 1);
	ck_assert_int_eq(cd_client_connect(&c, err, sizeof(err)), CD_ERR_NO_DAEMON);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err, cd_strerror(CD_ERR_NO_DAEMON));
	unsetenv("CLUSTERD_IPC_NAME");
}
END_TEST

/*
 * A server that is not root, on the name the client uses: what a local
 * user gets by binding the name while clusterd is down. As root, the test
 * runs that server as nobody; otherwise as the test's own user, which the
 * client must refuse just the same.
 */
START_TEST(test_client_refuses_non_root)
{
	const char *name = unique_name();
	uid_t uid = geteuid() == 0 ? NOBODY : geteuid();
	struct cd_client *c = (void *)1;
	char want[256];
	pid_t pid = serve(name, geteuid() == 0 ? NOBODY : (uid_t)-1);

	setenv("CLUSTERD_IPC_NAME", name, 1);
	ck_assert_int_eq(cd_client_connect(&c, err, sizeof(err)), CD_ERR_UNTRUSTED);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want),
		 "the server of IPC name %s (pid %ld) runs as uid %lu, not root: refusing to "
		 "talk to it",
		 name, (long)pid, (unsigned long)uid);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(cd_exit_code(CD_ERR_UNTRUSTED), CD_EXIT_NO_DAEMON);
	unsetenv("CLUSTERD_IPC_NAME");
	stop(pid);
}
END_TEST

START_TEST(test_client_trusts_root)
{
	const char *name = unique_name();
	struct cd_client *c = NULL;
	pid_t pid;

	if (geteuid() != 0) {
		/* Only root can run a root server; test_trusted_uid covers the rule. */
		fprintf(stderr, "check_ipcpeer: not root: a client talking to a root server is "
				"not tested\n");
		return;
	}
	pid = serve(name, (uid_t)-1);
	setenv("CLUSTERD_IPC_NAME", name, 1);
	ck_assert_int_eq(cd_client_connect(&c, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(c);
	cd_client_close(c);
	unsetenv("CLUSTERD_IPC_NAME");
	stop(pid);
}
END_TEST

/* The connection's rings are as large as its client asks, within the bounds. */
static int32_t buffer_of(size_t ask)
{
	struct json_object *reply, *b;
	struct cd_client *c = NULL;

	ck_assert_int_eq(cd_client_connect_sized(&c, ask, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_client_call(c, "size", NULL, 5000, &reply), 0);
	ck_assert(json_object_object_get_ex(reply, "buffer", &b));
	cd_client_close(c);
	{
		int32_t n = json_object_get_int(b);

		json_object_put(reply);
		return n;
	}
}

START_TEST(test_client_sized)
{
	const char *name = unique_name();
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "check_ipcpeer: not root: the connection sizes are not tested\n");
		return;
	}
	pid = serve(name, (uid_t)-1);
	setenv("CLUSTERD_IPC_NAME", name, 1);
	ck_assert_int_ge(buffer_of(CD_IPC_SMALL_MSG), CD_IPC_SMALL_MSG);
	ck_assert_int_lt(buffer_of(CD_IPC_SMALL_MSG), CD_IPC_MAX_MSG);
	/* Below the least, the least; above the most, the most. */
	ck_assert_int_lt(buffer_of(1), CD_IPC_MAX_MSG);
	ck_assert_int_ge(buffer_of(1), CD_IPC_SMALL_MSG);
	ck_assert_int_ge(buffer_of(CD_IPC_MAX_MSG), CD_IPC_MAX_MSG);
	ck_assert_int_ge(buffer_of((size_t)1 << 30), CD_IPC_MAX_MSG);
	ck_assert_int_lt(buffer_of((size_t)1 << 30), 2 * CD_IPC_MAX_MSG);
	unsetenv("CLUSTERD_IPC_NAME");
	stop(pid);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ipcpeer");

	add_tcase(s, test_trusted_uid);
	add_tcase(s, test_ipc_name);
	add_tcase(s, test_probe_free);
	add_tcase(s, test_probe_taken);
	add_tcase(s, test_server_peer);
	add_tcase(s, test_second_server_refused);
	add_tcase(s, test_client_no_daemon);
	add_tcase(s, test_client_refuses_non_root);
	add_tcase(s, test_client_trusts_root);
	add_tcase(s, test_client_sized);
	return run_suite(s);
}
