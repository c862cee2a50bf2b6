#include "config.h"

#include <string.h>

#include "lib/histogram.h"

#define BOUNDS(name, ...)                                                                          \
	static const uint64_t name##_v[] = {__VA_ARGS__};                                          \
	const struct cd_hist_bounds name = {name##_v, sizeof(name##_v) / sizeof(name##_v[0])}

BOUNDS(cd_hist_renew_us, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
       1000000, 2500000);
BOUNDS(cd_hist_move_ms, 500, 1000, 2500, 5000, 10000, 20000, 30000, 60000, 120000, 300000, 600000);
BOUNDS(cd_hist_downtime_ms, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000);
BOUNDS(cd_hist_fence_ms, 500, 1000, 2500, 5000, 10000, 20000, 30000, 60000, 120000, 300000);

void cd_hist_init(struct cd_hist *h, const struct cd_hist_bounds *b)
{
	memset(h, 0, sizeof(*h));
	h->bounds = b;
}

void cd_hist_observe(struct cd_hist *h, uint64_t v)
{
	size_t i, n = h->bounds->n;

	/* The first bound at or above v: a value on a bound is "le" it. */
	for (i = 0; i < n && v > h->bounds->v[i]; i++)
		;
	h->bucket[i]++;
	h->count++;
	h->sum = v > UINT64_MAX - h->sum ? UINT64_MAX : h->sum + v;
}

uint64_t cd_hist_le(const struct cd_hist *h, size_t i)
{
	uint64_t c = 0;
	size_t k;

	if (i >= h->bounds->n)
		return h->count;
	for (k = 0; k <= i; k++)
		c += h->bucket[k];
	return c;
}

static struct json_object *u64(uint64_t v)
{
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

struct json_object *cd_hist_to_json(const struct cd_hist *h)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t i;

	json_object_object_add(o, "sum", u64(h->sum));
	json_object_object_add(o, "count", u64(h->count));
	for (i = 0; i < h->bounds->n; i++) {
		struct json_object *b = json_object_new_object();

		json_object_object_add(b, "le", u64(h->bounds->v[i]));
		json_object_object_add(b, "count", u64(cd_hist_le(h, i)));
		json_object_array_add(a, b);
	}
	json_object_object_add(o, "buckets", a);
	return o;
}
