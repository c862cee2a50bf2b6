#!/bin/bash
# Scheduled rolling maintenance on a real 3-node lab (libvirtd, QEMU, one
# shared volume), three guests polled by a client all along: a schedule
# over all nodes whose --pre command power-cycles its node (through the
# lab, as an upgrade with a reboot would) runs node by node: each node is
# drained, cycled, back, resumed; every VM keeps running with its boot id,
# never two instances; the run ends done and its history says so. A --pre
# command that fails stops the run at its first node, which stays paused
# and drained. Node1 is the coordinator when the run begins: cycling it
# kills the coordinator mid-run, and the next one carries the run on. A run
# that outlasts its window ends there and says so. Schedules are listed,
# shown, run now, cancelled, removed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "maintenance"

lab_up_with_volume
N=3
move_lab_ready

# boot_of VM: its boot id ("" if it does not answer)
boot_of() { { lab exec client "$probe" "${ip[$1]}" --once --timeout-ms 300 2>/dev/null || :; } | sed -n 's/^boot=\([0-9a-f]*\).*/\1/p'; }
VMS=(m1 m2 m3)
declare -A ip=([m1]=198.18.0.41 [m2]=198.18.0.42 [m3]=198.18.0.43)
for v in "${VMS[@]}"; do
	bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/$v.log" "$v" "${ip[$v]}" 128 1 >"$LAB_DIR/$v.xml"
	lab exec 1 clusterctl vm add "$v" --xml "$LAB_DIR/$v.xml"
done
lab exec 1 clusterctl vm set m1 preferred-owners=node1
lab exec 1 clusterctl vm set m2 preferred-owners=node2
lab exec 1 clusterctl vm set m3 preferred-owners=node3
for v in "${VMS[@]}"; do lab exec 1 clusterctl vm start "$v"; done
for v in "${VMS[@]}"; do wait_for 120 "$v runs and answers" running_answers 1 "$v"; done
declare -A b0
for v in "${VMS[@]}"; do b0[$v]=$(boot_of "$v"); done
placements_mark

# The --pre hook asks the lab to power-cycle its node: it leaves a mark the
# watcher below acts on, then waits to be killed with the node.
MARKS=$LAB_DIR/cycle
mkdir -p "$MARKS"
# the watcher ends with this script (the lab's own exit trap stays as it is)
watcher() {
	local f n
	while kill -0 "$$" 2>/dev/null; do
		for f in "$MARKS"/*.want; do
			[[ -e $f ]] || continue
			n=${f##*/}
			n=${n%.want}
			rm -f "$f"
			lab kill "$(nodeid "$n")" >/dev/null 2>&1 || :
			lab start "$(nodeid "$n")" >/dev/null 2>&1 || :
			echo "$n" >>"$MARKS/cycled"
		done
		sleep 0.2
	done
}
watcher &

run_state() { lab exec "${2:-1}" clusterctl --json maintenance show "$1" | jq -r '.run.outcome // "none"'; }
run_is() { [[ $(run_state "$1" "${3:-1}") == "$2" ]]; }

# --- a schedule over every node, its pre command power-cycling the node
coordinator() { lab exec "$1" clusterctl --json status | jq -r '.coordinator_name // ""'; }
assert_eq "$(coordinator 2)" node1 "node1 coordinates: the run's first node is the coordinator"
rc=0
out=$(lab exec 1 clusterctl maintenance add roll --nodes all --at +3s --mode live \
	--pre "touch $MARKS/\$CD_MAINT_NODE.want; sleep 600" 2>&1) || rc=$?
assert_eq "$rc" 0 "maintenance add roll --nodes all --at +3s: exit 0 ($out)"
assert_match "$(lab exec 2 clusterctl maintenance list)" "roll" "maintenance list on another node shows it"
probes_start "${VMS[@]}"
# node1 goes first and is cycled: ask the others meanwhile
wait_for 900 "the run of roll ends" run_is roll done 3
probes_stop "${VMS[@]}"
show=$(lab exec 3 clusterctl --json maintenance show roll)
assert_eq "$(jq -r '[.run.nodes[] | "\(.node)=\(.outcome)"] | join(" ")' <<<"$show")" \
	"node1=done node2=done node3=done" "every node was serviced, one after another"
assert_eq "$(sort "$MARKS/cycled" | tr '\n' ' ')" "node1 node2 node3 " "each node was power-cycled once"
for i in 1 2 3; do assert_eq "$(node_state 3 "node$i")" online "node$i takes VMs again"; done
for v in "${VMS[@]}"; do
	wait_for 60 "$v answers" answers "${ip[$v]}"
	assert_eq "${pinter[$v]}" false "$v never answered from two instances at once (gap ${pgap[$v]} ms)"
	assert_boot_kept "$v" "$(boot_of "$v")" "${b0[$v]}" "$LAB_DIR/$v.log" "$v kept its boot through the run"
	assert_eq "$(vm_nodes_running "$v")" "$(where "$v" 3)" "$v runs once, where the state says"
done
assert_match "$(lab exec 3 clusterctl maintenance show roll)" "done" "maintenance show says the run is done"
assert_eq "$(jq -r '.next_ms' <<<"$show")" 0 "a one-off schedule has no next run"

# --- a pre command that fails: the run stops at its first node, left paused and drained
lab exec 1 clusterctl maintenance add broken --nodes node2,node3 --at +2s --pre "echo no upgrade today; exit 3"
wait_for 300 "the run of broken ends failed" run_is broken failed
show=$(lab exec 1 clusterctl --json maintenance show broken)
assert_eq "$(jq -r '[.run.nodes[] | "\(.node)=\(.outcome)"] | join(" ")' <<<"$show")" \
	"node2=failed node3=skipped" "it stopped at node2, node3 not reached"
assert_match "$(jq -r '.run.nodes[0].why' <<<"$show")" "exited 3.*no upgrade today" "node2's reason names the exit status and the output"
assert_eq "$(node_state 1 node2)" drained "node2 stays paused and drained"
assert_match "$(lab exec 1 clusterctl events)" "broken" "the events record the failed run"
lab exec 1 clusterctl node resume node2

# --- a run that outlasts its window ends there, whatever node it is at:
# the pre command waits for a mark the test leaves once the run ended
lab exec 1 clusterctl maintenance add short --nodes node2,node3 --at +1s --window 20s \
	--pre "for i in \$(seq 300); do [ -e $MARKS/go ] && exit 0; sleep 1; done; exit 1"
status_shows() { [[ $(lab exec 3 clusterctl status) =~ $1 ]]; }
wait_for 120 "status shows the run of short at node2's pre command" status_shows "Maintenance: short, run [0-9]+: node2 at pre, 0 of 2 nodes done"
wait_for 300 "the run of short ends at its window" run_is short window
[[ ! $(lab exec 3 clusterctl status) =~ Maintenance: ]] || fail "status still shows a run under way"
pass "status shows no run under way once it ended"
show=$(lab exec 1 clusterctl --json maintenance show short)
assert_match "$(jq -r '.run.why' <<<"$show")" "window ended with node2" "the run says its window ended at node2"
assert_eq "$(jq -r '[.run.nodes[] | .node] | join(" ")' <<<"$show")" "node2 node3" "the run's nodes"
[[ $(jq -r '.run.nodes[1].outcome' <<<"$show") != done ]] || fail "node3 was serviced after the window ended"
pass "node3 was not serviced after the window ended"
assert_match "$(lab exec 1 clusterctl events)" "short.*window" "the events record the run's end at its window"
touch "$MARKS/go"
lab exec 1 clusterctl node resume node2
for v in "${VMS[@]}"; do assert_eq "$(vm_nodes_running "$v")" "$(where "$v")" "$v runs once after the window's run"; done

# --- run now, cancel, remove
lab exec 1 clusterctl maintenance add weekly --nodes node3 --every "sun 02:00"
assert_match "$(lab exec 1 clusterctl maintenance show weekly)" "sun 02:00" "the schedule in words"
[[ $(lab exec 1 clusterctl --json maintenance show weekly | jq -r '.next_ms') -gt $(($(date +%s) * 1000)) ]] ||
	fail "weekly has no next run in the future"
pass "weekly's next run is in the future"
lab exec 1 clusterctl maintenance run weekly now
wait_for 60 "weekly runs" run_is weekly running
lab exec 1 clusterctl maintenance cancel weekly
wait_for 60 "weekly's run is cancelled" run_is weekly cancelled
lab exec 1 clusterctl maintenance remove weekly
rc=0
lab exec 1 clusterctl maintenance show weekly >/dev/null 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "weekly still there after remove"
pass "weekly removed"
# a cancelled run leaves its node as it was: resumed by an admin
lab exec 1 clusterctl node resume node3 >/dev/null 2>&1 || :

lab_test_end
