/*
 * clusterctl's lines of text built from JSON replies (see text.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/text.h"
#include "lib/jsonget.h"

/* The member key of o if it is of type, else NULL. */
static struct json_object *typed_member(struct json_object *o, const char *key, json_type type)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

struct json_object *text_member(struct json_object *o, const char *key)
{
	return typed_member(o, key, json_type_object);
}

struct json_object *text_array(struct json_object *o, const char *key)
{
	return typed_member(o, key, json_type_array);
}

bool text_number(struct json_object *o, const char *key, double *out)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return false;
	*out = json_object_get_double(v);
	return true;
}

const char *text_or(struct json_object *o, const char *key, const char *def)
{
	const char *s = cd_jget_str(o, key);

	return s && *s ? s : def;
}

void text_append(char *buf, size_t n, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
}

const char *text_cut(char *buf, size_t width)
{
	if (width && strlen(buf) > width)
		buf[width] = '\0';
	return buf;
}

const char *text_vm_state(struct json_object *v, char *buf, size_t n)
{
	struct json_object *lost;

	if (!json_object_object_get_ex(v, "node_lost", &lost) || !json_object_get_boolean(lost))
		return text_or(v, "state", "?");
	snprintf(buf, n, "unknown (%s lost)", text_or(v, "node_name", "its node"));
	return buf;
}
