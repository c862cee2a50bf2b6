/*
 * Block I/O of csvfs: an interface (a table of functions) so that the lease
 * and metadata code runs unchanged on a real LUN opened with O_DIRECT and on
 * the simulated disk of the unit tests (tests/sim/simdisk.h).
 *
 * Every request must be aligned: offset and length multiples of the
 * device's logical sector size, buffer aligned to CSVFS_IO_ALIGN (get one
 * from csvfs_io_alloc). csvfs_read/csvfs_write check this, so a misaligned
 * request fails the same way in the tests as on a real device.
 */
#ifndef CSVFS_DISK_H
#define CSVFS_DISK_H

#include <stddef.h>
#include <stdint.h>

/* Buffer alignment for O_DIRECT: enough for 512 and 4096 byte sectors. */
#define CSVFS_IO_ALIGN 4096u

struct csvfs_disk;

struct csvfs_disk_ops {
	/* Whole-length transfers: 0 or -errno (a short transfer is -EIO). */
	int (*read)(struct csvfs_disk *d, uint64_t off, void *buf, size_t len);
	int (*write)(struct csvfs_disk *d, uint64_t off, const void *buf, size_t len);
	void (*close)(struct csvfs_disk *d);
};

/* Implementations embed this as their first member. */
struct csvfs_disk {
	const struct csvfs_disk_ops *ops;
	uint32_t sector_size; /* logical sector size: the I/O granularity */
	uint64_t size;	      /* bytes */
};

/*
 * Open a file or block device with O_DIRECT (O_RDWR, or O_RDONLY when
 * readonly). The sector size is the device's logical block size (BLKSSZGET)
 * or, for a regular file, the direct I/O alignment the kernel reports
 * (512 when it reports none). Returns 0 or -errno; -EINVAL means the file
 * system refuses O_DIRECT (tmpfs). The caller closes with csvfs_disk_close.
 */
int csvfs_disk_open(const char *path, int readonly, struct csvfs_disk **out);

/* Destructor; accepts NULL. */
void csvfs_disk_close(struct csvfs_disk *d);

/* Checked transfers: alignment and bounds first, then the implementation. */
int csvfs_read(struct csvfs_disk *d, uint64_t off, void *buf, size_t len);
int csvfs_write(struct csvfs_disk *d, uint64_t off, const void *buf, size_t len);

/*
 * Write, then read back and compare: -EIO if the disk acknowledged a write
 * it did not keep (a lost write). Used for sectors only one host writes
 * (its own ballot and host-lease sectors, metadata copies), where a lost
 * write would otherwise break the algorithms silently.
 */
int csvfs_write_verified(struct csvfs_disk *d, uint64_t off, const void *buf, size_t len);

/* A zeroed buffer aligned for O_DIRECT; free() it. NULL on failure. */
void *csvfs_io_alloc(size_t len);

#endif
