/*
 * Kernel loop devices over a slice of a shared volume: how every node
 * exposes a csvfs file as a block device at a stable path, with direct I/O
 * so no node ever reads another node's writes from a stale page cache.
 */
#ifndef CD_LOOPDEV_H
#define CD_LOOPDEV_H

#include <stdint.h>

/*
 * Attach a new loop device over backing[offset, offset + size) with direct
 * I/O. On success *num is its number. Returns 0 or -errno; CD_ERR_INVALID if
 * the kernel would not do direct I/O (an unaligned slice).
 */
int cd_loop_attach(const char *backing, uint64_t offset, uint64_t size, int *num);

/* Detach loop device num. Returns 0 or -errno (-EBUSY while in use). */
int cd_loop_detach(int num);

/* Change the size limit of an attached device at once. Returns 0 or -errno. */
int cd_loop_resize(int num, uint64_t size);

#endif
