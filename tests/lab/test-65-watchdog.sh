#!/bin/bash
# The watchdog process backs clusterd up on the lease path (3 nodes, a
# shared volume, failover-confirm=lease, no fencing device):
#  - clusterd alone is SIGKILLed on the node running a VM (corosync and
#    libvirtd live on): the watchdog process kills the QEMU at once, the
#    others take the VM over once the host lease has lapsed, and the guest
#    never answers from two boots; clusterd started again starts nothing;
#  - clusterd hangs (SIGSTOP): its renewals stop, and the watchdog process
#    kills the QEMU before the host lease can have lapsed in the others'
#    view; once clusterd runs again the VM is started again, once.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "watchdog"

EXPIRY=3200
lab_up_with_volume $EXPIRY
lab exec 1 clusterctl property set failover-confirm lease
lab exec 1 clusterctl property set flap-limit 0
for i in 1 2 3; do wait_for 30 "node$i holds its host lease" lease_valid "$i"; done

IP=198.18.0.51
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/w1.log" w1 $IP 128 1 >"$LAB_DIR/w1.xml"
lab exec 1 clusterctl vm add w1 --xml "$LAB_DIR/w1.xml"
lab exec 1 clusterctl vm set w1 preferred-owners=node3
lab exec 1 clusterctl vm start w1
wait_for 60 "w1 runs on node3" runs_on 1 w1 node3
wait_for 60 "w1 answers" answers $IP

qemu_gone() { [[ -z $(pids_alive <<<"$1") ]]; }
probe_start() {
	"$LAB" exec client "$probe" $IP --interval-ms 10 --timeout-ms 300 --json >"$LAB_DIR/probe-$1.json" 2>/dev/null &
	probe_pid=$!
	wait_for 10 "the probe answers" answers $IP
}
# probe_check NAME: the guest never answered from two boots at once
probe_check() {
	kill -INT "$probe_pid" 2>/dev/null || :
	wait "$probe_pid" || :
	out=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("%s %d %.0f" % ("yes" if d["interleaved"] else "no", len(d["boots"]), d["max_gap"]["ms"]))
' "$LAB_DIR/probe-$1.json") || fail "cannot read the probe"
	read -r inter boots gap <<<"$out"
	assert_eq "$inter" no "$1: w1 never answered from two boots at once ($boots boots, longest gap ${gap} ms)"
}
vm_node_index() { local n; n=$(vm_field 1 w1 'd["node_name"]'); echo "${n#node}"; }

# --- 1: clusterd alone dies on node3
probe_start kill
qemu=$(lab_qemu_pids 3)
[[ -n $qemu ]] || fail "no QEMU runs on node3"
lab kill 3 clusterd >/dev/null
wait_for 5 "node3's QEMU killed by the watchdog process" qemu_gone "$qemu"
assert_match "$(cat "$LAB_DIR/node3/log/clusterd.log")" "clusterd died: killing every QEMU" "node3's watchdog process says why it killed"
wait_for 30 "w1 runs again away from node3" runs_not_on 1 w1 node3
wait_for 60 "w1 answers again" answers $IP
probe_check kill
assert_match "$(lab exec 1 clusterctl events)" "node3.*(dead|lease)" "the events say how node3 was known dead"
# corosync and libvirtd of node3 kept running all along
lab start 3 clusterd >/dev/null
wait_for 30 "node3's clusterd back in the cluster" synced_quorate 3
assert_eq "$(vm_nodes_running w1)" "$(vm_field 1 w1 'd["node_name"]')" "w1 runs on exactly one node, the one the cluster says"

# --- 2: clusterd hangs on the VM's node
n=$(vm_node_index)
probe_start hang
qemu=$(lab_qemu_pids "$n")
[[ -n $qemu ]] || fail "no QEMU runs on node$n"
pid_exit_watch "${qemu%% *}" "$LAB_DIR/qemu-exit-ms" &
watcher=$!
t0=$(_lab_now_ms)
lab pause "$n" clusterd
resume() { lab resume "$n" clusterd >/dev/null 2>&1 || :; }
trap 'resume; _lab_test_exit' EXIT
wait_for 10 "node$n's QEMU killed while clusterd is stopped" qemu_gone "$qemu"
wait "$watcher" || :
took=$(($(cat "$LAB_DIR/qemu-exit-ms") - t0))
# A safety bound, not a speed: the last renewal was before the SIGSTOP, so
# the others may take the VM over E after it at the earliest. The moment of
# the QEMU's exit is read from a pidfd, not from the test's polling.
((took < EXPIRY)) || fail "the QEMU outlived the host lease's expiry ($took ms >= $EXPIRY ms)"
pass "the QEMU was gone $took ms after clusterd stopped, within the expiry ($EXPIRY ms)"
assert_match "$(cat "$LAB_DIR/node$n/log/clusterd.log")" "lapsed and clusterd has not reported its VMs off" "node$n's watchdog process says why it killed"
resume
wait_for 60 "w1 runs again" vm_state_is 1 w1 running
wait_for 60 "w1 answers again" answers $IP
probe_check hang
assert_eq "$(vm_nodes_running w1)" "$(vm_field 1 w1 'd["node_name"]')" "w1 runs on exactly one node, the one the cluster says"

lab_test_end
