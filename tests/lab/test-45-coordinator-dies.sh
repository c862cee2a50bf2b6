#!/bin/bash
# The coordinator dies in the middle of a failover, on a real 5-node lab:
# node 3 (with the VMs) is killed, and as soon as the others notice, node 1,
# the coordinator that runs the failover, is killed too. The three left keep
# quorum; node 2 takes over and the failover completes, with no VM ever
# answering from two nodes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "coordinator dies during failover"

top=$(cd "$(dirname "$0")/../.." && pwd)
bash "$top/tests/guest/build-guest.sh" >/dev/null
G=${CD_GUEST_DIR:-/var/cache/clusterd-guest}
probe=$G/udp-probe
export CD_LAB_CLUSTERD_EXTRA="vm_monitor_interval_ms = 500"
lab up --nodes 5
LUN=$(lab lun)
"$top/csvfs/csvfs" format "$LUN" --name vol1 --hosts 8 --expiry-ms 3200 >/dev/null
lab exec 1 clusterctl volume add vol1 "$LUN"
# This test power-cycles nodes on purpose: no quarantine for coming back.
lab exec 1 clusterctl property set flap-limit 0

node_state_is() { [[ $(json_get "$(lab exec "$1" clusterctl --json node show "$2")" 'd["state"]') == "$3" ]]; }
all_leases() { local i; for i in 1 2 3 4 5; do lease_valid "$i" || return 1; done; }

wait_for 30 "every node holds its host lease" all_leases
declare -A ip=([c1]=198.18.0.51 [c2]=198.18.0.52)
for v in c1 c2; do
	bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/$v.log" "$v" "${ip[$v]}" 128 1 >"$LAB_DIR/$v.xml"
	lab exec 1 clusterctl vm add "$v" --xml "$LAB_DIR/$v.xml"
	# never on nodes 1 and 2, which the test kills or watches from
	lab exec 1 clusterctl vm set "$v" possible-owners=node3,node4,node5 preferred-owners=node3
	lab exec 1 clusterctl vm start "$v"
done
for v in c1 c2; do
	wait_for 60 "$v runs on node3" runs_on 2 "$v" node3
	wait_for 60 "$v answers" answers "${ip[$v]}"
done
pids=()
for v in c1 c2; do
	"$LAB" exec client "$probe" "${ip[$v]}" --interval-ms 10 --timeout-ms 300 --json >"$LAB_DIR/probe-$v.json" 2>/dev/null &
	pids+=($!)
done
assert_eq "$(json_get "$(cd_status 2)" 'd["coordinator"]')" 1 "node1 coordinates"

lab kill 3 >/dev/null
gone() { ! node_state_is 2 node3 online; }
wait_for 30 "node2 sees node3 gone" gone
lab kill 1 >/dev/null
pass "killed node3 (the VMs' node), then node1 (the coordinator) as the failover began"
for v in c1 c2; do
	wait_for 60 "$v runs again" runs_not_on 2 "$v" node3
	wait_for 60 "$v answers again" answers "${ip[$v]}"
done
for p in "${pids[@]}"; do kill -INT "$p" 2>/dev/null || :; done
for p in "${pids[@]}"; do wait "$p" || :; done
# the failover may have finished before corosync saw node1 go too
coordinator_is_2() { [[ $(json_get "$(cd_status 2)" 'd["coordinator"]') == 2 ]]; }
wait_for 30 "node2 coordinates once node1 is gone" coordinator_is_2
pass "node2 coordinates now"
for v in c1 c2; do
	read -r inter gap < <(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print("yes" if d["interleaved"] else "no", round(d["max_gap"]["ms"]))' "$LAB_DIR/probe-$v.json")
	assert_eq "$inter" no "$v never answered from two boots at once (outage ${gap} ms)"
	assert_eq "$(vm_nodes_running "$v" | wc -w)" 1 "$v runs on exactly one node ($(vm_nodes_running "$v"))"
done

lab_test_end
