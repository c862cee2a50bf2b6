/*
 * The environment of the lease code: a monotonic clock, sleeping and
 * randomness. The tool uses the real one; the unit tests use a simulated
 * one (tests/sim/simsched.h) whose time is virtual, so that many
 * interleavings of several hosts run in milliseconds and the same seed
 * gives the same run.
 *
 * Times are milliseconds on one host's own clock. Values from two hosts are
 * never compared: each env may have its own origin.
 */
#ifndef CSVFS_ENV_H
#define CSVFS_ENV_H

#include <stdint.h>

struct csvfs_env {
	uint64_t (*now_ms)(void *ctx); /* CLOCK_MONOTONIC or virtual */
	void (*sleep_ms)(void *ctx, uint64_t ms);
	uint64_t (*random)(void *ctx); /* uuids, join nonces, back-off */
	void *ctx;
};

/* The real environment: CLOCK_MONOTONIC, nanosleep, getrandom. */
extern const struct csvfs_env csvfs_env_real;

static inline uint64_t csvfs_now(const struct csvfs_env *env)
{
	return env->now_ms(env->ctx);
}

static inline void csvfs_sleep(const struct csvfs_env *env, uint64_t ms)
{
	env->sleep_ms(env->ctx, ms);
}

static inline uint64_t csvfs_random(const struct csvfs_env *env)
{
	return env->random(env->ctx);
}

#endif
