#!/bin/bash
# boot-hung-selftest.sh - tests/soak/boot_hung.sh against stubbed answers:
# only a guest that runs where the cluster says, came there by a live
# migration and whose boot began this round and never ended is "hung"
# (and reset by the soak); every other guest not as wanted fails a round.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=boot_hung.sh
. "$here/boot_hung.sh"

LAB_DIR=$(mktemp -d)
trap 'rm -rf "$LAB_DIR"' EXIT
declare -A con_mark=()
# What the stubs answer: the cluster's state and node, where domains run,
# libvirt's state and reason on that node.
c_state=running c_node=node2 running_on=node2 reason="running (migrated)"
viewer() { echo 1; }
vm_field() { echo "$c_state $c_node"; }
vm_nodes_running() { echo "$running_on"; }
lab() { [[ $1 == exec && $3 == virsh ]] && echo "$reason"; }

n=0 failed=0
check() { # check WANT(hung|not) MSG
	local got=not
	n=$((n + 1))
	boot_hung v1 && got=hung
	if [[ $got == "$1" ]]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2 (got $got)"
		failed=$((failed + 1))
	fi
}
old=$'guest-init: [4.56] modules loaded\nREADY 198.18.0.81 boot=aa\n'
hung=$'Memory KASLR using RDTSC...\nPoking KASLR using RDTSC...\n'
booted=$'Memory KASLR using RDTSC...\nPoking KASLR using RDTSC...\nguest-init: [4.5] modules loaded\nREADY 198.18.0.81 boot=bb\n'
console() { # console BEFORE-MARK AFTER-MARK
	printf '%s' "$1" >"$LAB_DIR/v1-console.log"
	con_mark[v1]=$(stat -c %s "$LAB_DIR/v1-console.log")
	printf '%s' "$2" >>"$LAB_DIR/v1-console.log"
}

console "$old" "$hung"
check hung "a boot begun this round that never ended, moved live: hung"
console "" "$hung"
check hung "the same in a console that was empty when the round began"
console "$old" "$booted"
check not "a boot that ended (READY): not hung"
console "$old" "${booted}acpid: PWRF/00000080"$'\n'"$hung"
check hung "a second boot this round that never ended: hung"
console "$old$hung" ""
check not "no boot began this round (an old guest that does not answer): not hung"
console "$old" "$hung"
reason="running (booted)"
check not "started there, not moved: not hung"
reason="running (unpaused)"
check not "restored there (a quick move), not moved live: not hung"
reason="running (migrated)" running_on="node2 node3"
check not "runs on two nodes: not hung"
running_on=node3
check not "runs elsewhere than the cluster says: not hung"
running_on=node2 c_state=migrating
check not "the cluster is still moving it: not hung"
c_state=running c_node=""
check not "the cluster has it nowhere: not hung"
c_node=node2
viewer() { return 1; }
check not "no node to ask: not hung"

echo "1..$n"
((failed == 0))
