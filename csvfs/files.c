#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "csvfs/files.h"
#include "lib/util.h"

struct csvfs_file *csvfs_files_find(struct csvfs_meta *m, const char *name)
{
	uint32_t i;

	for (i = 0; i < m->nfiles; i++)
		if (strcmp(m->files[i].name, name) == 0)
			return &m->files[i];
	return NULL;
}

static int by_offset(const void *a, const void *b)
{
	const struct csvfs_file *x = *(const struct csvfs_file *const *)a;
	const struct csvfs_file *y = *(const struct csvfs_file *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The files in order of their extents; caller frees. */
static const struct csvfs_file **sorted(const struct csvfs_meta *m)
{
	const struct csvfs_file **v = calloc(m->nfiles + 1, sizeof(*v));
	uint32_t i;

	if (!v)
		return NULL;
	for (i = 0; i < m->nfiles; i++)
		v[i] = &m->files[i];
	qsort(v, m->nfiles, sizeof(*v), by_offset);
	return v;
}

/* First fit: the lowest offset of a gap of len bytes, or 0 for none. */
static uint64_t find_gap(const struct csvfs_meta *m, const struct csvfs_sb *sb, uint64_t len)
{
	const struct csvfs_file **v = sorted(m);
	uint64_t at = sb->data_off, found = 0;
	uint32_t i;

	if (!v)
		return 0;
	for (i = 0; i <= m->nfiles && !found; i++) {
		uint64_t end = i < m->nfiles ? v[i]->offset : sb->data_end;

		if (end >= at && end - at >= len)
			found = at;
		if (i < m->nfiles && v[i]->offset + v[i]->alloc > at)
			at = v[i]->offset + v[i]->alloc;
	}
	free(v);
	return found;
}

/* The lowest index no file has; files are kept by increasing index. */
static uint32_t free_index(const struct csvfs_meta *m)
{
	uint32_t i;

	for (i = 0; i < m->nfiles; i++)
		if (m->files[i].index != i)
			break;
	return i;
}

static int valid_size(uint64_t size)
{
	return size > 0 && size <= CSVFS_MAX_FILE_SIZE;
}

int csvfs_files_create(struct csvfs_meta *m, const struct csvfs_sb *sb, const char *name,
		       uint64_t size, uint32_t owner, uint64_t wall_ms, struct csvfs_file **out)
{
	struct csvfs_file f;
	uint32_t index;
	uint64_t off;

	/* Old names that are not path names stay readable and removable. */
	if (!cd_valid_path_name(name, CSVFS_NAME_LEN - 1) || !valid_size(size))
		return CD_ERR_INVALID;
	if (csvfs_files_find(m, name))
		return CD_ERR_EXISTS;
	index = free_index(m);
	if (index >= m->max_files || index >= sb->max_files)
		return -ENOSPC;
	memset(&f, 0, sizeof(f));
	f.alloc = csvfs_align_up(size, sb->alloc_unit);
	off = find_gap(m, sb, f.alloc);
	if (!off)
		return -ENOSPC;
	f.index = index;
	f.owner = owner;
	f.size = size;
	f.offset = off;
	f.generation = 1;
	f.ctime_ms = wall_ms;
	cd_strlcpy(f.name, name, sizeof(f.name));
	/* The index is also where the entry goes, keeping the order. */
	memmove(&m->files[index + 1], &m->files[index], (m->nfiles - index) * sizeof(f));
	m->files[index] = f;
	m->nfiles++;
	if (out)
		*out = &m->files[index];
	return 0;
}

int csvfs_files_remove(struct csvfs_meta *m, const char *name)
{
	struct csvfs_file *f = csvfs_files_find(m, name);
	size_t pos;

	if (!f)
		return CD_ERR_NOT_FOUND;
	pos = (size_t)(f - m->files);
	memmove(f, f + 1, (m->nfiles - pos - 1) * sizeof(*f));
	m->nfiles--;
	return 0;
}

int csvfs_files_resize(struct csvfs_meta *m, const struct csvfs_sb *sb, const char *name,
		       uint64_t size)
{
	struct csvfs_file *f = csvfs_files_find(m, name);
	uint64_t alloc, limit = sb->data_end;
	uint32_t i;

	if (!f)
		return CD_ERR_NOT_FOUND;
	if (!valid_size(size))
		return CD_ERR_INVALID;
	alloc = csvfs_align_up(size, sb->alloc_unit);
	for (i = 0; i < m->nfiles; i++)
		if (m->files[i].offset > f->offset && m->files[i].offset < limit)
			limit = m->files[i].offset;
	if (alloc > limit - f->offset)
		return -ENOSPC;
	f->size = size;
	f->alloc = alloc;
	f->generation++;
	return 0;
}

uint64_t csvfs_files_free_bytes(const struct csvfs_meta *m, const struct csvfs_sb *sb)
{
	uint64_t used = 0;
	uint32_t i;

	for (i = 0; i < m->nfiles; i++)
		used += m->files[i].alloc;
	return used < sb->data_end - sb->data_off ? sb->data_end - sb->data_off - used : 0;
}

static int verify_one(const struct csvfs_file *f, const struct csvfs_sb *sb, char *msg, size_t n)
{
	if (f->offset < sb->data_off || f->offset > sb->data_end ||
	    f->alloc > sb->data_end - f->offset)
		snprintf(msg, n, "file %s: extent %" PRIu64 "+%" PRIu64 " outside the data area",
			 f->name, f->offset, f->alloc);
	else if (f->offset % sb->alloc_unit || f->alloc % sb->alloc_unit || f->alloc == 0)
		snprintf(msg, n, "file %s: extent %" PRIu64 "+%" PRIu64 " not in whole units",
			 f->name, f->offset, f->alloc);
	else if (f->size > f->alloc)
		snprintf(msg, n, "file %s: size %" PRIu64 " larger than its extent %" PRIu64,
			 f->name, f->size, f->alloc);
	else
		return 0;
	return 1;
}

int csvfs_files_verify(const struct csvfs_meta *m, const struct csvfs_sb *sb,
		       void (*problem)(void *ctx, const char *msg), void *ctx)
{
	const struct csvfs_file **v = sorted(m);
	char msg[256];
	uint32_t i, j;
	int found = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < m->nfiles; i++) {
		if (verify_one(&m->files[i], sb, msg, sizeof(msg))) {
			problem(ctx, msg);
			found++;
		}
		for (j = 0; j < i; j++) {
			if (strcmp(m->files[i].name, m->files[j].name) == 0) {
				snprintf(msg, sizeof(msg), "file %s: name used twice",
					 m->files[i].name);
				problem(ctx, msg);
				found++;
			}
		}
	}
	for (i = 1; i < m->nfiles; i++) {
		if (v[i - 1]->offset + v[i - 1]->alloc > v[i]->offset) {
			snprintf(msg, sizeof(msg), "files %s and %s: extents overlap",
				 v[i - 1]->name, v[i]->name);
			problem(ctx, msg);
			found++;
		}
	}
	free(v);
	return found;
}
