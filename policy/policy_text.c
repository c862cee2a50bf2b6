/*
 * The policy text format (see policy_text.h). Parsing is driven by one
 * table of fields per statement, so a key is known, typed, defaulted and
 * reported in one place; every error names its line.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "lib/util.h"
#include "policy/policy_text.h"

enum kind {
	K_U32,
	K_U64,
	K_ENUM,	    /* a name from enum `e` */
	K_BOOL,	    /* yes or no */
	K_CPU,	    /* one CPU model name */
	K_NODE,	    /* a declared node's name, stored as its id */
	K_NODES,    /* NODE,NODE,... stored as ids; `count` has the number */
	K_CPUS,	    /* MODEL,MODEL,... into a node's cpu_models */
	K_ANTI,	    /* CLASS[:hard|:soft] */
	K_FAILBACK, /* never, immediately or HH:MM-HH:MM */
};

struct field {
	const char *key;
	enum kind kind;
	size_t off;
	size_t count;	       /* K_NODES, K_CPUS: offset of the uint32_t count */
	enum cd_policy_enum e; /* K_ENUM */
	bool required;
};

#define NODE_F(k, kind, member, ...)                                                               \
	{                                                                                          \
		k, kind, offsetof(struct cd_policy_node, member), __VA_ARGS__                      \
	}
#define VM_F(k, kind, member, ...)                                                                 \
	{                                                                                          \
		k, kind, offsetof(struct cd_policy_vm, member), __VA_ARGS__                        \
	}

static const struct field node_fields[] = {
	NODE_F("id", K_U32, id, 0, 0, true),
	NODE_F("cores", K_U32, cores, 0, 0, true),
	NODE_F("memory", K_U64, memory_mb, 0, 0, true),
	NODE_F("state", K_ENUM, state, 0, CD_PENUM_NODE_STATE, false),
	NODE_F("cpu", K_CPUS, cpu_models, offsetof(struct cd_policy_node, n_cpu_models), 0, false),
	{NULL, K_U32, 0, 0, 0, false},
};

static const struct field vm_fields[] = {
	VM_F("vcpus", K_U32, vcpus, 0, 0, true),
	VM_F("memory", K_U64, memory_mb, 0, 0, true),
	VM_F("cpu", K_CPU, cpu_model, 0, 0, false),
	VM_F("priority", K_ENUM, priority, 0, CD_PENUM_PRIORITY, false),
	VM_F("target", K_ENUM, target, 0, CD_PENUM_TARGET, false),
	VM_F("admin_start", K_BOOL, admin_start, 0, 0, false),
	VM_F("preferred", K_NODES, preferred, offsetof(struct cd_policy_vm, n_preferred), 0, false),
	VM_F("possible", K_NODES, possible, offsetof(struct cd_policy_vm, n_possible), 0, false),
	VM_F("anti", K_ANTI, anti_class, 0, 0, false),
	VM_F("state", K_ENUM, state, 0, CD_PENUM_VM_STATE, false),
	VM_F("on", K_NODE, node, 0, 0, false),
	VM_F("failures", K_U32, failures, 0, 0, false),
	VM_F("limit", K_U32, failure_limit, 0, 0, false),
	VM_F("failed_on", K_NODE, failed_on, 0, 0, false),
	VM_F("failback", K_FAILBACK, failback, 0, 0, false),
	{NULL, K_U32, 0, 0, 0, false},
};

/* Enum members are stored as int; the table relies on that size. */
_Static_assert(sizeof(enum cd_policy_node_state) == sizeof(int), "enum size");
_Static_assert(sizeof(enum cd_policy_vm_state) == sizeof(int), "enum size");

struct parser {
	struct cd_policy_text *t;
	size_t vms_cap;
	unsigned int line;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "line %u: ", p->line);
	if (n > 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return CD_ERR_INVALID;
}

static int parse_uint(struct parser *p, const char *key, const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long u;
	char *end;

	errno = 0;
	u = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || errno || u > max)
		return fail(p, "%s must be a whole number from 0 to %llu, not '%s'", key,
			    (unsigned long long)max, s);
	*out = u;
	return 0;
}

/* HH:MM into minutes after midnight; the rest of s goes to *rest. */
static int parse_hhmm(const char *s, unsigned int *minute, const char **rest)
{
	if (strlen(s) < 5 || s[2] != ':')
		return -1;
	if (s[0] < '0' || s[0] > '2' || s[1] < '0' || s[1] > '9' || s[3] < '0' || s[3] > '5' ||
	    s[4] < '0' || s[4] > '9')
		return -1;
	*minute = (unsigned int)((s[0] - '0') * 10 + (s[1] - '0')) * 60 +
		  (unsigned int)((s[3] - '0') * 10 + (s[4] - '0'));
	*rest = s + 5;
	return *minute < 24 * 60 ? 0 : -1;
}

static int check_name(struct parser *p, const char *what, const char *s, size_t max)
{
	if (!cd_valid_name(s, max))
		return fail(p, "bad %s '%s': use 1 to %zu of A-Z a-z 0-9 . _ -", what, s, max);
	return 0;
}

static const struct cd_policy_node *node_named(const struct cd_policy_text *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->in.n_nodes; i++)
		if (strcmp(t->nodes[i].name, name) == 0)
			return &t->nodes[i];
	return NULL;
}

static int vm_named(const struct cd_policy_text *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->in.n_vms; i++)
		if (strcmp(t->vms[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int node_id(struct parser *p, const char *name, uint32_t *id)
{
	const struct cd_policy_node *n = node_named(p->t, name);

	if (!n)
		return fail(p, "unknown node '%s' (declare nodes before the VMs that name them)",
			    name);
	*id = n->id;
	return 0;
}

/* Split a comma list in place; each item goes through one(). */
static int each_item(struct parser *p, const char *key, char *list, void *obj,
		     int (*one)(struct parser *, void *, uint32_t, const char *), uint32_t *n)
{
	char *save = NULL, *item;
	int rc;

	*n = 0;
	for (item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		if (*n >= CD_POLICY_MAX_NODES)
			return fail(p, "%s lists too many items", key);
		rc = one(p, obj, *n, item);
		if (rc)
			return rc;
		(*n)++;
	}
	if (*n == 0)
		return fail(p, "%s needs at least one item", key);
	return 0;
}

static int one_node(struct parser *p, void *ids, uint32_t i, const char *name)
{
	uint32_t *id = ids, j;
	int rc = node_id(p, name, &id[i]);

	for (j = 0; j < i && rc == 0; j++)
		if (id[j] == id[i])
			return fail(p, "node '%s' is listed twice", name);
	return rc;
}

static int one_cpu(struct parser *p, void *models, uint32_t i, const char *name)
{
	char(*m)[CD_POLICY_CPU_MAX + 1] = models;

	if (i >= CD_POLICY_CPU_MODELS_MAX)
		return fail(p, "a node supports at most %d CPU models", CD_POLICY_CPU_MODELS_MAX);
	if (check_name(p, "CPU model", name, CD_POLICY_CPU_MAX))
		return CD_ERR_INVALID;
	cd_strlcpy(m[i], name, sizeof(m[i]));
	return 0;
}

static int parse_anti(struct parser *p, struct cd_policy_vm *vm, char *val)
{
	char *colon = strchr(val, ':');
	int mode = CD_ANTI_HARD;

	if (colon) {
		*colon = '\0';
		mode = cd_policy_enum_value(CD_PENUM_ANTI, colon + 1);
		if (mode < 0)
			return fail(p, "anti=CLASS:MODE takes hard or soft, not '%s'", colon + 1);
	}
	if (check_name(p, "anti-affinity class", val, CD_POLICY_NAME_MAX))
		return CD_ERR_INVALID;
	cd_strlcpy(vm->anti_class, val, sizeof(vm->anti_class));
	vm->anti = (enum cd_policy_anti)mode;
	return 0;
}

static int parse_failback(struct parser *p, struct cd_policy_failback *fb, const char *val)
{
	unsigned int start, end;
	const char *rest;
	int mode = cd_policy_enum_value(CD_PENUM_FAILBACK, val);

	if (mode == CD_PFAILBACK_NEVER || mode == CD_PFAILBACK_IMMEDIATELY) {
		fb->mode = (enum cd_policy_failback_mode)mode;
		return 0;
	}
	if (parse_hhmm(val, &start, &rest) || *rest != '-' || parse_hhmm(rest + 1, &end, &rest) ||
	    *rest)
		return fail(p,
			    "failback takes never, immediately or a window HH:MM-HH:MM, not '%s'",
			    val);
	if (start == end)
		return fail(p, "failback window %s is empty", val);
	fb->mode = CD_PFAILBACK_WINDOW;
	fb->start = (uint16_t)start;
	fb->end = (uint16_t)end;
	return 0;
}

static int parse_value(struct parser *p, const struct field *f, void *obj, char *val)
{
	char *at = (char *)obj + f->off, list[128];
	uint64_t u = 0;
	uint32_t u32, n;
	int v, rc;

	switch (f->kind) {
	case K_U32:
		rc = parse_uint(p, f->key, val, UINT32_MAX, &u);
		u32 = (uint32_t)u;
		if (rc == 0)
			memcpy(at, &u32, sizeof(u32));
		return rc;
	case K_U64:
		rc = parse_uint(p, f->key, val, UINT64_MAX, &u);
		if (rc == 0)
			memcpy(at, &u, sizeof(u));
		return rc;
	case K_ENUM:
	case K_BOOL:
		if (f->kind == K_ENUM) {
			v = cd_policy_enum_value(f->e, val);
			cd_policy_enum_list(f->e, list, sizeof(list));
		} else {
			v = strcmp(val, "yes") == 0 ? 1 : strcmp(val, "no") == 0 ? 0 : -1;
			cd_strlcpy(list, "yes, no", sizeof(list));
		}
		if (v < 0)
			return fail(p, "%s must be one of %s, not '%s'", f->key, list, val);
		if (f->kind == K_ENUM)
			memcpy(at, &v, sizeof(v));
		else
			*(bool *)at = v;
		return 0;
	case K_CPU:
		if (check_name(p, "CPU model", val, CD_POLICY_CPU_MAX))
			return CD_ERR_INVALID;
		cd_strlcpy(at, val, CD_POLICY_CPU_MAX + 1);
		return 0;
	case K_NODE:
		rc = node_id(p, val, &u32);
		if (rc == 0)
			memcpy(at, &u32, sizeof(u32));
		return rc;
	case K_NODES:
	case K_CPUS:
		rc = each_item(p, f->key, val, at, f->kind == K_NODES ? one_node : one_cpu, &n);
		if (rc == 0)
			memcpy((char *)obj + f->count, &n, sizeof(n));
		return rc;
	case K_ANTI:
		return parse_anti(p, obj, val);
	case K_FAILBACK:
		return parse_failback(p, (struct cd_policy_failback *)at, val);
	}
	return fail(p, "internal error: field %s", f->key);
}

/* The key=value words after "node NAME" or "vm NAME", into obj, which holds the defaults. */
static int parse_fields(struct parser *p, const char *what, const struct field *fields, void *obj,
			char **save)
{
	char *word, *eq;
	const struct field *f;
	uint32_t seen = 0; /* a bit per field given, by its place in the table */
	int rc;

	while ((word = strtok_r(NULL, " \t", save))) {
		eq = strchr(word, '=');
		if (!eq || eq == word || !eq[1])
			return fail(p, "expected key=value, not '%s'", word);
		*eq = '\0';
		for (f = fields; f->key && strcmp(f->key, word) != 0; f++)
			;
		if (!f->key)
			return fail(p, "unknown key '%s' for a %s", word, what);
		if (seen & (1u << (f - fields)))
			return fail(p, "%s= given twice", word);
		seen |= 1u << (f - fields);
		rc = parse_value(p, f, obj, eq + 1);
		if (rc)
			return rc;
	}
	for (f = fields; f->key; f++)
		if (f->required && !(seen & (1u << (f - fields))))
			return fail(p, "%s needs %s=", what, f->key);
	return 0;
}

static const struct cd_policy_node node_defaults = {.state = CD_PNODE_ONLINE};

static const struct cd_policy_vm vm_defaults = {
	.priority = CD_PPRIO_MEDIUM,
	.target = CD_TARGET_STARTED,
	.state = CD_PVM_STOPPED,
	.anti = CD_ANTI_HARD,
	.failback = {CD_PFAILBACK_NEVER, 0, 0},
};

static int parse_node(struct parser *p, const char *name, char **save)
{
	struct cd_policy_text *t = p->t;
	struct cd_policy_node *n = &t->nodes[t->in.n_nodes];
	size_t i;
	int rc;

	if (t->in.n_nodes >= CD_POLICY_MAX_NODES)
		return fail(p, "more than %d nodes", CD_POLICY_MAX_NODES);
	if (node_named(t, name))
		return fail(p, "node '%s' is declared twice", name);
	*n = node_defaults;
	cd_strlcpy(n->name, name, sizeof(n->name));
	rc = parse_fields(p, "node", node_fields, n, save);
	if (rc)
		return rc;
	if (n->id == 0)
		return fail(p, "node id 0 is reserved");
	for (i = 0; i < t->in.n_nodes; i++)
		if (t->nodes[i].id == n->id)
			return fail(p, "node id %u is taken by '%s'", n->id, t->nodes[i].name);
	t->in.n_nodes++;
	return 0;
}

static int parse_vm(struct parser *p, const char *name, char **save)
{
	struct cd_policy_text *t = p->t;
	struct cd_policy_vm *vm;
	int rc;

	if (vm_named(t, name) >= 0)
		return fail(p, "vm '%s' is declared twice", name);
	if (t->in.n_vms == p->vms_cap) {
		size_t cap = p->vms_cap ? p->vms_cap * 2 : 16;
		struct cd_policy_vm *vms = realloc(t->vms, cap * sizeof(*vms));

		if (!vms)
			return -ENOMEM;
		t->vms = vms;
		t->in.vms = vms;
		p->vms_cap = cap;
	}
	vm = &t->vms[t->in.n_vms];
	*vm = vm_defaults;
	cd_strlcpy(vm->name, name, sizeof(vm->name));
	rc = parse_fields(p, "vm", vm_fields, vm, save);
	if (rc)
		return rc;
	/* Failures are counted where the VM is unless the input says otherwise. */
	if (!vm->failed_on)
		vm->failed_on = vm->node;
	t->in.n_vms++;
	return 0;
}

/* "cpu-overcommit 1.5": vCPUs per core, as the cluster property takes it. */
static int parse_overcommit(struct parser *p, const char *val, char **save)
{
	uint64_t milli;

	if (cd_parse_milli(val, &milli) < 0 || milli == 0 || milli > UINT32_MAX)
		return fail(p, "cpu-overcommit takes vCPUs per core above 0 (4, 1.5), not '%s'",
			    val);
	if (strtok_r(NULL, " \t\r", save))
		return fail(p, "cpu-overcommit takes one argument");
	p->t->in.cpu_overcommit_milli = (uint32_t)milli;
	return 0;
}

static int parse_line(struct parser *p, char *line)
{
	struct cd_policy_text *t = p->t;
	char *save = NULL, *word, *name, *hash = strchr(line, '#');
	const char *rest;
	unsigned int minute;
	size_t *ex;
	int v;

	if (hash)
		*hash = '\0';
	word = strtok_r(line, " \t\r", &save);
	if (!word)
		return 0;
	name = strtok_r(NULL, " \t\r", &save);
	if (!name)
		return fail(p, "'%s' needs an argument", word);
	if (strcmp(word, "time") == 0) {
		if (parse_hhmm(name, &minute, &rest) || *rest)
			return fail(p, "time takes HH:MM, not '%s'", name);
		if (strtok_r(NULL, " \t\r", &save))
			return fail(p, "time takes one argument");
		t->in.now_minute = (int)minute;
		return 0;
	}
	if (strcmp(word, "cpu-overcommit") == 0)
		return parse_overcommit(p, name, &save);
	if (check_name(p, "name", name, CD_POLICY_NAME_MAX))
		return CD_ERR_INVALID;
	if (strcmp(word, "node") == 0)
		return parse_node(p, name, &save);
	if (strcmp(word, "vm") == 0)
		return parse_vm(p, name, &save);
	if (strcmp(word, "explain") == 0) {
		v = vm_named(t, name);
		if (v < 0)
			return fail(p, "explain names an unknown vm '%s'", name);
		ex = realloc(t->explain, (t->n_explain + 1) * sizeof(*ex));
		if (!ex)
			return -ENOMEM;
		t->explain = ex;
		t->explain[t->n_explain++] = (size_t)v;
		return 0;
	}
	return fail(p, "unknown statement '%s' (time, cpu-overcommit, node, vm or explain)", word);
}

int cd_policy_text_parse(const char *text, struct cd_policy_text *t, char *err, size_t errlen)
{
	struct parser p = {t, 0, 0, err, errlen};
	const char *end;
	char *line;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	t->in.now_minute = CD_POLICY_NO_TIME;
	t->nodes = calloc(CD_POLICY_MAX_NODES, sizeof(*t->nodes));
	if (!t->nodes)
		return -ENOMEM;
	t->in.nodes = t->nodes;
	if (errlen)
		err[0] = '\0';
	while (*text && rc == 0) {
		end = strchr(text, '\n');
		if (!end)
			end = text + strlen(text);
		line = strndup(text, (size_t)(end - text));
		if (!line)
			return -ENOMEM;
		p.line++;
		rc = parse_line(&p, line);
		free(line);
		text = *end ? end + 1 : end;
	}
	return rc;
}

void cd_policy_text_free(struct cd_policy_text *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->vms);
	free(t->explain);
	memset(t, 0, sizeof(*t));
}

int cd_policy_text_write(FILE *f, const struct cd_policy_text *t,
			 const struct cd_policy_result *res)
{
	const struct cd_policy_input *in = &t->in;
	char why[4096];
	size_t i;

	for (i = 0; i < res->n_actions; i++) {
		const struct cd_policy_action *a = &res->actions[i];

		fprintf(f, "%s %s", cd_policy_enum_str(CD_PENUM_ACTION, (int)a->type),
			in->vms[a->vm].name);
		switch (a->type) {
		case CD_ACT_START:
			fprintf(f, " %s\n", cd_policy_node_name(in, a->to));
			break;
		case CD_ACT_STOP:
			fprintf(f, " %s\n", cd_policy_node_name(in, a->from));
			break;
		case CD_ACT_MIGRATE:
			fprintf(f, " %s %s\n", cd_policy_node_name(in, a->from),
				cd_policy_node_name(in, a->to));
			break;
		case CD_ACT_UNPLACED:
			fprintf(f, " %s\n",
				cd_policy_enum_str(CD_PENUM_UNPLACED, (int)a->unplaced));
			break;
		case CD_ACT__COUNT:
			fprintf(f, "\n");
			break;
		}
	}
	for (i = 0; i < t->n_explain; i++) {
		cd_policy_explain_vm(in, res, t->explain[i], why, sizeof(why));
		fprintf(f, "explain: %s\n", why);
	}
	return ferror(f) ? -EIO : 0;
}
