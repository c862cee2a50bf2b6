#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "csvfs/meta.h"
#include "csvfs/paxos_lease.h"
#include "lib/util.h"

uint64_t csvfs_meta_copy_len(uint32_t max_files)
{
	return csvfs_align_up(CSVFS_META_HDR_LEN + (uint64_t)max_files * CSVFS_META_ENTRY_LEN +
				      CSVFS_SUM_LEN,
			      4096);
}

int csvfs_meta_init(struct csvfs_meta *m, uint32_t max_files)
{
	memset(m, 0, sizeof(*m));
	m->copy = -1;
	m->max_files = max_files;
	m->files = calloc(max_files, sizeof(*m->files));
	return m->files ? 0 : -ENOMEM;
}

void csvfs_meta_free(struct csvfs_meta *m)
{
	if (!m)
		return;
	free(m->files);
	m->files = NULL;
	m->nfiles = 0;
}

/* The copy's header fields after the common header, and one entry. */
/* clang-format off */
static const struct csvfs_field meta_fields[] = {
	CSVFS_F64(struct csvfs_meta, generation),
	CSVFS_F32(struct csvfs_meta, nfiles),
	CSVFS_F32(struct csvfs_meta, max_files),
	CSVFS_F32(struct csvfs_meta, writer_slot),
	CSVFS_FPAD,
	CSVFS_F64(struct csvfs_meta, writer_generation),
	CSVFS_F64(struct csvfs_meta, lease_lver),
	CSVFS_F64(struct csvfs_meta, wall_ms),
};
#define N_META_FIELDS (sizeof(meta_fields) / sizeof(meta_fields[0]))

static const struct csvfs_field file_fields[] = {
	CSVFS_F32(struct csvfs_file, index),
	CSVFS_F32(struct csvfs_file, owner),
	CSVFS_F64(struct csvfs_file, size),
	CSVFS_F64(struct csvfs_file, offset),
	CSVFS_F64(struct csvfs_file, alloc),
	CSVFS_F64(struct csvfs_file, generation),
	CSVFS_F64(struct csvfs_file, ctime_ms),
	CSVFS_FSTR(struct csvfs_file, name),
};
/* clang-format on */
#define N_FILE_FIELDS (sizeof(file_fields) / sizeof(file_fields[0]))

int csvfs_meta_encode(const struct csvfs_vol *v, const struct csvfs_meta *m, void *buf)
{
	struct csvfs_meta hdr = *m;
	struct csvfs_enc e;
	uint32_t i;

	hdr.max_files = v->sb.max_files;
	csvfs_rec_begin(&e, buf, v->sb.meta_copy_len, CSVFS_MAGIC_META, v->sb.uuid);
	csvfs_put_fields(&e, meta_fields, N_META_FIELDS, &hdr);
	for (i = 0; i < m->nfiles; i++) {
		size_t start = e.off;

		csvfs_put_fields(&e, file_fields, N_FILE_FIELDS, &m->files[i]);
		/* The buffer is zeroed: skipping the padding leaves it zero. */
		e.off = start + CSVFS_META_ENTRY_LEN;
	}
	return csvfs_rec_end(&e);
}

int csvfs_meta_decode(const struct csvfs_vol *v, const void *buf, struct csvfs_meta *m)
{
	struct csvfs_meta hdr;
	struct csvfs_dec d;
	uint32_t i;
	int rc;

	rc = csvfs_rec_open(&d, buf, v->sb.meta_copy_len, CSVFS_MAGIC_META, v->sb.uuid);
	if (rc < 0)
		return rc;
	csvfs_get_fields(&d, meta_fields, N_META_FIELDS, &hdr);
	if (hdr.max_files != v->sb.max_files || hdr.nfiles > hdr.max_files ||
	    m->max_files < hdr.max_files ||
	    d.len != CSVFS_META_HDR_LEN + (size_t)hdr.nfiles * CSVFS_META_ENTRY_LEN)
		return CD_ERR_CORRUPT;
	for (i = 0; i < hdr.nfiles; i++) {
		struct csvfs_file *f = &m->files[i];
		size_t start = d.off;

		memset(f, 0, sizeof(*f));
		csvfs_get_fields(&d, file_fields, N_FILE_FIELDS, f);
		d.off = start + CSVFS_META_ENTRY_LEN;
		if (f->index >= hdr.max_files || (i > 0 && f->index <= m->files[i - 1].index) ||
		    !cd_valid_name(f->name, CSVFS_NAME_LEN - 1))
			return CD_ERR_CORRUPT;
	}
	/* The namespace keeps its own array and capacity. */
	hdr.files = m->files;
	hdr.max_files = m->max_files;
	hdr.copy = m->copy;
	*m = hdr;
	return 0;
}

static int read_copy(struct csvfs_vol *v, int copy, struct csvfs_meta *m)
{
	uint8_t *buf;
	int rc;

	rc = csvfs_vol_read(v, csvfs_meta_copy_off(v, copy), v->sb.meta_copy_len, &buf);
	if (rc == 0)
		rc = csvfs_meta_decode(v, buf, m);
	free(buf);
	if (rc == 0)
		m->copy = copy;
	return rc;
}

/* Whether rc says the copy is unusable (as opposed to unreadable). */
static bool damaged(int rc)
{
	return rc == -ENODATA || rc == CD_ERR_CORRUPT || rc == CD_ERR_VERSION;
}

int csvfs_meta_read(struct csvfs_vol *v, struct csvfs_meta *m, struct csvfs_meta_found *found)
{
	struct csvfs_meta other, tmp;
	struct csvfs_meta_found f;
	int rc;

	rc = csvfs_meta_init(&other, v->sb.max_files);
	if (rc < 0)
		return rc;
	f.status[0] = read_copy(v, 0, m);
	f.generation[0] = f.status[0] == 0 ? m->generation : 0;
	f.status[1] = read_copy(v, 1, &other);
	f.generation[1] = f.status[1] == 0 ? other.generation : 0;
	if (found)
		*found = f;
	/*
	 * A copy that could not be read may be the newest: no answer then,
	 * rather than an old one (a writer would build on it). A damaged copy
	 * is taken for one an update did not finish, so the other is the
	 * answer (damage from the device looks the same; check reports it).
	 */
	if (f.status[0] < 0 && !damaged(f.status[0]))
		rc = f.status[0];
	else if (f.status[1] < 0 && !damaged(f.status[1]))
		rc = f.status[1];
	else if (f.status[0] != 0 && f.status[1] != 0)
		rc = CD_ERR_CORRUPT;
	if (rc == 0 && f.status[1] == 0 && (f.status[0] != 0 || other.generation > m->generation)) {
		tmp = *m;
		*m = other;
		other = tmp;
	}
	if (rc < 0) {
		m->generation = 0;
		m->nfiles = 0;
		m->copy = -1;
	}
	csvfs_meta_free(&other);
	return rc;
}

int csvfs_meta_write_copy(struct csvfs_vol *v, int copy, const struct csvfs_meta *m)
{
	uint8_t *buf = csvfs_io_alloc(v->sb.meta_copy_len);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = csvfs_meta_encode(v, m, buf);
	if (rc == 0)
		rc = csvfs_write_verified(v->disk, csvfs_meta_copy_off(v, copy), buf,
					  v->sb.meta_copy_len);
	free(buf);
	return rc;
}

int csvfs_meta_write(struct csvfs_vol *v, const struct csvfs_host *h, struct csvfs_meta *m)
{
	struct csvfs_leader l;
	int rc, target;

	if (!csvfs_host_valid(v, h))
		return CD_ERR_TIMEOUT;
	rc = csvfs_lease_read(v, CSVFS_META_LEASE, &l);
	if (rc < 0)
		return rc;
	if (!csvfs_leader_is(&l, h))
		return -EPERM;
	/* Never over the newest copy: after a crash there is always one whole. */
	target = m->copy == 0 ? 1 : 0;
	m->generation++;
	m->writer_slot = h->slot;
	m->writer_generation = h->generation;
	m->lease_lver = l.lver;
	m->wall_ms = cd_wall_ms();
	rc = csvfs_meta_write_copy(v, target, m);
	if (rc < 0) {
		m->generation--;
		return rc;
	}
	m->copy = target;
	return 0;
}
