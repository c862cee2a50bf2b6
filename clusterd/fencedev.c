#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "clusterd/fencedev.h"
#include "clusterd/state.h"
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
	const char *p = d->map;
	size_t nl = strlen(node);

	if (!d->map[0]) {
		cd_strlcpy(buf, node, len);
		return buf;
	}
	while (*p) {
		size_t n = strcspn(p, ",");

		if (n > nl && strncmp(p, node, nl) == 0 && p[nl] == '=') {
			snprintf(buf, len, "%.*s", (int)(n - nl - 1), p + nl + 1);
			return buf;
		}
		p += n + (p[n] == ',');
	}
	return NULL;
}

/* --- changes --- */

#define FAIL CD_FAIL

/*
 * A fence device. The parameters are checked where they enter (the
 * submitting node parses them with the fence-agents rules); here only
 * sizes and names, so that every member accepts the same.
 */
int cd_fencedev_op_add(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *name = cd_jget_str(c, "name"), *agent = cd_jget_str(c, "agent");
	const char *params = cd_jget_str(c, "params"), *map = cd_jget_str(c, "map");
	struct cd_fencedev d, *n;

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
	if ((params && strlen(params) >= sizeof(d.params)) || (map && strlen(map) >= sizeof(d.map)))
		FAIL(CD_ERR_INVALID, "fence device parameters too long");
	if (cd_state_fencedev(s, name))
		FAIL(CD_ERR_EXISTS, "fence device '%s' exists already", name);
	if (s->n_fencedevs >= CD_MAX_FENCEDEVS)
		FAIL(CD_ERR_INVALID, "the cluster has %d fence devices already, its limit",
		     CD_MAX_FENCEDEVS);
	cd_strlcpy(d.name, name, sizeof(d.name));
	cd_strlcpy(d.agent, agent, sizeof(d.agent));
	cd_strlcpy(d.params, params ? params : "", sizeof(d.params));
	cd_strlcpy(d.map, map ? map : "", sizeof(d.map));
	n = realloc(s->fencedevs, (s->n_fencedevs + 1) * sizeof(*n));
	if (!n)
		FAIL(-ENOMEM, "out of memory");
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
	memmove(&s->fencedevs[i], &s->fencedevs[i + 1],
		(s->n_fencedevs - i - 1) * sizeof(*s->fencedevs));
	s->n_fencedevs--;
	return 0;
}
