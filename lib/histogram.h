/*
 * A Prometheus histogram with fixed bucket bounds: how many observations
 * fell at or below each bound (Prometheus's "le"), above every bound
 * (+Inf), their sum and their count. Values are whole numbers in the
 * unit of the bounds (microseconds, milliseconds). Pure and without
 * locks: the caller serialises. The bound sets the metrics use are here,
 * each with its reason, so that clusterd and the man page say the same.
 */
#ifndef CD_HISTOGRAM_H
#define CD_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define CD_HIST_MAX_BOUNDS 16

/* Ascending bucket bounds, in the unit of the values; static, never freed. */
struct cd_hist_bounds {
	const uint64_t *v;
	size_t n; /* 1..CD_HIST_MAX_BOUNDS */
};

struct cd_hist {
	const struct cd_hist_bounds *bounds; /* borrowed */
	/* Per bucket, not cumulative: [i] counts bounds->v[i-1] < x <= v[i]; [n] above all. */
	uint64_t bucket[CD_HIST_MAX_BOUNDS + 1];
	uint64_t sum, count;
};

/*
 * Host-lease renewals, in microseconds: one O_DIRECT write and read of a
 * sector, well under a millisecond on a healthy LUN, tens of ms on a busy
 * one; past a second the lease's margin shrinks. 0.25 ms to 2.5 s.
 */
extern const struct cd_hist_bounds cd_hist_renew_us;

/*
 * Whole moves (live, quick, cold), in milliseconds: seconds for a small
 * VM, minutes for a large one copied while it writes. 0.5 s to 10 min.
 */
extern const struct cd_hist_bounds cd_hist_move_ms;

/*
 * A move's downtime, in milliseconds: tens to hundreds of ms for a live
 * move (its downtime limit), seconds for a quick one (save and restore).
 * 10 ms to 60 s.
 */
extern const struct cd_hist_bounds cd_hist_downtime_ms;

/*
 * A power fencing, in milliseconds: a fence agent's login, power off and
 * confirmation, with its retries. 0.5 s to 5 min.
 */
extern const struct cd_hist_bounds cd_hist_fence_ms;

/* h empty, with bounds b (borrowed). */
void cd_hist_init(struct cd_hist *h, const struct cd_hist_bounds *b);

/* Count one observation of v. The sum saturates instead of wrapping. */
void cd_hist_observe(struct cd_hist *h, uint64_t v);

/*
 * The observations at or below bound i, cumulative as Prometheus's
 * _bucket; i == bounds->n (or more) is +Inf: the count.
 */
uint64_t cd_hist_le(const struct cd_hist *h, size_t i);

/*
 * h as a new object (caller puts): {"sum", "count", "buckets": [{"le",
 * "count"}, ...]}, the buckets cumulative and without +Inf (it is
 * "count"), le in the unit of the values.
 */
struct json_object *cd_hist_to_json(const struct cd_hist *h);

#endif
