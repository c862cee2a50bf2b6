/*
 * A restore from a state file (quick.h: cd_quick_restore), in an agent
 * job's thread: libvirt restores from a FIFO of ours (paused), which a
 * thread of ours fills from the state file as the image comes
 * (cd_vmstate_read), following a save still under way. The domain is
 * kept only if the whole image was read and verified; else it is powered
 * off, which is safe: it never ran, it was restored paused.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <clusterd/result.h>

#include "agents/quick.h"
#include "agents/vm_agent.h"
#include "agents/vmstate.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/* How often the FIFO is tried until libvirt opens it. */
#define OPEN_RETRY_MS 5
/* After libvirt restored: how long the reader may take to verify what it sent. */
#define VERIFY_WAIT_MS 5000

/* The reader thread and what it gives back. */
struct feeder {
	const struct cd_quick_args *a;
	const char *fifo;
	int dev_fd;
	uint64_t dev_size;
	volatile int stop;
	volatile int libvirt_done; /* libvirt's restore returned: it opens nothing more */
	volatile uint64_t *progress;
	int finished; /* atomic: rc and err are set */
	int rc;
	char err[200];
};

/*
 * The FIFO's writing end, once libvirt opened its reading end; -1 if
 * stopped first. Stopped, it still waits for libvirt to open it (until
 * libvirt's call returns), and closes it at once: libvirt, which would
 * wait for a writer for ever, reads the end of the image and fails.
 */
static int open_fifo(struct feeder *f)
{
	int fd;

	while (!f->libvirt_done) {
		fd = open(f->fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0 && f->stop) {
			close(fd);
			break;
		}
		if (fd >= 0) {
			/* Blocking from now on: the reader paces itself on libvirt. */
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
			cd_quick_pipe_size(fd);
			return fd;
		}
		if (errno != ENXIO) {
			snprintf(f->err, sizeof(f->err), "cannot open the FIFO: %s",
				 strerror(errno));
			return -1;
		}
		poll(NULL, 0, OPEN_RETRY_MS);
	}
	snprintf(f->err, sizeof(f->err), "%s",
		 f->stop ? "the restore was called off" : "libvirt never opened the FIFO");
	return -1;
}

static void *feeder_thread(void *arg)
{
	struct feeder *f = arg;
	int fd = open_fifo(f);

	if (fd < 0) {
		f->rc = CD_ERR_INVALID;
	} else {
		f->rc = cd_vmstate_read(f->dev_fd, f->dev_size, f->a->action_id, f->a->want_len,
					f->a->want_sha[0] ? f->a->want_sha : NULL, fd,
					f->a->follow_timeout_ms, &f->stop, f->progress, f->err,
					sizeof(f->err));
		/* The end of the image, for libvirt. */
		close(fd);
	}
	__atomic_store_n(&f->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* libvirt's restore from fifo beside the reader: whether libvirt succeeded, why not. */
static bool restore_beside(virConnectPtr c, const char *fifo, struct feeder *f, char *why,
			   size_t whylen)
{
	uint64_t until;
	pthread_t t;
	bool ok;
	int rc;

	rc = pthread_create(&t, NULL, feeder_thread, f);
	if (rc != 0) {
		f->rc = -rc;
		snprintf(f->err, sizeof(f->err), "cannot start the reader: %s", strerror(rc));
		snprintf(why, whylen, "not tried");
		return false;
	}
	ok = virDomainRestoreFlags(c, fifo, NULL, VIR_DOMAIN_SAVE_PAUSED) == 0;
	f->libvirt_done = 1;
	if (!ok)
		cd_strlcpy(why, cd_agent_last_error(), whylen);
	/* Restored: the reader sent all, it only verifies now. Not: nobody reads. */
	until = ok ? cd_now_ms() + VERIFY_WAIT_MS : 0;
	while (!__atomic_load_n(&f->finished, __ATOMIC_ACQUIRE) && cd_now_ms() < until)
		poll(NULL, 0, 2);
	f->stop = 1;
	pthread_join(t, NULL);
	return ok;
}

/*
 * The verdict on a restore: 0 only if the reader verified the image and
 * libvirt has the domain, paused. A reader's CORRUPT or TIMEOUT says more
 * than libvirt's failure that follows from it.
 */
static int verdict(const struct feeder *f, bool restored, const char *why, virDomainPtr d,
		   char *err, size_t errlen)
{
	int state = 0, reason = 0;

	if (f->rc == CD_ERR_CORRUPT || f->rc == CD_ERR_TIMEOUT)
		FAIL(f->rc, "%s", f->err);
	if (!restored)
		FAIL(CD_ERR_INVALID, "restore failed: %s", why);
	if (f->rc < 0)
		FAIL(f->rc, "%s", f->err);
	if (!d || virDomainGetState(d, &state, &reason, 0) < 0)
		FAIL(CD_ERR_INVALID, "restored, but libvirt cannot find it: %s",
		     cd_agent_last_error());
	if (state != VIR_DOMAIN_PAUSED)
		FAIL(CD_ERR_INVALID, "restored, but not paused");
	return 0;
}

/* What the image was: its length and checksum from its head, verified by the reader. */
static int result(int dev_fd, uint64_t ms, char **out, char *err, size_t errlen)
{
	struct cd_vmstate_head h;

	if (cd_vmstate_peek(dev_fd, &h, NULL) < 0 || !h.complete)
		FAIL(CD_ERR_INVALID, "cannot read the state file's head again");
	*out = cd_quick_result_json(h.length, h.sha256, "restore_ms", ms);
	return *out ? 0 : -ENOMEM;
}

int cd_quick_restore(virConnectPtr c, const char *name, virDomainPtr *d,
		     const struct cd_quick_args *a, char **out, char *err, size_t errlen,
		     char *note, size_t notelen)
{
	struct feeder f = {.a = a, .dev_fd = -1};
	char fifo[sizeof(a->fifo_dir) + 80], why[200] = "";
	uint64_t t0 = cd_now_ms();
	bool restored;
	int rc;

	if (a->bad[0])
		FAIL(CD_ERR_INVALID, "%s", a->bad);
	if (*d && virDomainIsActive(*d) == 1)
		FAIL(CD_ERR_INVALID, "it is active here already");
	rc = cd_quick_open_state(a->path, O_RDWR, &f.dev_fd, &f.dev_size, err, errlen);
	if (rc < 0)
		return rc;
	cd_quick_fifo_path(a->fifo_dir, name, fifo, sizeof(fifo));
	/* A FIFO left by a restore that died with its clusterd. */
	unlink(fifo);
	if (cd_mkdir_p(a->fifo_dir, 0700) < 0 || mkfifo(fifo, 0600) < 0) {
		snprintf(err, errlen, "cannot make the FIFO %s: %s", fifo, strerror(errno));
		close(f.dev_fd);
		return CD_ERR_INVALID;
	}
	f.fifo = fifo;
	f.progress = cd_quick_progress_begin(name, true);
	cd_quick_progress_stop(f.progress, &f.stop);
	restored = restore_beside(c, fifo, &f, why, sizeof(why));
	cd_quick_progress_end(f.progress);
	unlink(fifo);
	if (*d)
		virDomainFree(*d);
	*d = virDomainLookupByName(c, name);
	if (!*d)
		virResetLastError();
	rc = verdict(&f, restored, why, *d, err, errlen);
	if (rc == 0)
		rc = result(f.dev_fd, cd_now_ms() - t0, out, err, errlen);
	/* Only what came from an image that failed, or from a failed restore. */
	if (rc < 0 && (f.rc < 0 || !restored) && *d && virDomainIsActive(*d) == 1) {
		if (virDomainDestroy(*d) < 0)
			snprintf(note, notelen, "cannot power off what was restored: %s",
				 cd_agent_last_error());
		else
			snprintf(note, notelen, "what was restored is powered off: %s", err);
	} else if (rc == 0) {
		snprintf(note, notelen, "restored from %s, paused, in %llu ms", a->path,
			 (unsigned long long)(cd_now_ms() - t0));
	}
	close(f.dev_fd);
	return rc;
}
