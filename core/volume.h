/*
 * Cluster shared volumes in the replicated state: which csvfs volumes the
 * cluster uses, a mirror of each volume's files (the volume's metadata on
 * disk is the truth; its coordinator mirrors it here after every change),
 * and the file requests waiting for the coordinator. Pure: no I/O.
 *
 * A file request is a change (volume.request) every member records; the
 * volume's coordinator, the holder of its metadata lease, carries it out on
 * the disk and answers with volume.done, which also carries the new file
 * list. A request outlives the death of the coordinator that took it: the
 * next one finds it in the state.
 */
#ifndef CD_VOLUME_H
#define CD_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define CD_VOL_MAX_REQUESTS 64
#define CD_VOL_MAX_RESULTS 64
#define CD_VOL_DEVICE_MAX 255
#define CD_VOL_ERROR_MAX 127

/*
 * What the csvfs format allows (csvfs/format.h, csvfs/files.c; volmgr.c
 * checks that the numbers agree). The state does not know a volume's size,
 * so a file's extent is checked against these: whole allocation units,
 * never at offset 0 (the superblock is there), not overlapping another
 * file's, and ending where a loop device (a signed 64-bit offset) can
 * reach.
 */
#define CD_VOL_MAX_HOSTS 64u
#define CD_VOL_MAX_FILES 4096u
#define CD_VOL_ALLOC_UNIT (1u << 20)
#define CD_VOL_FILE_SIZE_MAX (UINT64_C(1) << 60)
#define CD_VOL_EXTENT_END_MAX ((uint64_t)INT64_MAX)

/* The largest JSON of a volume record (see the arithmetic in state.h). */
#define CD_VFILE_JSON_MAX 256
#define CD_VREQ_JSON_MAX 256
#define CD_VRESULT_JSON_MAX 1024
#define CD_VOLUME_JSON_MAX                                                                         \
	(CD_VOL_MAX_FILES * CD_VFILE_JSON_MAX + CD_VOL_MAX_REQUESTS * CD_VREQ_JSON_MAX +           \
	 CD_VOL_MAX_RESULTS * CD_VRESULT_JSON_MAX + 4096)

struct cd_vfile {
	char name[64];
	uint32_t index; /* its lease is index + 1 */
	uint64_t size;
	uint64_t offset;
	uint64_t alloc;
	uint64_t generation;
};

enum cd_vreq_op {
	CD_VREQ_CREATE,
	CD_VREQ_REMOVE,
	CD_VREQ_RESIZE,
};
const char *cd_vreq_op_to_str(enum cd_vreq_op op);

struct cd_vreq {
	uint64_t id; /* chosen at random by the requester */
	uint32_t node;
	enum cd_vreq_op op;
	char file[64];
	uint64_t size;
};

struct cd_vresult {
	uint64_t id;
	int rc;
	char error[CD_VOL_ERROR_MAX + 1];
};

struct cd_volume {
	char name[64];
	char device[CD_VOL_DEVICE_MAX + 1]; /* the same path on every node */
	char uuid[40];
	uint32_t hosts;
	uint32_t expiry_ms;
	uint32_t renewal_ms;
	uint32_t coordinator; /* node holding the metadata lease, as it said; 0 none */
	uint64_t meta_generation;
	struct cd_vfile *files;
	size_t n_files;
	struct cd_vreq reqs[CD_VOL_MAX_REQUESTS];
	size_t n_reqs;
	struct cd_vresult results[CD_VOL_MAX_RESULTS]; /* newest last */
	size_t n_results;
};

struct cd_state;

typedef int cd_volume_op_fn(struct cd_state *s, const struct json_object *c, char *err,
			    size_t errlen);
cd_volume_op_fn cd_volume_op_add, cd_volume_op_remove, cd_volume_op_request, cd_volume_op_done,
	cd_volume_op_coordinator;

const struct cd_volume *cd_state_volume(const struct cd_state *s, const char *name);
const struct cd_vresult *cd_volume_result(const struct cd_volume *v, uint64_t id);
const struct cd_vfile *cd_volume_file(const struct cd_volume *v, const char *name);

void cd_volume_free(struct cd_volume *v);
int cd_volume_copy(struct cd_volume *dst, const struct cd_volume *src);
struct json_object *cd_volume_to_json(const struct cd_volume *v);
struct json_object *cd_vfile_to_json(const struct cd_vfile *f);

/*
 * A volume record, checked as volume.add, volume.request and volume.done
 * check theirs. 0, or CD_ERR_CORRUPT (or -ENOMEM) with err set; v is left
 * empty on failure.
 */
int cd_volume_from_json(struct cd_volume *v, const struct json_object *o, char *err, size_t errlen);

/* One file by the rules above (not against the others). 0 or CD_ERR_INVALID with err set. */
int cd_vfile_check(const struct cd_vfile *f, char *err, size_t errlen);

/*
 * A file list as volume.done carries it, checked: at most CD_VOL_MAX_FILES
 * files with distinct path names and indexes, extents by the rules above.
 * On success *files is a new array (the caller frees it) of *n files.
 * Returns 0, CD_ERR_INVALID with err set, or -ENOMEM.
 */
int cd_vfiles_from_json(const struct json_object *a, struct cd_vfile **files, size_t *n, char *err,
			size_t errlen);

#endif
