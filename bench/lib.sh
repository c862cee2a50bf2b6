# shellcheck shell=bash
# bench/lib.sh - what the lab benchmarks (bench/migrate/run.sh,
# bench/quick/run.sh, bench/drain/run.sh) share: their own lab, taken down
# and its logs kept on exit; waits; the test guest's agent asked from the
# lab's client namespace; probes polling guests during a move; libvirt's view
# of where a domain runs; the plain virsh live migration a user would type;
# the cluster's view of a VM; the results' rows; a scenario's two guests and
# its repetitions, ours moved then the other system's. Source it
# from bash with top set (the top of the source tree), then call
# bench_begin. For scenarios the caller defines guest_ready IP READY NAME,
# move_ours S REP VM IP SRC DST, and for its other system SYS ready_SYS and
# move_SYS (see other_turn), and sets REPS. A benchmark, not a test: nothing
# here judges a time.

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

LAB_UP=0
cleanup() {
	local rc=$? p f
	trap - EXIT INT TERM
	# this script's background jobs still running (probes, a virsh migrate),
	# by PID: jobs -p lists only the ones not yet reaped
	for p in $(jobs -p); do kill -INT "$p" 2>/dev/null || :; done
	# the caller's own processes to stop first, by PID (bench_on_exit)
	if declare -F bench_on_exit >/dev/null; then bench_on_exit || :; fi
	if ((LAB_UP)); then
		# the guests' consoles (a guest that panicked says so there), QEMU's
		# and clusterd's logs
		mkdir -p "$RES/logs"
		cp "$D"/*-console.log "$RES/logs/" 2>/dev/null || :
		for p in 1 2 3; do
			cp "$D/node$p/log/clusterd.log" "$RES/logs/clusterd-node$p.log" 2>/dev/null || :
			for f in "$D/node$p"/libvirt/log/qemu/*.log; do
				# no match (a lab without libvirt) leaves the pattern
				[[ ! -e $f ]] || cp "$f" "$RES/logs/node$p-qemu-${f##*/}"
			done
		done
		"$LAB" down >/dev/null 2>&1 || "$LAB" down >&2 || :
	fi
	log "raw results kept in $RES"
	exit "$rc"
}

# bench_setup NAME: as root: sets LAB (tests/lab/lab), D (the lab's
# directory), PROBE (the guest's udp-probe) and RES (a new directory of raw
# results), and installs the exit trap (which first calls the caller's
# bench_on_exit, if it defines one). The lab is CD_LAB_PREFIX (default
# NAME) in CD_LAB_DIR (default /tmp/NAME), never the default lab (cdlab);
# set LAB_UP=1 before "lab up" so that the trap takes it down again.
bench_setup() {
	local name=$1
	: "${top:?set top before bench_setup}"
	[[ $EUID -eq 0 ]] || { echo "${0##*/}: must run as root" >&2; exit 1; }
	export CD_LAB_PREFIX=${CD_LAB_PREFIX:-$name}
	export CD_LAB_DIR=${CD_LAB_DIR:-/tmp/$name}
	[[ $CD_LAB_PREFIX != cdlab ]] || { echo "${0##*/}: refusing the default lab prefix cdlab" >&2; exit 1; }
	LAB=$top/tests/lab/lab
	D=$CD_LAB_DIR
	PROBE=${CD_GUEST_DIR:-/var/cache/clusterd-guest}/udp-probe
	RES=$(mktemp -d "${TMPDIR:-/tmp}/$name-results.XXXXXX")
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# bench_begin NAME [PROGRAM...]: bench_setup NAME, and a build (the
# PROGRAMs too, relative to top), the test guest built and jq
bench_begin() {
	local p
	bench_setup "$1"
	shift
	for p in clusterd/clusterd cli/clusterctl "$@"; do
		[[ -x $top/$p ]] || die "not built: run scripts/build.sh first"
	done
	bash "$top/tests/guest/build-guest.sh" >/dev/null
	command -v jq >/dev/null || die "jq missing"
}

wait_for() { # SECS DESC CMD...: CMD every 0.05 s until it succeeds or SECS pass
	local secs=$1 desc=$2 deadline
	shift 2
	deadline=$(($(now_ms) + secs * 1000))
	until "$@" >/dev/null 2>&1; do
		(($(now_ms) < deadline)) || { log "timed out after ${secs}s: $desc"; return 1; }
		sleep 0.05
	done
}

# --- the guests' agent, asked from the client namespace
# reply FIELD IP: one field (seq, dirtied_mb, boot) of one reply
reply() {
	local out
	out=$("$LAB" exec client "$PROBE" "$2" --once --timeout-ms 300 2>/dev/null) || return 1
	sed -n "s/.*\\b$1=\\([0-9a-f]*\\).*/\\1/p" <<<"$out" | grep .
}
answers() { reply seq "$1" >/dev/null; }
# boot_of IP: the guest's boot id, or "none" if it does not answer
boot_of() { reply boot "$1" || echo none; }
# polled IP: someone else (our probe) polls the agent: its reply counter
# moved on by more than our own two requests in between
polled() {
	local a b
	a=$(reply seq "$1") && b=$(reply seq "$1") && ((b - a >= 3))
}

# nodes_running DOM: "node1 node2..." whose libvirt runs DOM (or has it paused)
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

# plain_migrate SRC DOM DST OUT SECS: what a user types instead of ours to
# move DOM live from node SRC to node DST, run on SRC: "virsh migrate --live
# --p2p DOM qemu+tcp://198.18.0.DST/system" (libvirt's defaults; the target
# named by its libvirt's TCP listener in the lab), its output in OUT; if it
# has not ended after SECS seconds, "virsh domjobabort DOM" on SRC. Waits
# for it (polling every 0.05 s); sets PLAIN_OUTCOME to moved,
# did-not-converge (aborted) or failed(exit-N).
plain_migrate() {
	local src=$1 dom=$2 dst=$3 out=$4 secs=$5 pid rc=0
	"$LAB" exec "$src" virsh migrate --live --p2p "$dom" "qemu+tcp://198.18.0.$dst/system" >"$out" 2>&1 &
	pid=$!
	PLAIN_OUTCOME=moved
	if ! wait_for "$secs" "virsh migrate $dom" eval "! kill -0 $pid"; then
		PLAIN_OUTCOME=did-not-converge
		"$LAB" exec "$src" virsh domjobabort "$dom" >>"$out" 2>&1 || :
		wait_for 60 "virsh migrate $dom after domjobabort" eval "! kill -0 $pid" || kill -INT "$pid" 2>/dev/null || :
	fi
	wait "$pid" || rc=$?
	if [[ $PLAIN_OUTCOME == moved && $rc -ne 0 ]]; then
		PLAIN_OUTCOME="failed(exit-$rc)"
	fi
}
# target_jobinfo DOM NODE FILE: the target's completed incoming job into
# FILE, once it has its downtime (QEMU may say completed before it has it)
target_jobinfo() {
	"$LAB" exec "$2" virsh domjobinfo --completed --keep-completed "$1" >"$3" 2>/dev/null &&
		grep -q '^Total downtime:' "$3"
}
# target_job DOM NODE FILE: "DOWNTIME_MS ELAPSED_MS" of that job ("Total
# downtime", "Time elapsed"; FILE as target_jobinfo's, waited for 10 s at
# most), or "nan nan"
target_job() {
	if wait_for 10 "domjobinfo on node$2" target_jobinfo "$1" "$2" "$3"; then
		awk -F: '/^Total downtime:/ { d = $2 + 0 } /^Time elapsed:/ { e = $2 + 0 }
			END { print d, (e == "" ? "nan" : e) }' "$3"
	else
		echo nan nan
	fi
}

# --- probes polling guests during a move: one, or several at once, each
# under its own KEY (default "one")
declare -gA PROBE_PIDS=()
probe_start() { # IP FILE [KEY]
	"$LAB" exec client "$PROBE" "$1" --interval-ms 10 --timeout-ms 300 --json >"$2" 2>/dev/null &
	PROBE_PIDS[${3:-one}]=$!
	wait_for 20 "the probe hears $1" polled "$1" || die "no probe replies from $1"
}
probe_stop() { # IP [KEY]: once the guest answers and the probe hears it again
	local key=${2:-one} pid
	pid=${PROBE_PIDS[$key]:-}
	[[ -n $pid ]] || { log "no probe $key of $1 to stop"; return 0; }
	unset "PROBE_PIDS[$key]"
	wait_for 30 "$1 answers after its move" polled "$1" || log "$1 is not heard after its move"
	kill -INT "$pid" 2>/dev/null || :
	wait "$pid" 2>/dev/null || :
}
# probe_fields FILE: "GAP_MS BOOTS INTERLEAVED SILENT_MS": the longest gap,
# counting a silence until the probe's end (a guest that never answered
# again after its move), and that silence alone
probe_fields() {
	jq -r '([.end_ms - (.last_reply_ms // 0), 0] | max | floor) as $tail
		| "\([(.max_gap.ms // 0 | floor), $tail] | max) \(.boots | length) \(.interleaved) \($tail)"' \
		"$1" 2>/dev/null || echo "nan 0 unknown nan"
}

# record_in FILE FIELD...: one row of $RES/FILE (the columns are the
# caller's); record FIELD...: one row of $RES/results.tsv
record_in() {
	local f=$1
	shift
	printf '%s\t' "$@" | sed 's/\t$/\n/' >>"$RES/$f"
}
record() { record_in results.tsv "$@"; }

# --- the cluster's VM
# node the cluster runs VM on, as a number ("" if none)
ours_node() { "$LAB" exec 1 clusterctl --json vm show "$1" | jq -r '.node_name // "" | ltrimstr("node")'; }
ours_state_is() { [[ $("$LAB" exec 1 clusterctl --json vm show "$1" | jq -r .state) == "$2" ]]; }
# ours_add VM XML [KEY=VALUE...]: the cluster's VM, set as the KEY=VALUEs
# say (default: its possible owners node1 and node2), started (not waited
# for)
ours_add() {
	local vm=$1 xml=$2
	shift 2
	(($#)) || set -- possible-owners=node1,node2
	"$LAB" exec 1 clusterctl vm add "$vm" --xml "$xml" >/dev/null
	"$LAB" exec 1 clusterctl vm set "$vm" "$@" >/dev/null
	"$LAB" exec 1 clusterctl vm start "$vm" >/dev/null
}
# ours_stop VM: stopped at once (vm stop --force)
ours_stop() {
	"$LAB" exec 1 clusterctl vm stop "$1" --force >/dev/null
	wait_for 60 "$1 stopped" ours_state_is "$1" stopped || die "$1 does not stop"
}
# ours_remove VM: stopped and removed from the cluster
ours_remove() {
	ours_stop "$1"
	"$LAB" exec 1 clusterctl vm remove "$1" >/dev/null
}

# A guest that does not answer any more after a move is not repaired here:
# it is noted (the move's row, the console's last lines in the results) and
# started afresh, so that the next repetitions have a guest.
# broken SYS VM: keep the console's end
broken() {
	log "$1: $2 does not answer after its move; restarting it (console: $RES/$2-broken-$(date +%H%M%S).txt)"
	tail -n 40 "$D/$2-console.log" >"$RES/$2-broken-$(date +%H%M%S).txt" 2>/dev/null || :
}
# ready_ours VM IP ARG: the cluster's guest is ready ("guest_ready IP ARG
# VM", the caller's), or is restarted by the cluster (stop --force, start);
# prints its node
ready_ours() {
	local n
	if ! guest_ready "$2" "$3" "$1"; then
		broken ours "$1"
		ours_stop "$1"
		"$LAB" exec 1 clusterctl vm start "$1" >/dev/null
		wait_for 120 "$1 runs" ours_state_is "$1" running || die "$1 does not start"
		guest_ready "$2" "$3" "$1" || die "$1 is not ready after a restart"
	fi
	n=$(ours_node "$1")
	[[ -n $n ]] || die "$1 runs nowhere (see $D/node*/log/clusterd.log)"
	echo "$n"
}

# --- a scenario: two guests from the same XML, ours and the other system's
# Scenario S's guests are "cS" at 198.18.0.(30+S), a cluster VM, and "vS" at
# 198.18.0.(40+S), a transient domain that the cluster never knows.
# guest_ip NAME: cS's or vS's address
guest_ip() {
	local base=40
	[[ $1 != c* ]] || base=30
	echo "198.18.0.$((base + ${1:1}))"
}

# guests_up S MEMORY_MB READY DESCRIPTION DOMAIN_OPT...: scenario S begins:
# both guests' XML in $D from the same domain.sh line but the name and
# address (DOMAIN_OPT..., MEMORY_MB, 1 vCPU); cS added to the cluster and
# started, vS created with plain virsh on node1; both ready (the caller's
# guest_ready IP READY NAME)
guests_up() {
	local s=$1 mem=$2 ready=$3 desc=$4 g
	shift 4
	log "=== scenario $s: $desc"
	echo "$s	$desc" >>"$RES/scenarios.tsv"
	for g in "c$s" "v$s"; do
		bash "$top/tests/guest/domain.sh" "$@" --console "$D/$g-console.log" "$g" "$(guest_ip "$g")" "$mem" 1 >"$D/$g.xml"
	done
	ours_add "c$s" "$D/c$s.xml"
	"$LAB" exec 1 virsh create "$D/v$s.xml" >/dev/null
	wait_for 120 "c$s runs" ours_state_is "c$s" running || die "c$s does not start"
	for g in "c$s" "v$s"; do
		guest_ready "$(guest_ip "$g")" "$ready" "$g" || die "$g not ready"
	done
}

# ours_turn S REP READY VN: repetition REP's move of cS, vS paused on node
# VN meanwhile: cS resumed, ready (or restarted: ready_ours), moved to the
# other of node1 and node2 by the caller's "move_ours S REP VM IP SRC DST",
# its row shown, and paused; sets OURS_NODE to the node cS is on afterwards.
# (No command substitution around a turn: set -e and the trap's list of
# background jobs hold only in this shell.)
ours_turn() {
	local s=$1 r=$2 c=c$1 ip cn other
	ip=$(guest_ip "$c")
	suspend_on "$4" "v$s" || :
	cn=$(ours_node "$c")
	[[ -z $cn ]] || resume_on "$cn" "$c"
	cn=$(ready_ours "$c" "$ip" "$3")
	other=$((cn == 1 ? 2 : 1))
	log "scenario $s rep $r: ours $c node$cn -> node$other"
	move_ours "$s" "$r" "$c" "$ip" "$cn" "$other"
	tail -n1 "$RES/results.tsv" >&2
	OURS_NODE=$(ours_node "$c")
	[[ -n $OURS_NODE ]] || die "$c runs nowhere after its move (see $D/node*/log/clusterd.log)"
	suspend_on "$OURS_NODE" "$c"
}

# guests_down S CN: scenario S ends: cS (on node CN) resumed, stopped and
# removed, vS destroyed wherever it runs
guests_down() {
	local i
	resume_on "$2" "c$1"
	for i in 1 2 3; do "$LAB" exec "$i" virsh destroy "v$1" >/dev/null 2>&1 || :; done
	ours_remove "c$1"
}

# other_turn S REP READY VN SYS: repetition REP's move of vS by the other
# system SYS, the cluster's guest paused meanwhile (ours_turn leaves it so):
# vS resumed on node VN, ready (the caller's "ready_SYS DOM IP READY VN",
# which prints the node it runs on: VN, or where it made it again), moved
# to the other of node1 and node2 by the caller's "move_SYS S REP DOM IP
# SRC DST", its row shown; sets OTHER_NODE to the node vS is on afterwards
other_turn() {
	local s=$1 r=$2 v=v$1 sys=$5 ip other where
	ip=$(guest_ip "$v")
	resume_on "$4" "$v"
	OTHER_NODE=$("ready_$sys" "$v" "$ip" "$3" "$4")
	other=$((OTHER_NODE == 1 ? 2 : 1))
	log "scenario $s rep $r: $sys $v node$OTHER_NODE -> node$other"
	"move_$sys" "$s" "$r" "$v" "$ip" "$OTHER_NODE" "$other"
	tail -n1 "$RES/results.tsv" >&2
	where=$(nodes_running "$v")
	[[ ! $where =~ ^node[0-9]+$ ]] || OTHER_NODE=${where#node}
}

# scenario_run S MEMORY_MB READY DESCRIPTION SYS DOMAIN_OPT...: scenario S
# (guests_up with MEMORY_MB, READY, DESCRIPTION and DOMAIN_OPT...), REPS
# repetitions of ours_turn and other_turn SYS, guests_down
scenario_run() {
	local s=$1 ready=$3 sys=$5 args=("$1" "$2" "$3" "$4") r
	shift 5
	guests_up "${args[@]}" "$@"
	OTHER_NODE=1
	for ((r = 1; r <= REPS; r++)); do
		ours_turn "$s" "$r" "$ready" "$OTHER_NODE"
		other_turn "$s" "$r" "$ready" "$OTHER_NODE" "$sys"
	done
	guests_down "$s" "$OURS_NODE"
}
