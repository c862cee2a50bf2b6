#!/bin/bash
# What make install puts beside the programs, checked against the programs
# just built (make check; no daemon, no root): clusterctl's bash completion
# offers the words of clusterctl's command table, the example configuration
# is every key at its default, and debian/changelog names this version.
set -u
src=${top_srcdir:-.}
build=${top_builddir:-.}
passed=0
failed=0

ok() {
	passed=$((passed + 1))
	echo "ok - $*"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $*"
}

# shellcheck source=../../data/bash-completion/clusterctl
. "$src/data/bash-completion/clusterctl"

# candidates WORD...: what completing the last WORD offers, sorted, on one line
candidates() {
	COMP_WORDS=("$build/cli/clusterctl" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_clusterctl
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' '
}

# offers "WANTED..." WORD...: completing the last WORD offers every WANTED word
offers() {
	local want=$1 got w missing=""
	shift
	got=" $(candidates "$@")"
	for w in $want; do
		[[ $got == *" $w "* ]] || missing+=" $w"
	done
	if [[ -z $missing ]]; then
		ok "clusterctl $* <TAB> offers $want"
	else
		not_ok "clusterctl $* <TAB> lacks$missing (offers:$got)"
	fi
}

# offers_nothing WORD...: completing the last WORD offers nothing
offers_nothing() {
	local got
	got=$(candidates "$@")
	if [[ -z $got ]]; then
		ok "clusterctl $* <TAB> offers nothing"
	else
		not_ok "clusterctl $* <TAB> offers '$got', expected nothing"
	fi
}

offers "status events node vm volume fence property maintenance" ""
offers "node vm" --json --timeout 5 ""
offers "vm volume" "v"
offers "list show maintenance remove quarantine confirm-dead drain resume" node ""
offers "add remove list show file lease" volume ""
# offers_once "WANTED" WORD...: completing the last WORD offers exactly WANTED
offers_once() {
	local want=$1 got
	shift
	got=$(candidates "$@")
	if [[ $got == "$want " ]]; then
		ok "clusterctl $* <TAB> offers $want, once"
	else
		not_ok "clusterctl $* <TAB> offers '$got', expected $want once"
	fi
}
offers_once file volume f
offers_once --timeout node drain n1 --ti
offers "create remove resize list" volume file ""
offers "acquire release" volume lease ""
offers "--mode --check --wait --cancel --json --timeout" vm move web1 "--"
offers "--xml" vm add web1 "--"
offers "--version --json --timeout --help" "--"
offers "live quick cold" node drain n1 --mode ""
offers_nothing vm show web1 ""
offers_nothing bogus ""

# The example configuration: read as it is (every key commented out) and
# with every key uncommented, clusterd takes it and prints its defaults.
example=$build/data/clusterd.conf.example
defaults=$("$build/clusterd/clusterd" --check-config -c /dev/null)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
if "$build/clusterd/clusterd" --check-config -c "$example" >/dev/null; then
	ok "clusterd takes $example"
else
	not_ok "clusterd refuses $example"
fi
sed 's/^#\([a-z_]* =\)/\1/' "$example" >"$tmp"
keys=$(grep -c '^[a-z_]* =' "$tmp")
if [[ $("$build/clusterd/clusterd" --check-config -c "$tmp") == "$defaults" ]] && ((keys > 10)); then
	ok "the example, uncommented, sets its $keys keys to their defaults"
else
	not_ok "the example, uncommented, is not the defaults"
fi

# debian/changelog's newest entry is the version configure.ac gives.
version=$("$build/clusterd/clusterd" --version)
version=${version#clusterd }
entry=$(sed -n '1s/^clusterd (\([^)]*\)).*/\1/p' "$src/debian/changelog")
if [[ $entry == "$version" ]]; then
	ok "debian/changelog is at version $version"
else
	not_ok "debian/changelog is at '$entry', configure.ac at $version"
fi

echo "$passed passed, $failed failed"
((failed == 0))
