/*
 * The fence-agents interface, without any I/O: device parameters, the text
 * an agent reads on stdin, and what its exit code means for each action.
 *
 * Agents (fence_ipmilan, fence_lab, ...) read "key=value" lines on stdin,
 * one per parameter; the last value of a key wins. They answer with their
 * exit code: 0 is success, and "status" says 0 for a plug that is on, 2 for
 * one that is off, anything else for an error. See ClusterLabs fence-agents,
 * doc/FenceAgentAPI.md.
 *
 * Parameters may hold secrets (password=). Their values are never put in an
 * error message here, and are wiped from memory when freed.
 */
#ifndef CD_FENCE_PROTO_H
#define CD_FENCE_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

enum cd_fence_action {
	CD_FENCE_OFF,	   /* power the node off; 0 means it is confirmed off */
	CD_FENCE_ON,	   /* power it on */
	CD_FENCE_REBOOT,   /* off then on; 0 means the off part worked */
	CD_FENCE_STATUS,   /* 0: on, 2: off, else the device could not tell */
	CD_FENCE_MONITOR,  /* is the device reachable (2: single plug, off) */
	CD_FENCE_LIST,	   /* the plugs of a multi-plug device, on stdout */
	CD_FENCE_METADATA, /* the agent's XML description, on stdout */
};
const char *cd_fence_action_to_str(enum cd_fence_action a);
/* Returns 0 and sets *a, or CD_ERR_INVALID for an unknown action. */
int cd_fence_action_from_str(const char *s, enum cd_fence_action *a);

enum cd_fence_power {
	CD_FENCE_POWER_UNKNOWN, /* not asked (not status or monitor), or no answer */
	CD_FENCE_POWER_ON,
	CD_FENCE_POWER_OFF,
};
const char *cd_fence_power_to_str(enum cd_fence_power p);

/*
 * What an agent's exit code means for action: 0 for success (for status and
 * monitor both "on" and "off" are answers, reported in *power), -EIO for a
 * failure the agent reported (worth a retry).
 */
int cd_fence_interpret(enum cd_fence_action action, int exit_status, enum cd_fence_power *power);

/* Limits on what a device's parameters may be. */
#define CD_FENCE_KEY_MAX 64
#define CD_FENCE_VALUE_MAX 4096
#define CD_FENCE_PARAMS_MAX 64

struct cd_fence_param {
	char *key;
	char *value;
};

/* A device's parameters, in order. */
struct cd_fence_params {
	size_t n;
	struct cd_fence_param v[CD_FENCE_PARAMS_MAX];
};

/*
 * Check one parameter: the key is 1..CD_FENCE_KEY_MAX of [A-Za-z0-9._-]
 * (so no "=", space or newline) and not "action" or "option", which each
 * call sets; the value has no newline or carriage return and at most
 * CD_FENCE_VALUE_MAX bytes. Returns 0 or CD_ERR_INVALID with err set (the
 * message names the key, never the value).
 */
int cd_fence_param_check(const char *key, const char *value, char *err, size_t errlen);

/* Whether key names a secret (password, passwd, community, ...). */
bool cd_fence_param_is_secret(const char *key);

/* A new empty set. Caller frees with cd_fence_params_free(). NULL: no memory. */
struct cd_fence_params *cd_fence_params_new(void);

/* Wipes the values and frees p. Accepts NULL. */
void cd_fence_params_free(struct cd_fence_params *p);

/*
 * Check key and value and append copies of them. A key given twice is an
 * error (it is a mistake in a device's configuration, not an override).
 * Returns 0, CD_ERR_INVALID (err set), CD_ERR_EXISTS, or -ENOMEM.
 */
int cd_fence_params_add(struct cd_fence_params *p, const char *key, const char *value, char *err,
			size_t errlen);

/* The value of key, or NULL. */
const char *cd_fence_params_get(const struct cd_fence_params *p, const char *key);

/*
 * The set for o, the form a device's parameters are stored in: a JSON
 * object {"key": "value", ...}, whose members json-c keeps in their order
 * (so the agent reads them in the order they were given). NULL is no
 * parameters. Each member is checked as cd_fence_params_add() does. On
 * success *out is a new set the caller frees with cd_fence_params_free().
 * Returns 0, or CD_ERR_INVALID (not an object, a value that is not a
 * string, a bad key or value, too many) or -ENOMEM, with err set (keys
 * only, never a value).
 */
int cd_fence_params_from_json(const struct json_object *o, struct cd_fence_params **out, char *err,
			      size_t errlen);

/*
 * p (may be NULL) as a JSON object, in its order; with hide_secrets every
 * secret value (cd_fence_param_is_secret()) is "****". Returns a new object
 * (caller puts it), or NULL when out of memory.
 */
struct json_object *cd_fence_params_to_json(const struct cd_fence_params *p, bool hide_secrets);

/*
 * The text an agent reads on stdin: every parameter of p (may be NULL) as a
 * "key=value" line, then "action=ACTION" and, when plug is neither NULL nor
 * empty, "plug=PLUG". On success *text is a new buffer of *len bytes
 * (NUL-terminated) that holds secrets: the caller frees it with
 * cd_fence_wipe_free(). Returns 0, CD_ERR_INVALID (a bad parameter or plug;
 * err set) or -ENOMEM.
 */
int cd_fence_stdin_text(const struct cd_fence_params *p, enum cd_fence_action action,
			const char *plug, char **text, size_t *len, char *err, size_t errlen);

/* Zero s and free it. Accepts NULL. */
void cd_fence_wipe_free(char *s);

/*
 * A copy of len bytes of text (NUL bytes become spaces) with every secret
 * value of p replaced by "****". When the text was cut short (truncated),
 * a tail that begins a secret is replaced too, so no part of a secret is
 * left. Caller frees the result; NULL: no memory.
 */
char *cd_fence_mask(const char *text, size_t len, bool truncated, const struct cd_fence_params *p);

#endif
