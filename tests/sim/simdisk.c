#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/simdisk.h"

#define MAX_VIEWS 16

struct sim_view {
	struct csvfs_disk base;
	struct csvfs_simdisk *d;
	struct csvfs_sim_faults f;
	int crashed;
	uint64_t writes;
};

struct csvfs_simdisk {
	uint8_t *data;
	uint64_t size;
	uint32_t sector_size;
	struct csvfs_sched *sched;
	struct csvfs_sched *own_sched; /* without one: a scheduler for its PRNG only */
	struct sim_view *views[MAX_VIEWS];
	int nviews;
};

static uint64_t sim_rand(struct csvfs_simdisk *d)
{
	return csvfs_sched_rand(d->sched);
}

static int chance(struct csvfs_simdisk *d, unsigned pct)
{
	return pct && sim_rand(d) % 100 < pct;
}

static void point(struct csvfs_simdisk *d)
{
	csvfs_sched_yield(d->sched);
}

/* Where a request starts: a scheduling point, and its latency. */
static void start(struct sim_view *v)
{
	point(v->d);
	if (v->f.delay_ms)
		csvfs_sched_sleep(v->d->sched, sim_rand(v->d) % (v->f.delay_ms + 1u));
}

static int sim_read(struct csvfs_disk *disk, uint64_t off, void *buf, size_t len)
{
	struct sim_view *v = (struct sim_view *)disk;
	struct csvfs_simdisk *d = v->d;
	uint32_t ss = d->sector_size;
	uint8_t *old;
	size_t i;

	start(v);
	if (v->crashed)
		return -EIO;
	old = malloc(len);
	if (!old)
		return -ENOMEM;
	memcpy(old, d->data + off, len);
	/* Writes from other hosts may land while this read is in flight. */
	point(d);
	for (i = 0; i < len; i += ss) {
		const uint8_t *src = d->data + off + i;

		if (memcmp(old + i, src, ss) != 0 && chance(d, v->f.stale_pct))
			src = old + i;
		memcpy((uint8_t *)buf + i, src, ss);
	}
	free(old);
	if (v->crashed || chance(d, v->f.eio_pct))
		return -EIO;
	return 0;
}

/* Land the first n bytes of a write, one sector at a time. */
static void land(struct csvfs_simdisk *d, uint64_t off, const uint8_t *buf, size_t n)
{
	uint32_t ss = d->sector_size;
	size_t i;

	for (i = 0; i < n; i += ss) {
		size_t k = n - i < ss ? n - i : ss;

		memcpy(d->data + off + i, buf + i, k);
		if (i + ss < n)
			point(d);
	}
}

/* How much of a write lands before it is cut off. */
static size_t torn_length(struct csvfs_simdisk *d, size_t len, int tear_sectors)
{
	uint32_t ss = d->sector_size;
	size_t sectors = len / ss, n = (size_t)(sim_rand(d) % (sectors + 1)) * ss;

	if (tear_sectors && n < len)
		n += (size_t)(sim_rand(d) % ss);
	return n;
}

static int sim_write(struct csvfs_disk *disk, uint64_t off, const void *buf, size_t len)
{
	struct sim_view *v = (struct sim_view *)disk;
	struct csvfs_simdisk *d = v->d;

	start(v);
	if (v->crashed)
		return -EIO;
	if (v->f.crash_after >= 0 && v->writes >= (uint64_t)v->f.crash_after) {
		land(d, off, buf, torn_length(d, len, v->f.tear_sectors));
		v->crashed = 1;
		return -EIO;
	}
	v->writes++;
	if (chance(d, v->f.lost_pct))
		return 0;
	if (chance(d, v->f.eio_pct)) {
		land(d, off, buf, torn_length(d, len, 0));
		return -EIO;
	}
	land(d, off, buf, len);
	point(d);
	return v->crashed ? -EIO : 0;
}

static void sim_close(struct csvfs_disk *disk)
{
	/* Views belong to the medium: csvfs_simdisk_free releases them. */
}

static const struct csvfs_disk_ops sim_ops = {
	.read = sim_read,
	.write = sim_write,
	.close = sim_close,
};

struct csvfs_simdisk *csvfs_simdisk_new(uint64_t size, uint32_t sector_size,
					struct csvfs_sched *sched, uint64_t seed)
{
	struct csvfs_simdisk *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	/* calloc of a large medium stays sparse until written. */
	d->data = calloc(1, size);
	if (!d->data) {
		free(d);
		return NULL;
	}
	d->size = size;
	d->sector_size = sector_size;
	if (!sched) {
		sched = d->own_sched = csvfs_sched_new(seed);
		if (!sched) {
			free(d->data);
			free(d);
			return NULL;
		}
	}
	d->sched = sched;
	return d;
}

void csvfs_simdisk_free(struct csvfs_simdisk *d)
{
	int i;

	if (!d)
		return;
	for (i = 0; i < d->nviews; i++)
		free(d->views[i]);
	csvfs_sched_free(d->own_sched);
	free(d->data);
	free(d);
}

uint8_t *csvfs_simdisk_data(struct csvfs_simdisk *d)
{
	return d->data;
}

struct csvfs_disk *csvfs_simdisk_view(struct csvfs_simdisk *d)
{
	struct sim_view *v;

	if (d->nviews >= MAX_VIEWS)
		return NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->base.ops = &sim_ops;
	v->base.sector_size = d->sector_size;
	v->base.size = d->size;
	v->d = d;
	v->f.crash_after = -1;
	d->views[d->nviews++] = v;
	return &v->base;
}

void csvfs_simdisk_set_faults(struct csvfs_disk *view, const struct csvfs_sim_faults *f)
{
	struct sim_view *v = (struct sim_view *)view;

	v->f = *f;
	v->crashed = 0;
	v->writes = 0;
}

void csvfs_simdisk_crash(struct csvfs_disk *view)
{
	((struct sim_view *)view)->crashed = 1;
}

int csvfs_simdisk_crashed(const struct csvfs_disk *view)
{
	return ((const struct sim_view *)view)->crashed;
}

uint64_t csvfs_simdisk_writes(const struct csvfs_disk *view)
{
	return ((const struct sim_view *)view)->writes;
}
