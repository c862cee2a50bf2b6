/*
 * The console's answers, apart from HTTP: a request (method, path, the
 * session cookie, the CSRF header, the body, the client's address) in, a
 * response (status, JSON or a file, a cookie to set) out. The server
 * (server.c) turns MHD's requests into these; the tests call it directly.
 *
 * Every request is routed (router.h) and its access checked before
 * anything else: a path that needs a session and has none gets 401, one
 * whose CSRF token is missing or wrong 403. The API's calls go to clusterd
 * through a backend: the IPC client in the program, a fake in the tests.
 *
 * GET /metrics answers a client that shows the metrics token
 * ("Authorization: Bearer TOKEN"), one on a loopback address (when
 * metrics_loopback; without an Authorization header: a wrong token is
 * refused wherever it comes from) and one with a valid session; anyone
 * else gets 401.
 */
#ifndef CN_APP_H
#define CN_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "console/login.h"
#include "console/session.h"

/* The cookie that holds the session id. */
#define CN_COOKIE "cd_session"
/* The largest request body read. */
#define CN_BODY_MAX (64 * 1024)

struct cn_backend_ops {
	/*
	 * Send cmd with args (borrowed, may be NULL) to clusterd. *reply is
	 * always set to a new reference, {"error": "..."} on failure. Returns
	 * the command's result code (0, -errno or CD_ERR_*).
	 */
	int (*call)(void *ctx, const char *cmd, struct json_object *args,
		    struct json_object **reply);
};

struct cn_backend {
	const struct cn_backend_ops *ops;
	void *ctx;
};

/* What the app needs; everything borrowed, for the app's life. */
struct cn_app_config {
	struct cn_authenticator auth;
	struct cn_backend backend;
	const char *admin_group;       /* "" for root only */
	const char *static_dir;	       /* the page's files */
	uint64_t (*now_ms)(void);      /* a monotonic clock */
	void (*sleep_ms)(unsigned ms); /* the refused login's delay */
	const char *metrics_token;     /* NULL or "": none */
	bool metrics_loopback;	       /* /metrics open to loopback clients */
};

struct cn_request {
	const char *method;
	const char *path;				  /* without the query */
	const char *(*query)(void *ctx, const char *key); /* a query argument or NULL */
	void *query_ctx;
	const char *session; /* the session cookie's value, or NULL */
	const char *csrf;    /* the X-CSRF-Token header, or NULL */
	const char *body;    /* body_len bytes, not NUL-terminated */
	size_t body_len;
	const char *client_addr;   /* the login's rate limit, /metrics' loopback rule */
	const char *authorization; /* the Authorization header, or NULL */
};

struct cn_response {
	int status;
	const char *content_type; /* static */
	char *body;		  /* malloc'd, len bytes; cn_response_clear() frees it */
	size_t len;
	char set_cookie[256]; /* "" or the Set-Cookie header's value */
};

struct cn_app;

/* A new app with cfg (borrowed): 0 or -ENOMEM. Free with cn_app_free(), which accepts NULL. */
int cn_app_new(const struct cn_app_config *cfg, struct cn_app **out);
void cn_app_free(struct cn_app *app);

/* Answer req into resp (which the caller clears with cn_response_clear()). */
void cn_app_handle(struct cn_app *app, const struct cn_request *req, struct cn_response *resp);

void cn_response_clear(struct cn_response *resp);

/* Whether addr (an IPv4 or IPv6 address as text) is a loopback address, IPv4-mapped ones too. */
bool cn_addr_is_loopback(const char *addr);

/* The HTTP status for a result code of clusterd (0: 200). */
int cn_http_status(int rc);

/* resp becomes status with the JSON o (borrowed). */
void cn_respond_json(struct cn_response *resp, int status, struct json_object *o);

/* resp becomes status with {"error": msg}. */
void cn_respond_error(struct cn_response *resp, int status, const char *msg);

/*
 * The API calls to clusterd (api.c): route id with name and the request's
 * body (a JSON object, borrowed) and query, answered into resp.
 */
struct cn_route;
void cn_api_call(const struct cn_backend *be, const struct cn_route *rt,
		 const struct cn_request *req, struct json_object *body, struct cn_response *resp);

/*
 * The Prometheus text (metrics.h) of what clusterd answers to status,
 * vm.list (every page) and volume.list, into resp. When clusterd does not
 * answer the status, still 200, with clusterd_up 0.
 */
void cn_api_metrics(const struct cn_backend *be, struct cn_response *resp);

#endif
