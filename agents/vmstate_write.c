/*
 * The state file's writer (vmstate.h: cd_vmstate_write).
 *
 * The guest is paused while its image is written, so the writer keeps
 * QEMU's pipe drained: the calling thread reads the pipe into one big
 * aligned buffer while the disk side (vmstate_int.h) writes the other
 * with O_DIRECT, hashes it, and rewrites the head to cover it.
 */
#include "config.h"

#include <errno.h>
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

/* The writer's disk side: io must stay first (run gets &io). */
struct writer {
	struct vms_io io;
	uint64_t dev_size, action_id;
	uint64_t written; /* bytes of image on the disk, in order */
	uint8_t *block;	  /* the head, aligned */
	EVP_MD_CTX *md;
	volatile uint64_t *progress;
};

/* In the disk side's thread: one buffer onto the disk, then the head that covers it. */
static int write_buf(struct vms_io *io)
{
	struct writer *w = (struct writer *)io;
	size_t padded = (io->len + VMS_ALIGN - 1) / VMS_ALIGN * VMS_ALIGN;
	struct cd_vmstate_head h = {.action_id = w->action_id};
	char *err = io->err;
	size_t errlen = sizeof(io->err);
	int rc;

	if (CD_VMSTATE_DATA_OFF + io->off + padded > w->dev_size)
		FAIL(CD_ERR_INVALID, "the state file is too small (%llu bytes) for the image",
		     (unsigned long long)w->dev_size);
	/* Only the stream's last buffer ends inside a block: zeros after it. */
	memset(io->buf + io->len, 0, padded - io->len);
	rc = vms_pwrite_full(io->fd, io->buf, padded, CD_VMSTATE_DATA_OFF + io->off);
	if (rc < 0)
		FAIL(CD_ERR_INVALID, "cannot write the state file: %s", strerror(-rc));
	EVP_DigestUpdate(w->md, io->buf, io->len);
	w->written = io->off + io->len;
	/* The data is on the disk: now the head may say so. */
	h.length = w->written;
	rc = vms_write_head(io->fd, w->block, &h);
	if (rc < 0)
		FAIL(CD_ERR_INVALID, "cannot write the state file's head: %s", strerror(-rc));
	if (w->progress)
		*w->progress = w->written;
	return 0;
}

/* The pipe side: what is still to come of the prefix, then in_fd. */
struct source {
	const uint8_t *prefix;
	size_t prefix_left;
	int fd;
	bool eof;
	volatile int *stop;
};

/*
 * Fill buf (VMS_IO_BUF bytes, *n of them filled already) until it is full
 * or the stream ends, or, when the stream is slow, until VMS_PUBLISH_MS
 * passed and at least one block is there, so that a follower is never far
 * behind. 0, or -errno, or -ECANCELED when *stop is set.
 */
static int fill(struct source *src, uint8_t *buf, size_t *n)
{
	uint64_t since = cd_now_ms();

	if (src->prefix_left > 0) {
		size_t room = VMS_IO_BUF - *n;
		size_t k = src->prefix_left < room ? src->prefix_left : room;

		memcpy(buf + *n, src->prefix, k);
		src->prefix += k;
		src->prefix_left -= k;
		*n += k;
	}
	while (*n < VMS_IO_BUF && !src->eof) {
		struct pollfd p = {.fd = src->fd, .events = POLLIN};
		ssize_t r;

		if (src->stop && *src->stop)
			return -ECANCELED;
		if (*n >= VMS_ALIGN && cd_now_ms() - since >= VMS_PUBLISH_MS)
			break;
		/* Never blocked in read: *stop is looked at every VMS_PUBLISH_MS. */
		r = poll(&p, 1, VMS_PUBLISH_MS);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r <= 0)
			continue;
		r = read(src->fd, buf + *n, VMS_IO_BUF - *n);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			src->eof = true;
		*n += (size_t)r;
	}
	return 0;
}

/* Stream src to the disk side through the two buffers; 0 once all is on the disk. */
static int pump(struct writer *w, struct source *src, uint8_t *bufs[2], char *err, size_t errlen)
{
	uint64_t off = 0;
	size_t n = 0;
	int cur = 0, rc;

	while (!src->eof) {
		size_t len, keep;

		rc = fill(src, bufs[cur], &n);
		if (rc == -ECANCELED)
			FAIL(CD_ERR_INVALID, "the save was stopped");
		if (rc < 0)
			FAIL(CD_ERR_INVALID, "cannot read the migration stream: %s", strerror(-rc));
		/* Whole blocks only, but at the end: the rest goes with the next buffer. */
		len = src->eof ? n : n / VMS_ALIGN * VMS_ALIGN;
		keep = n - len;
		if (len > 0) {
			/* The other buffer is free once the disk side is idle. */
			rc = vms_io_wait(&w->io);
			if (rc < 0)
				FAIL(rc, "%s", w->io.err);
			memcpy(bufs[cur ^ 1], bufs[cur] + len, keep);
			rc = vms_io_hand(&w->io, bufs[cur], len, off);
			if (rc < 0)
				FAIL(rc, "%s", w->io.err);
			off += len;
			cur ^= 1;
		}
		n = keep;
	}
	rc = vms_io_wait(&w->io);
	if (rc < 0)
		FAIL(rc, "%s", w->io.err);
	/* A stream that ended because its sender was cancelled is no image. */
	if (src->stop && *src->stop)
		FAIL(CD_ERR_INVALID, "the save was stopped");
	return 0;
}

/* At the stream's end: the data flushed, then the head complete, flushed too. */
static int finish(struct writer *w, int dev_fd, char sha[65], char *err, size_t errlen)
{
	struct cd_vmstate_head h = {.action_id = w->action_id, .length = w->written};
	int rc;

	if (fdatasync(dev_fd) < 0)
		FAIL(CD_ERR_INVALID, "cannot flush the state file: %s", strerror(errno));
	h.complete = true;
	vms_sha_hex(w->md, h.sha256);
	rc = vms_write_head(dev_fd, w->block, &h);
	if (rc == 0 && fdatasync(dev_fd) < 0)
		rc = -errno;
	if (rc < 0)
		FAIL(CD_ERR_INVALID, "cannot write the state file's head: %s", strerror(-rc));
	memcpy(sha, h.sha256, 65);
	return 0;
}

int cd_vmstate_write(int dev_fd, uint64_t dev_size, uint64_t action_id, const uint8_t *prefix,
		     size_t prefix_len, int in_fd, volatile int *stop, volatile uint64_t *progress,
		     uint64_t *len_out, char sha_out[65], char *err, size_t errlen)
{
	struct writer w = {.dev_size = dev_size, .action_id = action_id, .progress = progress};
	struct source src = {
		.prefix = prefix, .prefix_left = prefix_len, .fd = in_fd, .stop = stop};
	struct cd_vmstate_head h = {.action_id = action_id};
	uint8_t *bufs[2] = {vms_alloc(VMS_IO_BUF), vms_alloc(VMS_IO_BUF)};
	int rc;

	*len_out = 0;
	sha_out[0] = '\0';
	if (progress)
		*progress = 0;
	w.block = vms_alloc(VMS_ALIGN);
	w.md = EVP_MD_CTX_new();
	if (!bufs[0] || !bufs[1] || !w.block || !w.md ||
	    EVP_DigestInit_ex(w.md, EVP_sha256(), NULL) != 1) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto free_bufs;
	}
	if (dev_size < CD_VMSTATE_DATA_OFF) {
		snprintf(err, errlen, "the state file is too small (%llu bytes)",
			 (unsigned long long)dev_size);
		rc = CD_ERR_INVALID;
		goto free_bufs;
	}
	/* A new image: whatever the file held before is no longer one. */
	rc = vms_write_head(dev_fd, w.block, &h);
	if (rc < 0) {
		snprintf(err, errlen, "cannot write the state file's head: %s", strerror(-rc));
		rc = CD_ERR_INVALID;
		goto free_bufs;
	}
	rc = vms_io_start(&w.io, dev_fd, write_buf);
	if (rc < 0) {
		snprintf(err, errlen, "cannot start a thread: %s", strerror(-rc));
		goto give_up;
	}
	rc = pump(&w, &src, bufs, err, errlen);
	vms_io_stop(&w.io);
	if (rc == 0)
		rc = finish(&w, dev_fd, sha_out, err, errlen);
	if (rc == 0) {
		*len_out = w.written;
		goto free_bufs;
	}
give_up:
	/* Marked failed if it can be, so that nobody restores it. */
	h.length = w.written;
	h.failed = true;
	vms_write_head(dev_fd, w.block, &h);
free_bufs:
	EVP_MD_CTX_free(w.md);
	free(w.block);
	free(bufs[0]);
	free(bufs[1]);
	return rc;
}
