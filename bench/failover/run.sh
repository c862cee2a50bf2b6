#!/bin/bash
# bench/failover/run.sh - failover after SIGKILL of a node: clusterd against
# Debian's Pacemaker (corosync + pacemaker + ocf:heartbeat:VirtualDomain),
# in the same lab (tests/lab/lab), the same corosync (token 1000 ms), the
# same test guests (tests/guest/, 128 MiB, TCG). A benchmark, not a test.
#
#   bench/failover/run.sh [--reps N] [--vms N] [--only ours|pacemaker]
#
# Per repetition: the node running the most VMs is SIGKILLed ("lab kill");
# a client polls every VM with udp-probe every 10 ms the whole time. Printed:
#   outage     the client-seen gap of each VM of the dead node (udp-probe
#              max_gap.ms): SIGKILL ... first answer from the new host
#   memb       SIGKILL until a survivor's corosync has the new membership
#              (corosync-cmapctl -T runtime.members. on a survivor,
#              timestamped on arrival); the same mechanism for both systems
#   launch     membership change until libvirt began starting the VM on its
#              new node (the "starting up" line of libvirt's QEMU log, ms)
#   answer     membership change until the VM answered again
# "all" is the maximum over the dead node's VMs (when every one is back).
# Pacemaker fences with fence_dummy (fence-agents), which reports success at
# once: the fastest fencing Pacemaker can have; clusterd waits for the dead
# node's host lease on the shared volume to expire (csvfs, --expiry-ms 3200).
#
# Needs root, the lab's packages, and pacemaker pacemaker-cli-utils
# resource-agents fence-agents (apt-get install --no-install-recommends).
# Runs its own lab: CD_LAB_PREFIX (default cdbf), CD_LAB_DIR (default
# /tmp/cdbf); the default lab (cdlab) is never touched.
set -euo pipefail
shopt -s nullglob

REPS=3 NVMS=4 ONLY=
while (($#)); do
	case $1 in
	--reps) REPS=$2; shift 2 ;;
	--vms) NVMS=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $0 [--reps N] [--vms N] [--only ours|pacemaker]" >&2; exit 2 ;;
	esac
done
[[ $EUID -eq 0 ]] || { echo "run.sh: must run as root" >&2; exit 1; }
((NVMS >= 1 && NVMS <= 9)) || { echo "run.sh: --vms 1..9" >&2; exit 2; }

top=$(cd "$(dirname "$0")/../.." && pwd)
export CD_LAB_PREFIX=${CD_LAB_PREFIX:-cdbf}
export CD_LAB_DIR=${CD_LAB_DIR:-/tmp/cdbf}
[[ $CD_LAB_PREFIX != cdlab ]] || { echo "run.sh: refusing the default lab prefix cdlab" >&2; exit 1; }
LAB=$top/tests/lab/lab
D=$CD_LAB_DIR
# a build dir without clusterd: the lab then starts corosync and libvirtd only
NOBUILD=$(mktemp -d /tmp/cdbf-nobuild.XXXXXX)
RES=$(mktemp -d /tmp/cdbf-results.XXXXXX)
G=${CD_GUEST_DIR:-/var/cache/clusterd-guest}
PROBE=$G/udp-probe
TOKEN=1000

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
# shellcheck source=bench/pacemaker.sh
. "$top/bench/pacemaker.sh"

# background processes this script started (probes, trackers, and
# pacemakerd's nsenter: PM_PIDS): killed by PID on exit
declare -a MY_PIDS=()
cleanup() {
	local rc=$? p
	trap - EXIT INT TERM
	for p in "${MY_PIDS[@]}" "${PM_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || :; done
	sleep 0.3
	for p in "${MY_PIDS[@]}" "${PM_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || :; done
	"$LAB" down >/dev/null 2>&1 || "$LAB" down >&2 || :
	rm -rf -- "$NOBUILD"
	log "raw results kept in $RES"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_for() { # SECS DESC CMD...
	local secs=$1 desc=$2 deadline
	shift 2
	deadline=$(($(now_ms) + secs * 1000))
	until "$@" >/dev/null 2>&1; do
		(($(now_ms) < deadline)) || die "timed out after ${secs}s: $desc"
		sleep 0.1
	done
}

for p in pacemakerd cibadmin crm_mon crm_resource fence_dummy; do
	[[ -n $ONLY && $ONLY == ours ]] || command -v $p >/dev/null ||
		die "$p missing: apt-get install --no-install-recommends pacemaker pacemaker-cli-utils resource-agents fence-agents"
done
[[ -n $ONLY && $ONLY == ours ]] || [[ -x /usr/lib/ocf/resource.d/heartbeat/VirtualDomain ]] || die "resource-agents missing"
bash "$top/tests/guest/build-guest.sh" >/dev/null

declare -A IP=()
VMS=()
for ((k = 1; k <= NVMS; k++)); do VMS+=("vm$k"); IP[vm$k]=198.18.0.$((20 + k)); done

answers() { "$LAB" exec client "$PROBE" "$1" --once --timeout-ms 300 >/dev/null 2>&1; }
all_answer() { local v; for v in "${VMS[@]}"; do answers "${IP[$v]}" || return 1; done; }

# The lab bind-mounts private dirs over /var/lib/libvirt etc. in each node;
# if another lab removes a mount point it made on the host, the mount
# vanishes from our nodes (seen once). Repair: bind again, restart libvirtd.
check_node_mounts() {
	local i=$1 m src
	for m in lib:/var/lib/libvirt log:/var/log/libvirt; do
		src=$D/node$i/libvirt/${m%%:*}
		if ! "$LAB" exec "$i" awk -v p="${m#*:}" '$5 == p { f = 1 } END { exit !f }' /proc/self/mountinfo; then
			log "node$i: ${m#*:} not mounted (another lab removed the host mount point?): repairing"
			mkdir -p "${m#*:}"
			"$LAB" exec "$i" mount --bind "$src" "${m#*:}"
			"$LAB" kill "$i" libvirtd >/dev/null 2>&1 || :
			"$LAB" start "$i" libvirtd >/dev/null
		fi
	done
}

# write the domain XMLs (same for both systems)
write_xmls() {
	local v
	for v in "${VMS[@]}"; do
		bash "$top/tests/guest/domain.sh" --console "$D/$v-console.log" "$v" "${IP[$v]}" 128 1 >"$D/$v.xml"
	done
}

# --- membership tracker: corosync-cmapctl -T runtime.members. on node $1,
# every line stamped with the wall clock in ms when it arrives
tracker_start() {
	local node=$1 out=$2
	# stdin: a pipe that stays open (cmapctl ends on "q" or EOF)
	(
		exec < <(sleep 600)
		"$LAB" exec "$node" stdbuf -oL corosync-cmapctl -T runtime.members. 2>&1 |
			while IFS= read -r line; do
				t=${EPOCHREALTIME/./}
				echo "$((10#$t / 1000)) $line"
			done
	) >"$out" &
	TRACKER_PID=$!
	MY_PIDS+=("$TRACKER_PID")
	sleep 0.5 # cmapctl is tracking
}
tracker_stop() {
	pkill -INT -P "$TRACKER_PID" 2>/dev/null || :
	# the subshell's children: lab exec (nsenter -> cmapctl) and the loop
	local c
	for c in $(cat /proc/"$TRACKER_PID"/task/*/children 2>/dev/null); do
		kill -TERM "$c" 2>/dev/null || :
	done
	kill -TERM "$TRACKER_PID" 2>/dev/null || :
	wait "$TRACKER_PID" 2>/dev/null || :
}
# first event after T0 (ms) in tracker output FILE
tracker_first() {
	awk -v t0="$2" '$1 >= t0 && /runtime\.members/ { print $1; exit }' "$1"
}

declare -a PROBE_PIDS=()
probes_start() { # TAG
	local v
	PROBE_PIDS=()
	for v in "${VMS[@]}"; do
		"$LAB" exec client "$PROBE" "${IP[$v]}" --interval-ms 10 --timeout-ms 300 --json >"$RES/$1-probe-$v.json" 2>/dev/null &
		PROBE_PIDS+=($!)
		MY_PIDS+=($!)
	done
	sleep 0.5
}
probes_stop() {
	local p
	for p in "${PROBE_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || :; done
	for p in "${PROBE_PIDS[@]}"; do wait "$p" 2>/dev/null || :; done
}

# libvirt's last "starting up" time (unix ms) of DOM on node I
qemu_started_ms() {
	local f=$D/node$1/libvirt/log/qemu/$2.log line
	[[ -f $f ]] || return 1
	line=$(grep 'starting up' "$f" | tail -n1) || return 1
	[[ -n $line ]] || return 1
	date -d "$(cut -c1-28 <<<"$line" | sed 's/+0000$/ UTC/; s/: *$//')" +%s%3N
}

# record_rep SYSTEM REP VICTIM T_KILL T_MEMB "VM@NEWNODE ..." -> results line per VM
record_rep() {
	local sys=$1 rep=$2 victim=$3 tkill=$4 tmemb=$5 moved=$6 x v node tq
	for x in $moved; do
		v=${x%@*} node=${x#*@}
		tq=$(qemu_started_ms "$node" "$v" || echo 0)
		python3 - "$RES/$sys-r$rep-probe-$v.json" "$sys" "$rep" "$victim" "$v" "$node" "$tkill" "$tmemb" "$tq" <<'EOF' >>"$RES/results.txt"
import json, sys
f, sysname, rep, victim, vm, node, tkill, tmemb, tq = sys.argv[1:]
d = json.load(open(f))
tkill, tmemb, tq = int(tkill), int(tmemb), int(tq)
g = d["max_gap"]
back = d["start_unix_ms"] + g["to_ms"]
print(sysname, rep, victim, vm, node, "%.0f" % g["ms"], tmemb - tkill,
      (tq - tmemb) if tq else "nan", "%.0f" % (back - tmemb),
      1 if d.get("interleaved") else 0, len(d["boots"]))
EOF
	done
}

# one failover round: SYS REP; needs: busiest_SYS, placement_SYS, settle_SYS
run_round() {
	local sys=$1 rep=$2 victim viewer before after tkill tmemb moved v n
	victim=$("busiest_$sys")
	[[ -n $victim ]] || die "$sys: no VM runs"
	viewer=$((victim == 1 ? 2 : 1))
	before=$("placement_$sys" "$viewer")
	log "$sys rep $rep: placement $before; killing node$victim"
	tracker_start "$viewer" "$RES/$sys-r$rep-members.txt"
	probes_start "$sys-r$rep"
	wait_for 10 "probes answered" all_answer
	tkill=$(now_ms)
	"$LAB" kill "$victim" >/dev/null
	wait_for 120 "$sys rep $rep: every VM answers again" all_answer
	local tall=$(now_ms)
	sleep 0.3
	probes_stop
	tracker_stop
	tmemb=$(tracker_first "$RES/$sys-r$rep-members.txt" "$tkill")
	[[ -n $tmemb ]] || { log "$sys rep $rep: no membership event seen; using the kill time"; tmemb=$tkill; }
	after=$("placement_$sys" "$viewer")
	moved=""
	for v in "${VMS[@]}"; do
		if grep -qw "$v@$victim" <<<"$before"; then
			n=$(grep -ow "$v@[0-9]*" <<<"$after" | cut -d@ -f2)
			moved+=" $v@${n:-0}"
		fi
	done
	log "$sys rep $rep: membership after $((tmemb - tkill)) ms, all back after $((tall - tkill)) ms;$moved"
	record_rep "$sys" "$rep" "$victim" "$tkill" "$tmemb" "$moved"
	"$LAB" start "$victim" >/dev/null 2>&1
	"settle_$sys" "$victim"
}

# ================================================================= ours
busiest_ours() {
	"$LAB" exec 1 clusterctl --json vm list | python3 -c '
import collections, json, sys
c = collections.Counter(v["node"] for v in json.load(sys.stdin)["vms"] if v["node"])
print(str(max(sorted(c), key=lambda n: c[n])).removeprefix("node") if c else "")'
}
placement_ours() {
	"$LAB" exec "$1" clusterctl --json vm list | python3 -c '
import json, sys
print(" ".join("%s@%s" % (v["name"], str(v["node"]).removeprefix("node")) for v in json.load(sys.stdin)["vms"] if v["node"]))'
}
ours_whole() {
	local i out
	for i in 1 2 3; do
		out=$("$LAB" exec "$i" clusterctl --json volume show vol1) || return 1
		[[ $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["local"]["host_lease_valid"])' "$out") == True ]] || return 1
		out=$("$LAB" exec "$i" clusterctl status --json) || return 1
		[[ $(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["synced"] and d["quorate"])' "$out") == True ]] || return 1
	done
}
settle_ours() {
	check_node_mounts "$1"
	wait_for 90 "clusterd: node$1 rejoined, leases valid" ours_whole
	wait_for 60 "all VMs answer" all_answer
	sleep 2
}
bench_ours() {
	log "=== ours: clusterd"
	export CD_LAB_CLUSTERD_EXTRA="vm_stop_timeout_ms = 2000
vm_monitor_interval_ms = 500
libvirt_timeout_ms = 5000"
	CD_BUILDDIR=$top "$LAB" up --nodes 3 --token $TOKEN >/dev/null 2>&1 || die "lab up failed"
	local i v lun
	for i in 1 2 3; do check_node_mounts "$i"; done
	lun=$("$LAB" lun)
	"$top/csvfs/csvfs" format "$lun" --name vol1 --hosts 8 --expiry-ms 3200 >/dev/null
	"$LAB" exec 1 clusterctl volume add vol1 "$lun" >/dev/null
	write_xmls
	for v in "${VMS[@]}"; do
		"$LAB" exec 1 clusterctl vm add "$v" --xml "$D/$v.xml" >/dev/null
		"$LAB" exec 1 clusterctl vm start "$v" >/dev/null
	done
	wait_for 60 "clusterd: leases valid everywhere" ours_whole
	wait_for 120 "all VMs answer" all_answer
	sleep 2
	for ((r = 1; r <= REPS; r++)); do run_round ours "$r"; done
	"$LAB" down >/dev/null 2>&1 || "$LAB" down >&2
	unset CD_LAB_CLUSTERD_EXTRA
}

# ============================================================ pacemaker
# pm_start_node and pm_online: bench/pacemaker.sh
pm_start_node_here() {
	check_node_mounts "$1"
	pm_start_node "$1"
}
placement_pacemaker() {
	local v out
	for v in "${VMS[@]}"; do
		out=$("$LAB" exec "$1" crm_resource --locate -r "$v" 2>/dev/null | grep -o 'running on: node[0-9]*' | head -n1) || :
		[[ -n $out ]] && printf '%s@%s ' "$v" "${out##*node}"
	done
	echo
}
busiest_pacemaker() {
	placement_pacemaker 1 | tr ' ' '\n' | sed -n 's/.*@//p' | sort | uniq -c | sort -k1,1nr -k2,2n | awk 'NR == 1 { print $2 }'
}
pm_all_started() {
	local p
	p=$(placement_pacemaker "$1")
	[[ $(wc -w <<<"$p") -eq $NVMS ]]
}
settle_pacemaker() {
	local i=$1
	pm_start_node_here "$i"
	wait_for 90 "pacemaker: node$i online again" pm_online 1
	wait_for 60 "all VMs answer" all_answer
	sleep 3
}
bench_pacemaker() {
	log "=== Pacemaker (Debian $(dpkg-query -W -f '${Version}' pacemaker), VirtualDomain, fence_dummy)"
	CD_BUILDDIR=$NOBUILD "$LAB" up --nodes 3 --token $TOKEN --lun-size 0 >/dev/null 2>&1 || die "lab up failed"
	local i v
	for i in 1 2 3; do pm_start_node_here "$i"; done
	wait_for 90 "pacemaker: 3 nodes online with a DC" pm_online 1
	write_xmls
	"$LAB" exec 1 sh -c '
set -e
crm_attribute -t crm_config -n stonith-enabled -v true
crm_attribute -t crm_config -n load-threshold -v 10000%
crm_attribute -t rsc_defaults -n resource-stickiness -v 100
cibadmin --create -o resources --xml-text "<primitive id=\"fence1\" class=\"stonith\" type=\"fence_dummy\"><instance_attributes id=\"fence1-ia\"><nvpair id=\"fence1-hl\" name=\"pcmk_host_list\" value=\"node1 node2 node3\"/><nvpair id=\"fence1-sf\" name=\"status_file\" value=\"/run/fence_dummy.status\"/></instance_attributes><operations><op id=\"fence1-mon\" name=\"monitor\" interval=\"60s\"/></operations></primitive>"
' >/dev/null
	for v in "${VMS[@]}"; do
		"$LAB" exec 1 cibadmin --create -o resources --xml-text "<primitive id=\"$v\" class=\"ocf\" provider=\"heartbeat\" type=\"VirtualDomain\"><instance_attributes id=\"$v-ia\"><nvpair id=\"$v-cfg\" name=\"config\" value=\"$D/$v.xml\"/><nvpair id=\"$v-hv\" name=\"hypervisor\" value=\"qemu:///system\"/></instance_attributes><operations><op id=\"$v-mon\" name=\"monitor\" interval=\"1s\" timeout=\"30s\"/><op id=\"$v-start\" name=\"start\" interval=\"0\" timeout=\"90s\"/><op id=\"$v-stop\" name=\"stop\" interval=\"0\" timeout=\"90s\"/></operations></primitive>"
	done
	wait_for 120 "pacemaker: all VMs started" pm_all_started 1
	wait_for 120 "all VMs answer" all_answer
	sleep 3
	for ((r = 1; r <= REPS; r++)); do run_round pacemaker "$r"; done
	"$LAB" exec 1 crm_mon -1 >"$RES/pacemaker-crm_mon.txt" 2>&1 || :
	cp -r "$D/pm" "$RES/pacemaker-logs" 2>/dev/null || :
	"$LAB" down >/dev/null 2>&1 || "$LAB" down >&2
}

# ================================================================ report
: >"$RES/results.txt"
[[ $ONLY == pacemaker ]] || bench_ours
[[ $ONLY == ours ]] || bench_pacemaker

python3 - "$RES/results.txt" "$TOKEN" <<'EOF'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
def num(x):
    try: return float(x)
    except ValueError: return float("nan")
print()
print("Failover after SIGKILL of the node running the most VMs; 3 nodes, corosync token %s ms," % sys.argv[2])
print("test guests 128 MiB (TCG), client probes every 10 ms. Times in ms.")
print("memb: SIGKILL -> new corosync membership on a survivor; launch/answer: after the membership change")
print("until libvirt starts QEMU on the new node / until the VM answers the client.")
print()
print("%-10s %3s %6s %-4s %5s %7s %6s %7s %7s %s" % ("system", "rep", "victim", "vm", "to", "outage", "memb", "launch", "answer", "notes"))
for r in rows:
    sysn, rep, victim, vm, node, out, memb, launch, ans, inter, boots = r
    note = []
    if inter == "1": note.append("ANSWERED-TWICE")
    print("%-10s %3s %6s %-4s %5s %7s %6s %7s %7s %s" % (sysn, rep, "node" + victim, vm, "node" + node, out, memb, launch, ans, " ".join(note)))
print()
summ = {}
for sysn in ("ours", "pacemaker"):
    rs = [r for r in rows if r[0] == sysn]
    if not rs: continue
    reps = sorted(set(r[1] for r in rs))
    per = {
        "outage per VM": [num(r[5]) for r in rs],
        "memb": [num(r[6]) for r in rs],
        "launch per VM": [num(r[7]) for r in rs],
        "answer per VM": [num(r[8]) for r in rs],
        "launch all": [max(num(r[7]) for r in rs if r[1] == p) for p in reps],
        "answer all": [max(num(r[8]) for r in rs if r[1] == p) for p in reps],
        "outage all": [max(num(r[5]) for r in rs if r[1] == p) for p in reps],
    }
    summ[sysn] = per
keys = ["outage per VM", "outage all", "memb", "launch per VM", "launch all", "answer per VM", "answer all"]
def fmt(v):
    v = [x for x in v if x == x]
    if not v: return "-"
    return "%6.0f (%.0f-%.0f)" % (st.median(v), min(v), max(v))
print("%-15s %-22s %-22s %s" % ("median (min-max)", "ours", "pacemaker", "ours/pacemaker"))
for k in keys:
    a = summ.get("ours", {}).get(k, [])
    b = summ.get("pacemaker", {}).get(k, [])
    ra = "-"
    va = [x for x in a if x == x]; vb = [x for x in b if x == x]
    if va and vb and st.median(vb) > 0:
        ra = "%.2f" % (st.median(va) / st.median(vb))
    print("%-15s %-22s %-22s %s" % (k, fmt(a), fmt(b), ra))
print()
print("Pacemaker fences with fence_dummy, which succeeds at once: the fastest fencing it can have")
print("(a real fence device adds its own time). clusterd waits for the dead node's host lease on")
print("the shared volume (csvfs --expiry-ms 3200) before it restarts the VMs elsewhere.")
EOF
