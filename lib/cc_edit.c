/*
 * corosync.conf edited in place (see cc_edit.h). The file is checked and
 * its node list read by cd_cc_parse(); this module only finds, line by
 * line with the same grammar, where things are: the node blocks, the end
 * of the nodelist, config_version and two_node. The new text is the old
 * one's lines with a block left out or put in and at most two lines
 * changed.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "lib/cc_edit.h"
#include "lib/util.h"

#define FAIL CD_FAIL

#define MAX_DEPTH 8
#define NO_LINE ((size_t)-1)
#define INDENT_MAX 32

/* Where things are in the file, by line number (0 first). */
struct layout {
	size_t nodelist_close;
	size_t node_open[CD_CC_MAX_NODES], node_close[CD_CC_MAX_NODES];
	char node_name[CD_CC_MAX_NODES][CD_CC_NAME_MAX + 1];
	size_t n_nodes;
	size_t version_line; /* totem's config_version */
	uint64_t version;
	size_t quorum_close, two_node_line;
	char node_indent[INDENT_MAX], key_indent[INDENT_MAX], quorum_indent[INDENT_MAX];
	const char *eol; /* "\n", or "\r\n" for a file written so */
};

/* A line of the text: where it begins and its length without the '\n'. */
struct line {
	const char *s;
	size_t len;
};

/* The scanner's place: the open sections. */
struct scan {
	char names[MAX_DEPTH][32];
	int depth;
};

static bool in(const struct scan *sc, const char *a, const char *b)
{
	return sc->depth == (b ? 2 : 1) && strcmp(sc->names[0], a) == 0 &&
	       (!b || strcmp(sc->names[1], b) == 0);
}

/* line's text without white space at either end, into buf (n bytes). */
static char *trimmed(const struct line *l, char *buf, size_t n)
{
	size_t a = 0, b = l->len;

	while (a < b && (l->s[a] == ' ' || l->s[a] == '\t'))
		a++;
	while (b > a && (l->s[b - 1] == ' ' || l->s[b - 1] == '\t' || l->s[b - 1] == '\r'))
		b--;
	if (b - a >= n)
		b = a + n - 1;
	memcpy(buf, l->s + a, b - a);
	buf[b - a] = '\0';
	return buf;
}

/* The white space a line begins with, into out (INDENT_MAX bytes). */
static void indent_of(const struct line *l, char *out)
{
	size_t k = 0;

	while (k < l->len && k < INDENT_MAX - 1 && (l->s[k] == ' ' || l->s[k] == '\t'))
		k++;
	memcpy(out, l->s, k);
	out[k] = '\0';
}

/* "key: value" into its trimmed parts (in buf); false for another kind of line. */
static bool key_value(char *buf, char **key, char **value)
{
	char *colon = strchr(buf, ':'), *e;

	if (!colon)
		return false;
	*colon = '\0';
	for (e = colon; e > buf && (e[-1] == ' ' || e[-1] == '\t'); e--)
		e[-1] = '\0';
	*key = buf;
	*value = colon + 1;
	while (**value == ' ' || **value == '\t')
		(*value)++;
	return true;
}

/* Split text into lines: *lines is new (free()), a last line without '\n' counted. */
static int split_lines(const char *text, struct line **lines, size_t *n)
{
	size_t count = 0, i = 0;
	const char *p;

	for (p = text; *p; p++)
		count += *p == '\n';
	*lines = calloc(count + 2, sizeof(**lines));
	if (!*lines)
		return -ENOMEM;
	for (p = text; *p; i++) {
		size_t len = strcspn(p, "\n");

		(*lines)[i] = (struct line){p, len};
		p += len + (p[len] == '\n');
	}
	*n = i;
	return 0;
}

/* One line of a section's body: what it says about the layout. */
static void note_key(struct layout *ly, const struct scan *sc, const struct line *l, size_t i,
		     char *key, char *value)
{
	if (in(sc, "totem", NULL) && strcmp(key, "config_version") == 0) {
		ly->version_line = i;
		ly->version = strtoull(value, NULL, 10);
	} else if (in(sc, "quorum", NULL)) {
		if (!ly->quorum_indent[0])
			indent_of(l, ly->quorum_indent);
		if (strcmp(key, "two_node") == 0)
			ly->two_node_line = i;
	} else if (in(sc, "nodelist", "node")) {
		if (ly->n_nodes == 1 && !ly->key_indent[0])
			indent_of(l, ly->key_indent);
		if (strcmp(key, "name") == 0)
			cd_strlcpy(ly->node_name[ly->n_nodes - 1], value, CD_CC_NAME_MAX + 1);
	}
}

/*
 * Find where things are. The text was read by cd_cc_parse() already, so
 * its grammar is known good and its nodes fit; this only records.
 */
static void find_layout(const struct line *lines, size_t n, struct layout *ly)
{
	struct scan sc = {0};
	char buf[1024], *s, *key, *value;
	size_t i, len;

	memset(ly, 0, sizeof(*ly));
	ly->nodelist_close = ly->version_line = ly->quorum_close = ly->two_node_line = NO_LINE;
	ly->eol = n > 0 && lines[0].len > 0 && lines[0].s[lines[0].len - 1] == '\r' ? "\r\n" : "\n";
	for (i = 0; i < n; i++) {
		s = trimmed(&lines[i], buf, sizeof(buf));
		len = strlen(s);
		if (len == 0 || s[0] == '#')
			continue;
		if (strcmp(s, "}") == 0) {
			if (in(&sc, "nodelist", "node"))
				ly->node_close[ly->n_nodes - 1] = i;
			else if (in(&sc, "nodelist", NULL))
				ly->nodelist_close = i;
			else if (in(&sc, "quorum", NULL))
				ly->quorum_close = i;
			if (sc.depth > 0)
				sc.depth--;
		} else if (s[len - 1] == '{') {
			s[len - 1] = '\0';
			while (len > 1 && (s[len - 2] == ' ' || s[len - 2] == '\t'))
				s[--len - 1] = '\0';
			if (sc.depth < MAX_DEPTH)
				cd_strlcpy(sc.names[sc.depth], s, sizeof(sc.names[0]));
			sc.depth++;
			if (in(&sc, "nodelist", "node") && ly->n_nodes < CD_CC_MAX_NODES) {
				if (ly->n_nodes == 0)
					indent_of(&lines[i], ly->node_indent);
				ly->node_open[ly->n_nodes++] = i;
			}
		} else if (key_value(s, &key, &value)) {
			note_key(ly, &sc, &lines[i], i, key, value);
		}
	}
	/* A file whose first node has no indented key: the template's. */
	if (!ly->key_indent[0]) {
		size_t k = strlen(ly->node_indent);

		memcpy(ly->key_indent, ly->node_indent, k);
		ly->key_indent[k < INDENT_MAX - 1 ? k++ : k - 1] = '\t';
		ly->key_indent[k] = '\0';
	}
	if (!ly->quorum_indent[0])
		cd_strlcpy(ly->quorum_indent, "\t", INDENT_MAX);
}

/* What the new text is: the old one's lines, with these changes. */
struct edit {
	size_t skip_from, skip_to;    /* lines left out, both ends included (NO_LINE: none) */
	size_t insert_before;	      /* the new node's block goes before this line */
	const struct cd_cc_node *add; /* that block's node, or NULL */
	bool drop_two_node, put_two_node;
};

static void put_line(FILE *f, const struct line *l)
{
	fwrite(l->s, 1, l->len, f);
	/* A last line without its '\n' keeps none. */
	if (l->s[l->len] == '\n')
		fputc('\n', f);
}

static void put_node(FILE *f, const struct layout *ly, const struct cd_cc_node *n)
{
	fprintf(f, "%snode {%s", ly->node_indent, ly->eol);
	fprintf(f, "%sring0_addr: %s%s", ly->key_indent, n->addr, ly->eol);
	fprintf(f, "%sname: %s%s", ly->key_indent, n->name, ly->eol);
	fprintf(f, "%snodeid: %" PRIu32 "%s", ly->key_indent, n->nodeid, ly->eol);
	fprintf(f, "%s}%s", ly->node_indent, ly->eol);
}

/* The new text, as a new string (NULL without memory). */
static char *render(const struct line *lines, size_t n, const struct layout *ly,
		    const struct edit *ed, struct cd_cce_change *ch)
{
	char *text = NULL, indent[INDENT_MAX];
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	ch->version_bumped = ly->version_line != NO_LINE;
	ch->config_version = ly->version + 1;
	for (i = 0; i < n; i++) {
		if (ed->skip_from != NO_LINE && i >= ed->skip_from && i <= ed->skip_to)
			continue;
		if (ed->add && i == ed->insert_before)
			put_node(f, ly, ed->add);
		if (ed->put_two_node && i == ly->quorum_close)
			fprintf(f, "%stwo_node: 1%s", ly->quorum_indent, ly->eol);
		if (ed->drop_two_node && i == ly->two_node_line)
			continue;
		if (i == ly->version_line) {
			indent_of(&lines[i], indent);
			fprintf(f, "%sconfig_version: %" PRIu64 "%s", indent, ch->config_version,
				ly->eol);
			continue;
		}
		put_line(f, &lines[i]);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* Split, find, and render with ed; the result read back as a check. */
static int edit_text(const char *text, struct edit *ed, size_t want_nodes, char **out,
		     struct cd_cce_change *ch, const char *remove_name, char *err, size_t errlen)
{
	struct line *lines;
	struct layout ly;
	struct cd_cc check;
	size_t n, i;
	int rc;

	*out = NULL;
	if ((rc = split_lines(text, &lines, &n)) < 0)
		FAIL(rc, "out of memory");
	find_layout(lines, n, &ly);
	rc = CD_ERR_INVALID;
	if (ly.nodelist_close == NO_LINE) {
		snprintf(err, errlen,
			 "the nodelist section is not closed where clusterctl can see");
		goto out_free;
	}
	ed->insert_before = ly.nodelist_close;
	for (i = 0; remove_name && i < ly.n_nodes; i++)
		if (strcmp(ly.node_name[i], remove_name) == 0) {
			ed->skip_from = ly.node_open[i];
			ed->skip_to = ly.node_close[i];
		}
	ed->drop_two_node = want_nodes > 2 && ly.two_node_line != NO_LINE;
	ed->put_two_node =
		want_nodes == 2 && ly.two_node_line == NO_LINE && ly.quorum_close != NO_LINE;
	*out = render(lines, n, &ly, ed, ch);
	if (!*out) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out_free;
	}
	/* What was written must read back with the nodes it should have. */
	if ((rc = cd_cc_parse(&check, *out, err, errlen)) == 0 && check.n_nodes != want_nodes) {
		rc = CD_ERR_INVALID;
		snprintf(err, errlen, "the edited file has %zu nodes, not %zu: left unchanged",
			 check.n_nodes, want_nodes);
	}
	if (rc < 0) {
		free(*out);
		*out = NULL;
	}
	ch->n_nodes = want_nodes;
out_free:
	free(lines);
	return rc;
}

int cd_cce_split_host(const char *host, char *name, char *addr, char *err, size_t errlen)
{
	size_t eq = strcspn(host, "=");

	if (eq == 0)
		FAIL(CD_ERR_INVALID, "'%s': no node name (HOST is NAME or NAME=ADDRESS)", host);
	if (eq > CD_CC_NAME_MAX)
		FAIL(CD_ERR_INVALID, "'%.*s': a node name has at most %d characters", (int)eq, host,
		     CD_CC_NAME_MAX);
	memcpy(name, host, eq);
	name[eq] = '\0';
	addr[0] = '\0';
	if (!host[eq])
		return 0;
	if (!host[eq + 1])
		FAIL(CD_ERR_INVALID, "'%s': no address after '='", host);
	if (strlen(host + eq + 1) > CD_CC_ADDR_MAX)
		FAIL(CD_ERR_INVALID, "node %s: the address is too long", name);
	cd_strlcpy(addr, host + eq + 1, CD_CC_ADDR_MAX + 1);
	return 0;
}

/* cc's node named name, or NULL. */
static const struct cd_cc_node *node_named(const struct cd_cc *cc, const char *name)
{
	size_t i;

	for (i = 0; i < cc->n_nodes; i++)
		if (strcmp(cc->nodes[i].name, name) == 0)
			return &cc->nodes[i];
	return NULL;
}

/* Both edits begin alike: nothing out yet, no change told, text's nodelist into cc. */
static int edit_begin(const char *text, struct cd_cc *cc, char **out, struct cd_cce_change *ch,
		      char *err, size_t errlen)
{
	*out = NULL;
	memset(ch, 0, sizeof(*ch));
	return cd_cc_parse(cc, text, err, errlen);
}

int cd_cce_add(const char *text, const char *name, const char *addr, char **out,
	       struct cd_cce_change *ch, char *err, size_t errlen)
{
	struct edit ed = {NO_LINE, NO_LINE, 0, NULL, false, false};
	const struct cd_cc_node *old;
	struct cd_cc cc;
	int rc;

	if ((rc = edit_begin(text, &cc, out, ch, err, errlen)) < 0)
		return rc;
	/* Said here as node add's user sees it ("named twice" is cluster create's list). */
	if ((old = node_named(&cc, name)))
		FAIL(CD_ERR_EXISTS,
		     "node %s is in corosync.conf's nodelist already (id %" PRIu32
		     ", %s): give the new node another name",
		     name, old->nodeid, old->addr);
	if ((rc = cd_cc_add_node(&cc, name, addr && *addr ? addr : NULL, err, errlen)) < 0)
		return rc;
	if ((old = node_named(&cc, name)))
		ch->node = *old;
	ed.add = &ch->node;
	return edit_text(text, &ed, cc.n_nodes, out, ch, NULL, err, errlen);
}

int cd_cce_remove(const char *text, const char *name, char **out, struct cd_cce_change *ch,
		  char *err, size_t errlen)
{
	struct edit ed = {NO_LINE, NO_LINE, 0, NULL, false, false};
	const struct cd_cc_node *gone;
	struct cd_cc cc;
	int rc;

	if ((rc = edit_begin(text, &cc, out, ch, err, errlen)) < 0)
		return rc;
	if (!(gone = node_named(&cc, name)))
		FAIL(CD_ERR_NOT_FOUND, "no node %s in corosync.conf's nodelist", name);
	ch->node = *gone;
	if (cc.n_nodes - 1 < CD_CCE_MIN_NODES)
		FAIL(CD_ERR_INVALID,
		     "removing %s would leave %zu node%s: a failover cluster needs %d or more",
		     name, cc.n_nodes - 1, cc.n_nodes - 1 == 1 ? "" : "s", CD_CCE_MIN_NODES);
	return edit_text(text, &ed, cc.n_nodes - 1, out, ch, name, err, errlen);
}
