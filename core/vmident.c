#include "config.h"

#include <ctype.h>
#include <stdatomic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include <clusterd/result.h>

#include "core/vm.h"
#include "core/vmident.h"
#include "core/xmlquery.h"
#include "lib/util.h"

bool cd_mac_valid(const char *s)
{
	int i;

	if (!s || strlen(s) != CD_MAC_LEN)
		return false;
	for (i = 0; i < CD_MAC_LEN; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool uuid_valid(const char *s)
{
	static const int dash[] = {8, 13, 18, 23};
	size_t i, k = 0;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (k < 4 && (int)i == dash[k]) {
			if (s[i] != '-')
				return false;
			k++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static xmlDocPtr parse(const char *xml, char *err, size_t errlen)
{
	xmlDocPtr doc = cd_xml_parse(xml);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (!root || !xmlStrEqual(root->name, BAD_CAST "domain")) {
		snprintf(err, errlen, "the domain XML does not parse");
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* The first child element of parent called name, or NULL. */
static xmlNodePtr child(xmlNodePtr parent, const char *name)
{
	xmlNodePtr n;

	for (n = parent ? parent->children : NULL; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && xmlStrEqual(n->name, BAD_CAST name))
			return n;
	return NULL;
}

/* Call fn for each <interface> of <devices>, in order; stop at its first non-zero. */
static int each_interface(xmlDocPtr doc, int (*fn)(xmlNodePtr nic, size_t i, void *ctx), void *ctx)
{
	xmlNodePtr n, devices = child(xmlDocGetRootElement(doc), "devices");
	size_t i = 0;
	int rc;

	for (n = devices ? devices->children : NULL; n; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, BAD_CAST "interface"))
			continue;
		if ((rc = fn(n, i++, ctx)) != 0)
			return rc;
	}
	return 0;
}

struct read_ctx {
	struct cd_vm_ident *id;
	char *err;
	size_t errlen;
};

static int read_nic(xmlNodePtr nic, size_t i, void *arg)
{
	struct read_ctx *r = arg;
	xmlNodePtr mac = child(nic, "mac");
	xmlChar *addr = mac ? xmlGetProp(mac, BAD_CAST "address") : NULL;
	int rc = 0;

	if (i >= CD_VM_NICS_MAX) {
		snprintf(r->err, r->errlen, "more than %d network interfaces", CD_VM_NICS_MAX);
		rc = CD_ERR_INVALID;
	} else if (addr && !cd_mac_valid((const char *)addr)) {
		snprintf(r->err, r->errlen, "interface %zu: bad MAC address '%.40s'", i + 1,
			 (const char *)addr);
		rc = CD_ERR_INVALID;
	} else {
		cd_strlcpy(r->id->macs[i], addr ? (const char *)addr : "", sizeof(r->id->macs[i]));
		lower(r->id->macs[i]);
		r->id->n_nics = i + 1;
	}
	xmlFree(addr);
	return rc;
}

int cd_vm_ident_read(const char *xml, struct cd_vm_ident *id, char *err, size_t errlen)
{
	struct read_ctx r = {id, err, errlen};
	xmlDocPtr doc;
	xmlNodePtr u;
	int rc = 0;

	memset(id, 0, sizeof(*id));
	if (!(doc = parse(xml, err, errlen)))
		return CD_ERR_INVALID;
	u = child(xmlDocGetRootElement(doc), "uuid");
	if (u) {
		xmlChar *v = xmlNodeGetContent(u);
		char t[64];

		const char *p = v ? (const char *)v : "";
		size_t len;

		while (isspace((unsigned char)*p))
			p++;
		cd_strlcpy(t, p, sizeof(t));
		xmlFree(v);
		for (len = strlen(t); len && isspace((unsigned char)t[len - 1]);)
			t[--len] = '\0';
		if (!uuid_valid(t)) {
			snprintf(err, errlen, "bad domain UUID '%.40s'", t);
			rc = CD_ERR_INVALID;
			goto out;
		}
		cd_strlcpy(id->uuid, t, sizeof(id->uuid));
		lower(id->uuid);
	}
	rc = each_interface(doc, read_nic, &r);
out:
	xmlFreeDoc(doc);
	if (rc < 0)
		memset(id, 0, sizeof(*id));
	return rc;
}

bool cd_vm_ident_complete(const struct cd_vm_ident *id)
{
	size_t i;

	if (!id->uuid[0])
		return false;
	for (i = 0; i < id->n_nics; i++)
		if (!id->macs[i][0])
			return false;
	return true;
}

/*
 * Insert element el as the first element child of parent, after the
 * indentation text before parent's first child, and indent what follows the
 * same way, so that the XML a person reads stays tidy.
 */
static void insert_first(xmlNodePtr parent, xmlNodePtr before, xmlNodePtr el)
{
	xmlNodePtr ws = before && before->prev && xmlNodeIsText(before->prev) ? before->prev : NULL;

	if (!before) {
		xmlAddChild(parent, el);
		return;
	}
	xmlAddPrevSibling(before, el);
	if (ws)
		xmlAddPrevSibling(before, xmlCopyNode(ws, 1));
}

static xmlNodePtr first_element(xmlNodePtr parent)
{
	xmlNodePtr n;

	for (n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static int fill_nic(xmlNodePtr nic, size_t i, void *arg)
{
	const struct cd_vm_ident *want = arg;
	xmlNodePtr mac;

	if (i >= want->n_nics || !cd_mac_valid(want->macs[i]))
		return CD_ERR_INVALID;
	mac = child(nic, "mac");
	if (mac) {
		xmlChar *addr = xmlGetProp(mac, BAD_CAST "address");
		bool has = addr != NULL;

		xmlFree(addr);
		if (has)
			return 0;
		xmlSetProp(mac, BAD_CAST "address", BAD_CAST want->macs[i]);
		return 0;
	}
	mac = xmlNewNode(NULL, BAD_CAST "mac");
	if (!mac)
		return -ENOMEM;
	xmlSetProp(mac, BAD_CAST "address", BAD_CAST want->macs[i]);
	insert_first(nic, first_element(nic), mac);
	return 0;
}

int cd_vm_ident_fill(const char *xml, const struct cd_vm_ident *want, char **out, char *err,
		     size_t errlen)
{
	struct cd_vm_ident have;
	xmlDocPtr doc;
	xmlNodePtr root;
	xmlBufferPtr buf = NULL;
	xmlSaveCtxtPtr save;
	int rc;

	*out = NULL;
	if ((rc = cd_vm_ident_read(xml, &have, err, errlen)) < 0)
		return rc;
	if (have.n_nics != want->n_nics) {
		snprintf(err, errlen, "the XML has %zu interfaces, the identity %zu", have.n_nics,
			 want->n_nics);
		return CD_ERR_INVALID;
	}
	if (!(doc = parse(xml, err, errlen)))
		return CD_ERR_INVALID;
	root = xmlDocGetRootElement(doc);
	if (!have.uuid[0]) {
		xmlNodePtr name = child(root, "name"), u;

		if (!uuid_valid(want->uuid)) {
			snprintf(err, errlen, "no valid UUID to give the domain");
			rc = CD_ERR_INVALID;
			goto out;
		}
		u = xmlNewNode(NULL, BAD_CAST "uuid");
		if (!u) {
			rc = -ENOMEM;
			goto out;
		}
		xmlNodeSetContent(u, BAD_CAST want->uuid);
		/* After <name>, where libvirt itself writes it. */
		insert_first(root, name ? name->next : first_element(root), u);
		if (name && name->next == u && u->next && xmlNodeIsText(u->next) && name->prev &&
		    xmlNodeIsText(name->prev)) {
			/* <name/>ws<uuid/>: indent <uuid> like <name>. */
			xmlAddPrevSibling(u, xmlCopyNode(name->prev, 1));
		}
	}
	if ((rc = each_interface(doc, fill_nic, (void *)want)) < 0) {
		snprintf(err, errlen, "no valid MAC address to give interface");
		goto out;
	}
	buf = xmlBufferCreate();
	save = buf ? xmlSaveToBuffer(buf, NULL, XML_SAVE_NO_DECL) : NULL;
	if (!save || xmlSaveDoc(save, doc) < 0) {
		if (save)
			xmlSaveClose(save);
		rc = -ENOMEM;
		goto out;
	}
	xmlSaveClose(save);
	*out = strdup((const char *)xmlBufferContent(buf));
	rc = *out ? 0 : -ENOMEM;
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return rc;
}

int cd_vm_mac_random(char out[CD_MAC_LEN + 1])
{
	unsigned char b[3];
	ssize_t n = getrandom(b, sizeof(b), 0);

	if (n != (ssize_t)sizeof(b))
		return n < 0 ? -errno : -EIO;
	snprintf(out, CD_MAC_LEN + 1, "52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
	return 0;
}

int cd_vm_uuid_random(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

int cd_vm_ident_new_macs(struct cd_vm_ident *id, bool (*taken)(const char *mac, void *ctx),
			 void *ctx)
{
	size_t i, k;
	int tries, rc;

	for (i = 0; i < id->n_nics; i++) {
		if (id->macs[i][0])
			continue;
		for (tries = 0; tries < 1000; tries++) {
			char m[CD_MAC_LEN + 1];
			bool dup;

			if ((rc = cd_vm_mac_random(m)) < 0)
				return rc;
			dup = taken && taken(m, ctx);
			for (k = 0; k < id->n_nics && !dup; k++)
				dup = strcmp(id->macs[k], m) == 0;
			if (!dup) {
				cd_strlcpy(id->macs[i], m, sizeof(id->macs[i]));
				break;
			}
		}
		if (!id->macs[i][0])
			return CD_ERR_EXISTS;
	}
	return 0;
}

/* Which XML a record holds, within this process (vm.h: xml_stamp). */
uint64_t cd_vm_xml_stamp(void)
{
	static atomic_uint_fast64_t last;

	return (uint64_t)atomic_fetch_add(&last, 1) + 1;
}
