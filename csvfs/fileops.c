#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <clusterd/result.h>

#include "csvfs/fileops.h"
#include "csvfs/files.h"
#include "lib/util.h"

enum op_kind { OP_CREATE, OP_REMOVE, OP_RESIZE };

struct op {
	enum op_kind kind;
	const char *name;
	uint64_t size;
	struct csvfs_file *out;
	struct csvfs_busy *busy;
};

/* Whether the change needs the file's own lease: it takes space away. */
static bool needs_file_lease(const struct op *op, const struct csvfs_sb *sb, struct csvfs_meta *m)
{
	struct csvfs_file *f = csvfs_files_find(m, op->name);

	switch (op->kind) {
	case OP_CREATE:
		return false;
	case OP_REMOVE:
		return f != NULL;
	case OP_RESIZE:
		return f && csvfs_align_up(op->size, sb->alloc_unit) < f->alloc;
	}
	return true;
}

static int apply(struct csvfs_vol *v, const struct csvfs_host *h, struct csvfs_meta *m,
		 struct op *op)
{
	struct csvfs_file *f = NULL;
	int rc = CD_ERR_INVALID;

	switch (op->kind) {
	case OP_CREATE:
		rc = csvfs_files_create(m, &v->sb, op->name, op->size, h->slot, cd_wall_ms(), &f);
		break;
	case OP_REMOVE:
		rc = csvfs_files_remove(m, op->name);
		break;
	case OP_RESIZE:
		rc = csvfs_files_resize(m, &v->sb, op->name, op->size);
		f = csvfs_files_find(m, op->name);
		break;
	}
	if (rc == 0 && f && op->out)
		*op->out = *f;
	return rc;
}

/*
 * Hold lease for the change: acquire it unless h holds it already, in
 * which case it stays held afterwards (*taken = 0).
 */
static int take(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease, const char *name,
		struct csvfs_busy *busy, int *taken)
{
	struct csvfs_leader l;
	int rc = csvfs_lease_read(v, lease, &l);

	if (rc < 0 && rc != CD_ERR_CORRUPT)
		return rc;
	*taken = !(rc == 0 && csvfs_leader_is(&l, h));
	return *taken ? csvfs_lease_acquire(v, h, lease, name, 0, busy) : 0;
}

static void give_back(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease, int taken)
{
	if (taken)
		csvfs_lease_release(v, h, lease);
}

/* The change itself, with the metadata lease held. */
static int change(struct csvfs_vol *v, const struct csvfs_host *h, struct op *op)
{
	struct csvfs_meta m;
	uint32_t file_lease = 0;
	int rc, taken = 0;

	rc = csvfs_meta_init(&m, v->sb.max_files);
	if (rc < 0)
		return rc;
	rc = csvfs_meta_read(v, &m, NULL);
	if (rc < 0)
		goto out_free;
	if (needs_file_lease(op, &v->sb, &m)) {
		file_lease = csvfs_files_find(&m, op->name)->index + 1;
		rc = take(v, h, file_lease, op->name, op->busy, &taken);
		if (rc < 0)
			goto out_free;
	}
	rc = apply(v, h, &m, op);
	if (rc == 0)
		rc = csvfs_meta_write(v, h, &m);
	/* Only after the write: until then the file is there to be used. */
	if (file_lease)
		give_back(v, h, file_lease, taken);
out_free:
	csvfs_meta_free(&m);
	return rc;
}

static int run(struct csvfs_vol *v, const struct csvfs_host *h, struct op *op)
{
	int taken, rc;

	if (!cd_valid_name(op->name, CSVFS_NAME_LEN - 1))
		return CD_ERR_INVALID;
	rc = take(v, h, CSVFS_META_LEASE, CSVFS_META_LEASE_NAME, op->busy, &taken);
	if (rc < 0)
		return rc;
	rc = change(v, h, op);
	give_back(v, h, CSVFS_META_LEASE, taken);
	return rc;
}

int csvfs_file_create(struct csvfs_vol *v, const struct csvfs_host *h, const char *name,
		      uint64_t size, struct csvfs_file *out, struct csvfs_busy *busy)
{
	struct op op = {OP_CREATE, name, size, out, busy};

	return run(v, h, &op);
}

int csvfs_file_remove(struct csvfs_vol *v, const struct csvfs_host *h, const char *name,
		      struct csvfs_busy *busy)
{
	struct op op = {OP_REMOVE, name, 0, NULL, busy};

	return run(v, h, &op);
}

int csvfs_file_resize(struct csvfs_vol *v, const struct csvfs_host *h, const char *name,
		      uint64_t size, struct csvfs_file *out, struct csvfs_busy *busy)
{
	struct op op = {OP_RESIZE, name, size, out, busy};

	return run(v, h, &op);
}

int csvfs_lease_lookup(struct csvfs_vol *v, const char *name, uint32_t *lease)
{
	struct csvfs_meta m;
	struct csvfs_file *f;
	int rc;

	if (strcmp(name, CSVFS_META_LEASE_NAME) == 0) {
		*lease = CSVFS_META_LEASE;
		return 0;
	}
	rc = csvfs_meta_init(&m, v->sb.max_files);
	if (rc < 0)
		return rc;
	rc = csvfs_meta_read(v, &m, NULL);
	if (rc == 0) {
		f = csvfs_files_find(&m, name);
		if (f)
			*lease = f->index + 1;
		else
			rc = CD_ERR_NOT_FOUND;
	}
	csvfs_meta_free(&m);
	return rc;
}
