#!/bin/bash
# Processor compatibility on a real 3-node lab: every node publishes its
# host CPU as its libvirt's domain capabilities give it, and libvirt can
# compute a baseline over what they published. A VM set to
# cpu=cluster-baseline that QEMU emulates (the lab's guests: TCG) has the
# same CPU on every node: it starts as its XML defines it, the node says
# why, and it moves live; the baseline start of a KVM VM is unit-tested
# (check_vm_agent) and needs KVM hosts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "cpu baseline"

lab_up_with_volume
N=3
IP=198.18.0.71
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/b1.log" b1 $IP 128 1 >"$LAB_DIR/b1.xml"
lab exec 1 clusterctl vm add b1 --xml "$LAB_DIR/b1.xml"
host_cpu() { lab exec 1 clusterctl --json node show "node$1" | jq -r '.capacity.host_cpu_xml // empty'; }
published() {
	local i
	for i in $(seq 1 $N); do [[ -n $(host_cpu "$i") ]] || return 1; done
}
wait_for 30 "every node published its host CPU" published
pass "node1's host CPU: $(host_cpu 1 | head -c 160)..."

# libvirt's baseline over the three, for the virt type they were probed for
for i in $(seq 1 $N); do host_cpu "$i"; done >"$LAB_DIR/cpus.xml"
base=$(lab exec 1 virsh hypervisor-cpu-baseline "$LAB_DIR/cpus.xml" --migratable 2>&1 |
	sed -n 's/.*<model[^>]*>\([^<]*\)<.*/\1/p' | head -1) || base=""
[[ -n $base ]] || fail "libvirt gives no baseline over the nodes' CPUs: $(head -c 300 "$LAB_DIR/cpus.xml")"
pass "libvirt's baseline over the three nodes' published CPUs: $base"
want=$(sed -n 's/.*<model[^>]*>\([^<]*\)<\/model>.*/\1/p' "$LAB_DIR/b1.xml" | head -1)

lab exec 1 clusterctl vm set b1 cpu=cluster-baseline
assert_match "$(lab exec 1 clusterctl vm show b1)" "CPU: *cluster-baseline" "vm show says so"
lab exec 1 clusterctl vm start b1
runs() { vm_state_is 1 b1 running && answers $IP; }
wait_for 90 "b1 runs and answers" runs
on=$(vm_field 1 b1 'd["node_name"]')
model() { lab exec "${1#node}" virsh dumpxml b1 | sed -n 's/.*<model[^>]*>\([^<]*\)<\/model>.*/\1/p' | head -1; }
assert_eq "$(model "$on")" "$want" "b1 (emulated) runs on $on with its XML's CPU model ($want)"
assert_match "$(cat "$LAB_DIR/$on/log/clusterd.log")" "vm b1: emulated \(TCG\): its CPU is the same on every node" "$on said why"

# it moves live with it
rc=0
out=$(lab exec 2 clusterctl vm move b1 --wait 2>&1) || rc=$?
assert_eq "$rc" 0 "b1 moved live: $(tail -1 <<<"$out")"
to=$(vm_field 1 b1 'd["node_name"]')
assert_eq "$(model "$to")" "$want" "on $to it runs with the same CPU model"
wait_for 30 "b1 answers on $to" answers $IP

# the setting goes back and forth, and is refused for anything else
lab exec 1 clusterctl vm set b1 cpu=as-defined
assert_match "$(lab exec 2 clusterctl vm show b1)" "CPU: *as-defined" "cpu=as-defined"
rc=0
lab exec 1 clusterctl vm set b1 cpu=host >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 5 "cpu=host is refused (exit 5)"

lab_test_end
