#!/bin/bash
# check-waits.sh: reject a wait in the lab tests whose condition is fixed at
# the call. wait_for runs its command again on every try, but the shell
# expands the command's arguments once: in
#     wait_for 30 "off" [ "$(vm_nodes_running web)" = "" ]
# the $(...) is asked once and the same answer compared until the
# deadline. Wait for a function instead (vm_runs_only web).
# Exit status 0 when no such wait is found, 1 (with the lines) otherwise.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
bad=$(grep -nE '\bwait_for +[0-9]+ +"[^"]*" +(\[\[?|test) .*\$\(' \
	tests/lab/*.sh tests/soak/* 2>/dev/null)
if [[ -n $bad ]]; then
	echo "check-waits: a wait whose condition is expanded once, at the call:"
	sed 's/^/  /' <<<"$bad"
	echo "check-waits: wait for a function that asks again (see wait_for in tests/lab/lib.sh)"
	exit 1
fi
echo "check-waits: every wait asks its condition again on each try"
