#!/bin/bash
# Build the project in the source tree: autogen, configure, make.
# Extra arguments go to configure (e.g. --with-sanitizers=asan,ubsan).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	./autogen.sh
fi
if [ ! -f Makefile ] || [ configure -nt Makefile ] || [ "$#" -gt 0 ]; then
	./configure --enable-fatal-warnings "$@"
fi
make -j"$(nproc)"
