/*
 * Who may log in to the console: a user whose password the authenticator
 * accepts (PAM in the program, a fake in the tests) and who is root or a
 * member of the admin group, as for clusterctl. And how often a client
 * address may fail: CN_LOGIN_MAX_FAILS failures within CN_LOGIN_WINDOW_MS,
 * then every login from it is refused, right or wrong, until the window
 * that began with its first failure has passed.
 */
#ifndef CN_LOGIN_H
#define CN_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CN_LOGIN_MAX_FAILS 5
#define CN_LOGIN_WINDOW_MS (5ULL * 60 * 1000)
/* A refused login is answered after this long, whatever refused it. */
#define CN_LOGIN_DELAY_MS 1000
/* Client addresses remembered at once; a new one beyond replaces the oldest. */
#define CN_LOGIN_ADDRS 1024

struct cn_auth_ops {
	/* 0 if user's password is password, -EACCES if not (or no such user), else -errno. */
	int (*password_ok)(void *ctx, const char *user, const char *password);
	/*
	 * user's uid, and whether user belongs to group (by its primary or a
	 * supplementary group). 0, -ENOENT for no such user, or -errno.
	 */
	int (*lookup)(void *ctx, const char *user, const char *group, uid_t *uid, bool *member);
};

/* An authenticator: its operations and their context, borrowed. */
struct cn_authenticator {
	const struct cn_auth_ops *ops;
	void *ctx;
};

/*
 * Whether user may log in with password. admin_group may be empty (root
 * only). Returns 0, -EACCES (wrong password or no such user), -EPERM (the
 * password is right but user is neither root nor in admin_group), or
 * -errno when the authenticator failed.
 */
int cn_login_check(const struct cn_authenticator *a, const char *admin_group, const char *user,
		   const char *password);

/* The failures per client address. Thread-safe. */
struct cn_ratelimit;

/* 0 or -ENOMEM; free with cn_ratelimit_free(), which accepts NULL. */
int cn_ratelimit_new(struct cn_ratelimit **out);
void cn_ratelimit_free(struct cn_ratelimit *r);

/* Whether addr may try to log in at now_ms. */
bool cn_ratelimit_allowed(struct cn_ratelimit *r, const char *addr, uint64_t now_ms);

/* addr failed to log in at now_ms. */
void cn_ratelimit_failed(struct cn_ratelimit *r, const char *addr, uint64_t now_ms);

#endif
