/*
 * Reading XML the project is given (libvirt's domain XML and domain
 * capabilities): one parser setting, and XPath queries whose matches are
 * handed over as text. Pure: libxml2 only.
 */
#ifndef CD_XMLQUERY_H
#define CD_XMLQUERY_H

#include <stddef.h>

#include <libxml/tree.h>

/* xml parsed without network access or messages on stderr; NULL if it does not parse. */
xmlDocPtr cd_xml_parse(const char *xml);

/* What to do with the text of one node a query selects: <0 an error, 1 enough, 0 go on. */
typedef int cd_xml_text_fn(const char *text, void *ctx, char *err, size_t errlen);

/* An XPath expression and what to do with the text of each node it selects. */
struct cd_xml_query {
	const char *expr;
	cd_xml_text_fn *fn;
};

/*
 * Run each of the n queries on doc in turn, calling its fn on the nodes it
 * selects in document order, until one returns an error. Returns 0, an fn's
 * error, or CD_ERR_INVALID with err set to "cannot read what" when a query
 * cannot be run.
 */
int cd_xml_each_text(xmlDocPtr doc, const struct cd_xml_query *q, size_t n, void *ctx,
		     const char *what, char *err, size_t errlen);

/*
 * doc as text (malloc'd) without the XML declaration, and without the
 * newline libxml2 ends a saved document with; NULL if out of memory.
 */
char *cd_xml_text(xmlDocPtr doc);

#endif
