#!/bin/bash
# clusterctl debug dump against a real 3-node lab: from node1 it fetches
# every node's blackbox (the ring of recent debug messages), status and
# state version into one .tar.gz; each node's text holds the change made
# just before. clusterd killed by SIGSEGV on node3 writes its blackbox to
# STATE_DIR/blackbox before it dies; a dump while node3's clusterd is down
# lists node3 as missing, and still brings the two others.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "debug dump"

lab up --nodes 3
wait_for 60 "all three nodes synced" all_three_agree
lab exec 1 clusterctl property set flap-limit 3

# dump_json FILE: clusterctl debug dump --json on node1, the archive in FILE
dump_json() { lab exec 1 clusterctl debug dump --json --output "$1"; }
out=$(dump_json "$LAB_DIR/dump1.tar.gz")
assert_eq "$(jq -r '[.nodes[] | select(.ok) | .node] | sort | join(",")' <<<"$out")" \
	node1,node2,node3 "debug dump lists the three nodes ok"
assert_eq "$(jq -r '.missing | length' <<<"$out")" 0 "no node missing"
assert_eq "$(jq -r .archive <<<"$out")" "$LAB_DIR/dump1.tar.gz" "it names the archive"
x=$LAB_DIR/dump1
mkdir -p "$x"
tar -xzf "$LAB_DIR/dump1.tar.gz" -C "$x"
for i in 1 2 3; do
	f=$x/dump1/node$i-blackbox.txt
	[[ -s $f ]] || fail "node$i's blackbox is missing or empty in the archive"
	assert_match "$(grep -c . "$f")" '^[1-9][0-9]*$' "node$i's blackbox has lines"
	grep -q "applied property.set flap-limit" "$f" ||
		fail "node$i's blackbox lacks the property set made just before"
	pass "node$i's blackbox holds the property set made just before"
	assert_match "$(jq -r '.version.epoch' "$x/dump1/node$i-status.json")" '^[1-9][0-9]*$' \
		"node$i's state version is in the archive"
	assert_eq "$(jq -r '.status.local_node_name' "$x/dump1/node$i-status.json")" "node$i" \
		"node$i's status is in the archive"
done
assert_eq "$(jq -r '.nodes | length' "$x/dump1/summary.json")" 3 "the summary lists three nodes"

# --- a crash: SIGSEGV on node3's clusterd
pid=$(cat "$LAB_DIR/node3/clusterd.pid")
[[ $pid =~ ^[0-9]+$ ]] || fail "no pid for node3's clusterd"
kill -SEGV "$pid"
gone() { ! kill -0 "$pid" 2>/dev/null || [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]]; }
wait_for 15 "node3's clusterd died" gone
crash_file() { compgen -G "$LAB_DIR/node3/state/blackbox/clusterd-blackbox-node3-*-crash" >/dev/null; }
wait_for 5 "node3's crash blackbox in its state directory" crash_file
f=$(compgen -G "$LAB_DIR/node3/state/blackbox/clusterd-blackbox-node3-*-crash" | head -n 1)
[[ -s $f ]] || fail "the crash blackbox $f is empty"
pass "the crash blackbox $(basename "$f") is not empty"
if command -v qb-blackbox >/dev/null; then
	assert_match "$(qb-blackbox "$f" 2>/dev/null | tail -n 200)" "." "qb-blackbox reads the crash file"
fi

# --- a dump while node3's clusterd is down
left3() { [[ $(member_in_view 1 3) == false ]]; }
wait_for 30 "node1 sees node3 gone" left3
out=$(dump_json "$LAB_DIR/dump2.tar.gz")
assert_eq "$(jq -r '.missing | join(",")' <<<"$out")" node3 "node3 listed as missing"
assert_eq "$(jq -r '[.nodes[] | select(.ok) | .node] | sort | join(",")' <<<"$out")" \
	node1,node2 "node1 and node2 still dumped"
[[ -s $LAB_DIR/dump2.tar.gz ]] || fail "no second archive"
assert_match "$(tar -tzf "$LAB_DIR/dump2.tar.gz")" "node2-blackbox.txt" "the second archive holds node2's text"

lab_test_end
