#include "config.h"

#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include <clusterd/result.h>

#include "core/vmdisks.h"
#include "core/xmlquery.h"
#include "lib/util.h"

/* path under run_dir as VOLUME/FILE: 1 if it is, 0 if not under, -1 if malformed */
static int split(const char *path, const char *run_dir, struct cd_vm_disk *d)
{
	size_t rl = strlen(run_dir);
	const char *rest, *slash;

	while (rl > 1 && run_dir[rl - 1] == '/')
		rl--;
	if (strncmp(path, run_dir, rl) != 0 || path[rl] != '/')
		return 0;
	rest = path + rl + 1;
	slash = strchr(rest, '/');
	if (!slash || (size_t)(slash - rest) >= sizeof(d->vol) || strchr(slash + 1, '/'))
		return -1;
	memcpy(d->vol, rest, (size_t)(slash - rest));
	d->vol[slash - rest] = '\0';
	if (strlen(slash + 1) >= sizeof(d->file))
		return -1;
	cd_strlcpy(d->file, slash + 1, sizeof(d->file));
	return cd_valid_path_name(d->vol, 63) && cd_valid_path_name(d->file, 63) ? 1 : -1;
}

int cd_vm_disk_split(const char *path, const char *run_dir, struct cd_vm_disk *d)
{
	return split(path, run_dir, d);
}

/* The nodes expr selects in xml: a new object, with its document in *doc (see done()). */
static xmlXPathObjectPtr select_nodes(const char *xml, const char *expr, xmlDocPtr *doc, char *err,
				      size_t errlen)
{
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr res;

	*doc = cd_xml_parse(xml);
	if (!*doc) {
		snprintf(err, errlen, "the domain XML does not parse");
		return NULL;
	}
	ctx = xmlXPathNewContext(*doc);
	res = ctx ? xmlXPathEvalExpression((const xmlChar *)expr, ctx) : NULL;
	if (ctx)
		xmlXPathFreeContext(ctx);
	if (!res)
		snprintf(err, errlen, "cannot read the domain's disks");
	return res;
}

static void done(xmlXPathObjectPtr res, xmlDocPtr doc)
{
	if (res)
		xmlXPathFreeObject(res);
	xmlFreeDoc(doc);
}

int cd_vm_disks(const char *xml, const char *run_dir, struct cd_vm_disk *out, char *err,
		size_t errlen)
{
	static const char expr[] = "/domain/devices/disk/source/@file | "
				   "/domain/devices/disk/source/@dev";
	xmlDocPtr doc;
	xmlXPathObjectPtr res;
	int n = 0, i, k, rc = 0;

	res = select_nodes(xml, expr, &doc, err, errlen);
	if (!res) {
		rc = CD_ERR_INVALID;
		goto out;
	}
	for (i = 0; res->nodesetval && i < res->nodesetval->nodeNr; i++) {
		xmlChar *v = xmlNodeGetContent(res->nodesetval->nodeTab[i]);
		struct cd_vm_disk d;
		int s = v ? split((const char *)v, run_dir, &d) : 0;

		if (s < 0)
			snprintf(err, errlen,
				 "disk %s: a shared-volume disk must be %s/VOLUME/FILE",
				 (const char *)v, run_dir);
		xmlFree(v);
		if (s < 0) {
			rc = CD_ERR_INVALID;
			goto out;
		}
		if (s == 0)
			continue;
		for (k = 0; k < n; k++)
			if (strcmp(out[k].vol, d.vol) == 0 && strcmp(out[k].file, d.file) == 0)
				break;
		if (k < n)
			continue;
		if (n == CD_VM_DISKS_MAX) {
			snprintf(err, errlen, "more than %d shared-volume disks", CD_VM_DISKS_MAX);
			rc = CD_ERR_INVALID;
			goto out;
		}
		out[n++] = d;
	}
	rc = n;
out:
	done(res, doc);
	return rc;
}

/* A <disk>'s <source> as a path: its file, device or directory, or POOL/VOLUME. */
static void source_path(xmlNodePtr src, char *buf, size_t len)
{
	static const char *const attrs[] = {"file", "dev", "dir"};
	xmlChar *pool, *vol;
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]) && !buf[0]; i++) {
		xmlChar *v = xmlGetProp(src, (const xmlChar *)attrs[i]);

		if (v)
			snprintf(buf, len, "%s", (const char *)v);
		xmlFree(v);
	}
	if (buf[0])
		return;
	pool = xmlGetProp(src, (const xmlChar *)"pool");
	vol = xmlGetProp(src, (const xmlChar *)"volume");
	if (pool && vol)
		snprintf(buf, len, "%s/%s", (const char *)pool, (const char *)vol);
	xmlFree(pool);
	xmlFree(vol);
}

int cd_vm_disks_local(const char *xml, const char *run_dir, char (*out)[CD_VM_DISK_PATH_MAX + 1],
		      int max, char *err, size_t errlen)
{
	xmlDocPtr doc;
	xmlXPathObjectPtr res;
	int n = 0, i, k;

	res = select_nodes(xml, "/domain/devices/disk/source", &doc, err, errlen);
	if (!res) {
		done(res, doc);
		return CD_ERR_INVALID;
	}
	for (i = 0; res->nodesetval && i < res->nodesetval->nodeNr; i++) {
		char path[CD_VM_DISK_PATH_MAX + 1];
		struct cd_vm_disk d;

		source_path(res->nodesetval->nodeTab[i], path, sizeof(path));
		/* A network disk has no path: every node reaches it alike. */
		if (!path[0] || split(path, run_dir, &d) != 0)
			continue;
		for (k = 0; k < n && k < max; k++)
			if (strcmp(out[k], path) == 0)
				break;
		if (k < n && k < max)
			continue;
		if (n < max)
			cd_strlcpy(out[n], path, sizeof(out[n]));
		n++;
	}
	done(res, doc);
	return n;
}
