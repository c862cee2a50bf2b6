/*
 * The console's sessions: who logged in, kept in memory only (a restart
 * logs everyone out). Each session has a random id (the cookie) and a
 * random CSRF token (given to the page in the login's answer, echoed by
 * every POST in X-CSRF-Token), each CN_TOKEN_BYTES from OpenSSL's
 * RAND_bytes(), as lower-case hex. A session unused for CN_SESSION_IDLE_MS
 * is gone. Times are passed in (CLOCK_MONOTONIC milliseconds in the
 * program, any clock in the tests). Thread-safe: the server answers each
 * connection in a thread of its own.
 */
#ifndef CN_SESSION_H
#define CN_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define CN_TOKEN_BYTES 32
#define CN_TOKEN_HEX (2 * CN_TOKEN_BYTES + 1)
#define CN_SESSION_IDLE_MS (30ULL * 60 * 1000)
/* At most this many at once: a new one beyond it replaces the least recently used. */
#define CN_SESSION_MAX 256
#define CN_USER_MAX 64

struct cn_sessions;

/* What a valid session holds. */
struct cn_session_info {
	char user[CN_USER_MAX];
	char csrf[CN_TOKEN_HEX];
};

/* A new, empty store: free it with cn_sessions_free(). 0 or -ENOMEM. */
int cn_sessions_new(struct cn_sessions **out);

/* Accepts NULL. */
void cn_sessions_free(struct cn_sessions *s);

/*
 * A new session for user: its id goes to id, its token to info. Returns 0,
 * -EINVAL (user too long or empty) or -EIO (no random bytes).
 */
int cn_session_create(struct cn_sessions *s, const char *user, uint64_t now_ms,
		      char id[CN_TOKEN_HEX], struct cn_session_info *info);

/*
 * The session id names, if it is valid at now_ms (and then it counts as
 * used). csrf NULL: no token is asked for; else it must be the session's.
 * Returns 0 (info filled), -ENOENT (no such session, or it expired; id may
 * be NULL) or -EPERM (the token is missing or wrong).
 */
int cn_session_check(struct cn_sessions *s, const char *id, const char *csrf, uint64_t now_ms,
		     struct cn_session_info *info);

/* End the session id names, if any. */
void cn_session_destroy(struct cn_sessions *s, const char *id);

/* How many sessions are valid at now_ms (the expired are dropped). */
size_t cn_sessions_count(struct cn_sessions *s, uint64_t now_ms);

#endif
