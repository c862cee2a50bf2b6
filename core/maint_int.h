/*
 * What the two halves of the maintenance module share: maint.c (names,
 * JSON, look-ups) and maint_ops.c (the changes). Not for other modules.
 */
#ifndef CD_MAINT_INT_H
#define CD_MAINT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "core/maint.h"

/* The index of text in the enum of a name table, or -1 (NULL text too). */
int cd_maint_mode_index(const char *text);
int cd_maint_phase_index(const char *text);

/*
 * A hook's output as the state keeps it: at most max bytes without control
 * characters other than newline and tab (a command's output has lines).
 */
bool cd_maint_valid_output(const char *s, size_t max);

/*
 * The optional text member key of o into out (len bytes): absent is "",
 * else valid text (cd_valid_text()) that fits. Whether it was valid.
 */
bool cd_maint_text_field(const struct json_object *o, const char *key, char *out, size_t len);

/*
 * What a schedule is made of, as maintenance.add gives it and a record
 * keeps it, into m (zeroed first); absent optional members take their
 * defaults (mode live, no hooks, max_failed 1, no window, no next run).
 * 0, or CD_ERR_INVALID with err.
 */
int cd_maint_config_from_json(struct cd_maint *m, const struct json_object *o, char *err,
			      size_t errlen);

/*
 * A JSON list of 1 to CD_MAINT_NODES distinct node names into names (*n of
 * them): 0, or -1 with err. Whether the nodes exist is the caller's to check.
 */
int cd_maint_names_from_json(const struct json_object *a, char (*names)[64], size_t *n, char *err,
			     size_t errlen);

/* Where name is, or would go, in s's sorted schedules; *found whether it is there. */
size_t cd_maint_index(const struct cd_state *s, const char *name, bool *found);

#endif
