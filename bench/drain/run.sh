#!/bin/bash
# bench/drain/run.sh - node drains: clusterd's drain ("clusterctl node drain
# NODE --wait": every VM off the node, a few live moves at a time) against
# what an admin does by hand: a loop that moves the node's VMs one after
# another with the plain "virsh migrate --live --p2p DOM
# qemu+tcp://198.18.0.N/system" of bench/migrate/run.sh (libvirt's
# defaults, run on the node being emptied). A benchmark, not a test: it
# prints numbers and checks only that each VM moved as it says.
#
#   bench/drain/run.sh [--reps N] [-h]
#
# Scenario 1 (the only one): 8 idle test guests of tests/guest/ (256 MiB,
# 1 vCPU, TCG) on node2 of a 3-node lab, emptied onto node1 and node3.
# --reps N (default 3) repetitions of ours, then as many of the manual loop:
#   ours    8 cluster VMs c1..c8 (198.18.0.61-68; clusterctl vm add,
#           possible owners node1, node2 and node3, preferred owner node2,
#           vm start) and the cluster property drain-max-parallel 4 (how
#           many moves run at once is clusterd's choice up to that, from
#           the bandwidth its last moves showed, 100 MiB/s assumed before
#           the first: the "at once" column says what it chose). Each
#           repetition times "clusterctl node drain node2 --wait" (run on
#           node1; it asks how the drain stands every 500 ms; exit 0
#           expected: the node drained), then, untimed, "clusterctl node
#           resume node2 --failback now" brings the VMs back to node2
#           (within 600 s, else the run stops).
#   manual  then the cluster VMs stopped and removed, and 8 transient
#           domains v1..v8 (198.18.0.71-78) made with plain "virsh create"
#           on node2 that the cluster never knows. Each repetition times a
#           loop that runs virsh migrate for v1, v2, ... v8, one after
#           another, to node1, node3, node1, ... (alternating); each virsh
#           gets VIRSH_DEADLINE_S (default 60) seconds, then "virsh
#           domjobabort" on node2, and the loop goes on with the next VM.
#           Then, untimed, the same command brings each back to node2.
#
# Fairness: one 3-node lab (tests/lab/lab, token 1000 ms) for the whole run.
# The 16 guests come from the same domain.sh line but the name and address
# (256 MiB, 1 vCPU, TCG, idle); the cluster VMs and the transient domains
# never run at the same time, so both drains have the same 8 guests' load on
# the same machine. Before each repetition all 8 guests run on node2 alone
# (libvirt on every node asked) and answer. Every guest is polled by its own
# probe (udp-probe every 10 ms from the lab's client namespace) from before
# the drain begins until after it ended and the guest answers again.
#
# Per VM, printed:
#   gap       the longest gap between replies its probe saw during the
#             drain (udp-probe --json max_gap.ms, or the silence from the
#             last reply to the probe's end if longer); the probe must also
#             see one boot id, the one the guest had before (moved live, not
#             restarted), and "interleaved": false (else noted)
#   downtime  libvirt's downtime as the target measured it: ours
#             last_move.downtime_ms of "clusterctl --json vm show"; manual
#             "Total downtime" of "virsh domjobinfo --completed" on the target
#   job       the migration job itself: ours last_move.total_ms; manual
#             "Time elapsed" of the target's completed job
#   virsh     manual only: the wall clock of its virsh migrate
#   method    ours: the rung of the drain's ladder it moved by (live, quick,
#             cold: "node drain --status"); manual: live
# and per repetition the total: the wall clock of "clusterctl node drain
# --wait" (with the drain's own begun_ms..ended_ms and how many moves it ran
# at once), or of the whole manual loop (including each virsh's connection
# set-up and up to 50 ms per VM of the script's polling for its end).
# Then per system the median total over the repetitions that moved every VM,
# the median gap over the VMs that came through intact (moved, one boot id,
# the old one, answering again within 30 s), the worst gap over every VM of
# every repetition, the medians of downtime and job over the VMs that moved,
# the ratios ours/manual, and whether ours meets the target: a total at most
# 0.5x the manual loop's, and no VM's gap worse than the manual loop's worst
# (printed, never a failure). After each drain every node's libvirt is asked
# which nodes run each guest (noted unless exactly the one its system says).
#
# A guest that does not answer again is noted, its console's end kept, and
# started afresh on node2 before the next repetition (ours: clusterctl vm
# stop --force, vm start; manual: destroyed wherever it is, created again).
#
# Needs root, the lab's packages and a build (scripts/build.sh). Runs its own
# lab: CD_LAB_PREFIX (default cdbd), CD_LAB_DIR (default /tmp/cdbd), taken
# down first if it is up, and on exit; the default lab (cdlab) is never
# touched. Raw results stay in a directory printed at the end;
# "python3 bench/drain/summary.py DIR" prints their summary again.
set -euo pipefail
shopt -s nullglob

REPS=3
usage() { echo "usage: $0 [--reps N] [-h]" >&2; exit 2; }
while (($#)); do
	case $1 in
	--reps) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; REPS=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
done

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$top/bench/lib.sh"
bench_begin cdbd
VIRSH_DEADLINE_S=${VIRSH_DEADLINE_S:-60}
# a guard only: clusterd's drain-step-timeout (600 s by default) ends a
# move of the drain that hangs first
OURS_DEADLINE_S=1800
# how long the VMs may take to be back on node2 after a drain, and to boot
HOME_DEADLINE_S=600
NODE=2 # the node drained
TARGETS=(1 3) # the manual loop's targets, in turn
NVMS=8
MEM_MB=256
OURS=() MANUAL=()
for ((k = 1; k <= NVMS; k++)); do OURS+=("c$k"); MANUAL+=("v$k"); done

# ip_of NAME: cK at 198.18.0.(60+K), vK at 198.18.0.(70+K)
ip_of() {
	local base=70
	[[ $1 != c* ]] || base=60
	echo "198.18.0.$((base + ${1:1}))"
}
# xml_of NAME: the guest's domain XML in $D, written from domain.sh
xml_of() {
	bash "$top/tests/guest/domain.sh" --console "$D/$1-console.log" "$1" "$(ip_of "$1")" "$MEM_MB" 1 >"$D/$1.xml"
	echo "$D/$1.xml"
}
# only_on DOM NODE: libvirt runs DOM on node NODE and on no other node
only_on() { [[ $(nodes_running "$1") == "node$2" ]]; }

# Each VM of each drain is one row of results.tsv (record, bench/lib.sh):
# SCEN REP SYS VM SRC NODE GAP DOWNTIME JOB VIRSH OUTCOME METHOD BOOTS
# INTERLEAVED RUNNING SILENT_MS BOOT_BEFORE BOOT_AFTER (NODE: where its
# system says it runs now, as a number; OUTCOME: ours the VM's state in the
# drain's status, moved if it moved; manual plain_migrate's; "nan" where a
# column does not apply). Each drain is one row of totals.tsv: SCEN REP SYS
# TOTAL EXIT STATE PARALLEL OWN (ours: clusterctl's exit status, the drain's
# end state, its moves at once, its begun_ms..ended_ms; manual: the number
# of VMs not moved, moved-all or N-not-moved, 1, nan).

# ============================================================ ours
# ours_all_on NODE: the cluster runs every one of its VMs on NODE and none
# is on its way anywhere
ours_all_on() {
	"$LAB" exec 1 clusterctl --json vm list |
		jq -e --arg n "node$1" --argjson k "$NVMS" '[.vms[] | select(.state == "running" and .node_name == $n)] | length == $k' >/dev/null
}
# ours_home VM: VM answers on node2, libvirt runs it there alone; else it is
# restarted (stop --force, start: node2 is its preferred owner)
ours_home() {
	local vm=$1 ip
	ip=$(ip_of "$vm")
	wait_for 30 "libvirt runs $vm on node$NODE only" only_on "$vm" "$NODE" ||
		die "$vm: libvirt runs it on: $(nodes_running "$vm"), not node$NODE alone"
	wait_for 60 "$vm answers" answers "$ip" && return 0
	broken ours "$vm"
	ours_stop "$vm"
	"$LAB" exec 1 clusterctl vm start "$vm" >/dev/null
	wait_for "$HOME_DEADLINE_S" "every VM runs on node$NODE" ours_all_on "$NODE" || die "$vm does not start on node$NODE"
	wait_for 300 "$vm answers" answers "$ip" || die "$vm is not ready after a restart"
}

# ours_up: the cluster's 8 VMs, all on node2, answering
ours_up() {
	local v
	"$LAB" exec 1 clusterctl property set drain-max-parallel 4 >/dev/null
	for v in "${OURS[@]}"; do
		ours_add "$v" "$(xml_of "$v")" possible-owners=node1,node2,node3 "preferred-owners=node$NODE"
	done
	wait_for "$HOME_DEADLINE_S" "every VM runs on node$NODE" ours_all_on "$NODE" ||
		die "the cluster's VMs do not all run on node$NODE (see $D/node*/log/clusterd.log)"
	for v in "${OURS[@]}"; do
		wait_for 300 "$v answers" answers "$(ip_of "$v")" || die "$v not ready"
	done
}

# status_vm FILE VM FIELD: FIELD of VM's entry in a "node drain --status"
# answer, or "none"
status_vm() {
	jq -r --arg v "$2" --arg k "$3" '[(.vms // [])[] | select(.vm == $v) | .[$k]] | first // "none"' "$1" 2>/dev/null ||
		echo none
}

# drain_ours REP: the timed drain of node2 and its rows
drain_ours() {
	local r=$1 f v ip t0 t1 rc=0 st show dstate method node down job gap boots inter silent
	local -A b0=()
	f=$RES/s1-r$r-ours
	for v in "${OURS[@]}"; do
		ours_home "$v"
		b0[$v]=$(boot_of "$(ip_of "$v")")
	done
	for v in "${OURS[@]}"; do probe_start "$(ip_of "$v")" "$f-$v-probe.json" "$v"; done
	log "scenario 1 rep $r: ours: clusterctl node drain node$NODE --wait"
	t0=$(now_ms)
	timeout "$OURS_DEADLINE_S" "$LAB" exec 1 clusterctl --json node drain "node$NODE" --wait \
		>"$f-drain.json" 2>"$f-drain.err" || rc=$?
	t1=$(now_ms)
	for v in "${OURS[@]}"; do probe_stop "$(ip_of "$v")" "$v"; done
	"$LAB" exec 1 clusterctl --json node drain "node$NODE" --status >"$f-status.json" 2>/dev/null || :
	st=$(jq -r '.state // "none"' "$f-status.json" 2>/dev/null || echo none)
	record_in totals.tsv 1 "$r" ours "$((t1 - t0))" "$rc" "$st" \
		"$(jq -r '.parallel // "nan"' "$f-status.json" 2>/dev/null || echo nan)" \
		"$(jq -r 'if (.ended_ms // 0) > 0 and (.begun_ms // 0) > 0 then .ended_ms - .begun_ms else "nan" end' \
			"$f-status.json" 2>/dev/null || echo nan)"
	tail -n1 "$RES/totals.tsv" >&2
	for v in "${OURS[@]}"; do
		ip=$(ip_of "$v")
		show=$("$LAB" exec 1 clusterctl --json vm show "$v" 2>/dev/null) || show='{}'
		echo "$show" >"$f-$v-show.json"
		dstate=$(status_vm "$f-status.json" "$v" state)
		method=$(status_vm "$f-status.json" "$v" method)
		node=$(jq -r '.node_name // "" | ltrimstr("node")' <<<"$show")
		down=nan job=nan
		if [[ $dstate == moved ]]; then
			down=$(jq -r '.last_move.downtime_ms // "nan"' <<<"$show")
			job=$(jq -r '.last_move.total_ms // "nan"' <<<"$show")
		fi
		read -r gap boots inter silent < <(probe_fields "$f-$v-probe.json")
		record 1 "$r" ours "$v" "$NODE" "${node:-none}" "$gap" "$down" "$job" nan "$dstate" "$method" \
			"$boots" "$inter" "$(nodes_running "$v")" "$silent" "${b0[$v]}" "$(boot_of "$ip")"
		tail -n1 "$RES/results.tsv" >&2
	done
}

# ours_back REP: node2 takes VMs again and every VM comes back to it (not timed)
ours_back() {
	log "scenario 1 rep $1: ours: clusterctl node resume node$NODE --failback now"
	"$LAB" exec 1 clusterctl node resume "node$NODE" --failback now >>"$RES/s1-r$1-ours-resume.out" 2>&1 ||
		die "node resume node$NODE failed (see $RES/s1-r$1-ours-resume.out)"
	wait_for "$HOME_DEADLINE_S" "every VM back on node$NODE" ours_all_on "$NODE" ||
		die "the cluster's VMs are not all back on node$NODE (see $D/node*/log/clusterd.log)"
}

ours_down() {
	local v
	for v in "${OURS[@]}"; do ours_remove "$v"; done
}

# ============================================================ manual
# manual_home DOM: DOM answers on node2, libvirt runs it there alone; else
# it is destroyed wherever it is and created again on node2
manual_home() {
	local dom=$1 ip i
	ip=$(ip_of "$dom")
	wait_for 10 "libvirt runs $dom on node$NODE only" only_on "$dom" "$NODE" &&
		wait_for 60 "$dom answers" answers "$ip" && return 0
	broken manual "$dom"
	for i in 1 2 3; do "$LAB" exec "$i" virsh destroy "$dom" >/dev/null 2>&1 || :; done
	"$LAB" exec "$NODE" virsh create "$D/$dom.xml" >/dev/null
	wait_for 300 "$dom answers" answers "$ip" || die "$dom is not ready after a restart"
}

# manual_up: the 8 transient domains on node2, answering
manual_up() {
	local v
	for v in "${MANUAL[@]}"; do "$LAB" exec "$NODE" virsh create "$(xml_of "$v")" >/dev/null; done
	for v in "${MANUAL[@]}"; do
		wait_for 300 "$v answers" answers "$(ip_of "$v")" || die "$v not ready"
	done
}

# drain_manual REP: the timed loop and its rows
drain_manual() {
	local r=$1 f v ip k=0 t0 t1 tv failed=0 st=moved-all down job gap boots inter silent expect
	local -A b0=() dst=() outcome=() took=()
	f=$RES/s1-r$r-manual
	for v in "${MANUAL[@]}"; do
		manual_home "$v"
		b0[$v]=$(boot_of "$(ip_of "$v")")
		dst[$v]=${TARGETS[k % ${#TARGETS[@]}]}
		k=$((k + 1))
	done
	for v in "${MANUAL[@]}"; do probe_start "$(ip_of "$v")" "$f-$v-probe.json" "$v"; done
	log "scenario 1 rep $r: manual: virsh migrate --live --p2p, one VM after another"
	t0=$(now_ms)
	for v in "${MANUAL[@]}"; do
		tv=$(now_ms)
		plain_migrate "$NODE" "$v" "${dst[$v]}" "$f-$v-migrate.out" "$VIRSH_DEADLINE_S"
		took[$v]=$(($(now_ms) - tv))
		outcome[$v]=$PLAIN_OUTCOME
	done
	t1=$(now_ms)
	for v in "${MANUAL[@]}"; do probe_stop "$(ip_of "$v")" "$v"; done
	for v in "${MANUAL[@]}"; do [[ ${outcome[$v]} == moved ]] || failed=$((failed + 1)); done
	((failed == 0)) || st="$failed-not-moved"
	record_in totals.tsv 1 "$r" manual "$((t1 - t0))" "$failed" "$st" 1 nan
	tail -n1 "$RES/totals.tsv" >&2
	for v in "${MANUAL[@]}"; do
		ip=$(ip_of "$v")
		down=nan job=nan expect=$NODE
		if [[ ${outcome[$v]} == moved ]]; then
			expect=${dst[$v]}
			read -r down job < <(target_job "$v" "${dst[$v]}" "$f-$v-jobinfo.txt")
		fi
		read -r gap boots inter silent < <(probe_fields "$f-$v-probe.json")
		record 1 "$r" manual "$v" "$NODE" "$expect" "$gap" "$down" "$job" "${took[$v]}" "${outcome[$v]}" live \
			"$boots" "$inter" "$(nodes_running "$v")" "$silent" "${b0[$v]}" "$(boot_of "$ip")"
		tail -n1 "$RES/results.tsv" >&2
	done
}

# manual_back REP: every domain migrated back to node2 the same way (not
# timed); one that does not make it is made again by manual_home
manual_back() {
	local v where
	log "scenario 1 rep $1: manual: back to node$NODE"
	for v in "${MANUAL[@]}"; do
		where=$(nodes_running "$v")
		[[ $where =~ ^node[0-9]+$ && $where != "node$NODE" ]] || continue
		plain_migrate "${where#node}" "$v" "$NODE" "$RES/s1-r$1-manual-$v-back.out" "$VIRSH_DEADLINE_S"
		[[ $PLAIN_OUTCOME == moved ]] || log "$v: back to node$NODE: $PLAIN_OUTCOME"
	done
}

manual_down() {
	local v i
	for v in "${MANUAL[@]}"; do
		for i in 1 2 3; do "$LAB" exec "$i" virsh destroy "$v" >/dev/null 2>&1 || :; done
	done
}

# ================================================================ run
"$LAB" down >/dev/null 2>&1 || :
export CD_LAB_CLUSTERD_EXTRA="vm_stop_timeout_ms = 2000"
LAB_UP=1
CD_BUILDDIR=$top "$LAB" up --nodes 3 --lun-size 0 >"$RES/lab-up.log" 2>&1 || die "lab up failed (see $RES/lab-up.log)"
: >"$RES/results.tsv"
: >"$RES/totals.tsv"
echo "1	$NVMS idle guests, $MEM_MB MiB, 1 vCPU, drained off node$NODE" >"$RES/scenarios.tsv"

log "=== scenario 1: ours, $NVMS cluster VMs on node$NODE"
ours_up
for ((r = 1; r <= REPS; r++)); do
	drain_ours "$r"
	ours_back "$r"
done
ours_down
log "=== scenario 1: manual, $NVMS transient domains on node$NODE"
manual_up
for ((r = 1; r <= REPS; r++)); do
	drain_manual "$r"
	manual_back "$r"
done
manual_down

PYTHONDONTWRITEBYTECODE=1 python3 "$top/bench/drain/summary.py" "$RES" "$VIRSH_DEADLINE_S"
