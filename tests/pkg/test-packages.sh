#!/bin/bash
# test-packages - build the Debian packages from a clean copy of the tree,
# install them into a clean root of this machine's Debian release (a minbase
# bootstrap from this machine's own apt sources, so apt resolves their
# dependencies as on a real host) and run them there; lintian checks them
# first. Run as root; needs dpkg-dev, debhelper, lintian and mmdebstrap
# (scripts/deps.sh). Starts no daemon:
# the packages' maintainer scripts run under mmdebstrap's policy-rc.d.
#
# Output as the lab tests' (tests/lab/lib.sh's): "ok N - ...", "not ok N -
# ...", then "1..N" and "# test-packages: X passed, Y failed"; scripts/test.sh
# counts the ok lines. A failure ends the test at once. The work directory
# (copy, packages, root) goes on any exit, unless CD_PKG_KEEP=1.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)

# The lab tests' pass, fail and summary (sourcing lib.sh only defines
# things; this test never calls lab_test_begin, so no lab is touched).
# shellcheck source=../lab/lib.sh
. "$top/tests/lab/lib.sh"
work=""

# Unmount whatever is still mounted in the work directory (mmdebstrap unmounts
# its own mounts, unless it was killed), deepest first, then remove it.
cleanup() {
	local rc=$? m
	trap - EXIT INT TERM
	# A command that failed outside fail() (set -e) is a failed check too.
	if ((LAB_ENDED == 0 && rc != 0 && LAB_FAILED == 0)); then
		LAB_COUNT=$((LAB_COUNT + 1)) LAB_FAILED=1
		echo "not ok $LAB_COUNT - test script ended early (exit status $rc)"
	fi
	((LAB_ENDED)) || _lab_summary
	if [[ -n $work && -d $work ]]; then
		while read -r m; do
			umount -l "$m" 2>/dev/null || :
		done < <(awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/self/mounts | sort -r)
		if [[ ${CD_PKG_KEEP:-0} == 1 ]]; then
			echo "# CD_PKG_KEEP=1: packages and root left in $work"
		else
			rm -rf --one-file-system "$work"
		fi
	fi
	((LAB_FAILED == 0)) || exit 1
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# step NAME LOG CMD...: run CMD with its output in LOG; on failure show the
# end of LOG and fail. Sets STEP_S to the seconds it took.
step() {
	local name=$1 log=$2 start=$SECONDS
	shift 2
	if ! "$@" >"$log" 2>&1; then
		tail -n 30 "$log" | sed 's/^/#   /'
		fail "$name (after $((SECONDS - start)) s; log above)"
	fi
	STEP_S=$((SECONDS - start))
}

echo "# === test-packages"
[[ $(id -u) -eq 0 ]] || fail "run as root (the clean root is made with chroot and mounts)"
for t in dpkg-buildpackage dh mmdebstrap lintian; do
	command -v "$t" >/dev/null || fail "$t is missing: install it (bash scripts/deps.sh)"
done
work=$(mktemp -d "${TMPDIR:-/var/tmp}/clusterd-pkg.XXXXXX")
total_start=$SECONDS

# A clean copy: the files git tracks (as they are in the tree), or the whole
# tree where there is no git (a release tarball), cleaned by the build.
mkdir "$work/src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z | xargs -0 cp --parents -t "$work/src")
else
	cp -a "$top/." "$work/src"
fi
pass "clean copy of the tree in $work/src"

# The packages, as dpkg-buildpackage makes them (unit tests are make check's).
step "dpkg-buildpackage -us -uc -b" "$work/build.log" \
	env -C "$work/src" DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
	dpkg-buildpackage -us -uc -b
debs=()
for p in clusterd clusterctl csvfs-tools; do
	f=$(find "$work" -maxdepth 1 -name "${p}_*.deb" | head -n 1)
	[[ -n $f ]] || fail "dpkg-buildpackage made no $p package"
	debs+=("$f")
done
version=$(dpkg-deb -f "${debs[0]}" Version)
pass "packages built in $STEP_S s: $(basename -a "${debs[@]}" | paste -sd " ")"

# Debian's checks of the packages: no error (E:) on the .changes; warnings
# and the rest are shown, not fatal.
changes=$(find "$work" -maxdepth 1 -name "clusterd_${version}_*.changes" | head -n 1)
[[ -n $changes ]] || fail "dpkg-buildpackage made no .changes"
step "lintian $(basename "$changes")" "$work/lintian.log" \
	lintian --fail-on error "$changes"
grep -E '^[WE]: ' "$work/lintian.log" | sed 's/^/#   /' || :
pass "lintian: no error on $(basename "$changes") ($(grep -c '^W: ' "$work/lintian.log" || :) warnings)"

# The clean root: minbase of this machine's release from its apt sources,
# then apt-get install of the packages, which pulls in their dependencies.
mirrors=()
if [[ -f /etc/apt/sources.list ]] && grep -q '^[[:space:]]*deb' /etc/apt/sources.list; then
	mirrors+=(/etc/apt/sources.list)
fi
for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[[ -f $f ]] && mirrors+=("$f")
done
((${#mirrors[@]} > 0)) || fail "no apt sources in /etc/apt/sources.list{,.d}"
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
root=$work/root
step "mmdebstrap $suite (minbase) and apt-get install of the packages" "$work/root.log" \
	mmdebstrap --variant=minbase --mode=root \
	--customize-hook="copy-in ${debs[*]} /tmp" \
	--customize-hook='chroot "$1" sh -c "apt-get install -y -q --no-install-recommends /tmp/*.deb"' \
	--customize-hook='rm -f "$1"/tmp/*.deb' \
	"$suite" "$root" "${mirrors[@]}"
pass "clean $suite root with the packages installed in $STEP_S s"

# in_root CMD...: CMD in the root, in a network namespace of its own (no
# clusterd of this machine answers there).
in_root() { unshare --net chroot "$root" "$@"; }

for p in clusterd clusterctl csvfs-tools corosync libvirt-daemon-system; do
	s=$(in_root dpkg-query -W -f='${db:Status-Status} ${Version}' "$p" 2>&1) ||
		fail "$p is not installed in the root: $s"
	[[ $s == installed* ]] || fail "$p is not installed in the root: $s"
done
pass "clusterd, clusterctl, csvfs-tools $version and their dependencies are installed"

g=$(in_root getent group haclient) || fail "clusterd's postinst made no haclient group"
pass "the admin group: $g"

for prog in clusterctl clusterd csvfs; do
	out=$(in_root "$prog" --version 2>&1) || fail "$prog --version failed: $out"
	[[ $out == "$prog ${version}"* ]] || fail "$prog --version says '$out', expected $prog $version"
	pass "$prog --version: $out"
done

rc=0
out=$(in_root clusterctl status 2>&1) || rc=$?
[[ $rc -eq 6 ]] || fail "clusterctl status without clusterd exits $rc ($out), expected 6"
pass "clusterctl status without clusterd: exit 6 ($out)"

unit=$root/lib/systemd/system/clusterd.service
[[ -f $unit ]] || fail "no clusterd.service in /lib/systemd/system"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[[ -x $root$exec_start ]] || fail "clusterd.service starts '$exec_start', not in the root"
pass "clusterd.service runs $exec_start"

example=/usr/share/doc/clusterd/examples/clusterd.conf.example
out=$(in_root clusterd --check-config -c "$example" 2>&1) ||
	fail "clusterd --check-config refuses $example: $out"
pass "clusterd takes $example"

out=$(in_root bash -c '. /usr/share/bash-completion/completions/clusterctl &&
	COMP_WORDS=(clusterctl volume f) COMP_CWORD=2 && _clusterctl && echo "${COMPREPLY[*]}"' 2>&1) ||
	fail "clusterctl's bash completion failed: $out"
[[ $out == file ]] || fail "clusterctl volume f<TAB> offers '$out', expected file"
pass "bash completion: clusterctl volume f<TAB> offers file"

echo "# test-packages took $((SECONDS - total_start)) s"
lab_test_end
