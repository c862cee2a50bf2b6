#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "console/session.h"
#include "lib/util.h"

struct slot {
	bool used;
	char id[CN_TOKEN_HEX];
	struct cn_session_info info;
	uint64_t last_ms;
};

struct cn_sessions {
	pthread_mutex_t lock;
	struct slot slots[CN_SESSION_MAX];
};

int cn_sessions_new(struct cn_sessions **out)
{
	struct cn_sessions *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

void cn_sessions_free(struct cn_sessions *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	explicit_bzero(s->slots, sizeof(s->slots));
	free(s);
}

static int random_hex(char out[CN_TOKEN_HEX])
{
	unsigned char b[CN_TOKEN_BYTES];
	size_t i;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -EIO;
	for (i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	explicit_bzero(b, sizeof(b));
	return 0;
}

static bool expired(const struct slot *sl, uint64_t now_ms)
{
	return now_ms >= sl->last_ms && now_ms - sl->last_ms >= CN_SESSION_IDLE_MS;
}

/* Compares in a time that does not depend on where the strings differ. */
static bool token_equal(const char *a, const char *b)
{
	return strlen(a) == CN_TOKEN_HEX - 1 && strlen(b) == CN_TOKEN_HEX - 1 &&
	       CRYPTO_memcmp(a, b, CN_TOKEN_HEX - 1) == 0;
}

int cn_session_create(struct cn_sessions *s, const char *user, uint64_t now_ms,
		      char id[CN_TOKEN_HEX], struct cn_session_info *info)
{
	struct slot *pick = NULL;
	size_t i;

	if (!*user || strlen(user) >= CN_USER_MAX)
		return -EINVAL;
	if (random_hex(id) < 0 || random_hex(info->csrf) < 0)
		return -EIO;
	cd_strlcpy(info->user, user, sizeof(info->user));
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < CN_SESSION_MAX; i++) {
		struct slot *sl = &s->slots[i];

		if (!sl->used || expired(sl, now_ms)) {
			pick = sl;
			break;
		}
		if (!pick || sl->last_ms < pick->last_ms)
			pick = sl;
	}
	pick->used = true;
	memcpy(pick->id, id, CN_TOKEN_HEX);
	pick->info = *info;
	pick->last_ms = now_ms;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The slot of id, or NULL. Called locked. */
static struct slot *find(struct cn_sessions *s, const char *id)
{
	size_t i;

	if (!id)
		return NULL;
	for (i = 0; i < CN_SESSION_MAX; i++)
		if (s->slots[i].used && token_equal(s->slots[i].id, id))
			return &s->slots[i];
	return NULL;
}

int cn_session_check(struct cn_sessions *s, const char *id, const char *csrf, uint64_t now_ms,
		     struct cn_session_info *info)
{
	struct slot *sl;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	sl = find(s, id);
	if (sl && expired(sl, now_ms)) {
		explicit_bzero(sl, sizeof(*sl));
		sl = NULL;
	}
	if (!sl) {
		rc = -ENOENT;
	} else if (csrf && !token_equal(sl->info.csrf, csrf)) {
		rc = -EPERM;
	} else {
		sl->last_ms = now_ms;
		*info = sl->info;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void cn_session_destroy(struct cn_sessions *s, const char *id)
{
	struct slot *sl;

	pthread_mutex_lock(&s->lock);
	sl = find(s, id);
	if (sl)
		explicit_bzero(sl, sizeof(*sl));
	pthread_mutex_unlock(&s->lock);
}

size_t cn_sessions_count(struct cn_sessions *s, uint64_t now_ms)
{
	size_t i, n = 0;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < CN_SESSION_MAX; i++) {
		struct slot *sl = &s->slots[i];

		if (sl->used && expired(sl, now_ms))
			explicit_bzero(sl, sizeof(*sl));
		else if (sl->used)
			n++;
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}
