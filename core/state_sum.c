/* The state checksum (state_sum.h). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/state_sum.h"
#include "lib/util.h"

/*
 * --- The text from each record's print ---
 *
 * The text is the top level printed by json-c with each VM's JSON in its
 * "vms" array. Most of it is the VMs', and a VM changes seldom, so each
 * record keeps its own JSON as printed last (struct cd_vm_print), with its
 * XML left out: the XML is most of a record, and it is escaped into the
 * hash as it goes instead (put_escaped(), json-c's escaping).
 *
 * Whether a print is still the record's is told by comparing the record's
 * bytes with a copy taken when it was printed, and its owner lists by
 * their contents: nothing that changes a record has to remember to say
 * so. The pointers are left out of the bytes compared, so that a copy of
 * the record (cd_vm_copy(), which shares the print) keeps it: the XML is
 * told by its xml_stamp, which this process gives no two XMLs and a copy
 * keeps with the same XML (vm.h); a record without one is printed each
 * time. A record whose bytes differ only in what is not printed (a derived
 * key, padding) is printed again, no more.
 *
 * A print never changes once made, and copies of a state share them, in
 * this thread or another (the divergence check hashes a copy off the main
 * loop): hence the atomic count of its holders.
 */

struct cd_vm_print {
	atomic_uint refs;
	struct cd_vm rec;			/* the record printed, its pointers NULL */
	char (*preferred)[64], (*possible)[64]; /* copies of its lists */
	char *text;  /* its JSON printed plain, the XML's text left out */
	size_t len;  /* of text */
	size_t hole; /* where the escaped XML goes in text */
};

struct cd_vm_print *cd_vm_print_hold(struct cd_vm_print *p)
{
	if (p)
		atomic_fetch_add(&p->refs, 1);
	return p;
}

void cd_vm_print_free(struct cd_vm_print *p)
{
	if (!p || atomic_fetch_sub(&p->refs, 1) != 1)
		return;
	free(p->preferred);
	free(p->possible);
	free(p->text);
	free(p);
}

/* vm's bytes as a print records them: the pointers NULL. */
static void rec_of(struct cd_vm *rec, const struct cd_vm *vm)
{
	memcpy(rec, vm, sizeof(*rec));
	rec->xml = NULL;
	rec->macs = NULL;
	rec->preferred = NULL;
	rec->possible = NULL;
	rec->print = NULL;
}

/* The names alone: a list's bytes after each name's NUL are never written. */
static bool list_same(const char (*a)[64], const char (*b)[64], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strncmp(a[i], b[i], sizeof(a[i])) != 0)
			return false;
	return true;
}

static bool print_current(const struct cd_vm_print *p, const struct cd_vm *vm)
{
	struct cd_vm rec;

	if (!vm->xml_stamp)
		return false;
	rec_of(&rec, vm);
	return memcmp(&rec, &p->rec, sizeof(rec)) == 0 &&
	       list_same(p->preferred, vm->preferred, vm->n_preferred) &&
	       list_same(p->possible, vm->possible, vm->n_possible);
}

static char (*list_dup(const char (*l)[64], size_t n))[64]
{
	char(*c)[64];

	if (!n)
		return NULL;
	c = malloc(n * sizeof(*c));
	if (c)
		memcpy(c, l, n * sizeof(*c));
	return c;
}

/* The tail of a record's JSON printed with an empty XML: its XML goes before the last 2 bytes. */
static const char XML_TAIL[] = ",\"xml\":\"\"}";

/* vm's print, made anew unless it is current. 0, -ENOMEM, or -EINVAL if it cannot be split. */
static int vm_print(struct cd_vm *vm)
{
	struct cd_vm_print *p = vm->print;
	struct json_object *o;
	const char *t;
	size_t tail = sizeof(XML_TAIL) - 1;

	if (p && print_current(p, vm))
		return 0;
	cd_vm_print_free(p);
	vm->print = NULL;
	p = calloc(1, sizeof(*p));
	if (p)
		atomic_init(&p->refs, 1);
	o = cd_vm_to_json(vm);
	if (!p || !o)
		goto nomem;
	json_object_object_add(o, "xml", json_object_new_string(""));
	t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (!t)
		goto nomem;
	p->len = strlen(t);
	/* cd_vm_to_json() puts the XML last; were it ever not, the whole text is hashed */
	if (p->len < tail || strcmp(t + p->len - tail, XML_TAIL) != 0) {
		json_object_put(o);
		cd_vm_print_free(p);
		return -EINVAL;
	}
	p->hole = p->len - 2;
	p->text = malloc(p->len);
	p->preferred = list_dup(vm->preferred, vm->n_preferred);
	p->possible = list_dup(vm->possible, vm->n_possible);
	if (!p->text || (vm->n_preferred && !p->preferred) || (vm->n_possible && !p->possible))
		goto nomem;
	memcpy(p->text, t, p->len);
	rec_of(&p->rec, vm);
	json_object_put(o);
	vm->print = p;
	return 0;
nomem:
	json_object_put(o);
	cd_vm_print_free(p);
	return -ENOMEM;
}

/*
 * The text as it is printed: hashed, kept, or both, through a buffer so
 * that small pieces cost no call each.
 */
struct stream {
	EVP_MD_CTX *ctx; /* hash into this, if not NULL */
	bool keep;	 /* and keep the text in text */
	bool nomem;
	char *text;
	size_t len, cap;
	size_t n;
	unsigned char buf[1 << 16];
};

static void sink(struct stream *st, const void *data, size_t len)
{
	if (st->ctx)
		EVP_DigestUpdate(st->ctx, data, len);
	if (!st->keep || st->nomem)
		return;
	if (st->len + len + 1 > st->cap) {
		size_t cap = st->cap ? st->cap : 1 << 20;
		char *t;

		while (cap < st->len + len + 1)
			cap *= 2;
		t = realloc(st->text, cap);
		if (!t) {
			st->nomem = true;
			return;
		}
		st->text = t;
		st->cap = cap;
	}
	memcpy(st->text + st->len, data, len);
	st->len += len;
	st->text[st->len] = '\0';
}

static void flush(struct stream *st)
{
	if (st->n)
		sink(st, st->buf, st->n);
	st->n = 0;
}

static void put(struct stream *st, const void *data, size_t len)
{
	if (st->n + len > sizeof(st->buf)) {
		flush(st);
		if (len > sizeof(st->buf)) {
			sink(st, data, len);
			return;
		}
	}
	memcpy(st->buf + st->n, data, len);
	st->n += len;
}

/*
 * str as json-c prints it inside a string with JSON_C_TO_STRING_PLAIN
 * (json_escape_str()): '"', '\\' and '/' behind a backslash, \b \f \n \r \t
 * by name, other bytes below 0x20 as \u00xx in lower-case hex, and every
 * other byte as it is. check_state_sum holds it to json-c for every byte.
 */
static void put_escaped(struct stream *st, const char *str, size_t len)
{
	/* for each byte: 0 as it is, else the letter after its backslash ('u': \u00xx) */
	static const char esc[256] = {
		[0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u',	 [0x04] = 'u', [0x05] = 'u',
		[0x06] = 'u', [0x07] = 'u', ['\b'] = 'b', ['\t'] = 't',	 ['\n'] = 'n', [0x0b] = 'u',
		['\f'] = 'f', ['\r'] = 'r', [0x0e] = 'u', [0x0f] = 'u',	 [0x10] = 'u', [0x11] = 'u',
		[0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',	 [0x16] = 'u', [0x17] = 'u',
		[0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',	 [0x1c] = 'u', [0x1d] = 'u',
		[0x1e] = 'u', [0x1f] = 'u', ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',
	};
	static const char hex[] = "0123456789abcdef";
	/* a piece escapes to 6 times its length at most: it fits the buffer */
	const size_t piece = sizeof(st->buf) / 6;

	while (len) {
		size_t n = len < piece ? len : piece, i;
		unsigned char *o;

		if (st->n + 6 * n > sizeof(st->buf))
			flush(st);
		o = st->buf + st->n;
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)str[i];
			char e = esc[c];

			if (!e) {
				*o++ = c;
			} else if (e != 'u') {
				*o++ = '\\';
				*o++ = (unsigned char)e;
			} else {
				memcpy(o, "\\u00", 4);
				o[4] = (unsigned char)hex[c >> 4];
				o[5] = (unsigned char)hex[c & 0xf];
				o += 6;
			}
		}
		st->n = (size_t)(o - st->buf);
		str += n;
		len -= n;
	}
}

/*
 * s's text into st, as cd_state_to_json() prints it plain. 0, -ENOMEM, or
 * -EINVAL if it cannot be put together so (then from json-c, whole).
 */
static int stream_state(const struct cd_state *s, struct stream *st)
{
	struct json_object *top;
	char mark[64];
	const char *t, *at;
	size_t i, split;
	int rc = 0;

	/* The top level with "vms" empty: the VMs go between its brackets. */
	top = cd_state_to_json_ext(s, false);
	t = top ? json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN) : NULL;
	if (!t) {
		json_object_put(top);
		return -ENOMEM;
	}
	/*
	 * Keys and a number outside strings: no string's text can hold this,
	 * its quotes would be escaped. It is the top level's.
	 */
	snprintf(mark, sizeof(mark), "\"last_action_id\":%" PRId64 ",\"vms\":[]",
		 (int64_t)s->last_action_id);
	if (!(at = strstr(t, mark))) {
		json_object_put(top);
		return -EINVAL;
	}
	split = (size_t)(at - t) + strlen(mark) - 1;
	put(st, t, split);
	for (i = 0; i < s->n_vms; i++) {
		struct cd_vm *vm = s->vms[i];
		const struct cd_vm_print *p;

		if ((rc = vm_print(vm)) < 0)
			break;
		p = vm->print;
		if (i)
			put(st, ",", 1);
		put(st, p->text, p->hole);
		if (vm->xml)
			put_escaped(st, vm->xml, strlen(vm->xml));
		put(st, p->text + p->hole, p->len - p->hole);
	}
	if (rc == 0) {
		put(st, t + split, strlen(t + split));
		flush(st);
		if (st->nomem)
			rc = -ENOMEM;
	}
	json_object_put(top);
	return rc;
}

/* The text from json-c, whole, as it is defined. */
static int text_of_json(const struct cd_state *s, struct cd_state_text *t)
{
	struct json_object *o = cd_state_to_json(s);
	const char *text = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : NULL;

	if (text) {
		t->len = strlen(text);
		t->text = malloc(t->len + 1);
	}
	if (!t->text) {
		json_object_put(o);
		return -ENOMEM;
	}
	memcpy(t->text, text, t->len + 1);
	cd_sha256_hex(t->text, t->len, t->sum);
	json_object_put(o);
	return 0;
}

static void hex(const unsigned char *md, unsigned int n, char out[65])
{
	unsigned int k;

	for (k = 0; k < n && k < 32; k++)
		snprintf(out + 2 * k, 3, "%02x", md[k]);
}

/* s into st (its ctx set, or NULL), hashed into sum: 0, -ENOMEM or -EINVAL. */
static int run(const struct cd_state *s, struct stream *st, char sum[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc;

	sum[0] = '\0';
	if (!(st->ctx = EVP_MD_CTX_new()) || !EVP_DigestInit_ex(st->ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(st->ctx);
		return -ENOMEM;
	}
	rc = stream_state(s, st);
	if (rc == 0 && !EVP_DigestFinal_ex(st->ctx, md, &mdlen))
		rc = -ENOMEM;
	if (rc == 0)
		hex(md, mdlen, sum);
	EVP_MD_CTX_free(st->ctx);
	return rc;
}

int cd_state_text(const struct cd_state *s, struct cd_state_text *t)
{
	struct stream *st = calloc(1, sizeof(*st));
	int rc;

	memset(t, 0, sizeof(*t));
	if (!st)
		return -ENOMEM;
	st->keep = true;
	rc = run(s, st, t->sum);
	if (rc == 0 && !st->text) /* nothing printed: cannot be, a state is an object */
		rc = -EINVAL;
	if (rc == 0) {
		t->text = st->text;
		t->len = st->len;
	} else {
		free(st->text);
	}
	free(st);
	if (rc == -EINVAL)
		return text_of_json(s, t);
	return rc;
}

void cd_state_text_free(struct cd_state_text *t)
{
	if (!t)
		return;
	free(t->text);
	memset(t, 0, sizeof(*t));
}

int cd_state_checksum(const struct cd_state *s, char out[65])
{
	struct stream *st = calloc(1, sizeof(*st));
	struct cd_state_text t;
	int rc;

	out[0] = '\0';
	if (!st)
		return -ENOMEM;
	rc = run(s, st, out);
	free(st);
	if (rc != -EINVAL)
		return rc;
	rc = text_of_json(s, &t);
	if (rc == 0)
		memcpy(out, t.sum, sizeof(t.sum));
	cd_state_text_free(&t);
	return rc;
}
