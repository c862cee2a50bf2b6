#!/bin/bash
# Brief blips and flapping nodes on a real 3-node lab: with a grace period,
# a node cut off for a few seconds and back moves nothing (its VM keeps its
# boot), and with quorum-loss-policy=freeze its VM is paused meanwhile and
# resumed after; a node that comes back three times within the window is
# quarantined: it keeps its VMs and takes no new ones until an admin (or
# time) lifts it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "blips"

lab_up_with_volume 3200

node_state_is() { [[ $(node_state "$1" "$2") == "$3" ]]; }
boot_of() { guest_boot "$1"; }

lab exec 1 clusterctl property set failover-grace-ms 20000
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/b1.log" b1 198.18.0.41 128 1 >"$LAB_DIR/b1.xml"
lab exec 1 clusterctl vm add b1 --xml "$LAB_DIR/b1.xml"
lab exec 1 clusterctl vm set b1 preferred-owners=node3
lab exec 1 clusterctl vm start b1
wait_for 60 "b1 runs on node3" runs_on 1 b1 node3
wait_for 60 "b1 answers" answers 198.18.0.41
boot=$(boot_of 198.18.0.41)

# flap node3: cut it off until the others see it gone, then heal
flap() {
	lab partition 3 >/dev/null
	wait_for 20 "node1 sees node3 gone" node_state_is 1 node3 offline
	lab heal >/dev/null
	wait_for 30 "node3 back" synced_quorate 3
}

flap
pass "node3 was cut off and came back within the 20 s grace period"
assert_eq "$(vm_field 1 b1 'd["node_name"]')" node3 "b1 stayed on node3"
assert_eq "$(boot_of 198.18.0.41)" "$boot" "b1 kept its boot: nothing was restarted"
assert_eq "$(vm_field 1 b1 'd["fail_count"]')" 0 "no failure counted"
assert_match "$(lab exec 3 clusterctl events)" "quorum back within the grace period" "node3 says the blip moved nothing"

# quorum-loss-policy=freeze: the cut-off node pauses its VMs at once and
# resumes them when quorum comes back within the grace period
lab exec 1 clusterctl property set quorum-loss-policy freeze
paused_on() { [[ $(vm_state "$1" "$2") == paused ]]; }
lab partition 3 >/dev/null
wait_for 20 "node1 sees node3 gone" node_state_is 1 node3 offline
wait_for 10 "b1 paused on node3 (freeze)" paused_on 3 b1
lab heal >/dev/null
wait_for 30 "node3 back" synced_quorate 3
wait_for 10 "b1 resumed on node3" vm_running_on 3 b1
wait_for 10 "b1 answers again" answers 198.18.0.41
assert_eq "$(boot_of 198.18.0.41)" "$boot" "b1 kept its boot through the freeze"
assert_eq "$(vm_field 1 b1 'd["fail_count"]')" 0 "no failure counted for the freeze"
assert_match "$(lab exec 3 clusterctl events)" "pausing every VM here" "node3 says it froze its VMs"
lab exec 1 clusterctl property delete quorum-loss-policy
err=$(lab exec 1 clusterctl property set quorum-loss-policy pause 2>&1) && fail "a bad policy was accepted"
assert_match "$err" "stop or freeze" "a bad policy is refused with the choices: $err"

flap
wait_for 10 "node3 quarantined after 3 returns" node_state_is 1 node3 quarantined
pass "node3 is quarantined: $(node_state 2 node3)"
assert_eq "$(vm_field 1 b1 'd["node_name"]')" node3 "a quarantined node keeps its VMs"
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/b2.log" b2 198.18.0.42 128 1 >"$LAB_DIR/b2.xml"
lab exec 1 clusterctl vm add b2 --xml "$LAB_DIR/b2.xml"
lab exec 1 clusterctl vm set b2 preferred-owners=node3
lab exec 1 clusterctl vm start b2
placed_away() { [[ $(vm_field 1 b2 'd["state"]') == running && $(vm_field 1 b2 'd["node_name"]') != node3 ]]; }
wait_for 60 "b2 placed away from the quarantined node3" placed_away
assert_match "$(lab exec 1 clusterctl vm explain b2)" "not on its first preferred owner" "explained: $(lab exec 1 clusterctl vm explain b2)"
lab exec 2 clusterctl node quarantine node3 off
wait_for 10 "node3 online again" node_state_is 1 node3 online
pass "an admin lifted the quarantine"

lab_test_end
