/*
 * clusterctl debug dump's archive (a .tar.gz written with libarchive) and
 * its words: the default file name, the entry names, the --json result.
 */
#ifndef CD_DUMP_ARCHIVE_H
#define CD_DUMP_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct dump_archive;

/*
 * Create path as a gzip-compressed POSIX tar archive whose entries go
 * under the directory top. Returns 0 with *out set, or -errno with err set.
 */
int dump_archive_open(struct dump_archive **out, const char *path, const char *top, char *err,
		      size_t errlen);

/* A file of size bytes named name (under top): its data follows with dump_archive_data(). */
int dump_archive_begin(struct dump_archive *a, const char *name, uint64_t size, char *err,
		       size_t errlen);
int dump_archive_data(struct dump_archive *a, const void *buf, size_t len, char *err,
		      size_t errlen);

/* A whole file at once: begin and data. */
int dump_archive_add(struct dump_archive *a, const char *name, const void *buf, size_t len,
		     char *err, size_t errlen);

/* Finish and close the file (0, or -EIO with err set); frees a. NULL is fine. */
int dump_archive_close(struct dump_archive *a, char *err, size_t errlen);

/* The default archive name for a dump at wall_ms: clusterd-dump-YYYYMMDDTHHMMSSZ.tar.gz. */
void dump_default_name(char *buf, size_t len, uint64_t wall_ms);

/*
 * What --json prints: {"archive", "nodes": [{"node", "ok", "bytes"}],
 * "missing": [NODE...]} from clusterd's summary (borrowed). A new object.
 */
struct json_object *dump_result_json(const char *archive, struct json_object *summary);

#endif
