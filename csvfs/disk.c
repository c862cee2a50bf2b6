/*
 * The real block I/O: a file or block device opened with O_DIRECT, so that
 * every read sees what other hosts wrote (buffered reads of a shared LUN
 * return stale page cache, see LAB-NOTES).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/stat.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csvfs/disk.h"

struct real_disk {
	struct csvfs_disk base;
	int fd;
};

static int real_xfer(struct csvfs_disk *d, uint64_t off, void *buf, size_t len, int wr)
{
	struct real_disk *r = (struct real_disk *)d;
	char *p = buf;

	while (len > 0) {
		ssize_t n =
			wr ? pwrite(r->fd, p, len, (off_t)off) : pread(r->fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		/* O_DIRECT transfers whole sectors: a short one is the end. */
		if (n == 0 || (size_t)n % d->sector_size)
			return -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static int real_read(struct csvfs_disk *d, uint64_t off, void *buf, size_t len)
{
	return real_xfer(d, off, buf, len, 0);
}

static int real_write(struct csvfs_disk *d, uint64_t off, const void *buf, size_t len)
{
	return real_xfer(d, off, (void *)buf, len, 1);
}

static void real_close(struct csvfs_disk *d)
{
	struct real_disk *r = (struct real_disk *)d;

	close(r->fd);
	free(r);
}

static const struct csvfs_disk_ops real_ops = {
	.read = real_read,
	.write = real_write,
	.close = real_close,
};

/* The alignment O_DIRECT needs for a regular file, from statx when known. */
static uint32_t file_dio_align(int fd)
{
#ifdef STATX_DIOALIGN
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align >= 512)
		return stx.stx_dio_offset_align;
#endif
	return 512;
}

static int probe(int fd, uint32_t *sector_size, uint64_t *size)
{
	struct stat st;
	int ss;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKSSZGET, &ss) < 0 || ioctl(fd, BLKGETSIZE64, size) < 0)
			return -errno;
		*sector_size = (uint32_t)ss;
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return -ENOTBLK;
	*sector_size = file_dio_align(fd);
	*size = (uint64_t)st.st_size;
	return 0;
}

int csvfs_disk_open(const char *path, int readonly, struct csvfs_disk **out)
{
	struct real_disk *r;
	int rc;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
	if (r->fd < 0) {
		rc = -errno;
		goto out_free;
	}
	rc = probe(r->fd, &r->base.sector_size, &r->base.size);
	if (rc < 0)
		goto out_close;
	if (r->base.sector_size < 512 || r->base.sector_size > CSVFS_IO_ALIGN ||
	    (r->base.sector_size & (r->base.sector_size - 1))) {
		rc = -EINVAL;
		goto out_close;
	}
	r->base.ops = &real_ops;
	*out = &r->base;
	return 0;

out_close:
	close(r->fd);
out_free:
	free(r);
	return rc;
}

void csvfs_disk_close(struct csvfs_disk *d)
{
	if (d)
		d->ops->close(d);
}

static int check_request(struct csvfs_disk *d, uint64_t off, const void *buf, size_t len)
{
	if (len == 0 || off % d->sector_size || len % d->sector_size ||
	    (uintptr_t)buf % CSVFS_IO_ALIGN)
		return -EINVAL;
	if (off > d->size || len > d->size - off)
		return -ENOSPC;
	return 0;
}

int csvfs_read(struct csvfs_disk *d, uint64_t off, void *buf, size_t len)
{
	int rc = check_request(d, off, buf, len);

	return rc < 0 ? rc : d->ops->read(d, off, buf, len);
}

int csvfs_write(struct csvfs_disk *d, uint64_t off, const void *buf, size_t len)
{
	int rc = check_request(d, off, buf, len);

	return rc < 0 ? rc : d->ops->write(d, off, buf, len);
}

int csvfs_write_verified(struct csvfs_disk *d, uint64_t off, const void *buf, size_t len)
{
	void *back;
	int rc;

	rc = csvfs_write(d, off, buf, len);
	if (rc < 0)
		return rc;
	back = csvfs_io_alloc(len);
	if (!back)
		return -ENOMEM;
	rc = csvfs_read(d, off, back, len);
	if (rc == 0 && memcmp(back, buf, len) != 0)
		rc = -EIO;
	free(back);
	return rc;
}

void *csvfs_io_alloc(size_t len)
{
	void *p;

	if (posix_memalign(&p, CSVFS_IO_ALIGN, len ? len : CSVFS_IO_ALIGN) != 0)
		return NULL;
	memset(p, 0, len);
	return p;
}
