#!/bin/bash
# The test command: install what is needed, build, run every test
# (unit tests with Check, then the lab tests on a real multi-node cluster).
# Run as root on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

# Time limits in the tests guard against hangs; none is a verdict on speed.
# CD_TEST_TIME_SCALE (an integer, default 1) multiplies every one of them
# (Check's timeouts, the lab's waits) on a slow or busy machine.
export CD_TEST_TIME_SCALE=${CD_TEST_TIME_SCALE:-1}

# What each part took, printed at the end so a slow machine shows where its
# time goes.
timings=()
part_start=0
part_begin() { part_start=$(date +%s); }
part_end() { timings+=("$(printf '%5d s  %s' $(($(date +%s) - part_start)) "$1")"); }
print_timings() {
	echo "=== time per part"
	printf '%s\n' "${timings[@]}"
}
trap 'print_timings' EXIT

part_begin
bash scripts/deps.sh
part_end "install dependencies"
part_begin
bash scripts/build.sh
part_end "build"

echo "=== test environment"
make -s print-test-env
echo "nproc=$(nproc)"

unit_passed=0
unit_failed=0
# run_unit DIR: make check in DIR, count its test programs, show failed logs
run_unit() {
	local dir=$1 rc=0 counts
	make -C "$dir" -j"$(nproc)" check || rc=$?
	# Count single checks: Check's "Checks: N, Failures: F, Errors: E"
	# lines and the golden runner's "N passed, M failed".
	counts=$(cat "$dir"/tests/*/*.log 2>/dev/null | awk '
		/Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
			gsub(/[,%:]/, " "); for (i = 1; i <= NF; i++) {
				if ($i == "Checks") n = $(i + 1); if ($i == "Failures") f = $(i + 1)
				if ($i == "Errors") e = $(i + 1) }
			p += n - f - e; q += f + e }
		/^[0-9]+ passed, [0-9]+ failed/ { p += $1; q += $3 }
		END { print p + 0, q + 0 }')
	unit_passed=$((unit_passed + ${counts% *}))
	unit_failed=$((unit_failed + ${counts#* }))
	if [ "$rc" -ne 0 ]; then
		for f in "$dir"/tests/*/*.log; do
			echo "--- $f"
			cat "$f"
		done
		return 1
	fi
}

echo "=== format (.clang-format)"
bash "$top/scripts/check-format.sh" || exit 1

echo "=== unit tests (make check)"
part_begin
unit_rc=0
run_unit . || unit_rc=$?
part_end "unit tests"
[ "$unit_rc" -eq 0 ] || exit "$unit_rc"

# The same unit tests once more under AddressSanitizer and UBSan, in a
# copy of the sources (a configured tree cannot host a VPATH build).
if [ -d .git ] && command -v git >/dev/null; then
	echo "=== unit tests under ASan and UBSan"
	part_begin
	san=$(mktemp -d)
	trap 'rm -rf "$san"; print_timings' EXIT
	git ls-files -z | xargs -0 cp --parents -t "$san"
	(cd "$san" && ./autogen.sh >/dev/null && ./configure -q --enable-fatal-warnings \
		--with-sanitizers=asan,ubsan && make -s -j"$(nproc)") >/dev/null
	part_end "sanitizer build"
	part_begin
	unit_rc=0
	run_unit "$san" || unit_rc=$?
	part_end "unit tests under ASan and UBSan"
	[ "$unit_rc" -eq 0 ] || exit "$unit_rc"
fi

# Test scripts (the package test, the lab tests, the soak) are counted
# alike: the script passes or fails, and its "ok"/"not ok" lines are checks.
fail=0
passed=0
checks_passed=0
checks_failed=0
# run_script T [ARG...]: run test script T, say PASS or FAIL, count it and
# its checks; returns 1 if it failed
run_script() {
	local t=$1 start out rc=0
	start=$(date +%s)
	out=$(mktemp)
	if bash "$@" 2>&1 | tee "$out"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
		passed=$((passed + 1))
		echo "--- $t: PASS ($(($(date +%s) - start)) s)"
	else
		rc=1
		fail=$((fail + 1))
		echo "--- $t: FAIL ($(($(date +%s) - start)) s)"
	fi
	checks_passed=$((checks_passed + $(grep -c '^ok ' "$out" || true)))
	checks_failed=$((checks_failed + $(grep -c '^not ok ' "$out" || true)))
	rm -f "$out"
	return "$rc"
}

# The Debian packages, built from a clean copy and installed in a clean root
# (tests/pkg/test-packages.sh; a few minutes, most of it apt).
echo "=== packages"
echo "--- tests/pkg/test-packages.sh"
part_begin
run_script tests/pkg/test-packages.sh || true
part_end "packages: test-packages.sh"

echo "=== lab tests"
# A wait whose condition is fixed at the call passes or fails by luck.
bash "$top/scripts/check-waits.sh" || exit 1
# The tests' own lab, beside (not instead of) the demo's lab in /tmp/cdlab,
# which the demo leaves up. Two test runs on one machine take turns (lock);
# a lab found in the tests' dir while holding the lock was left by a run
# that was killed, and is taken down first.
export CD_LAB_DIR=${CD_LAB_DIR:-/tmp/clusterd-test-lab}
export CD_LAB_PREFIX=${CD_LAB_PREFIX:-cdtest}
lab_lock=/run/lock/clusterd-test-lab.lock
mkdir -p /run/lock
exec 9>"$lab_lock"
if ! flock -n 9; then
	echo "another test run holds the test lab ($lab_lock); waiting for it"
	flock 9
fi
if [ -e "$CD_LAB_DIR" ] || ip netns list 2>/dev/null | grep -q "^$CD_LAB_PREFIX-"; then
	echo "a lab left by an earlier, interrupted test run is in $CD_LAB_DIR: taking it down"
	"$top/tests/lab/lab" down || { echo "cannot take down the leftover lab in $CD_LAB_DIR"; exit 1; }
fi
for t in tests/lab/test-*.sh; do
	echo "--- $t"
	part_begin
	if ! run_script "$t"; then
		# What the nodes said, for whoever reads the CI log.
		for l in "$CD_LAB_DIR"/node*/log/*.log; do
			[ -f "$l" ] && { echo "----- $l (tail)"; tail -n 40 "$l"; }
		done
		"$top/tests/lab/lab" down >/dev/null 2>&1 || true
	fi
	part_end "lab: $(basename "$t")"
done
# A short randomised fault soak (tests/soak/soak; a long one is run by hand).
# The seed follows the commit, so a run can be replayed; CD_SOAK_ROUNDS and
# CD_SOAK_SEED override.
soak_rounds=${CD_SOAK_ROUNDS:-20}
soak_seed=${CD_SOAK_SEED:-$((16#$(git rev-parse --short=6 HEAD 2>/dev/null || echo 1)))}
if [ "$soak_rounds" -gt 0 ]; then
	echo "--- tests/soak/boot-hung-selftest.sh"
	run_script tests/soak/boot-hung-selftest.sh || true
	echo "--- tests/soak/soak --rounds $soak_rounds --seed $soak_seed"
	part_begin
	if ! run_script tests/soak/soak --rounds "$soak_rounds" --seed "$soak_seed"; then
		for l in "$CD_LAB_DIR"/node*/log/*.log; do
			[ -f "$l" ] && { echo "----- $l (tail)"; tail -n 40 "$l"; }
		done
		"$top/tests/lab/lab" down >/dev/null 2>&1 || true
	fi
	part_end "soak: $soak_rounds rounds, seed $soak_seed"
fi
echo "lab test scripts: $passed passed, $fail failed"
echo "unit tests: $unit_passed passed, $unit_failed failed"
echo "lab checks: $checks_passed passed, $checks_failed failed"
echo "total: $((unit_passed + checks_passed)) passed, $((unit_failed + checks_failed + fail)) failed"
[ "$fail" -eq 0 ]
