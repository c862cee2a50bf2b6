#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/console.h"
#include "lib/child.h"
#include "lib/looptimer.h"
#include "lib/util.h"

/* What the console says on stderr before it dies: enough for a log line. */
#define CONSOLE_OUT_MAX 4096

static struct {
	qb_loop_t *loop;
	char program[256];
	char port[8];
	char group[64];
	char cert[256];
	char key[256];
	char token_file[256];
	char loopback[4];
	struct cd_child *child;
	qb_loop_timer_handle restart;
	bool restart_armed;
	uint32_t delay_ms;
	uint64_t started_ms;
} con;

uint32_t cd_console_backoff(uint32_t prev_ms, uint64_t ran_ms)
{
	if (ran_ms >= CD_CONSOLE_STABLE_MS || prev_ms == 0)
		return CD_CONSOLE_RESTART_MIN_MS;
	return prev_ms >= CD_CONSOLE_RESTART_MAX_MS / 2 ? CD_CONSOLE_RESTART_MAX_MS : 2 * prev_ms;
}

static void spawn(void);

static void restart_due(void *data)
{
	(void)data;
	con.restart_armed = false;
	spawn();
}

static void schedule_restart(void)
{
	uint64_t ran = cd_now_ms() - con.started_ms;

	con.delay_ms = cd_console_backoff(con.delay_ms, ran);
	qb_log(LOG_NOTICE, "web console restarts in %u ms", con.delay_ms);
	if (cd_timer_add(con.loop, QB_LOOP_LOW, (uint64_t)con.delay_ms * 1000000ULL, NULL,
			 restart_due, &con.restart) == 0)
		con.restart_armed = true;
	else
		qb_log(LOG_ERR, "cannot schedule the web console's restart: it stays down");
}

/* The last line the console wrote on stderr, for the log. */
static void last_line(const char *s, size_t len, char *out, size_t n)
{
	const char *end = s + len, *start;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	start = end;
	while (start > s && start[-1] != '\n')
		start--;
	snprintf(out, n, "%.*s", (int)(end - start), start);
}

static void ended(void *ctx, const struct cd_child_result *r)
{
	char why[256];

	(void)ctx;
	con.child = NULL;
	last_line(r->err, r->err_len, why, sizeof(why));
	if (r->signal)
		qb_log(LOG_ERR, "web console (clusterd-console) killed by signal %d%s%s", r->signal,
		       *why ? ": " : "", why);
	else
		qb_log(LOG_ERR, "web console (clusterd-console) exited with status %d%s%s",
		       r->exit_status, *why ? ": " : "", why);
	schedule_restart();
}

static void spawn(void)
{
	char name[] = "clusterd-console", port[] = "--port", group[] = "--admin-group",
	     cert[] = "--cert", key[] = "--key", loopback[] = "--metrics-loopback",
	     token[] = "--metrics-token-file";
	char *argv[] = {name, port,    con.port, group,	       con.group, cert, con.cert,
			key,  con.key, loopback, con.loopback, NULL,	  NULL, NULL};
	struct cd_child_spec spec = {
		.path = con.program,
		.argv = argv,
		.out_max = CONSOLE_OUT_MAX,
		.no_timeout = true,
	};
	int rc;

	/* The last two slots (before the NULL that ends argv): the token file, if any. */
	if (con.token_file[0]) {
		argv[11] = token;
		argv[12] = con.token_file;
	}
	con.started_ms = cd_now_ms();
	rc = cd_child_start(con.loop, &spec, ended, NULL, &con.child);
	if (rc < 0) {
		con.child = NULL;
		qb_log(LOG_ERR, "cannot start the web console %s: %s", con.program,
		       cd_strerror(rc));
		schedule_restart();
		return;
	}
	qb_log(LOG_INFO, "web console started (pid %ld, port %s)", (long)cd_child_pid(con.child),
	       con.port);
}

int cd_console_start(qb_loop_t *loop, const struct cd_console_config *cfg)
{
	if (!cfg->enabled) {
		qb_log(LOG_INFO, "web console off (console = no)");
		return 0;
	}
	if (access(cfg->cert, R_OK) < 0 || access(cfg->key, R_OK) < 0) {
		qb_log(LOG_NOTICE, "web console not started: no node certificate (%s, %s)",
		       cfg->cert, cfg->key);
		return 0;
	}
	con.loop = loop;
	cd_strlcpy(con.program, cfg->program, sizeof(con.program));
	snprintf(con.port, sizeof(con.port), "%u", (unsigned)cfg->port);
	cd_strlcpy(con.group, cfg->admin_group, sizeof(con.group));
	cd_strlcpy(con.cert, cfg->cert, sizeof(con.cert));
	cd_strlcpy(con.key, cfg->key, sizeof(con.key));
	cd_strlcpy(con.token_file, cfg->metrics_token_file ? cfg->metrics_token_file : "",
		   sizeof(con.token_file));
	cd_strlcpy(con.loopback, cfg->metrics_loopback ? "yes" : "no", sizeof(con.loopback));
	spawn();
	return 0;
}

void cd_console_fini(void)
{
	if (con.restart_armed)
		cd_timer_del(con.loop, con.restart);
	con.restart_armed = false;
	if (con.child)
		cd_child_abandon(con.child);
	con.child = NULL;
}
