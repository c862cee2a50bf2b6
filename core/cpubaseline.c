/* The cluster's CPU baseline, its pure parts (cpubaseline.h). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <clusterd/result.h>

#include "core/cpubaseline.h"
#include "core/xmlquery.h"
#include "lib/util.h"

static bool named(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, BAD_CAST name) == 0;
}

/* Copy attribute attr of from to to; nothing if from has none. */
static void copy_prop(xmlNodePtr to, xmlNodePtr from, const char *attr)
{
	xmlChar *v = xmlGetProp(from, BAD_CAST attr);

	if (v)
		xmlSetProp(to, BAD_CAST attr, v);
	xmlFree(v);
}

/* The first node /expr selects in doc, or NULL. */
static xmlNodePtr first_match(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr xc = xmlXPathNewContext(doc);
	xmlXPathObjectPtr res = xc ? xmlXPathEvalExpression(BAD_CAST expr, xc) : NULL;
	xmlNodePtr n = NULL;

	if (res && res->nodesetval && res->nodesetval->nodeNr > 0)
		n = res->nodesetval->nodeTab[0];
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(xc);
	return n;
}

/* --- a node's host CPU --- */

/* The <cpu> definition of host-model mode hm: model, vendor, features. */
static xmlDocPtr host_cpu_doc(xmlNodePtr hm, bool *has_model)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr cpu = doc ? xmlNewNode(NULL, BAD_CAST "cpu") : NULL, n, e;

	*has_model = false;
	if (!cpu) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlDocSetRootElement(doc, cpu);
	xmlSetProp(cpu, BAD_CAST "mode", BAD_CAST "custom");
	xmlSetProp(cpu, BAD_CAST "match", BAD_CAST "exact");
	for (n = hm->children; n; n = n->next) {
		xmlChar *text;

		if (named(n, "model") || named(n, "vendor")) {
			text = xmlNodeGetContent(n);
			/* xmlNewTextChild escapes the text. */
			e = xmlNewTextChild(cpu, NULL, n->name, text ? text : BAD_CAST "");
			xmlFree(text);
			if (e && named(n, "model")) {
				/* The baseline is this CPU or none: never a fallback. */
				xmlSetProp(e, BAD_CAST "fallback", BAD_CAST "forbid");
				*has_model = true;
			}
		} else if (named(n, "feature")) {
			e = xmlNewChild(cpu, NULL, BAD_CAST "feature", NULL);
			if (e) {
				copy_prop(e, n, "policy");
				copy_prop(e, n, "name");
			}
		}
		/* maxphysaddr and the like describe this host's use, not the CPU. */
	}
	return doc;
}

int cd_host_cpu_xml(const char *domcaps, char *out, size_t outlen, char *err, size_t errlen)
{
	xmlDocPtr caps = cd_xml_parse(domcaps), doc;
	xmlNodePtr hm;
	bool has_model;
	char *text;
	int rc = 0;

	if (outlen)
		out[0] = '\0';
	if (!caps) {
		snprintf(err, errlen, "the domain capabilities do not parse");
		return CD_ERR_INVALID;
	}
	hm = first_match(caps, "/domainCapabilities/cpu/mode[@name='host-model' and "
			       "@supported='yes']");
	doc = hm ? host_cpu_doc(hm, &has_model) : NULL;
	if (hm && !doc) {
		snprintf(err, errlen, "out of memory");
		rc = CD_ERR_INVALID;
	} else if (doc && has_model) {
		text = cd_xml_text(doc);
		if (!text || strlen(text) >= outlen) {
			snprintf(err, errlen,
				 "the host CPU takes %zu bytes, more than the %zu kept",
				 text ? strlen(text) : 0, outlen ? outlen - 1 : 0);
			rc = CD_ERR_INVALID;
		} else {
			cd_strlcpy(out, text, outlen);
			rc = 1;
		}
		free(text);
	}
	xmlFreeDoc(doc);
	xmlFreeDoc(caps);
	return rc;
}

/* --- a domain's XML --- */

struct target {
	char *arch, *type;
	size_t arch_len, type_len;
	bool too_long;
};

static int put(const char *v, char *dst, size_t len, bool *too_long)
{
	if (strlen(v) >= len)
		*too_long = true;
	else
		cd_strlcpy(dst, v, len);
	return 1;
}

static int read_arch(const char *v, void *ctx, char *err, size_t errlen)
{
	struct target *t = ctx;

	(void)err;
	(void)errlen;
	return put(v, t->arch, t->arch_len, &t->too_long);
}

static int read_type(const char *v, void *ctx, char *err, size_t errlen)
{
	struct target *t = ctx;

	(void)err;
	(void)errlen;
	return put(v, t->type, t->type_len, &t->too_long);
}

int cd_domain_cpu_target(const char *xml, char *arch, size_t arch_len, char *virttype,
			 size_t type_len, char *err, size_t errlen)
{
	static const struct cd_xml_query q[] = {
		{"/domain/@type", read_type},
		{"/domain/os/type/@arch", read_arch},
	};
	struct target t = {arch, virttype, arch_len, type_len, false};
	xmlDocPtr doc = cd_xml_parse(xml);
	int rc;

	cd_strlcpy(arch, "", arch_len);
	cd_strlcpy(virttype, "", type_len);
	if (!doc) {
		snprintf(err, errlen, "the domain XML does not parse");
		return CD_ERR_INVALID;
	}
	rc = cd_xml_each_text(doc, q, 2, &t, "the domain XML", err, errlen);
	xmlFreeDoc(doc);
	if (rc < 0)
		return rc;
	if (t.too_long || !virttype[0]) {
		snprintf(err, errlen, "the domain XML names %s",
			 t.too_long ? "an overlong type or architecture" : "no domain type");
		return CD_ERR_INVALID;
	}
	return 0;
}

/* Move what the old <cpu> holds besides the CPU itself into the new one. */
static void keep_shape(xmlNodePtr old, xmlNodePtr cpu)
{
	xmlNodePtr n = old->children, next;

	for (; n; n = next) {
		next = n->next;
		if (n->type != XML_ELEMENT_NODE || named(n, "model") || named(n, "vendor") ||
		    named(n, "feature"))
			continue;
		xmlUnlinkNode(n);
		xmlAddChild(cpu, n);
	}
}

int cd_xml_replace_cpu(const char *domain_xml, const char *cpu_xml, char **out)
{
	xmlDocPtr doc = cd_xml_parse(domain_xml), cdoc = cd_xml_parse(cpu_xml);
	xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
	xmlNodePtr want = cdoc ? xmlDocGetRootElement(cdoc) : NULL;
	xmlNodePtr cpu, old;
	int rc = CD_ERR_INVALID;

	*out = NULL;
	if (!root || !named(root, "domain") || !want || !named(want, "cpu"))
		goto free_docs;
	rc = -ENOMEM;
	cpu = xmlDocCopyNode(want, doc, 1);
	if (!cpu)
		goto free_docs;
	for (old = root->children; old && !named(old, "cpu"); old = old->next)
		;
	if (old) {
		keep_shape(old, cpu);
		xmlReplaceNode(old, cpu);
		xmlFreeNode(old);
	} else {
		xmlAddChild(root, cpu);
	}
	*out = cd_xml_text(doc);
	rc = *out ? 0 : -ENOMEM;
free_docs:
	xmlFreeDoc(cdoc);
	xmlFreeDoc(doc);
	return rc;
}
