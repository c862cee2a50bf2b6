#!/bin/bash
# Build the project in the source tree: autogen, configure, make.
# Extra arguments go to configure (e.g. --with-sanitizers=asan,ubsan).
# This is the build the tests and the demo use: it has the test aids
# (--enable-test-hooks: clusterctl debug volume-stall) the lab tests need.
# A production build is a plain ./configure, without them.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	./autogen.sh
fi
# Also reconfigure a tree configured by hand without the test aids.
if [ ! -f Makefile ] || [ configure -nt Makefile ] || [ "$#" -gt 0 ] ||
	! grep -q '^#define CD_TEST_HOOKS 1' config.h 2>/dev/null; then
	./configure --enable-fatal-warnings --enable-test-hooks "$@"
fi
make -j"$(nproc)"
