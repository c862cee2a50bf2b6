/*
 * Descriptions of a volume as JSON (json-c), for `csvfs inspect`, `lease
 * show`, `file list` and their --json output. Every function returns a new
 * reference the caller puts with json_object_put.
 *
 * Times written by hosts (last renewal, creation) are their wall clocks,
 * shown for people: csvfs never compares them with anything.
 */
#ifndef CSVFS_REPORT_H
#define CSVFS_REPORT_H

#include <json-c/json.h>

#include "csvfs/format.h"
#include "csvfs/meta.h"

/* Superblock, timing and layout. NULL on allocation failure. */
struct json_object *csvfs_report_volume(const struct csvfs_vol *v);

/* The files of m, and which copy they came from. */
struct json_object *csvfs_report_meta(const struct csvfs_meta *m);

/* Each returns 0 or -errno, *out set on success. */
int csvfs_report_hosts(struct csvfs_vol *v, struct json_object **out);
int csvfs_report_lease(struct csvfs_vol *v, uint32_t lease, int ballots, struct json_object **out);
/* Every lease that was ever acquired (or is damaged). */
int csvfs_report_leases(struct csvfs_vol *v, struct json_object **out);
/* The newest metadata (csvfs_report_meta of csvfs_meta_read). */
int csvfs_report_files(struct csvfs_vol *v, struct json_object **out);
/* Everything: volume, hosts, leases, metadata. */
int csvfs_report_inspect(struct csvfs_vol *v, struct json_object **out);

#endif
