#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/wdrule.h"
#include "lib/util.h"

static struct cd_wd_vol *find(struct cd_wd_rule *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->vol[i].name, name) == 0)
			return &r->vol[i];
	return NULL;
}

static void drop(struct cd_wd_rule *r, struct cd_wd_vol *v)
{
	*v = r->vol[--r->n];
}

int cd_wd_apply(struct cd_wd_rule *r, const char *msg, size_t len)
{
	char buf[CD_WD_MSG_MAX + 1], name[64];
	uint64_t gen, kill_at, hard_at;
	struct cd_wd_vol *v;
	int used = 0;

	if (len == 0 || len > CD_WD_MSG_MAX)
		return CD_ERR_INVALID;
	memcpy(buf, msg, len);
	buf[len] = '\0';
	if (strcmp(buf, "D") == 0) {
		r->disarmed = true;
		r->n = 0;
		return 0;
	}
	if (sscanf(buf, "L %63s %" SCNu64 " %" SCNu64 " %" SCNu64 "%n", name, &gen, &kill_at,
		   &hard_at, &used) == 4 &&
	    (size_t)used == len && cd_valid_name(name, 63) && kill_at && kill_at <= hard_at) {
		v = find(r, name);
		if (!v) {
			if (r->n == CD_WD_MAX_VOLS)
				return CD_ERR_INVALID;
			v = &r->vol[r->n++];
			cd_strlcpy(v->name, name, sizeof(v->name));
		} else if (gen < v->generation) {
			return 0; /* a late word about an incarnation already replaced */
		}
		v->generation = gen;
		v->kill_at = kill_at;
		v->hard_at = hard_at;
		r->disarmed = false;
		return 0;
	}
	if (sscanf(buf, "C %63s %" SCNu64 "%n", name, &gen, &used) == 2 && (size_t)used == len &&
	    cd_valid_name(name, 63)) {
		v = find(r, name);
		/* Only that incarnation: a newer one may already protect VMs. */
		if (v && v->generation == gen)
			drop(r, v);
		return 0;
	}
	return CD_ERR_INVALID;
}

const struct cd_wd_vol *cd_wd_due(const struct cd_wd_rule *r, uint64_t now)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (now >= r->vol[i].kill_at)
			return &r->vol[i];
	return NULL;
}

void cd_wd_clear(struct cd_wd_rule *r)
{
	r->n = 0;
}

bool cd_wd_may_pet(const struct cd_wd_rule *r, uint64_t now, uint64_t timeout_ms)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (now + timeout_ms > r->vol[i].hard_at)
			return false;
	return true;
}

uint64_t cd_wd_next(const struct cd_wd_rule *r)
{
	uint64_t m = UINT64_MAX;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->vol[i].kill_at < m)
			m = r->vol[i].kill_at;
	return m;
}

static size_t fit(int n, size_t cap)
{
	return n > 0 && (size_t)n < cap && (size_t)n <= CD_WD_MSG_MAX ? (size_t)n : 0;
}

size_t cd_wd_fmt_lease(char *buf, size_t n, const char *vol, uint64_t gen, uint64_t kill_at,
		       uint64_t hard_at)
{
	return fit(snprintf(buf, n, "L %s %" PRIu64 " %" PRIu64 " %" PRIu64, vol, gen, kill_at,
			    hard_at),
		   n);
}

size_t cd_wd_fmt_clear(char *buf, size_t n, const char *vol, uint64_t gen)
{
	return fit(snprintf(buf, n, "C %s %" PRIu64, vol, gen), n);
}
