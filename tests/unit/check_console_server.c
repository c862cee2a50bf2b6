/*
 * The console's real HTTPS server on 127.0.0.1, with a throwaway
 * certificate, a fake authenticator and a fake clusterd: answers without a
 * session are 401, a login sets the cookie, and the cookie opens the API;
 * /metrics answers this loopback client, or the token when loopback is
 * not enough.
 * The client is OpenSSL speaking HTTP/1.0 by hand (no verification: the
 * certificate is the test's own).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "check_common.h"
#include "console/app.h"
#include "console/server.h"
#include "lib/pki.h"
#include "lib/util.h"

static int ok_password(void *ctx, const char *user, const char *password)
{
	(void)ctx;
	return strcmp(user, "root") == 0 && strcmp(password, "secret") == 0 ? 0 : -EACCES;
}

static int root_lookup(void *ctx, const char *user, const char *group, uid_t *uid, bool *member)
{
	(void)ctx;
	(void)group;
	*uid = strcmp(user, "root") == 0 ? 0 : 1000;
	*member = false;
	return 0;
}

static int status_call(void *ctx, const char *cmd, struct json_object *args,
		       struct json_object **reply)
{
	(void)ctx;
	(void)args;
	*reply = json_object_new_object();
	json_object_object_add(*reply, "cmd", json_object_new_string(cmd));
	return 0;
}

static const struct cn_auth_ops auth_ops = {ok_password, root_lookup};
static const struct cn_backend_ops backend_ops = {status_call};

static void no_sleep(unsigned ms)
{
	(void)ms;
}

/* One request over TLS; the whole answer (head and body) into out. */
static void https(uint16_t port, const char *request, char *out, size_t n)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	size_t got = 0;
	SSL *ssl;
	int fd, r;

	ck_assert_ptr_nonnull(ctx);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	ck_assert_int_eq(SSL_connect(ssl), 1);
	ck_assert_int_eq(SSL_write(ssl, request, (int)strlen(request)), (int)strlen(request));
	while (got + 1 < n && (r = SSL_read(ssl, out + got, (int)(n - 1 - got))) > 0)
		got += (size_t)r;
	out[got] = '\0';
	SSL_free(ssl);
	close(fd);
	SSL_CTX_free(ctx);
}

START_TEST(test_server)
{
	char dir[] = "/tmp/check_console_server.XXXXXX", cert[128], key[128], err[256];
	char *cert_pem, *key_pem, ans[8192], req[1024], cookie[CN_TOKEN_HEX], *c;
	struct cn_app_config ac = {.auth = {&auth_ops, NULL},
				   .backend = {&backend_ops, NULL},
				   .admin_group = "",
				   .static_dir = dir,
				   .now_ms = cd_now_ms,
				   .sleep_ms = no_sleep,
				   .metrics_token = "tok3n",
				   .metrics_loopback = true};
	struct cn_server_config sc = {.listen_addr = "127.0.0.1"};
	const char *login = "{\"user\":\"root\",\"password\":\"secret\"}";
	struct cn_server *srv;
	struct cd_pki_ca *ca;
	struct cn_app *app;
	size_t len;
	uint16_t port;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/node.crt", dir);
	snprintf(key, sizeof(key), "%s/node.key", dir);
	ck_assert_int_eq(cd_pki_ca_new("test", &ca, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_pki_node_write(ca, "hv1", "127.0.0.1", cert, key, err, sizeof(err)), 0);
	cd_pki_ca_free(ca);
	ck_assert_int_eq(cd_read_file(cert, &cert_pem, &len), 0);
	ck_assert_int_eq(cd_read_file(key, &key_pem, &len), 0);
	sc.cert_pem = cert_pem;
	sc.key_pem = key_pem;
	ck_assert_int_eq(cn_app_new(&ac, &app), 0);
	ck_assert_msg(cn_server_start(&sc, app, &srv, err, sizeof(err)) == 0, "%s", err);
	port = cn_server_port(srv);
	ck_assert_uint_ne(port, 0);

	https(port, "GET /api/status HTTP/1.0\r\n\r\n", ans, sizeof(ans));
	ck_assert_msg(strncmp(ans, "HTTP/1.0 401", 12) == 0 ||
			      strncmp(ans, "HTTP/1.1 401", 12) == 0,
		      "%s", ans);
	/* /metrics: open to this loopback client; a wrong token is refused all the same. */
	https(port, "GET /metrics HTTP/1.0\r\n\r\n", ans, sizeof(ans));
	ck_assert_msg(strstr(ans, " 200 "), "%s", ans);
	ck_assert_msg(strstr(ans, "Content-Type: text/plain; version=0.0.4"), "%s", ans);
	ck_assert_msg(strstr(ans, "\r\n\r\n# HELP clusterd_up "), "%s", ans);
	ck_assert_msg(strstr(ans, "\nclusterd_up 1\n"), "%s", ans);
	https(port, "GET /metrics HTTP/1.0\r\nAuthorization: Bearer wrong\r\n\r\n", ans,
	      sizeof(ans));
	ck_assert_msg(strstr(ans, " 401 "), "%s", ans);
	ck_assert_ptr_null(strstr(ans, "clusterd_up"));
	https(port, "GET /metrics HTTP/1.0\r\nAuthorization: Bearer tok3n\r\n\r\n", ans,
	      sizeof(ans));
	ck_assert_msg(strstr(ans, " 200 "), "%s", ans);
	https(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", ans, sizeof(ans));
	ck_assert_msg(strstr(ans, " 401 "), "%s", ans);
	https(port, "GET /api/../x HTTP/1.0\r\n\r\n", ans, sizeof(ans));
	ck_assert_msg(strstr(ans, " 401 "), "%s", ans);
	https(port, "GET /API HTTP/1.0\r\n\r\n", ans, sizeof(ans));
	ck_assert_msg(strstr(ans, " 401 "), "%s", ans);
	snprintf(req, sizeof(req),
		 "POST /api/login HTTP/1.0\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 strlen("{\"user\":\"root\",\"password\":\"wrong\"}"),
		 "{\"user\":\"root\",\"password\":\"wrong\"}");
	https(port, req, ans, sizeof(ans));
	ck_assert_msg(strstr(ans, " 401 "), "%s", ans);
	ck_assert_ptr_null(strstr(ans, "Set-Cookie"));

	snprintf(req, sizeof(req),
		 "POST /api/login HTTP/1.0\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s",
		 strlen(login), login);
	https(port, req, ans, sizeof(ans));
	ck_assert_msg(strstr(ans, " 200 "), "%s", ans);
	c = strstr(ans, CN_COOKIE "=");
	ck_assert_ptr_nonnull(c);
	snprintf(cookie, sizeof(cookie), "%s", c + strlen(CN_COOKIE) + 1);
	ck_assert_uint_eq(strlen(cookie), CN_TOKEN_HEX - 1);
	ck_assert(strstr(ans, "HttpOnly; Secure; SameSite=Strict"));

	snprintf(req, sizeof(req), "GET /api/status HTTP/1.0\r\nCookie: " CN_COOKIE "=%s\r\n\r\n",
		 cookie);
	https(port, req, ans, sizeof(ans));
	ck_assert_msg(strstr(ans, " 200 "), "%s", ans);
	ck_assert(strstr(ans, "\"cmd\":\"status\""));
	ck_assert(strstr(ans, "Cache-Control: no-store"));

	cn_server_stop(srv);
	cn_app_free(app);

	/* metrics_loopback off: this client needs the token, as a remote one would. */
	ac.metrics_loopback = false;
	ck_assert_int_eq(cn_app_new(&ac, &app), 0);
	ck_assert_msg(cn_server_start(&sc, app, &srv, err, sizeof(err)) == 0, "%s", err);
	port = cn_server_port(srv);
	https(port, "GET /metrics HTTP/1.0\r\n\r\n", ans, sizeof(ans));
	ck_assert_msg(strstr(ans, " 401 "), "%s", ans);
	https(port, "GET /metrics HTTP/1.0\r\nAuthorization: Bearer tok3n\r\n\r\n", ans,
	      sizeof(ans));
	ck_assert_msg(strstr(ans, " 200 "), "%s", ans);
	ck_assert_msg(strstr(ans, "\nclusterd_up 1\n"), "%s", ans);
	cn_server_stop(srv);
	cn_app_free(app);
	free(cert_pem);
	free(key_pem);
	unlink(cert);
	unlink(key);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console_server");

	add_tcase(s, test_server);
	return run_suite(s);
}
