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
#include "lib/jsonget.h"
#include "lib/util.h"

const struct cd_fencedev *cd_state_fencedev(const struct cd_state *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_fencedevs; i++)
		if (strcmp(s->fencedevs[i].name, name) == 0)
			return &s->fencedevs[i];
	return NULL;
}

const char *cd_fencedev_plug(const struct cd_fencedev *d, const char *node, char *buf, size_t len)
{
	struct json_object *plug;

	if (!d->map) {
		cd_strlcpy(buf, node, len);
		return buf;
	}
	if (!json_object_object_get_ex(d->map, node, &plug))
		return NULL;
	cd_strlcpy(buf, json_object_get_string(plug), len);
	return buf;
}

/* --- the record --- */

/* A copy of o that shares nothing with it, or NULL (no memory). */
static struct json_object *deep_copy(const struct json_object *o)
{
	struct json_object *c = NULL;

	if (json_object_deep_copy((struct json_object *)o, &c, NULL) < 0)
		return NULL;
	return c;
}

void cd_fencedev_free(struct cd_fencedev *d)
{
	json_object_put(d->params);
	json_object_put(d->map);
	d->params = d->map = NULL;
}

int cd_fencedev_copy(struct cd_fencedev *dst, const struct cd_fencedev *src)
{
	*dst = *src;
	dst->params = deep_copy(src->params);
	dst->map = src->map ? deep_copy(src->map) : NULL;
	if (!dst->params || (src->map && !dst->map)) {
		cd_fencedev_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/*
 * Deep copies: the state's objects are never shared with what a caller
 * does to the result, in this thread or another.
 */
struct json_object *cd_fencedev_to_json(const struct cd_fencedev *d)
{
	struct json_object *f = json_object_new_object();

	json_object_object_add(f, "name", json_object_new_string(d->name));
	json_object_object_add(f, "agent", json_object_new_string(d->agent));
	json_object_object_add(f, "params", deep_copy(d->params));
	if (d->map)
		json_object_object_add(f, "map", deep_copy(d->map));
	return f;
}

/* --- checks --- */

#define FAIL CD_FAIL

/* The parameters of a fence.add (NULL: none): the agent's rules, and the limit. */
static int check_params(const struct json_object *o, char *err, size_t errlen)
{
	struct cd_fence_params *p;
	char why[192];
	size_t i, text = 0;
	int rc;

	rc = cd_fence_params_from_json(o, &p, why, sizeof(why));
	if (rc < 0)
		FAIL(rc, "bad fence parameters: %s", why);
	for (i = 0; i < p->n; i++)
		text += (i ? 1 : 0) + strlen(p->v[i].key) + 1 + strlen(p->v[i].value);
	cd_fence_params_free(p);
	if (text > CD_FENCEDEV_PARAMS_TEXT_MAX)
		FAIL(CD_ERR_INVALID,
		     "fence device parameters too long (%zu bytes as key=value words, at most %d)",
		     text, CD_FENCEDEV_PARAMS_TEXT_MAX);
	return 0;
}

/* A plug map: node names to plugs the agent can read on a line. */
static int check_map(const struct json_object *m, char *err, size_t errlen)
{
	size_t text = 0, n = 0;

	if (!json_object_is_type(m, json_type_object))
		FAIL(CD_ERR_INVALID, "the plug map is not a JSON object");
	json_object_object_foreach((struct json_object *)m, node, v) {
		const char *plug = json_object_get_string(v);

		if (!cd_valid_name(node, CD_NAME_MAX))
			FAIL(CD_ERR_INVALID,
			     "bad node name in the plug map (want 1-%d of A-Z a-z 0-9 . _ -)",
			     CD_NAME_MAX);
		if (!json_object_is_type(v, json_type_string) ||
		    strlen(plug) != (size_t)json_object_get_string_len(v))
			FAIL(CD_ERR_INVALID, "the plug of node %s is not a string", node);
		if (strlen(plug) > CD_FENCEDEV_PLUG_MAX)
			FAIL(CD_ERR_INVALID, "the plug of node %s is longer than %d bytes", node,
			     CD_FENCEDEV_PLUG_MAX);
		/* A line break would end the agent's plug= line early. */
		if (strpbrk(plug, "\n\r"))
			FAIL(CD_ERR_INVALID, "the plug of node %s has a line break", node);
		text += (n++ ? 1 : 0) + strlen(node) + 1 + strlen(plug);
	}
	if (text > CD_FENCEDEV_MAP_TEXT_MAX)
		FAIL(CD_ERR_INVALID,
		     "the plug map is too long (%zu bytes as node=plug words, at most %d)", text,
		     CD_FENCEDEV_MAP_TEXT_MAX);
	return 0;
}

/* --- changes --- */

/*
 * A fence device. Every member checks the same rules on the same bytes, so
 * every member accepts the same; the submitting node checked the
 * parameters where they entered too, for a message of its own.
 */
int cd_fencedev_op_add(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *name = cd_jget_str(c, "name"), *agent = cd_jget_str(c, "agent");
	struct json_object *params = NULL, *map = NULL;
	struct cd_fencedev d, *n;
	int rc;

	memset(&d, 0, sizeof(d));
	if (!name || !cd_valid_name(name, sizeof(d.name) - 1))
		FAIL(CD_ERR_INVALID, "invalid fence device name");
	/*
	 * Every member may run the agent: a fence-agents name looked up in
	 * the PATH, or an absolute path that says plainly where it is.
	 */
	if (!agent || !(cd_valid_path_name(agent, sizeof(d.agent) - 1) ||
			cd_valid_abs_path(agent, sizeof(d.agent) - 1)))
		FAIL(CD_ERR_INVALID,
		     "invalid fence agent (a name or an absolute path of at most "
		     "%zu bytes, without . or .. components)",
		     sizeof(d.agent) - 1);
	/* Absent or null: no parameters, and no map (every node by its name). */
	json_object_object_get_ex(c, "params", &params);
	json_object_object_get_ex(c, "map", &map);
	rc = check_params(params, err, errlen);
	if (rc == 0 && map)
		rc = check_map(map, err, errlen);
	if (rc < 0)
		return rc;
	if (cd_state_fencedev(s, name))
		FAIL(CD_ERR_EXISTS, "fence device '%s' exists already", name);
	if (s->n_fencedevs >= CD_MAX_FENCEDEVS)
		FAIL(CD_ERR_INVALID, "the cluster has %d fence devices already, its limit",
		     CD_MAX_FENCEDEVS);
	cd_strlcpy(d.name, name, sizeof(d.name));
	cd_strlcpy(d.agent, agent, sizeof(d.agent));
	d.params = params ? deep_copy(params) : json_object_new_object();
	d.map = map ? deep_copy(map) : NULL;
	n = d.params && (d.map || !map) ? realloc(s->fencedevs, (s->n_fencedevs + 1) * sizeof(*n))
					: NULL;
	if (!n) {
		cd_fencedev_free(&d);
		FAIL(-ENOMEM, "out of memory");
	}
	s->fencedevs = n;
	n[s->n_fencedevs++] = d;
	return 0;
}

int cd_fencedev_op_remove(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *name = cd_jget_str(c, "name");
	const struct cd_fencedev *d = name ? cd_state_fencedev(s, name) : NULL;
	size_t i;

	if (!d)
		FAIL(CD_ERR_NOT_FOUND, "no fence device '%s'", name ? name : "");
	i = (size_t)(d - s->fencedevs);
	cd_fencedev_free(&s->fencedevs[i]);
	memmove(&s->fencedevs[i], &s->fencedevs[i + 1],
		(s->n_fencedevs - i - 1) * sizeof(*s->fencedevs));
	s->n_fencedevs--;
	return 0;
}

/* --- saved states and snapshots --- */

int cd_fencedev_from_json(struct cd_state *s, const struct json_object *o, char *err, size_t errlen)
{
	struct json_object *c = json_object_new_object();
	int rc = 0;

	if (!c)
		FAIL(-ENOMEM, "out of memory");
	/* The record as a fence.add, its old string forms converted. */
	json_object_object_foreach((struct json_object *)o, key, v) {
		struct json_object *conv = NULL;
		bool is_text = json_object_is_type(v, json_type_string);

		if (is_text && strcmp(key, "params") == 0)
			rc = cd_fencedev_params_from_text(json_object_get_string(v), &conv, err,
							  errlen);
		else if (is_text && strcmp(key, "map") == 0)
			rc = cd_fencedev_map_from_text(json_object_get_string(v), false, &conv, err,
						       errlen);
		else
			conv = json_object_get(v);
		if (rc < 0)
			break;
		json_object_object_add(c, key, conv);
	}
	if (rc == 0)
		rc = cd_fencedev_op_add(s, c, err, errlen);
	json_object_put(c);
	return rc;
}
