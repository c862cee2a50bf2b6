/*
 * corosync.conf: the template (cd_cc_render()) and the reader of the node
 * list (cd_cc_parse()). corosync has no library that parses its file, so
 * the reader follows corosync's own parser (exec/coroparse.c) for the
 * grammar: one item per line, "section {", "}", "key: value", and '#'
 * comments on lines of their own.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "lib/corosync_conf.h"
#include "lib/util.h"

#define FAIL CD_FAIL

int cd_cc_valid_name(const char *s)
{
	return cd_valid_name(s, CD_CC_NAME_MAX) &&
	       ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
		(s[0] >= '0' && s[0] <= '9'));
}

/*
 * An IP literal into its canonical text (out, CD_CC_ADDR_MAX + 1 bytes),
 * so that two spellings of one address are seen as one. Returns whether s
 * is one.
 */
static bool canonical_ip(const char *s, char *out)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, s, buf) == 1)
		return inet_ntop(AF_INET, buf, out, CD_CC_ADDR_MAX + 1) != NULL;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return inet_ntop(AF_INET6, buf, out, CD_CC_ADDR_MAX + 1) != NULL;
	return false;
}

/* AF_INET or AF_INET6 for an IP literal, 0 for a name. */
static int family(const char *addr)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, addr, buf) == 1)
		return AF_INET;
	return inet_pton(AF_INET6, addr, buf) == 1 ? AF_INET6 : 0;
}

/* A DNS name: dot-separated labels of letters, digits and '-', none empty or edged by '-'. */
static bool valid_dns_name(const char *s)
{
	size_t len = strlen(s), label = 0, i;

	if (len == 0 || len > CD_CC_ADDR_MAX)
		return false;
	for (i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-') ||
		    (label == 0 && c == '-') || ++label > 63)
			return false;
	}
	return true;
}

int cd_cc_init(struct cd_cc *cc, const char *cluster_name, uint32_t token_ms, char *err,
	       size_t errlen)
{
	memset(cc, 0, sizeof(*cc));
	if (!cd_cc_valid_name(cluster_name))
		FAIL(CD_ERR_INVALID,
		     "invalid cluster name '%s': 1 to %d letters, digits, '.', '_' or '-', "
		     "beginning with a letter or digit",
		     cluster_name, CD_CC_NAME_MAX);
	if (token_ms == 0)
		token_ms = CD_CC_TOKEN_DEFAULT_MS;
	if (token_ms < CD_CC_TOKEN_MIN_MS || token_ms > CD_CC_TOKEN_MAX_MS)
		FAIL(CD_ERR_INVALID, "token %u ms: takes %u to %u ms", token_ms, CD_CC_TOKEN_MIN_MS,
		     CD_CC_TOKEN_MAX_MS);
	cd_strlcpy(cc->cluster_name, cluster_name, sizeof(cc->cluster_name));
	cc->token_ms = token_ms;
	return 0;
}

static int check_name(const char *name, char *err, size_t errlen)
{
	if (!cd_cc_valid_name(name))
		FAIL(CD_ERR_INVALID,
		     "invalid node name '%s': 1 to %d letters, digits, '.', '_' or '-', "
		     "beginning with a letter or digit",
		     name, CD_CC_NAME_MAX);
	return 0;
}

/*
 * Add a node as given (nodeid too): the checks common to a new node and
 * one read from a file. addr is an IP literal or a DNS name.
 */
static int add_node(struct cd_cc *cc, uint32_t nodeid, const char *name, const char *addr,
		    char *err, size_t errlen)
{
	struct cd_cc_node *n;
	char canon[CD_CC_ADDR_MAX + 1];
	size_t i, at;

	if (check_name(name, err, errlen) < 0)
		return CD_ERR_INVALID;
	if (!canonical_ip(addr, canon)) {
		if (!valid_dns_name(addr))
			FAIL(CD_ERR_INVALID,
			     "node %s: '%s' is neither an IP address nor a host name", name, addr);
		cd_strlcpy(canon, addr, sizeof(canon));
	}
	if (nodeid == 0)
		FAIL(CD_ERR_INVALID, "node %s: node id 0 is not one", name);
	for (i = 0; i < cc->n_nodes; i++) {
		n = &cc->nodes[i];
		if (strcmp(n->name, name) == 0)
			FAIL(CD_ERR_EXISTS, "node %s is named twice", name);
		if (strcmp(n->addr, canon) == 0)
			FAIL(CD_ERR_EXISTS, "nodes %s and %s have the same address %s", n->name,
			     name, canon);
		if (n->nodeid == nodeid)
			FAIL(CD_ERR_EXISTS, "nodes %s and %s have the same node id %u", n->name,
			     name, nodeid);
		/* corosync refuses a link whose addresses are of two families. */
		if (family(n->addr) && family(canon) && family(n->addr) != family(canon))
			FAIL(CD_ERR_INVALID,
			     "nodes %s (%s) and %s (%s): IPv4 and IPv6 cannot share corosync's link",
			     n->name, n->addr, name, canon);
	}
	if (cc->n_nodes >= CD_CC_MAX_NODES)
		FAIL(CD_ERR_INVALID, "node %s: a cluster has at most %d nodes", name,
		     CD_CC_MAX_NODES);
	/* Keep nodeid order: a file may list its nodes in any. */
	for (at = cc->n_nodes; at > 0 && cc->nodes[at - 1].nodeid > nodeid; at--)
		cc->nodes[at] = cc->nodes[at - 1];
	n = &cc->nodes[at];
	memset(n, 0, sizeof(*n));
	n->nodeid = nodeid;
	cd_strlcpy(n->name, name, sizeof(n->name));
	cd_strlcpy(n->addr, canon, sizeof(n->addr));
	cc->n_nodes++;
	return 0;
}

int cd_cc_add_node(struct cd_cc *cc, const char *name, const char *addr, char *err, size_t errlen)
{
	char canon[CD_CC_ADDR_MAX + 1];
	uint32_t id = cc->n_nodes ? cc->nodes[cc->n_nodes - 1].nodeid + 1 : 1;

	if (check_name(name, err, errlen) < 0)
		return CD_ERR_INVALID;
	if (addr && !canonical_ip(addr, canon))
		FAIL(CD_ERR_INVALID, "node %s: '%s' is not an IPv4 or IPv6 address", name, addr);
	if (id == 0)
		FAIL(CD_ERR_INVALID, "node %s: no node id is left above the highest", name);
	return add_node(cc, id, name, addr ? addr : name, err, errlen);
}

int cd_cc_remove_node(struct cd_cc *cc, const char *name, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < cc->n_nodes && strcmp(cc->nodes[i].name, name) != 0; i++)
		;
	if (i == cc->n_nodes)
		FAIL(CD_ERR_NOT_FOUND, "no node %s in the cluster", name);
	if (cc->n_nodes == 1)
		FAIL(CD_ERR_INVALID, "node %s is the cluster's last node", name);
	memmove(&cc->nodes[i], &cc->nodes[i + 1], (cc->n_nodes - i - 1) * sizeof(cc->nodes[0]));
	cc->n_nodes--;
	return 0;
}

int cd_cc_add_hosts(struct cd_cc *cc, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	if (!*list)
		FAIL(CD_ERR_INVALID,
		     "no nodes: --nodes HOST1,HOST2,... (HOST: NAME or NAME=ADDRESS)");
	for (;;) {
		size_t len = strcspn(p, ","), eq = strcspn(p, "=");
		char host[CD_CC_NAME_MAX + CD_CC_ADDR_MAX + 2];
		int rc;

		if (len == 0)
			FAIL(CD_ERR_INVALID, "an empty host in --nodes '%s'", list);
		if (len >= sizeof(host))
			FAIL(CD_ERR_INVALID, "host '%.*s' is too long", (int)len, p);
		memcpy(host, p, len);
		host[len] = '\0';
		if (eq < len) {
			host[eq] = '\0';
			rc = cd_cc_add_node(cc, host, host + eq + 1, err, errlen);
		} else {
			rc = cd_cc_add_node(cc, host, NULL, err, errlen);
		}
		if (rc < 0)
			return rc;
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

char *cd_cc_render(const struct cd_cc *cc)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f,
		"# corosync.conf of the cluster %s, written by clusterctl.\n"
		"# clusterctl reads the node list back to add or remove a node and writes the\n"
		"# rest anew: keep one ring0_addr, name and nodeid per node.\n"
		"totem {\n"
		"\tversion: 2\n"
		"\tcluster_name: %s\n"
		"\ttransport: knet\n"
		"\tcrypto_cipher: aes256\n"
		"\tcrypto_hash: sha256\n"
		"\ttoken: %u\n"
		"\tlink_mode: passive\n"
		"}\n\n"
		"nodelist {\n",
		cc->cluster_name, cc->cluster_name, cc->token_ms);
	for (i = 0; i < cc->n_nodes; i++)
		fprintf(f,
			"\tnode {\n"
			"\t\tring0_addr: %s\n"
			"\t\tname: %s\n"
			"\t\tnodeid: %u\n"
			"\t}\n",
			cc->nodes[i].addr, cc->nodes[i].name, cc->nodes[i].nodeid);
	/*
	 * Two nodes: each keeps quorum alone once both were seen (two_node
	 * implies wait_for_all); fencing and the host leases keep them apart.
	 */
	fprintf(f,
		"}\n\n"
		"quorum {\n"
		"\tprovider: corosync_votequorum\n"
		"%s"
		"}\n\n"
		"logging {\n"
		"\tto_syslog: yes\n"
		"\ttimestamp: on\n"
		"}\n",
		cc->n_nodes == 2 ? "\ttwo_node: 1\n" : "");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---------------------------------------------------------------- reading */

#define MAX_DEPTH 8
#define MAX_LINE 1024

/* What the reader has seen so far. */
struct reader {
	char names[MAX_DEPTH][32]; /* the open sections */
	int depth;
	unsigned line;
	bool have_name, have_token;
	/* the node being read */
	bool have_id, have_node_name, have_addr;
	uint32_t id;
	char node_name[CD_CC_NAME_MAX + 1];
	char addr[CD_CC_ADDR_MAX + 1];
};

/* Whether the open sections are exactly a, then b (NULL: only a). */
static bool in(const struct reader *r, const char *a, const char *b)
{
	return r->depth == (b ? 2 : 1) && strcmp(r->names[0], a) == 0 &&
	       (!b || strcmp(r->names[1], b) == 0);
}

/* A decimal number from 1 to max. */
static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return false;
	}
	*out = (uint32_t)v;
	return v > 0;
}

/* Copy a value of at most max bytes into out (max + 1 bytes). */
static int take(const struct reader *r, const char *key, const char *value, char *out, size_t max,
		char *err, size_t errlen)
{
	if (strlen(value) > max)
		FAIL(CD_ERR_INVALID, "line %u: %s is longer than %zu bytes", r->line, key, max);
	cd_strlcpy(out, value, max + 1);
	return 0;
}

static int key_value(struct cd_cc *cc, struct reader *r, const char *key, const char *value,
		     char *err, size_t errlen)
{
	if (in(r, "totem", NULL) && strcmp(key, "cluster_name") == 0) {
		r->have_name = true;
		return take(r, key, value, cc->cluster_name, CD_CC_NAME_MAX, err, errlen);
	}
	if (in(r, "totem", NULL) && strcmp(key, "token") == 0) {
		if (!parse_u32(value, UINT32_MAX, &cc->token_ms))
			FAIL(CD_ERR_INVALID, "line %u: token '%s' is not a number of ms", r->line,
			     value);
		r->have_token = true;
		return 0;
	}
	if (!in(r, "nodelist", "node"))
		return 0;
	if (strcmp(key, "nodeid") == 0) {
		if (!parse_u32(value, UINT32_MAX, &r->id))
			FAIL(CD_ERR_INVALID, "line %u: nodeid '%s' is not a number above 0",
			     r->line, value);
		r->have_id = true;
		return 0;
	}
	if (strcmp(key, "name") == 0) {
		r->have_node_name = true;
		return take(r, key, value, r->node_name, CD_CC_NAME_MAX, err, errlen);
	}
	if (strcmp(key, "ring0_addr") == 0) {
		r->have_addr = true;
		return take(r, key, value, r->addr, CD_CC_ADDR_MAX, err, errlen);
	}
	FAIL(CD_ERR_INVALID,
	     "line %u: a node's %s cannot be kept (only ring0_addr, name and nodeid are)", r->line,
	     key);
}

static int open_section(struct reader *r, const char *name, char *err, size_t errlen)
{
	if (!*name)
		FAIL(CD_ERR_INVALID, "line %u: a section without a name", r->line);
	if (r->depth >= MAX_DEPTH || strlen(name) >= sizeof(r->names[0]))
		FAIL(CD_ERR_INVALID, "line %u: section '%s' nested too deep or named too long",
		     r->line, name);
	cd_strlcpy(r->names[r->depth++], name, sizeof(r->names[0]));
	if (in(r, "nodelist", "node")) {
		r->have_id = r->have_node_name = r->have_addr = false;
		r->node_name[0] = r->addr[0] = '\0';
	}
	return 0;
}

static int close_section(struct cd_cc *cc, struct reader *r, char *err, size_t errlen)
{
	if (r->depth == 0)
		FAIL(CD_ERR_INVALID, "line %u: '}' closes no section", r->line);
	if (in(r, "nodelist", "node")) {
		if (!r->have_id || !r->have_node_name || !r->have_addr)
			FAIL(CD_ERR_INVALID, "line %u: a node needs ring0_addr, name and nodeid",
			     r->line);
		r->depth--;
		return add_node(cc, r->id, r->node_name, r->addr, err, errlen);
	}
	r->depth--;
	return 0;
}

/* Strip leading and trailing white space (and a CR) off s in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One line (a copy the reader may cut up). */
static int parse_line(struct cd_cc *cc, struct reader *r, char *line, char *err, size_t errlen)
{
	char *s = trim(line), *colon;
	size_t len = strlen(s);

	if (len == 0 || s[0] == '#')
		return 0;
	if (strcmp(s, "}") == 0)
		return close_section(cc, r, err, errlen);
	if (s[len - 1] == '{') {
		s[len - 1] = '\0';
		return open_section(r, trim(s), err, errlen);
	}
	colon = strchr(s, ':');
	if (!colon)
		FAIL(CD_ERR_INVALID, "line %u: neither 'key: value', 'section {' nor '}'", r->line);
	*colon = '\0';
	if (!*trim(s))
		FAIL(CD_ERR_INVALID, "line %u: a value without a key", r->line);
	return key_value(cc, r, trim(s), trim(colon + 1), err, errlen);
}

int cd_cc_parse(struct cd_cc *cc, const char *text, char *err, size_t errlen)
{
	struct reader r;
	const char *p = text;
	int rc;

	memset(cc, 0, sizeof(*cc));
	memset(&r, 0, sizeof(r));
	while (*p) {
		size_t len = strcspn(p, "\n");
		char line[MAX_LINE];

		r.line++;
		if (len >= sizeof(line))
			FAIL(CD_ERR_INVALID, "line %u is longer than %d bytes", r.line,
			     MAX_LINE - 1);
		memcpy(line, p, len);
		line[len] = '\0';
		rc = parse_line(cc, &r, line, err, errlen);
		if (rc < 0)
			return rc;
		p += len + (p[len] == '\n');
	}
	if (r.depth > 0)
		FAIL(CD_ERR_INVALID, "section %s is not closed", r.names[r.depth - 1]);
	if (!r.have_name)
		FAIL(CD_ERR_INVALID, "no totem cluster_name");
	if (!cd_cc_valid_name(cc->cluster_name))
		FAIL(CD_ERR_INVALID, "cluster_name '%s' is not one clusterctl writes",
		     cc->cluster_name);
	if (!r.have_token)
		cc->token_ms = CD_CC_TOKEN_DEFAULT_MS; /* corosync's own default */
	if (cc->n_nodes == 0)
		FAIL(CD_ERR_INVALID, "no nodelist with nodes");
	return 0;
}
