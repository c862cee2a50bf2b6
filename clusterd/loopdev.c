#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "clusterd/loopdev.h"
#include "lib/util.h"

static int open_loop(int num, int flags)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/loop%d", num);
	return open(path, flags | O_CLOEXEC);
}

static int dio_on(int num)
{
	char path[64], *buf = NULL;
	size_t len;
	int on;

	snprintf(path, sizeof(path), "/sys/block/loop%d/loop/dio", num);
	if (cd_read_file(path, &buf, &len) < 0)
		return 0;
	on = buf[0] == '1';
	free(buf);
	return on;
}

int cd_loop_attach(const char *backing, uint64_t offset, uint64_t size, int *num)
{
	struct loop_config cfg;
	int ctl, bfd, lfd, n, tries, rc;

	bfd = open(backing, O_RDWR | O_CLOEXEC);
	if (bfd < 0)
		return -errno;
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		rc = -errno;
		close(bfd);
		return rc;
	}
	/* Another process may take the free device first: try again. */
	for (tries = 0; tries < 16; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		lfd = open_loop(n, O_RDWR);
		if (lfd < 0) {
			rc = -errno;
			goto out;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)bfd;
		cfg.info.lo_offset = offset;
		cfg.info.lo_sizelimit = size;
		cfg.info.lo_flags = LO_FLAGS_DIRECT_IO;
		rc = ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0 ? -errno : 0;
		close(lfd);
		if (rc == -EBUSY)
			continue;
		if (rc < 0)
			goto out;
		/* An unaligned slice silently falls back to buffered I/O. */
		if (!dio_on(n)) {
			cd_loop_detach(n);
			rc = CD_ERR_INVALID;
			goto out;
		}
		*num = n;
		goto out;
	}
	rc = -EBUSY;
out:
	close(ctl);
	close(bfd);
	return rc;
}

int cd_loop_detach(int num)
{
	int fd = open_loop(num, O_RDONLY), rc;

	if (fd < 0)
		return -errno;
	rc = ioctl(fd, LOOP_CLR_FD, 0) < 0 ? -errno : 0;
	close(fd);
	return rc == -ENXIO ? 0 : rc;
}

static int get_status(int num, struct loop_info64 *info)
{
	int fd = open_loop(num, O_RDONLY), rc;

	if (fd < 0)
		return -errno;
	rc = ioctl(fd, LOOP_GET_STATUS64, info) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int cd_loop_resize(int num, uint64_t size)
{
	struct loop_info64 info;
	int fd, rc = get_status(num, &info);

	if (rc < 0)
		return rc;
	info.lo_sizelimit = size;
	fd = open_loop(num, O_RDWR);
	if (fd < 0)
		return -errno;
	rc = ioctl(fd, LOOP_SET_STATUS64, &info) < 0 ? -errno : 0;
	close(fd);
	return rc;
}
