/* The state file's I/O shared by its writer and reader (vmstate_int.h), and peek. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "agents/vmstate.h"
#include "agents/vmstate_int.h"

/* All of len at off, read or written, again on EINTR: 0 or -errno (-EIO past the end). */
static int full_io(int fd, uint8_t *b, size_t len, uint64_t off, bool write)
{
	while (len > 0) {
		ssize_t n = write ? pwrite(fd, b, len, (off_t)off) : pread(fd, b, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* past the end: the file is shorter than it said */
		b += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int vms_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	return full_io(fd, buf, len, off, false);
}

int vms_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	/* pwrite only reads the buffer. */
	return full_io(fd, (uint8_t *)(uintptr_t)buf, len, off, true);
}

void *vms_alloc(size_t len)
{
	void *p = NULL;

	if (posix_memalign(&p, VMS_ALIGN, len) != 0)
		return NULL;
	memset(p, 0, len);
	return p;
}

void vms_sha_hex(EVP_MD_CTX *md, char out[65])
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(md, d, &n);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	out[64] = '\0';
}

int vms_write_head(int fd, uint8_t *block, const struct cd_vmstate_head *h)
{
	cd_vmstate_head_encode(h, block);
	return vms_pwrite_full(fd, block, VMS_ALIGN, 0);
}

/* --- the disk side's thread --- */

static void *io_thread(void *arg)
{
	struct vms_io *io = arg;

	pthread_mutex_lock(&io->lock);
	for (;;) {
		while (!io->buf && !io->quit)
			pthread_cond_wait(&io->cond, &io->lock);
		if (!io->buf)
			break;
		pthread_mutex_unlock(&io->lock);
		if (io->rc == 0)
			io->rc = io->run(io);
		pthread_mutex_lock(&io->lock);
		io->buf = NULL;
		pthread_cond_broadcast(&io->cond);
	}
	pthread_mutex_unlock(&io->lock);
	return NULL;
}

int vms_io_start(struct vms_io *io, int fd, int (*run)(struct vms_io *io))
{
	int rc;

	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->cond, NULL);
	io->fd = fd;
	io->run = run;
	rc = pthread_create(&io->thread, NULL, io_thread, io);
	io->started = rc == 0;
	if (rc != 0) {
		pthread_cond_destroy(&io->cond);
		pthread_mutex_destroy(&io->lock);
	}
	return -rc;
}

void vms_io_stop(struct vms_io *io)
{
	if (!io->started)
		return;
	pthread_mutex_lock(&io->lock);
	io->quit = true;
	pthread_cond_broadcast(&io->cond);
	pthread_mutex_unlock(&io->lock);
	pthread_join(io->thread, NULL);
	pthread_cond_destroy(&io->cond);
	pthread_mutex_destroy(&io->lock);
	io->started = false;
}

int vms_io_wait(struct vms_io *io)
{
	int rc;

	pthread_mutex_lock(&io->lock);
	while (io->buf)
		pthread_cond_wait(&io->cond, &io->lock);
	rc = io->rc;
	pthread_mutex_unlock(&io->lock);
	return rc;
}

int vms_io_hand(struct vms_io *io, uint8_t *buf, size_t len, uint64_t off)
{
	int rc;

	pthread_mutex_lock(&io->lock);
	while (io->buf)
		pthread_cond_wait(&io->cond, &io->lock);
	rc = io->rc;
	if (rc == 0) {
		io->buf = buf;
		io->len = len;
		io->off = off;
		pthread_cond_broadcast(&io->cond);
	}
	pthread_mutex_unlock(&io->lock);
	return rc;
}

/* --- the blocks as they are now --- */

int cd_vmstate_mark_failed(int dev_fd, uint64_t action_id)
{
	struct cd_vmstate_head h = {.action_id = action_id, .failed = true}, old;
	uint8_t *block = vms_alloc(VMS_ALIGN);
	int rc;

	if (!block)
		return -ENOMEM;
	/* Its length stays, for whoever looks at the progress. */
	if (vms_pread_full(dev_fd, block, VMS_ALIGN, 0) == 0 &&
	    cd_vmstate_head_decode(block, &old) == 0 && old.action_id == action_id)
		h.length = old.length;
	rc = vms_write_head(dev_fd, block, &h);
	if (rc == 0 && fdatasync(dev_fd) < 0)
		rc = -errno;
	free(block);
	return rc;
}

int cd_vmstate_peek(int dev_fd, struct cd_vmstate_head *h, struct cd_vmstate_tail *t)
{
	uint8_t *b = vms_alloc(2 * VMS_ALIGN);
	int rc;

	memset(h, 0, sizeof(*h));
	if (t)
		memset(t, 0, sizeof(*t));
	if (!b)
		return -ENOMEM;
	if (vms_pread_full(dev_fd, b, 2 * VMS_ALIGN, 0) < 0) {
		free(b);
		return CD_ERR_INVALID;
	}
	rc = cd_vmstate_head_decode(b, h);
	/* No reader yet is no error: the tail stays zeros. */
	if (t && cd_vmstate_tail_decode(b + VMS_ALIGN, t) < 0)
		memset(t, 0, sizeof(*t));
	free(b);
	return rc;
}
