#!/bin/bash
# The state at a scale CI can afford, on a real 3-node lab: a few thousand
# VMs, each with a realistic ~5 KB libvirt domain XML (none started).
#
# Each node persists the state as a journal of changes, compacted into
# snapshots as it grows; a clusterd killed and started again recovers it
# from its snapshot and journal. A node that comes back with no state at
# all (a replaced disk, a long absence) gets the whole state streamed to
# it in checksummed chunks; a node that was away briefly comes back with
# just the changes it missed (and the rounds), not a snapshot. After each, the three nodes' state checksums
# are equal.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "scale"

N=${CD_SCALE_VMS:-2000}
lab up --nodes 3

vms_on() { lab exec "$1" clusterctl --json vm list | jq '.vms | length'; }
wait_for 60 "all three nodes synced" all_three_agree

# N domain definitions of some 5 KB each: two disks, two
# NICs, console, graphics, channels, as a managed host's VMs have
XMLS=$LAB_DIR/xmls
mkdir -p "$XMLS"
python3 "$(dirname "$0")/scale-xml.py" "$XMLS" "$N" "$LAB_DIR/late.xml"
size=$(stat -c %s "$XMLS/s00000.xml")
((size >= 4500 && size <= 6000)) || fail "the generated XML has $size bytes, not some 5 KB"
pass "$N domain definitions of $size bytes each"

# --- N VMs added, four clients at a time
add_all() {
	find "$XMLS" -name '*.xml' -printf '%f\n' | sed 's/\.xml$//' | sort |
		xargs -P 4 -I{} "$top/tests/lab/lab" exec 1 clusterctl vm add {} --xml "$XMLS/{}.xml" >/dev/null
}
top=$(cd "$(dirname "$0")/../.." && pwd)
add_all
assert_eq "$(vms_on 1)" "$N" "node1 lists $N VMs"
wait_for 120 "the three nodes agree on the state" all_three_agree
assert_eq "$(vms_on 3)" "$N" "node3 lists $N VMs"
# Each vm.add went packed with zstd (the members all take it so), and the
# others unpacked it to the same state (the checksums above)
sent=$(lab exec 1 clusterctl --json status | jq -c '.counters.changes_sent')
packed=$(jq '.packed' <<<"$sent")
((packed >= N)) || fail "node1 sent $packed packed changes for $N vm.add: $sent"
[[ $(jq '.wire_bytes * 2 < .text_bytes' <<<"$sent") == true ]] ||
	fail "node1's changes were not packed to under half: $sent"
pass "node1 sent its $packed vm.add packed: $(jq '.wire_bytes' <<<"$sent") bytes for $(jq '.text_bytes' <<<"$sent") of JSON"
grep -q "journal compacted" "$LAB_DIR/node1/log/clusterd.log" ||
	fail "node1 never compacted its journal while $N VMs were added"
pass "node1 compacted its journal into a snapshot as it grew"
ls "$LAB_DIR/node1/state" | grep -q '^snap-' || fail "node1 has no snapshot file"
[[ ! -e $LAB_DIR/node1/state/state.json ]] || fail "node1 still writes a whole state.json"
pass "node1's state is a snapshot and a journal"

# --- a clusterd killed: its state comes back from snapshot and journal
lab exec 1 clusterctl property set flap-limit 3
lab kill 1 clusterd >/dev/null
lab start 1 clusterd >/dev/null
wait_for 120 "node1 back, the three agree" all_three_agree
grep -q "loaded state .* snapshot .* change(s)" "$LAB_DIR/node1/log/clusterd.log" ||
	fail "node1's log does not say it recovered from a snapshot and its journal"
pass "node1 recovered its state from its snapshot and journal"
assert_eq "$(lab exec 1 clusterctl property get flap-limit)" 3 "node1 kept the change made just before it was killed"

# --- a node with no state at all: the whole state streams to it in chunks
lab kill 3 clusterd >/dev/null
rm -rf "${LAB_DIR:?}/node3/state"
declare -A from_line
for i in 1 2; do from_line[$i]=$(($(wc -l <"$LAB_DIR/node$i/log/clusterd.log") + 1)); done
lab start 3 clusterd >/dev/null
wait_for 180 "node3, empty, gets the state: the three agree" all_three_agree
assert_eq "$(vms_on 3)" "$N" "node3 lists $N VMs again"
grep -h "queued as [0-9]* chunks" "$LAB_DIR"/node[12]/log/clusterd.log >/dev/null ||
	fail "no node sent the snapshot in chunks"
chunks=$(grep -h "queued as [0-9]* chunks" "$LAB_DIR"/node[12]/log/clusterd.log | tail -1 | sed 's/.*queued as \([0-9]*\) chunks.*/\1/')
((chunks > 1)) || fail "the snapshot went in $chunks chunk(s)"
pass "the snapshot went to node3 in $chunks chunks"
# every member takes packed chunks: the snapshot went packed, a fraction of its text
sizes=$(grep -h "queued as [0-9]* chunks" "$LAB_DIR"/node[12]/log/clusterd.log | tail -1 |
	sed -n 's/.* of \([0-9]*\) bytes (\([0-9]*\) packed with zstd).*/\1 \2/p')
[[ -n $sizes ]] || fail "the snapshot did not go packed with zstd"
read -r text_bytes packed_bytes <<<"$sizes"
((packed_bytes * 4 < text_bytes)) || fail "the snapshot packed only to $packed_bytes of $text_bytes bytes"
pass "the snapshot went packed: $packed_bytes bytes for its $text_bytes"
grep -q "adopting state" "$LAB_DIR/node3/log/clusterd.log" || fail "node3 never adopted a snapshot"
pass "node3 adopted the streamed snapshot"
# node1 and node2 held that state already: they check the chunks and keep
# their own, with no parse, no reload and no rewrite of their journal
kept=0
for i in 1 2; do
	since=$(tail -n "+${from_line[$i]}" "$LAB_DIR/node$i/log/clusterd.log")
	[[ $(grep -ac 'adopting state' <<<"$since" || :) == 0 ]] || fail "node$i, up to date, adopted the snapshot again"
	kept=$((kept + $(grep -ac "is this node's state: kept" <<<"$since" || :)))
done
((kept >= 1)) || fail "the member that did not send the snapshot does not say it kept its own state"
pass "node1 and node2, up to date, kept their own state"

# --- a node away briefly: changes made meanwhile reach it
lab kill 2 clusterd >/dev/null
two_and_one() { synced_quorate 1 && [[ $(member_in_view 1 2) == false ]]; }
wait_for 60 "node1 sees node2 gone" two_and_one
lab exec 1 clusterctl vm add late1 --xml "$LAB_DIR/late.xml"
log2=$LAB_DIR/node2/log/clusterd.log
from=$(($(wc -l <"$log2") + 1))
lab start 2 clusterd >/dev/null
wait_for 120 "node2 back, the three agree" all_three_agree
assert_eq "$(vms_on 2)" "$((N + 1))" "node2 holds the VM added while it was away"
since=$(tail -n "+$from" "$log2")
# the round it missed and the VM added meanwhile, at least
assert_match "$(grep -a 'caught up from' <<<"$since" || :)" "by ([2-9]|[1-9][0-9]+) change\(s\) from node" \
	"node2 caught up by just the changes it missed"
[[ $(grep -ac 'adopting state' <<<"$since" || :) == 0 ]] || fail "node2 took a whole snapshot"
pass "node2 took no snapshot"

lab_test_end
