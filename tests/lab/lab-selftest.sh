#!/bin/bash
# lab-selftest.sh - checks the lab itself (corosync level; clusterd too if
# built): quorum, node power-off and restart, daemon kill, partition and
# heal, client reachability, exit codes, and that "down" leaves nothing.
# Needs root. Usage: tests/lab/lab-selftest.sh [--nodes N] [--token MS]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

N=3
TOKEN=1000
while (($#)); do
	case $1 in
	--nodes) N=$2; shift 2 ;;
	--token) TOKEN=$2; shift 2 ;;
	*) echo "usage: $0 [--nodes N] [--token MS]" >&2; exit 2 ;;
	esac
done
((N >= 3)) || { echo "need at least 3 nodes" >&2; exit 2; }

# mount points, less those of other users of "ip netns" on this machine
mountinfo_targets() {
	awk '{print $5}' /proc/self/mountinfo | grep -v '^/run/netns/' | grep -vx /run/netns | sort
}
lab_shm_files() {
	local f
	for f in /dev/shm/qb-* /dev/shm/*corosync* /dev/shm/*clusterd*; do
		if [[ -e $f ]]; then echo "$f"; fi
	done | sort -u
}

lab_test_begin "lab self-test ($N nodes, token $TOKEN ms)"

shm_before=$(lab_shm_files)
mounts_before=$(mountinfo_targets)
netns_run_before=$( [[ -e /run/netns ]] && echo yes || echo no)

lab up --nodes "$N" --token "$TOKEN"
pass "lab up"
for ((i = 1; i <= N; i++)); do
	assert_eq "$(cs_quorum "$i")" "$N Yes" "node$i: corosync sees $N members, quorate"
done
if [[ -f $LAB_DIR/node1/clusterd.pid ]]; then
	out=$(cd_status 1)
	assert_eq "$(json_get "$out" 'd["synced"] and d["quorate"]')" true "node1: clusterd synced and quorate"
fi

# nodes are isolated from the host and from each other
assert_eq "$(lab exec 2 uname -n)" node2 "node2 has its own hostname"
assert_eq "$(lab exec 2 findmnt -n -o FSTYPE /run)" tmpfs "node2 has a private /run"
assert_match "$(lab exec 2 findmnt -n -o SOURCE /dev/shm | tail -n 1)" '^lab-shm$' "node2 has a private /dev/shm"
assert_eq "$(lab exec 2 sh -c 'test -e /run/corosync.pid && echo yes')" yes "corosync.pid is in node2's /run"
assert_eq "$(test -e /run/corosync.pid && echo yes || echo no)" no "no corosync.pid in the host's /run"
assert_match "$(lab exec 1 ip -4 -o addr show dev br0)" '198\.18\.0\.1/24' "node1 has 198.18.0.1 on br0"
assert_eq "$(lab exec 1 sh -c 'readlink /proc/self/ns/net')" \
	"$(readlink "/proc/$(cat "$LAB_DIR/node1/corosync.pid")/ns/net")" "lab exec and corosync share node1's netns"
assert_match "$(lab exec 1 sh -c 'tr "\0" " " </proc/1/cmdline')" ' holder node1 $' "node1's PID 1 is its holder"

# exit codes and stdin pass through
rc=0; lab exec 1 sh -c 'exit 7' || rc=$?
assert_eq "$rc" 7 "lab exec returns the command's exit code"
assert_eq "$(echo hello | lab exec 3 cat)" hello "lab exec passes stdin"
rc=0; lab frobnicate >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "unknown command: exit 2"
rc=0; lab up >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "a second lab up is refused"

# the client reaches the nodes
lab_ping client 198.18.0.1 || fail "client cannot ping node1"
pass "client pings node1"
lab_ping 1 "198.18.0.$N" || fail "node1 cannot ping node$N"
pass "node1 pings node$N"

# power off node 2
t0=$(_lab_now_ms)
lab kill 2
t_killed=$(_lab_now_ms)
until cs_members_are 1 $((N - 1)); do
	(($(_lab_now_ms) - t0 < 30000)) || fail "node1 never saw node2 leave"
done
t_seen=$(_lab_now_ms)
echo "# kill 2 -> node1 sees $((N - 1)) members: $((t_seen - t0)) ms (lab kill took $((t_killed - t0)) ms)"
pass "node1 sees $((N - 1)) members after lab kill 2"
assert_eq "$(cs_quorum 3)" "$((N - 1)) Yes" "node3 sees $((N - 1)) members, quorate"
rc=0; lab exec 2 true 2>/dev/null || rc=$?
assert_eq "$rc" 125 "lab exec on a powered-off node: 125"
[[ -z $(ip netns pids cdlab-n2) ]] || fail "processes left in node2's netns"
pass "no processes left on node2"

lab start 2
wait_for 30 "node1 sees $N members again" cs_members_are 1 "$N" Yes
wait_for 30 "node2 sees $N members" cs_members_are 2 "$N" Yes
pass "node2 back after lab start 2 ($WAIT_FOR_MS ms after start returned)"

# one daemon only
lab kill 1 corosync
assert_eq "$(lab exec 1 uname -n)" node1 "node1 is still up without corosync"
wait_for 30 "node2 sees $((N - 1)) members" cs_members_are 2 $((N - 1)) Yes
lab start 1 corosync
wait_for 30 "all back to $N members" cs_members_are 1 "$N" Yes
pass "kill/start of corosync alone"

# partition node N off
lab partition "$N"
wait_for 30 "node$N alone and not quorate" cs_members_are "$N" 1 No
wait_for 30 "node1 sees $((N - 1)) members, quorate" cs_members_are 1 $((N - 1)) Yes
pass "partition $N: node$N alone without quorum, others quorate"
if lab_ping 1 "198.18.0.$N" 1; then fail "node1 still reaches node$N"; fi
pass "node1 cannot reach node$N"
lab_ping client 198.18.0.1 || fail "client cannot ping node1"
pass "client still reaches node1 (lan0)"
assert_match "$(lab status)" "node$N +.* lan1" "status shows node$N on lan1"
lab heal
wait_for 30 "node$N back in the membership" cs_members_are "$N" "$N" Yes
wait_for 30 "node1 sees $N members" cs_members_are 1 "$N" Yes
pass "heal: $N members again"

# down leaves nothing behind
pids=$(awk '{print $1, $2}' "$LAB_DIR/pids")
lab down
pass "lab down"
assert_eq "$(ip netns list | grep -c '^cdlab-' || :)" 0 "no lab netns left"
assert_eq "$(test -e "$LAB_DIR" && echo yes || echo no)" no "no lab dir left"
left=''
while read -r pid start; do
	[[ -r /proc/$pid/stat ]] || continue
	s=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $1, $20}')
	[[ $s == "Z "* || ${s#* } != "$start" ]] || left+=" $pid"
done <<<"$pids"
assert_eq "$left" "" "no lab process left"
assert_eq "$(lab_shm_files)" "$shm_before" "no new corosync/libqb files in /dev/shm"
assert_eq "$(mountinfo_targets)" "$mounts_before" "mounts as before"
assert_eq "$(grep -c ' /run/netns/cdlab-' /proc/self/mountinfo || :)" 0 "no lab netns mounts"
if [[ -n $(ls -A /run/netns 2>/dev/null) ]]; then
	pass "/run/netns still in use by others: $(ip netns list | tr '\n' ' ')"
else
	assert_eq "$( [[ -e /run/netns ]] && echo yes || echo no)" "$netns_run_before" "/run/netns as before"
fi
lab down >/dev/null 2>&1
pass "a second lab down succeeds"

lab_test_end
