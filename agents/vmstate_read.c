/*
 * The state file's reader (vmstate.h: cd_vmstate_read): it follows the
 * head, and passes the image on as the writer's head covers it. The disk
 * side (vmstate_int.h) reads the next chunk while the calling thread
 * hashes the last one and writes it out.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <clusterd/result.h>

#include "agents/vmstate.h"
#include "agents/vmstate_int.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/* How often a follower looks at the head again while it waits for the writer. */
#define FOLLOW_POLL_MS 2

/* The reader: io must stay first (run gets &io). */
struct follower {
	struct vms_io io;
	uint64_t action_id;
	int out_fd;
	volatile int *stop;
	volatile uint64_t *progress;
	bool writable; /* dev_fd is O_RDWR: publish the reader's block */
	uint8_t *bufs[2], *block;
	EVP_MD_CTX *md;
	uint64_t done; /* bytes of image passed on */
	uint64_t tail_ms;
};

/* In the disk side's thread: one chunk of image; the writer wrote its last block whole. */
static int read_buf(struct vms_io *io)
{
	size_t padded = (io->len + VMS_ALIGN - 1) / VMS_ALIGN * VMS_ALIGN;
	int rc = vms_pread_full(io->fd, io->buf, padded, CD_VMSTATE_DATA_OFF + io->off);

	if (rc < 0)
		snprintf(io->err, sizeof(io->err), "cannot read the state file: %s", strerror(-rc));
	return rc < 0 ? CD_ERR_INVALID : 0;
}

/*
 * All of p to fd, a pipe or FIFO, blocking or not. A closed reading end
 * (EPIPE: SIGPIPE is ignored) is a restore that stopped reading.
 */
static int write_out(int fd, const uint8_t *p, size_t len, volatile int *stop, char *err,
		     size_t errlen)
{
	while (len > 0) {
		ssize_t n;

		if (stop && *stop)
			FAIL(CD_ERR_INVALID, "the restore was stopped");
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = {.fd = fd, .events = POLLOUT};

			poll(&pf, 1, 50);
			continue;
		}
		if (n < 0 && errno == EPIPE)
			FAIL(CD_ERR_INVALID, "the restore stopped reading the image");
		if (n < 0)
			FAIL(CD_ERR_INVALID, "cannot pass the image on: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The reader's block, for progress seen from other nodes: best effort. */
static void publish_tail(struct follower *f, bool done)
{
	struct cd_vmstate_tail t = {.action_id = f->action_id, .read = f->done, .done = done};

	f->tail_ms = cd_now_ms();
	if (!f->writable)
		return;
	cd_vmstate_tail_encode(&t, f->block);
	vms_pwrite_full(f->io.fd, f->block, VMS_ALIGN, VMS_ALIGN);
}

/* The next chunk from next up to upto, handed to the disk side into buf; its length. */
static size_t read_ahead(struct follower *f, uint8_t *buf, uint64_t next, uint64_t upto)
{
	size_t len = upto - next < VMS_IO_BUF ? (size_t)(upto - next) : VMS_IO_BUF;

	if (len > 0 && vms_io_hand(&f->io, buf, len, next) < 0)
		return 0; /* it failed before: vms_io_wait says so */
	return len;
}

/* Pass the image on up to byte upto: read (ahead), hash, write out. */
static int copy_to(struct follower *f, uint64_t upto, char *err, size_t errlen)
{
	uint64_t next = f->done;
	int cur = 0, rc = 0;
	size_t len;

	next += read_ahead(f, f->bufs[cur], next, upto);
	while (rc == 0 && f->done < upto) {
		rc = vms_io_wait(&f->io);
		if (rc < 0)
			FAIL(rc, "%s", f->io.err);
		len = f->io.len;
		next += read_ahead(f, f->bufs[cur ^ 1], next, upto);
		EVP_DigestUpdate(f->md, f->bufs[cur], len);
		rc = write_out(f->out_fd, f->bufs[cur], len, f->stop, err, errlen);
		f->done += len;
		if (f->progress)
			*f->progress = f->done;
		if (cd_now_ms() - f->tail_ms >= VMS_PUBLISH_MS)
			publish_tail(f, false);
		cur ^= 1;
	}
	/* Nothing of ours is in flight when we return. */
	vms_io_wait(&f->io);
	return rc;
}

/* What a head of ours says against what is known: 0, or CD_ERR_CORRUPT with err set. */
static int check_head(const struct cd_vmstate_head *h, uint64_t cap, uint64_t done,
		      uint64_t want_len, const char *want_sha, char *err, size_t errlen)
{
	if (h->failed)
		FAIL(CD_ERR_CORRUPT, "the save gave this image up");
	if (h->length > cap || h->length < done)
		FAIL(CD_ERR_CORRUPT,
		     "the state file's head says %llu bytes of image, which cannot be",
		     (unsigned long long)h->length);
	if (want_len > 0 && (h->length > want_len || (h->complete && h->length != want_len)))
		FAIL(CD_ERR_CORRUPT, "the image has %llu bytes, the cluster recorded %llu",
		     (unsigned long long)h->length, (unsigned long long)want_len);
	if (h->complete && want_sha && strcmp(h->sha256, want_sha) != 0)
		FAIL(CD_ERR_CORRUPT, "the image's SHA-256 is not the one the cluster recorded");
	return 0;
}

/*
 * Follow the head until the image is complete and passed on. A head that
 * is no head yet, or of another save, is a writer that has not begun:
 * waited for, up to follow_timeout_ms (then CD_ERR_TIMEOUT, or
 * CD_ERR_CORRUPT if the file holds another save's image).
 */
static int follow(struct follower *f, uint64_t dev_size, uint64_t want_len, const char *want_sha,
		  int follow_timeout_ms, char *err, size_t errlen)
{
	struct cd_vmstate_head h = {.action_id = 0};
	uint64_t seen = 0, changed = cd_now_ms();
	bool began = false, other = false;
	char got[65];
	int rc;

	for (;;) {
		if (f->stop && *f->stop)
			FAIL(CD_ERR_INVALID, "the restore was stopped");
		rc = vms_pread_full(f->io.fd, f->block, VMS_ALIGN, 0);
		if (rc < 0)
			FAIL(CD_ERR_INVALID, "cannot read the state file's head: %s",
			     strerror(-rc));
		rc = vms_is_head(f->block) ? cd_vmstate_head_decode(f->block, &h) : 1;
		if (rc < 0)
			FAIL(CD_ERR_CORRUPT, "the state file's head fails its checks (%s)",
			     cd_strerror(rc));
		other = rc == 0 && h.action_id != f->action_id;
		if (began && (rc > 0 || other))
			FAIL(CD_ERR_CORRUPT, "the state file's head was overwritten while read");
		if (rc == 0 && !other) {
			uint64_t before = f->done;

			rc = check_head(&h, dev_size - CD_VMSTATE_DATA_OFF, f->done, want_len,
					want_sha, err, errlen);
			if (rc < 0)
				return rc;
			if (!began || h.length != seen) {
				began = true;
				seen = h.length;
				changed = cd_now_ms();
			}
			/* Whole blocks only until the end: the last one may still grow. */
			rc = copy_to(f, h.complete ? h.length : h.length / VMS_ALIGN * VMS_ALIGN,
				     err, errlen);
			if (rc < 0)
				return rc;
			if (h.complete)
				break;
			if (f->done > before)
				continue; /* that took a while: look at the head again at once */
		}
		if (cd_now_ms() - changed >= (uint64_t)follow_timeout_ms) {
			if (other)
				FAIL(CD_ERR_CORRUPT, "the state file holds the image of save %llu",
				     (unsigned long long)h.action_id);
			FAIL(CD_ERR_TIMEOUT, "the save made no progress for %d ms",
			     follow_timeout_ms);
		}
		poll(NULL, 0, FOLLOW_POLL_MS);
	}
	vms_sha_hex(f->md, got);
	if (strcmp(got, h.sha256) != 0)
		FAIL(CD_ERR_CORRUPT, "the image read is not the image written (SHA-256 differs)");
	publish_tail(f, true);
	return 0;
}

int cd_vmstate_read(int dev_fd, uint64_t dev_size, uint64_t action_id, uint64_t want_len,
		    const char *want_sha, int out_fd, int follow_timeout_ms, volatile int *stop,
		    volatile uint64_t *progress, char *err, size_t errlen)
{
	struct follower f = {.action_id = action_id,
			     .out_fd = out_fd,
			     .stop = stop,
			     .progress = progress,
			     .writable = (fcntl(dev_fd, F_GETFL) & O_ACCMODE) == O_RDWR};
	int rc;

	if (progress)
		*progress = 0;
	if (dev_size < CD_VMSTATE_DATA_OFF)
		FAIL(CD_ERR_INVALID, "the state file is too small (%llu bytes)",
		     (unsigned long long)dev_size);
	f.io.fd = dev_fd;
	f.bufs[0] = vms_alloc(VMS_IO_BUF);
	f.bufs[1] = vms_alloc(VMS_IO_BUF);
	f.block = vms_alloc(VMS_ALIGN);
	f.md = EVP_MD_CTX_new();
	if (!f.bufs[0] || !f.bufs[1] || !f.block || !f.md ||
	    EVP_DigestInit_ex(f.md, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
	} else if ((rc = vms_io_start(&f.io, dev_fd, read_buf)) < 0) {
		snprintf(err, errlen, "cannot start a thread: %s", strerror(-rc));
	} else {
		publish_tail(&f, false);
		rc = follow(&f, dev_size, want_len, want_sha && want_sha[0] ? want_sha : NULL,
			    follow_timeout_ms, err, errlen);
		vms_io_stop(&f.io);
	}
	EVP_MD_CTX_free(f.md);
	free(f.block);
	free(f.bufs[0]);
	free(f.bufs[1]);
	return rc;
}
