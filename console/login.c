#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "console/login.h"
#include "lib/util.h"

int cn_login_check(const struct cn_authenticator *a, const char *admin_group, const char *user,
		   const char *password)
{
	bool member = false;
	uid_t uid;
	int rc;

	if (!*user || !*password)
		return -EACCES;
	rc = a->ops->password_ok(a->ctx, user, password);
	if (rc < 0)
		return rc;
	rc = a->ops->lookup(a->ctx, user, admin_group && *admin_group ? admin_group : NULL, &uid,
			    &member);
	if (rc == -ENOENT)
		return -EACCES;
	if (rc < 0)
		return rc;
	return uid == 0 || member ? 0 : -EPERM;
}

/* INET6_ADDRSTRLEN and a little more. */
#define ADDR_MAX 64

struct entry {
	char addr[ADDR_MAX];
	unsigned fails;
	uint64_t first_ms; /* the first failure of the window */
};

struct cn_ratelimit {
	pthread_mutex_t lock;
	struct entry e[CN_LOGIN_ADDRS];
};

int cn_ratelimit_new(struct cn_ratelimit **out)
{
	struct cn_ratelimit *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	*out = r;
	return 0;
}

void cn_ratelimit_free(struct cn_ratelimit *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static bool window_over(const struct entry *e, uint64_t now_ms)
{
	return now_ms < e->first_ms || now_ms - e->first_ms >= CN_LOGIN_WINDOW_MS;
}

/* addr's entry in its current window, or NULL. Called locked. */
static struct entry *find(struct cn_ratelimit *r, const char *addr, uint64_t now_ms)
{
	size_t i;

	for (i = 0; i < CN_LOGIN_ADDRS; i++) {
		struct entry *e = &r->e[i];

		if (!e->fails || strcmp(e->addr, addr) != 0)
			continue;
		if (!window_over(e, now_ms))
			return e;
		memset(e, 0, sizeof(*e));
		return NULL;
	}
	return NULL;
}

bool cn_ratelimit_allowed(struct cn_ratelimit *r, const char *addr, uint64_t now_ms)
{
	struct entry *e;
	bool ok;

	pthread_mutex_lock(&r->lock);
	e = find(r, addr, now_ms);
	ok = !e || e->fails < CN_LOGIN_MAX_FAILS;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

void cn_ratelimit_failed(struct cn_ratelimit *r, const char *addr, uint64_t now_ms)
{
	struct entry *e;
	size_t i;

	pthread_mutex_lock(&r->lock);
	e = find(r, addr, now_ms);
	if (!e) {
		e = &r->e[0];
		for (i = 0; i < CN_LOGIN_ADDRS; i++) {
			if (!r->e[i].fails || window_over(&r->e[i], now_ms)) {
				e = &r->e[i];
				break;
			}
			if (r->e[i].first_ms < e->first_ms)
				e = &r->e[i];
		}
		memset(e, 0, sizeof(*e));
		cd_strlcpy(e->addr, addr, sizeof(e->addr));
		e->first_ms = now_ms;
	}
	e->fails++;
	pthread_mutex_unlock(&r->lock);
}
