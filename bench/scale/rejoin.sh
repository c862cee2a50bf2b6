#!/bin/bash
# bench/scale/rejoin.sh [VMS [NODES]]: the replicated state over real
# corosync, on a lab cluster of NODES nodes (default 3) without libvirtd
# that comes to hold VMS VMs (default 10000) of ~5 KB domain XML:
#   - a change acknowledged end to end (bench/scale/ackbench on node1, one
#     request at a time over IPC: vm.add, vm.remove, property.set, 200
#     each) at 100, 1,000 and VMS VMs: clusterd answers once the change is
#     delivered to every member, applied and in node1's journal; and 50
#     "clusterctl property set", a new process each as an admin types it;
#   - clusterd's RSS and its idle CPU over 30 s at VMS VMs, and all the
#     nodes' corosync's;
#   - node2 rejoining after a short absence (its clusterd killed, one VM
#     added meanwhile): it catches up by the changes it missed;
#   - node3 rejoining after a long one (its state directory lost): the
#     whole state streams to it in chunks, which is also what every rejoin
#     cost before the change log (the reference).
# A rejoin is timed from the start of its clusterd until all nodes are
# synchronised with equal state checksums. Results in
# bench/out/rejoin-VMS[-NODES].txt, rows in .jsonl. A benchmark, not a
# test: nothing here judges a time.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. bench/lib.sh
N=${1:-10000}
M=${2:-3}
TRIES=200
bench_begin scalerejoin bench/scale/ackbench
ACK=$top/bench/scale/ackbench

lab() { "$LAB" "$@"; }
LAB_UP=1
lab up --nodes "$M" --no-libvirt >/dev/null
name=rejoin-$N
((M == 3)) || name+=-$M
out=bench/out/$name.txt rows=bench/out/$name.jsonl
mkdir -p bench/out
say() { echo "$*" | tee -a "$out"; }
: >"$out"
: >"$rows"
say "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPUs; $N VMs, $M nodes, corosync in network namespaces; load $(cut -d' ' -f1-3 /proc/loadavg)"

sum_of() { lab exec "$1" clusterctl --json status | jq -r '"\(.synced) \(.quorate) \(.state_checksum)"'; }
# agree: every node synced, quorate, with node1's checksum; the nodes are
# asked all at once, so that the answer does not take M times one node's
agree() {
	local a i pids=()
	for ((i = 1; i <= M; i++)); do
		sum_of "$i" >"$D/sum.$i" 2>/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || return 1; done
	a=$(<"$D/sum.1")
	[[ $a == "true true "* ]] || return 1
	for ((i = 2; i <= M; i++)); do
		[[ $(<"$D/sum.$i") == "$a" ]] || return 1
	done
}
pid_of() { cat "$D/node$1/clusterd.pid"; }
rss_mb() { echo $(($(awk '/^VmRSS/ {print $2}' "/proc/$(pid_of "$1")/status") / 1024)); }
rss_all() {
	local i s=
	for ((i = 1; i <= M; i++)); do s+=" node$i $(rss_mb "$i") MB,"; done
	echo "${s%,}"
}
vms_on() { lab exec "$1" clusterctl --json vm list | jq '.vms | length'; }
# cpu_ticks NODE: clusterd's user + system time so far, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$(pid_of "$1")/stat"; }
hz=$(getconf CLK_TCK)

# The VMS definitions, and TRIES more that ackbench adds and removes again
# at each size.
XMLS=$D/xmls
mkdir -p "$XMLS"
python3 tests/lab/scale-xml.py "$XMLS" "$((N + TRIES))" "$D/late.xml"
find "$XMLS" -name '*.xml' -printf '%f\n' | sed 's/\.xml$//' | sort >"$D/all"
head -n "$N" "$D/all" >"$D/names"
tail -n "$TRIES" "$D/all" >"$D/extra"

# cli_changes COUNT: COUNT "clusterctl property set" on node1, each a new
# process as an admin types it (what bench/scale/cib.sh times for
# cibadmin), timed inside the node; a row like ackbench's
cli_changes() {
	# shellcheck disable=SC2016 # the node's bash expands it
	lab exec 1 bash -c '
for ((k = 1; k <= $1; k++)); do
	t=${EPOCHREALTIME/./}
	clusterctl property set bench.cli "$k" >/dev/null || exit 1
	u=${EPOCHREALTIME/./}
	echo $(((10#$u - 10#$t)))
done' _ "$1" | python3 -c '
import json, sys
v = sorted(int(x) / 1000 for x in sys.stdin)
p = lambda q: v[max(0, (len(v) * q + 99) // 100 - 1)]
print(json.dumps({"op": "clusterctl property set", "n": len(v), "failed": 0,
                  "p50_ms": p(50), "p99_ms": p(99), "max_ms": v[-1]}))'
}

# ack SIZE: the kinds of change at this size, each a row
# daemon_ticks NAME: the CPU time (user + system, clock ticks) of every
# node's NAME (clusterd or corosync) so far
daemon_ticks() {
	local i t=0 p
	for ((i = 1; i <= M; i++)); do
		p=$(cat "$D/node$i/$1.pid" 2>/dev/null) || continue
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}
ack() {
	local size=$1 op line c0 k0 c1 k1
	for op in add remove prop cli; do
		c0=$(daemon_ticks clusterd) k0=$(daemon_ticks corosync)
		case $op in
		add) line=$(lab exec 1 "$ACK" add "$XMLS" <"$D/extra") ;;
		remove) line=$(lab exec 1 "$ACK" remove <"$D/extra") ;;
		prop) line=$(lab exec 1 "$ACK" prop "$TRIES") ;;
		cli) line=$(cli_changes 50) ;;
		esac
		c1=$(daemon_ticks clusterd) k1=$(daemon_ticks corosync)
		# What each change cost the machine: every node's clusterd and
		# corosync, in CPU ms per change; divided by the cores, the least
		# a change can take here when each node has no core of its own.
		line=$(jq -c --argjson c "$((c1 - c0))" --argjson k "$((k1 - k0))" --argjson hz "$hz" \
			--argjson cores "$(nproc)" '. as $r | ($r.n + $r.failed) as $n | . + {
			cpu_clusterd_ms: (($c * 1000 / $hz / $n) * 100 | round / 100),
			cpu_corosync_ms: (($k * 1000 / $hz / $n) * 100 | round / 100),
			cpu_floor_ms: ((($c + $k) * 1000 / $hz / $n / $cores) * 100 | round / 100)}' <<<"$line")
		jq -c --argjson vms "$size" --argjson nodes "$M" '. + {vms: $vms, nodes: $nodes}' <<<"$line" >>"$rows"
		say "$(jq -r --argjson vms "$size" '"at \($vms) VMs: \(.op) acknowledged p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, max \(.max_ms) ms (\(.n) one at a time, \(.failed) failed); CPU per change, all nodes: clusterd \(.cpu_clusterd_ms) ms, corosync \(.cpu_corosync_ms) ms (\(.cpu_floor_ms) ms on the cores)"' <<<"$line")"
	done
	# the coordinator's decisions over the whole state (status --json keeps
	# its last 64): 64 changes that each need one (failover-grace-ms), so
	# that none of the kept is a first decision after the adds, which reads
	# the new VMs' XML once
	# shellcheck disable=SC2016 # the node's bash expands it
	lab exec 1 bash -c 'for ((k = 1; k <= 64; k++)); do
	clusterctl property set failover-grace-ms $((k * 10)) >/dev/null || exit 1
done; clusterctl property delete failover-grace-ms >/dev/null' || return 1
	line=$(lab exec 1 clusterctl --json status | jq -c '.decisions')
	[[ $line != null ]] || return 0
	jq -c --argjson vms "$size" --argjson nodes "$M" '. + {op: "decide", vms: $vms, nodes: $nodes}' <<<"$line" >>"$rows"
	say "$(jq -r --argjson vms "$size" '"at \($vms) VMs: the coordinator decides in \(.median_ms) ms (median of its last \(.count)), longest \(.max_ms) ms; of CPU \(.cpu_median_ms // "?") ms, longest \(.cpu_max_ms // "?") ms"' <<<"$line")"
}

# quiet: no node's clusterd used more than a tenth of a core over the last
# second. After a bulk add every member reads the new VMs' XML ahead for the
# policy (a slice per turn of its loop, low priority): at 10,000 VMs on 16
# nodes sharing two cores that is seconds of the machine, which the changes
# timed next would wait behind. They are timed once it is over, at every size.
quiet() {
	local i a=() b=()
	for ((i = 1; i <= M; i++)); do a[i]=$(cpu_ticks "$i"); done
	sleep 1 # a measurement period, not a wait for a condition
	for ((i = 1; i <= M; i++)); do b[i]=$(cpu_ticks "$i"); done
	for ((i = 1; i <= M; i++)); do
		(((b[i] - a[i]) * 10 <= hz)) || return 1
	done
}

# bulk FROM TO: add names FROM..TO (1-based) with four ackbench clients at once
bulk() {
	local from=$1 to=$2 t0 t1 i pids=()
	((to >= from)) || return 0
	sed -n "${from},${to}p" "$D/names" >"$D/batch"
	split -n r/4 "$D/batch" "$D/part."
	t0=$(now_ms)
	for i in "$D"/part.*; do
		lab exec 1 "$ACK" add "$XMLS" <"$i" >"$i.out" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || die "adding VMs $from..$to failed: $(cat "$D"/part.*.out)"; done
	t1=$(now_ms)
	rm -f "$D"/part.*
	say "added VMs $from..$to (4 clients at once): $(((t1 - t0) / 1000)) s, $(((to - from + 1) * 1000 / (t1 - t0 + 1))) per s"
}

have=0
for size in 100 1000 "$N"; do
	((size <= N && size > have)) || continue
	bulk $((have + 1)) "$size"
	have=$size
	wait_for 600 "the nodes agree at $size VMs" agree || die "no agreement at $size VMs"
	wait_for 600 "the nodes are quiet at $size VMs" quiet || die "the nodes stay busy at $size VMs"
	ack "$size"
done
[[ $(vms_on 2) == "$N" ]] || die "node2 lists $(vms_on 2) VMs, not $N"
say "clusterd RSS at $N VMs:$(rss_all)"
for ((i = 1; i <= M; i++)); do
	jq -nc --argjson vms "$N" --argjson nodes "$M" --argjson node "$i" --argjson mb "$(rss_mb "$i")" \
		'{op: "rss", vms: $vms, nodes: $nodes, node: $node, rss_mb: $mb}' >>"$rows"
done

# idle CPU: clusterd's CPU time over 30 s with nothing asked of it, and
# all nodes' corosync together over the same 30 s (its token goes round
# whether or not there is anything to send)
declare -a c0
for ((i = 1; i <= M; i++)); do c0[i]=$(cpu_ticks "$i"); done
k0=$(daemon_ticks corosync)
sleep 30 # a measurement period, not a wait for a condition
k1=$(daemon_ticks corosync)
s=
for ((i = 1; i <= M; i++)); do
	pc=$(python3 -c "print(round(($(cpu_ticks "$i") - ${c0[i]}) * 100 / ($hz * 30), 2))")
	s+=" node$i $pc %,"
	jq -nc --argjson vms "$N" --argjson nodes "$M" --argjson node "$i" --argjson pc "$pc" \
		'{op: "idle_cpu", vms: $vms, nodes: $nodes, node: $node, percent: $pc}' >>"$rows"
done
say "clusterd idle CPU at $N VMs (30 s):${s%,}"
pc=$(python3 -c "print(round(($k1 - $k0) * 100 / ($hz * 30), 1))")
say "corosync idle CPU at $N VMs (30 s), all $M nodes together: $pc % of one core"
jq -nc --argjson vms "$N" --argjson nodes "$M" --argjson pc "$pc" \
	'{op: "idle_cpu_corosync", vms: $vms, nodes: $nodes, percent: $pc}' >>"$rows"

# rejoin NODE: restart NODE's clusterd, time until all agree
rejoin() {
	local t
	t=$(now_ms)
	lab start "$1" clusterd >/dev/null
	wait_for 900 "node$1 rejoins" agree || die "node$1 did not rejoin"
	echo $(($(now_ms) - t))
}
# synced_in NODE FROM: from NODE's clusterd starting to the end of its
# first sync round, by its own log from line FROM (the rejoin without the
# asking of every node that times it above)
synced_in() {
	tail -n "+$2" "$D/node$1/log/clusterd.log" | python3 -c '
import re, sys
from datetime import datetime
t = lambda l: datetime.strptime("2000 " + l[:19], "%Y %b %d %H:%M:%S.%f")
start = None
for l in sys.stdin:
    if start is None and re.search(r"clusterd \S+ starting", l):
        start = t(l)
    elif start is not None and re.search(r"sync round \S+ complete", l):
        print(round((t(l) - start).total_seconds() * 1000))
        break
else:
    print("?")'
}
# gone NODE: node1 no longer counts NODE as a member
gone() { [[ $(lab exec 1 clusterctl --json status | jq -r --argjson n "$1" '[.nodes[] | select(.id == $n) | .member][0]') == false ]]; }

# short absence: one change and two rounds missed
lab kill 2 clusterd >/dev/null
wait_for 120 "node2 gone" gone 2
lab exec 1 clusterctl vm add late1 --xml "$D/late.xml" >/dev/null
from=$(($(wc -l <"$D/node2/log/clusterd.log") + 1))
short=$(rejoin 2)
how=$(tail -n "+$from" "$D/node2/log/clusterd.log" | grep -aoE 'caught up .* by [0-9]+ change\(s\)|adopting state' | tail -1)
say "rejoin after a short absence: $short ms ($how; node2 in sync by its log after $(synced_in 2 "$from") ms)"

# long absence: the state directory lost, the whole state streams
lab kill 3 clusterd >/dev/null
wait_for 120 "node3 gone" gone 3
rm -rf "${D:?}/node3/state"
from=$(($(wc -l <"$D/node3/log/clusterd.log") + 1))
long=$(rejoin 3)
chunks=$(grep -ah "queued as [0-9]* chunks" "$D"/node[12]/log/clusterd.log | tail -1 | sed 's/.*queued as \([0-9]*\) chunks.*/\1/')
say "rejoin after a long absence (no state): $long ms (a snapshot in ${chunks:-?} chunks; node3 in sync by its log after $(synced_in 3 "$from") ms)"
jq -nc --argjson vms "$N" --argjson nodes "$M" --argjson short "$short" --argjson long "$long" \
	'{op: "rejoin", vms: $vms, nodes: $nodes, short_ms: $short, long_ms: $long}' >>"$rows"

say "ratio whole snapshot / changes only: $(python3 -c "print(round($long / max($short, 1), 1))")x"
say "clusterd RSS after:$(rss_all)"
log "results in $out"
