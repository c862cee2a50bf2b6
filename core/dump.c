/* clusterctl debug dump's pure parts (dump.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/dump.h"
#include "core/msg.h"
#include "lib/jsonget.h"
#include "lib/util.h"

struct json_object *cd_dump_request_build(uint32_t id)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "dump", json_object_new_int64(id));
	return o;
}

int cd_dump_request_parse(const struct json_object *body, uint64_t token, uint32_t sender,
			  uint32_t *id, char *err, size_t errlen)
{
	uint64_t v;

	if (cd_jget_u64(body, "dump", &v) < 0 || v > UINT32_MAX) {
		snprintf(err, errlen, "a dump request without its dump id");
		return CD_ERR_PROTOCOL;
	}
	if (cd_msg_token_node(token) != sender || cd_msg_token_id(token) != v) {
		snprintf(err, errlen, "a dump request from node %u names another's dump", sender);
		return CD_ERR_PROTOCOL;
	}
	*id = (uint32_t)v;
	return 0;
}

char *cd_dump_answer_build(const struct cd_dump_answer *a, size_t *len)
{
	struct json_object *o = json_object_new_object(), *v = json_object_new_object();
	const char *text;
	char *out = NULL;

	json_object_object_add(o, "node", json_object_new_string(a->node));
	json_object_object_add(o, "nodeid", json_object_new_int64(a->nodeid));
	json_object_object_add(v, "epoch", json_object_new_int64((int64_t)a->version.epoch));
	json_object_object_add(v, "seq", json_object_new_int64((int64_t)a->version.seq));
	json_object_object_add(o, "version", v);
	json_object_object_add(o, "status", json_object_get(a->status));
	json_object_object_add(o, "blackbox",
			       a->text ? json_object_new_string_len(a->text, (int)a->text_len)
				       : NULL);
	json_object_object_add(o, "truncated", json_object_new_boolean(a->truncated));
	if (*a->error)
		json_object_object_add(o, "error", json_object_new_string(a->error));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (text) {
		*len = strlen(text);
		out = strdup(text);
	}
	json_object_put(o);
	return out;
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		goto bad;                                                                          \
	} while (0)

int cd_dump_answer_parse(const char *text, size_t len, struct cd_dump_answer *a, char *err,
			 size_t errlen)
{
	struct json_object *o = NULL, *v, *ver;
	const char *s;
	uint64_t n;

	memset(a, 0, sizeof(*a));
	if (cd_json_parse_object(text, len, &o) < 0)
		BAD("a dump answer that is not a JSON object");
	s = cd_jget_str(o, "node");
	if (!s || !*s || strlen(s) > CD_NAME_MAX)
		BAD("a dump answer without a valid node name");
	cd_strlcpy(a->node, s, sizeof(a->node));
	if (cd_jget_u64(o, "nodeid", &n) < 0 || n == 0 || n > UINT32_MAX)
		BAD("a dump answer without a node id");
	a->nodeid = (uint32_t)n;
	if (!json_object_object_get_ex(o, "version", &ver) ||
	    cd_jget_u64(ver, "epoch", &a->version.epoch) < 0 ||
	    cd_jget_u64(ver, "seq", &a->version.seq) < 0)
		BAD("a dump answer without a state version");
	if (json_object_object_get_ex(o, "status", &v) && v) {
		if (!json_object_is_type(v, json_type_object))
			BAD("a dump answer whose status is not an object");
		a->status = json_object_get(v);
	}
	if (json_object_object_get_ex(o, "blackbox", &v) && v) {
		if (!json_object_is_type(v, json_type_string))
			BAD("a dump answer whose blackbox is not text");
		a->text_len = (size_t)json_object_get_string_len(v);
		if (a->text_len > CD_DUMP_TEXT_MAX)
			BAD("a dump answer with %zu bytes of text, above the cap of %u",
			    a->text_len, CD_DUMP_TEXT_MAX);
		a->text = malloc(a->text_len + 1);
		if (!a->text)
			BAD("out of memory");
		memcpy(a->text, json_object_get_string(v), a->text_len);
		a->text[a->text_len] = '\0';
	}
	a->truncated = cd_jget_bool_or(o, "truncated", false);
	s = cd_jget_str(o, "error");
	if (s)
		cd_strlcpy(a->error, s, sizeof(a->error));
	if (!a->text && !*a->error)
		BAD("a dump answer with neither text nor an error");
	json_object_put(o);
	return 0;
bad:
	json_object_put(o);
	cd_dump_answer_clear(a);
	return CD_ERR_PROTOCOL;
}

void cd_dump_answer_clear(struct cd_dump_answer *a)
{
	if (!a)
		return;
	json_object_put(a->status);
	free(a->text);
	memset(a, 0, sizeof(*a));
}

size_t cd_dump_tail(const char *text, size_t len, size_t cap)
{
	const char *nl;
	size_t from;

	if (len <= cap)
		return 0;
	from = len - cap;
	/* The part begins at a line's start: after a newline just before it, or the next one. */
	if (from > 0 && text[from - 1] == '\n')
		return from;
	nl = memchr(text + from, '\n', len - from);
	return nl && (size_t)(nl - text) + 1 < len ? (size_t)(nl - text) + 1 : from;
}

/* --- blackbox file names --- */

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* Days since 1970-01-01 to a civil date (H. Hinnant's algorithm): no library call. */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Append v as exactly width digits at *p. */
static char *digits(char *p, uint64_t v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

size_t cd_blackbox_name(char *buf, size_t size, const char *node, uint64_t wall_ms,
			const char *kind)
{
	static const char pre[] = CD_BLACKBOX_PREFIX;
	size_t nlen = node && *node ? strlen(node) : 7, klen = strlen(kind), i;
	uint64_t secs = wall_ms / 1000, sod = secs % 86400;
	int64_t y;
	unsigned mo, d;
	char *p = buf;

	/* prefix, node, '-', 20 characters of time, '-', kind, NUL */
	if (size < sizeof(pre) - 1 + nlen + 1 + 20 + 1 + klen + 1)
		return 0;
	civil((int64_t)(secs / 86400), &y, &mo, &d);
	if (y > 9999)
		return 0;
	memcpy(p, pre, sizeof(pre) - 1);
	p += sizeof(pre) - 1;
	if (node && *node)
		for (i = 0; i < nlen; i++)
			*p++ = name_char_ok(node[i]) ? node[i] : '_';
	else {
		memcpy(p, "unknown", 7);
		p += 7;
	}
	*p++ = '-';
	p = digits(p, (uint64_t)y, 4);
	p = digits(p, mo, 2);
	p = digits(p, d, 2);
	*p++ = 'T';
	p = digits(p, sod / 3600, 2);
	p = digits(p, sod / 60 % 60, 2);
	p = digits(p, sod % 60, 2);
	*p++ = '.';
	p = digits(p, wall_ms % 1000, 3);
	*p++ = 'Z';
	*p++ = '-';
	memcpy(p, kind, klen);
	p += klen;
	*p = '\0';
	return (size_t)(p - buf);
}

/* The time part of a blackbox file name of kind (20 characters), or NULL if it is none. */
static const char *name_stamp(const char *name, const char *kind)
{
	size_t len = strlen(name), klen = strlen(kind), pre = sizeof(CD_BLACKBOX_PREFIX) - 1;
	const char *t;

	if (len < pre + 1 + 1 + 20 + 1 + klen || strncmp(name, CD_BLACKBOX_PREFIX, pre) != 0 ||
	    strcmp(name + len - klen, kind) != 0 || name[len - klen - 1] != '-')
		return NULL;
	t = name + len - klen - 1 - 20;
	if (t[-1] != '-' || t[8] != 'T' || t[15] != '.' || t[19] != 'Z')
		return NULL;
	return t;
}

size_t cd_blackbox_prune(const char *const *names, size_t n, const char *kind, size_t keep,
			 bool *remove)
{
	size_t i, j, newer, marked = 0;
	const char *ti, *tj;

	for (i = 0; i < n; i++) {
		remove[i] = false;
		ti = name_stamp(names[i], kind);
		if (!ti)
			continue;
		/* Newer ones, ties broken by the name so that exactly keep survive. */
		for (newer = 0, j = 0; j < n; j++) {
			int c;

			tj = j != i ? name_stamp(names[j], kind) : NULL;
			if (!tj)
				continue;
			c = strncmp(tj, ti, 20);
			if (c > 0 || (c == 0 && strcmp(names[j], names[i]) > 0))
				newer++;
		}
		if (newer >= keep) {
			remove[i] = true;
			marked++;
		}
	}
	return marked;
}
