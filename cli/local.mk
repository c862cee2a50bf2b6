sbin_PROGRAMS += cli/clusterctl
cli_clusterctl_SOURCES = cli/clusterctl.c
cli_clusterctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
cli_clusterctl_LDADD = lib/libclusterd-client.la lib/libcdcommon.la $(QB_LIBS) $(JSONC_LIBS)
