#include "config.h"

#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include <clusterd/result.h>

#include "core/vmdisks.h"
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

int cd_vm_disks(const char *xml, const char *run_dir, struct cd_vm_disk *out, char *err,
		size_t errlen)
{
	static const char expr[] = "/domain/devices/disk/source/@file | "
				   "/domain/devices/disk/source/@dev";
	xmlDocPtr doc;
	xmlXPathContextPtr ctx = NULL;
	xmlXPathObjectPtr res = NULL;
	int n = 0, i, k, rc = 0;

	doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		snprintf(err, errlen, "the domain XML does not parse");
		return CD_ERR_INVALID;
	}
	ctx = xmlXPathNewContext(doc);
	res = ctx ? xmlXPathEvalExpression((const xmlChar *)expr, ctx) : NULL;
	if (!res) {
		snprintf(err, errlen, "cannot read the domain's disks");
		rc = CD_ERR_INVALID;
		goto out;
	}
	for (i = 0; res->nodesetval && i < res->nodesetval->nodeNr; i++) {
		xmlChar *v = xmlNodeGetContent(res->nodesetval->nodeTab[i]);
		struct cd_vm_disk d;
		int s = v ? split((const char *)v, run_dir, &d) : 0;

		if (s < 0)
			snprintf(err, errlen, "disk %s: a shared-volume disk must be %s/VOLUME/FILE",
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
	if (res)
		xmlXPathFreeObject(res);
	if (ctx)
		xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return rc;
}
