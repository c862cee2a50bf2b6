#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include <clusterd/result.h>

#include "core/state.h"
#include "core/vm.h"
#include "core/vm_import.h"
#include "core/vmident.h"
#include "core/volume.h"
#include "core/xmlquery.h"
#include "lib/util.h"

static const char *const code_names[] = {
	[CD_IMPORT_XML] = "xml",
	[CD_IMPORT_DISK_LOCAL] = "disk-local",
	[CD_IMPORT_CDROM_LOCAL] = "cdrom-local",
	[CD_IMPORT_DISK_MALFORMED] = "disk-malformed",
	[CD_IMPORT_VOLUME_UNKNOWN] = "volume-unknown",
	[CD_IMPORT_TOO_MANY_DISKS] = "too-many-disks",
	[CD_IMPORT_HOSTDEV] = "hostdev",
	[CD_IMPORT_FILESYSTEM] = "filesystem",
	[CD_IMPORT_NVRAM_LOCAL] = "nvram-local",
	[CD_IMPORT_NAME_TAKEN] = "name-taken",
	[CD_IMPORT_UUID_TAKEN] = "uuid-taken",
	[CD_IMPORT_MAC_TAKEN] = "mac-taken",
	[CD_IMPORT_IDENTITY_INCOMPLETE] = "identity-incomplete",
	[CD_IMPORT_INVALID] = "invalid",
	[CD_IMPORT_MANAGED_SAVE] = "managed-save",
	[CD_IMPORT_LEASE] = "lease",
	[CD_IMPORT_RUNNING_COPY] = "running-copy",
	[CD_IMPORT_BOOT_LOCAL] = "boot-local",
	[CD_IMPORT_LOADER_LOCAL] = "loader-local",
};
_Static_assert(sizeof(code_names) / sizeof(code_names[0]) == CD_IMPORT__COUNT,
	       "a name for every code");

const char *cd_import_code_to_str(enum cd_import_code c)
{
	return c > 0 && c < CD_IMPORT__COUNT && code_names[c] ? code_names[c] : "unknown";
}

void cd_vm_import_reason(struct cd_import_report *r, enum cd_import_code code, const char *fmt, ...)
{
	va_list ap;

	if (r->n_reasons == CD_IMPORT_REASONS_MAX) {
		r->n_dropped++;
		return;
	}
	r->reasons[r->n_reasons].code = code;
	va_start(ap, fmt);
	vsnprintf(r->reasons[r->n_reasons].text, sizeof(r->reasons[0].text), fmt, ap);
	va_end(ap);
	r->n_reasons++;
}

/* The attribute name of node as a new string of libxml2's (xmlFree), NULL if none. */
static char *prop(xmlNodePtr node, const char *name)
{
	return (char *)xmlGetProp(node, (const xmlChar *)name);
}

/* node's first child element called name, or NULL. */
static xmlNodePtr child(xmlNodePtr node, const char *name)
{
	xmlNodePtr c;

	for (c = node ? node->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && xmlStrcmp(c->name, (const xmlChar *)name) == 0)
			return c;
	return NULL;
}

/* A <source>'s path: its file, device or directory, or POOL/VOLUME; "" for none (network). */
static void source_path(xmlNodePtr src, char *buf, size_t len)
{
	static const char *const attrs[] = {"file", "dev", "dir"};
	char *pool, *vol;
	size_t i;

	buf[0] = '\0';
	for (i = 0; src && i < sizeof(attrs) / sizeof(attrs[0]) && !buf[0]; i++) {
		char *v = prop(src, attrs[i]);

		if (v)
			snprintf(buf, len, "%s", v);
		xmlFree(v);
	}
	if (buf[0] || !src)
		return;
	pool = prop(src, "pool");
	vol = prop(src, "volume");
	if (pool && vol)
		snprintf(buf, len, "%s/%s", pool, vol);
	xmlFree(pool);
	xmlFree(vol);
}

/* The nodes expr selects in doc: a new object (xmlXPathFreeObject), NULL if none could be. */
static xmlXPathObjectPtr select_nodes(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res = ctx ? xmlXPathEvalExpression((const xmlChar *)expr, ctx) : NULL;

	if (ctx)
		xmlXPathFreeContext(ctx);
	return res;
}

#define EACH_NODE(res, i)                                                                          \
	for ((i) = 0; (res) && (res)->nodesetval && (i) < (res)->nodesetval->nodeNr; (i)++)

/*
 * Whether path, the file of what ("disk", "kernel"...), is a file of a
 * shared volume, the one test for every file a domain needs: 1 if so, with
 * *d its volume and file (a volume the cluster does not have is a reason
 * already), 0 if it is not under run_dir, -1 if it is but is not
 * VOLUME/FILE.
 */
static int on_volume(const struct cd_state *s, const char *what, const char *path,
		     const char *run_dir, struct cd_vm_disk *d, struct cd_import_report *r)
{
	int sp = cd_vm_disk_split(path, run_dir, d);

	if (sp == 1 && s && !cd_state_volume(s, d->vol))
		cd_vm_import_reason(r, CD_IMPORT_VOLUME_UNKNOWN,
				    "%s %s: no volume '%s' in the cluster (clusterctl volume add)",
				    what, path, d->vol);
	return sp;
}

/* One <disk>: on a volume the cluster knows, or a reason. */
static void judge_disk(const struct cd_state *s, xmlNodePtr disk, const char *run_dir,
		       struct cd_vm_disk *shared, size_t *n_shared, struct cd_import_report *r)
{
	char path[CD_VM_DISK_PATH_MAX + 1], *device = prop(disk, "device"), *target;
	bool cdrom = device && (!strcmp(device, "cdrom") || !strcmp(device, "floppy"));
	struct cd_vm_disk d;
	size_t k;
	int sp;

	xmlFree(device);
	source_path(child(disk, "source"), path, sizeof(path));
	/* A network disk has no path: every node reaches it alike; an empty drive has none. */
	if (!path[0])
		return;
	sp = on_volume(s, "disk", path, run_dir, &d, r);
	if (sp < 0) {
		cd_vm_import_reason(r, CD_IMPORT_DISK_MALFORMED,
				    "disk %s: a shared-volume disk must be %s/VOLUME/FILE", path,
				    run_dir);
		return;
	}
	if (sp == 0) {
		cd_vm_import_reason(
			r, cdrom ? CD_IMPORT_CDROM_LOCAL : CD_IMPORT_DISK_LOCAL,
			"%s %s is a file of this node only, not on a shared volume (%s/VOLUME/FILE)",
			cdrom ? "CD-ROM image" : "disk", path, run_dir);
		if (r->n_local < CD_VM_DISKS_MAX) {
			struct cd_import_local *l = &r->local[r->n_local++];

			cd_strlcpy(l->path, path, sizeof(l->path));
			target = prop(child(disk, "target"), "dev");
			cd_strlcpy(l->target, target ? target : "", sizeof(l->target));
			xmlFree(target);
			l->cdrom = cdrom;
		}
		return;
	}
	for (k = 0; k < *n_shared; k++)
		if (!strcmp(shared[k].vol, d.vol) && !strcmp(shared[k].file, d.file))
			return;
	if (*n_shared == CD_VM_DISKS_MAX) {
		cd_vm_import_reason(r, CD_IMPORT_TOO_MANY_DISKS, "more than %d shared-volume disks",
				    CD_VM_DISKS_MAX);
		return;
	}
	shared[(*n_shared)++] = d;
}

/* What ties the domain to this host besides its disks and boot files. */
static void judge_host_ties(xmlDocPtr doc, struct cd_import_report *r)
{
	xmlXPathObjectPtr res;
	int i;

	res = select_nodes(doc, "/domain/devices/hostdev");
	EACH_NODE(res, i)
	{
		char *type = prop(res->nodesetval->nodeTab[i], "type");

		cd_vm_import_reason(
			r, CD_IMPORT_HOSTDEV,
			"a %s device of this host is passed through: no other node has it",
			type ? type : "host");
		xmlFree(type);
	}
	if (res)
		xmlXPathFreeObject(res);
	res = select_nodes(doc, "/domain/devices/filesystem");
	EACH_NODE(res, i)
	{
		char path[CD_VM_DISK_PATH_MAX + 1];

		source_path(child(res->nodesetval->nodeTab[i], "source"), path, sizeof(path));
		cd_vm_import_reason(
			r, CD_IMPORT_FILESYSTEM,
			"directory %s of this host is shared into the guest: no other node has it",
			path[0] ? path : "(unnamed)");
	}
	if (res)
		xmlXPathFreeObject(res);
}

/*
 * Whether path lies under one of dirs (':' between them): a path with a
 * ".." could climb out, so it never does.
 */
static bool under_dirs(const char *path, const char *dirs)
{
	const char *p, *d, *end;
	size_t n;

	for (p = strstr(path, "/.."); p; p = strstr(p + 1, "/.."))
		if (p[3] == '/' || !p[3])
			return false;
	for (d = dirs; d && *d; d = *end ? end + 1 : end) {
		end = strchr(d, ':');
		if (!end)
			end = d + strlen(d);
		n = (size_t)(end - d);
		while (n > 1 && d[n - 1] == '/')
			n--;
		if (n && d[0] == '/' && !strncmp(path, d, n) && path[n] == '/' && path[n + 1])
			return true;
	}
	return false;
}

/*
 * Whether path lies where the distribution's packages put their files: the
 * same bytes on every node with the same packages.
 */
static bool packaged(const char *path)
{
	return under_dirs(path, "/usr/share:/usr/lib");
}

/*
 * <loader>: on a shared volume, or firmware the packages ship that the
 * guest cannot write (readonly='yes', or a ROM), such as OVMF's code.
 */
static void judge_loader(const struct cd_state *s, xmlNodePtr loader, const char *path,
			 const char *run_dir, struct cd_import_report *r)
{
	char *ro = prop(loader, "readonly"), *type = prop(loader, "type");
	bool read_only = (ro && !strcmp(ro, "yes")) || (type && !strcmp(type, "rom"));
	struct cd_vm_disk d;

	xmlFree(ro);
	xmlFree(type);
	if (on_volume(s, "firmware loader", path, run_dir, &d, r) == 1)
		return;
	if (!packaged(path))
		cd_vm_import_reason(
			r, CD_IMPORT_LOADER_LOCAL,
			"firmware loader %s is a file of this node only: use one the packages ship "
			"(under /usr/share or /usr/lib, readonly='yes'), or copy it onto a shared "
			"volume (%s/VOLUME/FILE) and point <loader> at the copy",
			path, run_dir);
	else if (!read_only)
		cd_vm_import_reason(
			r, CD_IMPORT_LOADER_LOCAL,
			"firmware loader %s is written by the guest, each node's copy apart: make it "
			"readonly='yes' (its variables in <nvram> on a shared volume)",
			path);
}

/* The text of os's child element name as a new string (xmlFree), NULL if none or empty. */
static xmlChar *os_path(xmlNodePtr os, const char *name, xmlNodePtr *node)
{
	xmlChar *v;

	*node = child(os, name);
	v = *node ? xmlNodeGetContent(*node) : NULL;
	if (v && !*v) {
		xmlFree(v);
		v = NULL;
	}
	return v;
}

/*
 * A kernel, initrd or device tree booted directly: under the directories
 * kept alike on every node (boot_dirs), or, but for an initrd (QEMU cannot
 * read one from a block device), a file of a shared volume.
 */
static void judge_boot_file(const struct cd_state *s, const char *what, const char *path,
			    const char *run_dir, const char *boot_dirs, struct cd_import_report *r)
{
	struct cd_vm_disk d;
	int sp;

	if (under_dirs(path, boot_dirs))
		return;
	sp = on_volume(s, what, path, run_dir, &d, r);
	if (sp == 1 && strcmp(what, "initrd") != 0)
		return;
	if (sp == 1)
		cd_vm_import_reason(
			r, CD_IMPORT_BOOT_LOCAL,
			"initrd %s is a file of a shared volume, which QEMU cannot read "
			"an initrd from: keep it at the same path on every node, under a "
			"directory of clusterd.conf's boot_file_dirs",
			path);
	else
		cd_vm_import_reason(
			r, CD_IMPORT_BOOT_LOCAL,
			"%s %s is a file of this node only: no other node can boot from "
			"it; keep it at the same path on every node, under a directory of "
			"clusterd.conf's boot_file_dirs (now %s), and point <%s> there "
			"(--copy-disks copies disks only)",
			what, path, boot_dirs && *boot_dirs ? boot_dirs : "none", what);
}

/*
 * The files the domain boots from, which each node must find alike: the
 * firmware, its UEFI variables, and a kernel, initrd and device tree booted
 * directly. --copy-disks copies disks only, so the words say so.
 */
static void judge_os(const struct cd_state *s, xmlDocPtr doc, const char *run_dir,
		     const char *boot_dirs, struct cd_import_report *r)
{
	static const char *const boot[] = {"kernel", "initrd", "dtb"};
	xmlNodePtr root = xmlDocGetRootElement(doc), os, node;
	struct cd_vm_disk d;
	xmlChar *v;
	size_t i;

	if (!root || xmlStrcmp(root->name, (const xmlChar *)"domain") != 0)
		return;
	os = child(root, "os");

	if ((v = os_path(os, "loader", &node)))
		judge_loader(s, node, (const char *)v, run_dir, r);
	xmlFree(v);
	if ((v = os_path(os, "nvram", &node)) &&
	    on_volume(s, "UEFI variable store", (const char *)v, run_dir, &d, r) != 1)
		cd_vm_import_reason(r, CD_IMPORT_NVRAM_LOCAL,
				    "its UEFI variable store %s is a file of this node only",
				    (char *)v);
	xmlFree(v);
	for (i = 0; i < sizeof(boot) / sizeof(boot[0]); i++) {
		if ((v = os_path(os, boot[i], &node)))
			judge_boot_file(s, boot[i], (const char *)v, run_dir, boot_dirs, r);
		xmlFree(v);
	}
}

/* Its name, UUID and MACs: its own, and no cluster VM's. */
static void judge_identity(const struct cd_state *s, const char *name, const char *xml,
			   struct cd_import_report *r)
{
	const struct cd_vm *other;
	struct cd_vm_ident id;
	char err[256];
	size_t i;

	if (s && name && cd_state_vm(s, name))
		cd_vm_import_reason(r, CD_IMPORT_NAME_TAKEN, "the cluster has a VM '%s' already",
				    name);
	if (cd_vm_ident_read(xml, &id, err, sizeof(err)) < 0) {
		cd_vm_import_reason(r, CD_IMPORT_IDENTITY_INCOMPLETE, "%s", err);
		return;
	}
	if (!cd_vm_ident_complete(&id))
		cd_vm_import_reason(
			r, CD_IMPORT_IDENTITY_INCOMPLETE,
			"libvirt gave no UUID or no MAC for an interface: it keeps its identity only "
			"with both");
	if (!s)
		return;
	if (id.uuid[0] && (other = cd_vm_uuid_user(s, id.uuid, NULL)))
		cd_vm_import_reason(r, CD_IMPORT_UUID_TAKEN, "UUID %s belongs to VM '%s' already",
				    id.uuid, other->name);
	for (i = 0; i < id.n_nics; i++)
		if (id.macs[i][0] && (other = cd_vm_mac_user(s, id.macs[i], NULL)))
			cd_vm_import_reason(
				r, CD_IMPORT_MAC_TAKEN,
				"MAC address %s (interface %zu) belongs to VM '%s' already",
				id.macs[i], i + 1, other->name);
}

size_t cd_vm_import_judge(const struct cd_state *s, const char *name, const char *xml,
			  const char *run_dir, const char *boot_dirs, struct cd_import_report *r)
{
	struct cd_vm_disk shared[CD_VM_DISKS_MAX];
	size_t n_shared = 0;
	xmlXPathObjectPtr res;
	xmlDocPtr doc;
	int i;

	memset(r, 0, sizeof(*r));
	doc = xml ? cd_xml_parse(xml) : NULL;
	if (!doc) {
		cd_vm_import_reason(r, CD_IMPORT_XML, "the domain XML does not parse");
		return r->n_reasons;
	}
	res = select_nodes(doc, "/domain/devices/disk");
	EACH_NODE(res, i)
	judge_disk(s, res->nodesetval->nodeTab[i], run_dir, shared, &n_shared, r);
	if (res)
		xmlXPathFreeObject(res);
	judge_host_ties(doc, r);
	judge_os(s, doc, run_dir, boot_dirs, r);
	xmlFreeDoc(doc);
	judge_identity(s, name, xml, r);
	return r->n_reasons;
}

struct json_object *cd_vm_import_report_to_json(const struct cd_import_report *r)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array(),
			   *l = json_object_new_array();
	size_t i;

	if (!o || !a || !l) {
		json_object_put(o);
		json_object_put(a);
		json_object_put(l);
		return NULL;
	}
	for (i = 0; i < r->n_reasons; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(
			x, "code",
			json_object_new_string(cd_import_code_to_str(r->reasons[i].code)));
		json_object_object_add(x, "text", json_object_new_string(r->reasons[i].text));
		json_object_array_add(a, x);
	}
	for (i = 0; i < r->n_local; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "path", json_object_new_string(r->local[i].path));
		json_object_object_add(x, "target", json_object_new_string(r->local[i].target));
		json_object_object_add(x, "cdrom", json_object_new_boolean(r->local[i].cdrom));
		json_object_array_add(l, x);
	}
	json_object_object_add(o, "ok", json_object_new_boolean(r->n_reasons == 0));
	json_object_object_add(o, "reasons", a);
	json_object_object_add(o, "dropped", json_object_new_int64((int64_t)r->n_dropped));
	json_object_object_add(o, "local_disks", l);
	return o;
}

/* Point <disk> at block device path: type='block', <source dev='path'/>. */
static int repoint_disk(xmlNodePtr disk, const char *path)
{
	static const char *const attrs[] = {"file", "dev", "dir", "pool", "volume"};
	xmlNodePtr src = child(disk, "source");
	size_t i;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		xmlUnsetProp(src, (const xmlChar *)attrs[i]);
	if (!xmlSetProp(disk, (const xmlChar *)"type", (const xmlChar *)"block") ||
	    !xmlSetProp(src, (const xmlChar *)"dev", (const xmlChar *)path))
		return -ENOMEM;
	return 0;
}

int cd_vm_import_repoint(const char *xml, struct json_object *map, char **out, char *err,
			 size_t errlen)
{
	xmlDocPtr doc = xml ? cd_xml_parse(xml) : NULL;
	xmlXPathObjectPtr res = NULL;
	struct json_object *seen = json_object_new_object();
	struct json_object_iterator it, end;
	int i, rc = 0;

	*out = NULL;
	if (!seen) {
		rc = -ENOMEM;
		goto out;
	}
	if (!doc || !json_object_is_type(map, json_type_object)) {
		snprintf(err, errlen,
			 doc ? "the disks to repoint are no map of paths"
			     : "the domain XML does not parse");
		rc = CD_ERR_INVALID;
		goto out;
	}
	res = select_nodes(doc, "/domain/devices/disk");
	EACH_NODE(res, i)
	{
		xmlNodePtr disk = res->nodesetval->nodeTab[i];
		char path[CD_VM_DISK_PATH_MAX + 1];
		struct json_object *to;

		source_path(child(disk, "source"), path, sizeof(path));
		if (!path[0] || !json_object_object_get_ex(map, path, &to))
			continue;
		if (!json_object_is_type(to, json_type_string) || !*json_object_get_string(to)) {
			snprintf(err, errlen, "disk %s: no new path", path);
			rc = CD_ERR_INVALID;
			goto out;
		}
		if ((rc = repoint_disk(disk, json_object_get_string(to))) < 0)
			goto out;
		json_object_object_add(seen, path, NULL);
	}
	for (it = json_object_iter_begin(map), end = json_object_iter_end(map);
	     !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);

		if (!json_object_object_get_ex(seen, key, NULL)) {
			snprintf(err, errlen, "the domain has no disk %s", key);
			rc = CD_ERR_INVALID;
			goto out;
		}
	}
	*out = cd_xml_text(doc);
	if (!*out)
		rc = -ENOMEM;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (res)
		xmlXPathFreeObject(res);
	xmlFreeDoc(doc);
	json_object_put(seen);
	return rc;
}
