/* Nearest-rank percentiles of timings, shared by the scale benchmarks. */
#ifndef BENCH_SCALE_PCT_H
#define BENCH_SCALE_PCT_H

#include <stddef.h>
#include <stdlib.h>

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (1..100) of the n values v; sorts v. 0 when n is 0. */
static inline double bench_pct(double *v, size_t n, unsigned p)
{
	size_t k;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	k = (n * p + 99) / 100;
	return v[k ? k - 1 : 0];
}

#endif
