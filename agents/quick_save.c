/*
 * A save into a state file (quick.h: cd_quick_save), in an agent job's
 * thread: the guest paused, QEMU's migration stream through a pipe of
 * ours (QMP getfd and migrate to fd:, through libvirt-qemu, since
 * libvirt's own save writes to a path of the local host), written and
 * hashed by a thread of ours (cd_vmstate_write); the domain powered off
 * only once QEMU said the migration completed and the image is durable.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <clusterd/result.h>

#include "agents/quick.h"
#include "agents/vm_agent.h"
#include "agents/vmstate.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/* How often QEMU is asked how its migration goes. */
#define QUERY_MS 15
/* How long a save waits for the target's reader to follow the file. */
#define READER_WAIT_MS 5000
/* After a cancel, how long QEMU may take to say the migration ended. */
#define CANCEL_WAIT_MS 3000

/* The writer thread and what it gives back. */
struct saver {
	int dev_fd;
	uint64_t dev_size, action_id;
	uint8_t *prefix;
	size_t prefix_len;
	int in_fd; /* the pipe's reading end */
	volatile int stop;
	volatile uint64_t *progress;
	bool precopy;		   /* the guest runs during the first pass */
	uint64_t paused_ms;	   /* when it was paused for the rest (0: not by us) */
	uint64_t qemu_downtime_ms; /* QEMU's, if it paused it itself to complete */
	int finished;		   /* atomic: the fields below are set */
	int rc;
	uint64_t len, done_ms;
	char sha[65], err[200];
};

static void *saver_thread(void *arg)
{
	struct saver *s = arg;

	s->rc = cd_vmstate_write(s->dev_fd, s->dev_size, s->action_id, s->prefix, s->prefix_len,
				 s->in_fd, &s->stop, s->progress, &s->len, s->sha, s->err,
				 sizeof(s->err));
	s->done_ms = cd_now_ms();
	__atomic_store_n(&s->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static bool finished(struct saver *s)
{
	return __atomic_load_n(&s->finished, __ATOMIC_ACQUIRE);
}

/* A QMP command on d, with fd passed along if >= 0: 0 with *whole (put it) and *ret, or err. */
static int qmp(virDomainPtr d, const char *cmd, int fd, struct json_object **whole,
	       struct json_object **ret, char *err, size_t errlen)
{
	char *reply = NULL;
	int rc;

	*whole = NULL;
	if ((fd >= 0 ? virDomainQemuMonitorCommandWithFiles(d, cmd, 1, &fd, NULL, NULL, &reply, 0)
		     : virDomainQemuMonitorCommand(d, cmd, &reply, 0)) < 0)
		FAIL(CD_ERR_INVALID, "%s", cd_agent_last_error());
	rc = cd_quick_qmp_reply(reply, whole, ret, err, errlen);
	free(reply);
	return rc;
}

/* A QMP command whose answer is only whether it worked. */
static int qmp_do(virDomainPtr d, const char *cmd, int fd, char *err, size_t errlen)
{
	struct json_object *whole, *ret;
	int rc = qmp(d, cmd, fd, &whole, &ret, err, errlen);

	json_object_put(whole);
	return rc;
}

/*
 * A migration into a file, not to a host: no post-copy, no multifd, no
 * compression, nothing that needs a return path or a pause before the
 * switch-over; the bandwidth unlimited (QEMU's own default is 32 MiB/s),
 * unless the domain's migration speed is limited (virsh migrate-setspeed):
 * a save is a copy of its memory like a migration, and keeps to it.
 * A capability this QEMU lacks cannot be on: its error is only noted.
 */
static void prepare(virDomainPtr d, char *note, size_t notelen)
{
	unsigned long mibs = 0;
	static const char *const off[] = {"postcopy-ram", "multifd",
					  "xbzrle",	  "auto-converge",
					  "return-path",  "pause-before-switchover"};
	char cmd[256], why[128];
	size_t i;

	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		snprintf(
			cmd, sizeof(cmd),
			"{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":"
			"[{\"capability\":\"%s\",\"state\":false}]}}",
			off[i]);
		if (qmp_do(d, cmd, -1, why, sizeof(why)) < 0)
			snprintf(note, notelen, "cannot turn %s off: %s", off[i], why);
	}
	/* libvirt's "unlimited" is about 8 PiB/s; a limit is what an admin set. */
	if (virDomainMigrateGetMaxSpeed(d, &mibs, 0) < 0 || mibs == 0 || mibs > (1ul << 20))
		mibs = 1ul << 20; /* 1 TiB/s: none */
	snprintf(cmd, sizeof(cmd),
		 "{\"execute\":\"migrate-set-parameters\",\"arguments\":"
		 "{\"max-bandwidth\":%llu}}",
		 (unsigned long long)mibs << 20);
	if (qmp_do(d, cmd, -1, why, sizeof(why)) < 0)
		snprintf(note, notelen, "cannot set QEMU's bandwidth for the save: %s", why);
}

/* A number member of o's member key (o2 NULL: of o), or 0. */
static uint64_t num(struct json_object *o, const char *key, const char *key2)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (key2 && !json_object_object_get_ex(v, key2, &v))
		return 0;
	return (uint64_t)json_object_get_int64(v);
}

/*
 * A pre-copy's end: the guest is paused once QEMU's first pass is over
 * (its second dirty-bitmap sync), or once what the file has left would no
 * longer hold all of its memory once more; QEMU then sends what was
 * dirtied meanwhile and completes.
 */
static void precopy_step(virDomainPtr d, struct saver *s, struct json_object *ret, char *note,
			 size_t notelen)
{
	uint64_t syncs = num(ret, "ram", "dirty-sync-count"), total = num(ret, "ram", "total");
	uint64_t written = s->progress ? *s->progress : 0;

	if (s->paused_ms || (syncs < 2 && written + total + (64ull << 20) < s->dev_size))
		return;
	if (virDomainSuspend(d) == 0)
		s->paused_ms = cd_now_ms();
	else
		snprintf(note, notelen, "cannot pause it after the first pass: %s",
			 cd_agent_last_error());
}

/* What QEMU's migration is now; err says why if it failed. A pre-copy is ended in time. */
static enum cd_quick_mig query(virDomainPtr d, struct saver *s, char *err, size_t errlen,
			       char *note, size_t notelen)
{
	struct json_object *whole, *ret;
	enum cd_quick_mig st = CD_QUICK_MIG_FAILED;

	if (qmp(d, "{\"execute\":\"query-migrate\"}", -1, &whole, &ret, err, errlen) == 0)
		st = cd_quick_mig_state(ret, err, errlen);
	if (s && st == CD_QUICK_MIG_ACTIVE && s->precopy)
		precopy_step(d, s, ret, note, notelen);
	if (s && st == CD_QUICK_MIG_DONE && !s->paused_ms)
		s->qemu_downtime_ms = num(ret, "downtime", NULL);
	json_object_put(whole);
	return st;
}

/*
 * Hand QEMU the pipe's writing end (*wfd, closed here) and have it migrate
 * into it; poll until QEMU says the migration completed (0), failed, or
 * the writer failed, or deadline. *started: migrate was accepted.
 */
static int stream(virDomainPtr d, struct saver *s, int *wfd, uint64_t deadline, bool *started,
		  char *err, size_t errlen, char *note, size_t notelen)
{
	char why[200];
	int rc;

	rc = qmp_do(d, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"cdsave\"}}", *wfd, why,
		    sizeof(why));
	/*
	 * QEMU has its copy: ours would keep the pipe open after QEMU closes
	 * it. Without a copy in QEMU, the writer sees the stream's end: it
	 * must know first that this end is no image.
	 */
	if (rc < 0)
		s->stop = 1;
	close(*wfd);
	*wfd = -1;
	if (rc < 0)
		FAIL(CD_ERR_INVALID, "cannot hand QEMU the pipe: %s", why);
	prepare(d, note, notelen);
	rc = qmp_do(d, "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"fd:cdsave\"}}", -1, why,
		    sizeof(why));
	if (rc < 0) {
		s->stop = 1; /* before QEMU closes its copy: that end is no image either */
		qmp_do(d, "{\"execute\":\"closefd\",\"arguments\":{\"fdname\":\"cdsave\"}}", -1,
		       why, sizeof(why));
		FAIL(CD_ERR_INVALID, "QEMU did not start its migration: %s", why);
	}
	*started = true;
	for (;;) {
		switch (query(d, s, why, sizeof(why), note, notelen)) {
		case CD_QUICK_MIG_DONE:
			return 0;
		case CD_QUICK_MIG_FAILED:
			FAIL(CD_ERR_INVALID, "%s", why);
		case CD_QUICK_MIG_ACTIVE:
			break;
		}
		if (finished(s) && s->rc < 0)
			FAIL(s->rc, "%s", s->err);
		if (s->progress && cd_quick_cancelled(s->progress))
			FAIL(CD_ERR_INVALID, "the save was called off");
		if (cd_now_ms() >= deadline)
			FAIL(CD_ERR_TIMEOUT, "the save did not complete in time");
		poll(NULL, 0, QUERY_MS);
	}
}

/* Wait for the writer until deadline, then stop it: its verdict. */
static int join_writer(struct saver *s, pthread_t t, uint64_t deadline)
{
	while (!finished(s) && cd_now_ms() < deadline)
		poll(NULL, 0, 2);
	s->stop = 1;
	pthread_join(t, NULL);
	return s->rc;
}

/*
 * After a failure: QEMU's migration cancelled and ended (our reading end
 * closed, which unblocks a QEMU writing into a full pipe), the image
 * marked failed, and the guest running again if it ran.
 */
static void undo(virDomainPtr d, struct saver *s, bool started, bool was_running, char *note,
		 size_t notelen)
{
	uint64_t until = cd_now_ms() + CANCEL_WAIT_MS;
	char why[200];

	if (started)
		qmp_do(d, "{\"execute\":\"migrate_cancel\"}", -1, why, sizeof(why));
	close(s->in_fd);
	s->in_fd = -1;
	while (started && query(d, NULL, why, sizeof(why), note, notelen) == CD_QUICK_MIG_ACTIVE &&
	       cd_now_ms() < until)
		poll(NULL, 0, QUERY_MS);
	if (cd_vmstate_mark_failed(s->dev_fd, s->action_id) < 0)
		snprintf(note, notelen, "cannot mark the state file's image failed");
	if (was_running && virDomainResume(d) < 0)
		snprintf(note, notelen, "cannot resume it after the failed save: %s",
			 cd_agent_last_error());
}

/* The writer started, the stream run, and the outcome: 0 once the image is complete. */
static int save_run(virDomainPtr d, struct saver *s, int *wfd, uint64_t deadline, bool was_running,
		    char *err, size_t errlen, char *note, size_t notelen)
{
	bool started = false;
	pthread_t t;
	int rc;

	rc = pthread_create(&t, NULL, saver_thread, s);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start the writer: %s", strerror(rc));
		if (was_running)
			virDomainResume(d);
		return -rc;
	}
	rc = stream(d, s, wfd, deadline, &started, err, errlen, note, notelen);
	if (rc < 0)
		s->stop = 1;
	if (join_writer(s, t, rc == 0 ? deadline : 0) < 0 && rc == 0) {
		rc = s->rc;
		snprintf(err, errlen, "%s", s->err);
	}
	if (rc == 0 && virDomainDestroy(d) < 0) {
		rc = CD_ERR_INVALID;
		snprintf(err, errlen, "cannot power it off after the save: %s",
			 cd_agent_last_error());
	}
	if (rc < 0)
		undo(d, s, started, was_running, note, notelen);
	return rc;
}

/*
 * Wait (READER_WAIT_MS at most) until a reader of save action follows the
 * state file (the reader's block names it): its QEMU is up and reading.
 */
static void await_reader(int dev_fd, uint64_t action, volatile uint64_t *cancelled_counter)
{
	uint64_t until = cd_now_ms() + READER_WAIT_MS;
	struct cd_vmstate_head h;
	struct cd_vmstate_tail t;

	while (cd_now_ms() < until) {
		/* The head may be none yet (the writer has not begun): the tail is read all the
		 * same. */
		cd_vmstate_peek(dev_fd, &h, &t);
		if (t.action_id == action)
			return;
		if (cancelled_counter && cd_quick_cancelled(cancelled_counter))
			return;
		poll(NULL, 0, 5);
	}
}

/* The domain's XML as libvirt's image header, into s. */
static int make_prefix(virDomainPtr d, struct saver *s, char *err, size_t errlen)
{
	char *xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_MIGRATABLE);
	int rc;

	if (!xml)
		FAIL(CD_ERR_INVALID, "cannot read the domain XML: %s", cd_agent_last_error());
	rc = cd_vmstate_libvirt_prefix(xml, &s->prefix, &s->prefix_len);
	free(xml);
	if (rc < 0)
		FAIL(rc, "out of memory");
	return 0;
}

int cd_quick_save(virDomainPtr d, const char *name, const struct cd_quick_args *a, char **out,
		  char *err, size_t errlen, char *note, size_t notelen)
{
	struct saver s = {.dev_fd = -1, .in_fd = -1, .action_id = a->action_id};
	uint64_t down;
	uint64_t t0, deadline = cd_now_ms() + (uint64_t)(a->timeout_ms - a->timeout_ms / 10);
	int state = 0, reason = 0, p[2] = {-1, -1}, rc;
	bool was_running;

	if (a->bad[0])
		FAIL(CD_ERR_INVALID, "%s", a->bad);
	if (!d || virDomainIsActive(d) != 1 || virDomainGetState(d, &state, &reason, 0) < 0)
		FAIL(CD_ERR_NOT_FOUND, "no such active domain");
	was_running = state != VIR_DOMAIN_PAUSED;
	rc = cd_quick_open_state(a->path, O_RDWR, &s.dev_fd, &s.dev_size, err, errlen);
	if (rc < 0)
		return rc;
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		rc = -errno;
		goto close_file;
	}
	cd_quick_pipe_size(p[1]);
	s.in_fd = p[0];
	s.progress = cd_quick_progress_begin(name, false);
	if (a->await_reader)
		await_reader(s.dev_fd, a->action_id, s.progress);
	if (s.progress && cd_quick_cancelled(s.progress)) {
		snprintf(err, errlen, "the save was called off");
		rc = CD_ERR_INVALID;
		goto close_pipe;
	}
	t0 = cd_now_ms();
	s.precopy = was_running && a->precopy;
	if (was_running && !s.precopy && virDomainSuspend(d) < 0) {
		snprintf(err, errlen, "cannot pause it: %s", cd_agent_last_error());
		rc = CD_ERR_INVALID;
		goto close_pipe;
	}
	rc = make_prefix(d, &s, err, errlen);
	if (rc < 0) {
		if (was_running)
			virDomainResume(d);
		goto close_pipe;
	}
	rc = save_run(d, &s, &p[1], deadline, was_running, err, errlen, note, notelen);
	if (rc == 0) {
		/* Paused since: first (t0), after the first pass, or by QEMU to complete. */
		down = !s.precopy    ? s.done_ms - t0
		       : s.paused_ms ? s.done_ms - s.paused_ms
				     : s.qemu_downtime_ms;
		*out = cd_quick_result_json(s.len, s.sha, "downtime_ms", down);
		snprintf(note, notelen, "saved into %s: %llu bytes, %llu ms paused%s", a->path,
			 (unsigned long long)s.len, (unsigned long long)down,
			 s.precopy ? " (after a first pass while it ran)" : "");
	}
	free(s.prefix);
close_pipe:
	cd_quick_progress_end(s.progress);
	if (p[1] >= 0)
		close(p[1]);
	if (s.in_fd >= 0)
		close(s.in_fd);
close_file:
	close(s.dev_fd);
	return rc;
}
