#include "config.h"

#include <errno.h>

#include "lib/jsonget.h"

int cd_json_parse_object(const char *text, size_t len, struct json_object **out)
{
	struct json_tokener *tok = json_tokener_new();

	*out = NULL;
	if (!tok)
		return -ENOMEM;
	*out = json_tokener_parse_ex(tok, text, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success || !*out ||
	    !json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
	}
	json_tokener_free(tok);
	return *out ? 0 : -EINVAL;
}

const char *cd_jget_str(const struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int cd_jget_u64(const struct json_object *o, const char *key, uint64_t *out)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -EINVAL;
	*out = (uint64_t)json_object_get_int64(v);
	return 0;
}

int cd_jget_bool(const struct json_object *o, const char *key, bool *out)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return -ENOENT;
	if (!json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	*out = json_object_get_boolean(v);
	return 0;
}

bool cd_jget_bool_or(const struct json_object *o, const char *key, bool def)
{
	bool b;

	return cd_jget_bool(o, key, &b) == 0 ? b : def;
}
