/*
 * The web console: clusterd runs clusterd-console as its child, so that
 * HTTP, TLS and PAM never run inside clusterd, and restarts it with a
 * growing delay if it dies. Only when clusterd.conf enables it and this
 * node has its certificate (clusterctl cluster create writes it): without
 * one there is nothing to serve HTTPS with, and clusterd says so once.
 */
#ifndef CD_CONSOLE_H
#define CD_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include <qb/qbloop.h>

#define CD_CONSOLE_CERT SYSCONFDIR "/clusterd/pki/node.crt"
#define CD_CONSOLE_KEY SYSCONFDIR "/clusterd/pki/node.key"

/* The delay before a restart: doubled after each quick death, up to the max. */
#define CD_CONSOLE_RESTART_MIN_MS 1000
#define CD_CONSOLE_RESTART_MAX_MS 60000
/* A console that ran this long died of something new: the delay starts over. */
#define CD_CONSOLE_STABLE_MS 60000

struct cd_console_config {
	bool enabled;
	uint16_t port;
	const char *admin_group; /* "" for root only */
	const char *program;	 /* clusterd-console, an absolute path */
	const char *cert;	 /* the node's certificate and key */
	const char *key;
	const char *metrics_token_file; /* "" for none */
	bool metrics_loopback;
};

/*
 * Start the console if cfg says so and the certificate is there. cfg's
 * strings are copied. Returns 0 (also when it is not started: that is
 * logged) or -ENOMEM.
 */
int cd_console_start(qb_loop_t *loop, const struct cd_console_config *cfg);

/* The next delay after a console that ran ran_ms died, the last delay being prev_ms. */
uint32_t cd_console_backoff(uint32_t prev_ms, uint64_t ran_ms);

/* Stop the console (SIGKILL: it keeps nothing) and any restart. */
void cd_console_fini(void);

#endif
