#!/bin/bash
# VMs as cluster resources on a real 3-node lab with libvirtd and QEMU per
# node and the project's test guest: placement with priorities and
# anti-affinity, every VM on exactly one node and answering its UDP agent,
# stop, restart after its QEMU is killed by hand, a VM that fits nowhere,
# and bad input refused without a trace.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "vms"

top=$(cd "$(dirname "$0")/../.." && pwd)
bash "$top/tests/guest/build-guest.sh" >/dev/null
G=${CD_GUEST_DIR:-/var/cache/clusterd-guest}
probe=$G/udp-probe
work=$(mktemp -d)
trap_cleanup_work() { rm -rf "$work"; }

# Quick stops: the test guest has no ACPI daemon, so a graceful shutdown
# waits for the timeout and the VM is then powered off.
export CD_LAB_CLUSTERD_EXTRA="vm_stop_timeout_ms = 2000
vm_monitor_interval_ms = 500
libvirt_timeout_ms = 3000"
lab up --nodes 3
N=3

ctl() { lab exec "$@"; }
vm_state_is() { [[ $(vm_field "$1" "$2" 'd["state"]') == "$3" ]]; }
vm_state_everywhere() {
	local i
	for i in $(seq 1 $N); do vm_state_is "$i" "$1" "$2" || return 1; done
}
boot_id() { guest_boot "$1"; }
version() { json_get "$(cd_status 1)" '"%d.%d" % (d["version"]["epoch"], d["version"]["seq"])'; }

declare -A ip=([vm1]=198.18.0.21 [vm2]=198.18.0.22 [vm3]=198.18.0.23 [vm4]=198.18.0.24)
declare -A prio=([vm1]=high [vm2]=high [vm3]=medium [vm4]=low)
for v in vm1 vm2 vm3 vm4; do
	bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/$v-console.log" "$v" "${ip[$v]}" 128 1 >"$work/$v.xml"
	cp "$work/$v.xml" "$LAB_DIR/$v.xml"
	ctl 1 clusterctl vm add "$v" --xml "$LAB_DIR/$v.xml"
	ctl 2 clusterctl vm set "$v" priority="${prio[$v]}"
done
pass "4 VMs added with mixed priorities"
ctl 3 clusterctl vm set vm1 anti-affinity=web:hard
ctl 3 clusterctl vm set vm2 anti-affinity=web:hard
pass "vm1 and vm2 form a hard anti-affinity pair"
for v in vm1 vm2 vm3 vm4; do ctl 1 clusterctl vm start "$v"; done

# --- every VM runs on exactly one node, the pair apart, each answers
for v in vm1 vm2 vm3 vm4; do
	wait_for 60 "$v running" vm_state_everywhere "$v" running
done
for v in vm1 vm2 vm3 vm4; do
	on=$(vm_nodes_running "$v")
	assert_eq "$on" "$(vm_field 2 "$v" 'd["node_name"]')" "$v runs on exactly one node, the one the cluster says ($on)"
done
n1=$(vm_field 1 vm1 'd["node_name"]')
n2=$(vm_field 1 vm2 'd["node_name"]')
if [[ $n1 != "$n2" ]]; then pass "anti-affinity: vm1 on $n1, vm2 on $n2"; else fail "vm1 and vm2 share $n1"; fi
for v in vm1 vm2 vm3 vm4; do
	wait_for 90 "$v answers its UDP agent at ${ip[$v]}" answers "${ip[$v]}"
	pass "$v answers at ${ip[$v]}"
done

# --- vm stop: stopped everywhere, gone from libvirt, silent
ctl 2 clusterctl vm stop vm3
wait_for 30 "vm3 stopped on all nodes" vm_state_everywhere vm3 stopped
assert_eq "$(vm_nodes_running vm3)" "" "vm3 runs on no node"
if answers "${ip[vm3]}"; then fail "vm3 still answers"; else pass "vm3 no longer answers"; fi
ev=$(ctl 1 clusterctl events | grep -E " vm3 ")
assert_match "$ev" "vm3 +stop \\(asked on node2\\)" "the events record the stop as asked"
if grep -q "imported" <<<"$ev"; then fail "a stop recorded as an import: $ev"; else pass "no other event for the stop"; fi

# --- kill vm4's QEMU by hand: the cluster restarts it
node4=$(vm_field 1 vm4 'd["node"]')
boot1=$(boot_id "${ip[vm4]}")
qpid=$(lab exec "$node4" cat /run/libvirt/qemu/vm4.pid)
lab exec "$node4" kill -9 "$qpid"
pass "killed vm4's QEMU (pid $qpid on node$node4)"
restarted() { local b; b=$(guest_boot "${ip[vm4]}" 2) && [[ -n $b && $b != "$boot1" ]]; }
wait_for 90 "vm4 answers again with a new boot id" restarted
pass "vm4 restarted by the cluster in $WAIT_FOR_MS ms (boot $boot1 -> $(boot_id "${ip[vm4]}"))"
assert_eq "$(vm_field 3 vm4 'd["fail_count"]')" 1 "the failure is counted"
assert_eq "$(vm_nodes_running vm4)" "$(vm_field 3 vm4 'd["node_name"]')" "vm4 runs on exactly one node after the restart"

# --- two more deaths on the same node reach the limit: it moves elsewhere
for k in 2 3; do
	on=$(vm_field 1 vm4 'd["node"]')
	assert_eq "$on" "$node4" "vm4 restarted on the same node (failure $((k - 1)))"
	boot1=$(boot_id "${ip[vm4]}")
	lab exec "$on" kill -9 "$(lab exec "$on" cat /run/libvirt/qemu/vm4.pid)"
	wait_for 90 "vm4 answers again after failure $k" restarted
done
moved() { [[ $(vm_field 1 vm4 'd["node"]') != "$node4" && $(vm_field 1 vm4 'd["state"]') == running ]]; }
wait_for 30 "vm4 moved off node$node4" moved
pass "after 3 failures on node$node4, vm4 runs on $(vm_field 1 vm4 'd["node_name"]')"
assert_eq "$(vm_nodes_running vm4)" "$(vm_field 3 vm4 'd["node_name"]')" "vm4 runs on exactly one node after the move"

# --- a hung libvirtd: calls time out, clusterd stays responsive, VMs keep running
hn=$(vm_field 1 vm1 'd["node"]')
lab pause "$hn" libvirtd
hung_logged() { grep -q "did not return within" "$LAB_DIR/node$hn/log/clusterd.log"; }
wait_for 20 "node$hn logs a hung libvirt call" hung_logged
t0=$(_lab_now_ms)
cd_status "$hn" >/dev/null
pass "clusterd on node$hn answers in $(($(_lab_now_ms) - t0)) ms while its libvirtd is hung"
assert_eq "$(vm_field "$hn" vm1 'd["state"]')" running "a hung libvirtd is not taken for a dead VM"
lab resume "$hn" libvirtd
# libvirtd restarted: clusterd reconnects, the VM is still monitored and running
lab kill "$hn" libvirtd
lab start "$hn" libvirtd
boot_vm1=$(boot_id "${ip[vm1]}")
wait_for 20 "vm1 answers after libvirtd restarted" answers "${ip[vm1]}"
sleep_until_ms=$(($(_lab_now_ms) + 3000))
while (($(_lab_now_ms) < sleep_until_ms)); do
	[[ $(vm_field 2 vm1 'd["state"]') == running ]] || fail "vm1 left running after a libvirtd restart"
	sleep 0.2
done
assert_eq "$(boot_id "${ip[vm1]}")" "$boot_vm1" "vm1 was not restarted (same boot id)"
assert_eq "$(vm_field 2 vm1 'd["fail_count"]')" 0 "no failure counted for vm1"

# --- a VM that fits nowhere stays stopped, with an explanation
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/huge-console.log" huge 198.18.0.29 4000000 1 >"$LAB_DIR/huge.xml"
ctl 1 clusterctl vm add huge --xml "$LAB_DIR/huge.xml"
ctl 1 clusterctl vm start huge
why=""
explained() { why=$(ctl 2 clusterctl vm explain huge) && [[ $why == *memory* ]]; }
wait_for 15 "an explanation naming memory" explained
pass "huge is explained: $(ctl 2 clusterctl vm explain huge)"
assert_eq "$(vm_field 3 huge 'd["state"]')" stopped "huge stays stopped"
assert_eq "$(vm_nodes_running huge)" "" "huge runs nowhere"

# --- bad input: clear errors, nothing changes
before=$(version)
echo "<domain type='qemu'><name>bad</name><memory>x</memory></domain>" >"$LAB_DIR/bad.xml"
rc=0; err=$(ctl 1 clusterctl vm add bad --xml "$LAB_DIR/bad.xml" 2>&1) || rc=$?
assert_eq "$rc" 5 "bad XML refused with exit code 5"
assert_match "$err" "invalid domain XML" "bad XML: $err"
rc=0; err=$(ctl 1 clusterctl vm add other --xml "$LAB_DIR/vm1.xml" 2>&1) || rc=$?
assert_eq "$rc" 5 "an XML whose name differs is refused ($err)"
rc=0; err=$(ctl 1 clusterctl vm set vm1 preferred-owners=node9 2>&1) || rc=$?
assert_eq "$rc" 4 "unknown node refused with exit code 4"
assert_match "$err" "no node 'node9'" "unknown node: $err"
ctl 1 clusterctl vm set vm1 preferred-owners=node2
rc=0; err=$(ctl 1 clusterctl vm set vm1 possible-owners=node1,node3 2>&1) || rc=$?
assert_eq "$rc" 5 "impossible owners refused with exit code 5"
assert_match "$err" "not a possible owner" "impossible owners: $err"
rc=0; err=$(ctl 1 clusterctl vm set vm1 priority=urgent 2>&1) || rc=$?
assert_eq "$rc" 5 "unknown priority refused ($err)"
rc=0; err=$(ctl 1 clusterctl vm start nosuch 2>&1) || rc=$?
assert_eq "$rc" 4 "unknown VM refused ($err)"
after=$(version)
expected=$(python3 -c 'import sys; e,s=sys.argv[1].split("."); print("%s.%d" % (e, int(s)+1))' "$before")
assert_eq "$after" "$expected" "only the one valid change was recorded ($before -> $after)"
assert_eq "$(ctl 3 clusterctl --json vm list | python3 -c 'import json,sys; print(sorted(v["name"] for v in json.load(sys.stdin)["vms"]))')" \
	"['huge', 'vm1', 'vm2', 'vm3', 'vm4']" "the VM list is unchanged"

trap_cleanup_work
lab_test_end
