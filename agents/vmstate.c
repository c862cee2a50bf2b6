/*
 * A VM's saved state in a state file (vmstate.h): its two blocks and
 * libvirt's image header, pure. The I/O is in vmstate_io.c,
 * vmstate_write.c and vmstate_read.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <clusterd/result.h>

#include "agents/vmstate.h"
#include "agents/vmstate_int.h"

/*
 * Both blocks share one layout, little-endian, all of it in the block's
 * first sector so that a sector-atomic write never tears it:
 *   0   magic (8 bytes), 8 version, 12 flags, 16 action id, 24 count
 *       (head: length, tail: bytes read), 32 the image's SHA-256 as hex
 *       (64 bytes, zeros until known), 96 SHA-256 of bytes 0..95.
 */
#define BLOCK_VERSION 1
#define USED 96
#define HEAD_MAGIC "CDVMHEAD"
#define TAIL_MAGIC "CDVMTAIL"
#define F_COMPLETE 1u /* head: complete; tail: done */
#define F_FAILED 2u

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void block_encode(const char *magic, uint32_t flags, uint64_t id, uint64_t count,
			 const char *sha, uint8_t block[CD_VMSTATE_BLOCK])
{
	unsigned int n = 0;

	memset(block, 0, CD_VMSTATE_BLOCK);
	memcpy(block, magic, 8);
	put32(block + 8, BLOCK_VERSION);
	put32(block + 12, flags);
	put64(block + 16, id);
	put64(block + 24, count);
	if (sha && strlen(sha) == 64)
		memcpy(block + 32, sha, 64);
	EVP_Digest(block, USED, block + USED, &n, EVP_sha256(), NULL);
}

/* Lower-case hex, 64 digits. */
static bool is_sha_hex(const uint8_t *p)
{
	for (int i = 0; i < 64; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
			return false;
	return true;
}

static int block_decode(const char *magic, const uint8_t block[CD_VMSTATE_BLOCK], uint32_t *flags,
			uint64_t *id, uint64_t *count, char sha[65])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const uint8_t zeros[64];

	if (memcmp(block, magic, 8) != 0)
		return CD_ERR_CORRUPT;
	if (get32(block + 8) != BLOCK_VERSION)
		return CD_ERR_VERSION;
	EVP_Digest(block, USED, md, &n, EVP_sha256(), NULL);
	if (n != 32 || memcmp(md, block + USED, 32) != 0)
		return CD_ERR_CORRUPT;
	*flags = get32(block + 12);
	*id = get64(block + 16);
	*count = get64(block + 24);
	sha[0] = '\0';
	if (is_sha_hex(block + 32)) {
		memcpy(sha, block + 32, 64);
		sha[64] = '\0';
	} else if (memcmp(block + 32, zeros, 64) != 0) {
		return CD_ERR_CORRUPT;
	}
	return 0;
}

void cd_vmstate_head_encode(const struct cd_vmstate_head *h, uint8_t block[CD_VMSTATE_BLOCK])
{
	uint32_t flags = (h->complete ? F_COMPLETE : 0) | (h->failed ? F_FAILED : 0);

	block_encode(HEAD_MAGIC, flags, h->action_id, h->length, h->complete ? h->sha256 : NULL,
		     block);
}

bool vms_is_head(const uint8_t block[CD_VMSTATE_BLOCK])
{
	return memcmp(block, HEAD_MAGIC, 8) == 0;
}

int cd_vmstate_head_decode(const uint8_t block[CD_VMSTATE_BLOCK], struct cd_vmstate_head *h)
{
	uint32_t flags = 0;
	int rc;

	memset(h, 0, sizeof(*h));
	rc = block_decode(HEAD_MAGIC, block, &flags, &h->action_id, &h->length, h->sha256);
	if (rc < 0)
		return rc;
	h->complete = flags & F_COMPLETE;
	h->failed = flags & F_FAILED;
	/* A complete image has its checksum; an incomplete one none yet. */
	if (h->complete != (h->sha256[0] != '\0'))
		return CD_ERR_CORRUPT;
	return 0;
}

void cd_vmstate_tail_encode(const struct cd_vmstate_tail *t, uint8_t block[CD_VMSTATE_BLOCK])
{
	block_encode(TAIL_MAGIC, t->done ? F_COMPLETE : 0, t->action_id, t->read, NULL, block);
}

int cd_vmstate_tail_decode(const uint8_t block[CD_VMSTATE_BLOCK], struct cd_vmstate_tail *t)
{
	uint32_t flags = 0;
	char sha[65];
	int rc;

	memset(t, 0, sizeof(*t));
	rc = block_decode(TAIL_MAGIC, block, &flags, &t->action_id, &t->read, sha);
	t->done = rc == 0 && (flags & F_COMPLETE);
	return rc;
}

/* libvirt's save-image header (qemu_saveimage.h), version 2: 92 bytes. */
#define LIBVIRT_MAGIC "LibvirtQemudSave"
#define LIBVIRT_HEADER 92

int cd_vmstate_libvirt_prefix(const char *xml, uint8_t **out, size_t *out_len)
{
	size_t xml_len = strlen(xml) + 1;
	size_t total = (LIBVIRT_HEADER + xml_len + VMS_ALIGN - 1) / VMS_ALIGN * VMS_ALIGN;
	uint8_t *p;

	*out = NULL;
	*out_len = 0;
	if (total - LIBVIRT_HEADER > UINT32_MAX)
		return -ENOMEM;
	p = calloc(1, total);
	if (!p)
		return -ENOMEM;
	memcpy(p, LIBVIRT_MAGIC, 16);
	put32(p + 16, 2);				   /* version */
	put32(p + 20, (uint32_t)(total - LIBVIRT_HEADER)); /* data_len: XML, NUL, padding */
	put32(p + 24, 1);				   /* was_running */
	put32(p + 28, 0);				   /* format: raw */
	put32(p + 32, 0);				   /* cookieOffset: none */
	memcpy(p + LIBVIRT_HEADER, xml, xml_len);
	*out = p;
	*out_len = total;
	return 0;
}
