/*
 * The console's routes: a method and a path to what answers them, and who
 * may ask. Pure: no I/O, no state.
 *
 * Authentication is the default. Only the page's own files (GET of "/",
 * "/index.html", "/app.js", "/style.css") and POST /api/login are public,
 * matched exactly and case-sensitively on the path as it came. Everything
 * else needs a valid session, known or not: without one, "/api/x",
 * "/api", "/api/", "/API/status", "/api/../x" and "/nothing" alike are
 * refused (401) before anything looks further, so an unknown path says
 * nothing about which paths exist. With a session, an unknown path is
 * 404 and a known path with another method 405.
 *
 * GET /metrics, the Prometheus text, is the one route with rules of its
 * own (CN_METRICS): a scraper has no session.
 */
#ifndef CN_ROUTER_H
#define CN_ROUTER_H

#include <stdbool.h>

enum cn_route_id {
	CN_R_UNKNOWN,	 /* no such path */
	CN_R_BAD_METHOD, /* a known path, another method */
	CN_R_STATIC,
	CN_R_LOGIN,
	CN_R_LOGOUT,
	CN_R_SESSION,
	CN_R_STATUS,
	CN_R_NODES,
	CN_R_VMS,
	CN_R_VM,
	CN_R_VOLUMES,
	CN_R_FENCE,
	CN_R_EVENTS,
	CN_R_MOVE_STATUS,
	CN_R_DRAIN_STATUS,
	CN_R_MAINT,
	CN_R_VM_START,
	CN_R_START_CHECK,
	CN_R_VM_STOP,
	CN_R_MOVE_CHECK,
	CN_R_MOVE,
	CN_R_DRAIN,
	CN_R_RESUME,
	CN_R_MAINT_RUN,
	CN_R_METRICS,
};

/* Who may ask. */
enum cn_access {
	CN_PUBLIC,	 /* anyone */
	CN_SESSION,	 /* a valid session cookie */
	CN_SESSION_CSRF, /* a valid session cookie and its CSRF token in X-CSRF-Token */
	CN_METRICS,	 /* a loopback peer, the metrics token or a valid session (app.h) */
};

#define CN_ROUTE_NAME_MAX 256

struct cn_route {
	enum cn_route_id id;
	enum cn_access access;
	char name[CN_ROUTE_NAME_MAX]; /* the NAME a path holds ("" if none) */
	const char *file;	      /* CN_R_STATIC: the file's name in the static directory */
};

/*
 * Route method and path (without its query). Always fills *out; a path
 * that matches nothing public needs a session (CN_SESSION).
 */
void cn_route(const char *method, const char *path, struct cn_route *out);

const char *cn_route_id_to_str(enum cn_route_id id);

#endif
