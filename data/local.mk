# What make install puts beside the programs: clusterd's systemd unit,
# clusterctl's bash completion and an example configuration. The example is
# made by clusterd --check-config (every key at its default, with its
# description), so it never lags behind the config table (clusterd/conf.c).

if WITH_SYSTEMD_UNIT
nodist_systemdsystemunit_DATA = data/clusterd.service
endif
EXTRA_DIST += data/clusterd.service.in
CLEANFILES += data/clusterd.service
data/clusterd.service: data/clusterd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) data && \
	sed -e 's|@sbindir[@]|$(sbindir)|g' $(srcdir)/data/clusterd.service.in >$@-t && mv $@-t $@

if WITH_BASH_COMPLETION
dist_bashcompletion_DATA = data/bash-completion/clusterctl
else
EXTRA_DIST += data/bash-completion/clusterctl
endif

exampledir = $(docdir)/examples
nodist_example_DATA = data/clusterd.conf.example
CLEANFILES += data/clusterd.conf.example
data/clusterd.conf.example: clusterd/clusterd$(EXEEXT)
	$(AM_V_GEN)$(MKDIR_P) data && { \
	echo "# clusterd.conf: every key with its default value, see clusterd.conf(5)."; \
	echo "# clusterd reads /etc/clusterd/clusterd.conf: copy this file there and"; \
	echo "# uncomment the keys you change."; \
	echo; \
	clusterd/clusterd$(EXEEXT) --check-config -c /dev/null | \
		sed -e 's/^\([a-z_]* =\)/#\1/' -e 's/ *$$//'; \
	} >$@-t && mv $@-t $@

# The completion against this clusterctl, the example against this clusterd,
# the Debian changelog against this version (no daemon needed).
TESTS += tests/pkg/check_install_files.sh
EXTRA_DIST += tests/pkg/check_install_files.sh tests/pkg/test-packages.sh
check_DATA = data/clusterd.conf.example
