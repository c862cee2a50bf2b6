#!/bin/bash
# Drains on a real 3-node lab (libvirtd, QEMU, one shared volume), six
# guests of mixed priorities on node2, each polled every 10 ms by a client:
# the dry run shows the plan and names the VM that can go nowhere (exit
# 14) while nothing moves; the drain then moves every VM off node2, highest
# priority first, live (their boot ids kept) or cold for the VM whose
# move-mode says so, never one VM answering from two nodes; node2 ends
# "drained" and runs nothing. Resume with --failback now brings the VMs
# that prefer node2 back to it, live. A drain cancelled mid-way starts no
# more moves and leaves the node paused, nothing half-moved. The
# coordinator killed mid-drain: the next one carries the drain on to its
# end, every VM running once. Stopping clusterd on a node drains it first:
# its VMs keep running elsewhere. A cold move asked for restarts the VM on
# its target. Live moves that fail step up to quick, and say why; node2's
# next clusterd resumes the node its stop drained. With shutdown-policy
# save, stopping clusterd on node3 quick-moves the VM that can go, saves in
# place the one that may run nowhere else, and node3's next clusterd
# resumes the node and restores it there, its boot kept.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "drain"

lab_up_with_volume
N=3
move_lab_ready
# two moves at once at most, whatever the plan derives: six TCG guests on two cores
lab exec 1 clusterctl property set drain-max-parallel 2

# boot_of VM: its boot id ("" if it does not answer)
boot_of() { guest_boot "${ip[$1]}"; }
runs_on_answers() { runs_on 1 "$2" "$1" && answers "${ip[$2]}"; }
VMS=(d1 d2 d3 d4 d5 d6)
declare -A ip=([d1]=198.18.0.31 [d2]=198.18.0.32 [d3]=198.18.0.33 [d4]=198.18.0.34 [d5]=198.18.0.35 [d6]=198.18.0.36)
declare -A prio=([d1]=high [d2]=high [d3]=medium [d4]=medium [d5]=low [d6]=low)
for v in "${VMS[@]}"; do
	bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/$v.log" "$v" "${ip[$v]}" 128 1 >"$LAB_DIR/$v.xml"
	lab exec 1 clusterctl vm add "$v" --xml "$LAB_DIR/$v.xml"
	lab exec 1 clusterctl vm set "$v" priority="${prio[$v]}" preferred-owners=node2
done
# d5 only ever moves cold; d6 may not, and starts at cold: it can go nowhere
lab exec 1 clusterctl vm set d5 move-mode=cold
lab exec 1 clusterctl vm set d6 move-mode=cold cold-restart=never
for v in "${VMS[@]}"; do lab exec 1 clusterctl vm start "$v"; done
for v in "${VMS[@]}"; do wait_for 180 "$v runs on node2 and answers" runs_on_answers node2 "$v"; done

drain_state() { lab exec "${2:-1}" clusterctl --json node drain "$1" --status | jq -r '.state'; }
drain_state_is() { [[ $(drain_state "$1" "${3:-1}") == "$2" ]]; }
# on_node2 [VIEWER]: how many VMs the state has on node2
on_node2() { local v n=0; for v in "${VMS[@]}"; do [[ $(where "$v" "${1:-1}") == node2 ]] && n=$((n + 1)); done; echo "$n"; }
none_moving() { ! lab exec "${1:-1}" clusterctl --json vm list | jq -e '.vms[] | select(.state == "migrating" or .state == "stopping" or .state == "starting")' >/dev/null; }
declare -A b0

# --- the dry run: a plan, d6 named as the blocker, nothing changes
rc=0
plan=$(lab exec 1 clusterctl --json node drain node2 --dry-run) || rc=$?
assert_eq "$rc" 14 "node drain --dry-run exits 14: a VM can go nowhere"
assert_eq "$(jq -r '[.plan[].vm] | join(" ")' <<<"$plan")" "d1 d2 d3 d4 d5 d6" "the plan moves the VMs highest priority first"
assert_eq "$(jq -r '[.plan[] | .method] | join(" ")' <<<"$plan")" "live live live live cold cold" "each VM's ladder starts live, or where its move-mode says"
assert_match "$(jq -r '.plan[] | select(.vm == "d6") | .blocker' <<<"$plan")" "cold-restart=never" "d6's blocker says why"
assert_eq "$(jq -r '[.plan[] | select(.vm != "d6") | .target // "none"] | map(select(. == "node1" or . == "node3")) | length' <<<"$plan")" 5 "every other VM has a target"
assert_eq "$(jq -r '.parallel' <<<"$plan")" 2 "two moves at once (drain-max-parallel)"
assert_eq "$(node_state 1 node2) $(on_node2)" "online 6" "the dry run changed nothing"
out=$(lab exec 1 clusterctl node drain node2 --dry-run 2>&1) || :
assert_match "$out" "d6.*cold-restart=never" "the dry run's table names d6's blocker"

# --- the drain: every VM off node2, priority first, no VM twice
lab exec 1 clusterctl vm set d6 move-mode=live
# Each guest's boot just before the drain (a TCG guest may panic and reboot
# on its own before, the cluster's doing or not), and the probes' boots
# during it: a live move keeps the one boot.
for v in "${VMS[@]}"; do b0[$v]=$(boot_of "$v"); done
placements_mark
probes_start "${VMS[@]}"
rc=0
out=$(lab exec 1 clusterctl node drain node2 --wait 2>&1) || rc=$?
probes_stop "${VMS[@]}"
assert_eq "$rc" 0 "node drain node2 --wait: exit 0 ($(tail -1 <<<"$out"))"
assert_eq "$(node_state 1 node2)" drained "node2 shows drained"
assert_eq "$(on_node2)" 0 "no VM is on node2 in the state"
assert_eq "$(lab_qemu_pids 2 | wc -w)" 0 "no QEMU runs on node2"
for v in "${VMS[@]}"; do
	w=$(where "$v")
	assert_eq "$(vm_nodes_running "$v")" "$w" "$v runs on $w only (libvirt on every node)"
	[[ ${pinter[$v]} == false ]] || fail "$v answered from two instances at once"
	wait_for 30 "$v answers on $w" answers "${ip[$v]}"
	if [[ $v == d5 ]]; then
		assert_eq "$(vm_field 1 d5 'd["last_move"]["mode"]')" cold "d5 moved cold"
		[[ $(boot_of d5) != "${b0[d5]}" ]] || fail "d5 kept its boot: it was not restarted"
	else
		assert_eq "$(vm_field 1 "$v" 'd["last_move"]["mode"]')" live "$v moved live (gap ${pgap[$v]} ms)"
		assert_boot_kept "$v" "$(boot_of "$v")" "${b0[$v]}" "$LAB_DIR/$v.log" "$v kept its boot through the drain"
	fi
done
pass "no VM answered from two nodes at once"
# the order its moves began: each one's drain action, in priority order
order=$(lab exec 1 clusterctl --json vm list | jq -r '[.vms[] | select(.name | startswith("d")) | {n: .name, a: .drain.action_id}] | sort_by(.a) | map(.n) | join(" ")')
pri_ok() {
	local prev=0 v r
	declare -A rank=([high]=0 [medium]=1 [low]=2)
	for v in $1; do
		r=${rank[${prio[$v]}]}
		((r >= prev)) || return 1
		prev=$r
	done
}
pri_ok "$order" && pass "the moves began highest priority first ($order)" || fail "moves began out of priority order: $order"
assert_match "$(lab exec 1 clusterctl events)" "node2 +drain drained" "the events record the drain's end"

# --- resume with failback now: the VMs come back to node2, live
for v in "${VMS[@]}"; do b0[$v]=$(boot_of "$v"); done
placements_mark
lab exec 1 clusterctl node resume node2 --failback now
assert_eq "$(node_state 1 node2)" online "node2 is online again"
all_home() { [[ $(on_node2) == 6 ]] && none_moving; }
wait_for 300 "every VM is back on node2" all_home
for v in d1 d2 d3 d4 d6; do
	assert_eq "$(vm_nodes_running "$v")" node2 "$v back on node2"
	assert_boot_kept "$v" "$(boot_of "$v")" "${b0[$v]}" "$LAB_DIR/$v.log" "$v came back live, with its boot"
done
# d5 moves as its move-mode says: cold, restarted there
wait_for 60 "d5 answers on node2" answers "${ip[d5]}"
assert_eq "$(vm_nodes_running d5) $(vm_field 1 d5 'd["last_move"]["mode"]')" "node2 cold" "d5 back on node2, moved cold"

# --- cancel mid-drain: no new moves, nothing half-moved, node2 paused
lab exec 1 clusterctl node drain node2 >/dev/null
moving_now() { lab exec 1 clusterctl --json vm list | jq -e '.vms[] | select(.state == "migrating")' >/dev/null; }
wait_for 60 "the drain's first moves are under way" moving_now
lab exec 1 clusterctl node drain node2 --cancel
assert_eq "$(drain_state node2)" cancelled "the drain is cancelled"
wait_for 180 "the moves under way end" none_moving
left=$(on_node2)
((left > 0)) || fail "every VM left node2: the cancel stopped nothing"
sleep_until=$(($(date +%s) + 8))
# the coordinator decides every 5 s: nothing more may leave meanwhile
still() { [[ $(on_node2) == "$left" ]] && none_moving; }
while (($(date +%s) < sleep_until)); do still || fail "a VM left node2 after the cancel"; done
pass "after the cancel $left VMs stay on node2, none moves"
assert_eq "$(node_state 1 node2)" maintenance "node2 stays paused"
for v in "${VMS[@]}"; do assert_eq "$(vm_nodes_running "$v")" "$(where "$v")" "$v runs once, where the state says"; done
lab exec 1 clusterctl node resume node2 --failback never
assert_eq "$(node_state 1 node2)" online "node2 is online again"

# --- the coordinator (node1) dies mid-drain: the next one carries the drain on
lab exec 1 clusterctl vm set d5 move-mode=live
assert_eq "$(cd_status 3 | jq -r '.coordinator_name')" node1 "node1 coordinates"
lab exec 1 clusterctl node drain node2 >/dev/null
wait_for 60 "the drain's first moves are under way" moving_now
lab kill 1 >/dev/null
wait_for 300 "node2 is drained all the same, as node3 sees it" drain_state_is node2 drained 3
assert_eq "$(on_node2 3)" 0 "no VM is on node2"
all_run_once() {
	local v
	for v in "${VMS[@]}"; do
		vm_state_is 3 "$v" running && [[ $(vm_nodes_running "$v") == "$(where "$v" 3)" ]] || return 1
	done
}
wait_for 120 "every VM runs, once, where node3's state says (node1's failed over)" all_run_once
assert_match "$(lab exec 3 clusterctl events)" "node2 +drain drained" "node3's events record the drain's end"
lab start 1 >/dev/null
wait_for 60 "node1 is back" cluster_whole
lab exec 1 clusterctl node resume node2 --failback now
all_home_live() { [[ $(on_node2) == 6 ]] && none_moving; }
wait_for 300 "every VM is back on node2" all_home_live

# --- stopping clusterd on a node drains it first: its VMs keep running
src=node2
on_src=$(lab exec 1 clusterctl --json vm list | jq -r '[.vms[] | select(.node_name == "node2") | .name] | join(" ")')
[[ -n $on_src ]] || fail "no VM on node2 to drain at shutdown"
for v in $on_src; do b0[$v]=$(boot_of "$v"); done
placements_mark
kill -TERM "$(cat "$LAB_DIR/node2/clusterd.pid")"
gone2() { ! lab exec 1 clusterctl --json status | jq -e '.nodes[] | select(.name == "node2" and .reachable)' >/dev/null; }
wait_for 300 "clusterd on node2 drains, then stops" gone2
for v in $on_src; do
	wait_for 60 "$v answers" answers "${ip[$v]}"
	assert_boot_kept "$v" "$(boot_of "$v")" "${b0[$v]}" "$LAB_DIR/$v.log" "$v kept its boot: moved away before clusterd stopped"
	[[ $(vm_nodes_running "$v") != *node2* ]] || fail "$v still runs on node2"
done
assert_match "$(lab exec 1 clusterctl events)" "node2 +drain begins" "the events record the drain at shutdown"

# --- a cold move asked for: stopped where it runs, started on the target, --wait until it runs
src=$(where d1)
dst=$(other_than "$src" node2)
b=$(boot_of d1)
rc=0
out=$(lab exec 1 clusterctl vm move d1 "$dst" --mode cold --wait 2>&1) || rc=$?
assert_eq "$rc $(vm_field 1 d1 'd["state"]')" "0 running" "vm move d1 $dst --mode cold --wait: exit 0 once it runs ($(tail -1 <<<"$out"))"
assert_eq "$(vm_nodes_running d1)" "$dst" "d1 runs on $dst only"
wait_for 60 "d1 answers on $dst" answers "${ip[d1]}"
[[ $(boot_of d1) != "$b" ]] || fail "d1 kept its boot: it was not restarted"
pass "d1 restarted on $dst (a new boot)"

# --- escalation: live moves that cannot happen (the migration network is one
# no node has an address in) step up to quick, and say why
lab start 2 clusterd >/dev/null
wait_for 60 "node2's clusterd is back" cluster_whole
node_online() { [[ $(node_state "${2:-1}" "$1") == online ]]; }
wait_for 60 "node2 resumes itself: its stop drained it" node_online node2
assert_match "$(lab exec 2 clusterctl events)" "resuming this node after its shutdown drain" "node2's events say why it takes VMs again"
assert_match "$(lab exec 1 clusterctl events)" "node2 +resumed, failback policy \\(asked on node2\\)" "the cluster's events record the resume"
lab exec 1 clusterctl property set migration-network 198.18.0.240/29
on3=$(lab exec 1 clusterctl --json vm list | jq -r '[.vms[] | select(.node_name == "node3" and .state == "running") | .name] | join(" ")')
[[ -n $on3 ]] || fail "no VM on node3 to drain"
for v in $on3; do b0[$v]=$(boot_of "$v"); done
rc=0
out=$(lab exec 1 clusterctl node drain node3 --wait 2>&1) || rc=$?
assert_eq "$rc" 0 "node drain node3 --wait: exit 0, every live move failing ($(tail -1 <<<"$out"))"
for v in $on3; do
	assert_eq "$(vm_field 1 "$v" 'd["drain"]["rung"]') $(vm_field 1 "$v" 'd["last_move"]["mode"]')" "quick quick" "$v stepped up to quick and moved so"
	assert_match "$(vm_field 1 "$v" 'd["drain"]["why"]')" "live move failed" "$v's drain record says why it stepped up"
	wait_for 60 "$v answers" answers "${ip[$v]}"
	assert_eq "$(boot_of "$v") $(vm_nodes_running "$v")" "${b0[$v]} $(where "$v")" "$v kept its boot, runs once"
done
lab exec 1 clusterctl property delete migration-network
lab exec 1 clusterctl node resume node3

# --- shutdown-policy save: stopping clusterd on node3 quick-moves d2, saves
# d3 in place (node3 is its only possible owner), still wanted running;
# node3's next clusterd resumes the node and d3 is restored there
lab exec 1 clusterctl property set shutdown-policy save
for v in d2 d3; do
	[[ $(where "$v") == node3 ]] || lab exec 1 clusterctl vm move "$v" node3 --wait >/dev/null
	wait_for 60 "$v answers on node3" runs_on_answers node3 "$v"
	b0[$v]=$(boot_of "$v")
done
lab exec 1 clusterctl vm set d3 preferred-owners= possible-owners=node3
kill -TERM "$(cat "$LAB_DIR/node3/clusterd.pid")"
gone3() { ! lab exec 1 clusterctl --json status | jq -e '.nodes[] | select(.name == "node3" and .reachable)' >/dev/null; }
wait_for 300 "clusterd on node3 saves, then stops" gone3
wait_for 60 "d2 answers" answers "${ip[d2]}"
assert_eq "$(boot_of d2) $(vm_nodes_running d2) $(vm_field 1 d2 'd["last_move"]["mode"]')" "${b0[d2]} $(where d2) quick" "d2 quick-moved off node3, its boot kept, running once"
assert_eq "$(vm_field 1 d3 'd["state"]') $(vm_field 1 d3 'd["target"]') $(vm_nodes_running d3)" "stopped started " "d3 saved in place: stopped, still wanted running, running nowhere"
[[ -n $(vm_field 1 d3 'd["saved"]["file"]') ]] || fail "d3 has no saved state"
pass "d3's saved state is on the shared volume"
assert_match "$(lab exec 1 clusterctl events)" "d3 +stop, saving its memory into vol1/[^ ]+; still wanted running.*asked on node3" "the events record the save in place"
lab start 3 clusterd >/dev/null
wait_for 60 "node3's clusterd is back" cluster_whole
wait_for 60 "node3 resumes itself" node_online node3
wait_for 180 "d3 is restored on node3" runs_on_answers node3 d3
assert_eq "$(boot_of d3) $(vm_nodes_running d3)" "${b0[d3]} node3" "d3 restored on node3, its boot kept (memory restored, not rebooted), once"
assert_eq "$(vm_field 1 d3 'd["saved"]')" null "d3's saved state is consumed"
lab exec 1 clusterctl vm set d3 possible-owners= preferred-owners=node2
lab exec 1 clusterctl property delete shutdown-policy

lab_test_end
