#include "config.h"

#include <string.h>

#include "console/router.h"
#include "lib/util.h"

/* The page's files: the only paths outside /api/ that answer. */
static const struct {
	const char *path;
	const char *file;
} files[] = {
	{"/", "index.html"},
	{"/index.html", "index.html"},
	{"/app.js", "app.js"},
	{"/style.css", "style.css"},
};

/*
 * The API. A '*' in a pattern is one path segment: the NAME, non-empty,
 * neither "." nor "..". Every POST carries the session's CSRF token, but
 * the login (no session yet).
 */
static const struct api_route {
	const char *method;
	const char *pattern;
	enum cn_route_id id;
	enum cn_access access;
} api[] = {
	{"POST", "/api/login", CN_R_LOGIN, CN_PUBLIC},
	{"POST", "/api/logout", CN_R_LOGOUT, CN_SESSION_CSRF},
	{"GET", "/api/session", CN_R_SESSION, CN_SESSION},
	{"GET", "/api/status", CN_R_STATUS, CN_SESSION},
	{"GET", "/api/nodes", CN_R_NODES, CN_SESSION},
	{"GET", "/api/vms", CN_R_VMS, CN_SESSION},
	{"GET", "/api/vms/*", CN_R_VM, CN_SESSION},
	{"GET", "/api/volumes", CN_R_VOLUMES, CN_SESSION},
	{"GET", "/api/fence", CN_R_FENCE, CN_SESSION},
	{"GET", "/api/events", CN_R_EVENTS, CN_SESSION},
	{"GET", "/api/vms/*/move", CN_R_MOVE_STATUS, CN_SESSION},
	{"GET", "/api/nodes/*/drain", CN_R_DRAIN_STATUS, CN_SESSION},
	{"GET", "/api/maintenance", CN_R_MAINT, CN_SESSION},
	{"POST", "/api/vms/*/start", CN_R_VM_START, CN_SESSION_CSRF},
	{"POST", "/api/vms/*/start-check", CN_R_START_CHECK, CN_SESSION_CSRF},
	{"POST", "/api/vms/*/stop", CN_R_VM_STOP, CN_SESSION_CSRF},
	{"POST", "/api/vms/*/move-check", CN_R_MOVE_CHECK, CN_SESSION_CSRF},
	{"POST", "/api/vms/*/move", CN_R_MOVE, CN_SESSION_CSRF},
	{"POST", "/api/nodes/*/drain", CN_R_DRAIN, CN_SESSION_CSRF},
	{"POST", "/api/nodes/*/resume", CN_R_RESUME, CN_SESSION_CSRF},
	{"POST", "/api/maintenance/*/run", CN_R_MAINT_RUN, CN_SESSION_CSRF},
	/* Not the page's API: Prometheus scrapes it (app.h says who may). */
	{"GET", "/metrics", CN_R_METRICS, CN_METRICS},
};

/* Whether path matches pattern; the segment a '*' matched goes to name. */
static bool match(const char *pattern, const char *path, char *name, size_t namelen)
{
	while (*pattern) {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= namelen || (n == 1 && path[0] == '.') ||
			    (n == 2 && path[0] == '.' && path[1] == '.'))
				return false;
			memcpy(name, path, n);
			name[n] = '\0';
			path += n;
			pattern++;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *path == '\0';
}

void cn_route(const char *method, const char *path, struct cn_route *out)
{
	bool path_known = false;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->id = CN_R_UNKNOWN;
	out->access = CN_SESSION;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (strcmp(path, files[i].path) != 0)
			continue;
		if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
			out->id = CN_R_STATIC;
			out->access = CN_PUBLIC;
			out->file = files[i].file;
		} else {
			out->id = CN_R_BAD_METHOD;
		}
		return;
	}
	for (i = 0; i < sizeof(api) / sizeof(api[0]); i++) {
		char name[CN_ROUTE_NAME_MAX];

		if (!match(api[i].pattern, path, name, sizeof(name)))
			continue;
		if (strcmp(method, api[i].method) != 0) {
			path_known = true;
			continue;
		}
		out->id = api[i].id;
		out->access = api[i].access;
		cd_strlcpy(out->name, strchr(api[i].pattern, '*') ? name : "", sizeof(out->name));
		return;
	}
	if (path_known)
		out->id = CN_R_BAD_METHOD;
}

const char *cn_route_id_to_str(enum cn_route_id id)
{
	switch (id) {
	case CN_R_UNKNOWN:
		return "unknown";
	case CN_R_BAD_METHOD:
		return "bad-method";
	case CN_R_STATIC:
		return "static";
	case CN_R_LOGIN:
		return "login";
	case CN_R_LOGOUT:
		return "logout";
	case CN_R_SESSION:
		return "session";
	case CN_R_STATUS:
		return "status";
	case CN_R_NODES:
		return "nodes";
	case CN_R_VMS:
		return "vms";
	case CN_R_VM:
		return "vm";
	case CN_R_VOLUMES:
		return "volumes";
	case CN_R_FENCE:
		return "fence";
	case CN_R_EVENTS:
		return "events";
	case CN_R_MOVE_STATUS:
		return "move-status";
	case CN_R_DRAIN_STATUS:
		return "drain-status";
	case CN_R_MAINT:
		return "maintenance";
	case CN_R_VM_START:
		return "vm-start";
	case CN_R_START_CHECK:
		return "start-check";
	case CN_R_VM_STOP:
		return "vm-stop";
	case CN_R_MOVE_CHECK:
		return "move-check";
	case CN_R_MOVE:
		return "move";
	case CN_R_DRAIN:
		return "drain";
	case CN_R_RESUME:
		return "resume";
	case CN_R_MAINT_RUN:
		return "maintenance-run";
	case CN_R_METRICS:
		return "metrics";
	}
	return "?";
}
