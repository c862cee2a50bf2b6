#!/bin/bash
# Disk leases on a real 3-node lab: a VM whose disk is a shared-volume file
# holds that file's lease while it runs (no other node can take it), gives
# it back when it stops, and after its node is SIGKILLed the node that
# starts it again takes the lease over; a VM naming a disk under the volume
# directory that is no volume, or no VOLUME/FILE, is refused at "vm add".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "disk-leases"

lab_up_with_volume 3200
lab exec 1 clusterctl property set failover-confirm lease
lab exec 1 clusterctl property set flap-limit 0
for i in 1 2 3; do wait_for 30 "node$i holds its host lease" lease_valid "$i"; done
lab exec 1 clusterctl volume file create vol1 d1disk 16M
exposed() { lab exec "$1" test -b /run/csvfs/vol1/d1disk; }
for i in 1 2 3; do wait_for 30 "d1disk exposed on node$i" exposed "$i"; done

IP=198.18.0.55
bash "$top/tests/guest/domain.sh" --disk /run/csvfs/vol1/d1disk --console "$LAB_DIR/d1.log" d1 $IP 128 1 >"$LAB_DIR/d1.xml"
lab exec 1 clusterctl vm add d1 --xml "$LAB_DIR/d1.xml"
lab exec 1 clusterctl vm set d1 preferred-owners=node2
lab exec 1 clusterctl vm start d1
wait_for 60 "d1 runs on node2" runs_on 1 d1 node2
wait_for 60 "d1 answers" answers $IP

# try_lease NODE: exit code of taking d1disk's lease from NODE (released again if taken)
try_lease() {
	local rc=0
	lab exec "$1" clusterctl volume lease acquire vol1 d1disk >/dev/null 2>&1 || rc=$?
	[[ $rc -ne 0 ]] || lab exec "$1" clusterctl volume lease release vol1 d1disk >/dev/null
	echo "$rc"
}
assert_eq "$(try_lease 1)" 8 "node1 cannot take d1's disk lease while d1 runs on node2 (exit 8)"
assert_match "$(lab exec 2 clusterctl --json volume show vol1)" '"d1disk"' "node2 lists d1disk among the leases it holds"

# --- node2 dies: the new node takes the dead host's lease over and starts d1
lab kill 2 >/dev/null
wait_for 60 "d1 runs again elsewhere" runs_not_on 1 d1 node2
wait_for 60 "d1 answers again" answers $IP
new=$(vm_field 1 d1 'd["node_name"]')
other=1; [[ $new == node1 ]] && other=3
assert_eq "$(try_lease $other)" 8 "node$other cannot take the lease from $new, which runs d1 now"
assert_match "$(cat "$LAB_DIR/${new}/log/clusterd.log")" "vm d1: holds the disk leases of its 1 shared disk" "$new took the lease before starting d1"
lab start 2 >/dev/null
wait_for 30 "node2 back" synced_quorate 2
assert_eq "$(vm_nodes_running d1)" "$new" "d1 runs on $new only"

# --- stopped: the lease is free again
lab exec 1 clusterctl vm stop d1 --force
stopped() { [[ $(vm_field 1 d1 'd["state"]') == stopped ]]; }
wait_for 30 "d1 stopped" stopped
assert_eq "$(try_lease $other)" 0 "once d1 is stopped, node$other can take its disk lease"

# --- disks the cluster cannot lease are refused at once
sed 's|/run/csvfs/vol1/d1disk|/run/csvfs/nosuchvol/x|; s|<name>d1</name>|<name>d2</name>|' "$LAB_DIR/d1.xml" >"$LAB_DIR/d2.xml"
rc=0; err=$(lab exec 1 clusterctl vm add d2 --xml "$LAB_DIR/d2.xml" 2>&1) || rc=$?
assert_match "$err" "no volume 'nosuchvol'" "a disk on an unknown volume is refused: $err"
sed 's|/run/csvfs/vol1/d1disk|/run/csvfs/vol1/a/b|; s|<name>d1</name>|<name>d3</name>|' "$LAB_DIR/d1.xml" >"$LAB_DIR/d3.xml"
rc=0; err=$(lab exec 1 clusterctl vm add d3 --xml "$LAB_DIR/d3.xml" 2>&1) || rc=$?
assert_match "$err" "VOLUME/FILE" "a disk path that is no VOLUME/FILE is refused: $err"
rc=0; lab exec 1 clusterctl vm show d2 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 4 "the refused VM was not added (exit 4: not found)"

lab_test_end
