/*
 * Changes sent once per key (sendonce.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "clusterd/replica.h"
#include "clusterd/sendonce.h"
#include "lib/util.h"

struct cd_sendonce_entry {
	char key[CD_SENDONCE_KEY_MAX + 1];
	uint64_t until;	 /* refused: not before this (0: on its way) */
	uint64_t serial; /* which send (a key sent again is a new one) */
};

/* What an answer needs to find its entry, the set may have moved meanwhile. */
struct answer {
	struct cd_sendonce *o;
	char key[CD_SENDONCE_KEY_MAX + 1];
	uint64_t serial;
};

static uint64_t serials;

static struct cd_sendonce_entry *find(struct cd_sendonce *o, const char *key)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->e[i].key, key) == 0)
			return &o->e[i];
	return NULL;
}

static void drop(struct cd_sendonce *o, struct cd_sendonce_entry *e)
{
	*e = o->e[--o->n];
}

bool cd_sendonce_pending(struct cd_sendonce *o, const char *key)
{
	struct cd_sendonce_entry *e = find(o, key);

	return e && !e->until;
}

bool cd_sendonce_may(struct cd_sendonce *o, const char *key)
{
	struct cd_sendonce_entry *e = find(o, key);

	if (!e)
		return true;
	if (e->until && e->until <= cd_now_ms()) {
		drop(o, e);
		return true;
	}
	return false;
}

static void answered(void *ctx, int rc, const char *err)
{
	struct answer *a = ctx;
	struct cd_sendonce_entry *e = a->o ? find(a->o, a->key) : NULL;

	if (rc < 0)
		qb_log(LOG_WARNING, "%s: %s refused: %s", a->o ? a->o->what : "?", a->key, err);
	if (e && e->serial == a->serial) {
		if (rc < 0)
			e->until = cd_now_ms() + a->o->refused_pause_ms;
		else
			drop(a->o, e);
	}
	free(a);
}

void cd_sendonce_send(struct cd_sendonce *o, const char *key, struct json_object *c)
{
	struct cd_sendonce_entry *ne;
	struct answer *a;

	if (!c)
		return;
	if (!cd_sendonce_may(o, key)) {
		json_object_put(c);
		return;
	}
	ne = realloc(o->e, (o->n + 1) * sizeof(*ne));
	a = calloc(1, sizeof(*a));
	if (!ne || !a) {
		if (ne)
			o->e = ne;
		free(a);
		json_object_put(c);
		return;
	}
	o->e = ne;
	a->o = o;
	a->serial = ++serials;
	cd_strlcpy(a->key, key, sizeof(a->key));
	if (cd_replica_submit(c, answered, a) < 0) {
		free(a);
	} else {
		memset(&o->e[o->n], 0, sizeof(*o->e));
		cd_strlcpy(o->e[o->n].key, key, sizeof(o->e->key));
		o->e[o->n++].serial = a->serial;
	}
	json_object_put(c);
}

void cd_sendonce_fini(struct cd_sendonce *o)
{
	free(o->e);
	o->e = NULL;
	o->n = 0;
}
