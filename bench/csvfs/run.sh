#!/bin/bash
# bench/csvfs/run.sh - csvfs against Debian's sanlock, side by side, on the
# same shared LUN of a 3-node lab (tests/lab/lab up --nodes 3 --no-libvirt).
# A benchmark, not a test: make check never runs it. Run as root:
#
#   bench/csvfs/run.sh [--rounds N] [--cli-rounds N] [--join-rounds N]
#                      [--mb N] [--reps N] [--long]
#
#   --rounds N       lease acquire/release rounds timed in-process (50)
#   --cli-rounds N   rounds through the command-line tools (20)
#   --join-rounds N  host joins / add_lockspace per setting (5; 2 at the
#                    slow defaults: csvfs E=8000 and sanlock io_timeout 10)
#   --mb N           MiB each node writes in the throughput part (1024)
#   --reps N         throughput repetitions; the median is reported (3)
#   --long           also measure sanlock's takeover at its default
#                    io_timeout of 10 s (about 140 s more); without it that
#                    row shows sanlock's own formula, marked "computed"
#
# What it measures (each system gets the LUN wiped and set up afresh):
#  1. lease acquire and release latency (min/median/p95) on a free lease,
#     in-process (bench_csvfs: libcsvfs; bench_sanlock: libsanlock, which
#     asks the node's sanlock daemon) and through the tools (csvfs lease
#     acquire/release; sanlock client acquire/release -p for a registered
#     helper), with the other two nodes joined and renewing;
#  2. host join: csvfs_host_join / sanlock_add_lockspace_timeout on a free
#     slot / host id (and the tools: csvfs host join until it says joined;
#     sanlock client add_lockspace);
#  3. dead-holder takeover: node 1 holds the lease, its renewer is SIGKILLed
#     (csvfs: the `csvfs host join` process; sanlock: the sanlock daemon,
#     then the process the lease was acquired for), node 2 calls acquire in
#     a loop from just after the kill; the time from kill to success;
#  4. throughput: O_DIRECT writes (dd bs=1M) by node 1 alone, then by all
#     three nodes at once, each to its own extent (csvfs: its file, as a
#     loop device over the file's extent, as VMs would use it; sanlock:
#     the same extents of the LUN directly), with every node's renewer
#     running.
# The report (also written to bench/out/csvfs.txt) ends with a table and
# the ratios ours/theirs.
#
# The lab: waits (up to 10 min) while another lab's cdlab-* namespaces
# exist, brings its own up (CD_LAB_DIR, default /var/tmp/cdlab-bench-csvfs)
# and tears it down on exit. sanlock runs one daemon per node, inside the
# node (its /run is private), with -w 0 (no watchdog), -l 0 and
# SANLOCK_PRIVILEGED=0 (no mlockall or rlimit changes, which this sandbox
# refuses), and a private /var/log. Only processes this script started are
# killed, by PID.
set -euo pipefail
shopt -s inherit_errexit

ROUNDS=50
CLI_ROUNDS=20
JOIN_ROUNDS=5
SLOW_JOIN_ROUNDS=2
MB=1024
REPS=3
LONG=0
while (($#)); do
	case $1 in
	--rounds) ROUNDS=$2; shift 2 ;;
	--cli-rounds) CLI_ROUNDS=$2; shift 2 ;;
	--join-rounds) JOIN_ROUNDS=$2; shift 2 ;;
	--mb) MB=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--long) LONG=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
for v in ROUNDS CLI_ROUNDS JOIN_ROUNDS MB REPS; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: $v must be a positive number" >&2; exit 2; }
done
((SLOW_JOIN_ROUNDS <= JOIN_ROUNDS)) || SLOW_JOIN_ROUNDS=$JOIN_ROUNDS

[[ $EUID -eq 0 ]] || { echo "run.sh: must run as root" >&2; exit 1; }

cd "$(dirname "$0")/../.."
TOP=$PWD
LAB=$TOP/tests/lab/lab
CSVFS=$TOP/csvfs/csvfs
BC=$TOP/bench/csvfs/bench_csvfs
BS=$TOP/bench/csvfs/bench_sanlock
export CD_LAB_DIR=${CD_LAB_DIR:-/var/tmp/cdlab-bench-csvfs}
OUT=$TOP/bench/out/csvfs.txt

E_FAST=3200 # csvfs expiry matching corosync token 1000 (timing.h)
E_DEF=8000  # csvfs default expiry
IO_FAST=1   # sanlock io_timeout for the short runs (s)
IO_DEF=10   # sanlock's default io_timeout (s)
WDFIRE=60   # sanlock 3.8.5's fixed watchdog_fire_timeout (s)
LUN_SIZE_MB=4096

# ------------------------------------------------------------------ helpers

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
now_us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
# ms_between US0 US1: milliseconds with three decimals
ms_between() { local d=$(($2 - $1)); printf '%d.%03d' $((d / 1000)) $((d % 1000)); }

# poll SECONDS DESCRIPTION CMD...: run CMD every 50 ms until it succeeds
poll() {
	local secs=$1 desc=$2 deadline
	shift 2
	deadline=$(($(now_us) + secs * 1000000))
	until "$@"; do
		if (($(now_us) >= deadline)); then
			log "timed out after ${secs}s waiting for: $desc"
			return 1
		fi
		sleep 0.05
	done
}

proc_start() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	local -a f
	read -r -a f <<<"$stat"
	echo "${f[19]}"
}

# alive PID START: running (not a zombie) with that start time
alive() {
	local stat state
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	state=${stat%% *}
	[[ $state != Z && $state != X ]] || return 1
	[[ $(proc_start "$1") == "$2" ]]
}

# Every process this script started: "PID START", killed by PID on exit.
MY_PIDS=()
track() {
	local s
	s=$(proc_start "$1") || return 0
	MY_PIDS+=("$1 $s")
}

# kill_pid PID: SIGKILL one process we started (if it still is that one)
kill_pid() {
	local e pid start
	for e in "${MY_PIDS[@]}"; do
		read -r pid start <<<"$e"
		if [[ $pid == "$1" ]] && alive "$pid" "$start"; then
			kill -KILL "$pid" 2>/dev/null || :
		fi
	done
}

gone() { ! alive "$1" "$2"; }

# stop_pids PID...: SIGTERM, then SIGKILL after 5 s; wait until gone
stop_pids() {
	local p e pid start
	for p in "$@"; do
		for e in "${MY_PIDS[@]}"; do
			read -r pid start <<<"$e"
			if [[ $pid == "$p" ]] && alive "$pid" "$start"; then
				kill -TERM "$pid" 2>/dev/null || :
				poll 5 "pid $pid to exit" gone "$pid" "$start" || {
					kill -KILL "$pid" 2>/dev/null || :
					poll 5 "pid $pid to die" gone "$pid" "$start" || :
				}
			fi
		done
	done
}

# node_child WRAPPER: the process `lab exec` runs (nsenter's child) -> CHILD
node_child() {
	[[ $(cat "/proc/$1/comm" 2>/dev/null) == nsenter ]] || return 1
	local c
	c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) || return 1
	c=${c%% *}
	[[ -n $c ]] || return 1
	CHILD=$c
}

# spawn_node I LOG CMD...: run CMD in node I in the background (stdin from
# $SPAWN_STDIN, default /dev/null); SPAWNED is its host PID.
SPAWN_STDIN=/dev/null
spawn_node() {
	local i=$1 out=$2 w
	shift 2
	"$LAB" exec "$i" "$@" >"$out" 2>&1 <"$SPAWN_STDIN" &
	w=$!
	disown "$w" # no "Killed" notices: these are killed on purpose
	track "$w"
	poll 10 "node$i: $1 to start" node_child "$w" || die "node$i: could not start $*"
	SPAWNED=$CHILD
	track "$SPAWNED"
}

on_node() { "$LAB" exec "$@"; }

# stats NAME < values (ms, one a line): the summary line of stats.h
stats() {
	sort -g | awk -v name="$1" '{ v[NR] = $1 }
	END {
		if (NR == 0) { print name " n=0"; exit }
		med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		k = int((NR * 95 + 99) / 100)
		printf "%s n=%d min=%.3f median=%.3f p95=%.3f max=%.3f\n", name, NR, v[1], med, v[k], v[NR]
	}'
}

# field LINE KEY: the value of KEY=... in LINE
field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1" | head -n 1; }

# line FILE NAME: the first line of FILE that starts with "NAME "
line() { grep -m1 "^$2 " "$1" || die "no '$2' line in $1: $(tail -n 5 "$1")"; }

has() { grep -q -- "$2" "$1" 2>/dev/null; }

# report lines: to stdout and the report file
say() { printf '%s\n' "$*" | tee -a "$REPORT"; }

# ------------------------------------------------------------------ set-up

WORK=''
LAB_UP=0
LOOPS=()
cleanup() {
	local rc=$? e pid start i
	trap - EXIT INT TERM
	set +e
	# our processes first, newest first: node commands, then their nsenters
	for ((i = ${#MY_PIDS[@]} - 1; i >= 0; i--)); do
		read -r pid start <<<"${MY_PIDS[i]}"
		if alive "$pid" "$start"; then
			kill -KILL "$pid" 2>/dev/null
		fi
	done
	for e in "${MY_PIDS[@]}"; do
		read -r pid start <<<"$e"
		poll 10 "pid $pid to exit" gone "$pid" "$start" >/dev/null 2>&1
	done
	wait 2>/dev/null
	for e in "${LOOPS[@]}"; do
		losetup -d "$e" 2>/dev/null
	done
	if ((LAB_UP)); then
		"$LAB" down || log "lab down failed: run CD_LAB_DIR=$CD_LAB_DIR $LAB down"
	fi
	if [[ -n $WORK && -d $WORK ]]; then
		if ((rc != 0)); then
			log "failed; last lines of the logs:"
			for e in "$WORK"/*.log; do
				[[ -s $e ]] || continue
				printf -- '--- %s\n' "${e##*/}" >&2
				tail -n 8 "$e" >&2
			done
		fi
		rm -rf -- "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! command -v sanlock >/dev/null || ! ldconfig -p | grep -q 'libsanlock\.so\.1 '; then
	log "installing sanlock (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y sanlock >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y sanlock >/dev/null; } ||
		die "cannot install sanlock"
fi
log "building csvfs and the bench helpers"
make -s csvfs/csvfs bench/csvfs/bench_csvfs bench/csvfs/bench_sanlock >/dev/null

WORK=$(mktemp -d /var/tmp/bench-csvfs.XXXXXX)
chmod 0755 "$WORK"
REPORT=$WORK/report.txt
: >"$REPORT"

lab_ns() { ip netns list 2>/dev/null | grep -q '^cdlab-'; }
no_lab_ns() { ! lab_ns; }
if lab_ns; then
	log "another lab is up (cdlab-* namespaces); waiting up to 10 min for it to go"
	poll 600 "the other lab's namespaces to go" no_lab_ns || die "another lab is still up"
fi
log "lab up (3 nodes, no libvirt, LUN ${LUN_SIZE_MB}M) in $CD_LAB_DIR"
"$LAB" up --nodes 3 --no-libvirt --lun-size "${LUN_SIZE_MB}M" >"$WORK/lab-up.log" 2>&1 ||
	die "lab up failed: $(tail -n 5 "$WORK/lab-up.log")"
LAB_UP=1
LUN=$("$LAB" lun)
LUN_NAME=${LUN#/dev/}
[[ $(cat "/sys/block/$LUN_NAME/loop/dio") == 1 ]] || die "direct I/O is off on $LUN"
log "LUN $LUN"

# wipe_lun: zero the areas either system uses for leases or metadata
wipe_lun() {
	dd if=/dev/zero of="$LUN" bs=1M count=64 oflag=direct status=none
	dd if=/dev/zero of="$LUN" bs=1M count=8 seek=$((LUN_SIZE_MB - 8)) oflag=direct status=none
}

# --------------------------------------------------- node-side scripts

# csvfs: the tools' lease acquire/release, timed in the node
cat >"$WORK/cli-lease-csvfs.sh" <<'EOF'
lun=$1 lease=$2 slot=$3 rounds=$4
us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
for ((r = 0; r <= rounds; r++)); do
	t0=$(us)
	csvfs lease acquire "$lun" "$lease" --slot "$slot" >/dev/null || exit 1
	t1=$(us)
	csvfs lease release "$lun" "$lease" --slot "$slot" >/dev/null || exit 1
	t2=$(us)
	((r > 0)) || continue # warm-up
	echo "acquire $((t1 - t0))"
	echo "release $((t2 - t1))"
done
EOF

# sanlock: the tools' acquire/release for a registered helper process
cat >"$WORK/cli-lease-sanlock.sh" <<'EOF'
res=$1 rounds=$2
us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
sanlock client command -c /bin/sleep 100000 >/dev/null 2>&1 &
p=$!
trap 'kill $p 2>/dev/null' EXIT
for ((i = 0; i < 200; i++)); do
	sanlock client status 2>/dev/null | grep -q "^p $p " && break
	sleep 0.05
done
for ((r = 0; r <= rounds; r++)); do
	t0=$(us)
	sanlock client acquire -r "$res" -p "$p" >/dev/null || exit 1
	t1=$(us)
	sanlock client release -r "$res" -p "$p" >/dev/null || exit 1
	t2=$(us)
	((r > 0)) || continue
	echo "acquire $((t1 - t0))"
	echo "release $((t2 - t1))"
done
EOF

# csvfs: `csvfs host join` from its start until it prints "joined"
cat >"$WORK/cli-join-csvfs.sh" <<'EOF'
lun=$1 slot=$2 rounds=$3
us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
for ((r = 0; r < rounds; r++)); do
	t0=$(us)
	exec 3< <(exec csvfs host join "$lun" --slot "$slot" --owner "$(hostname)" 2>/dev/null)
	p=$!
	read -r -t 60 l <&3 || exit 1
	t1=$(us)
	[[ $l == joined* ]] || exit 1
	kill -TERM $p
	while kill -0 $p 2>/dev/null; do sleep 0.01; done
	exec 3<&-
	csvfs host release "$lun" --slot "$slot" >/dev/null || exit 1
	echo "join $((t1 - t0))"
done
EOF

# sanlock: sanlock client add_lockspace (then rem_lockspace, untimed)
cat >"$WORK/cli-join-sanlock.sh" <<'EOF'
ls=$1 io=$2 rounds=$3
us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
for ((r = 0; r < rounds; r++)); do
	t0=$(us)
	sanlock client add_lockspace -o "$io" -s "$ls" >/dev/null || exit 1
	t1=$(us)
	sanlock client rem_lockspace -s "$ls" >/dev/null || exit 1
	echo "join $((t1 - t0))"
done
EOF

# one O_DIRECT writer: DEV SEEK_MIB COUNT_MIB -> "T0_US T1_US"
cat >"$WORK/write.sh" <<'EOF'
us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
t0=$(us)
dd if=/dev/zero of="$1" bs=1M seek="$2" count="$3" oflag=direct conv=notrunc status=none || exit 1
t1=$(us)
echo "$t0 $t1"
EOF

# cli_stats FILE KIND NAME: summary of the µs values of lines "KIND N"
cli_stats() {
	awk -v k="$2" '$1 == k { printf "%.3f\n", $2 / 1000 }' "$1" | stats "$3"
}

# ------------------------------------------------------------ csvfs part

declare -A CS_RENEWER=()
csvfs_renewers_start() {
	local i
	for i in "$@"; do
		spawn_node "$i" "$WORK/csvfs-join-node$i.log" "$CSVFS" host join "$LUN" --slot "$i" --owner "node$i"
		CS_RENEWER[$i]=$SPAWNED
	done
	for i in "$@"; do
		poll 30 "node$i to join slot $i" has "$WORK/csvfs-join-node$i.log" '^joined' ||
			die "node$i: csvfs host join: $(tail -n 3 "$WORK/csvfs-join-node$i.log")"
	done
}

csvfs_renewers_stop() {
	local i
	for i in "${!CS_RENEWER[@]}"; do
		stop_pids "${CS_RENEWER[$i]}"
	done
	CS_RENEWER=()
}

csvfs_format() {
	local e=$1 hosts=$2
	wipe_lun
	"$CSVFS" format "$LUN" --name bench --hosts "$hosts" --expiry-ms "$e" --force >"$WORK/format.log"
}

# csvfs_takeover E TAG: node 1 holds bench1, its renewer dies, node 2 takes
# over; TO_RESULT says how long that took
csvfs_takeover() {
	local e=$1 tag=$2 fifo=$WORK/go-cs-$2 log=$WORK/takeover-cs-$2.log t_kill acq l
	on_node 1 "$CSVFS" lease acquire "$LUN" bench1 --slot 1 >/dev/null
	mkfifo "$fifo"
	exec 7<>"$fifo"
	SPAWN_STDIN=$fifo spawn_node 2 "$log" "$BC" takeover "$LUN" --slot 2 --lease bench1
	SPAWN_STDIN=/dev/null
	poll 10 "node2 takeover helper to be ready" has "$log" '^ready' || die "takeover helper: $(cat "$log")"
	t_kill=$(now_us)
	kill_pid "${CS_RENEWER[1]}"
	echo go >&7
	poll $((3 * e / 1000 + 30)) "node2 to take the lease over" has "$log" 'acquired_at_us=' ||
		die "no takeover: $(cat "$log")"
	exec 7>&-
	l=$(grep -m1 acquired_at_us= "$log")
	acq=$(field "$l" acquired_at_us)
	TO_RESULT="takeover_ms=$(ms_between "$t_kill" "$acq") helper_wait_ms=$(field "$l" wait_ms) attempts=$(field "$l" attempts)"
	unset 'CS_RENEWER[1]'
}

# throughput MODE: MODE csvfs (a loop device per file) or sanlock (LUN)
# uses TP_DEV[i] TP_SEEK[i] (MiB) for node i; prints medians
declare -a TP_DEV=() TP_SEEK=() TP_OFF_MIB=()
throughput() {
	local mode=$1 rep i out t0 t1 s e first last
	local -a solo=() agg=() pernode=()
	# allocate/warm the extents once (the LUN file is sparse)
	for i in 1 2 3; do
		on_node "$i" bash "$WORK/write.sh" "${TP_DEV[i]}" "${TP_SEEK[i]}" "$MB" >/dev/null
	done
	for ((rep = 0; rep < REPS; rep++)); do
		out=$(on_node 1 bash "$WORK/write.sh" "${TP_DEV[1]}" "${TP_SEEK[1]}" "$MB")
		read -r t0 t1 <<<"$out"
		solo+=("$(awk -v mb="$MB" -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", mb / (d / 1e6) }')")
		local -a pids=()
		for i in 1 2 3; do
			on_node "$i" bash "$WORK/write.sh" "${TP_DEV[i]}" "${TP_SEEK[i]}" "$MB" >"$WORK/tp-$mode-$i.out" &
			pids+=($!)
		done
		wait "${pids[@]}"
		first='' last='' pernode=()
		for i in 1 2 3; do
			read -r s e <"$WORK/tp-$mode-$i.out"
			[[ -z $first || $s -lt $first ]] && first=$s
			[[ -z $last || $e -gt $last ]] && last=$e
			pernode+=("$(awk -v mb="$MB" -v d=$((e - s)) 'BEGIN { printf "%.1f", mb / (d / 1e6) }')")
		done
		agg+=("$(awk -v mb=$((3 * MB)) -v d=$((last - first)) 'BEGIN { printf "%.1f", mb / (d / 1e6) }')")
		echo "  rep $((rep + 1)): node1 alone ${solo[rep]} MiB/s; 3 at once: ${pernode[*]} MiB/s each, aggregate ${agg[rep]} MiB/s" >&2
	done
	TP_SOLO=$(printf '%s\n' "${solo[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	TP_AGG=$(printf '%s\n' "${agg[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	TP_LAST_EACH=${pernode[*]}
}

say "# csvfs vs sanlock $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -r) $(nproc) CPUs"
say "# LUN $LUN: loop device (direct I/O) over a sparse file on $(df -T "$CD_LAB_DIR" | awk 'NR == 2 { print $2 }'), ${LUN_SIZE_MB} MiB, logical sector $(cat "/sys/block/$LUN_NAME/queue/logical_block_size") B"
say "# sanlock $(sanlock version 2>/dev/null | head -n 1 | tr -d '\n'), daemon per lab node: -w 0 (no watchdog) -l 0, SANLOCK_PRIVILEGED=0"
say ""

# ---- csvfs, E = 3200 ms
log "csvfs: format --expiry-ms $E_FAST (3 host slots)"
csvfs_format "$E_FAST" 3
say "== csvfs, expiry E=${E_FAST} ms (renewal $((E_FAST / 8)) ms, T_io $((E_FAST / 4)) ms, join delay $((E_FAST / 2)) ms)"
on_node 1 "$BC" join "$LUN" --slot 1 --rounds "$JOIN_ROUNDS" --owner node1 >"$WORK/cs-join-fast.out"
CS_JOIN_FAST=$(line "$WORK/cs-join-fast.out" join)
say "host join, in-process:       $CS_JOIN_FAST"
on_node 1 bash "$WORK/cli-join-csvfs.sh" "$LUN" 1 "$JOIN_ROUNDS" >"$WORK/cs-cli-join.out" || die "csvfs CLI join failed"
CS_JOIN_CLI=$(cli_stats "$WORK/cs-cli-join.out" join join)
say "host join, csvfs host join:  $CS_JOIN_CLI"

csvfs_renewers_start 1 2 3
on_node 1 "$CSVFS" file create "$LUN" bench1 1M --slot 1 >/dev/null
on_node 1 "$BC" latency "$LUN" --slot 1 --lease bench1 --rounds "$ROUNDS" >"$WORK/cs-lat.out"
CS_ACQ=$(line "$WORK/cs-lat.out" acquire)
CS_REL=$(line "$WORK/cs-lat.out" release)
say "lease acquire, in-process:   $CS_ACQ"
say "lease release, in-process:   $CS_REL"
on_node 1 bash "$WORK/cli-lease-csvfs.sh" "$LUN" bench1 1 "$CLI_ROUNDS" >"$WORK/cs-cli-lat.out" || die "csvfs CLI lease loop failed"
CS_ACQ_CLI=$(cli_stats "$WORK/cs-cli-lat.out" acquire acquire)
CS_REL_CLI=$(cli_stats "$WORK/cs-cli-lat.out" release release)
say "lease acquire, csvfs tool:   $CS_ACQ_CLI"
say "lease release, csvfs tool:   $CS_REL_CLI"

# throughput on three files, each a loop device over its extent
for i in 1 2 3; do
	l=$(on_node 1 "$CSVFS" file create "$LUN" "tp$i" "${MB}M" --slot 1)
	off=$(sed -n 's/.* at offset \([0-9]*\),.*/\1/p' <<<"$l")
	[[ -n $off ]] || die "file create tp$i: $l"
	dev=$(losetup --find --show --offset "$off" --sizelimit $((MB * 1048576)) --direct-io=on "$LUN")
	LOOPS+=("$dev")
	[[ $(cat "/sys/block/${dev#/dev/}/loop/dio") == 1 ]] || die "direct I/O is off on $dev"
	TP_DEV[i]=$dev
	TP_SEEK[i]=0
	TP_OFF_MIB[i]=$((off / 1048576))
	if ((TP_OFF_MIB[i] + MB > LUN_SIZE_MB - 8)); then
		die "--mb $MB is too large for the ${LUN_SIZE_MB} MiB LUN"
	fi
done
say "throughput: dd bs=1M oflag=direct, $MB MiB per node, to files tp1-3 at LUN offsets ${TP_OFF_MIB[1]}, ${TP_OFF_MIB[2]}, ${TP_OFF_MIB[3]} MiB (loop devices over the extents); max_sectors_kb $(cat "/sys/block/$LUN_NAME/queue/max_sectors_kb")"
throughput csvfs
CS_TP1=$TP_SOLO
CS_TP3=$TP_AGG
say "throughput: node1 alone $CS_TP1 MiB/s; 3 nodes at once $CS_TP3 MiB/s aggregate (last rep each: $TP_LAST_EACH); median of $REPS"
for e in "${LOOPS[@]}"; do
	losetup -d "$e"
done
LOOPS=()

csvfs_takeover "$E_FAST" fast
CS_TO_FAST=$TO_RESULT
say "dead-holder takeover:        $CS_TO_FAST"
csvfs_renewers_stop

# ---- csvfs, 64 host slots (a lease is 65 sectors instead of 4)
log "csvfs: format --hosts 64"
csvfs_format "$E_FAST" 64
csvfs_renewers_start 1
on_node 1 "$CSVFS" file create "$LUN" bench1 1M --slot 1 >/dev/null
on_node 1 "$BC" latency "$LUN" --slot 1 --lease bench1 --rounds "$ROUNDS" >"$WORK/cs-lat64.out"
CS_ACQ64=$(line "$WORK/cs-lat64.out" acquire)
CS_REL64=$(line "$WORK/cs-lat64.out" release)
say "== csvfs with 64 host slots (E=${E_FAST} ms, one node joined)"
say "lease acquire, in-process:   $CS_ACQ64"
say "lease release, in-process:   $CS_REL64"
csvfs_renewers_stop

# ---- csvfs, E = 8000 ms (the default)
log "csvfs: format with the default expiry ($E_DEF ms)"
csvfs_format "$E_DEF" 3
say "== csvfs, expiry E=${E_DEF} ms (default: renewal $((E_DEF / 8)) ms, T_io $((E_DEF / 4)) ms, join delay $((E_DEF / 2)) ms)"
on_node 1 "$BC" join "$LUN" --slot 1 --rounds "$SLOW_JOIN_ROUNDS" --owner node1 >"$WORK/cs-join-def.out"
CS_JOIN_DEF=$(line "$WORK/cs-join-def.out" join)
say "host join, in-process:       $CS_JOIN_DEF"
csvfs_renewers_start 1 2
on_node 1 "$CSVFS" file create "$LUN" bench1 1M --slot 1 >/dev/null
csvfs_takeover "$E_DEF" def
CS_TO_DEF=$TO_RESULT
say "dead-holder takeover:        $CS_TO_DEF"
csvfs_renewers_stop
say ""

# ----------------------------------------------------------- sanlock part

declare -A SL_DAEMON=()
sl_answers() { on_node "$1" sanlock client status >/dev/null 2>&1; }
sanlock_start() {
	local i
	for i in "$@"; do
		mkdir -p "$WORK/sanlock-log-node$i"
		# shellcheck disable=SC2016 # $1 is the inner sh's
		spawn_node "$i" "$WORK/sanlock-node$i.log" env SANLOCK_PRIVILEGED=0 \
			unshare --mount --propagation private sh -c \
			'mount --bind "$1" /var/log && exec sanlock daemon -D -w 0 -l 0 -U root -G root' \
			sh "$WORK/sanlock-log-node$i"
		SL_DAEMON[$i]=$SPAWNED
	done
	for i in "$@"; do
		poll 20 "node$i sanlock daemon to answer" sl_answers "$i" ||
			die "node$i: sanlock daemon: $(tail -n 5 "$WORK/sanlock-node$i.log")"
	done
}

SL_BASE_MB=$((LUN_SIZE_MB - 8)) # lease areas at the end, clear of the data extents
LS="bench:0:$LUN:$((SL_BASE_MB * 1048576))"
RES="bench:r1:$LUN:$(((SL_BASE_MB + 1) * 1048576))"
LS10="bench10:0:$LUN:$(((SL_BASE_MB + 2) * 1048576))"
RES10="bench10:r10:$LUN:$(((SL_BASE_MB + 3) * 1048576))"
ls_host() { local s=$1; echo "${s%%:*}:$2:${s#*:*:}"; }

# sanlock_takeover IO TAG HOLDER WAITER RESOURCE: the holder node's daemon
# dies; TO_RESULT says how long the waiter node took to get the lease
sanlock_takeover() {
	local io=$1 tag=$2 h=$3 w=$4 res=$5 fifo=$WORK/go-sl-$2 log=$WORK/takeover-sl-$2.log
	local holder t_kill acq l d
	spawn_node "$h" "$WORK/sl-holder-$tag.log" sanlock client command -r "$res" -c /bin/sleep 100000
	holder=$SPAWNED
	poll 30 "node$h to hold ${res%%:/*}" eval "on_node $h sanlock client status 2>/dev/null | grep -q '^r ${res%%:/*}:'" ||
		die "node$h could not acquire $res: $(cat "$WORK/sl-holder-$tag.log")"
	mkfifo "$fifo"
	exec 7<>"$fifo"
	SPAWN_STDIN=$fifo spawn_node "$w" "$log" "$BS" takeover "$res"
	SPAWN_STDIN=/dev/null
	poll 10 "node$w takeover helper to be ready" has "$log" '^ready' || die "takeover helper: $(cat "$log")"
	d=${SL_DAEMON[$h]}
	t_kill=$(now_us)
	kill_pid "$d"
	echo go >&7
	# the holder dies after the daemon, so the daemon cannot release for it
	poll 10 "node$h sanlock daemon to die" gone "$d" "$(proc_start "$d" 2>/dev/null || echo x)" || :
	kill_pid "$holder"
	poll $((8 * io + WDFIRE + 120)) "node$w to take the lease over" has "$log" 'acquired_at_us=' ||
		die "no takeover: $(cat "$log")"
	exec 7>&-
	l=$(grep -m1 acquired_at_us= "$log")
	acq=$(field "$l" acquired_at_us)
	TO_RESULT="takeover_ms=$(ms_between "$t_kill" "$acq") helper_wait_ms=$(field "$l" wait_ms) attempts=$(field "$l" attempts)"
	unset "SL_DAEMON[$h]"
}

log "sanlock: daemons on nodes 1-3, lockspace init with io_timeout $IO_FAST s"
wipe_lun
sanlock_start 1 2 3
on_node 1 sanlock client init -o "$IO_FAST" -s "$LS" >/dev/null
on_node 1 sanlock client init -r "$RES" >/dev/null
on_node 1 sanlock client init -s "$LS10" >/dev/null
on_node 1 sanlock client init -r "$RES10" >/dev/null
say "== sanlock, io_timeout ${IO_FAST} s (renewal $((2 * IO_FAST)) s, renewal fail $((8 * IO_FAST)) s, host dead $((8 * IO_FAST + WDFIRE)) s)"
on_node 1 "$BS" join "$(ls_host "$LS" 1)" --io-timeout "$IO_FAST" --rounds "$JOIN_ROUNDS" >"$WORK/sl-join-fast.out"
SL_JOIN_FAST=$(line "$WORK/sl-join-fast.out" join)
say "add_lockspace, in-process:   $SL_JOIN_FAST"
on_node 1 bash "$WORK/cli-join-sanlock.sh" "$(ls_host "$LS" 1)" "$IO_FAST" "$JOIN_ROUNDS" >"$WORK/sl-cli-join.out" ||
	die "sanlock CLI add_lockspace failed"
SL_JOIN_CLI=$(cli_stats "$WORK/sl-cli-join.out" join join)
say "add_lockspace, sanlock tool: $SL_JOIN_CLI"

log "sanlock: add_lockspace with the default io_timeout ($IO_DEF s) takes ~$((2 * IO_DEF)) s a round"
on_node 1 "$BS" join "$(ls_host "$LS10" 1)" --io-timeout "$IO_DEF" --rounds "$SLOW_JOIN_ROUNDS" >"$WORK/sl-join-def.out"
SL_JOIN_DEF=$(line "$WORK/sl-join-def.out" join)

for i in 1 2 3; do
	on_node "$i" sanlock client add_lockspace -o "$IO_FAST" -s "$(ls_host "$LS" "$i")" >/dev/null &
	pids[i]=$!
done
wait "${pids[1]}" "${pids[2]}" "${pids[3]}" || die "add_lockspace on the nodes failed"
on_node 1 "$BS" latency "$RES" --rounds "$ROUNDS" >"$WORK/sl-lat.out"
SL_ACQ=$(line "$WORK/sl-lat.out" acquire)
SL_REL=$(line "$WORK/sl-lat.out" release)
say "lease acquire, in-process:   $SL_ACQ"
say "lease release, in-process:   $SL_REL"
on_node 1 bash "$WORK/cli-lease-sanlock.sh" "$RES" "$CLI_ROUNDS" >"$WORK/sl-cli-lat.out" || die "sanlock CLI lease loop failed"
SL_ACQ_CLI=$(cli_stats "$WORK/sl-cli-lat.out" acquire acquire)
SL_REL_CLI=$(cli_stats "$WORK/sl-cli-lat.out" release release)
say "lease acquire, sanlock tool: $SL_ACQ_CLI"
say "lease release, sanlock tool: $SL_REL_CLI"

for i in 1 2 3; do
	TP_DEV[i]=$LUN
	TP_SEEK[i]=${TP_OFF_MIB[i]}
done
say "throughput: dd bs=1M oflag=direct, $MB MiB per node, to the LUN itself at the same offsets; max_sectors_kb $(cat "/sys/block/$LUN_NAME/queue/max_sectors_kb")"
throughput sanlock
SL_TP1=$TP_SOLO
SL_TP3=$TP_AGG
say "throughput: node1 alone $SL_TP1 MiB/s; 3 nodes at once $SL_TP3 MiB/s aggregate (last rep each: $TP_LAST_EACH); median of $REPS"

if ((LONG)); then
	log "sanlock: takeover at io_timeout $IO_DEF s (about $((8 * IO_DEF + WDFIRE)) s): nodes 2 and 3 join bench10"
	for i in 2 3; do
		on_node "$i" sanlock client add_lockspace -s "$(ls_host "$LS10" "$i")" >/dev/null &
		pids[i]=$!
	done
	wait "${pids[2]}" "${pids[3]}" || die "add_lockspace bench10 failed"
	sanlock_takeover "$IO_DEF" def 3 2 "$RES10"
	SL_TO_DEF=$TO_RESULT
fi
log "sanlock: takeover at io_timeout $IO_FAST s (about $((8 * IO_FAST + WDFIRE)) s)"
sanlock_takeover "$IO_FAST" fast 1 2 "$RES"
SL_TO_FAST=$TO_RESULT
say "dead-holder takeover:        $SL_TO_FAST"
say "== sanlock, io_timeout ${IO_DEF} s (default: renewal $((2 * IO_DEF)) s, host dead $((8 * IO_DEF + WDFIRE)) s)"
say "add_lockspace, in-process:   $SL_JOIN_DEF"
if ((LONG)); then
	say "dead-holder takeover:        $SL_TO_DEF"
else
	say "dead-holder takeover:        not measured (--long): sanlock's rule gives host_dead = 8 x io_timeout + $WDFIRE = $((8 * IO_DEF + WDFIRE)) s after the owner's last renewal seen"
fi
say ""

# ------------------------------------------------------------------ table

med() { field "$1" median; }
p95() { field "$1" p95; }
to() { field "$1" takeover_ms; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
row() { printf '%-44s %-18s %-18s %s\n' "$1" "$2" "$3" "$4" | tee -a "$REPORT"; }
pair() { printf '%s (p95 %s)' "$(med "$1")" "$(p95 "$1")"; }

say "== Summary (times in ms, median with p95; throughput MiB/s; ours/theirs < 1 is"
say "   faster for times, > 1 is faster for throughput)"
row "" "csvfs" "sanlock" "ours/theirs"
row "lease acquire, in-process" "$(pair "$CS_ACQ")" "$(pair "$SL_ACQ")" "$(ratio "$(med "$CS_ACQ")" "$(med "$SL_ACQ")")"
row "lease release, in-process" "$(pair "$CS_REL")" "$(pair "$SL_REL")" "$(ratio "$(med "$CS_REL")" "$(med "$SL_REL")")"
row "lease acquire, tool (process per call)" "$(pair "$CS_ACQ_CLI")" "$(pair "$SL_ACQ_CLI")" "$(ratio "$(med "$CS_ACQ_CLI")" "$(med "$SL_ACQ_CLI")")"
row "lease release, tool (process per call)" "$(pair "$CS_REL_CLI")" "$(pair "$SL_REL_CLI")" "$(ratio "$(med "$CS_REL_CLI")" "$(med "$SL_REL_CLI")")"
row "host join, fast (E=${E_FAST} | io ${IO_FAST} s)" "$(med "$CS_JOIN_FAST")" "$(med "$SL_JOIN_FAST")" "$(ratio "$(med "$CS_JOIN_FAST")" "$(med "$SL_JOIN_FAST")")"
row "host join, tool, fast" "$(med "$CS_JOIN_CLI")" "$(med "$SL_JOIN_CLI")" "$(ratio "$(med "$CS_JOIN_CLI")" "$(med "$SL_JOIN_CLI")")"
row "host join, default (E=${E_DEF} | io ${IO_DEF} s)" "$(med "$CS_JOIN_DEF")" "$(med "$SL_JOIN_DEF")" "$(ratio "$(med "$CS_JOIN_DEF")" "$(med "$SL_JOIN_DEF")")"
row "takeover, fast (E=${E_FAST} | io ${IO_FAST} s)" "$(to "$CS_TO_FAST")" "$(to "$SL_TO_FAST")" "$(ratio "$(to "$CS_TO_FAST")" "$(to "$SL_TO_FAST")")"
if ((LONG)); then
	row "takeover, default (E=${E_DEF} | io ${IO_DEF} s)" "$(to "$CS_TO_DEF")" "$(to "$SL_TO_DEF")" "$(ratio "$(to "$CS_TO_DEF")" "$(to "$SL_TO_DEF")")"
else
	row "takeover, default (E=${E_DEF} | io ${IO_DEF} s)" "$(to "$CS_TO_DEF")" "$(((8 * IO_DEF + WDFIRE) * 1000)) (computed)" "$(ratio "$(to "$CS_TO_DEF")" $(((8 * IO_DEF + WDFIRE) * 1000)))"
fi
row "throughput, node 1 alone" "$CS_TP1" "$SL_TP1" "$(ratio "$CS_TP1" "$SL_TP1")"
row "throughput, 3 nodes at once (aggregate)" "$CS_TP3" "$SL_TP3" "$(ratio "$CS_TP3" "$SL_TP3")"
row "throughput, 3 nodes / 1 node" "$(ratio "$CS_TP3" "$CS_TP1")" "$(ratio "$SL_TP3" "$SL_TP1")" "-"
row "lease size on disk (3 hosts)" "2 KiB (4 sectors)" "1 MiB (2000 hosts)" "-"

mkdir -p "$(dirname "$OUT")"
cp "$REPORT" "$OUT"
log "report written to ${OUT#"$TOP"/}"
