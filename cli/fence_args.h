/*
 * clusterctl fence add: its KEY=VALUE words turned into the parameter
 * object clusterd stores (cd_fence_params_to_json(), agents/fence_proto.h).
 *
 * A secret need not travel in argv, where every local user can read it
 * (ps, /proc/PID/cmdline). For every key that names a secret (password,
 * passwd, community, ...; cd_fence_param_is_secret()) the value may be
 *     -       one line read from standard input
 *     @FILE   the one line of FILE
 * and a value given plainly earns a warning. Other keys take their value
 * as it is.
 */
#ifndef CD_FENCE_ARGS_H
#define CD_FENCE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

/*
 * The value of secret parameter key given on the command line as spec:
 * "-" reads one line from in (prompting without echo on stderr when in is a
 * terminal), "@FILE" reads FILE, which must hold one non-empty line;
 * anything else is the value itself, and then *visible is set. A trailing
 * newline is dropped. On success *value is a new string the caller frees
 * with cd_fence_wipe_free(). Returns 0, or CD_ERR_INVALID / -errno with err
 * set (never holding the secret).
 */
int cd_fence_secret_read(const char *key, const char *spec, FILE *in, char **value, bool *visible,
			 char *err, size_t errlen);

/*
 * The parameters for the n words "KEY=VALUE", secrets read as
 * cd_fence_secret_read() says (standard input for one of them at most);
 * each secret given plainly gets a warning line on warn. Each parameter is
 * checked as cd_fence_params_add() does. On success *params is a new
 * object {"KEY": "VALUE", ...} in the words' order (caller puts it).
 * Returns 0, CD_ERR_INVALID, CD_ERR_EXISTS (a key given twice) or -errno,
 * with err set.
 */
int cd_fence_args_json(const char *const *words, size_t n, FILE *in, FILE *warn,
		       struct json_object **params, char *err, size_t errlen);

#endif
