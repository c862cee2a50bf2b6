#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "core/journal.h"
#include "core/syncdelta.h"
#include "core/state_file.h"
#include "lib/jsonget.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/*
 * A record's header, "cdj1 <sha256> <flag> <length>\n": the checksum at
 * SUM_AT covers the bytes from SUMMED_AT to the payload's newline.
 */
#define MAGIC "cdj1 "
#define SUM_AT 5
#define SUMMED_AT 69
#define FLAG_AT 70
#define LEN_AT 72
#define HDR 81
#define PAYLOAD_MAX CD_STATE_JSON_MAX

static int sys_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags, mode);
}

const struct cd_journal_ops cd_journal_sys_ops = {
	.open = sys_open,
	.pwrite = pwrite,
	.fdatasync = fdatasync,
	.fsync = fsync,
	.ftruncate = ftruncate,
	.unlink = unlink,
	.close = close,
};

enum kind { OTHER, SNAP, SNAP_TMP, SEGMENT };

/* "snap-E-S" or "journal-E-S" into buf (n bytes), in dir if dir is set. */
static void file_name(char *buf, size_t n, const char *dir, enum kind k, struct cd_version v)
{
	snprintf(buf, n, "%s%s%s-%" PRIu64 "-%" PRIu64 "%s", dir ? dir : "", dir ? "/" : "",
		 k == SEGMENT ? "journal" : "snap", v.epoch, v.seq, k == SNAP_TMP ? ".tmp" : "");
}

/* What the file name is, and its version; only names as file_name() writes them. */
static enum kind parse_name(const char *name, struct cd_version *v)
{
	char canon[NAME_MAX + 1];
	enum kind k;
	int n = 0;

	if (sscanf(name, "snap-%" SCNu64 "-%" SCNu64 "%n", &v->epoch, &v->seq, &n) == 2 && n)
		k = strcmp(name + n, ".tmp") == 0 ? SNAP_TMP : SNAP;
	else if (sscanf(name, "journal-%" SCNu64 "-%" SCNu64 "%n", &v->epoch, &v->seq, &n) == 2 &&
		 n)
		k = SEGMENT;
	else
		return OTHER;
	file_name(canon, sizeof(canon), NULL, k, *v);
	return strcmp(canon, name) == 0 ? k : OTHER;
}

/* The payload length a header gives, or SIZE_MAX if it is not 8 hex digits. */
static size_t header_len(const char *p)
{
	char hex[9];

	memcpy(hex, p + LEN_AT, 8);
	hex[8] = '\0';
	return strspn(hex, "0123456789abcdef") == 8 ? strtoul(hex, NULL, 16) : SIZE_MAX;
}

/* The length of the intact record at p (rem bytes from p to the end), or 0. */
static size_t record_at(const char *p, size_t rem)
{
	size_t plen;
	char sum[65];

	if (rem < HDR + 1 || memcmp(p, MAGIC, SUM_AT) != 0 || p[SUMMED_AT] != ' ' ||
	    (p[FLAG_AT] != 'c' && p[FLAG_AT] != 'r') || p[FLAG_AT + 1] != ' ' || p[HDR - 1] != '\n')
		return 0;
	plen = header_len(p);
	if (plen > rem - HDR - 1 || p[HDR + plen] != '\n')
		return 0;
	cd_sha256_hex(p + SUMMED_AT, HDR - SUMMED_AT + plen + 1, sum);
	return memcmp(sum, p + SUM_AT, 64) == 0 ? HDR + plen + 1 : 0;
}

/*
 * Decode the payload of the intact record at p. *o is a new object the
 * caller puts; *change points into it. CD_ERR_CORRUPT if it is not a record.
 */
static int decode(char *p, struct json_object **o, uint32_t *sender, struct cd_version *v,
		  struct json_object **change)
{
	size_t plen = header_len(p);
	struct json_object *ver, *e, *s;
	uint64_t snd;

	p[HDR + plen] = '\0';
	*o = json_tokener_parse(p + HDR);
	p[HDR + plen] = '\n';
	if (!*o || cd_jget_u64(*o, "sender", &snd) < 0 || snd > UINT32_MAX ||
	    !json_object_object_get_ex(*o, "version", &ver) ||
	    !json_object_is_type(ver, json_type_array) || json_object_array_length(ver) != 2 ||
	    !json_object_object_get_ex(*o, "change", change) ||
	    !json_object_is_type(*change, json_type_object))
		goto bad;
	e = json_object_array_get_idx(ver, 0);
	s = json_object_array_get_idx(ver, 1);
	if (!json_object_is_type(e, json_type_int) || !json_object_is_type(s, json_type_int) ||
	    json_object_get_int64(e) < 0 || json_object_get_int64(s) < 0)
		goto bad;
	v->epoch = (uint64_t)json_object_get_int64(e);
	v->seq = (uint64_t)json_object_get_int64(s);
	*sender = (uint32_t)snd;
	return 0;
bad:
	json_object_put(*o);
	*o = NULL;
	return CD_ERR_CORRUPT;
}

/* A segment as recovery reads it. */
struct seg {
	struct cd_version start, end; /* end: after its last committed record */
	char *data;
	size_t len, good; /* bytes read; bytes of whole commits */
	bool corrupt;	  /* a bad record at bad_at has an intact one after it */
	size_t bad_at;
};

/* Find g's whole commits, its end version, and whether what follows is a torn tail. */
static void scan(struct seg *g)
{
	size_t o = 0, n, last = SIZE_MAX;
	struct json_object *obj, *change;
	const char *p, *end = g->data + g->len;
	uint32_t sender;

	g->end = g->start;
	while ((n = record_at(g->data + o, g->len - o))) {
		if (g->data[o + FLAG_AT] == 'c') {
			g->good = o + n;
			last = o;
		}
		o += n;
	}
	for (p = o < g->len ? g->data + o + 1 : end; p < end; p++) {
		p = memmem(p, (size_t)(end - p), MAGIC, SUM_AT);
		if (!p)
			break;
		if (record_at(p, (size_t)(end - p))) {
			g->corrupt = true;
			g->bad_at = o;
			return;
		}
	}
	if (last == SIZE_MAX)
		return;
	if (decode(g->data + last, &obj, &sender, &g->end, &change) < 0) {
		g->corrupt = true;
		g->bad_at = last;
		return;
	}
	json_object_put(obj);
}

/* Apply g's committed records to s, each to the version it names. */
static int replay(struct seg *g, struct cd_state *s, struct cd_journal_report *rep, char *err,
		  size_t errlen)
{
	struct json_object *o, *change;
	struct cd_version v;
	char name[64], why[256];
	uint32_t sender;
	size_t at;
	int rc;

	file_name(name, sizeof(name), NULL, SEGMENT, g->start);
	if (g->corrupt)
		FAIL(CD_ERR_CORRUPT,
		     "%s: the record at byte %zu is damaged and has intact ones after it", name,
		     g->bad_at);
	for (at = 0; at < g->good; at += HDR + header_len(g->data + at) + 1) {
		if (decode(g->data + at, &o, &sender, &v, &change) < 0)
			FAIL(CD_ERR_CORRUPT, "%s: the record at byte %zu is not a change", name,
			     at);
		rc = cd_state_replay(s, change, sender, why, sizeof(why));
		json_object_put(o);
		if (rc < 0)
			FAIL(CD_ERR_CORRUPT, "%s: the record at byte %zu does not apply: %s", name,
			     at, why);
		if (cd_version_cmp(s->version, v) != 0)
			FAIL(CD_ERR_CORRUPT,
			     "%s: the record at byte %zu leads to %" PRIu64 ".%" PRIu64
			     ", not %" PRIu64 ".%" PRIu64,
			     name, at, s->version.epoch, s->version.seq, v.epoch, v.seq);
		rep->records++;
	}
	rep->segments++;
	rep->dropped += g->len - g->good;
	return 0;
}

/*
 * The segments recovery replays after a base at version b, in order, into
 * order[]: false if they do not reach every segment newer than b that holds
 * a commit. Segments without one are skipped: a rotation that failed left
 * them, or a process died before their first commit.
 */
static bool chain(const struct seg *g, size_t n, struct cd_version b, size_t *order,
		  size_t *n_order)
{
	struct cd_version at = b;
	size_t i;

	*n_order = 0;
	for (i = 0; i < n; i++) {
		if (cd_version_cmp(g[i].start, b) < 0)
			continue;
		if (cd_version_cmp(g[i].start, at) == 0) {
			order[(*n_order)++] = i;
			at = g[i].end;
		} else if (g[i].good || g[i].corrupt) {
			return false;
		}
	}
	return true;
}

static int version_cmp_q(const void *a, const void *b)
{
	return cd_version_cmp(*(const struct cd_version *)a, *(const struct cd_version *)b);
}

static int seg_cmp_q(const void *a, const void *b)
{
	return version_cmp_q(&((const struct seg *)a)->start, &((const struct seg *)b)->start);
}

/* fsync the directory, so that the entries made in it last. */
static int sync_dir(struct cd_journal *j)
{
	int fd = j->ops->open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	if (j->ops->fsync(fd) < 0)
		rc = -errno;
	j->ops->close(fd);
	return rc;
}

/* Create the empty segment journal-<j->start> and make it last; j->fd is -1 on failure. */
static int seg_create(struct cd_journal *j, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	file_name(path, sizeof(path), j->dir, SEGMENT, j->start);
	j->off = 0;
	j->fd = j->ops->open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (j->fd < 0)
		FAIL(-errno, "creating %s: %s", path, strerror(errno));
	rc = sync_dir(j);
	if (rc < 0) {
		j->ops->close(j->fd);
		j->fd = -1;
		FAIL(rc, "syncing %s: %s", j->dir, strerror(-rc));
	}
	return 0;
}

/* Open the segment recovery ended in for appending, its torn tail cut off for good. */
static int seg_reopen(struct cd_journal *j, const struct seg *g, char *err, size_t errlen)
{
	char path[PATH_MAX];

	file_name(path, sizeof(path), j->dir, SEGMENT, g->start);
	j->start = g->start;
	j->off = (off_t)g->good;
	j->fd = j->ops->open(path, O_WRONLY | O_CLOEXEC, 0);
	if (j->fd < 0)
		FAIL(-errno, "opening %s: %s", path, strerror(errno));
	if (g->len > g->good &&
	    (j->ops->ftruncate(j->fd, j->off) < 0 || j->ops->fdatasync(j->fd) < 0))
		FAIL(-errno, "truncating %s: %s", path, strerror(errno));
	return 0;
}

/* The files in a directory, as recovery needs them. */
struct listing {
	struct cd_version *snaps; /* oldest first */
	size_t n_snaps;
	struct seg *segs; /* oldest first */
	size_t n_segs;
	bool legacy;
};

static void listing_free(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->n_segs; i++)
		free(l->segs[i].data);
	free(l->segs);
	free(l->snaps);
}

/* Room in *arr (holding n of size bytes) for one more: 0 or -ENOMEM. */
static int grow(void *arr, size_t n, size_t size)
{
	void **p = arr, *grown = realloc(*p, (n + 1) * size);

	if (!grown)
		return -ENOMEM;
	*p = grown;
	return 0;
}

static int list_dir(const char *dir, struct listing *l, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct cd_version v;
	struct dirent *de;
	enum kind k;
	size_t i;
	int rc = 0;
	DIR *d;

	memset(l, 0, sizeof(*l));
	d = opendir(dir);
	if (!d)
		FAIL(-errno, "reading %s: %s", dir, strerror(errno));
	while (rc == 0 && (de = readdir(d))) {
		k = parse_name(de->d_name, &v);
		l->legacy |= strcmp(de->d_name, CD_JOURNAL_LEGACY) == 0;
		if (k == SNAP && (rc = grow(&l->snaps, l->n_snaps, sizeof(*l->snaps))) == 0)
			l->snaps[l->n_snaps++] = v;
		if (k == SEGMENT && (rc = grow(&l->segs, l->n_segs, sizeof(*l->segs))) == 0)
			l->segs[l->n_segs++] = (struct seg){.start = v};
	}
	closedir(d);
	if (rc < 0)
		FAIL(rc, "out of memory");
	if (l->n_snaps)
		qsort(l->snaps, l->n_snaps, sizeof(*l->snaps), version_cmp_q);
	if (l->n_segs)
		qsort(l->segs, l->n_segs, sizeof(*l->segs), seg_cmp_q);
	for (i = 0; i < l->n_segs; i++) {
		file_name(path, sizeof(path), dir, SEGMENT, l->segs[i].start);
		rc = cd_read_file(path, &l->segs[i].data, &l->segs[i].len);
		if (rc < 0)
			FAIL(rc, "reading %s: %s", path, strerror(-rc));
		scan(&l->segs[i]);
	}
	return 0;
}

/*
 * Load the base to replay from: the newest snapshot that loads and whose
 * chain covers, else the legacy file, else the empty state (only where
 * nothing else was ever written, or journal-0-0 holds the whole history).
 * Fills order[] with the chain.
 */
static int load_base(const char *dir, const struct listing *l, struct cd_state *s,
		     struct cd_journal_report *rep, size_t *order, size_t *n_order, char *err,
		     size_t errlen)
{
	struct cd_version zero = {0, 0};
	char path[PATH_MAX];
	size_t i;
	int rc = CD_ERR_CORRUPT;

	snprintf(err, errlen, "no snapshot in %s has the journal that follows it", dir);
	for (i = l->n_snaps; i-- > 0;) {
		cd_state_free(s);
		file_name(path, sizeof(path), dir, SNAP, l->snaps[i]);
		if (!chain(l->segs, l->n_segs, l->snaps[i], order, n_order)) {
			snprintf(err, errlen, "%s: its journal does not reach the newest segment",
				 path);
			rc = CD_ERR_CORRUPT;
		} else if ((rc = cd_state_file_load(path, s, err, errlen)) == 0 &&
			   cd_version_cmp(s->version, l->snaps[i]) != 0) {
			snprintf(err, errlen, "%s holds another version", path);
			rc = CD_ERR_CORRUPT;
		}
		if (rc == 0) {
			rep->base = l->snaps[i];
			return 0;
		}
		if (rc == CD_ERR_VERSION) /* from a newer clusterd: so may its records be */
			return rc;
		if (rep->skipped++ == 0)
			cd_strlcpy(rep->skip_reason, err, sizeof(rep->skip_reason));
	}
	cd_state_free(s);
	if (l->legacy) {
		snprintf(path, sizeof(path), "%s/%s", dir, CD_JOURNAL_LEGACY);
		rc = cd_state_file_load(path, s, err, errlen);
		if (rc == 0 && !chain(l->segs, l->n_segs, s->version, order, n_order)) {
			snprintf(err, errlen, "%s: the journal does not follow it", path);
			rc = CD_ERR_CORRUPT;
		}
		rep->migrated = rc == 0;
		rep->base = s->version;
		if (rc < 0)
			cd_state_free(s);
		return rc;
	}
	cd_state_init(s);
	if ((l->n_snaps == 0 || (l->n_segs && !cd_version_cmp(l->segs[0].start, zero))) &&
	    chain(l->segs, l->n_segs, zero, order, n_order))
		return 0;
	return rc;
}

int cd_journal_open(struct cd_journal *j, const char *dir, struct cd_state *out,
		    struct cd_journal_report *rep, char *err, size_t errlen)
{
	struct listing l;
	size_t *order = NULL, n_order = 0, i;
	int rc;

	memset(j, 0, sizeof(*j));
	memset(rep, 0, sizeof(*rep));
	cd_state_init(out);
	j->ops = &cd_journal_sys_ops;
	j->fd = -1;
	if (strlen(dir) > PATH_MAX - 64)
		FAIL(-ENAMETOOLONG, "%s: name too long", dir);
	rc = cd_mkdir_p(dir, 0700);
	if (rc < 0)
		FAIL(rc, "creating %s: %s", dir, strerror(-rc));
	j->dir = strdup(dir);
	if (!j->dir)
		FAIL(-ENOMEM, "out of memory");
	rc = list_dir(dir, &l, err, errlen);
	if (rc == 0 && !(order = calloc(l.n_segs + 1, sizeof(*order))))
		rc = -ENOMEM;
	if (rc == 0)
		rc = load_base(dir, &l, out, rep, order, &n_order, err, errlen);
	for (i = 0; rc == 0 && i < n_order; i++) {
		rc = replay(&l.segs[order[i]], out, rep, err, errlen);
		if (i + 1 < n_order)
			j->old_bytes += l.segs[order[i]].good;
	}
	j->last = out->version;
	j->start = rep->base;
	/* The legacy state becomes the first snapshot, so that a journal can follow it. */
	if (rc == 0 && rep->migrated)
		rc = cd_journal_write_snapshot(dir, out, err, errlen);
	if (rc == 0 && n_order)
		rc = seg_reopen(j, &l.segs[order[n_order - 1]], err, errlen);
	else if (rc == 0)
		rc = seg_create(j, err, errlen);
	/* Finish a compaction the process died in. */
	if (rc == 0 && (l.n_snaps || rep->migrated))
		cd_journal_compacted(j, rep->base);
	listing_free(&l);
	free(order);
	if (rc < 0) {
		cd_journal_close(j);
		cd_state_free(out);
		cd_state_init(out);
	}
	return rc;
}

int cd_journal_append(struct cd_journal *j, const struct json_object *change, uint32_t sender,
		      struct cd_version after)
{
	const char *body = json_object_to_json_string_ext((struct json_object *)change,
							  JSON_C_TO_STRING_PLAIN);
	size_t need = strlen(body) + 96, plen;
	char *rec, *grown, hdr[HDR + 1];

	if (cd_version_cmp(after, j->last) <= 0)
		return -EINVAL;
	if (need > PAYLOAD_MAX)
		return -EMSGSIZE;
	if (j->len + HDR + need > j->cap) {
		grown = realloc(j->buf, (j->len + HDR + need) * 2);
		if (!grown)
			return -ENOMEM;
		j->buf = grown;
		j->cap = (j->len + HDR + need) * 2;
	}
	/* The checksum and the flag are set at commit, when the last record is known. */
	rec = j->buf + j->len;
	plen = (size_t)snprintf(rec + HDR, need,
				"{\"sender\":%" PRIu32 ",\"version\":[%" PRIu64 ",%" PRIu64
				"],\"change\":%s}",
				sender, after.epoch, after.seq, body);
	snprintf(hdr, sizeof(hdr), "%s%064d r %08zx\n", MAGIC, 0, plen);
	memcpy(rec, hdr, HDR);
	rec[HDR + plen] = '\n';
	j->len += HDR + plen + 1;
	j->last = after;
	return 0;
}

/* Flag each buffered record ('c' on the last) and checksum it. */
static void seal(struct cd_journal *j)
{
	size_t at, n;
	char sum[65];

	for (at = 0; at < j->len; at += n) {
		n = HDR + header_len(j->buf + at) + 1;
		j->buf[at + FLAG_AT] = at + n == j->len ? 'c' : 'r';
		cd_sha256_hex(j->buf + at + SUMMED_AT, n - SUMMED_AT, sum);
		memcpy(j->buf + at + SUM_AT, sum, 64);
	}
}

int cd_journal_commit(struct cd_journal *j, char *err, size_t errlen)
{
	char name[64];
	size_t done = 0;
	ssize_t n;
	int rc = 0;

	if (!j->len)
		return 0;
	if (j->fd < 0 && (rc = seg_create(j, err, errlen)) < 0)
		return rc;
	seal(j);
	while (rc == 0 && done < j->len) {
		n = j->ops->pwrite(j->fd, j->buf + done, j->len - done, j->off + (off_t)done);
		if (n < 0 && errno != EINTR)
			rc = -errno;
		else if (n == 0)
			rc = -EIO;
		else if (n > 0)
			done += (size_t)n;
	}
	if (rc == 0 && j->ops->fdatasync(j->fd) < 0)
		rc = -errno;
	if (rc < 0) {
		/*
		 * No half record for the next commit to follow. Should the
		 * truncation fail too, the next commit writes the same
		 * records over the same bytes, and more.
		 */
		j->ops->ftruncate(j->fd, j->off);
		file_name(name, sizeof(name), NULL, SEGMENT, j->start);
		FAIL(rc, "writing %s/%s: %s", j->dir, name, strerror(-rc));
	}
	j->off += (off_t)j->len;
	j->len = 0;
	return 0;
}

/* Leave the current segment for journal-v, created now or at the next commit. */
static int switch_segment(struct cd_journal *j, struct cd_version v, char *err, size_t errlen)
{
	if (j->fd >= 0)
		j->ops->close(j->fd);
	j->old_bytes += (size_t)j->off;
	j->start = v;
	return seg_create(j, err, errlen);
}

int cd_journal_snapshot(struct cd_journal *j, const struct cd_state *s, char *err, size_t errlen)
{
	struct cd_version v = s->version;
	int rc;

	if (cd_version_cmp(v, j->last) < 0)
		FAIL(-EINVAL, "the state at %" PRIu64 ".%" PRIu64 " is older than the journal",
		     v.epoch, v.seq);
	rc = cd_journal_write_snapshot(j->dir, s, err, errlen);
	if (rc < 0)
		return rc;
	/* s holds what is buffered: the snapshot made it durable. */
	j->len = 0;
	j->last = v;
	if (cd_version_cmp(v, j->start) != 0 || j->fd < 0)
		rc = switch_segment(j, v, err, errlen);
	cd_journal_compacted(j, v);
	return rc;
}

int cd_journal_rotate(struct cd_journal *j, struct cd_version v, char *err, size_t errlen)
{
	if (j->len)
		FAIL(-EBUSY, "records not committed yet");
	if (cd_version_cmp(v, j->last) != 0)
		FAIL(-EINVAL, "%" PRIu64 ".%" PRIu64 " is not the journal's version", v.epoch,
		     v.seq);
	if (cd_version_cmp(v, j->start) == 0 && j->fd >= 0)
		return 0;
	return switch_segment(j, v, err, errlen);
}

int cd_journal_write_snapshot(const char *dir, const struct cd_state *s, char *err, size_t errlen)
{
	char path[PATH_MAX];

	file_name(path, sizeof(path), dir, SNAP, s->version);
	return cd_state_file_save(path, s, err, errlen);
}

int cd_journal_compacted(struct cd_journal *j, struct cd_version v)
{
	char path[PATH_MAX];
	struct cd_version fv;
	struct dirent *de;
	enum kind k;
	int rc = 0, c;
	DIR *d;

	d = opendir(j->dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		fv = (struct cd_version){0, 0};
		k = parse_name(de->d_name, &fv);
		c = cd_version_cmp(fv, v);
		if (strcmp(de->d_name, CD_JOURNAL_LEGACY) != 0 &&
		    !((k == SNAP || k == SEGMENT) && c < 0) && !(k == SNAP_TMP && c <= 0))
			continue;
		if (k == SEGMENT && cd_version_cmp(fv, j->start) == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", j->dir, de->d_name);
		if (j->ops->unlink(path) < 0 && rc == 0)
			rc = -errno;
	}
	closedir(d);
	if (cd_version_cmp(v, j->start) == 0)
		j->old_bytes = 0;
	return rc;
}

size_t cd_journal_bytes(const struct cd_journal *j)
{
	return j->old_bytes + (size_t)j->off;
}

void cd_journal_close(struct cd_journal *j)
{
	if (j->fd >= 0 && j->ops)
		j->ops->close(j->fd);
	j->fd = -1;
	free(j->dir);
	free(j->buf);
	j->dir = NULL;
	j->buf = NULL;
	j->len = j->cap = 0;
}
