/*
 * A VM's saved memory state in a file of a shared volume: a block device
 * of a known size, which every node sees as the same extent of the LUN
 * (csvfs exposes it at RUN_DIR/VOLUME/FILE). A quick move or a save
 * writes it on one node while another node may follow the writer through
 * the volume and restore as the image grows; a restore elsewhere later
 * reads it whole.
 *
 * Layout, from the file's start:
 *   0      the writer's block (CD_VMSTATE_BLOCK bytes): magic, version,
 *          the save's action id, the bytes of image written so far
 *          (O_DIRECT: on the disk, where every node sees them; flushed
 *          once complete), whether the image is complete (then its
 *          length and SHA-256 are final) or given up, and the block's
 *          own checksum;
 *   4096   the reader's block: the action id it reads and the bytes it
 *          has read, for progress seen from other nodes; its checksum;
 *   8192   the image: libvirt's save-image format (libvirt's header, the
 *          domain XML, QEMU's migration stream), as virDomainRestore reads it.
 *
 * All I/O is O_DIRECT and aligned. The writer writes data first and then
 * the block that covers it, so a reader that never reads past the
 * writer's length never reads what is not written yet. An image is
 * restored only if it is complete and its SHA-256 is the one the cluster
 * recorded; the restored domain stays paused until that is known.
 */
#ifndef CD_VMSTATE_H
#define CD_VMSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CD_VMSTATE_BLOCK 4096
#define CD_VMSTATE_DATA_OFF (2 * CD_VMSTATE_BLOCK)
/* Bytes a state file needs besides the image (the two blocks). */
#define CD_VMSTATE_OVERHEAD CD_VMSTATE_DATA_OFF

/* The writer's block. */
struct cd_vmstate_head {
	uint64_t action_id; /* the save this image belongs to */
	uint64_t length;    /* bytes of image written so far (fsync-ed once complete) */
	bool complete;	    /* all written: length and sha256 are final */
	bool failed;	    /* the writer gave up: never restore it */
	char sha256[65];    /* lower-case hex, "" until complete */
};

/* The reader's block. */
struct cd_vmstate_tail {
	uint64_t action_id; /* the image it reads */
	uint64_t read;	    /* bytes of image read so far */
	bool done;	    /* it read and verified the whole image */
};

/* --- pure --- */

/* The blocks as stored (magic, version, fields, checksum) and back. */
void cd_vmstate_head_encode(const struct cd_vmstate_head *h, uint8_t block[CD_VMSTATE_BLOCK]);
/* 0, or CD_ERR_CORRUPT (not a head, or its checksum fails), CD_ERR_VERSION. */
int cd_vmstate_head_decode(const uint8_t block[CD_VMSTATE_BLOCK], struct cd_vmstate_head *h);
void cd_vmstate_tail_encode(const struct cd_vmstate_tail *t, uint8_t block[CD_VMSTATE_BLOCK]);
int cd_vmstate_tail_decode(const uint8_t block[CD_VMSTATE_BLOCK], struct cd_vmstate_tail *t);

/*
 * libvirt's save-image header (libvirt's qemu_saveimage.h, version 2: the
 * magic "LibvirtQemudSave", version, data length, was-running 1, format
 * raw 0, no cookie) followed by xml, its NUL, and zeros up to a multiple of
 * CD_VMSTATE_BLOCK, so that QEMU's stream starts aligned. *out is malloc'd
 * and *out_len set; 0 or -ENOMEM.
 */
int cd_vmstate_libvirt_prefix(const char *xml, uint8_t **out, size_t *out_len);

/* --- streaming (blocking: in an agent job's thread) --- */

/*
 * Write a save's image into the state file dev_fd (opened O_RDWR|O_DIRECT,
 * dev_size bytes): first prefix (prefix_len bytes, a multiple of
 * CD_VMSTATE_BLOCK), then everything read from in_fd (QEMU's migration
 * stream, through a pipe) until EOF, hashing it all (SHA-256, OpenSSL),
 * with the head rewritten as the image grows (at least every 8 MiB or
 * 20 ms) and *progress (if not NULL) set to the bytes written. At EOF:
 * fdatasync, then the head complete with length and SHA-256, which are
 * copied to *len_out and sha_out.
 *
 * 0, or on failure the head marked failed (if it can be written) and
 * CD_ERR_INVALID with err set: "the state file is too small" (the image
 * would pass dev_size; nothing past it is written), an I/O error, or
 * *stop set by another thread.
 */
int cd_vmstate_write(int dev_fd, uint64_t dev_size, uint64_t action_id, const uint8_t *prefix,
		     size_t prefix_len, int in_fd, volatile int *stop, volatile uint64_t *progress,
		     uint64_t *len_out, char sha_out[65], char *err, size_t errlen);

/*
 * Read the image of save action_id from the state file dev_fd (opened
 * O_RDONLY|O_DIRECT, or O_RDWR to publish the reader's block), following
 * the writer: the head is read again (every few ms) until it is complete,
 * and no byte past its length is read. Each byte is written to out_fd (a
 * pipe or FIFO towards libvirt's restore) as it comes, hashed, and counted
 * in *progress (if not NULL); with dev_fd writable the reader's block is
 * rewritten now and then.
 *
 * want_len and want_sha (NULL: not known yet, the head's are used) are what
 * the cluster recorded. 0 once the whole image went to out_fd and its
 * length and SHA-256 match both the head's and the recorded ones.
 * Otherwise, with err set:
 *   CD_ERR_CORRUPT   the head or the image fails its checks (a head of
 *                    another action, a length or checksum that differs,
 *                    a head marked failed);
 *   CD_ERR_TIMEOUT   the writer made no progress for follow_timeout_ms;
 *   CD_ERR_INVALID   an I/O error, out_fd closed (the restore stopped
 *                    reading), or *stop set by another thread.
 * A head not written yet, or of another action, may be a writer that has
 * not begun: it is waited for up to follow_timeout_ms (then TIMEOUT, or
 * CORRUPT if it is still another action's), unless it replaces ours.
 */
int cd_vmstate_read(int dev_fd, uint64_t dev_size, uint64_t action_id, uint64_t want_len,
		    const char *want_sha, int out_fd, int follow_timeout_ms, volatile int *stop,
		    volatile uint64_t *progress, char *err, size_t errlen);

/*
 * After a save failed whose writer had returned 0 (QEMU closed the pipe
 * on an error, which reads as the stream's end): the head of action_id
 * marked failed, so that nobody restores it. 0 or -errno.
 */
int cd_vmstate_mark_failed(int dev_fd, uint64_t action_id);

/* The head as it is now on dev_fd (O_DIRECT), for progress: 0, or as decode, or CD_ERR_INVALID. */
int cd_vmstate_peek(int dev_fd, struct cd_vmstate_head *h, struct cd_vmstate_tail *t);

#endif
