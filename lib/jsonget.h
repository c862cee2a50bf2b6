/*
 * Typed reads of JSON object members, and the parse of an object, for the
 * code that checks messages and files where they enter.
 */
#ifndef CD_JSONGET_H
#define CD_JSONGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/*
 * Parse the len bytes at text as one JSON object, as a message or snapshot
 * that enters is parsed: *out is a new object the caller puts. Returns 0,
 * -EINVAL (not a JSON object: *out NULL) or -ENOMEM.
 */
int cd_json_parse_object(const char *text, size_t len, struct json_object **out);

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
