#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <clusterd/result.h>

#include "agents/fence_proto.h"
#include "lib/util.h"

#define MASK "****"

const char *cd_fence_action_to_str(enum cd_fence_action a)
{
	switch (a) {
	case CD_FENCE_OFF:
		return "off";
	case CD_FENCE_ON:
		return "on";
	case CD_FENCE_REBOOT:
		return "reboot";
	case CD_FENCE_STATUS:
		return "status";
	case CD_FENCE_MONITOR:
		return "monitor";
	case CD_FENCE_LIST:
		return "list";
	case CD_FENCE_METADATA:
		return "metadata";
	}
	return "unknown";
}

int cd_fence_action_from_str(const char *s, enum cd_fence_action *a)
{
	enum cd_fence_action i;

	for (i = CD_FENCE_OFF; i <= CD_FENCE_METADATA; i++) {
		if (s && strcmp(s, cd_fence_action_to_str(i)) == 0) {
			*a = i;
			return 0;
		}
	}
	return CD_ERR_INVALID;
}

const char *cd_fence_power_to_str(enum cd_fence_power p)
{
	switch (p) {
	case CD_FENCE_POWER_UNKNOWN:
		return "unknown";
	case CD_FENCE_POWER_ON:
		return "on";
	case CD_FENCE_POWER_OFF:
		return "off";
	}
	return "unknown";
}

int cd_fence_interpret(enum cd_fence_action action, int exit_status, enum cd_fence_power *power)
{
	*power = CD_FENCE_POWER_UNKNOWN;
	switch (action) {
	case CD_FENCE_OFF:
	case CD_FENCE_ON:
	case CD_FENCE_REBOOT:
	case CD_FENCE_LIST:
	case CD_FENCE_METADATA:
		return exit_status == 0 ? 0 : -EIO;
	case CD_FENCE_STATUS:
	case CD_FENCE_MONITOR:
		/*
		 * 2 is an answer, not an error: the device was reached and says
		 * the plug is off. 1 (and anything else) means it could not tell.
		 */
		if (exit_status == 0)
			*power = CD_FENCE_POWER_ON;
		else if (exit_status == 2)
			*power = CD_FENCE_POWER_OFF;
		else
			return -EIO;
		return 0;
	}
	return -EIO;
}

int cd_fence_param_check(const char *key, const char *value, char *err, size_t errlen)
{
	if (!cd_valid_name(key, CD_FENCE_KEY_MAX)) {
		snprintf(err, errlen, "bad parameter name (want 1-%d of A-Z a-z 0-9 . _ -)",
			 CD_FENCE_KEY_MAX);
		return CD_ERR_INVALID;
	}
	/* Set by each call; a device that fixed them would be confusing. */
	if (strcmp(key, "action") == 0 || strcmp(key, "option") == 0) {
		snprintf(err, errlen, "parameter %s is set per call, not by the device", key);
		return CD_ERR_INVALID;
	}
	if (strlen(value) > CD_FENCE_VALUE_MAX) {
		snprintf(err, errlen, "the value of %s is longer than %d bytes", key,
			 CD_FENCE_VALUE_MAX);
		return CD_ERR_INVALID;
	}
	/* A newline would end the line early and smuggle in another parameter. */
	if (strpbrk(value, "\n\r")) {
		snprintf(err, errlen, "the value of %s has a line break", key);
		return CD_ERR_INVALID;
	}
	return 0;
}

bool cd_fence_param_is_secret(const char *key)
{
	/* passwd, password, snmp_priv_passwd, community, secret_key, api_token ... */
	static const char *const words[] = {"passw", "secret", "token", "community", "key"};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(key, words[i]))
			return true;
	return false;
}

struct cd_fence_params *cd_fence_params_new(void)
{
	return calloc(1, sizeof(struct cd_fence_params));
}

void cd_fence_wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void cd_fence_params_free(struct cd_fence_params *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		free(p->v[i].key);
		cd_fence_wipe_free(p->v[i].value);
	}
	free(p);
}

const char *cd_fence_params_get(const struct cd_fence_params *p, const char *key)
{
	size_t i;

	for (i = 0; p && i < p->n; i++)
		if (strcmp(p->v[i].key, key) == 0)
			return p->v[i].value;
	return NULL;
}

int cd_fence_params_add(struct cd_fence_params *p, const char *key, const char *value, char *err,
			size_t errlen)
{
	struct cd_fence_param *v;
	int rc = cd_fence_param_check(key, value, err, errlen);

	if (rc < 0)
		return rc;
	if (cd_fence_params_get(p, key)) {
		snprintf(err, errlen, "parameter %s is given twice", key);
		return CD_ERR_EXISTS;
	}
	if (p->n == CD_FENCE_PARAMS_MAX) {
		snprintf(err, errlen, "more than %d parameters", CD_FENCE_PARAMS_MAX);
		return CD_ERR_INVALID;
	}
	v = &p->v[p->n];
	v->key = strdup(key);
	v->value = strdup(value);
	if (!v->key || !v->value) {
		free(v->key);
		free(v->value);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p->n++;
	return 0;
}

int cd_fence_params_from_json(const struct json_object *o, struct cd_fence_params **out, char *err,
			      size_t errlen)
{
	struct cd_fence_params *p = cd_fence_params_new();
	int rc = 0;

	*out = NULL;
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (o && !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "the parameters are not a JSON object");
		rc = CD_ERR_INVALID;
		goto free_params;
	}
	if (o) {
		json_object_object_foreach((struct json_object *)o, key, v) {
			/* The key first: the message below names it. */
			rc = cd_fence_param_check(key, "", err, errlen);
			/* A NUL byte would cut the value short where it is used. */
			if (rc == 0 && (!json_object_is_type(v, json_type_string) ||
					strlen(json_object_get_string(v)) !=
						(size_t)json_object_get_string_len(v))) {
				snprintf(err, errlen, "the value of %s is not a string", key);
				rc = CD_ERR_INVALID;
			}
			if (rc < 0)
				goto free_params;
			rc = cd_fence_params_add(p, key, json_object_get_string(v), err, errlen);
			if (rc < 0)
				goto free_params;
		}
	}
	*out = p;
	return 0;

free_params:
	cd_fence_params_free(p);
	return rc;
}

struct json_object *cd_fence_params_to_json(const struct cd_fence_params *p, bool hide_secrets)
{
	struct json_object *o = json_object_new_object();
	size_t i;

	for (i = 0; o && p && i < p->n; i++) {
		bool hide = hide_secrets && cd_fence_param_is_secret(p->v[i].key);
		struct json_object *v = json_object_new_string(hide ? MASK : p->v[i].value);

		if (!v || json_object_object_add(o, p->v[i].key, v) < 0) {
			json_object_put(v);
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

/* Append "key=value\n" at *pos of buf (room checked by the caller). */
static void put_line(char *buf, size_t *pos, const char *key, const char *value)
{
	*pos += (size_t)sprintf(buf + *pos, "%s=%s\n", key, value);
}

int cd_fence_stdin_text(const struct cd_fence_params *p, enum cd_fence_action action,
			const char *plug, char **text, size_t *len, char *err, size_t errlen)
{
	size_t i, need = 1, pos = 0;
	char *buf;
	int rc;

	*text = NULL;
	for (i = 0; p && i < p->n; i++) {
		rc = cd_fence_param_check(p->v[i].key, p->v[i].value, err, errlen);
		if (rc < 0)
			return rc;
		need += strlen(p->v[i].key) + strlen(p->v[i].value) + 2;
	}
	if (plug && *plug) {
		rc = cd_fence_param_check("plug", plug, err, errlen);
		if (rc < 0)
			return rc;
		need += strlen("plug=\n") + strlen(plug);
	}
	need += strlen("action=\n") + strlen(cd_fence_action_to_str(action));
	buf = malloc(need);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; p && i < p->n; i++)
		put_line(buf, &pos, p->v[i].key, p->v[i].value);
	/* Last, so that they win even over an agent's own defaults. */
	put_line(buf, &pos, "action", cd_fence_action_to_str(action));
	if (plug && *plug)
		put_line(buf, &pos, "plug", plug);
	*text = buf;
	*len = pos;
	return 0;
}

/* Whether the len bytes at s are the start of a secret of p (len >= 1). */
static bool starts_secret(const char *s, size_t len, const struct cd_fence_params *p)
{
	size_t i;

	for (i = 0; p && i < p->n; i++) {
		const char *v = p->v[i].value;

		if (cd_fence_param_is_secret(p->v[i].key) && strlen(v) > len &&
		    memcmp(s, v, len) == 0)
			return true;
	}
	return false;
}

/* The length of the secret of p that starts at s, 0 if none does. */
static size_t secret_at(const char *s, size_t left, const struct cd_fence_params *p)
{
	size_t i, n, best = 0;

	for (i = 0; p && i < p->n; i++) {
		if (!cd_fence_param_is_secret(p->v[i].key))
			continue;
		n = strlen(p->v[i].value);
		if (n > 0 && n <= left && n > best && memcmp(s, p->v[i].value, n) == 0)
			best = n;
	}
	return best;
}

char *cd_fence_mask(const char *text, size_t len, bool truncated, const struct cd_fence_params *p)
{
	/* Every byte may start a masked secret: at most strlen(MASK) per byte. */
	char *out = malloc(len * strlen(MASK) + 1);
	size_t i = 0, o = 0, n;

	if (!out)
		return NULL;
	while (i < len) {
		n = secret_at(text + i, len - i, p);
		if (n == 0 && truncated && starts_secret(text + i, len - i, p))
			n = len - i;
		if (n > 0) {
			memcpy(out + o, MASK, strlen(MASK));
			o += strlen(MASK);
			i += n;
		} else {
			out[o++] = text[i] ? text[i] : ' ';
			i++;
		}
	}
	out[o] = '\0';
	return out;
}
