/* The walk every state table shares (fsm.h). */
#include "config.h"

#include <string.h>

#include "lib/fsm.h"

const void *cd_fsm_find(const void *rows, size_t n, size_t stride, int from, int ev,
			cd_fsm_guard_fn *guard, const void *ctx)
{
	const char *p = rows;
	size_t i;

	for (i = 0; i < n; i++, p += stride) {
		const struct cd_fsm_row *r = (const struct cd_fsm_row *)p;

		if (r->from == from && r->ev == ev && (!guard || guard(p, ctx)))
			return p;
	}
	return NULL;
}

const char *cd_fsm_name(const char *const *names, size_t n, int i)
{
	return i >= 0 && (size_t)i < n && names[i] ? names[i] : "unknown";
}

int cd_fsm_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s && i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}
