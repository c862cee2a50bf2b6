#!/bin/bash
# The test command: install what is needed, build, run every test
# (unit tests with Check, then the lab tests on a real multi-node cluster).
# Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash scripts/deps.sh
bash scripts/build.sh

echo "=== unit tests (make check)"
if ! make -j"$(nproc)" check; then
	for f in tests/unit/*.log; do
		echo "--- $f"
		cat "$f"
	done
	exit 1
fi

echo "=== lab tests"
fail=0
passed=0
for t in tests/lab/test-*.sh; do
	echo "--- $t"
	start=$(date +%s)
	if bash "$t"; then
		passed=$((passed + 1))
		echo "--- $t: PASS ($(($(date +%s) - start)) s)"
	else
		fail=$((fail + 1))
		echo "--- $t: FAIL ($(($(date +%s) - start)) s)"
		# What the nodes said, for whoever reads the CI log.
		for l in "${CD_LAB_DIR:-/tmp/cdlab}"/node*/log/*.log; do
			[ -f "$l" ] && { echo "----- $l (tail)"; tail -n 40 "$l"; }
		done
		"$top/tests/lab/lab" down >/dev/null 2>&1 || true
	fi
done
echo "lab test scripts: $passed passed, $fail failed"
[ "$fail" -eq 0 ]
