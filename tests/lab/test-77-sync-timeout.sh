#!/bin/bash
# A sync round ends within a bound: a member that never reports is left out.
#
# On a real 3-node lab, node3's clusterd is stopped (SIGSTOP: a stuck main
# loop, still a CPG member as far as corosync knows) and node2's clusterd
# restarts, which starts a sync round that node3 cannot answer. Without a
# bound the round never ends: no change, no coordinator, no failover. With
# one, nodes 1 and 2 leave node3 out after sync_timeout_ms, complete the
# round, and take changes. When node3 runs again it finds itself left out,
# counts itself without quorum, asks for a new round, and is taken in with
# every change made meanwhile.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "sync-timeout"

export CD_LAB_CLUSTERD_EXTRA="sync_timeout_ms = 3000"
lab up --nodes 3

two_without_3() {
	synced_quorate 1 && synced_quorate 2 && [[ $(member_in_view 1 3) == false ]] &&
		[[ $(member_in_view 2 3) == false ]] && [[ $(member_in_view 1 2) == true ]]
}
prop_on() { lab exec "$1" clusterctl property get "$2" 2>/dev/null; }

wait_for 60 "all three nodes synced" all_three_agree
pid3=$(cat "$LAB_DIR/node3/clusterd.pid")
lab pause 3 clusterd
lab kill 2 clusterd
lab start 2 clusterd

# 1. the round ends without node3
wait_for 120 "nodes 1 and 2 complete their rounds without node3" two_without_3
pass "nodes 1 and 2 completed the sync round without the silent node3"
grep -q "node 3 left out" "$LAB_DIR/node1/log/clusterd.log" ||
	fail "node1's log does not say node3 was left out"
pass "node1's log says node3 was left out"
lab exec 1 clusterctl events | grep -q "node 3 left out of a sync round" ||
	fail "no event tells an admin that node3 was left out"
pass "an event tells an admin"
lab exec 1 clusterctl property set flap-limit 2 ||
	fail "the cluster refused a change while node3 was stopped"
assert_eq "$(prop_on 2 flap-limit)" 2 "a change was acknowledged while node3 was silent"
kill -0 "$pid3" || fail "node3's clusterd is gone"

# 2. node3 runs again: it finds itself left out and comes back in
lab resume 3 clusterd
wait_for 120 "node3 taken in again: all three synced with equal states" all_three_agree
pass "node3 is back in: three members, synced, equal state checksums"
assert_eq "$(prop_on 3 flap-limit)" 2 "node3 holds the change made while it was silent"
assert_eq "$(cat "$LAB_DIR/node3/clusterd.pid")" "$pid3" "node3's clusterd is the same process"
log3=$LAB_DIR/node3/log/clusterd.log
grep -q "node 3 left out" "$log3" || fail "node3's log does not say it was left out"
grep -q "asking for a new round" "$log3" || fail "node3 did not ask for a new round"
pass "node3 saw itself left out and asked for a new round"
lab exec 3 clusterctl events | grep -q "this node counts itself without quorum" ||
	fail "node3's events do not say it counted itself without quorum"
pass "node3 counted itself without quorum while left out"

# 3. no wedge: the cluster goes on taking changes, node3 included
lab exec 3 clusterctl property set flap-limit 3
wait_for 30 "node1 sees node3's change" eval '[[ $(prop_on 1 flap-limit) == 3 ]]'
pass "a change made on node3 reaches node1"
wait_for 30 "all three agree after the change" all_three_agree
pass "all three nodes hold the same state"

lab_test_end
