/*
 * The console's rules apart from HTTP: routes and who may ask them, the
 * session store, the login (with a fake authenticator) and the API's
 * answers (with a fake clusterd).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "console/app.h"
#include "console/login.h"
#include "console/router.h"
#include "console/session.h"
#include "lib/jsonget.h"

/* ---- router ---- */

START_TEST(test_router_public)
{
	struct cn_route r;

	cn_route("GET", "/", &r);
	ck_assert_int_eq(r.id, CN_R_STATIC);
	ck_assert_int_eq(r.access, CN_PUBLIC);
	ck_assert_str_eq(r.file, "index.html");
	cn_route("GET", "/app.js", &r);
	ck_assert_str_eq(r.file, "app.js");
	cn_route("POST", "/api/login", &r);
	ck_assert_int_eq(r.id, CN_R_LOGIN);
	ck_assert_int_eq(r.access, CN_PUBLIC);
}
END_TEST

/* Everything that is not one of the public routes needs a session, whatever its path. */
START_TEST(test_router_everything_else_needs_session)
{
	static const char *const paths[] = {
		"/api",
		"/api/",
		"/API/status",
		"/api/../x",
		"/api/./status",
		"/api//status",
		"/api/login/",
		"/api/login/../status",
		"/api/nothing",
		"/api/vms/../..",
		"/api/vms/a/b/c",
		"/Api/login",
		"/nothing",
		"/index.html/",
		"//",
		"",
		"/api/status?x",
		"/api/vms/%2e%2e",
		"/api/vms/..",
		"/api/status/",
	};
	static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS"};
	struct cn_route r;
	size_t i, j;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		for (j = 0; j < sizeof(methods) / sizeof(methods[0]); j++) {
			cn_route(methods[j], paths[i], &r);
			ck_assert_msg(r.access != CN_PUBLIC, "%s %s is public", methods[j],
				      paths[i]);
		}
	/* The login is public for POST only. */
	cn_route("GET", "/api/login", &r);
	ck_assert_int_ne(r.access, CN_PUBLIC);
	ck_assert_int_eq(r.id, CN_R_BAD_METHOD);
	cn_route("POST", "/", &r);
	ck_assert_int_ne(r.access, CN_PUBLIC);
}
END_TEST

START_TEST(test_router_names)
{
	struct cn_route r;

	cn_route("GET", "/api/vms/web-1", &r);
	ck_assert_int_eq(r.id, CN_R_VM);
	ck_assert_str_eq(r.name, "web-1");
	cn_route("POST", "/api/vms/web-1/move-check", &r);
	ck_assert_int_eq(r.id, CN_R_MOVE_CHECK);
	ck_assert_int_eq(r.access, CN_SESSION_CSRF);
	cn_route("POST", "/api/vms/web-1/start-check", &r);
	ck_assert_int_eq(r.id, CN_R_START_CHECK);
	ck_assert_int_eq(r.access, CN_SESSION_CSRF);
	ck_assert_str_eq(r.name, "web-1");
	ck_assert_str_eq(cn_route_id_to_str(r.id), "start-check");
	cn_route("GET", "/api/vms/web-1/start-check", &r);
	ck_assert_int_eq(r.id, CN_R_BAD_METHOD);
	cn_route("GET", "/api/vms/web-1/move", &r);
	ck_assert_int_eq(r.id, CN_R_MOVE_STATUS);
	ck_assert_int_eq(r.access, CN_SESSION);
	cn_route("POST", "/api/nodes/hv2/drain", &r);
	ck_assert_int_eq(r.id, CN_R_DRAIN);
	ck_assert_str_eq(r.name, "hv2");
	cn_route("POST", "/api/maintenance/patch/run", &r);
	ck_assert_int_eq(r.id, CN_R_MAINT_RUN);
	ck_assert_str_eq(r.name, "patch");
	cn_route("GET", "/api/vms/..", &r);
	ck_assert_int_eq(r.id, CN_R_UNKNOWN);
	cn_route("DELETE", "/api/vms/x", &r);
	ck_assert_int_eq(r.id, CN_R_BAD_METHOD);
	cn_route("GET", "/api/vms", &r);
	ck_assert_str_eq(r.name, "");
	cn_route("GET", "/metrics", &r);
	ck_assert_int_eq(r.id, CN_R_METRICS);
	ck_assert_int_eq(r.access, CN_METRICS);
	ck_assert_str_eq(cn_route_id_to_str(r.id), "metrics");
	cn_route("POST", "/metrics", &r);
	ck_assert_int_eq(r.id, CN_R_BAD_METHOD);
	ck_assert_int_eq(r.access, CN_SESSION);
	cn_route("GET", "/metrics/", &r);
	ck_assert_int_eq(r.id, CN_R_UNKNOWN);
	ck_assert_int_eq(r.access, CN_SESSION);
	cn_route("GET", "/Metrics", &r);
	ck_assert_int_eq(r.access, CN_SESSION);
}
END_TEST

/* ---- sessions ---- */

START_TEST(test_session_expiry)
{
	struct cn_sessions *s;
	struct cn_session_info info, got;
	char id[CN_TOKEN_HEX], id2[CN_TOKEN_HEX];

	ck_assert_int_eq(cn_sessions_new(&s), 0);
	ck_assert_int_eq(cn_session_create(s, "root", 1000, id, &info), 0);
	ck_assert_uint_eq(strlen(id), 64);
	ck_assert_uint_eq(strlen(info.csrf), 64);
	ck_assert_str_ne(id, info.csrf);
	ck_assert_int_eq(cn_session_create(s, "root", 1000, id2, &got), 0);
	ck_assert_str_ne(id, id2);
	/* Use keeps it alive: the idle time counts from the last use. */
	ck_assert_int_eq(cn_session_check(s, id, NULL, 1000 + CN_SESSION_IDLE_MS - 1, &got), 0);
	ck_assert_str_eq(got.user, "root");
	ck_assert_int_eq(cn_session_check(s, id, NULL, 1000 + 2 * CN_SESSION_IDLE_MS - 2, &got), 0);
	/* id2 was not used: gone. */
	ck_assert_int_eq(cn_session_check(s, id2, NULL, 1000 + 2 * CN_SESSION_IDLE_MS - 2, &got),
			 -ENOENT);
	ck_assert_int_eq(cn_session_check(s, id, NULL, 1000 + 3 * CN_SESSION_IDLE_MS, &got),
			 -ENOENT);
	ck_assert_uint_eq(cn_sessions_count(s, 1000 + 3 * CN_SESSION_IDLE_MS), 0);
	ck_assert_int_eq(cn_session_check(s, NULL, NULL, 0, &got), -ENOENT);
	ck_assert_int_eq(cn_session_check(s, "", NULL, 0, &got), -ENOENT);
	cn_sessions_free(s);
}
END_TEST

START_TEST(test_session_csrf_and_logout)
{
	struct cn_sessions *s;
	struct cn_session_info info, got;
	char id[CN_TOKEN_HEX], wrong[CN_TOKEN_HEX];

	ck_assert_int_eq(cn_sessions_new(&s), 0);
	ck_assert_int_eq(cn_session_create(s, "alice", 0, id, &info), 0);
	ck_assert_int_eq(cn_session_check(s, id, info.csrf, 1, &got), 0);
	memcpy(wrong, info.csrf, sizeof(wrong));
	wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(cn_session_check(s, id, wrong, 1, &got), -EPERM);
	ck_assert_int_eq(cn_session_check(s, id, "", 1, &got), -EPERM);
	/* The session id is no CSRF token. */
	ck_assert_int_eq(cn_session_check(s, id, id, 1, &got), -EPERM);
	cn_session_destroy(s, id);
	ck_assert_int_eq(cn_session_check(s, id, info.csrf, 1, &got), -ENOENT);
	cn_session_destroy(s, NULL);
	cn_sessions_free(s);
}
END_TEST

START_TEST(test_session_full_store)
{
	struct cn_sessions *s;
	struct cn_session_info info, got;
	char first[CN_TOKEN_HEX], id[CN_TOKEN_HEX];
	int i;

	ck_assert_int_eq(cn_sessions_new(&s), 0);
	ck_assert_int_eq(cn_session_create(s, "u", 0, first, &info), 0);
	for (i = 1; i <= CN_SESSION_MAX; i++)
		ck_assert_int_eq(cn_session_create(s, "u", (uint64_t)i, id, &info), 0);
	/* The least recently used one made room. */
	ck_assert_int_eq(cn_session_check(s, first, NULL, CN_SESSION_MAX + 1, &got), -ENOENT);
	ck_assert_int_eq(cn_session_check(s, id, NULL, CN_SESSION_MAX + 1, &got), 0);
	ck_assert_uint_eq(cn_sessions_count(s, CN_SESSION_MAX + 1), CN_SESSION_MAX);
	ck_assert_int_eq(cn_session_create(s, "", 0, id, &info), -EINVAL);
	cn_sessions_free(s);
}
END_TEST

/* ---- a fake authenticator: root/rootpw, alice/alicepw (in haclient), bob/bobpw ---- */

static const struct fake_user {
	const char *name, *password, *group;
	uid_t uid;
} fake_users[] = {
	{"root", "rootpw", "root", 0},
	{"alice", "alicepw", "haclient", 1000},
	{"bob", "bobpw", "users", 1001},
};

static const struct fake_user *fake_find(const char *user)
{
	size_t i;

	for (i = 0; i < sizeof(fake_users) / sizeof(fake_users[0]); i++)
		if (strcmp(fake_users[i].name, user) == 0)
			return &fake_users[i];
	return NULL;
}

static int fake_password_ok(void *ctx, const char *user, const char *password)
{
	const struct fake_user *u = fake_find(user);

	(void)ctx;
	return u && strcmp(u->password, password) == 0 ? 0 : -EACCES;
}

static int fake_lookup(void *ctx, const char *user, const char *group, uid_t *uid, bool *member)
{
	const struct fake_user *u = fake_find(user);

	(void)ctx;
	if (!u)
		return -ENOENT;
	*uid = u->uid;
	*member = group && strcmp(group, u->group) == 0;
	return 0;
}

static const struct cn_auth_ops fake_auth_ops = {fake_password_ok, fake_lookup};
static const struct cn_authenticator fake_auth = {&fake_auth_ops, NULL};

START_TEST(test_login_check)
{
	ck_assert_int_eq(cn_login_check(&fake_auth, "haclient", "root", "rootpw"), 0);
	ck_assert_int_eq(cn_login_check(&fake_auth, "haclient", "alice", "alicepw"), 0);
	ck_assert_int_eq(cn_login_check(&fake_auth, "haclient", "root", "wrong"), -EACCES);
	ck_assert_int_eq(cn_login_check(&fake_auth, "haclient", "alice", ""), -EACCES);
	ck_assert_int_eq(cn_login_check(&fake_auth, "haclient", "nobody", "x"), -EACCES);
	/* The right password, but neither root nor in the group. */
	ck_assert_int_eq(cn_login_check(&fake_auth, "haclient", "bob", "bobpw"), -EPERM);
	/* No admin group: root only. */
	ck_assert_int_eq(cn_login_check(&fake_auth, "", "alice", "alicepw"), -EPERM);
	ck_assert_int_eq(cn_login_check(&fake_auth, "", "root", "rootpw"), 0);
}
END_TEST

START_TEST(test_ratelimit)
{
	struct cn_ratelimit *r;
	int i;

	ck_assert_int_eq(cn_ratelimit_new(&r), 0);
	for (i = 0; i < CN_LOGIN_MAX_FAILS; i++) {
		ck_assert(cn_ratelimit_allowed(r, "192.0.2.1", 100));
		cn_ratelimit_failed(r, "192.0.2.1", 100 + (uint64_t)i);
	}
	ck_assert(!cn_ratelimit_allowed(r, "192.0.2.1", 200));
	ck_assert(cn_ratelimit_allowed(r, "192.0.2.2", 200));
	ck_assert(cn_ratelimit_allowed(r, "192.0.2.1", 100 + CN_LOGIN_WINDOW_MS));
	cn_ratelimit_free(r);
}
END_TEST

/* ---- the app, with a fake clusterd ---- */

static char last_cmd[64];
static char last_args[512];

static int fake_call(void *ctx, const char *cmd, struct json_object *args,
		     struct json_object **reply)
{
	(void)ctx;
	snprintf(last_cmd, sizeof(last_cmd), "%s", cmd);
	snprintf(last_args, sizeof(last_args), "%s",
		 args ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN) : "");
	*reply = json_object_new_object();
	if (strcmp(cmd, "vm.show") == 0 && strcmp(cd_jget_str(args, "name"), "ghost") == 0) {
		json_object_object_add(*reply, "error", json_object_new_string("no VM ghost"));
		return CD_ERR_NOT_FOUND;
	}
	if (strcmp(cmd, "vm.move") == 0) {
		json_object_object_add(*reply, "error",
				       json_object_new_string("the preflight refused it"));
		json_object_object_add(*reply, "report", json_object_new_object());
		return CD_ERR_REFUSED;
	}
	if (strcmp(cmd, "status") == 0) {
		json_object_object_add(*reply, "error", json_object_new_string("no quorum here"));
		return CD_ERR_NOT_QUORATE;
	}
	json_object_object_add(*reply, "ok", json_object_new_boolean(true));
	return 0;
}

static const struct cn_backend_ops fake_backend_ops = {fake_call};

static uint64_t fake_now;
static unsigned slept_ms;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static void fake_sleep(unsigned ms)
{
	slept_ms += ms;
}

static const char *fake_query(void *ctx, const char *key)
{
	/* ctx: "key=value" */
	const char *kv = ctx;
	size_t n = strlen(key);

	return kv && strncmp(kv, key, n) == 0 && kv[n] == '=' ? kv + n + 1 : NULL;
}

#define METRICS_TOKEN "s3cret-token"

/* An app whose /metrics opens to loopback clients (as by default) or not. */
static struct cn_app *new_app_metrics(bool loopback)
{
	struct cn_app_config cfg = {
		.auth = fake_auth,
		.backend = {&fake_backend_ops, NULL},
		.admin_group = "haclient",
		.static_dir = ".",
		.now_ms = fake_clock,
		.sleep_ms = fake_sleep,
		.metrics_token = METRICS_TOKEN,
		.metrics_loopback = loopback,
	};
	struct cn_app *app;

	fake_now = 1000;
	slept_ms = 0;
	ck_assert_int_eq(cn_app_new(&cfg, &app), 0);
	return app;
}

static struct cn_app *new_app(void)
{
	return new_app_metrics(true);
}

/* One request; the response's JSON body (a new reference) in *body. */
static int ask(struct cn_app *app, const char *method, const char *path, const char *session,
	       const char *csrf, const char *body, struct cn_response *resp)
{
	struct cn_request req = {
		.method = method,
		.path = path,
		.query = fake_query,
		.session = session,
		.csrf = csrf,
		.body = body,
		.body_len = body ? strlen(body) : 0,
		.client_addr = "192.0.2.7",
	};

	cn_app_handle(app, &req, resp);
	return resp->status;
}

static struct json_object *resp_json(const struct cn_response *resp)
{
	struct json_object *o = NULL;

	ck_assert_int_eq(cd_json_parse_object(resp->body, resp->len, &o), 0);
	return o;
}

/* Log in: the session id (from the cookie) into id, the CSRF token into csrf. */
static int login(struct cn_app *app, const char *user, const char *pw, char *id, char *csrf)
{
	struct cn_response resp;
	char body[256];
	int status;

	snprintf(body, sizeof(body), "{\"user\":\"%s\",\"password\":\"%s\"}", user, pw);
	status = ask(app, "POST", "/api/login", NULL, NULL, body, &resp);
	if (status == 200) {
		struct json_object *o = resp_json(&resp);

		ck_assert_msg(strncmp(resp.set_cookie, CN_COOKIE "=", strlen(CN_COOKIE) + 1) == 0,
			      "%s", resp.set_cookie);
		ck_assert(strstr(resp.set_cookie, "HttpOnly"));
		ck_assert(strstr(resp.set_cookie, "Secure"));
		ck_assert(strstr(resp.set_cookie, "SameSite=Strict"));
		memcpy(id, resp.set_cookie + strlen(CN_COOKIE) + 1, CN_TOKEN_HEX - 1);
		id[CN_TOKEN_HEX - 1] = '\0';
		snprintf(csrf, CN_TOKEN_HEX, "%s", cd_jget_str(o, "csrf"));
		json_object_put(o);
	} else {
		ck_assert_str_eq(resp.set_cookie, "");
	}
	cn_response_clear(&resp);
	return status;
}

START_TEST(test_app_needs_session)
{
	static const char *const paths[] = {
		"/api/status", "/api/vms",  "/api/vms/x/move", "/api",	       "/api/",
		"/API/status", "/api/../x", "/api/nothing",    "/api/login/x", "/nothing"};
	struct cn_app *app = new_app();
	struct cn_response resp;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ck_assert_int_eq(ask(app, "GET", paths[i], NULL, NULL, NULL, &resp), 401);
		ck_assert_str_eq(resp.content_type, "application/json");
		cn_response_clear(&resp);
		ck_assert_int_eq(ask(app, "POST", paths[i], "00", "00", "{}", &resp), 401);
		cn_response_clear(&resp);
	}
	ck_assert_str_eq(last_cmd, "");
	cn_app_free(app);
}
END_TEST

START_TEST(test_app_login)
{
	struct cn_app *app = new_app();
	char id[CN_TOKEN_HEX], csrf[CN_TOKEN_HEX];
	struct cn_response resp;

	ck_assert_int_eq(login(app, "root", "wrong", id, csrf), 401);
	ck_assert_uint_eq(slept_ms, CN_LOGIN_DELAY_MS);
	ck_assert_int_eq(login(app, "bob", "bobpw", id, csrf), 401);
	ck_assert_int_eq(ask(app, "POST", "/api/login", NULL, NULL, "not json", &resp), 400);
	cn_response_clear(&resp);
	ck_assert_int_eq(login(app, "alice", "alicepw", id, csrf), 200);
	ck_assert_int_eq(login(app, "root", "rootpw", id, csrf), 200);
	ck_assert_int_eq(ask(app, "GET", "/api/session", id, NULL, NULL, &resp), 200);
	cn_response_clear(&resp);
	/* Known path, other method; unknown path: with a session, 405 and 404. */
	ck_assert_int_eq(ask(app, "PUT", "/api/status", id, NULL, NULL, &resp), 405);
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "GET", "/api/nothing", id, NULL, NULL, &resp), 404);
	cn_response_clear(&resp);
	/* A POST without or with a wrong CSRF token. */
	ck_assert_int_eq(ask(app, "POST", "/api/vms/web/start", id, NULL, NULL, &resp), 403);
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "POST", "/api/vms/web/start", id, id, NULL, &resp), 403);
	cn_response_clear(&resp);
	ck_assert_str_eq(last_cmd, "");
	ck_assert_int_eq(ask(app, "POST", "/api/vms/web/start", id, csrf, NULL, &resp), 200);
	cn_response_clear(&resp);
	ck_assert_str_eq(last_cmd, "vm.start");
	/* Idle too long. */
	fake_now += CN_SESSION_IDLE_MS;
	ck_assert_int_eq(ask(app, "GET", "/api/nodes", id, NULL, NULL, &resp), 401);
	cn_response_clear(&resp);
	/* Logout ends the session. */
	ck_assert_int_eq(login(app, "root", "rootpw", id, csrf), 200);
	ck_assert_int_eq(ask(app, "POST", "/api/logout", id, csrf, NULL, &resp), 200);
	ck_assert(strstr(resp.set_cookie, "Max-Age=0"));
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "GET", "/api/nodes", id, NULL, NULL, &resp), 401);
	cn_response_clear(&resp);
	cn_app_free(app);
}
END_TEST

START_TEST(test_app_login_rate_limited)
{
	struct cn_app *app = new_app();
	char id[CN_TOKEN_HEX], csrf[CN_TOKEN_HEX];
	int i;

	for (i = 0; i < CN_LOGIN_MAX_FAILS; i++)
		ck_assert_int_eq(login(app, "root", "wrong", id, csrf), 401);
	/* The right password too, until the window has passed. */
	ck_assert_int_eq(login(app, "root", "rootpw", id, csrf), 429);
	fake_now += CN_LOGIN_WINDOW_MS;
	ck_assert_int_eq(login(app, "root", "rootpw", id, csrf), 200);
	cn_app_free(app);
}
END_TEST

START_TEST(test_app_api_calls)
{
	struct cn_app *app = new_app();
	char id[CN_TOKEN_HEX], csrf[CN_TOKEN_HEX];
	struct cn_response resp;
	struct json_object *o;

	ck_assert_int_eq(login(app, "root", "rootpw", id, csrf), 200);
	ck_assert_int_eq(ask(app, "GET", "/api/nodes", id, NULL, NULL, &resp), 200);
	ck_assert_str_eq(last_cmd, "node.list");
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "POST", "/api/vms/web/move-check", id, csrf,
			     "{\"node\":\"hv2\",\"mode\":\"live\"}", &resp),
			 200);
	ck_assert_str_eq(last_cmd, "vm.move.check");
	ck_assert_str_eq(last_args, "{\"name\":\"web\",\"target\":\"hv2\",\"mode\":\"live\"}");
	cn_response_clear(&resp);
	/* A start's preflight asks placement what a start would do, and starts nothing. */
	ck_assert_int_eq(ask(app, "POST", "/api/vms/web/start-check", id, csrf, NULL, &resp), 200);
	ck_assert_str_eq(last_cmd, "vm.explain");
	ck_assert_str_eq(last_args, "{\"name\":\"web\",\"start\":true}");
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "POST", "/api/vms/web/start-check", id, NULL, NULL, &resp), 403);
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "POST", "/api/vms/web/stop", id, csrf,
			     "{\"force\":true,\"save\":false}", &resp),
			 200);
	ck_assert_str_eq(last_cmd, "vm.stop");
	ck_assert_str_eq(last_args, "{\"name\":\"web\",\"force\":true,\"save\":false}");
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "POST", "/api/nodes/hv3/resume", id, csrf,
			     "{\"failback\":\"never\"}", &resp),
			 200);
	ck_assert_str_eq(last_cmd, "node.resume");
	ck_assert_str_eq(last_args, "{\"node\":\"hv3\",\"failback\":\"never\"}");
	cn_response_clear(&resp);
	ck_assert_int_eq(
		ask(app, "POST", "/api/nodes/hv1/drain", id, csrf, "{\"dry_run\":true}", &resp),
		200);
	ck_assert_str_eq(last_cmd, "node.drain");
	ck_assert_str_eq(last_args, "{\"node\":\"hv1\",\"dry_run\":true}");
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "POST", "/api/nodes/hv1/drain", id, csrf, "[1]", &resp), 400);
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "GET", "/api/maintenance", id, NULL, NULL, &resp), 200);
	ck_assert_str_eq(last_cmd, "maintenance.list");
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "POST", "/api/maintenance/patch/run", id, csrf, NULL, &resp),
			 200);
	ck_assert_str_eq(last_args, "{\"name\":\"patch\"}");
	cn_response_clear(&resp);
	{
		struct cn_request req = {.method = "GET",
					 .path = "/api/events",
					 .query = fake_query,
					 .query_ctx = (void *)"after=42",
					 .session = id};

		cn_app_handle(app, &req, &resp);
		ck_assert_int_eq(resp.status, 200);
		ck_assert_str_eq(last_args, "{\"since\":42}");
		cn_response_clear(&resp);
		req.query_ctx = (void *)"after=x";
		cn_app_handle(app, &req, &resp);
		ck_assert_int_eq(resp.status, 400);
		cn_response_clear(&resp);
		req.path = "/api/vms";
		req.query_ctx = (void *)"limit=5000";
		cn_app_handle(app, &req, &resp);
		ck_assert_str_eq(last_args, "{\"limit\":1000}");
		cn_response_clear(&resp);
	}
	/* clusterd's errors pass through, with their text and the status they map to. */
	ck_assert_int_eq(ask(app, "GET", "/api/vms/ghost", id, NULL, NULL, &resp), 404);
	o = resp_json(&resp);
	ck_assert_str_eq(cd_jget_str(o, "error"), "no VM ghost");
	json_object_put(o);
	cn_response_clear(&resp);
	ck_assert_int_eq(
		ask(app, "POST", "/api/vms/web/move", id, csrf, "{\"node\":\"hv2\"}", &resp), 409);
	o = resp_json(&resp);
	ck_assert_str_eq(cd_jget_str(o, "error"), "the preflight refused it");
	ck_assert(json_object_object_get_ex(o, "report", NULL));
	json_object_put(o);
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "GET", "/api/status", id, NULL, NULL, &resp), 503);
	cn_response_clear(&resp);
	cn_app_free(app);
}
END_TEST

/* GET /metrics from addr with the Authorization header auth (or none) and session. */
static int ask_metrics(struct cn_app *app, const char *addr, const char *auth, const char *session,
		       struct cn_response *resp)
{
	struct cn_request req = {.method = "GET",
				 .path = "/metrics",
				 .session = session,
				 .client_addr = addr,
				 .authorization = auth};

	cn_app_handle(app, &req, resp);
	return resp->status;
}

START_TEST(test_app_metrics_access)
{
	static const char *const local[] = {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"};
	static const char *const remote[] = {"192.0.2.7", "::ffff:192.0.2.7", "2001:db8::1", "?",
					     ""};
	static const char *const wrong[] = {"Bearer wrong",  "Bearer " METRICS_TOKEN "x",
					    "Bearer s3cret", "bearer " METRICS_TOKEN,
					    METRICS_TOKEN,   "Basic cm9vdDpyb290cHc=",
					    "Bearer ",	     ""};
	struct cn_app *app = new_app();
	char id[CN_TOKEN_HEX], csrf[CN_TOKEN_HEX];
	struct cn_response resp;
	size_t i;

	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
		ck_assert_int_eq(ask_metrics(app, local[i], NULL, NULL, &resp), 200);
		ck_assert_str_eq(resp.content_type, "text/plain; version=0.0.4; charset=utf-8");
		ck_assert_str_eq(last_cmd, "status");
		/* The fake clusterd refuses the status: still an answer, that says so. */
		ck_assert_ptr_nonnull(strstr(resp.body, "\nclusterd_up 0\n"));
		cn_response_clear(&resp);
	}
	for (i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
		last_cmd[0] = '\0';
		ck_assert_int_eq(ask_metrics(app, remote[i], NULL, NULL, &resp), 401);
		ck_assert_str_eq(last_cmd, "");
		cn_response_clear(&resp);
		ck_assert_int_eq(ask_metrics(app, remote[i], "Bearer " METRICS_TOKEN, NULL, &resp),
				 200);
		cn_response_clear(&resp);
	}
	/* A wrong token is refused, from loopback too. */
	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		ck_assert_int_eq(ask_metrics(app, "192.0.2.7", wrong[i], NULL, &resp), 401);
		cn_response_clear(&resp);
		ck_assert_int_eq(ask_metrics(app, "127.0.0.1", wrong[i], NULL, &resp), 401);
		cn_response_clear(&resp);
	}
	/* A session opens it from anywhere. */
	ck_assert_int_eq(ask_metrics(app, "192.0.2.7", NULL, "00", &resp), 401);
	cn_response_clear(&resp);
	ck_assert_int_eq(login(app, "root", "rootpw", id, csrf), 200);
	ck_assert_int_eq(ask_metrics(app, "192.0.2.7", NULL, id, &resp), 200);
	cn_response_clear(&resp);
	/* Only GET. */
	ck_assert_int_eq(ask(app, "POST", "/metrics", NULL, NULL, NULL, &resp), 401);
	cn_response_clear(&resp);
	cn_app_free(app);

	/* metrics_loopback off: loopback is no one special. */
	app = new_app_metrics(false);
	ck_assert_int_eq(ask_metrics(app, "127.0.0.1", NULL, NULL, &resp), 401);
	cn_response_clear(&resp);
	ck_assert_int_eq(ask_metrics(app, "127.0.0.1", "Bearer " METRICS_TOKEN, NULL, &resp), 200);
	cn_response_clear(&resp);
	cn_app_free(app);
}
END_TEST

START_TEST(test_addr_is_loopback)
{
	ck_assert(cn_addr_is_loopback("127.0.0.1"));
	ck_assert(cn_addr_is_loopback("127.255.255.254"));
	ck_assert(cn_addr_is_loopback("::1"));
	ck_assert(cn_addr_is_loopback("::ffff:127.0.0.1"));
	ck_assert(!cn_addr_is_loopback("128.0.0.1"));
	ck_assert(!cn_addr_is_loopback("10.127.0.1"));
	ck_assert(!cn_addr_is_loopback("::2"));
	ck_assert(!cn_addr_is_loopback("::ffff:10.0.0.1"));
	ck_assert(!cn_addr_is_loopback("::127.0.0.1"));
	ck_assert(!cn_addr_is_loopback("localhost"));
	ck_assert(!cn_addr_is_loopback("?"));
	ck_assert(!cn_addr_is_loopback(""));
	ck_assert(!cn_addr_is_loopback(NULL));
}
END_TEST

START_TEST(test_app_static)
{
	struct cn_app *app = new_app();
	struct cn_response resp;
	char dir[] = "/tmp/check_console.XXXXXX", path[64];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/app.js", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("let x = 1;\n", f);
	fclose(f);
	cn_app_free(app);
	{
		struct cn_app_config cfg = {.auth = fake_auth,
					    .backend = {&fake_backend_ops, NULL},
					    .admin_group = "haclient",
					    .static_dir = dir,
					    .now_ms = fake_clock,
					    .sleep_ms = fake_sleep};

		ck_assert_int_eq(cn_app_new(&cfg, &app), 0);
	}
	ck_assert_int_eq(ask(app, "GET", "/app.js", NULL, NULL, NULL, &resp), 200);
	ck_assert(strstr(resp.content_type, "javascript"));
	ck_assert_uint_eq(resp.len, 11);
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "GET", "/", NULL, NULL, NULL, &resp), 404);
	cn_response_clear(&resp);
	ck_assert_int_eq(ask(app, "GET", "/../app.js", NULL, NULL, NULL, &resp), 401);
	cn_response_clear(&resp);
	unlink(path);
	rmdir(dir);
	cn_app_free(app);
}
END_TEST

START_TEST(test_http_status)
{
	ck_assert_int_eq(cn_http_status(0), 200);
	ck_assert_int_eq(cn_http_status(CD_ERR_INVALID), 400);
	ck_assert_int_eq(cn_http_status(CD_ERR_DENIED), 403);
	ck_assert_int_eq(cn_http_status(CD_ERR_NOT_FOUND), 404);
	ck_assert_int_eq(cn_http_status(CD_ERR_HELD), 409);
	ck_assert_int_eq(cn_http_status(CD_ERR_NO_DAEMON), 503);
	ck_assert_int_eq(cn_http_status(CD_ERR_TIMEOUT), 504);
	ck_assert_int_eq(cn_http_status(-EIO), 500);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console");

	add_tcase(s, test_router_public);
	add_tcase(s, test_router_everything_else_needs_session);
	add_tcase(s, test_router_names);
	add_tcase(s, test_session_expiry);
	add_tcase(s, test_session_csrf_and_logout);
	add_tcase(s, test_session_full_store);
	add_tcase(s, test_login_check);
	add_tcase(s, test_ratelimit);
	add_tcase(s, test_app_needs_session);
	add_tcase(s, test_app_login);
	add_tcase(s, test_app_login_rate_limited);
	add_tcase(s, test_app_api_calls);
	add_tcase(s, test_app_metrics_access);
	add_tcase(s, test_addr_is_loopback);
	add_tcase(s, test_app_static);
	add_tcase(s, test_http_status);
	return run_suite(s);
}
