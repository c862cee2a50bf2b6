#!/bin/bash
# Divergence never goes unseen, on a real 3-node lab. The members compare
# their states' checksums every state_check_interval_ms (2 s here). A test
# aid changes node3's state without a change, as a bug or a bad memory
# would: the next check finds node3 apart from the two others, every node
# records it as an event, node3 takes the state again, and the three agree
# once more, node3 holding the cluster's value, not its own. Then node3,
# cut off and changed again behind the cluster's back, comes back behind:
# the changes it missed do not lead to the others' state, so it takes the
# whole state, and is never left out on the way.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "divergence"

export CD_LAB_CLUSTERD_EXTRA="state_check_interval_ms = 2000"
lab up --nodes 3
wait_for 60 "all three nodes synced" all_three_agree
lab exec 1 clusterctl property set flap-limit 2
wait_for 30 "node3 holds flap-limit 2" eval '[[ $(lab exec 3 clusterctl property get flap-limit) == 2 ]]'
checks_agree() { grep -q "state check: 3 members agree" "$LAB_DIR/node1/log/clusterd.log"; }
wait_for 60 "a check finds the three in agreement (node1's log)" checks_agree

lab exec 3 clusterctl debug state-diverge
assert_eq "$(lab exec 3 clusterctl property get flap-limit)" 0 "node3's own state now says 0, the cluster's 2"
diverged() { lab exec "$1" clusterctl events | grep -q "divergence: node(s) 3 "; }
for i in 1 2 3; do wait_for 60 "node$i records node3's divergence" diverged "$i"; done
pass "every node records the divergence as an event"
assert_match "$(lab exec 3 clusterctl events)" "divergence: node\(s\) 3 .*this node takes the state again" "node3 says it takes the state again"
wait_for 60 "the three agree again" all_three_agree
assert_eq "$(lab exec 3 clusterctl property get flap-limit)" 2 "node3 holds the cluster's value again"
lab exec 2 clusterctl property set flap-limit 1
wait_for 30 "changes reach node3 again" eval '[[ $(lab exec 3 clusterctl property get flap-limit) == 1 ]]'
pass "node3 takes changes again"

# --- a node behind whose state also differs: the changes it missed lead
# elsewhere. It says so and takes the whole state, without being left out
# (which would cost it quorum and its VMs).
lab partition 3
alone3() { [[ $(cd_status 3 | jq -r .quorate) == false && $(member_in_view 1 3) == false ]]; }
wait_for 60 "node3 alone, without quorum" alone3
lab exec 3 clusterctl debug state-diverge
lab exec 1 clusterctl property set drain-max-parallel 3
log3=$LAB_DIR/node3/log/clusterd.log
from=$(($(wc -l <"$log3") + 1))
lab heal
wait_for 120 "the three agree after the heal" all_three_agree
since=$(tail -n "+$from" "$log3")
assert_match "$since" "cannot catch up by the changes from node [12]: they lead to another state" \
	"node3 found that the changes it missed do not lead to the others' state"
assert_match "$since" "adopting state" "node3 took the whole state instead"
[[ $(grep -c "left out of a sync round" <<<"$since" || :) == 0 ]] || fail "node3 was left out on the way"
pass "node3 was not left out"
assert_eq "$(lab exec 3 clusterctl property get flap-limit) $(lab exec 3 clusterctl property get drain-max-parallel)" "1 3" \
	"node3 holds the cluster's values"

lab_test_end
