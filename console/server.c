#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "console/server.h"
#include "lib/util.h"

/* Connections served at once, and how long an idle one stays open. */
#define CONNECTIONS_MAX 64
#define CONNECTION_TIMEOUT_S 30

struct cn_server {
	struct MHD_Daemon *d;
	struct cn_app *app;
};

/* One request while its body comes in. */
struct pending {
	char *body;
	size_t len;
	bool too_big;
};

static const char *query_arg(void *ctx, const char *key)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, key);
}

static void client_addr(struct MHD_Connection *conn, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	cd_strlcpy(out, "?", n);
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
			  (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)n);
}

static enum MHD_Result send_response(struct MHD_Connection *conn, const struct cn_response *r)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(r->len, r->body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
				r->content_type ? r->content_type : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; frame-ancestors 'none'; form-action 'self'");
	MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	if (r->set_cookie[0])
		MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
	ret = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct cn_server *s = cls;
	struct pending *p = *con_cls;
	struct cn_response resp;
	struct cn_request req;
	char addr[INET6_ADDRSTRLEN];
	enum MHD_Result ret;

	(void)version;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return MHD_NO;
		*con_cls = p;
		return MHD_YES;
	}
	if (*upload_size) {
		/* A body too large is read to its end, and refused then. */
		if (!p->too_big && p->len + *upload_size <= CN_BODY_MAX) {
			char *b = realloc(p->body, p->len + *upload_size);

			if (!b)
				return MHD_NO;
			p->body = b;
			memcpy(p->body + p->len, upload, *upload_size);
			p->len += *upload_size;
		} else {
			p->too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	client_addr(conn, addr, sizeof(addr));
	req = (struct cn_request){
		.method = method,
		.path = url,
		.query = query_arg,
		.query_ctx = conn,
		.session = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, CN_COOKIE),
		.csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token"),
		.body = p->body,
		.body_len = p->len,
		.client_addr = addr,
		.authorization =
			MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization"),
	};
	memset(&resp, 0, sizeof(resp));
	if (p->too_big)
		cn_respond_error(&resp, 413, "the request body is too large");
	else
		cn_app_handle(s->app, &req, &resp);
	ret = send_response(conn, &resp);
	cn_response_clear(&resp);
	return ret;
}

/* The request ended: its body may hold a password. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct pending *p = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!p)
		return;
	if (p->body)
		explicit_bzero(p->body, p->len);
	free(p->body);
	free(p);
	*con_cls = NULL;
}

static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	vfprintf(stderr, fmt, ap);
}

static struct MHD_Daemon *start(const struct cn_server_config *cfg, struct cn_server *s,
				unsigned flags, const struct sockaddr *sa)
{
	return MHD_start_daemon(
		flags | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
			MHD_USE_TLS | MHD_USE_ERROR_LOG,
		cfg->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
		MHD_OPTION_HTTPS_MEM_CERT, cfg->cert_pem, MHD_OPTION_HTTPS_MEM_KEY, cfg->key_pem,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		sa ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, sa, MHD_OPTION_END);
}

int cn_server_start(const struct cn_server_config *cfg, struct cn_app *app, struct cn_server **out,
		    char *err, size_t errlen)
{
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(cfg->port)};
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(cfg->port)};
	struct cn_server *s;

	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
		CD_FAIL(-EIO, "this libmicrohttpd has no TLS");
	s = calloc(1, sizeof(*s));
	if (!s)
		CD_FAIL(-ENOMEM, "out of memory");
	s->app = app;
	if (!cfg->listen_addr) {
		s->d = start(cfg, s, MHD_USE_DUAL_STACK, NULL);
		if (!s->d)
			s->d = start(cfg, s, 0, NULL);
	} else if (inet_pton(AF_INET, cfg->listen_addr, &a4.sin_addr) == 1) {
		s->d = start(cfg, s, 0, (const struct sockaddr *)&a4);
	} else if (inet_pton(AF_INET6, cfg->listen_addr, &a6.sin6_addr) == 1) {
		s->d = start(cfg, s, MHD_USE_IPv6, (const struct sockaddr *)&a6);
	} else {
		free(s);
		CD_FAIL(-EINVAL, "not an IP address: %s", cfg->listen_addr);
	}
	if (!s->d) {
		free(s);
		CD_FAIL(-EIO, "cannot listen on port %u (in use, or a bad certificate or key)",
			(unsigned)cfg->port);
	}
	*out = s;
	return 0;
}

uint16_t cn_server_port(const struct cn_server *s)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);

	return i ? i->port : 0;
}

void cn_server_stop(struct cn_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	free(s);
}
