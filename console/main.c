/*
 * clusterd-console: the cluster's web console. Sets things up and waits
 * for SIGTERM; the server's threads do the rest. clusterd runs it as its
 * child (clusterd/console.c) so that HTTP, TLS and PAM never run inside
 * clusterd itself; it asks clusterd what everything else asks, over IPC.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "console/app.h"
#include "console/backend_ipc.h"
#include "console/pam_auth.h"
#include "console/server.h"
#include "lib/util.h"

#ifndef CN_STATIC_DIR
#define CN_STATIC_DIR "/usr/share/clusterd/console"
#endif
#define PKI_DIR SYSCONFDIR "/clusterd/pki"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: clusterd-console [--port PORT] [--listen ADDR] [--cert FILE] [--key FILE]\n"
		"                        [--static DIR] [--admin-group GROUP]\n"
		"                        [--metrics-token-file FILE] [--metrics-loopback yes|no]\n"
		"                        [--foreground]\n");
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * The metrics token: the file's first line, without its end. An empty
 * token is refused: it would open /metrics to anyone who sends it.
 */
static int read_token(const char *path, char **out)
{
	size_t len;
	int rc = cd_read_file(path, out, &len);

	if (rc < 0) {
		fprintf(stderr, "clusterd-console: cannot read %s: %s\n", path, strerror(-rc));
		return rc;
	}
	(*out)[strcspn(*out, "\r\n")] = '\0';
	if (!**out) {
		fprintf(stderr, "clusterd-console: %s holds no token\n", path);
		free(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

static int read_pem(const char *path, char **out)
{
	size_t len;
	int rc = cd_read_file(path, out, &len);

	if (rc < 0)
		fprintf(stderr, "clusterd-console: cannot read %s: %s\n", path, strerror(-rc));
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"port", required_argument, NULL, 'p'},
		{"listen", required_argument, NULL, 'l'},
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{"static", required_argument, NULL, 's'},
		{"admin-group", required_argument, NULL, 'g'},
		{"metrics-token-file", required_argument, NULL, 't'},
		{"metrics-loopback", required_argument, NULL, 'm'},
		{"foreground", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cn_server_config sc = {.port = 9440};
	struct cn_app_config ac = {
		.auth = {&cn_pam_auth_ops, NULL},
		.backend = {&cn_backend_ipc_ops, NULL},
		.admin_group = "haclient",
		.static_dir = CN_STATIC_DIR,
		.now_ms = cd_now_ms,
		.sleep_ms = sleep_ms,
		.metrics_loopback = true,
	};
	const char *cert = PKI_DIR "/node.crt", *key = PKI_DIR "/node.key", *token_file = NULL;
	struct cn_server *srv = NULL;
	struct cn_app *app = NULL;
	char *cert_pem = NULL, *key_pem = NULL, *token = NULL, err[256], *end;
	int c, sig, foreground = 0, ret = 1;
	unsigned long port;
	sigset_t set;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			errno = 0;
			port = strtoul(optarg, &end, 10);
			if (errno || *end || port == 0 || port > 65535) {
				fprintf(stderr, "clusterd-console: bad port %s\n", optarg);
				return 2;
			}
			sc.port = (uint16_t)port;
			break;
		case 'l':
			sc.listen_addr = optarg;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 's':
			ac.static_dir = optarg;
			break;
		case 'g':
			ac.admin_group = optarg;
			break;
		case 't':
			token_file = optarg;
			break;
		case 'm':
			if (strcmp(optarg, "yes") != 0 && strcmp(optarg, "no") != 0) {
				fprintf(stderr,
					"clusterd-console: --metrics-loopback takes yes or no\n");
				return 2;
			}
			ac.metrics_loopback = strcmp(optarg, "yes") == 0;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}

	qb_log_init("clusterd-console", LOG_DAEMON, LOG_INFO);
	qb_log_format_set(QB_LOG_SYSLOG, "%b");
	if (foreground) {
		qb_log_format_set(QB_LOG_STDERR, "%T %p: %b");
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
				  LOG_INFO);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	}
	/* SIGTERM and SIGINT are waited for; no thread takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (read_pem(cert, &cert_pem) < 0 || read_pem(key, &key_pem) < 0)
		goto out_free;
	sc.cert_pem = cert_pem;
	sc.key_pem = key_pem;
	if (token_file && read_token(token_file, &token) < 0)
		goto out_free;
	ac.metrics_token = token;
	if (cn_app_new(&ac, &app) < 0) {
		fprintf(stderr, "clusterd-console: out of memory\n");
		goto out_free;
	}
	if (cn_server_start(&sc, app, &srv, err, sizeof(err)) < 0) {
		qb_log(LOG_ERR, "cannot start the console: %s", err);
		fprintf(stderr, "clusterd-console: %s\n", err);
		goto out_app;
	}
	qb_log(LOG_NOTICE, "console serving HTTPS on port %u", (unsigned)cn_server_port(srv));
	do {
		if (sigwait(&set, &sig) != 0)
			break;
	} while (sig != SIGTERM && sig != SIGINT);
	cn_server_stop(srv);
	qb_log(LOG_NOTICE, "console stopped");
	ret = 0;
out_app:
	cn_app_free(app);
out_free:
	if (key_pem)
		explicit_bzero(key_pem, strlen(key_pem));
	free(key_pem);
	free(cert_pem);
	if (token)
		explicit_bzero(token, strlen(token));
	free(token);
	qb_log_fini();
	return ret;
}
