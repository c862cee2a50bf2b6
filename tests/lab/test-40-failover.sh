#!/bin/bash
# Automatic failover on a real 3-node lab with libvirtd, QEMU and the test
# guests, and one shared volume whose host leases tell when a lost node is
# dead. Rounds of: SIGKILL of a whole node, and a partition cutting a node
# away. In every round every guest is polled all the time from a client;
# the boot ids prove that no VM ever answers from two nodes at once, and
# the longest gap is the outage each VM saw.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "failover"

top=$(cd "$(dirname "$0")/../.." && pwd)
# each round is one kill and one partition; the soak (tests/soak) adds the
# other faults at random moments
ROUNDS=${CD_FAILOVER_ROUNDS:-5}
bash "$top/tests/guest/build-guest.sh" >/dev/null
G=${CD_GUEST_DIR:-/var/cache/clusterd-guest}
probe=$G/udp-probe
export CD_LAB_CLUSTERD_EXTRA="vm_stop_timeout_ms = 2000
vm_monitor_interval_ms = 500
libvirt_timeout_ms = 5000"
lab up --nodes 3
N=3
LUN=$(lab lun)
"$top/csvfs/csvfs" format "$LUN" --name vol1 --hosts 8 --expiry-ms 3200 >/dev/null
lab exec 1 clusterctl volume add vol1 "$LUN"
# This test power-cycles nodes on purpose: no quarantine for coming back.
lab exec 1 clusterctl property set flap-limit 0

all_running() {
	local v
	for v in "${vms[@]}"; do
		[[ $(vm_field "$1" "$v" 'd["state"]') == running ]] || return 1
		answers "${ip[$v]}" || return 1
	done
}
cluster_whole() {
	local i
	for i in $(seq 1 $N); do
		synced_quorate "$i" && lease_valid "$i" || return 1
	done
}

vms=(vm1 vm2 vm3 vm4)
declare -A ip=([vm1]=198.18.0.21 [vm2]=198.18.0.22 [vm3]=198.18.0.23 [vm4]=198.18.0.24)
for v in "${vms[@]}"; do
	bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/$v-console.log" "$v" "${ip[$v]}" 128 1 >"$LAB_DIR/$v.xml"
	lab exec 1 clusterctl vm add "$v" --xml "$LAB_DIR/$v.xml"
	lab exec 1 clusterctl vm start "$v"
done
wait_for 30 "all nodes hold the volume's host lease" cluster_whole
wait_for 90 "all VMs running and answering" all_running 1
pass "4 VMs run: $(for v in "${vms[@]}"; do printf '%s@%s ' "$v" "$(vm_field 1 "$v" 'd["node_name"]')"; done)"

# the node running the most VMs (not node $1 if given)
busiest() {
	lab exec "$2" clusterctl --json vm list | python3 -c '
import collections, json, sys
c = collections.Counter(v["node"] for v in json.load(sys.stdin)["vms"] if v["node"])
print(max(sorted(c), key=lambda n: c[n]) if c else "")'
}
probes_start() {
	local v
	probe_pids=()
	for v in "${vms[@]}"; do
		# "$LAB", not the lab function: $! must be the probe itself (lab execs it)
		"$LAB" exec client "$probe" "${ip[$v]}" --interval-ms 10 --timeout-ms 300 --json >"$LAB_DIR/probe-$v.json" 2>/dev/null &
		probe_pids+=($!)
	done
}
probes_stop() {
	local p
	for p in "${probe_pids[@]}"; do kill -INT "$p" 2>/dev/null || :; done
	for p in "${probe_pids[@]}"; do wait "$p" || :; done
}
# check the probes of one round: no VM answered from two boots at once
round_report() {
	local v out
	for v in "${vms[@]}"; do
		out=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("%s %d %.0f" % ("yes" if d["interleaved"] else "no", len(d["boots"]), d["max_gap"]["ms"]))
' "$LAB_DIR/probe-$v.json") || fail "cannot read the probe of $v"
		read -r inter boots gap <<<"$out"
		[[ $inter == no ]] || fail "$1: $v answered from two boots at once"
		outage="$outage $v=${gap}ms(${boots} boots)"
	done
}

double_runs=0
for r in $(seq 1 "$ROUNDS"); do
	# --- kill -9 a whole node
	victim=$(busiest x 1)
	[[ -n $victim ]] || fail "round $r: no VM runs anywhere"
	probes_start
	wait_for 10 "probes running" all_running 1
	t0=$(_lab_now_ms)
	lab kill "$victim" >/dev/null
	viewer=$(( victim == 1 ? 2 : 1 ))
	wait_for 60 "round $r: every VM runs again after node$victim died" all_running "$viewer"
	took=$(($(_lab_now_ms) - t0))
	probes_stop
	outage=""
	round_report "round $r kill"
	for v in "${vms[@]}"; do
		on=$(vm_nodes_running "$v")
		[[ $on != *" "* ]] || { double_runs=$((double_runs + 1)); fail "round $r: $v runs on $on"; }
	done
	pass "round $r kill node$victim: all back in $took ms; outage per VM:$outage"
	lab start "$victim" >/dev/null
	wait_for 60 "round $r: node$victim rejoined" cluster_whole
	assert_eq "$(lab exec "$victim" virsh -q list --name | sed '/^$/d' | wc -l)" 0 "round $r: node$victim came back without starting its old VMs"

	# --- cut a node away: it stops its VMs before the majority starts them
	victim=$(busiest x 1)
	probes_start
	wait_for 10 "probes running" all_running 1
	t0=$(_lab_now_ms)
	lab partition "$victim" >/dev/null
	viewer=$(( victim == 1 ? 2 : 1 ))
	wait_for 60 "round $r: every VM runs again after node$victim was cut off" all_running "$viewer"
	took=$(($(_lab_now_ms) - t0))
	probes_stop
	outage=""
	round_report "round $r partition"
	assert_eq "$(lab exec "$victim" virsh -q list --name | sed '/^$/d' | wc -l)" 0 "round $r: the cut-off node$victim runs no VM"
	pass "round $r partition node$victim: all back in $took ms; outage per VM:$outage"
	lab heal >/dev/null
	wait_for 60 "round $r: cluster whole after the heal" cluster_whole
	for v in "${vms[@]}"; do
		on=$(vm_nodes_running "$v")
		[[ $on != *" "* ]] || { double_runs=$((double_runs + 1)); fail "round $r: $v runs on $on"; }
	done
done
assert_eq "$double_runs" 0 "no VM ever ran twice in $ROUNDS rounds of kills and partitions"
lost=0
for v in "${vms[@]}"; do [[ $(vm_field 1 "$v" 'd["state"]') == running ]] || lost=$((lost + 1)); done
assert_eq "$lost" 0 "no VM lost"

# what happened, in words, from any node that saw the last failover
told=""
for i in $(seq 1 $N); do
	ev=$(lab exec "$i" clusterctl events 2>/dev/null) || continue
	if grep -q "declared dead (lease)" <<<"$ev" && grep -q "placed on" <<<"$ev"; then
		told=$(grep -m1 "declared dead (lease)" <<<"$ev")
		break
	fi
done
[[ -n $told ]] || fail "no node's events tell of a failover"
pass "clusterctl events tells why: $told"

lab_test_end
