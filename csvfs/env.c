#include "config.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>

#include "csvfs/env.h"
#include "lib/util.h"

static uint64_t real_now(void *ctx)
{
	return cd_now_ms();
}

static void real_sleep(void *ctx, uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t real_random(void *ctx)
{
	uint64_t v = 0;

	/* getrandom on a 8-byte request does not return short once seeded. */
	while (getrandom(&v, sizeof(v), 0) < 0 && errno == EINTR)
		;
	return v;
}

const struct csvfs_env csvfs_env_real = {
	.now_ms = real_now,
	.sleep_ms = real_sleep,
	.random = real_random,
	.ctx = NULL,
};
