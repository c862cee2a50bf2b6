/*
 * The console's HTTPS server: libmicrohttpd with GnuTLS, a thread per
 * connection, each request handed to the app (app.h) once its body is in.
 * Every answer says not to cache it, not to frame it and to load nothing
 * from elsewhere.
 */
#ifndef CN_SERVER_H
#define CN_SERVER_H

#include <stdint.h>

#include "console/app.h"

struct cn_server;

struct cn_server_config {
	const char *cert_pem; /* the certificate (chain), PEM text */
	const char *key_pem;  /* its private key, PEM text */
	uint16_t port;	      /* 0: any free port (the tests) */
	/*
	 * An IPv4 or IPv6 address to listen on, or NULL for every address:
	 * IPv6 and IPv4 both ("[::]"), IPv4 alone where the host has no IPv6.
	 */
	const char *listen_addr;
};

/*
 * Start serving app (borrowed) as cfg says. *out is the running server:
 * stop it with cn_server_stop(). Returns 0, -EINVAL (a bad address), or
 * -EIO (it could not start; err says why).
 */
int cn_server_start(const struct cn_server_config *cfg, struct cn_app *app, struct cn_server **out,
		    char *err, size_t errlen);

/* The port it listens on. */
uint16_t cn_server_port(const struct cn_server *s);

/* Stop serving and free. Accepts NULL. */
void cn_server_stop(struct cn_server *s);

#endif
