#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "agents/fence_proto.h"
#include "core/fencedev.h"
#include "core/fencedev_text.h"
#include "core/state.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/* --- the parameters --- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Parse one "key=value" word at *s into key and value (each NUL-terminated). */
static int parse_word(const char *text, const char **s, char *key, char *value, char *err,
		      size_t errlen)
{
	const char *p = *s, *eq = p, *end;
	size_t klen, vlen;

	while (*eq && *eq != '=' && !is_blank(*eq))
		eq++;
	if (*eq != '=' || eq == p) {
		snprintf(err, errlen, "expected key=value at character %zu",
			 (size_t)(p - text) + 1);
		return CD_ERR_INVALID;
	}
	klen = (size_t)(eq - p);
	if (klen > CD_FENCE_KEY_MAX) {
		snprintf(err, errlen, "parameter name at character %zu is too long",
			 (size_t)(p - text) + 1);
		return CD_ERR_INVALID;
	}
	p = eq + 1;
	if (*p == '\'' || *p == '"') {
		end = strchr(p + 1, *p);
		if (!end) {
			snprintf(err, errlen, "unterminated quote at character %zu",
				 (size_t)(p - text) + 1);
			return CD_ERR_INVALID;
		}
		if (end[1] && !is_blank(end[1])) {
			snprintf(err, errlen, "expected a space after the quote at character %zu",
				 (size_t)(end - text) + 1);
			return CD_ERR_INVALID;
		}
		p++;
		*s = end + 1;
	} else {
		for (end = p; *end && !is_blank(*end);)
			end++;
		*s = end;
	}
	vlen = (size_t)(end - p);
	if (vlen > CD_FENCE_VALUE_MAX) {
		snprintf(err, errlen, "the value at character %zu is longer than %d bytes",
			 (size_t)(p - text) + 1, CD_FENCE_VALUE_MAX);
		return CD_ERR_INVALID;
	}
	memcpy(key, eq - klen, klen);
	key[klen] = '\0';
	memcpy(value, p, vlen);
	value[vlen] = '\0';
	return 0;
}

static int parse_params(const char *text, struct cd_fence_params **out, char *err, size_t errlen)
{
	struct cd_fence_params *p = cd_fence_params_new();
	char key[CD_FENCE_KEY_MAX + 1], *value = malloc(CD_FENCE_VALUE_MAX + 1);
	const char *s = text;
	int rc = 0;

	*out = NULL;
	if (!p || !value) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto free_all;
	}
	for (;;) {
		while (is_blank(*s))
			s++;
		if (!*s)
			break;
		rc = parse_word(text, &s, key, value, err, errlen);
		if (rc == 0)
			rc = cd_fence_params_add(p, key, value, err, errlen);
		explicit_bzero(value, CD_FENCE_VALUE_MAX + 1);
		if (rc < 0)
			goto free_all;
	}
	*out = p;
	p = NULL;
free_all:
	free(value);
	cd_fence_params_free(p);
	return rc;
}

int cd_fencedev_params_from_text(const char *text, struct json_object **out, char *err,
				 size_t errlen)
{
	struct cd_fence_params *p;
	int rc = parse_params(text, &p, err, errlen);

	*out = NULL;
	if (rc < 0)
		return rc;
	*out = cd_fence_params_to_json(p, false);
	cd_fence_params_free(p);
	if (!*out)
		FAIL(-ENOMEM, "out of memory");
	return 0;
}

/* --- the plug map --- */

/*
 * The entry of len bytes at e into m: 0 (added, or dropped when not
 * strict), or an error for a strict parse. i counts entries from 1.
 */
static int map_entry(struct json_object *m, const char *e, size_t len, size_t i, bool strict,
		     char *err, size_t errlen)
{
	char node[CD_NAME_MAX + 1], plug[CD_FENCEDEV_PLUG_MAX + 1];
	size_t nl = strcspn(e, "="), pl;

	if (nl >= len || nl == 0 || nl > CD_NAME_MAX)
		goto bad_entry;
	memcpy(node, e, nl);
	node[nl] = '\0';
	if (!cd_valid_name(node, CD_NAME_MAX))
		goto bad_entry;
	pl = len - nl - 1;
	if (pl > CD_FENCEDEV_PLUG_MAX) {
		if (strict)
			FAIL(CD_ERR_INVALID, "the plug of node %s is longer than %d bytes", node,
			     CD_FENCEDEV_PLUG_MAX);
		pl = CD_FENCEDEV_PLUG_MAX;
	}
	memcpy(plug, e + nl + 1, pl);
	plug[pl] = '\0';
	if (strpbrk(plug, "\n\r")) {
		if (strict)
			FAIL(CD_ERR_INVALID, "the plug of node %s has a line break", node);
		return 0;
	}
	if (json_object_object_get_ex(m, node, NULL)) {
		if (strict)
			FAIL(CD_ERR_EXISTS, "node %s is given twice in the plug map", node);
		return 0;
	}
	if (json_object_object_add(m, node, json_object_new_string(plug)) < 0)
		FAIL(-ENOMEM, "out of memory");
	return 0;

bad_entry:
	if (strict)
		FAIL(CD_ERR_INVALID,
		     "plug map entry %zu is not NODE=PLUG with a node name of 1-%d of A-Z a-z "
		     "0-9 . _ -",
		     i, CD_NAME_MAX);
	return 0;
}

int cd_fencedev_map_from_text(const char *text, bool strict, struct json_object **out, char *err,
			      size_t errlen)
{
	struct json_object *m;
	const char *e = text;
	size_t i, len;
	int rc = 0;

	*out = NULL;
	if (!*text)
		return 0;
	if (strict && strlen(text) > CD_FENCEDEV_MAP_TEXT_MAX)
		FAIL(CD_ERR_INVALID, "the plug map is longer than %d bytes",
		     CD_FENCEDEV_MAP_TEXT_MAX);
	m = json_object_new_object();
	if (!m)
		FAIL(-ENOMEM, "out of memory");
	for (i = 1; rc == 0; i++) {
		len = strcspn(e, ",");
		rc = map_entry(m, e, len, i, strict, err, errlen);
		if (!e[len])
			break;
		e += len + 1;
	}
	if (rc < 0) {
		json_object_put(m);
		return rc;
	}
	*out = m;
	return 0;
}
