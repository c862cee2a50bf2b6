/*
 * A simulated shared disk for the unit tests, with faults injected per
 * host. The medium is shared; each host reaches it through its own view
 * (its path to the LUN), which has its own faults and can crash.
 *
 * The model, per sector, is a regular register, as a real disk gives:
 * sector writes are atomic and a read that starts after a write completed
 * sees it; a read that overlaps a write may see the old or the new content
 * of each sector. Writes of several sectors land one sector at a time, so
 * readers can see them half done. Faults on top of that:
 *
 *   eio_pct    a request fails with -EIO; a failing write may have landed
 *              in part (some of its first sectors)
 *   lost_pct   a write is acknowledged but never lands
 *   stale_pct  a read overlapping a write returns the old content of a
 *              sector (without it, the new content is returned)
 *   crash_after  the view dies at its write number crash_after (counting
 *              from 0): that write is torn (some whole sectors land, and
 *              with tear_sectors part of the next), every later request
 *              fails, as for a host that lost power mid-write
 *   delay_ms   each request takes a random time up to this (virtual)
 *
 * With a scheduler, every request has scheduling points in it, so hosts
 * interleave inside requests too.
 */
#ifndef TESTS_SIM_SIMDISK_H
#define TESTS_SIM_SIMDISK_H

#include <stdint.h>

#include "csvfs/disk.h"
#include "tests/sim/simsched.h"

struct csvfs_simdisk;

struct csvfs_sim_faults {
	unsigned eio_pct;
	unsigned lost_pct;
	unsigned stale_pct;
	int64_t crash_after; /* -1: never */
	int tear_sectors;    /* a torn write may cut a sector in two */
	uint32_t delay_ms;   /* each request takes up to this long */
};

/*
 * A zeroed medium. sched may be NULL (no scheduling points; faults then
 * draw from a PRNG seeded with seed). Returns NULL on failure.
 */
struct csvfs_simdisk *csvfs_simdisk_new(uint64_t size, uint32_t sector_size,
					struct csvfs_sched *sched, uint64_t seed);

/* Frees the medium and every view; accepts NULL. */
void csvfs_simdisk_free(struct csvfs_simdisk *d);

/* The raw medium, for tests to damage or to save and restore. */
uint8_t *csvfs_simdisk_data(struct csvfs_simdisk *d);

/* A new view (owned by d, no faults); NULL on failure. */
struct csvfs_disk *csvfs_simdisk_view(struct csvfs_simdisk *d);

/* Set view's faults; this also revives a crashed view and restarts its write count. */
void csvfs_simdisk_set_faults(struct csvfs_disk *view, const struct csvfs_sim_faults *f);

/* The host behind view is gone: every later request fails with -EIO. */
void csvfs_simdisk_crash(struct csvfs_disk *view);
int csvfs_simdisk_crashed(const struct csvfs_disk *view);

/* Writes issued through view so far (the crash_after count). */
uint64_t csvfs_simdisk_writes(const struct csvfs_disk *view);

#endif
