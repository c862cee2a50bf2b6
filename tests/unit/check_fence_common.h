/*
 * Shared by the fence tests: check_fence_proto (the fence-agents interface)
 * and check_fence (the runner). PASSWORD is the secret whose every
 * appearance in an error, a log line or an agent's reported output is a
 * failure.
 */
#ifndef CHECK_FENCE_COMMON_H
#define CHECK_FENCE_COMMON_H

#include <json-c/json.h>

#include "check_common.h"

#define PASSWORD "s3cret-Pw"

/* A JSON object from text, for parameters. Caller puts it. */
static inline struct json_object *jparse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "bad test JSON %s", text);
	return o;
}

#endif
