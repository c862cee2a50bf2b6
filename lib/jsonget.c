#include "config.h"

#include <errno.h>

#include "lib/jsonget.h"

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
