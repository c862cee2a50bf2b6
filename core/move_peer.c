/* What a move asks of its target's libvirt, and what it answered (move_peer.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xpath.h>

#include <clusterd/result.h>

#include "core/move_peer.h"
#include "core/xmlquery.h"
#include "lib/jsonget.h"
#include "lib/util.h"

/* Add a bridge's or network's name to the array ctx, at most CD_MOVE_PEER_MAX. */
static int add_name(const char *name, void *ctx, char *err, size_t errlen)
{
	struct json_object *arr = ctx;

	(void)err;
	(void)errlen;
	if (json_object_array_length(arr) >= CD_MOVE_PEER_MAX)
		return 1;
	if (*name && strlen(name) <= CD_MOVE_PEER_NAME_MAX)
		json_object_array_add(arr, json_object_new_string(name));
	return 0;
}

/* The domain's <cpu> element as text, if it has one with a model or a mode. */
static void add_cpu(xmlDocPtr doc, xmlXPathContextPtr xc, struct json_object *o)
{
	xmlXPathObjectPtr res = xmlXPathEvalExpression((const xmlChar *)"/domain/cpu", xc);
	xmlBufferPtr buf;

	if (res && res->nodesetval && res->nodesetval->nodeNr > 0) {
		buf = xmlBufferCreate();
		if (buf && xmlNodeDump(buf, doc, res->nodesetval->nodeTab[0], 0, 0) > 0)
			json_object_object_add(
				o, "cpu",
				json_object_new_string((const char *)xmlBufferContent(buf)));
		xmlBufferFree(buf);
	}
	xmlXPathFreeObject(res);
}

struct json_object *cd_move_peer_ask(const char *xml, char *err, size_t errlen)
{
	static const struct cd_xml_query bridge = {
		"/domain/devices/interface[@type='bridge']/source/@bridge", add_name};
	static const struct cd_xml_query network = {
		"/domain/devices/interface[@type='network']/source/@network", add_name};
	xmlDocPtr doc = cd_xml_parse(xml);
	xmlXPathContextPtr xc = doc ? xmlXPathNewContext(doc) : NULL;
	struct json_object *o, *bridges, *networks;
	xmlChar *type;

	if (!xc) {
		snprintf(err, errlen, "the VM's domain XML does not parse");
		xmlFreeDoc(doc);
		return NULL;
	}
	o = json_object_new_object();
	bridges = json_object_new_array();
	networks = json_object_new_array();
	type = xmlGetProp(xmlDocGetRootElement(doc), (const xmlChar *)"type");
	json_object_object_add(o, "virttype",
			       json_object_new_string(type ? (const char *)type : "kvm"));
	xmlFree(type);
	add_cpu(doc, xc, o);
	if (cd_xml_each_text(doc, &bridge, 1, bridges, "the VM's bridges", err, errlen) < 0 ||
	    cd_xml_each_text(doc, &network, 1, networks, "the VM's networks", err, errlen) < 0) {
		json_object_put(bridges);
		json_object_put(networks);
		json_object_put(o);
		o = NULL;
	} else {
		json_object_object_add(o, "bridges", bridges);
		json_object_object_add(o, "networks", networks);
	}
	xmlXPathFreeContext(xc);
	xmlFreeDoc(doc);
	return o;
}

/* Add the names in member key of o to a, as "bridge X" or "network X". */
static void add_missing(struct cd_move_peer_answer *a, struct json_object *o, const char *key,
			const char *what)
{
	struct json_object *arr;
	size_t i;

	if (!json_object_object_get_ex(o, key, &arr) || !json_object_is_type(arr, json_type_array))
		return;
	for (i = 0; i < json_object_array_length(arr) && a->n_missing < CD_MOVE_PEER_MAX * 2; i++) {
		const char *n = json_object_get_string(json_object_array_get_idx(arr, i));

		if (!n)
			continue;
		snprintf(a->missing[a->n_missing], sizeof(a->missing[0]), "%s%s", what, n);
		a->missing_ptrs[a->n_missing] = a->missing[a->n_missing];
		a->n_missing++;
	}
}

int cd_move_peer_answer_read(const char *json, struct cd_move_peer_answer *a)
{
	struct json_object *o = json ? json_tokener_parse(json) : NULL;
	const char *cpu, *text;

	memset(a, 0, sizeof(*a));
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return CD_ERR_INVALID;
	}
	cpu = cd_jget_str(o, "cpu");
	a->cpu = cpu && strcmp(cpu, "yes") == 0	 ? CD_MOVE_CPU_YES
		 : cpu && strcmp(cpu, "no") == 0 ? CD_MOVE_CPU_NO
						 : CD_MOVE_CPU_UNKNOWN;
	text = cd_jget_str(o, "cpu_text");
	if (text)
		cd_strlcpy(a->cpu_text, text, sizeof(a->cpu_text));
	/* A bridge is named as it is; a network says so (the report says "bridge"). */
	add_missing(a, o, "missing_bridges", "");
	add_missing(a, o, "missing_networks", "for network ");
	json_object_put(o);
	return 0;
}

void cd_move_peer_answer_facts(const struct cd_move_peer_answer *a, struct cd_move_facts *facts)
{
	facts->cpu_compatible = a->cpu;
	facts->cpu_text = a->cpu_text[0] ? a->cpu_text : NULL;
	facts->missing_bridges = a->missing_ptrs;
	facts->n_missing_bridges = a->n_missing;
}
