#!/bin/bash
# check-format.sh: check that every tracked C source and header is laid out
# as .clang-format says (clang-format --dry-run --Werror), and name the
# files that are not. With FILE arguments, check those files only.
# A table laid out by hand as columns is kept out of the check between
#     /* clang-format off */  and  /* clang-format on */
# Exit status 0 when every file matches, 1 (with the files) when some do
# not, 2 when the check cannot run (no clang-format, not a git checkout).
# CLANG_FORMAT names the program to run (default clang-format). The style
# is written for clang-format 14, Debian 12's: another version may lay
# some lines out differently.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
cf=${CLANG_FORMAT:-clang-format}
want_major=14

# Generated or vendored files are not ours to lay out: add them here as
# git pathspecs, e.g. ':(exclude)lib/vendor/*'.
exclude=()

if ! command -v "$cf" >/dev/null 2>&1; then
	echo "check-format: $cf not found: install it (bash scripts/deps.sh, or" \
		"apt-get install clang-format)" >&2
	exit 2
fi
version=$("$cf" --version)
major=$(sed -nE 's/.*clang-format version ([0-9]+).*/\1/p' <<<"$version")
if [[ $major != "$want_major" ]]; then
	echo "check-format: warning: $version; the style is checked with" \
		"clang-format $want_major, other versions may differ on some lines" >&2
fi

if [[ $# -gt 0 ]]; then
	files=("$@")
else
	if ! list=$(git ls-files -- '*.c' '*.h' "${exclude[@]}" 2>/dev/null); then
		echo "check-format: not a git checkout: name the files to check" >&2
		exit 2
	fi
	mapfile -t files <<<"$list"
fi
if [[ ${#files[@]} -eq 0 || -z ${files[0]} ]]; then
	echo "check-format: no C files to check"
	exit 0
fi

# One run for every file; each line it reports is FILE:LINE:COL: error: ...
out=$("$cf" --dry-run --Werror --ferror-limit=1 "${files[@]}" 2>&1)
rc=$?
bad=$(sed -nE 's/^(.+):[0-9]+:[0-9]+: (error|warning): code should be clang-formatted.*/\1/p' \
	<<<"$out" | sort -u)
if [[ $rc -ne 0 && -z $bad ]]; then
	echo "check-format: $cf failed:" >&2
	sed 's/^/  /' <<<"$out" >&2
	exit 2
fi
if [[ -n $bad ]]; then
	n=$(wc -l <<<"$bad")
	echo "check-format: $n of ${#files[@]} files differ from .clang-format:"
	sed 's/^/  /' <<<"$bad"
	echo "check-format: see what would change:  $cf FILE | diff -u FILE -"
	echo "check-format: fix a file:             $cf -i FILE"
	echo "check-format: fix every file:         git ls-files -z -- '*.c' '*.h' | xargs -0 $cf -i"
	exit 1
fi
echo "check-format: every file matches .clang-format (${#files[@]} checked)"
