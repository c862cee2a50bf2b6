/* clusterctl debug dump's archive and words (dump_archive.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "cli/dump_archive.h"

struct dump_archive {
	struct archive *ar;
	char top[256];
	time_t mtime;
};

static int fail(struct dump_archive *a, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, archive_error_string(a->ar));
	return -EIO;
}

int dump_archive_open(struct dump_archive **out, const char *path, const char *top, char *err,
		      size_t errlen)
{
	struct dump_archive *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a || !(a->ar = archive_write_new())) {
		free(a);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(a->top, sizeof(a->top), "%s", top);
	a->mtime = time(NULL);
	if (archive_write_set_format_pax_restricted(a->ar) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a->ar) != ARCHIVE_OK ||
	    archive_write_open_filename(a->ar, path) != ARCHIVE_OK) {
		snprintf(err, errlen, "cannot write %s: %s", path, archive_error_string(a->ar));
		archive_write_free(a->ar);
		free(a);
		return -EIO;
	}
	*out = a;
	return 0;
}

int dump_archive_begin(struct dump_archive *a, const char *name, uint64_t size, char *err,
		       size_t errlen)
{
	struct archive_entry *e = archive_entry_new();
	char path[512];
	int rc = 0;

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/%s", a->top, name);
	archive_entry_set_pathname(e, path);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_mtime(e, a->mtime, 0);
	if (archive_write_header(a->ar, e) != ARCHIVE_OK)
		rc = fail(a, err, errlen, path);
	archive_entry_free(e);
	return rc;
}

int dump_archive_data(struct dump_archive *a, const void *buf, size_t len, char *err, size_t errlen)
{
	if (len && archive_write_data(a->ar, buf, len) != (la_ssize_t)len)
		return fail(a, err, errlen, "writing the archive");
	return 0;
}

int dump_archive_add(struct dump_archive *a, const char *name, const void *buf, size_t len,
		     char *err, size_t errlen)
{
	int rc = dump_archive_begin(a, name, len, err, errlen);

	return rc < 0 ? rc : dump_archive_data(a, buf, len, err, errlen);
}

int dump_archive_close(struct dump_archive *a, char *err, size_t errlen)
{
	int rc = 0;

	if (!a)
		return 0;
	if (archive_write_close(a->ar) != ARCHIVE_OK)
		rc = fail(a, err, errlen, "closing the archive");
	archive_write_free(a->ar);
	free(a);
	return rc;
}

void dump_default_name(char *buf, size_t len, uint64_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "clusterd-dump-%Y%m%dT%H%M%SZ.tar.gz", &tm);
}

struct json_object *dump_result_json(const char *archive, struct json_object *summary)
{
	struct json_object *o = json_object_new_object(), *nodes = json_object_new_array(),
			   *missing = json_object_new_array(), *arr, *e, *v, *n;
	size_t i;

	json_object_object_add(o, "archive", json_object_new_string(archive));
	if (json_object_object_get_ex(summary, "nodes", &arr))
		for (i = 0; i < json_object_array_length(arr); i++) {
			e = json_object_array_get_idx(arr, i);
			n = json_object_new_object();
			json_object_object_add(n, "node",
					       json_object_object_get_ex(e, "node", &v)
						       ? json_object_get(v)
						       : NULL);
			json_object_object_add(
				n, "ok",
				json_object_new_boolean(json_object_object_get_ex(e, "ok", &v) &&
							json_object_get_boolean(v)));
			json_object_object_add(
				n, "bytes",
				json_object_new_int64(json_object_object_get_ex(e, "bytes", &v)
							      ? json_object_get_int64(v)
							      : 0));
			json_object_array_add(nodes, n);
		}
	if (json_object_object_get_ex(summary, "missing", &arr))
		for (i = 0; i < json_object_array_length(arr); i++) {
			e = json_object_array_get_idx(arr, i);
			if (json_object_object_get_ex(e, "node", &v))
				json_object_array_add(missing, json_object_get(v));
		}
	json_object_object_add(o, "nodes", nodes);
	json_object_object_add(o, "missing", missing);
	return o;
}
