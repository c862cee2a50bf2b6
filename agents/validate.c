/*
 * Domain XML checked against libvirt's own schema and parser (vm_agent.h:
 * cd_vm_agent_validate), in libvirt's test driver in this process: nothing
 * is defined anywhere, and no libvirtd is needed.
 *
 * What a check costs is what a vm.add waits for. libvirt's own schema
 * check (VIR_DOMAIN_DEFINE_VALIDATE) parses its RELAX NG schema anew at
 * every call, some 10 ms, and opening the test driver builds its default
 * objects each time. So the schema (domain.rng in libvirt's schema
 * directory) is parsed once with libxml2, each document is validated
 * against it (well under a millisecond), and one test-driver connection,
 * emptied of the driver's default domain so that its name ("test") is
 * free, serves every call. Where the schema cannot be read, libvirt
 * validates as before.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlversion.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "lib/util.h"

static virConnectPtr test_conn;
static xmlRelaxNGPtr schema;
static bool schema_tried;

/* libvirt prints errors to stderr by default; we report them ourselves. */
static void quiet_errors(void *data, virErrorPtr e)
{
}

/* The test driver's connection, without its default domains. */
static virConnectPtr test_driver(char *err, size_t errlen)
{
	virDomainPtr *doms = NULL;
	int n, i;

	if (test_conn)
		return test_conn;
	virSetErrorFunc(NULL, quiet_errors);
	test_conn = virConnectOpen("test:///default");
	if (!test_conn) {
		snprintf(err, errlen, "cannot open libvirt's test driver: %s",
			 cd_agent_last_error());
		return NULL;
	}
	n = virConnectListAllDomains(test_conn, &doms, 0);
	for (i = 0; i < n; i++) {
		if (virDomainIsActive(doms[i]) == 1)
			virDomainDestroy(doms[i]);
		virDomainUndefine(doms[i]);
		virDomainFree(doms[i]);
	}
	free(doms);
	return test_conn;
}

/* libxml2's messages from the parse and the validation, on one line. */
struct xml_errors {
	char *buf;
	size_t len;
};

/* libxml2 2.12 made the error it passes const. */
#if LIBXML_VERSION >= 21200
#define CD_XML_ERROR const xmlError
#else
#define CD_XML_ERROR xmlError
#endif

static void collect_error(void *data, CD_XML_ERROR *e)
{
	struct xml_errors *x = data;
	size_t used = strlen(x->buf);
	const char *msg = e && e->message ? e->message : "unknown error";

	if (used + 3 >= x->len)
		return;
	snprintf(x->buf + used, x->len - used, "%s%s", used ? "; " : "", msg);
	used = strlen(x->buf);
	while (used && x->buf[used - 1] == '\n')
		x->buf[--used] = '\0';
	for (char *p = x->buf; (p = strchr(p, '\n'));)
		*p = ' ';
}

static xmlRelaxNGPtr domain_schema(void)
{
	xmlRelaxNGParserCtxtPtr p;

	if (schema_tried)
		return schema;
	schema_tried = true;
	p = xmlRelaxNGNewParserCtxt(CD_LIBVIRT_SCHEMA_DIR "/domain.rng");
	if (!p)
		return NULL;
	xmlRelaxNGSetParserStructuredErrors(p, NULL, NULL);
	schema = xmlRelaxNGParse(p);
	xmlRelaxNGFreeParserCtxt(p);
	return schema;
}

/*
 * 1 if xml is valid against libvirt's domain schema, 0 if it is not (err
 * says why), -1 if that cannot be told here (no schema, or XML too broken
 * to parse: libvirt's parser then says what is wrong).
 */
static int schema_valid(const char *xml, char *err, size_t errlen)
{
	char why[400] = "";
	struct xml_errors x = {why, sizeof(why)};
	xmlRelaxNGValidCtxtPtr v;
	xmlDocPtr doc;
	int rc;

	if (!domain_schema())
		return -1;
	doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return -1;
	v = xmlRelaxNGNewValidCtxt(schema);
	if (!v) {
		xmlFreeDoc(doc);
		return -1;
	}
	xmlRelaxNGSetValidStructuredErrors(v, collect_error, &x);
	rc = xmlRelaxNGValidateDoc(v, doc);
	xmlRelaxNGFreeValidCtxt(v);
	xmlFreeDoc(doc);
	if (rc == 0)
		return 1;
	snprintf(err, errlen, "invalid domain XML: it does not follow libvirt's domain schema: %s",
		 why[0] ? why : "no reason given");
	return 0;
}

int cd_vm_agent_validate(const char *xml, char *name, size_t name_len, char *uuid, uint32_t *vcpus,
			 uint64_t *memory_mb, char *err, size_t errlen)
{
	virConnectPtr c;
	virDomainPtr d;
	virDomainInfo info;
	unsigned flags = VIR_DOMAIN_DEFINE_VALIDATE;
	int rc = 0;

	if (!(c = test_driver(err, errlen)))
		return CD_ERR_INVALID;
	switch (schema_valid(xml, err, errlen)) {
	case 0:
		return CD_ERR_INVALID;
	case 1:
		flags = 0; /* checked already */
		break;
	default:
		break;
	}
	d = virDomainDefineXMLFlags(c, xml, flags);
	if (!d) {
		char m[400], *p;

		/* libvirt's schema errors span lines: one line for a person. */
		cd_strlcpy(m, cd_agent_last_error(), sizeof(m));
		for (p = m; (p = strchr(p, '\n'));)
			*p = p[1] ? ';' : '\0';
		snprintf(err, errlen, "invalid domain XML: %s", m);
		return CD_ERR_INVALID;
	}
	if (virDomainGetInfo(d, &info) < 0 || virDomainGetUUIDString(d, uuid) < 0) {
		snprintf(err, errlen, "cannot read the domain XML: %s", cd_agent_last_error());
		rc = CD_ERR_INVALID;
	} else {
		cd_strlcpy(name, virDomainGetName(d), name_len);
		*vcpus = info.nrVirtCpu;
		*memory_mb = (info.maxMem + 1023) / 1024;
	}
	virDomainUndefine(d);
	virDomainFree(d);
	return rc;
}
