#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "tests/sim/simcluster.h"

int csvfs_sim_cluster_init(struct csvfs_sim_cluster *c, const struct csvfs_sim_opts *o)
{
	struct csvfs_format_opts fo = {
		.name = "simvol",
		.hosts = o->hosts,
		.files = o->files,
		.sector_size = o->sector_size,
		.expiry_ms = o->expiry_ms,
	};
	uint32_t i;
	int rc;

	memset(c, 0, sizeof(*c));
	if (o->hosts > CSVFS_SIM_MAX_HOSTS)
		return CD_ERR_INVALID;
	c->sched = csvfs_sched_new(o->seed);
	if (!c->sched)
		return -ENOMEM;
	c->medium = csvfs_simdisk_new(o->disk_size, o->sector_size, c->sched, 0);
	c->admin_disk = c->medium ? csvfs_simdisk_view(c->medium) : NULL;
	if (!c->admin_disk)
		return -ENOMEM;
	csvfs_sim_clock_init(&c->admin_clock, c->sched, 0);
	rc = csvfs_format(c->admin_disk, &c->admin_clock.env, &fo, NULL);
	if (rc == 0)
		rc = csvfs_vol_open(&c->admin, c->admin_disk, &c->admin_clock.env);
	for (i = 0; rc == 0 && i < o->hosts; i++) {
		struct csvfs_sim_host *h = &c->hosts[i];

		h->cluster = c;
		h->slot = i + 1;
		h->disk = csvfs_simdisk_view(c->medium);
		if (!h->disk)
			return -ENOMEM;
		/* Clocks far apart: any comparison across hosts would show. */
		csvfs_sim_clock_init(&h->clock, c->sched, csvfs_sched_rand(c->sched) % 1000000000u);
		rc = csvfs_vol_open(&h->vol, h->disk, &h->clock.env);
		c->nhosts++;
	}
	return rc;
}

void csvfs_sim_cluster_free(struct csvfs_sim_cluster *c)
{
	csvfs_simdisk_free(c->medium);
	csvfs_sched_free(c->sched);
	memset(c, 0, sizeof(*c));
}

int csvfs_sim_join(struct csvfs_sim_host *h)
{
	char owner[16];

	snprintf(owner, sizeof(owner), "host%u", h->slot);
	return csvfs_host_join(&h->vol, h->slot, owner, &h->host, NULL);
}

static void join_thread(void *arg)
{
	struct csvfs_sim_host *h = arg;

	h->join_rc = csvfs_sim_join(h);
}

int csvfs_sim_join_all(struct csvfs_sim_cluster *c)
{
	uint32_t i;

	for (i = 0; i < c->nhosts; i++)
		csvfs_sched_spawn(c->sched, join_thread, &c->hosts[i], 0);
	csvfs_sched_run(c->sched);
	for (i = 0; i < c->nhosts; i++)
		if (c->hosts[i].join_rc < 0)
			return c->hosts[i].join_rc;
	return 0;
}

void csvfs_sim_renewer(void *arg)
{
	struct csvfs_sim_host *h = arg;
	struct csvfs_sched *s = h->cluster->sched;
	int rc;

	while (!csvfs_sched_stopping(s)) {
		csvfs_sleep(&h->clock.env, h->vol.timing.renewal_ms);
		if (csvfs_sched_stopping(s))
			break;
		rc = csvfs_host_renew(&h->vol, &h->host);
		/* Failed renewals are retried until the lease is lost. */
		if (rc == -ESTALE || !csvfs_host_valid(&h->vol, &h->host))
			break;
	}
}

uint64_t csvfs_sim_valid_until(const struct csvfs_sim_host *h)
{
	return h->host.valid_until ? h->host.valid_until - h->clock.offset : 0;
}

uint64_t csvfs_sim_now(const struct csvfs_sim_cluster *c)
{
	return csvfs_sched_now(c->sched);
}
