/*
 * Shared by bench_csvfs and bench_sanlock: clocks, a sample set and its
 * summary line, so that both sides are timed and summarised the same way.
 *
 * Summary lines are "NAME n=N min=X median=X p95=X max=X" (milliseconds,
 * three decimals); run.sh parses them. p95 is the nearest-rank percentile.
 */
#ifndef BENCH_CSVFS_STATS_H
#define BENCH_CSVFS_STATS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_ROUNDS 10000

static inline double bench_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Wall clock in microseconds: comparable with bash's $EPOCHREALTIME. */
static inline unsigned long long bench_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000u;
}

static inline void bench_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

struct bench_samples {
	const char *name;
	size_t n;
	double v[BENCH_MAX_ROUNDS];
};

static inline void bench_add(struct bench_samples *s, double ms)
{
	if (s->n < BENCH_MAX_ROUNDS)
		s->v[s->n++] = ms;
}

static inline int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static inline void bench_print(struct bench_samples *s)
{
	double med, p95;
	size_t k;

	if (s->n == 0) {
		printf("%s n=0\n", s->name);
		return;
	}
	qsort(s->v, s->n, sizeof(s->v[0]), bench_cmp);
	med = s->n % 2 ? s->v[s->n / 2] : (s->v[s->n / 2 - 1] + s->v[s->n / 2]) / 2;
	k = (s->n * 95 + 99) / 100; /* nearest rank: ceil(0.95 n) */
	p95 = s->v[k ? k - 1 : 0];
	printf("%s n=%zu min=%.3f median=%.3f p95=%.3f max=%.3f\n", s->name, s->n, s->v[0], med,
	       p95, s->v[s->n - 1]);
	fflush(stdout);
}

/* Parse a positive count option; exits on nonsense. */
static inline unsigned bench_count(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0 || v > BENCH_MAX_ROUNDS) {
		fprintf(stderr, "bench: bad %s '%s'\n", what, s);
		exit(2);
	}
	return (unsigned)v;
}

/* Block until a line arrives on stdin (the "go" of run.sh). */
static inline int bench_wait_go(void)
{
	char line[64];

	printf("ready\n");
	fflush(stdout);
	return fgets(line, sizeof(line), stdin) ? 0 : -1;
}

#endif
