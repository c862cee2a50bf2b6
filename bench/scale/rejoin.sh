#!/bin/bash
# bench/scale/rejoin.sh [VMS]: a node rejoining a 3-node lab cluster that
# holds VMS VMs (default 10000) of ~5 KB domain XML, over real corosync
# (no libvirtd: the VMs are defined, not run):
#   - after a short absence (its clusterd killed, one VM added meanwhile):
#     it catches up by the changes it missed;
#   - after a long one (its state directory lost): the whole state streams
#     to it in chunks, which is also what every rejoin cost before the
#     change log (the reference).
# Each is timed from the start of its clusterd until all three nodes are
# synchronised with equal state checksums; also clusterd's RSS and the
# time to add the VMs. Results in bench/out/rejoin-VMS.txt. A benchmark,
# not a test: nothing here judges a time.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. bench/lib.sh
N=${1:-10000}
bench_begin scalerejoin

lab() { "$LAB" "$@"; }
LAB_UP=1
lab up --nodes 3 --no-libvirt >/dev/null
out=bench/out/rejoin-$N.txt
mkdir -p bench/out
say() { echo "$*" | tee -a "$out"; }
: >"$out"
say "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPUs; $N VMs, 3 nodes, corosync in network namespaces"

sum_of() { lab exec "$1" clusterctl --json status | jq -r '"\(.synced) \(.quorate) \(.state_checksum)"'; }
agree() {
	local a b c
	a=$(sum_of 1) && b=$(sum_of 2) && c=$(sum_of 3) || return 1
	[[ $a == "true true "* && $a == "$b" && $a == "$c" ]]
}
rss_mb() { echo $(($(awk '/^VmRSS/ {print $2}' "/proc/$(cat "$D/node$1/clusterd.pid")/status") / 1024)); }
vms_on() { lab exec "$1" clusterctl --json vm list | jq '.vms | length'; }

XMLS=$D/xmls
mkdir -p "$XMLS"
python3 tests/lab/scale-xml.py "$XMLS" "$N" "$D/late.xml"
t0=$(now_ms)
find "$XMLS" -name '*.xml' -printf '%f\n' | sed 's/\.xml$//' | sort |
	xargs -P 4 -I{} "$LAB" exec 1 clusterctl vm add {} --xml "$XMLS/{}.xml" >/dev/null
t1=$(now_ms)
wait_for 600 "the three agree" agree
[[ $(vms_on 2) == "$N" ]] || die "node2 lists $(vms_on 2) VMs, not $N"
say "added $N VMs (4 clients at once): $(((t1 - t0) / 1000)) s, $((N * 1000 / (t1 - t0 + 1))) per s"
say "clusterd RSS: node1 $(rss_mb 1) MB, node2 $(rss_mb 2) MB, node3 $(rss_mb 3) MB"

# rejoin NODE HOW: restart NODE's clusterd, time until the three agree
rejoin() {
	local t
	t=$(now_ms)
	lab start "$1" clusterd >/dev/null
	wait_for 900 "node$1 rejoins" agree
	echo $(($(now_ms) - t))
}

# short absence: one change and two rounds missed
lab kill 2 clusterd >/dev/null
gone() { [[ $(lab exec 1 clusterctl --json status | jq -r '[.nodes[] | select(.id == 2) | .member][0]') == false ]]; }
wait_for 120 "node2 gone" gone
lab exec 1 clusterctl vm add late1 --xml "$D/late.xml" >/dev/null
from=$(($(wc -l <"$D/node2/log/clusterd.log") + 1))
short=$(rejoin 2)
how=$(tail -n "+$from" "$D/node2/log/clusterd.log" | grep -aoE 'caught up .* by [0-9]+ change\(s\)|adopting state' | tail -1)
say "rejoin after a short absence: $short ms ($how)"

# long absence: the state directory lost, the whole state streams
lab kill 3 clusterd >/dev/null
gone3() { [[ $(lab exec 1 clusterctl --json status | jq -r '[.nodes[] | select(.id == 3) | .member][0]') == false ]]; }
wait_for 120 "node3 gone" gone3
rm -rf "${D:?}/node3/state"
long=$(rejoin 3)
chunks=$(grep -ah "queued as [0-9]* chunks" "$D"/node[12]/log/clusterd.log | tail -1 | sed 's/.*queued as \([0-9]*\) chunks.*/\1/')
say "rejoin after a long absence (no state): $long ms (a snapshot in ${chunks:-?} chunks)"

say "ratio whole snapshot / changes only: $(python3 -c "print(round($long / max($short, 1), 1))")x"
say "clusterd RSS after: node1 $(rss_mb 1) MB, node2 $(rss_mb 2) MB, node3 $(rss_mb 3) MB"
log "results in $out"
