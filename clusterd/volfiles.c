/*
 * The files of each volume as devices (volmgr.h): every node exposes each
 * file of a volume as a loop device, linked at RUN_DIR/VOLUME/FILE.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "clusterd/loopdev.h"
#include "clusterd/volmgr_int.h"
#include "lib/util.h"

/* --- exposure: RUN_DIR/VOLUME/FILE -> /dev/loopN --- */

void vols_link_path(const struct rt *rt, const char *file, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s/%s", vols.run_dir, rt->name, file);
}

static void unexpose(struct rt *rt, size_t i)
{
	char path[PATH_MAX];
	int rc;

	vols_link_path(rt, rt->exp[i].name, path, sizeof(path));
	unlink(path);
	rc = cd_loop_detach(rt->exp[i].loop);
	if (rc < 0)
		vol_log(LOG_WARNING, rt->name, "cannot detach loop%d of %s: %s", rt->exp[i].loop,
			rt->exp[i].name, cd_strerror(rc));
	rt->exp[i] = rt->exp[--rt->n_exp];
}

void vols_unexpose_all(struct rt *rt)
{
	while (rt->n_exp)
		unexpose(rt, rt->n_exp - 1);
}

static void expose(struct rt *rt, const struct cd_vfile *f)
{
	char path[PATH_MAX], dev[32], dir[PATH_MAX];
	struct exposed *n;
	int loop, rc;

	rc = cd_loop_attach(rt->device, f->offset, f->size, &loop);
	if (rc < 0) {
		vol_log(LOG_ERR, rt->name, "cannot expose file %s: %s", f->name, cd_strerror(rc));
		return;
	}
	snprintf(dir, sizeof(dir), "%s/%s", vols.run_dir, rt->name);
	cd_mkdir_p(dir, 0755);
	vols_link_path(rt, f->name, path, sizeof(path));
	snprintf(dev, sizeof(dev), "/dev/loop%d", loop);
	unlink(path);
	if (symlink(dev, path) < 0)
		vol_log(LOG_ERR, rt->name, "cannot link %s: %s", path, strerror(errno));
	n = realloc(rt->exp, (rt->n_exp + 1) * sizeof(*n));
	if (!n) {
		cd_loop_detach(loop);
		return;
	}
	rt->exp = n;
	cd_strlcpy(n[rt->n_exp].name, f->name, sizeof(n->name));
	n[rt->n_exp].loop = loop;
	n[rt->n_exp].offset = f->offset;
	n[rt->n_exp].size = f->size;
	rt->n_exp++;
	vol_log(LOG_INFO, rt->name, "file %s at %s (%s)", f->name, path, dev);
}

void vols_reconcile_files(struct rt *rt, const struct cd_volume *v)
{
	size_t i;
	bool ok;

	for (i = 0; i < rt->n_exp;) {
		const struct cd_vfile *f = cd_volume_file(v, rt->exp[i].name);

		if (!f || f->offset != rt->exp[i].offset) {
			unexpose(rt, i);
			continue;
		}
		if (f->size != rt->exp[i].size && cd_loop_resize(rt->exp[i].loop, f->size) == 0)
			rt->exp[i].size = f->size;
		i++;
	}
	pthread_mutex_lock(&rt->lock);
	ok = rt->uuid_ok;
	pthread_mutex_unlock(&rt->lock);
	if (!ok)
		return; /* not before the device proved to hold the volume */
	for (i = 0; i < v->n_files; i++) {
		size_t k;

		for (k = 0; k < rt->n_exp; k++)
			if (strcmp(rt->exp[k].name, v->files[i].name) == 0)
				break;
		if (k == rt->n_exp)
			expose(rt, &v->files[i]);
	}
}
