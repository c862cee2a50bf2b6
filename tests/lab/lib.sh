# shellcheck shell=bash disable=SC2034 # WAIT_FOR_MS is for the tests that source this
# lib.sh - helpers for lab tests (tests/lab/*). Source it from bash:
#
#   . "$(dirname "$0")/lib.sh"
#   lab_test_begin "failover after node kill"
#   lab up
#   wait_for 20 "node 1 sees 2 members" cs_members_are 1 2
#   assert_eq "$(json_get "$(lab exec 1 clusterctl status --json)" 'd["quorate"]')" true "quorate"
#   lab_test_end
#
# Output is TAP-like: "ok N - ...", "not ok N - ...", then "1..N" and a
# "# NAME: X passed, Y failed" line. A failure ends the test at once (a lab
# in an unexpected state makes later checks meaningless); the exit trap
# prints the summary, saves or prints the node logs and runs "lab down".
#
# Environment: CD_LAB_KEEP=1 leaves the lab up at the end (for a look
# around; "lab down" when done). CD_LAB_ARTIFACTS=DIR copies the lab's logs
# there when a test fails (default: print their last lines).

LAB=$(readlink -f -- "$(dirname -- "${BASH_SOURCE[0]}")/lab")
LAB_DIR=${CD_LAB_DIR:-/tmp/cdlab}
export LAB LAB_DIR

LAB_TEST_SCRIPT=$(basename -- "$0" .sh)
LAB_TEST_NAME=${LAB_TEST_NAME:-$LAB_TEST_SCRIPT}
LAB_PASSED=0
LAB_FAILED=0
LAB_COUNT=0
LAB_ENDED=0
# milliseconds the last wait_for took (for measurements, read by tests)
WAIT_FOR_MS=0

lab() { "$LAB" "$@"; }

_lab_now_ms() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }

pass() {
	LAB_COUNT=$((LAB_COUNT + 1))
	LAB_PASSED=$((LAB_PASSED + 1))
	echo "ok $LAB_COUNT - $*"
}

# fail MSG: record a failure and end the test (exit 1; the trap cleans up)
fail() {
	LAB_COUNT=$((LAB_COUNT + 1))
	LAB_FAILED=$((LAB_FAILED + 1))
	echo "not ok $LAB_COUNT - $*"
	exit 1
}

# assert_eq ACTUAL EXPECTED [MSG]
assert_eq() {
	local msg=${3:-"'$1' = '$2'"}
	if [[ $1 == "$2" ]]; then
		pass "$msg"
	else
		fail "$msg (got '$1', expected '$2')"
	fi
}

# assert_match TEXT ERE [MSG]
assert_match() {
	local msg=${3:-"matches /$2/"}
	if [[ $1 =~ $2 ]]; then
		pass "$msg"
	else
		fail "$msg (got '$1', expected to match /$2/)"
	fi
}

# wait_for SECONDS DESCRIPTION CMD...: run CMD every 0.1 s (output hidden)
# until it succeeds; past the deadline fail the test with DESCRIPTION and
# CMD's last output. Sets WAIT_FOR_MS to the time it took. No pass line:
# follow with pass or an assertion if the wait is itself a check.
# CMD is run again on every try, but its arguments are expanded once, at
# the call: wait for a function (vm_state_is, vm_runs_only, ...), never for
# [ "$(...)" = x ], which would compare the same first answer each time.
# scripts/check-waits.sh rejects that form.
# The deadline guards against a hang; it is no verdict on speed:
# CD_TEST_TIME_SCALE (an integer, default 1) multiplies it on a slow machine.
wait_for() {
	local secs=$(($1 * ${CD_TEST_TIME_SCALE:-1})) desc=$2 t0 deadline out=''
	shift 2
	t0=$(_lab_now_ms)
	deadline=$((t0 + secs * 1000))
	while :; do
		if out=$("$@" 2>&1); then
			WAIT_FOR_MS=$(($(_lab_now_ms) - t0))
			return 0
		fi
		if (($(_lab_now_ms) >= deadline)); then
			WAIT_FOR_MS=$(($(_lab_now_ms) - t0))
			[[ -z $out ]] || printf '# last output of %s:\n%s\n' "$*" "$out" | sed '2,$s/^/#   /'
			fail "timed out after ${secs}s: $desc"
		fi
		sleep 0.1
	done
}

# json_get JSON PYTHON_EXPR: evaluate EXPR with d = the parsed JSON; prints
# strings raw, numbers as is, and booleans, null, lists and objects as JSON
# (so true/false/null). Fails (status 1) if the JSON or the expression is bad.
json_get() {
	local path
	# A plain field (d["a"]["b"]) holding a string, number, true, false or
	# null is read by jq: the tests ask for thousands of fields, and python
	# starts ten times slower on a busy machine. Anything else, and any
	# field jq cannot read, goes to python, which says why it fails.
	if [[ $2 =~ ^d(\[\"[A-Za-z0-9_.-]+\"\])+$ ]]; then
		path=${2#d}
		path=${path//\]\[/,}
		jq -er --argjson p "$path" '(getpath($p[:-1])) as $o
			| if ($o | type) == "object" and ($o | has($p[-1])) then $o[$p[-1]] else error("no field") end
			| if type == "object" or type == "array" then error("not a plain value") else . end
			| if type == "number" and (. > 9007199254740991 or . < -9007199254740991) then error("beyond a double") else . end
			| if . == null then "null" else tostring end' <<<"$1" 2>/dev/null && return 0
	fi
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
v = eval(sys.argv[2], {"d": d, "json": json})
print(v if isinstance(v, str) else json.dumps(v))
' "$1" "$2"
}

# corosync's view from NODE: "MEMBERS QUORATE" (e.g. "3 Yes"), or fails
cs_quorum() {
	local out rc=0 nodes quorate
	out=$(lab exec "$1" corosync-quorumtool -s 2>/dev/null) || rc=$?
	[[ $rc -eq 0 || $rc -eq 2 ]] || return 1
	nodes=$(sed -n 's/^Nodes:[[:space:]]*\([0-9]*\).*/\1/p' <<<"$out")
	quorate=$(sed -n 's/^Quorate:[[:space:]]*\([A-Za-z]*\).*/\1/p' <<<"$out")
	[[ -n $nodes && -n $quorate ]] || return 1
	echo "$nodes $quorate"
}

# cs_members_are NODE COUNT [Yes|No]: corosync on NODE sees COUNT members
# (and is / is not quorate)
cs_members_are() {
	local q
	q=$(cs_quorum "$1") || return 1
	[[ ${q% *} == "$2" ]] || return 1
	[[ -z ${3:-} || ${q#* } == "$3" ]]
}

# lab_ping NODE|client ADDR [TIMEOUT_S]: one ICMP echo from inside NODE
# (ping itself is not installed on the lab machines; python3 is)
lab_ping() {
	lab exec "$1" python3 -c '
import os, socket, struct, sys, time
addr, timeout = sys.argv[1], float(sys.argv[2])
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xffff)
    return ~(t + (t >> 16)) & 0xffff
ident, payload = os.getpid() & 0xffff, b"cdlab-ping"
pkt = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + payload
pkt = pkt[:2] + struct.pack("!H", csum(pkt)) + pkt[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.sendto(pkt, (addr, 0))
deadline = time.monotonic() + timeout
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        sys.exit(1)
    s.settimeout(left)
    try:
        data, src = s.recvfrom(2048)
    except socket.timeout:
        sys.exit(1)
    ihl = (data[0] & 0xf) * 4
    typ, _, _, i, _ = struct.unpack("!BBHHH", data[ihl:ihl + 8])
    if typ == 0 and i == ident and src[0] == addr:
        sys.exit(0)
' "$2" "${3:-2}"
}

# clusterctl status --json on NODE
cd_status() { lab exec "$1" clusterctl status --json; }

# lab_nodes: number of nodes of the running lab
lab_nodes() { cat "$LAB_DIR/nodes"; }

# ---- libvirt (lab up without --no-libvirt, libvirtd installed)

# lab_virsh NODE ARGS...: virsh on NODE's own libvirtd (a 120 s cap, so a
# hung call fails the test instead of hanging it)
lab_virsh() {
	local node=$1
	shift
	lab exec "$node" timeout 120 virsh -c qemu:///system "$@"
}

# libvirtd_answers NODE: NODE's libvirtd answers virsh
libvirtd_answers() { lab_virsh "$1" -q list >/dev/null 2>&1; }

# vm_state NODE DOM: the domain's state on NODE ("running", "shut off",
# ...), or fails if NODE does not have it
vm_state() { lab_virsh "$1" domstate "$2" 2>/dev/null | sed '/^$/d'; }

# vm_running_on NODE DOM / vm_absent_on NODE DOM
vm_running_on() { [[ $(vm_state "$1" "$2") == running ]]; }
vm_absent_on() { ! lab_virsh "$1" -q list --all --name 2>/dev/null | grep -qxF -- "$2"; }

# lab_tiny_domain_xml NAME [MEM_MIB] [SERIAL_FILE]: a minimal TCG domain
# that boots nothing (QEMU runs; enough for start/stop/migration checks):
# no disk, a virtio NIC on the node's br0, serial to a file (default
# $LAB_DIR/NAME.serial), no graphics.
lab_tiny_domain_xml() {
	local name=$1 mem=${2:-64} serial=${3:-$LAB_DIR/$1.serial}
	cat <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>$mem</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <devices>
    <interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>
    <serial type='file'><source path='$serial'/></serial>
  </devices>
</domain>
EOF
}

# lab_qemu_pids [NODE]: "PID START" of every QEMU process in NODE (default:
# in every lab node), one a line
lab_qemu_pids() {
	local n i pid comm stat
	local -a nodes
	if [[ -n ${1:-} ]]; then
		nodes=("$1")
	else
		n=$(lab_nodes)
		for ((i = 1; i <= n; i++)); do nodes+=("$i"); done
	fi
	for i in "${nodes[@]}"; do
		[[ -e /run/netns/${CD_LAB_PREFIX:-cdlab}-n$i ]] || continue
		for pid in $(ip netns pids "${CD_LAB_PREFIX:-cdlab}-n$i" 2>/dev/null); do
			comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
			[[ $comm == qemu-system-* ]] || continue
			stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
			stat=${stat##*) }
			echo "$pid $(awk '{print $20}' <<<"$stat")"
		done
	done
}

# no_qemu_on NODE: no QEMU runs in NODE's namespaces
no_qemu_on() { [[ -z $(lab_qemu_pids "$1") ]]; }

# pid_exit_watch PID OUTFILE &: write to OUTFILE the wall clock in ms at
# which PID exits (through a pidfd, so the moment is exact whatever the
# test's polling costs). Run it in the background; wait for it.
pid_exit_watch() {
	python3 -c '
import os, select, sys, time
fd = os.pidfd_open(int(sys.argv[1]))
select.select([fd], [], [])
open(sys.argv[2], "w").write("%d\n" % (time.time() * 1000))
' "$1" "$2"
}

# pids_alive: read "PID START" lines on stdin, print those still running
# (same start time, not a zombie)
pids_alive() {
	local pid start s
	while read -r pid start; do
		[[ -n ${pid:-} && -r /proc/$pid/stat ]] || continue
		s=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $1, $20}') || continue
		[[ $s == "Z "* || ${s#* } != "$start" ]] || echo "$pid"
	done
	return 0
}

# ---- the shared LUN

# vm_nodes_running NAME: the nodes (nodeI ...) whose libvirtd runs domain NAME
vm_nodes_running() {
	local i n out="" names
	n=$(lab_nodes)
	for ((i = 1; i <= n; i++)); do
		# a virsh that fails (a busy libvirtd) is asked again, not read as "none"
		names=$(lab exec "$i" virsh -q list --state-running --name 2>/dev/null) ||
			names=$(lab exec "$i" virsh -q list --state-running --name 2>/dev/null) || names=
		if grep -qx -- "$1" <<<"$names"; then
			out="$out node$i"
		fi
	done
	echo "${out# }"
}

# lab_up_with_volume [EXPIRY_MS]: the test guest built (G, probe set), a
# 3-node lab up with VMs checked every 500 ms, and the shared volume vol1
# (host-lease expiry EXPIRY_MS, default 3200) formatted and added; top and
# LUN set. LAB_CONF_EXTRA: more clusterd.conf lines
lab_up_with_volume() {
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	bash "$top/tests/guest/build-guest.sh" >/dev/null
	G=${CD_GUEST_DIR:-/var/cache/clusterd-guest}
	probe=$G/udp-probe
	export CD_LAB_CLUSTERD_EXTRA="vm_monitor_interval_ms = 500${LAB_CONF_EXTRA:+
$LAB_CONF_EXTRA}"
	lab up --nodes 3
	LUN=$(lab lun)
	"$top/csvfs/csvfs" format "$LUN" --name vol1 --hosts 8 --expiry-ms "${1:-3200}" >/dev/null
	lab exec 1 clusterctl volume add vol1 "$LUN"
}

# --- moves (test-82, test-86): a 3-node lab with vol1 and d1disk, the
# tests' VMs' addresses in the associative array ip, probe set

# move_lab_ready: d1disk (16M) on vol1, exposed everywhere, every node whole
move_lab_ready() {
	local i
	lab exec 1 clusterctl property set flap-limit 0
	lab exec 1 clusterctl volume file create vol1 d1disk 16M
	for i in 1 2 3; do wait_for 30 "d1disk exposed on node$i" lab exec "$i" test -b /run/csvfs/vol1/d1disk; done
	wait_for 30 "all nodes hold the volume's host lease" cluster_whole
}
# cluster_whole: every node synchronised, quorate, holding its host lease on vol1
cluster_whole() {
	local i
	for i in 1 2 3; do synced_quorate "$i" && lease_valid "$i" || return 1; done
}
# running_answers NODE VM: NODE shows VM running and it answers
running_answers() { vm_state_is "$1" "$2" running && answers "${ip[$2]}"; }
# where VM [NODE]: the node VM is on, as NODE sees it
where() { vm_field "${2:-1}" "$1" 'd["node_name"]'; }
# other_than NODE...: the first node not named
other_than() {
	local i
	for i in 1 2 3; do
		[[ " $* " == *" node$i "* ]] || { echo "node$i"; return; }
	done
}
nodeid() { echo "${1#node}"; }
# probe_start VM: a probe of VM every 10 ms from the client, in the background
probe_start() {
	"$LAB" exec client "$probe" "${ip[$1]}" --interval-ms 10 --timeout-ms 300 --json >"$LAB_DIR/probe-$1.json" 2>/dev/null &
	probe_pid=$!
	wait_for 10 "the probe of $1 hears it" answers "${ip[$1]}"
}
# probe_stop VM: sets boots, inter (whether two boots answered at once) and gap (longest, ms)
probe_stop() {
	kill -INT "$probe_pid" 2>/dev/null || :
	wait "$probe_pid" || :
	read -r boots inter gap < <(jq -r '"\(.boots | length) \(.interleaved) \(.max_gap.ms | floor)"' "$LAB_DIR/probe-$1.json")
}
# --- a guest's kernel crashing after a live migration under TCG
# Live migration under TCG (Debian 12's QEMU 7.2, no KVM on the lab's
# machines) now and then loses a page the guest wrote while its memory was
# copied, on a busy machine: the guest's kernel then finds its own lists
# corrupt and crashes, in its QEMU on the target. Plain `virsh migrate
# --live --p2p`, without the cluster, did it too: one crash in 25
# migrations of a fresh 128 MiB guest with two CPU hogs running, none in
# 115 without them. KVM tracks dirty pages in the kernel. The guest's
# kernel has oops=panic and panic=1 (domain.sh), so such a crash reboots
# the guest inside the same QEMU: its boot id changes, though the cluster
# restarted nothing. assert_boot_kept tells the two apart.
# A guest moved live in its first second or two of boot can instead hang
# for good on the target, its kernel idle or halted before its console
# says anything: plain `virsh migrate --live --p2p` 0.3 to 2.5 s after
# `virsh create`, two guests in 100 (one in 40 with two busy guests beside
# it, one in 60 without). The soak
# (tests/soak/soak, boot_hung) resets such a guest, and says so.

# placements_mark: remember where each node's clusterd.log ends, for placed_since
placements_mark() {
	local f
	declare -gA place_mark=()
	for f in "$LAB_DIR"/node*/log/clusterd.log; do place_mark[$f]=$(wc -l <"$f"); done
}
# placed_since VM: some node logged VM placed (a start by the cluster) since placements_mark
placed_since() {
	local f
	for f in "$LAB_DIR"/node*/log/clusterd.log; do
		tail -n +"$((${place_mark[$f]:-0} + 1))" "$f" | grep -q "event: vm $1: placed on" && return 0
	done
	return 1
}
# guest_crash CONSOLE: the first line of a kernel crash in the guest's console log ("" if none)
guest_crash() { grep -m1 -E 'Kernel panic|kernel BUG|list_(add|del) corruption|general protection fault|Oops:' "$1" 2>/dev/null || :; }
# assert_boot_kept VM BOOT WANT CONSOLE MSG: VM answered with boot BOOT and
# should have kept WANT; a different boot passes (marked SKIP) only if the
# guest's console shows its kernel crashed and the cluster placed it
# nowhere since placements_mark (see above)
assert_boot_kept() {
	local crash
	if [[ $2 == "$3" ]]; then
		pass "$5"
		return
	fi
	crash=$(guest_crash "$4")
	if [[ -n $2 && -n $crash ]] && ! placed_since "$1"; then
		pass "$5 # SKIP $1's guest kernel crashed after a live migration under TCG, in its QEMU (\"${crash#*] }\"): a new boot the cluster did not start"
		return
	fi
	[[ -z $crash ]] || crash="; its console: $crash"
	fail "$5 (got boot '$2', expected '$3'$crash)"
}

# probes_start VM...: a probe of each VM every 10 ms, in the background
probes_start() {
	local v
	declare -gA probe_pids=()
	for v in "$@"; do
		"$LAB" exec client "$probe" "${ip[$v]}" --interval-ms 10 --timeout-ms 300 --json >"$LAB_DIR/probe-$v.json" 2>/dev/null &
		probe_pids[$v]=$!
	done
	for v in "$@"; do wait_for 20 "the probe of $v hears it" answers "${ip[$v]}"; done
}
# probes_stop VM...: sets pboots[VM], pinter[VM] (two boots answered at once) and pgap[VM] (ms)
probes_stop() {
	local v
	declare -gA pboots=() pinter=() pgap=()
	for v in "$@"; do kill -INT "${probe_pids[$v]}" 2>/dev/null || :; done
	for v in "$@"; do
		wait "${probe_pids[$v]}" || :
		read -r "pboots[$v]" "pinter[$v]" "pgap[$v]" < <(jq -r '"\(.boots | length) \(.interleaved) \(.max_gap.ms | floor)"' "$LAB_DIR/probe-$v.json")
	done
}
# last_move VM [NODE]: outcome of the VM's last move ("" if none)
last_move() { vm_field "${2:-1}" "$1" '(d.get("last_move") or {}).get("outcome") or ""'; }
# last_move_is VM OUTCOME [NODE]: the move begun last (its action id in mid) ended so
last_move_is() {
	[[ $(vm_field "${3:-1}" "$1" '"%s %s" % ((d.get("last_move") or {}).get("action_id"), (d.get("last_move") or {}).get("outcome"))') == "$mid $2" ]]
}
# phase_is VM PHASE [NODE]: VM's move is in PHASE
phase_is() { [[ $(vm_field "${3:-1}" "$1" '(d.get("move") or {}).get("phase") or ""') == "$2" ]]; }
# throttle VM NODE MIBS: VM's copies of its memory (live moves, saves) from
# NODE at most MIBS MiB/s (libvirt's migrate-setspeed), as a slow network would
throttle() { lab exec "$(nodeid "$2")" virsh migrate-setspeed "$1" --bandwidth "$3" >/dev/null; }

# --- clusterctl views shared by the lab tests (probe= is the guest's udp-probe)

# vm_field NODE VM EXPR: a field of "vm show" as NODE sees it
vm_field() { json_get "$(lab exec "$1" clusterctl --json vm show "$2")" "$3"; }
# vm_state_is NODE VM STATE: NODE shows VM in STATE
vm_state_is() { [[ $(vm_field "$1" "$2" 'd["state"]') == "$3" ]]; }
# vm_runs_only VM [NODES]: libvirt runs VM on exactly NODES ("node2";
# none given: on no node)
vm_runs_only() { [[ $(vm_nodes_running "$1") == "${2:-}" ]]; }
# runs_on NODE VM NAME / runs_not_on NODE VM NAME: running there / elsewhere
runs_on() { [[ $(vm_field "$1" "$2" 'd["state"]') == running && $(vm_field "$1" "$2" 'd["node_name"]') == "$3" ]]; }
runs_not_on() { [[ $(vm_field "$1" "$2" 'd["state"]') == running && $(vm_field "$1" "$2" 'd["node_name"]') != "$3" ]]; }
# node_state NODE NAME: the state NODE shows for node NAME
node_state() { json_get "$(lab exec "$1" clusterctl --json node show "$2")" 'd["state"]'; }
# synced_quorate NODE: NODE is synchronised and in a quorate partition
synced_quorate() { [[ $(cd_status "$1" | jq -r '"\(.synced) \(.quorate)"') == "true true" ]]; }
# member_in_view VIEWER NODE_ID: true/false as VIEWER's state says
member_in_view() { json_get "$(cd_status "$1")" "[n['member'] for n in d['nodes'] if n['id'] == $2][0]"; }
# state_sum NODE: NODE's state checksum
state_sum() { json_get "$(cd_status "$1")" 'd["state_checksum"]'; }
# all_three_agree: nodes 1 to 3 synced, quorate, members, with equal state checksums
all_three_agree() {
	local i s1
	for i in 1 2 3; do synced_quorate "$i" || return 1; done
	for i in 1 2 3; do [[ $(member_in_view 1 "$i") == true ]] || return 1; done
	s1=$(state_sum 1)
	[[ $(state_sum 2) == "$s1" && $(state_sum 3) == "$s1" ]]
}
# lease_valid NODE: NODE holds a valid host lease on volume vol1
lease_valid() { [[ $(json_get "$(lab exec "$1" clusterctl --json volume show vol1)" 'd["local"]["host_lease_valid"]') == true ]]; }
# answers ADDR: the test guest at ADDR answers the client
# shellcheck disable=SC2154 # probe is set by the tests that use this
answers() { lab exec client "$probe" "$1" --once --timeout-ms 300 >/dev/null 2>&1; }
# guest_boot IP [SECONDS]: the boot id the guest at IP answers with, asked
# until it answers (20 s at most; "" if it never does). One lost or late
# datagram of a busy guest is not "no answer".
guest_boot() {
	local end=$((SECONDS + ${2:-20})) b
	while :; do
		b=$({ lab exec client "$probe" "$1" --once --timeout-ms 500 2>/dev/null || :; } | sed -n 's/^boot=\([0-9a-f]*\).*/\1/p')
		if [[ -n $b ]] || ((SECONDS >= end)); then
			echo "$b"
			return 0
		fi
	done
}
# count_at_least FILE N: FILE has at least N lines
count_at_least() { [[ $(wc -l <"$1") -ge $2 ]]; }

# lab_lun: the LUN's device path (the same on every node)
lab_lun() { lab lun; }

# lun_write NODE OFFSET_BYTES FILE: write FILE to the LUN at OFFSET from
# NODE with O_DIRECT (OFFSET and FILE's size: multiples of 4096)
lun_write() {
	lab exec "$1" dd if="$3" of="$(lab_lun)" bs=4096 seek="$2" \
		oflag=direct,seek_bytes conv=notrunc status=none
}

# lun_read NODE OFFSET_BYTES LENGTH_BYTES: read from the LUN on NODE with
# O_DIRECT to stdout (multiples of 4096)
lun_read() {
	lab exec "$1" dd if="$(lab_lun)" bs=4096 skip="$2" count="$3" \
		iflag=direct,skip_bytes,count_bytes status=none
}

_lab_save_logs() {
	local f
	[[ -d $LAB_DIR ]] || return 0
	if [[ -n ${CD_LAB_ARTIFACTS:-} ]]; then
		local dest
		dest=$CD_LAB_ARTIFACTS/$LAB_TEST_SCRIPT
		mkdir -p "$dest"
		for f in "$LAB_DIR"/node*/log; do
			mkdir -p "$dest/$(basename -- "$(dirname -- "$f")")"
			cp -r "$f"/. "$dest/$(basename -- "$(dirname -- "$f")")/" 2>/dev/null || :
		done
		# libvirt's per-domain QEMU logs
		for f in "$LAB_DIR"/node*/libvirt/log; do
			mkdir -p "$dest/$(basename -- "$(dirname -- "$(dirname -- "$f")")")/libvirt"
			cp -r "$f"/. "$dest/$(basename -- "$(dirname -- "$(dirname -- "$f")")")/libvirt/" 2>/dev/null || :
		done
		# the guests' consoles
		mkdir -p "$dest/guests"
		cp "$LAB_DIR"/*.log "$dest/guests/" 2>/dev/null || :
		echo "# logs saved in $dest"
	else
		for f in "$LAB_DIR"/node*/log/*.log "$LAB_DIR"/node*/libvirt/log/qemu/*.log; do
			[[ -s $f ]] || continue
			echo "# --- last lines of $f"
			tail -n 20 "$f" | sed 's/^/#   /'
		done
		# the guests' consoles: each boot (READY) and any panic
		for f in "$LAB_DIR"/*.log; do
			[[ -s $f ]] || continue
			grep -aE 'READY|[Pp]anic|Oops|reboot' "$f" | tail -n 6 | sed "s|^|#   $(basename -- "$f"): |"
		done
	fi
}

_lab_summary() {
	echo "1..$LAB_COUNT"
	echo "# $LAB_TEST_NAME: $LAB_PASSED passed, $LAB_FAILED failed"
}

_lab_test_exit() {
	local rc=$?
	trap - EXIT INT TERM
	if ((LAB_ENDED == 0)); then
		if ((rc != 0 && LAB_FAILED == 0)); then
			# died without an assertion (set -e, a failed lab command)
			LAB_COUNT=$((LAB_COUNT + 1))
			LAB_FAILED=$((LAB_FAILED + 1))
			echo "not ok $LAB_COUNT - test script ended early (exit status $rc)"
		fi
		_lab_summary
	fi
	((LAB_FAILED == 0)) || _lab_save_logs
	if [[ ${CD_LAB_KEEP:-0} == 1 ]]; then
		echo "# CD_LAB_KEEP=1: lab left up in $LAB_DIR (run: $LAB down)"
	else
		"$LAB" down >/dev/null 2>&1 || "$LAB" down || :
	fi
	((LAB_FAILED == 0)) || exit 1
	exit "$rc"
}

# lab_test_begin NAME: header, and "lab down" on any exit
lab_test_begin() {
	LAB_TEST_NAME=${1:-$LAB_TEST_NAME}
	echo "# === $LAB_TEST_NAME"
	trap _lab_test_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# lab_test_end: print the summary; returns 1 if anything failed
lab_test_end() {
	LAB_ENDED=1
	_lab_summary
	((LAB_FAILED == 0))
}
