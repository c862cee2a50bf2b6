#!/bin/bash
# bench/migrate/run.sh - live migration: clusterd's live move
# ("clusterctl vm move VM NODE --wait", its default migration settings from
# clusterd.conf(5)) against what a user would type instead, a plain
# "virsh migrate --live --p2p DOM qemu+tcp://198.18.0.N/system" with
# libvirt's defaults, run on the source node. A benchmark, not a test: it
# prints numbers and checks only that each move went as it says.
#
#   bench/migrate/run.sh [--reps N] [--only 1|2|3] [--rate MIBS] [-h]
#
# Scenarios (test guest of tests/guest/, TCG, 1 vCPU):
#   1  idle guest, 512 MiB
#   2  2 GiB guest rewriting 100 MiB/s of 1 GiB (domain.sh --dirty-mb 1024
#      --dirty-rate 100; --rate MIBS sets another rate)
#   3  2 GiB guest rewriting 1 GiB flat out (--dirty-rate max); plain
#      pre-copy may never converge: virsh gets VIRSH_DEADLINE_S (default 60)
#      seconds, then "virsh domjobabort" on the source, and the move is
#      reported as "did not converge" (the guest stays on its source).
#      clusterd's own deadline (migration_timeout_ms) applies to ours.
# Each scenario has --reps N (default 3) repetitions; each repetition moves
# ours, then virsh's, between node1 and node2 (back and forth).
#
# Fairness: one 3-node lab (tests/lab/lab, token 1000 ms) for the whole run.
# Two guests from the same domain.sh XML (same memory, vCPUs, command line
# but the name and address): "cN" is a cluster VM (clusterctl vm add/start,
# possible owners node1 and node2), "vN" a transient domain made with plain
# "virsh create" on node1 that the cluster never knows. Only the guest being
# moved runs: the other one is paused ("virsh suspend" on its node) for the
# duration, so each move has the machine to itself; after a resume, the
# guest must answer and (scenarios 2, 3) have rewritten another 100 MiB
# before its move starts.
#
# Per move, printed:
#   gap       the longest gap between replies seen by a client polling the
#             guest every 10 ms from the lab's client namespace during the
#             move (udp-probe --json max_gap.ms, or the silence from the
#             last reply to the probe's end if longer); the probe must also
#             see one boot id and "interleaved": false (else noted)
#   downtime  libvirt's downtime as the target measured it: ours
#             last_move.downtime_ms of "clusterctl --json vm show"; virsh
#             "Total downtime" of "virsh domjobinfo --completed" on the target
#   total     wall clock of the command (clusterctl ... --wait, which polls
#             every 200 ms; virsh migrate, which includes its connection set-up)
#   job       the migration job itself: ours last_move.total_ms; virsh "Time
#             elapsed" of the target's completed job
# then per scenario the median of each column for ours and virsh and the
# ratio ours/virsh: the gap over the moves whose guest came through intact
# (one boot id, answering again within 30 s), the others over every move that
# completed. After each move every node's libvirt is asked which nodes run
# the guest (noted unless exactly the expected one). A guest that does not
# answer again is noted, its console's end kept, and started afresh for the
# next repetition (ours: clusterctl vm stop --force, vm start; virsh:
# destroy, create on the same node).
#
# Seen with QEMU 7.2 under TCG: a guest that rewrites its memory at tens of
# MiB/s during a live migration often comes out of it corrupted (a kernel
# oops in the guest, then a reboot or a hang), after plain virsh migrate and
# after clusterd's move alike, while libvirt reports success. That is why
# every move's boot ids and answers are checked and shown.
#
# Needs root, the lab's packages and a build (scripts/build.sh). Runs its own
# lab: CD_LAB_PREFIX (default cdbm), CD_LAB_DIR (default /tmp/cdbm), taken
# down first if it is up; the default lab (cdlab) is never touched. Raw results stay in a directory
# printed at the end.
set -euo pipefail
shopt -s nullglob

REPS=3 ONLY='' RATE2=100
usage() { echo "usage: $0 [--reps N] [--only 1|2|3] [--rate MIBS] [-h]" >&2; exit 2; }
while (($#)); do
	case $1 in
	--reps) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; REPS=$2; shift 2 ;;
	--only) [[ ${2:-} =~ ^[123]$ ]] || usage; ONLY=$2; shift 2 ;;
	--rate) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; RATE2=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
done

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$top/bench/lib.sh"
bench_begin cdbm
VIRSH_DEADLINE_S=${VIRSH_DEADLINE_S:-60}
# a guard only: clusterd's migration_timeout_ms (600 s by default) ends a
# move that long first
OURS_DEADLINE_S=900

# --- the guests' agent, asked from the client namespace
# dirtied_since IP MIB: the dirtier rewrote MIB more since the first call
# of a wait (DIRTY0 holds the starting point)
dirtied_since() {
	local d
	d=$(reply dirtied_mb "$1") || return 1
	[[ -n ${DIRTY0:-} ]] || { DIRTY0=$d; return 1; }
	((d - DIRTY0 >= $2))
}
# guest_ready IP RATE [NAME]: it answers; if it dirties memory, the dirtier
# runs (another 100 MiB rewritten since now)
guest_ready() {
	wait_for 60 "guest $1 answers" answers "$1" || return 1
	[[ $2 != 0 ]] || return 0
	DIRTY0=
	wait_for 300 "guest $1 dirties its memory" dirtied_since "$1" 100
}

# ============================================================ the moves
# Each move is one row of results.tsv (record, bench/lib.sh): SCEN REP SYS
# SRC DST GAP DOWNTIME TOTAL JOB OUTCOME BOOTS INTERLEAVED RUNNING SILENT_MS

# move_ours SCEN REP VM IP SRC DST (nodes as numbers)
move_ours() {
	local s=$1 r=$2 vm=$3 ip=$4 src=$5 dst=$6 f t0 t1 rc=0 last outcome down job
	f=$RES/s$s-r$r-ours
	probe_start "$ip" "$f-probe.json"
	t0=$(now_ms)
	timeout "$OURS_DEADLINE_S" "$LAB" exec 1 clusterctl --json vm move "$vm" "node$dst" --wait >"$f-move.json" 2>"$f-move.err" || rc=$?
	t1=$(now_ms)
	probe_stop "$ip"
	last=$("$LAB" exec 1 clusterctl --json vm show "$vm" | jq -c '.last_move // {}')
	echo "$last" >"$f-last_move.json"
	outcome=$(jq -r '.outcome // "none"' <<<"$last")
	[[ $rc -eq 0 ]] || outcome="$outcome(exit-$rc)"
	down=$(jq -r '.downtime_ms // "nan"' <<<"$last")
	job=$(jq -r '.total_ms // "nan"' <<<"$last")
	[[ $outcome == moved ]] || { down=nan job=nan; }
	read -r gap boots inter silent < <(probe_fields "$f-probe.json")
	record "$s" "$r" ours "$src" "$dst" "$gap" "$down" "$((t1 - t0))" "$job" "$outcome" "$boots" "$inter" "$(nodes_running "$vm")" "$silent"
}

# move_virsh SCEN REP DOM IP SRC DST: plain_migrate (bench/lib.sh), the
# target's completed job (target_job) for its downtime and time
move_virsh() {
	local s=$1 r=$2 dom=$3 ip=$4 src=$5 dst=$6 f t0 t1 outcome down=nan job=nan total
	f=$RES/s$s-r$r-virsh
	probe_start "$ip" "$f-probe.json"
	t0=$(now_ms)
	plain_migrate "$src" "$dom" "$dst" "$f-move.out" "$VIRSH_DEADLINE_S"
	t1=$(now_ms)
	total=$((t1 - t0))
	outcome=$PLAIN_OUTCOME
	probe_stop "$ip"
	if [[ $outcome == moved ]]; then
		read -r down job < <(target_job "$dom" "$dst" "$f-jobinfo.txt")
	else
		total=nan
	fi
	read -r gap boots inter silent < <(probe_fields "$f-probe.json")
	record "$s" "$r" virsh "$src" "$dst" "$gap" "$down" "$total" "$job" "$outcome" "$boots" "$inter" "$(nodes_running "$dom")" "$silent"
}

# ready_virsh DOM IP DIRTY_MB NODE: the plain guest answers, or is created
# again on NODE; prints NODE
ready_virsh() {
	if ! guest_ready "$2" "$3"; then
		broken virsh "$1"
		"$LAB" exec "$4" virsh destroy "$1" >/dev/null 2>&1 || :
		"$LAB" exec "$4" virsh create "$D/$1.xml" >/dev/null
		guest_ready "$2" "$3" || die "$1 is not ready after a restart"
	fi
	echo "$4"
}

# scenario S MEMORY_MB DIRTY_MB RATE DESCRIPTION
scenario() {
	local dirty=()
	(($3 == 0)) || dirty=(--dirty-mb "$3" --dirty-rate "$4")
	scenario_run "$1" "$2" "$3" "$5" virsh "${dirty[@]}"
}

# ================================================================ run
"$LAB" down >/dev/null 2>&1 || :
export CD_LAB_CLUSTERD_EXTRA="vm_stop_timeout_ms = 2000"
LAB_UP=1
CD_BUILDDIR=$top "$LAB" up --nodes 3 --lun-size 0 >"$RES/lab-up.log" 2>&1 || die "lab up failed (see $RES/lab-up.log)"
: >"$RES/results.tsv"
: >"$RES/scenarios.tsv"
[[ -n $ONLY && $ONLY != 1 ]] || scenario 1 512 0 0 "idle guest, 512 MiB"
[[ -n $ONLY && $ONLY != 2 ]] || scenario 2 2048 1024 "$RATE2" "2 GiB guest rewriting 1 GiB at $RATE2 MiB/s"
[[ -n $ONLY && $ONLY != 3 ]] || scenario 3 2048 1024 max "2 GiB guest rewriting 1 GiB flat out"

PYTHONPATH=$top/bench PYTHONDONTWRITEBYTECODE=1 python3 - "$RES/results.tsv" "$RES/scenarios.tsv" "$VIRSH_DEADLINE_S" <<'EOF'
import sys

from results import cell, guest_intact, guest_notes, load, median_table

rows, scen = load(sys.argv[1], sys.argv[2], 14)
deadline = sys.argv[3]

def moved(r):
    return r[9] == "moved"

def intact(r):  # moved, and the guest kept running: one boot, answering after it
    return moved(r) and guest_intact(r[10], r[11], r[13])

print()
print("Live migration, clusterd (clusterctl vm move --wait) against plain virsh migrate --live --p2p;")
print("3-node lab, TCG guests, client probe every 10 ms. Times in ms.")
print("gap: longest client-seen gap; downtime: libvirt's, measured by the target; total: the")
print("command's wall clock; job: the migration job (ours: last_move.total_ms, virsh: target's")
print("Time elapsed).")
print()
hdr = "%-4s %-3s %-6s %-13s %7s %9s %7s %7s  %s"
print(hdr % ("scen", "rep", "system", "move", "gap", "downtime", "total", "job", "notes"))
for r in rows:
    s, rep, sysn, src, dst, gap, down, total, job, outcome, boots, inter, running, silent = r
    notes = []
    if outcome == "did-not-converge":
        notes.append("DID NOT CONVERGE in %s s (aborted)" % deadline)
    elif outcome != "moved":
        notes.append("outcome " + outcome)
    notes += guest_notes(boots, inter, silent, running, "node" + (dst if outcome == "moved" else src))
    print(hdr % (s, rep, sysn, "node%s->node%s" % (src, dst), cell(gap), cell(down), cell(total), cell(job),
                 "; ".join(notes) or "ok"))

# gap: over the moves whose guest came through intact; the others over
# every move that completed
cols = [("gap", 5, intact), ("downtime", 6, moved), ("total", 7, moved), ("job", 8, moved)]
for s in sorted(scen, key=int):
    print()
    print("Scenario %s: %s" % (s, scen[s]))
    by = {k: [r for r in rows if r[0] == s and r[2] == k] for k in ("ours", "virsh")}
    median_table(by, cols)
    for k in ("ours", "virsh"):
        rs = by[k]
        print("%-6s moves: %d, completed %d, guest intact %d, did not converge %d" % (
            k, len(rs), sum(map(moved, rs)), sum(map(intact, rs)),
            sum(1 for r in rs if r[9] == "did-not-converge")))
print()
print("(n): the moves a median is over. gap: only moves whose guest came through intact (one")
print("boot id, never two answering, answering again afterwards); downtime, total, job: every")
print("move that completed. Did not converge: virsh migrate aborted (virsh domjobabort) after")
print("%s s; the guest stayed on its source." % deadline)
EOF
