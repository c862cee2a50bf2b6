# clusterd-console: the web console, a program of its own that clusterd
# starts (HTTP, TLS and PAM never run inside clusterd).
noinst_LTLIBRARIES += console/libcdconsole.la
sbin_PROGRAMS += console/clusterd-console

# What answers a request, apart from HTTP and PAM: routes, sessions, the
# login's rules, the API's calls to clusterd. Unit-tested.
console_libcdconsole_la_SOURCES = console/router.c console/router.h console/session.c \
	console/session.h console/login.c console/login.h console/app.c console/app.h \
	console/api.c console/metrics.c console/metrics.h
console_libcdconsole_la_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS) $(OPENSSL_CFLAGS)
console_libcdconsole_la_LIBADD = lib/libcdcommon.la $(QB_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS)

console_clusterd_console_SOURCES = console/main.c console/server.c console/server.h \
	console/pam_auth.c console/pam_auth.h console/backend_ipc.c console/backend_ipc.h
console_clusterd_console_CPPFLAGS = $(AM_CPPFLAGS) -DCN_STATIC_DIR='"$(pkgdatadir)/console"'
console_clusterd_console_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS) $(MHD_CFLAGS)
console_clusterd_console_LDADD = console/libcdconsole.la lib/libclusterd-client.la \
	lib/libcdcommon.la $(MHD_LIBS) $(PAM_LIBS) $(QB_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS) \
	-lpthread

# The page: plain files, no build step.
consolewwwdir = $(pkgdatadir)/console
dist_consolewww_DATA = console/www/index.html console/www/app.js console/www/style.css

# PAM reads $(sysconfdir)/pam.d: /etc/pam.d when configured with
# --sysconfdir=/etc, as the Debian packages are.
pamdir = $(sysconfdir)/pam.d
dist_pam_DATA = console/pam/clusterd-console

check_PROGRAMS += tests/unit/check_console
TESTS += tests/unit/check_console
tests_unit_check_console_SOURCES = tests/unit/check_console.c
tests_unit_check_console_CFLAGS = $(UNIT_CFLAGS) $(QB_CFLAGS)
tests_unit_check_console_LDADD = console/libcdconsole.la lib/libcdcommon.la $(CHECK_LIBS) \
	$(QB_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS)

# clusterd's side: when it starts the console, and how it restarts it.
check_PROGRAMS += tests/unit/check_console_run
TESTS += tests/unit/check_console_run
tests_unit_check_console_run_SOURCES = tests/unit/check_console_run.c clusterd/console.c \
	clusterd/console.h
tests_unit_check_console_run_CFLAGS = $(UNIT_CFLAGS) $(QB_CFLAGS)
tests_unit_check_console_run_LDADD = lib/libcdchild.la lib/libcdcommon.la $(CHECK_LIBS) \
	$(QB_LIBS)

# The real HTTPS server on 127.0.0.1 with a throwaway certificate.
check_PROGRAMS += tests/unit/check_console_server
TESTS += tests/unit/check_console_server
tests_unit_check_console_server_SOURCES = tests/unit/check_console_server.c console/server.c \
	console/server.h
tests_unit_check_console_server_CFLAGS = $(UNIT_CFLAGS) $(MHD_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_check_console_server_LDADD = console/libcdconsole.la lib/libcdcommon.la \
	$(CHECK_LIBS) $(MHD_LIBS) $(QB_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS) -lpthread

# The metrics' text from clusterd's answers.
check_PROGRAMS += tests/unit/check_metrics
TESTS += tests/unit/check_metrics
tests_unit_check_metrics_SOURCES = tests/unit/check_metrics.c
tests_unit_check_metrics_CFLAGS = $(UNIT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_check_metrics_LDADD = console/libcdconsole.la lib/libcdcommon.la $(CHECK_LIBS) \
	$(QB_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS)
