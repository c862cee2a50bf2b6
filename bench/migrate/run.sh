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
[[ $EUID -eq 0 ]] || { echo "run.sh: must run as root" >&2; exit 1; }

top=$(cd "$(dirname "$0")/../.." && pwd)
export CD_LAB_PREFIX=${CD_LAB_PREFIX:-cdbm}
export CD_LAB_DIR=${CD_LAB_DIR:-/tmp/cdbm}
[[ $CD_LAB_PREFIX != cdlab ]] || { echo "run.sh: refusing the default lab prefix cdlab" >&2; exit 1; }
LAB=$top/tests/lab/lab
D=$CD_LAB_DIR
G=${CD_GUEST_DIR:-/var/cache/clusterd-guest}
PROBE=$G/udp-probe
VIRSH_DEADLINE_S=${VIRSH_DEADLINE_S:-60}
# a guard only: clusterd's migration_timeout_ms (600 s by default) ends a
# move that long first
OURS_DEADLINE_S=900
RES=$(mktemp -d "${TMPDIR:-/tmp}/cdbm-results.XXXXXX")

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

LAB_UP=0
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	# this script's background jobs still running (probes, a virsh migrate),
	# by PID: jobs -p lists only the ones not yet reaped
	for p in $(jobs -p); do kill -INT "$p" 2>/dev/null || :; done
	if ((LAB_UP)); then
		# the guests' consoles (a guest that panicked says so there), QEMU's
		# and clusterd's logs
		mkdir -p "$RES/logs"
		cp "$D"/*-console.log "$RES/logs/" 2>/dev/null || :
		for p in 1 2 3; do
			cp "$D/node$p/log/clusterd.log" "$RES/logs/clusterd-node$p.log" 2>/dev/null || :
			for f in "$D/node$p"/libvirt/log/qemu/*.log; do cp "$f" "$RES/logs/node$p-qemu-${f##*/}"; done
		done
		"$LAB" down >/dev/null 2>&1 || "$LAB" down >&2 || :
	fi
	log "raw results kept in $RES"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() { # SECS DESC CMD...: CMD every 0.05 s until it succeeds or SECS pass
	local secs=$1 desc=$2 deadline
	shift 2
	deadline=$(($(now_ms) + secs * 1000))
	until "$@" >/dev/null 2>&1; do
		(($(now_ms) < deadline)) || { log "timed out after ${secs}s: $desc"; return 1; }
		sleep 0.05
	done
}

[[ -x $top/clusterd/clusterd && -x $top/cli/clusterctl ]] || die "not built: run scripts/build.sh first"
bash "$top/tests/guest/build-guest.sh" >/dev/null
command -v jq >/dev/null || die "jq missing"

# --- the guests' agent, asked from the client namespace
# reply FIELD IP: one field (seq, dirtied_mb, boot) of one reply
reply() {
	local out
	out=$("$LAB" exec client "$PROBE" "$2" --once --timeout-ms 300 2>/dev/null) || return 1
	sed -n "s/.*\\b$1=\\([0-9a-f]*\\).*/\\1/p" <<<"$out" | grep .
}
answers() { reply seq "$1" >/dev/null; }
# polled IP: someone else (our probe) polls the agent: its reply counter
# moved on by more than our own two requests in between
polled() {
	local a b
	a=$(reply seq "$1") && b=$(reply seq "$1") && ((b - a >= 3))
}
# dirtied_since IP MIB: the dirtier rewrote MIB more since the first call
# of a wait (DIRTY0 holds the starting point)
dirtied_since() {
	local d
	d=$(reply dirtied_mb "$1") || return 1
	[[ -n ${DIRTY0:-} ]] || { DIRTY0=$d; return 1; }
	((d - DIRTY0 >= $2))
}
# guest_ready IP RATE: it answers; if it dirties memory, the dirtier runs
# (another 100 MiB rewritten since now)
guest_ready() {
	wait_for 60 "guest $1 answers" answers "$1" || return 1
	[[ $2 != 0 ]] || return 0
	DIRTY0=
	wait_for 300 "guest $1 dirties its memory" dirtied_since "$1" 100
}

# nodes_running DOM: "node1 node2..." whose libvirt runs DOM
nodes_running() {
	local i out=
	for i in 1 2 3; do
		if "$LAB" exec "$i" virsh -q list --name 2>/dev/null | grep -qx -- "$1"; then
			out+=" node$i"
		fi
	done
	echo "${out# }"
}
suspend_on() { "$LAB" exec "$1" virsh suspend "$2" >/dev/null; }
resume_on() {
	local st
	st=$("$LAB" exec "$1" virsh domstate "$2" 2>/dev/null) || return 0
	[[ $st != paused ]] || "$LAB" exec "$1" virsh resume "$2" >/dev/null
}

# --- the probe of one guest during a move
probe_start() { # IP FILE
	"$LAB" exec client "$PROBE" "$1" --interval-ms 10 --timeout-ms 300 --json >"$2" 2>/dev/null &
	PROBE_PID=$!
	wait_for 20 "the probe hears $1" polled "$1" || die "no probe replies from $1"
}
probe_stop() { # IP: once the guest answers and the probe hears it again
	wait_for 30 "$1 answers after its move" polled "$1" || log "$1 is not heard after its move"
	kill -INT "$PROBE_PID" 2>/dev/null || :
	wait "$PROBE_PID" 2>/dev/null || :
}
# probe_fields FILE: "GAP_MS BOOTS INTERLEAVED SILENT_MS": the longest gap,
# counting a silence until the probe's end (a guest that never answered
# again after its move), and that silence alone
probe_fields() {
	jq -r '([.end_ms - (.last_reply_ms // 0), 0] | max | floor) as $tail
		| "\([(.max_gap.ms // 0 | floor), $tail] | max) \(.boots | length) \(.interleaved) \($tail)"' \
		"$1" 2>/dev/null || echo "nan 0 unknown nan"
}

# record SCEN REP SYS SRC DST GAP DOWNTIME TOTAL JOB OUTCOME BOOTS INTERLEAVED RUNNING SILENT_MS
record() { printf '%s\t' "$@" | sed 's/\t$/\n/' >>"$RES/results.tsv"; }

# ============================================================ the moves
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

# target_jobinfo DOM NODE FILE: the target's completed incoming job into
# FILE, once it has its downtime (QEMU may say completed before it has it)
target_jobinfo() {
	"$LAB" exec "$2" virsh domjobinfo --completed --keep-completed "$1" >"$3" 2>/dev/null &&
		grep -q '^Total downtime:' "$3"
}

# move_virsh SCEN REP DOM IP SRC DST
move_virsh() {
	local s=$1 r=$2 dom=$3 ip=$4 src=$5 dst=$6 f t0 t1 rc=0 pid outcome down=nan job=nan total
	f=$RES/s$s-r$r-virsh
	probe_start "$ip" "$f-probe.json"
	t0=$(now_ms)
	"$LAB" exec "$src" virsh migrate --live --p2p "$dom" "qemu+tcp://198.18.0.$dst/system" >"$f-move.out" 2>&1 &
	pid=$!
	outcome=moved
	if ! wait_for "$VIRSH_DEADLINE_S" "virsh migrate $dom" eval "! kill -0 $pid"; then
		outcome=did-not-converge
		"$LAB" exec "$src" virsh domjobabort "$dom" >>"$f-move.out" 2>&1 || :
		wait_for 60 "virsh migrate $dom after domjobabort" eval "! kill -0 $pid" || kill -INT "$pid" 2>/dev/null || :
	fi
	wait "$pid" || rc=$?
	t1=$(now_ms)
	total=$((t1 - t0))
	if [[ $outcome == moved && $rc -ne 0 ]]; then
		outcome="failed(exit-$rc)"
	fi
	probe_stop "$ip"
	if [[ $outcome == moved ]]; then
		if wait_for 10 "domjobinfo on node$dst" target_jobinfo "$dom" "$dst" "$f-jobinfo.txt"; then
			down=$(awk -F: '/^Total downtime:/ { print $2 + 0 }' "$f-jobinfo.txt")
			job=$(awk -F: '/^Time elapsed:/ { print $2 + 0 }' "$f-jobinfo.txt")
		fi
	else
		total=nan
	fi
	read -r gap boots inter silent < <(probe_fields "$f-probe.json")
	record "$s" "$r" virsh "$src" "$dst" "$gap" "$down" "$total" "$job" "$outcome" "$boots" "$inter" "$(nodes_running "$dom")" "$silent"
}

# node the cluster runs VM on, as a number ("" if none)
ours_node() { "$LAB" exec 1 clusterctl --json vm show "$1" | jq -r '.node_name // "" | ltrimstr("node")'; }
ours_state_is() { [[ $("$LAB" exec 1 clusterctl --json vm show "$1" | jq -r .state) == "$2" ]]; }

# A guest that does not answer (or dirty) any more after a move is not
# repaired here: it is noted (the move's row, the console's last lines in
# the results) and started afresh, so that the next repetitions have a guest.
# broken SYS VM: keep the console's end
broken() {
	log "$1: $2 does not answer after its move; restarting it (console: $RES/$2-broken-$(date +%H%M%S).txt)"
	tail -n 40 "$D/$2-console.log" >"$RES/$2-broken-$(date +%H%M%S).txt" 2>/dev/null || :
}
# ready_ours VM IP DIRTY_MB: the cluster's guest answers, or is restarted by
# the cluster (stop --force, start); prints its node
ready_ours() {
	local n
	if ! guest_ready "$2" "$3"; then
		broken ours "$1"
		"$LAB" exec 1 clusterctl vm stop "$1" --force >/dev/null
		wait_for 60 "$1 stopped" ours_state_is "$1" stopped || die "$1 does not stop"
		"$LAB" exec 1 clusterctl vm start "$1" >/dev/null
		wait_for 120 "$1 runs" ours_state_is "$1" running || die "$1 does not start"
		guest_ready "$2" "$3" || die "$1 is not ready after a restart"
	fi
	n=$(ours_node "$1")
	[[ -n $n ]] || die "$1 runs nowhere (see $D/node*/log/clusterd.log)"
	echo "$n"
}
# ready_virsh DOM IP DIRTY_MB NODE: the plain guest answers, or is created
# again on NODE
ready_virsh() {
	guest_ready "$2" "$3" && return 0
	broken virsh "$1"
	"$LAB" exec "$4" virsh destroy "$1" >/dev/null 2>&1 || :
	"$LAB" exec "$4" virsh create "$D/$1.xml" >/dev/null
	guest_ready "$2" "$3" || die "$1 is not ready after a restart"
}

# scenario S MEMORY_MB DIRTY_MB RATE DESCRIPTION
scenario() {
	local s=$1 mem=$2 dmb=$3 rate=$4 desc=$5 c=c$1 v=v$1 cip=198.18.0.$((30 + $1)) vip=198.18.0.$((40 + $1))
	local dirty=() r cn vn other
	((dmb == 0)) || dirty=(--dirty-mb "$dmb" --dirty-rate "$rate")
	log "=== scenario $s: $desc"
	echo "$s	$desc" >>"$RES/scenarios.tsv"
	bash "$top/tests/guest/domain.sh" "${dirty[@]}" --console "$D/$c-console.log" "$c" "$cip" "$mem" 1 >"$D/$c.xml"
	bash "$top/tests/guest/domain.sh" "${dirty[@]}" --console "$D/$v-console.log" "$v" "$vip" "$mem" 1 >"$D/$v.xml"
	"$LAB" exec 1 clusterctl vm add "$c" --xml "$D/$c.xml" >/dev/null
	"$LAB" exec 1 clusterctl vm set "$c" possible-owners=node1,node2 >/dev/null
	"$LAB" exec 1 clusterctl vm start "$c" >/dev/null
	"$LAB" exec 1 virsh create "$D/$v.xml" >/dev/null
	wait_for 120 "$c runs" ours_state_is "$c" running || die "$c does not start"
	cn=$(ours_node "$c") vn=1
	guest_ready "$cip" "$dmb" || die "$c not ready"
	guest_ready "$vip" "$dmb" || die "$v not ready"
	for ((r = 1; r <= REPS; r++)); do
		# ours: the virsh guest paused meanwhile
		suspend_on "$vn" "$v"
		resume_on "$cn" "$c"
		cn=$(ready_ours "$c" "$cip" "$dmb")
		other=$((cn == 1 ? 2 : 1))
		log "scenario $s rep $r: ours $c node$cn -> node$other"
		move_ours "$s" "$r" "$c" "$cip" "$cn" "$other"
		cn=$(ours_node "$c")
		[[ -n $cn ]] || die "$c runs nowhere after its move (see $D/node*/log/clusterd.log)"
		tail -n1 "$RES/results.tsv" >&2
		# virsh: the cluster's guest paused meanwhile
		suspend_on "$cn" "$c"
		resume_on "$vn" "$v"
		ready_virsh "$v" "$vip" "$dmb" "$vn"
		other=$((vn == 1 ? 2 : 1))
		log "scenario $s rep $r: virsh $v node$vn -> node$other"
		move_virsh "$s" "$r" "$v" "$vip" "$vn" "$other"
		if [[ $(tail -n1 "$RES/results.tsv" | cut -f10) == moved ]]; then vn=$other; fi
		tail -n1 "$RES/results.tsv" >&2
	done
	resume_on "$cn" "$c"
	"$LAB" exec "$vn" virsh destroy "$v" >/dev/null 2>&1 || :
	"$LAB" exec 1 clusterctl vm stop "$c" --force >/dev/null
	wait_for 60 "$c stopped" ours_state_is "$c" stopped || die "$c does not stop"
	"$LAB" exec 1 clusterctl vm remove "$c" >/dev/null
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

python3 - "$RES/results.tsv" "$RES/scenarios.tsv" "$VIRSH_DEADLINE_S" <<'EOF'
import statistics as st
import sys

rows = [(l.rstrip("\n").split("\t") + [""] * 14)[:14] for l in open(sys.argv[1]) if l.strip()]
scen = dict(l.rstrip("\n").split("\t", 1) for l in open(sys.argv[2]) if l.strip())
deadline = sys.argv[3]
SILENT = 1000  # ms without an answer until the probe's end: the guest was lost

def num(x):
    try:
        v = float(x)
        return v if v == v else None
    except ValueError:
        return None

def cell(x):
    v = num(x)
    return "-" if v is None else "%.0f" % v

def moved(r):
    return r[9] == "moved"

def intact(r):  # moved, and the guest kept running: one boot, answering after it
    return moved(r) and r[10] == "1" and r[11] == "false" and (num(r[13]) or 0) < SILENT

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
    if boots != "1":
        notes.append("%s boots: the guest REBOOTED" % boots)
    if inter != "false":
        notes.append("interleaved=" + inter)
    if (num(silent) or 0) >= SILENT:
        notes.append("NO ANSWER after the move (%s ms until the probe ended)" % silent)
    expect = "node" + (dst if outcome == "moved" else src)
    if running != expect:
        notes.append("runs on: " + (running or "none"))
    print(hdr % (s, rep, sysn, "node%s->node%s" % (src, dst), cell(gap), cell(down), cell(total), cell(job),
                 "; ".join(notes) or "ok"))

# gap: over the moves whose guest came through intact; the others over
# every move that completed
cols = [("gap", 5, intact), ("downtime", 6, moved), ("total", 7, moved), ("job", 8, moved)]
for s in sorted(scen, key=int):
    print()
    print("Scenario %s: %s" % (s, scen[s]))
    print("%-10s %18s %18s %12s" % ("median", "ours", "virsh", "ours/virsh"))
    by = {k: [r for r in rows if r[0] == s and r[2] == k] for k in ("ours", "virsh")}
    for name, i, keep in cols:
        vals, txt = {}, {}
        for k, rs in by.items():
            ok = [num(r[i]) for r in rs if keep(r) and num(r[i]) is not None]
            vals[k] = st.median(ok) if ok else None
            txt[k] = ("%.0f" % vals[k] if ok else "-") + " (%d)" % len(ok)
        ratio = "-"
        if vals["ours"] is not None and vals["virsh"]:
            ratio = "%.2f" % (vals["ours"] / vals["virsh"])
        print("%-10s %18s %18s %12s" % (name, txt["ours"], txt["virsh"], ratio))
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
