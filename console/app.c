#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <syslog.h>

#include <openssl/crypto.h>
#include <qb/qblog.h>

#include <clusterd/result.h>

#include "console/app.h"
#include "console/router.h"
#include "lib/jsonget.h"
#include "lib/util.h"

struct cn_app {
	struct cn_app_config cfg;
	struct cn_sessions *sessions;
	struct cn_ratelimit *fails;
};

#define COOKIE_ATTRS "Path=/; HttpOnly; Secure; SameSite=Strict"

int cn_app_new(const struct cn_app_config *cfg, struct cn_app **out)
{
	struct cn_app *app = calloc(1, sizeof(*app));

	if (!app)
		return -ENOMEM;
	app->cfg = *cfg;
	if (cn_sessions_new(&app->sessions) < 0 || cn_ratelimit_new(&app->fails) < 0) {
		cn_app_free(app);
		return -ENOMEM;
	}
	*out = app;
	return 0;
}

void cn_app_free(struct cn_app *app)
{
	if (!app)
		return;
	cn_sessions_free(app->sessions);
	cn_ratelimit_free(app->fails);
	free(app);
}

void cn_response_clear(struct cn_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

static void respond(struct cn_response *resp, int status, const char *type, char *body, size_t len)
{
	free(resp->body);
	resp->status = status;
	resp->content_type = type;
	resp->body = body;
	resp->len = len;
}

void cn_respond_json(struct cn_response *resp, int status, struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	char *copy = strdup(s ? s : "{}");

	if (!copy) {
		respond(resp, 500, "application/json", NULL, 0);
		return;
	}
	respond(resp, status, "application/json", copy, strlen(copy));
}

void cn_respond_error(struct cn_response *resp, int status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	cn_respond_json(resp, status, o);
	json_object_put(o);
}

int cn_http_status(int rc)
{
	switch (rc) {
	case 0:
		return 200;
	case CD_ERR_NOT_FOUND:
	case -ENOENT:
		return 404;
	case CD_ERR_INVALID:
	case CD_ERR_PROTOCOL:
	case -EINVAL:
		return 400;
	case CD_ERR_DENIED:
		return 403;
	case CD_ERR_EXISTS:
	case CD_ERR_HELD:
	case CD_ERR_REFUSED:
	case CD_ERR_MOVE_STAYED:
	case CD_ERR_MOVE_FAILED:
	case CD_ERR_MOVE_SAVED:
	case CD_ERR_DRAIN_BLOCKED:
	case CD_ERR_DRAIN_CANCELLED:
	case -EBUSY:
	case -EALREADY:
		return 409;
	case CD_ERR_NOT_QUORATE:
	case CD_ERR_SYNCING:
	case CD_ERR_NOT_JOINED:
	case CD_ERR_NO_DAEMON:
	case -EAGAIN:
		return 503;
	case CD_ERR_TIMEOUT:
	case -ETIMEDOUT:
		return 504;
	case -EOPNOTSUPP:
		return 501;
	default:
		return 500;
	}
}

bool cn_addr_is_loopback(const char *addr)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (!addr)
		return false;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return true;
	/* A dual-stack socket sees IPv4 clients as ::ffff:a.b.c.d. */
	return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

/* Whether auth is "Bearer " and the metrics token, compared in constant time. */
static bool token_ok(const struct cn_app *app, const char *auth)
{
	static const char bearer[] = "Bearer ";
	const char *tok = app->cfg.metrics_token;
	size_t n;

	if (!tok || !*tok || strncmp(auth, bearer, sizeof(bearer) - 1) != 0)
		return false;
	auth += sizeof(bearer) - 1;
	n = strlen(tok);
	return strlen(auth) == n && CRYPTO_memcmp(auth, tok, n) == 0;
}

/* Who may read /metrics (app.h). */
static bool metrics_allowed(struct cn_app *app, const struct cn_request *req)
{
	struct cn_session_info info;

	if (req->authorization)
		return token_ok(app, req->authorization);
	if (app->cfg.metrics_loopback && cn_addr_is_loopback(req->client_addr))
		return true;
	return cn_session_check(app->sessions, req->session, NULL, app->cfg.now_ms(), &info) == 0;
}

static const char *content_type(const char *file)
{
	const char *dot = strrchr(file, '.');

	if (dot && strcmp(dot, ".js") == 0)
		return "text/javascript; charset=utf-8";
	if (dot && strcmp(dot, ".css") == 0)
		return "text/css; charset=utf-8";
	return "text/html; charset=utf-8";
}

static void serve_file(struct cn_app *app, const char *file, struct cn_response *resp)
{
	char path[PATH_MAX], *data;
	size_t len;

	if (snprintf(path, sizeof(path), "%s/%s", app->cfg.static_dir, file) >= (int)sizeof(path) ||
	    cd_read_file(path, &data, &len) < 0) {
		cn_respond_error(resp, 404, "no such file");
		return;
	}
	respond(resp, 200, content_type(file), data, len);
}

/* A refused login: after the delay, whatever refused it, so timing tells nothing. */
static void refuse_login(struct cn_app *app, const char *addr, int status, const char *msg,
			 struct cn_response *resp)
{
	/* Not the user name: it may be a password typed into the wrong field. */
	qb_log(LOG_WARNING, "console login from %s refused: %s", addr, msg);
	cn_ratelimit_failed(app->fails, addr, app->cfg.now_ms());
	if (app->cfg.sleep_ms)
		app->cfg.sleep_ms(CN_LOGIN_DELAY_MS);
	cn_respond_error(resp, status, msg);
}

static void login(struct cn_app *app, const struct cn_request *req, struct json_object *body,
		  struct cn_response *resp)
{
	const char *user = cd_jget_str(body, "user"), *pass = cd_jget_str(body, "password");
	const char *addr = req->client_addr ? req->client_addr : "";
	struct cn_session_info info;
	struct json_object *o;
	char id[CN_TOKEN_HEX];
	int rc;

	if (!cn_ratelimit_allowed(app->fails, addr, app->cfg.now_ms())) {
		refuse_login(app, addr, 429, "too many failed logins: try again later", resp);
		return;
	}
	if (!user || !pass || strlen(user) >= CN_USER_MAX) {
		refuse_login(app, addr, 401, "login refused", resp);
		return;
	}
	rc = cn_login_check(&app->cfg.auth, app->cfg.admin_group, user, pass);
	if (rc == -EPERM)
		qb_log(LOG_WARNING, "console login of %s refused: not root nor in group '%s'", user,
		       app->cfg.admin_group);
	if (rc < 0) {
		/* One answer for a wrong password and a user who may not: no user list. */
		refuse_login(app, addr, 401, "login refused", resp);
		return;
	}
	qb_log(LOG_NOTICE, "console login of %s from %s", user, addr);
	cn_session_destroy(app->sessions, req->session);
	if (cn_session_create(app->sessions, user, app->cfg.now_ms(), id, &info) < 0) {
		cn_respond_error(resp, 500, "cannot create a session");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "user", json_object_new_string(info.user));
	json_object_object_add(o, "csrf", json_object_new_string(info.csrf));
	cn_respond_json(resp, 200, o);
	json_object_put(o);
	snprintf(resp->set_cookie, sizeof(resp->set_cookie), CN_COOKIE "=%s; " COOKIE_ATTRS, id);
	explicit_bzero(id, sizeof(id));
}

static void logout(struct cn_app *app, const struct cn_request *req, struct cn_response *resp)
{
	struct json_object *o = json_object_new_object();

	cn_session_destroy(app->sessions, req->session);
	cn_respond_json(resp, 200, o);
	json_object_put(o);
	snprintf(resp->set_cookie, sizeof(resp->set_cookie),
		 CN_COOKIE "=; Max-Age=0; " COOKIE_ATTRS);
}

static void session(const struct cn_session_info *info, struct cn_response *resp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "user", json_object_new_string(info->user));
	json_object_object_add(o, "csrf", json_object_new_string(info->csrf));
	cn_respond_json(resp, 200, o);
	json_object_put(o);
}

/* The body as a JSON object ({} when empty); NULL when it is not one. */
static struct json_object *parse_body(const struct cn_request *req)
{
	struct json_object *o;

	if (req->body_len == 0)
		return json_object_new_object();
	if (cd_json_parse_object(req->body, req->body_len, &o) < 0)
		return NULL;
	return o;
}

void cn_app_handle(struct cn_app *app, const struct cn_request *req, struct cn_response *resp)
{
	struct cn_session_info info;
	struct json_object *body;
	struct cn_route rt;
	int rc;

	memset(resp, 0, sizeof(*resp));
	cn_route(req->method, req->path, &rt);
	if (rt.access == CN_METRICS) {
		if (!metrics_allowed(app, req)) {
			qb_log(LOG_INFO, "console: /metrics refused to %s",
			       req->client_addr ? req->client_addr : "?");
			cn_respond_error(resp, 401, "not logged in");
			return;
		}
		cn_api_metrics(&app->cfg.backend, resp);
		return;
	}
	if (rt.access != CN_PUBLIC) {
		const char *csrf =
			rt.access == CN_SESSION_CSRF ? (req->csrf ? req->csrf : "") : NULL;

		rc = cn_session_check(app->sessions, req->session, csrf, app->cfg.now_ms(), &info);
		if (rc == -EPERM) {
			cn_respond_error(resp, 403, "missing or wrong CSRF token");
			return;
		}
		if (rc < 0) {
			cn_respond_error(resp, 401, "not logged in");
			return;
		}
	}
	if (rt.id == CN_R_UNKNOWN) {
		cn_respond_error(resp, 404, "no such path");
		return;
	}
	if (rt.id == CN_R_BAD_METHOD) {
		cn_respond_error(resp, 405, "method not allowed");
		return;
	}
	if (rt.id == CN_R_STATIC) {
		serve_file(app, rt.file, resp);
		return;
	}
	if (rt.id == CN_R_LOGOUT) {
		logout(app, req, resp);
		return;
	}
	if (rt.id == CN_R_SESSION) {
		session(&info, resp);
		return;
	}
	body = parse_body(req);
	if (!body) {
		cn_respond_error(resp, 400, "the body is not a JSON object");
		return;
	}
	if (rt.id == CN_R_LOGIN)
		login(app, req, body, resp);
	else
		cn_api_call(&app->cfg.backend, &rt, req, body, resp);
	json_object_put(body);
}
