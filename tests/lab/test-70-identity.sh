#!/bin/bash
# A VM keeps its identity wherever it runs, and clients reach it as soon as
# it runs. The guest is one the cluster must not rely on: its XML has no
# UUID and no MAC, and it sends nothing on the network until spoken to (no
# gratuitous ARP, no IPv6). A client polls it every 10 ms through a kill of
# its node, a partition, and a move after repeated crashes. After each:
#   - the domain runs with the UUID and MAC the cluster recorded when it was
#     added, the same as before;
#   - the guest's agent was reached at once after it started listening: the
#     uptime it reports in its first answer is short. Without the node
#     announcing the MAC, the bridge would keep sending the client's packets
#     to the old node's port for tens of seconds (about 30-48 s seen).
#   - it never answered from two boots at once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "identity"
lab_up_with_volume
lab exec 1 clusterctl property set flap-limit 0

IP=198.18.0.61
# A hang guard on "reached at once", not a speed: how long the guest's
# agent listened before a probe came through. Reached through the network
# at once, it is about the probe's 10 ms interval; left to the guest's own
# traffic it is tens of seconds.
REACH_MS=$((5000 * ${CD_TEST_TIME_SCALE:-1}))

bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/w1.log" w1 $IP 128 1 >"$LAB_DIR/w1.xml"
grep -q "<uuid>\|<mac " "$LAB_DIR/w1.xml" && fail "the test XML must leave the identity to the cluster"
lab exec 1 clusterctl vm add w1 --xml "$LAB_DIR/w1.xml"

# --- vm add fixed the identity, and vm show tells it
UUID=$(vm_field 1 w1 'd["uuid"]')
MAC=$(vm_field 1 w1 'd["macs"][0]')
assert_match "$UUID" '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "vm add gave w1 a UUID ($UUID)"
assert_match "$MAC" '^52:54:00(:[0-9a-f]{2}){3}$' "vm add gave w1's interface a MAC in libvirt's range ($MAC)"
xml=$(lab exec 2 clusterctl vm show w1 --xml)
assert_match "$xml" "<uuid>$UUID</uuid>" "the stored XML holds the UUID (seen from node2)"
assert_match "$xml" "<mac address=\"$MAC\"/>" "the stored XML holds the MAC"

# --- the same UUID or MAC for another VM is refused
dup() {
	local rc=0 out
	bash "$top/tests/guest/domain.sh" "$@" w2 198.18.0.62 128 1 >"$LAB_DIR/w2.xml"
	out=$(lab exec 1 clusterctl vm add w2 --xml "$LAB_DIR/w2.xml" 2>&1) || rc=$?
	echo "$rc $out"
}
out=$(dup --uuid "${UUID^^}")
assert_match "$out" "^5 .*UUID $UUID belongs to VM 'w1' already" "vm add of w1's UUID (in capitals) is refused, exit 5"
out=$(dup --mac "${MAC^^}")
assert_match "$out" "^5 .*MAC address $MAC belongs to VM 'w1' already" "vm add of w1's MAC is refused, exit 5"
rc=0; lab exec 1 clusterctl vm show w2 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 4 "no VM w2 was added"

# running_identity NODE: "UUID MAC" of domain w1 as NODE's libvirtd runs it
running_identity() {
	local u m
	u=$(lab exec "$1" virsh -q domuuid w1)
	m=$(lab exec "$1" virsh -q domiflist w1 | awk 'NF {print $NF; exit}')
	echo "$u $m"
}
w1_node() { vm_field 1 w1 'd["node_name"]'; }
w1_index() { local n; n=$(vm_field "${1:-1}" w1 'd["node_name"]'); echo "${n#node}"; }

lab exec 1 clusterctl vm start w1
wait_for 60 "w1 runs" runs_not_on 1 w1 none
wait_for 90 "w1 answers" answers $IP
n=$(w1_index)
assert_eq "$(running_identity "$n")" "$UUID $MAC" "node$n runs w1 with the recorded UUID and MAC"

probe_start() {
	"$LAB" exec client "$probe" $IP --interval-ms 10 --timeout-ms 300 --json >"$LAB_DIR/probe-$1.json" 2>/dev/null &
	probe_pid=$!
	wait_for 10 "the probe answers" answers $IP
}
# probe_stop NAME: stop the probe; check it saw no two boots at once and
# that the last boot was reached as soon as it listened
probe_stop() {
	local out inter boots up gap
	kill -INT "$probe_pid" 2>/dev/null || :
	wait "$probe_pid" || :
	out=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
b = d["boots"]
print("yes" if d["interleaved"] else "no", len(b), b[-1]["first_up_ms"], round(d["max_gap"]["ms"]))
' "$LAB_DIR/probe-$1.json") || fail "$1: cannot read the probe"
	read -r inter boots up gap <<<"$out"
	assert_eq "$inter" no "$1: w1 never answered from two boots at once"
	((boots >= 2)) || fail "$1: the probe saw $boots boot(s); w1 was not restarted?"
	((up >= 0 && up < REACH_MS)) ||
		fail "$1: the guest listened $up ms before a client's packet reached it (guard $REACH_MS ms)"
	pass "$1: the client reached the restarted guest $up ms after its agent started (outage $gap ms)"
}
# after NAME NODE: w1 runs elsewhere than NODE with its identity, announced
after() {
	local m
	wait_for 60 "$1: w1 runs again away from node$2" runs_not_on "$3" w1 "node$2"
	wait_for 90 "$1: w1 answers again" answers $IP
	m=$(w1_index "$3")
	assert_eq "$(running_identity "$m")" "$UUID $MAC" "$1: node$m runs w1 with the same UUID and MAC"
	assert_match "$(cat "$LAB_DIR/node$m/log/clusterd.log")" "vm w1: MAC addresses announced" \
		"$1: node$m announced w1's MAC"
	probe_stop "$1"
}

# --- 1: its node is killed
n=$(w1_index)
probe_start kill
lab kill "$n" >/dev/null
viewer=$((n == 1 ? 2 : 1))
after kill "$n" "$viewer"
lab start "$n" >/dev/null
wait_for 60 "node$n back" synced_quorate "$n"

# --- 2: its node is cut off
n=$(w1_index)
probe_start partition
lab partition "$n" >/dev/null
viewer=$((n == 1 ? 2 : 1))
after partition "$n" "$viewer"
lab heal >/dev/null
wait_for 60 "node$n back after the heal" synced_quorate "$n"

# --- 3: its QEMU keeps dying: restarted in place, then elsewhere
n=$(w1_index)
qemu_gone() { [[ -z $(pids_alive <<<"$qemu") ]]; }
# restarted: w1 runs again, elsewhere or in a new QEMU on node n
restarted() {
	local q
	[[ $(vm_field 1 w1 'd["state"]') == running ]] || return 1
	[[ $(vm_field 1 w1 'd["node_name"]') == "node$n" ]] || return 0
	q=$(lab_qemu_pids "$n")
	[[ -n $q && $q != "$qemu" ]]
}
probe_start crashes
for i in 1 2 3 4 5; do
	[[ $(w1_index) == "$n" ]] || break
	qemu=$(lab_qemu_pids "$n")
	[[ -n $qemu ]] || fail "no QEMU of w1 on node$n"
	kill -KILL "${qemu%% *}"
	wait_for 10 "QEMU killed (crash $i)" qemu_gone
	wait_for 60 "w1 restarted after crash $i" restarted
	wait_for 90 "w1 answers after crash $i" answers $IP
done
[[ $(w1_index) != "$n" ]] || fail "w1 still on node$n after 5 crashes"
pass "w1 moved away from node$n after $((i - 1)) crashes"
after crashes "$n" 1

# --- 4: a state saved before identities were fixed is upgraded in place.
# w1 runs; o1 runs nowhere. clusterd stops on every node without stopping
# w1 (its watchdog process is killed first, as if both crashed), the saved
# states lose the UUID and MAC from both XMLs, and clusterd starts again.
# w1 must keep what it runs with; o1 gets its recorded UUID and a new MAC.
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/o1.log" o1 198.18.0.63 128 1 >"$LAB_DIR/o1.xml"
lab exec 1 clusterctl vm add o1 --xml "$LAB_DIR/o1.xml"
O_UUID=$(vm_field 1 o1 'd["uuid"]')
O_MAC=$(vm_field 1 o1 'd["macs"][0]')
n=$(w1_index)
boot_w1=$(lab exec client "$probe" $IP --once --timeout-ms 500 | sed -n 's/.*boot=\([0-9a-f]*\).*/\1/p')
[[ -n $boot_w1 ]] || fail "w1 does not answer before the upgrade"
pids_in() {
	local pid
	for pid in $(ip netns pids "${CD_LAB_PREFIX:-cdlab}-n$1" 2>/dev/null); do
		[[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$2" ]] && echo "$pid"
	done
	return 0
}
for i in 1 2 3; do
	for p in $(pids_in "$i" clusterd-wdog); do kill -KILL "$p"; done
	lab kill "$i" clusterd >/dev/null
done
[[ -n $(lab_qemu_pids "$n") ]] || fail "w1's QEMU died with clusterd"
for i in 1 2 3; do
	# the state as an older clusterd saved it: one state file (clusterd
	# takes it over as its journal's first snapshot)
	sd=$LAB_DIR/node$i/state
	lab exec "$i" clusterd -c "$LAB_DIR/node$i/clusterd.conf" --export-state "$sd/export" >/dev/null ||
		fail "cannot export node$i's saved state"
	rm -f "$sd"/snap-* "$sd"/journal-*
	mv "$sd/export" "$sd/state.json"
	python3 - "$sd/state.json" <<'EOF' || fail "cannot rewrite node$i's saved state"
import hashlib, json, re, sys
path = sys.argv[1]
head, body = open(path, "rb").read().split(b"\n", 1)
state = json.loads(body)
for vm in state["vms"]:
    if vm["name"] in ("w1", "o1"):
        vm["xml"] = re.sub(r"\s*<uuid>[^<]*</uuid>|\s*<mac address=[^>]*/>", "", vm["xml"])
body = json.dumps(state, separators=(",", ":")).encode()
magic = head.split(b" ")[:2]
open(path, "wb").write(b" ".join(magic + [hashlib.sha256(body).hexdigest().encode()]) + b"\n" + body)
EOF
done
grep -q "<mac" <<<"$(python3 -c 'import sys; print(open(sys.argv[1]).read())' "$LAB_DIR/node1/state/state.json")" &&
	fail "the rewritten state still has MACs"
for i in 1 2 3; do lab start "$i" clusterd >/dev/null; done
for i in 1 2 3; do wait_for 60 "node$i synced after the restart" synced_quorate "$i"; done
fixed() { [[ $(lab exec 1 clusterctl vm show "$1" --xml) == *"<uuid>"*"<mac address="* ]]; }
wait_for 30 "w1's identity fixed again" fixed w1
wait_for 30 "o1's identity fixed again" fixed o1
assert_eq "$(vm_field 1 w1 'd["uuid"]') $(vm_field 1 w1 'd["macs"][0]')" "$UUID $MAC" \
	"upgrade: w1 keeps the UUID and MAC it runs with"
assert_eq "$(running_identity "$n")" "$UUID $MAC" "upgrade: node$n still runs w1 as before"
assert_eq "$(lab exec client "$probe" $IP --once --timeout-ms 500 | sed -n 's/.*boot=\([0-9a-f]*\).*/\1/p')" \
	"$boot_w1" "upgrade: w1 was not restarted (same boot id)"
assert_eq "$(vm_field 2 o1 'd["uuid"]')" "$O_UUID" "upgrade: o1 keeps the UUID the cluster recorded"
O_MAC2=$(vm_field 2 o1 'd["macs"][0]')
assert_match "$O_MAC2" '^52:54:00(:[0-9a-f]{2}){3}$' "upgrade: o1 got a MAC ($O_MAC2, was $O_MAC)"
[[ $O_MAC2 != "$MAC" ]] || fail "o1 got w1's MAC"
assert_match "$(cat "$LAB_DIR"/node*/log/clusterd.log)" "vm w1: its UUID and MAC addresses are fixed" "the node running w1 recorded its identity"

lab_test_end
