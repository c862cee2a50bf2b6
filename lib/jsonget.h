/*
 * Typed reads of JSON object members, for the code that checks messages
 * and files where they enter.
 */
#ifndef CD_JSONGET_H
#define CD_JSONGET_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

/* The string member key of o, or NULL if absent or not a string. */
const char *cd_jget_str(const struct json_object *o, const char *key);

/*
 * A non-negative integer member: 0, -ENOENT if absent (or o is NULL), or
 * -EINVAL if not an int or negative.
 */
int cd_jget_u64(const struct json_object *o, const char *key, uint64_t *out);

/* A boolean member: 0, -ENOENT if absent (or o is NULL), or -EINVAL if not a boolean. */
int cd_jget_bool(const struct json_object *o, const char *key, bool *out);

/* A boolean member, or def if absent or not a boolean. */
bool cd_jget_bool_or(const struct json_object *o, const char *key, bool def);

#endif
