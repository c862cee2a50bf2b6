#!/bin/bash
# Processor compatibility on a real 3-node lab: every node publishes its
# host CPU as its libvirt's domain capabilities give it; a VM set to
# cpu=cluster-baseline starts with the CPU that libvirt's baseline over all
# the nodes' host CPUs gives (the same computed here with virsh
# hypervisor-cpu-baseline from what the nodes published), keeps its own
# definition otherwise, and moves live with it.
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

# what libvirt's baseline over the three says, asked here of node1's libvirtd
type=$(sed -n "s/.*<domain type='\([a-z]*\)'.*/\1/p" "$LAB_DIR/b1.xml" | head -1)
for i in $(seq 1 $N); do host_cpu "$i"; done >"$LAB_DIR/cpus.xml"
want=$(lab exec 1 virsh hypervisor-cpu-baseline "$LAB_DIR/cpus.xml" --virttype "$type" --migratable 2>&1 |
	sed -n 's/.*<model[^>]*>\([^<]*\)<.*/\1/p' | head -1) || want=""
[[ -n $want ]] || fail "libvirt gives no baseline for $type over the nodes' CPUs: $(cat "$LAB_DIR/cpus.xml" | head -c 300)"

lab exec 1 clusterctl vm set b1 cpu=cluster-baseline
assert_match "$(lab exec 1 clusterctl vm show b1)" "CPU: *cluster-baseline" "vm show says so"
lab exec 1 clusterctl vm start b1
runs() { vm_state_is 1 b1 running && answers $IP; }
wait_for 90 "b1 runs and answers" runs
on=$(vm_field 1 b1 'd["node_name"]')
model() { lab exec "${1#node}" virsh dumpxml b1 | sed -n 's/.*<model[^>]*>\([^<]*\)<\/model>.*/\1/p' | head -1; }
assert_eq "$(model "$on")" "$want" "b1 runs on $on with the cluster's baseline CPU model ($want)"
assert_match "$(cat "$LAB_DIR/$on/log/clusterd.log")" "vm b1: starts with the CPU baseline of nodes" "$on said where the baseline came from"

# it moves live with it
rc=0
out=$(lab exec 2 clusterctl vm move b1 --wait 2>&1) || rc=$?
assert_eq "$rc" 0 "b1 moved live: $(tail -1 <<<"$out")"
to=$(vm_field 1 b1 'd["node_name"]')
assert_eq "$(model "$to")" "$want" "on $to it runs with the same CPU model"
wait_for 30 "b1 answers on $to" answers $IP

# back to its own definition: the next start uses the XML's CPU again
lab exec 1 clusterctl vm stop b1
wait_for 60 "b1 stopped" vm_state_is 1 b1 stopped
lab exec 1 clusterctl vm set b1 cpu=as-defined
own=$(sed -n 's/.*<model[^>]*>\([^<]*\)<\/model>.*/\1/p' "$LAB_DIR/b1.xml" | head -1)
lab exec 1 clusterctl vm start b1
wait_for 90 "b1 runs again" runs
on=$(vm_field 1 b1 'd["node_name"]')
assert_eq "$(model "$on")" "$own" "as-defined: b1 runs with its XML's model ($own)"

lab_test_end
