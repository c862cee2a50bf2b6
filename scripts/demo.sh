#!/bin/bash
# The demo: install what is needed, build, bring up a 3-node lab cluster on
# this machine and show it at work. Run as root on Debian 12.
# The lab stays up afterwards so you can try clusterctl yourself;
# remove it with: tests/lab/lab down
set -euo pipefail
cd "$(dirname "$0")/.."
lab=tests/lab/lab

bash scripts/deps.sh
bash scripts/build.sh

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

"$lab" down >/dev/null 2>&1 || true
say "Bringing up a 3-node cluster (corosync + clusterd per node, in network namespaces)"
"$lab" up --nodes 3

say "Cluster status, as node 1 sees it"
run "$lab" exec 1 clusterctl status

say "A cluster-wide property set on node 1 is read on node 3"
run "$lab" exec 1 clusterctl property set maintenance-window "Sun 02:00-04:00"
run "$lab" exec 3 clusterctl property get maintenance-window

say "Power off node 2 (SIGKILL of all its processes); nodes 1 and 3 carry on"
run "$lab" kill 2
for _ in $(seq 1 100); do
	"$lab" exec 1 clusterctl --json node show node2 2>/dev/null | grep -q '"state":"offline"' && break
	sleep 0.1
done
run "$lab" exec 1 clusterctl status

say "Start node 2 again: it rejoins with the current state"
run "$lab" start 2
for _ in $(seq 1 200); do
	"$lab" exec 2 clusterctl --json status 2>/dev/null | grep -q '"quorate":true' && break
	sleep 0.1
done
run "$lab" exec 2 clusterctl property get maintenance-window
run "$lab" exec 2 clusterctl status

say "Build the test guest (Debian's cloud kernel + busybox + our UDP agent), add it as a cluster VM"
bash tests/guest/build-guest.sh >/dev/null
G=${CD_GUEST_DIR:-/var/cache/clusterd-guest}
lab_dir=${CD_LAB_DIR:-/tmp/cdlab}
bash tests/guest/domain.sh --console "$lab_dir/web1-console.log" web1 198.18.0.21 128 1 >"$lab_dir/web1.xml"
run "$lab" exec 1 clusterctl vm add web1 --xml "$lab_dir/web1.xml"
run "$lab" exec 1 clusterctl vm set web1 priority=high preferred-owners=node3,node2
run "$lab" exec 1 clusterctl vm start web1
for _ in $(seq 1 600); do
	"$lab" exec 1 clusterctl --json vm show web1 2>/dev/null | grep -q '"state":"running"' && break
	sleep 0.1
done
run "$lab" exec 1 clusterctl vm list
run "$lab" exec 1 clusterctl vm explain web1
say "Its identity is fixed in the cluster (the XML given had no UUID and no MAC), and its node runs it with exactly that"
run "$lab" exec 1 sh -c "clusterctl vm show web1 | grep -E '^(UUID|MAC)'"
on=$("$lab" exec 1 clusterctl --json vm show web1 | sed -n 's/.*"node_name":"node\([0-9]*\)".*/\1/p')
run "$lab" exec "$on" sh -c "virsh -q domuuid web1; virsh -q domiflist web1"
say "The guest answers a client on the lab LAN"
for _ in $(seq 1 300); do
	"$lab" exec client "$G/udp-probe" 198.18.0.21 --once --timeout-ms 200 >/dev/null 2>&1 && break
done
run "$lab" exec client "$G/udp-probe" 198.18.0.21 --once

say "A shared volume: format the lab's LUN with csvfs, add it, create a file from node 2"
lun=$("$lab" lun)
run csvfs/csvfs format "$lun" --name vol1 --hosts 8 --expiry-ms 3200 --force
run "$lab" exec 1 clusterctl volume add vol1 "$lun"
for _ in $(seq 1 100); do
	"$lab" exec 2 clusterctl --json volume show vol1 2>/dev/null | grep -q '"host_lease_valid":true' && break
	sleep 0.1
done
run "$lab" exec 2 clusterctl volume file create vol1 disk1 64M
for _ in $(seq 1 50); do "$lab" exec 3 test -b /run/csvfs/vol1/disk1 && break; sleep 0.1; done
run "$lab" exec 3 clusterctl volume show vol1
say "Node 3 writes with O_DIRECT, node 1 reads the same bytes"
run "$lab" exec 3 sh -c 'echo "written on node3 at $(date)" | dd of=/run/csvfs/vol1/disk1 bs=4096 conv=sync oflag=direct status=none'
run "$lab" exec 1 sh -c 'dd if=/run/csvfs/vol1/disk1 bs=4096 count=1 iflag=direct status=none | head -1'

say "Is the cluster ready to fail over? Every node a member, configs and clocks alike, a failover path for every VM"
run "$lab" exec 1 clusterctl cluster check || true

say "A move's preflight: where web1 could go, and every reason a node cannot take it"
run "$lab" exec 1 clusterctl vm move web1 --check
on=$("$lab" exec 1 clusterctl --json vm show web1 | sed -n 's/.*"node_name":"node\([0-9]*\)".*/\1/p')
run "$lab" exec 1 sh -c "clusterctl vm move web1 node$on --check || true"

# watched HOW CMD...: CMD (run on node 1) while a client polls web1 every
# 10 ms, and what the client saw during the HOW move
watched() {
	local how=$1 probe_pid
	shift
	"$lab" exec client "$G/udp-probe" 198.18.0.21 --interval-ms 10 --timeout-ms 300 --json >"$lab_dir/probe-move.json" 2>/dev/null &
	probe_pid=$!
	for _ in $(seq 1 100); do
		"$lab" exec client "$G/udp-probe" 198.18.0.21 --once --timeout-ms 200 >/dev/null 2>&1 && break
	done
	run "$lab" exec 1 "$@"
	kill -INT "$probe_pid" 2>/dev/null || true
	wait "$probe_pid" || true
	python3 - "$lab_dir/probe-move.json" "$how" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("client: %d boot(s) of web1 answered%s; longest gap the client saw during the %s move: %.0f ms"
      % (len(d["boots"]), ", never two at once" if not d["interleaved"] else ", TWO AT ONCE",
         sys.argv[2], d["max_gap"]["ms"]))
PY
}
# moved_watched HOW ARGS...: clusterctl vm move web1 ARGS --wait, watched
moved_watched() {
	local how=$1
	shift
	watched "$how" clusterctl vm move web1 "$@" --wait
}

say "Live-migrate web1 while a client polls it every 10 ms: one boot answers throughout, from one node at a time"
moved_watched live
run "$lab" exec 1 sh -c "clusterctl events | grep 'move' | tail -n 5"

say "Quick-migrate web1: paused, its memory saved into a file on the shared volume, restored on another node as the file is written"
moved_watched quick --mode quick
run "$lab" exec 1 sh -c "clusterctl events | grep -E 'saved|quick' | tail -n 4"

say "Planned maintenance: drain the node running web1. The plan first (a dry run changes nothing), then the drain: its VMs move away, live first"
on=$("$lab" exec 1 clusterctl --json vm show web1 | sed -n 's/.*"node_name":"node\([0-9]*\)".*/\1/p')
run "$lab" exec 1 clusterctl node drain "node$on" --dry-run
watched drain clusterctl node drain "node$on" --wait
run "$lab" exec 1 clusterctl node list
say "Maintenance over: node$on takes VMs again"
run "$lab" exec 1 clusterctl node resume "node$on"

say "Fail over: power off the node running web1; the survivors restart it once its host lease has expired"
from=$("$lab" exec 1 clusterctl --json vm show web1 | sed -n 's/.*"node_name":"node\([0-9]*\)".*/\1/p')
viewer=1; [[ $from == 1 ]] && viewer=2
run "$lab" kill "$from"
for _ in $(seq 1 600); do
	"$lab" exec "$viewer" clusterctl --json vm show web1 2>/dev/null |
		grep -q "\"state\":\"running\".*\"node_name\":\"node[^$from]\"" && break
	sleep 0.1
done
run "$lab" exec "$viewer" clusterctl vm list
on=$("$lab" exec "$viewer" clusterctl --json vm show web1 | sed -n 's/.*"node_name":"node\([0-9]*\)".*/\1/p')
say "The same UUID and MAC on its new node, announced to the network as it started"
run "$lab" exec "$on" sh -c "virsh -q domuuid web1; virsh -q domiflist web1"
for _ in $(seq 1 300); do
	"$lab" exec client "$G/udp-probe" 198.18.0.21 --once --timeout-ms 200 >/dev/null 2>&1 && break
done
run "$lab" exec client "$G/udp-probe" 198.18.0.21 --once
say "What happened and why, as the cluster recorded it"
run "$lab" exec "$viewer" sh -c "clusterctl events | tail -n 12"
run "$lab" start "$from"
say "Diagnostics: every node's blackbox (its recent log in detail), status and state version in one archive"
run "$lab" exec 1 clusterctl debug dump --output "$lab_dir/debug-dump.tar.gz" || true

say "The lab is still up. Try: $lab exec 1 clusterctl status | $lab status | $lab down"
