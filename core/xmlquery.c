/* Reading XML the project is given (xmlquery.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlsave.h>
#include <libxml/xpath.h>

#include <clusterd/result.h>

#include "core/xmlquery.h"

xmlDocPtr cd_xml_parse(const char *xml)
{
	return xml ? xmlReadMemory(xml, (int)strlen(xml), "input.xml", NULL,
				   XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)
		   : NULL;
}

int cd_xml_each_text(xmlDocPtr doc, const struct cd_xml_query *q, size_t n, void *ctx,
		     const char *what, char *err, size_t errlen)
{
	xmlXPathContextPtr xc = xmlXPathNewContext(doc);
	size_t k;
	int i, rc = 0;

	for (k = 0; k < n && rc >= 0; k++) {
		xmlXPathObjectPtr res =
			xc ? xmlXPathEvalExpression((const xmlChar *)q[k].expr, xc) : NULL;

		if (!res) {
			snprintf(err, errlen, "cannot read %s", what);
			rc = CD_ERR_INVALID;
			break;
		}
		rc = 0;
		for (i = 0; rc == 0 && res->nodesetval && i < res->nodesetval->nodeNr; i++) {
			xmlChar *v = xmlNodeGetContent(res->nodesetval->nodeTab[i]);

			rc = q[k].fn(v ? (const char *)v : "", ctx, err, errlen);
			xmlFree(v);
		}
		xmlXPathFreeObject(res);
	}
	if (xc)
		xmlXPathFreeContext(xc);
	return rc < 0 ? rc : 0;
}

char *cd_xml_text(xmlDocPtr doc)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlSaveCtxtPtr save = buf ? xmlSaveToBuffer(buf, NULL, XML_SAVE_NO_DECL) : NULL;
	char *s = NULL;
	size_t len;

	if (save && xmlSaveDoc(save, doc) >= 0) {
		xmlSaveClose(save);
		save = NULL;
		s = strdup((const char *)xmlBufferContent(buf));
		/* xmlSaveDoc ends the document with a newline: not part of it. */
		len = s ? strlen(s) : 0;
		if (len && s[len - 1] == '\n')
			s[len - 1] = '\0';
	}
	if (save)
		xmlSaveClose(save);
	xmlBufferFree(buf);
	return s;
}
