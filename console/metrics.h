/*
 * The console's metrics: what clusterd answers (status, vm.list,
 * volume.list) as Prometheus text (exposition format 0.0.4). Pure: JSON in,
 * text out, no I/O. Every name starts with "clusterd_"; each family has
 * its HELP and TYPE lines once, before its first sample, and a family with
 * no sample is left out. A missing or mistyped field leaves out the samples
 * that need it, never the rest.
 */
#ifndef CN_METRICS_H
#define CN_METRICS_H

#include <stddef.h>

#include <json-c/json.h>

/* The Content-Type of the answer. */
#define CN_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * The metrics of status (the answer to "status"; NULL when clusterd did
 * not answer: then clusterd_up is 0 and nothing else is said), vms (an
 * array of VMs as vm.list gives them, or NULL) and volumes (an array of
 * volumes as volume.list gives them, or NULL); all borrowed. Returns a new
 * NUL-terminated string (caller frees) of *len bytes, or NULL when out of
 * memory.
 */
char *cn_metrics_format(const struct json_object *status, const struct json_object *vms,
			const struct json_object *volumes, size_t *len);

/*
 * s as a label value: backslash, double quote and newline escaped (\\, \",
 * \n), into out (n bytes, truncated to fit). Returns out.
 */
char *cn_metrics_escape(const char *s, char *out, size_t n);

#endif
