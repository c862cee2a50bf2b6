/*
 * What the state file's writer (vmstate_write.c) and reader
 * (vmstate_read.c) share (vmstate_io.c): aligned blocking I/O, and a
 * thread that does one buffer's disk I/O while the caller's thread works
 * on the other buffer.
 */
#ifndef CD_VMSTATE_INT_H
#define CD_VMSTATE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "agents/vmstate.h"

/* The size of one I/O: big enough that syscalls cost nothing next to the copy. */
#define VMS_IO_BUF (4u << 20)
#define VMS_ALIGN CD_VMSTATE_BLOCK
/* How often a writer or reader publishes its block while the image grows. */
#define VMS_PUBLISH_MS 20

/* Whether block has a head's magic (written by some writer, maybe torn or old). */
bool vms_is_head(const uint8_t block[CD_VMSTATE_BLOCK]);

/* pread/pwrite all of len at off, on EINTR again: 0 or -errno (-EIO past the end). */
int vms_pread_full(int fd, void *buf, size_t len, uint64_t off);
int vms_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* len zeroed bytes aligned for O_DIRECT; free() them. NULL if out of memory. */
void *vms_alloc(size_t len);
/* The digest of md as lower-case hex. */
void vms_sha_hex(EVP_MD_CTX *md, char out[65]);
/* h encoded into block (aligned) and written at the file's start: 0 or -errno. */
int vms_write_head(int fd, uint8_t *block, const struct cd_vmstate_head *h);

/*
 * The disk side: a thread that runs run() on one buffer at a time (buf
 * set by vms_io_hand, NULL again once done). After a failure (rc < 0,
 * err set) it runs nothing more and only hands buffers back.
 */
struct vms_io {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool quit, started;
	pthread_t thread;
	int (*run)(struct vms_io *io);
	int fd;
	uint8_t *buf; /* the buffer it owns now; NULL: idle */
	size_t len;   /* its bytes of image */
	uint64_t off; /* its offset in the image */
	int rc;
	char err[200];
};

/* Start io's thread; 0 or -errno. vms_io_stop() joins it (after its current buffer). */
int vms_io_start(struct vms_io *io, int fd, int (*run)(struct vms_io *io));
void vms_io_stop(struct vms_io *io);
/* Wait until io is idle: its rc. */
int vms_io_wait(struct vms_io *io);
/* Hand it buf (len bytes of image at off) once it is idle: its rc (buf not taken if < 0). */
int vms_io_hand(struct vms_io *io, uint8_t *buf, size_t len, uint64_t off);

#endif
