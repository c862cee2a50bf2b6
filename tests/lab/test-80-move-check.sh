#!/bin/bash
# The preflight of a VM move (clusterctl vm move --check) on a real 3-node
# lab with two running test guests and a stopped VM whose disk is a local
# file: a node that fits is accepted and named, with a target or without;
# the VM's own node, a node in maintenance and a disk outside csvfs are
# refused with their codes, several reasons at once; --json carries the
# codes; the target's libvirtd is asked for its bridges and its CPU; a
# quick move without --check is answered as not supported yet; real moves
# the preflight refuses (maintenance, hard anti-affinity) are events; and
# nothing changes: the state's version stays, the VMs run where they ran.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "move check"

top=$(cd "$(dirname "$0")/../.." && pwd)
bash "$top/tests/guest/build-guest.sh" >/dev/null
export CD_LAB_CLUSTERD_EXTRA="vm_monitor_interval_ms = 500"
lab up --nodes 3
N=3

ctl() { lab exec "$@"; }
version() { json_get "$(cd_status 1)" '"%d.%d" % (d["version"]["epoch"], d["version"]["seq"])'; }
vm_state_everywhere() {
	local i
	for i in $(seq 1 $N); do vm_state_is "$i" "$1" "$2" || return 1; done
}
# the state's version is the same a second apart
version_settled() {
	local v
	v=$(version) && sleep 1 && [[ $(version) == "$v" ]]
}
# node_is NODE NAME STATE: NODE shows node NAME in STATE
node_is() { [[ $(node_state "$1" "$2") == "$3" ]]; }
# move NODE ARGS...: clusterctl vm move ARGS on NODE; sets out (stdout and
# stderr) and rc (its exit status)
move() {
	local n=$1
	shift
	rc=0
	out=$(ctl "$n" clusterctl vm move "$@" 2>&1) || rc=$?
}
# move_json NODE ARGS...: the same with --check --json; sets json (stdout
# only, the report) and rc
move_json() {
	local n=$1
	shift
	rc=0
	json=$(ctl "$n" clusterctl vm move "$@" --check --json 2>/dev/null) || rc=$?
}
# codes: the codes of the last report's failures, comma-separated
codes() { jq -r '[.failures[].code] | join(",")' <<<"$json"; }
# has_code CODE: the last report has a failure with CODE
has_code() { jq -e --arg c "$1" 'any(.failures[]; .code == $c)' <<<"$json" >/dev/null; }

for v in vm1 vm2; do
	n=${v#vm}
	bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/$v-console.log" "$v" "198.18.0.2$n" 128 1 >"$LAB_DIR/$v.xml"
	ctl 1 clusterctl vm add "$v" --xml "$LAB_DIR/$v.xml"
	ctl 1 clusterctl vm start "$v"
done
# vm3's disk is a file of one node's own: the VM stays stopped (it is never
# started, so the file is never opened).
truncate -s 1M "$LAB_DIR/vm3-local.img"
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/vm3-console.log" --disk "$LAB_DIR/vm3-local.img" \
	vm3 198.18.0.23 128 1 | sed -e "s/<disk type='block'/<disk type='file'/" \
	-e "s/<source dev=/<source file=/" >"$LAB_DIR/vm3.xml"
ctl 1 clusterctl vm add vm3 --xml "$LAB_DIR/vm3.xml"
for v in vm1 vm2; do
	wait_for 60 "$v running" vm_state_everywhere "$v" running
done
on1=$(vm_field 1 vm1 'd["node_name"]')
on2=$(vm_field 1 vm2 'd["node_name"]')
where=$(vm_nodes_running vm1)/$(vm_nodes_running vm2)
assert_eq "$where" "$on1/$on2" "vm1 runs on $on1, vm2 on $on2, each on that node only"
assert_eq "$(vm_field 2 vm3 'd["state"]')" stopped "vm3 (a local disk) is added stopped"
# M: a node without VMs, for maintenance; T: a node that fits vm1, not M
for i in $(seq 1 $N); do
	[[ node$i == "$on1" || node$i == "$on2" ]] || { M=node$i; break; }
done
for i in $(seq 1 $N); do
	[[ node$i == "$on1" || node$i == "$M" ]] || { T=node$i; break; }
done
wait_for 30 "the state settles" version_settled
v0=$(version)

# --- a node that fits: accepted, and named
move 2 vm1 "$T" --check
assert_eq "$rc" 0 "vm move vm1 $T --check: exit 0 ($out)"
assert_match "$out" "^vm1: live move from $on1 to $T: can go ahead" "the report names source and target"
move_json 3 vm1
assert_eq "$rc" 0 "vm move vm1 --check, no target: exit 0"
chosen=$(jq -r '.target' <<<"$json")
if [[ $chosen == node[1-3] && $chosen != "$on1" ]]; then pass "placement's choice is named: $chosen"; else fail "no target, or the source, chosen: $json"; fi
assert_eq "$(jq -r '"\(.ok) \(.target_chosen) \(.source)"' <<<"$json")" "true true $on1" "--json: ok, the target chosen, the source"
assert_match "$(jq -r '.target_why' <<<"$json")" "$chosen" "and why it was chosen: $(jq -r '.target_why' <<<"$json")"

# --- the node it runs on: refused, target-is-source
move 1 vm1 "$on1" --check
assert_eq "$rc" 9 "vm move vm1 $on1 (its own node) --check: refused, exit 9"
assert_match "$out" "refused, 1 reason" "one reason: $out"
assert_match "$out" "\[target-is-source\]" "named target-is-source"
move_json 2 vm1 "$on1"
assert_eq "$rc" 9 "the same with --json: exit 9"
assert_eq "$(codes)" target-is-source "--json: the failure's code"
assert_eq "$(jq -r '"\(.ok) \(.source) \(.target)"' <<<"$json")" "false $on1 $on1" "--json: not ok, source and target"

# --- a disk that is no csvfs file: refused, disk-local
move 1 vm3 "$T" --mode cold --check
assert_eq "$rc" 9 "vm move vm3 $T --mode cold --check: refused, exit 9"
assert_match "$out" "\[disk-local\]" "named disk-local: $out"
assert_match "$out" "vm3-local\.img" "the local disk is named"
move_json 3 vm3 "$T" --mode cold
has_code disk-local || fail "--json lacks disk-local: $json"
pass "--json: $(codes)"
assert_eq "$(jq -r '.mode' <<<"$json")" cold "--json: the mode asked"

# --- what only the target's libvirtd can say: its bridges, its CPU
# vm4 joins a bridge no node has; vm5 asks for a CPU that QEMU's emulation
# cannot give (the policy does not hold an emulated VM to the nodes'
# models: only the target's libvirt can tell). Both stay stopped.
bash "$top/tests/guest/domain.sh" --bridge nosuchbr vm4 198.18.0.24 128 1 >"$LAB_DIR/vm4.xml"
ctl 1 clusterctl vm add vm4 --xml "$LAB_DIR/vm4.xml"
bash "$top/tests/guest/domain.sh" --cpu EPYC vm5 198.18.0.25 128 1 >"$LAB_DIR/vm5.xml"
ctl 1 clusterctl vm add vm5 --xml "$LAB_DIR/vm5.xml"
wait_for 30 "the state settles" version_settled
v0=$(version)
move_json 1 vm4 "$T" --mode cold
assert_eq "$(codes)" bridge-missing "vm4 (bridge nosuchbr) to $T, asked of $T's libvirtd: bridge-missing"
assert_match "$(jq -r '.failures[0].text' <<<"$json")" "nosuchbr" "the bridge is named"
move_json 1 vm5 "$T" --mode cold
assert_eq "$(codes)" cpu-incompatible "vm5 (CPU EPYC, emulated) to $T: cpu-incompatible, from $T's libvirt"
move_json 1 vm1 "$T"
assert_eq "$(jq -r '"\(.ok) \(.facts_error)"' <<<"$json")" "true null" "vm1 to $T: $T's libvirtd asked, nothing stands in the way"

# --- a bad mode
move 1 vm1 "$T" --mode fast --check
assert_eq "$rc" 5 "an unknown mode is refused with exit 5 ($out)"
# a quick move needs a shared volume for its state file; this lab has none
move 2 vm1 "$T" --mode quick
assert_match "$rc $out" "^5 .*no shared volume for its state file" "a quick move without a shared volume is refused, said why: $out"
move 2 vm1 "$on1"
assert_eq "$rc" 9 "without --check, a move the preflight refuses: exit 9"
assert_eq "$(version)" "$v0" "no check changed the state (version $v0)"

# --- a node in maintenance: refused, node-state; several reasons at once
ctl 1 clusterctl node maintenance "$M" on
wait_for 15 "$M in maintenance on node 2" node_is 2 "$M" maintenance
wait_for 30 "the state settles" version_settled
v1=$(version)
move 2 vm1 "$M" --check
assert_eq "$rc" 9 "vm move vm1 $M (in maintenance) --check: refused, exit 9"
assert_match "$out" "\[node-state\]" "named node-state: $out"
move_json 2 vm1 "$M"
assert_eq "$(jq -r '.failures[] | select(.code == "node-state") | .node' <<<"$json")" "$M" "--json: node-state is about $M"
move_json 1 vm3 "$M"
for c in vm-not-running disk-local node-state; do
	has_code "$c" || fail "vm3 to $M: $c missing in $json"
done
pass "vm3 (stopped, a local disk) live to $M: every reason at once: $(codes)"
assert_eq "$(version)" "$v1" "no check changed the state (version $v1)"
# a real move (no --check) to a node in maintenance: refused the same, recorded
move 1 vm1 "$M"
assert_eq "$rc" 9 "vm move vm1 $M (in maintenance): refused, exit 9, nothing moved"
assert_match "$(ctl 1 clusterctl events)" "live move to $M refused by its preflight: node-state" \
	"the refusal is an event with its reason"
ctl 1 clusterctl node maintenance "$M" off
wait_for 15 "$M online again on node 2" node_is 2 "$M" online

# --- hard anti-affinity: a real move onto the other VM of the class is refused
ctl 1 clusterctl vm set vm1 anti-affinity=web:hard
ctl 1 clusterctl vm set vm2 anti-affinity=web:hard
v2=$(version)
move 2 vm1 "$on2"
assert_eq "$rc" 9 "vm move vm1 $on2 (vm2 of the same hard class runs there): refused, exit 9"
assert_match "$out" "\[anti-affinity\]" "named anti-affinity: $out"
assert_eq "$(version)" "$v2" "the refused move changed nothing (version $v2)"

# --- nothing moved
for i in $(seq 1 $N); do
	runs_on "$i" vm1 "$on1" || fail "node$i: vm1 is not running on $on1"
	runs_on "$i" vm2 "$on2" || fail "node$i: vm2 is not running on $on2"
	for v in vm3 vm4 vm5; do
		vm_state_is "$i" $v stopped || fail "node$i: $v is not stopped"
	done
done
pass "every node shows vm1 running on $on1, vm2 on $on2, vm3, vm4 and vm5 stopped"
assert_eq "$(vm_nodes_running vm1)/$(vm_nodes_running vm2)/$(vm_nodes_running vm3)" "$on1/$on2/" \
	"libvirt runs vm1 on $on1 and vm2 on $on2 only, vm3 nowhere"

lab_test_end
