#!/bin/bash
# lab-selftest.sh - checks the lab itself (corosync level; clusterd too if
# built): quorum, node power-off and restart, daemon kill, partition and
# heal, client reachability, exit codes; libvirtd on every node (a tiny
# domain: create, destroy, live migration over TCP, killed with its node);
# the shared LUN (the same bytes on every node with O_DIRECT); and that
# "down" leaves nothing (processes, QEMU, loop devices, mounts, dirs).
# Needs root, and libvirt (Debian: libvirt-daemon libvirt-clients
# qemu-system-x86) unless --no-libvirt.
# Usage: tests/lab/lab-selftest.sh [--nodes N] [--token MS] [--no-libvirt]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname -- "$0")/lib.sh"

N=3
TOKEN=1000
LIBVIRT=1
while (($#)); do
	case $1 in
	--nodes) N=$2; shift 2 ;;
	--token) TOKEN=$2; shift 2 ;;
	--no-libvirt) LIBVIRT=0; shift ;;
	*) echo "usage: $0 [--nodes N] [--token MS] [--no-libvirt]" >&2; exit 2 ;;
	esac
done
((N >= 3)) || { echo "need at least 3 nodes" >&2; exit 2; }

# mount points, less those of other users of "ip netns" on this machine
mountinfo_targets() {
	awk '{print $5}' /proc/self/mountinfo | grep -v '^/run/netns/' | grep -vx /run/netns | sort
}
# loop devices over a file in the lab dir (the LUN and what stacks on it)
lab_loop_devices() {
	losetup -l -n -O NAME,BACK-FILE 2>/dev/null | awk -v d="$LAB_DIR/" 'index($2, d) == 1 {print $1}'
}
# the state of libvirt's host directories (the lab makes the missing ones
# as mount points and removes them on down)
libvirt_dirs_state() {
	local m
	for m in /etc/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt; do
		if [[ -d $m ]]; then echo "$m $(find "$m" -mindepth 1 -maxdepth 1 -printf '%f ' | sort)"; else echo "$m absent"; fi
	done
}
lab_shm_files() {
	local f
	for f in /dev/shm/qb-* /dev/shm/*corosync* /dev/shm/*clusterd*; do
		if [[ -e $f ]]; then echo "$f"; fi
	done | sort -u
}

lab_test_begin "lab self-test ($N nodes, token $TOKEN ms)"

shm_before=$(lab_shm_files)
mounts_before=$(mountinfo_targets)
netns_run_before=$( [[ -e /run/netns ]] && echo yes || echo no)
libvirt_dirs_before=$(libvirt_dirs_state)
[[ -z $(lab_loop_devices) ]] || fail "loop devices over $LAB_DIR exist before the test: $(lab_loop_devices | tr '\n' ' ')"

if ((LIBVIRT)); then
	lab up --nodes "$N" --token "$TOKEN" --libvirt
else
	lab up --nodes "$N" --token "$TOKEN" --no-libvirt
fi
pass "lab up"
for ((i = 1; i <= N; i++)); do
	assert_eq "$(cs_quorum "$i")" "$N Yes" "node$i: corosync sees $N members, quorate"
done
if [[ -f $LAB_DIR/node1/clusterd.pid ]]; then
	out=$(cd_status 1)
	assert_eq "$(json_get "$out" 'd["synced"] and d["quorate"]')" true "node1: clusterd synced and quorate"
fi

# nodes are isolated from the host and from each other
assert_eq "$(lab exec 2 uname -n)" node2 "node2 has its own hostname"
assert_eq "$(lab exec 2 findmnt -n -o FSTYPE /run)" tmpfs "node2 has a private /run"
assert_match "$(lab exec 2 findmnt -n -o SOURCE /dev/shm | tail -n 1)" '^lab-shm$' "node2 has a private /dev/shm"
assert_eq "$(lab exec 2 sh -c 'test -e /run/corosync.pid && echo yes')" yes "corosync.pid is in node2's /run"
assert_eq "$(test -e /run/corosync.pid && echo yes || echo no)" no "no corosync.pid in the host's /run"
assert_match "$(lab exec 1 ip -4 -o addr show dev br0)" '198\.18\.0\.1/24' "node1 has 198.18.0.1 on br0"
assert_eq "$(lab exec 1 sh -c 'readlink /proc/self/ns/net')" \
	"$(readlink "/proc/$(cat "$LAB_DIR/node1/corosync.pid")/ns/net")" "lab exec and corosync share node1's netns"
assert_match "$(lab exec 1 sh -c 'tr "\0" " " </proc/1/cmdline')" " holder node1 $LAB_DIR/node1 \$" "node1's PID 1 is its holder"

# exit codes and stdin pass through
rc=0; lab exec 1 sh -c 'exit 7' || rc=$?
assert_eq "$rc" 7 "lab exec returns the command's exit code"
assert_eq "$(echo hello | lab exec 3 cat)" hello "lab exec passes stdin"
rc=0; lab frobnicate >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "unknown command: exit 2"
rc=0; lab up >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 1 "a second lab up is refused"

# the client reaches the nodes
lab_ping client 198.18.0.1 || fail "client cannot ping node1"
pass "client pings node1"
lab_ping 1 "198.18.0.$N" || fail "node1 cannot ping node$N"
pass "node1 pings node$N"

# ---- libvirt: one libvirtd per node
# every QEMU the lab ran, "PID START" (checked after down)
qemu_seen=$(mktemp)
note_qemu() { lab_qemu_pids >>"$qemu_seen"; }
if ((LIBVIRT)); then
	for ((i = 1; i <= N; i++)); do
		libvirtd_answers "$i" || fail "node$i: libvirtd does not answer virsh"
		pass "node$i: libvirtd answers virsh (qemu:///system)"
	done
	assert_eq "$(lab exec 1 virsh uri)" qemu:///system "lab exec 1 virsh: default URI qemu:///system"
	assert_eq "$(lab exec 1 virsh hostname)" node1 "lab exec 1 virsh reaches node1's libvirtd"
	assert_eq "$(lab exec 1 virsh -c qemu+tcp://198.18.0.2/system hostname)" node2 \
		"node1 reaches node2's libvirtd over TCP"
	assert_eq "$(lab exec 1 sh -c 'test -S /run/libvirt/libvirt-sock && echo yes')" yes "libvirt socket in node1's /run"
	assert_eq "$(test -e /run/libvirt/libvirt-sock && echo yes || echo no)" no "no libvirt socket in the host's /run"
	u1=$(sed -n 's/^host_uuid = "\(.*\)"/\1/p' "$LAB_DIR/node1/libvirt/etc/libvirtd.conf")
	u2=$(sed -n 's/^host_uuid = "\(.*\)"/\1/p' "$LAB_DIR/node2/libvirt/etc/libvirtd.conf")
	[[ -n $u1 && $u1 != "$u2" ]] || fail "node1 and node2 host_uuid must differ ('$u1' '$u2')"
	pass "distinct host_uuid per node"

	DOM=cdlab-tiny
	lab_tiny_domain_xml "$DOM" >"$LAB_DIR/$DOM.xml"
	lab_virsh 1 create "$LAB_DIR/$DOM.xml" >/dev/null || fail "virsh create $DOM on node1"
	pass "tiny domain created on node1"
	note_qemu
	assert_eq "$(lab exec 1 virsh -q list --name | sed '/^$/d')" "$DOM" "lab exec 1 virsh list shows $DOM"
	vm_absent_on 2 "$DOM" || fail "$DOM shows on node2"
	pass "$DOM is not on node2"
	[[ -n $(lab_qemu_pids 1) ]] || fail "no QEMU in node1"
	pass "QEMU runs in node1's namespaces"
	[[ -z $(lab_qemu_pids 2) ]] || fail "a QEMU in node2"
	lab_virsh 1 destroy "$DOM" >/dev/null || fail "virsh destroy $DOM on node1"
	vm_absent_on 1 "$DOM" || fail "$DOM still listed on node1 after destroy"
	wait_for 10 "node1's QEMU to exit" no_qemu_on 1
	pass "destroy: $DOM gone from node1, its QEMU exited"

	# live migration node1 -> node2 over TCP, and back
	lab_virsh 1 create "$LAB_DIR/$DOM.xml" >/dev/null || fail "virsh create $DOM on node1 (again)"
	note_qemu
	t0=$(_lab_now_ms)
	lab_virsh 1 migrate --live "$DOM" qemu+tcp://198.18.0.2/system || fail "live migration node1 -> node2"
	echo "# virsh migrate --live node1 -> node2: $(($(_lab_now_ms) - t0)) ms"
	note_qemu
	vm_running_on 2 "$DOM" || fail "$DOM not running on node2 after migration"
	vm_absent_on 1 "$DOM" || fail "$DOM still on node1 after migration"
	wait_for 10 "node1's QEMU to exit after migration" no_qemu_on 1
	[[ -n $(lab_qemu_pids 2) ]] || fail "no QEMU in node2 after migration"
	pass "live migration node1 -> node2: running on node2 only"
	lab_virsh 2 migrate --live "$DOM" qemu+tcp://198.18.0.1/system || fail "live migration node2 -> node1"
	note_qemu
	vm_running_on 1 "$DOM" || fail "$DOM not running on node1 after migrating back"
	vm_absent_on 2 "$DOM" || fail "$DOM still on node2 after migrating back"
	pass "live migration node2 -> node1"

	# libvirtd alone dies and comes back; the VM runs on
	q1=$(lab_qemu_pids 1)
	[[ -n $q1 ]] || fail "no QEMU on node1"
	lab kill 1 libvirtd
	assert_eq "$(pids_alive <<<"$q1")" "${q1%% *}" "QEMU survives lab kill 1 libvirtd"
	libvirtd_answers 1 && fail "node1's libvirtd still answers after lab kill 1 libvirtd"
	lab start 1 libvirtd
	vm_running_on 1 "$DOM" || fail "$DOM not running on node1 after libvirtd restart"
	pass "lab start 1 libvirtd: $DOM still running"

	# power-off of the node takes its QEMU with it
	lab kill 1
	assert_eq "$(pids_alive <<<"$q1")" "" "lab kill 1 kills node1's QEMU"
	lab start 1
	libvirtd_answers 1 || fail "node1's libvirtd does not answer after lab start 1"
	vm_absent_on 1 "$DOM" || fail "$DOM on node1 after its power cycle"
	pass "node1 back with libvirtd, no $DOM (it died with the node)"
	wait_for 30 "node1 back in the membership" cs_members_are 1 "$N" Yes

	# a VM left running for "down" to kill
	lab_virsh 3 create "$LAB_DIR/$DOM.xml" >/dev/null || fail "virsh create $DOM on node3"
	note_qemu
	vm_running_on 3 "$DOM" || fail "$DOM not running on node3"
	pass "$DOM running on node3 (left for lab down)"
fi

# ---- the shared LUN
lun=$(lab_lun)
assert_match "$lun" '^/dev/loop[0-9]+$' "lab lun: $lun"
assert_eq "$(cat "/sys/block/${lun#/dev/}/loop/dio")" 1 "direct I/O on the LUN"
assert_eq "$(losetup -l -n -O BACK-FILE "$lun" | sed 's/ *$//')" "$LAB_DIR/lun.img" "the LUN is over \$LAB_DIR/lun.img"
for ((i = 1; i <= N; i++)); do
	[[ $(lab exec "$i" sh -c "test -b '$lun' && echo yes") == yes ]] || fail "node$i does not see $lun"
done
pass "every node sees $lun"
head -c 65536 /dev/urandom >"$LAB_DIR/pattern1"
head -c 65536 /dev/urandom >"$LAB_DIR/pattern2"
lun_write 1 1048576 "$LAB_DIR/pattern1" || fail "O_DIRECT write from node1"
assert_eq "$(lun_read "$N" 1048576 65536 | sha256sum)" "$(sha256sum <"$LAB_DIR/pattern1")" \
	"node$N reads (O_DIRECT) what node1 wrote (O_DIRECT)"
lun_write "$N" 1048576 "$LAB_DIR/pattern2" || fail "O_DIRECT write from node$N"
assert_eq "$(lun_read 1 1048576 65536 | sha256sum)" "$(sha256sum <"$LAB_DIR/pattern2")" \
	"node1 reads node$N's overwrite at once"

# power off node 2
t0=$(_lab_now_ms)
lab kill 2
t_killed=$(_lab_now_ms)
until cs_members_are 1 $((N - 1)); do
	(($(_lab_now_ms) - t0 < 30000)) || fail "node1 never saw node2 leave"
done
t_seen=$(_lab_now_ms)
echo "# kill 2 -> node1 sees $((N - 1)) members: $((t_seen - t0)) ms (lab kill took $((t_killed - t0)) ms)"
pass "node1 sees $((N - 1)) members after lab kill 2"
assert_eq "$(cs_quorum 3)" "$((N - 1)) Yes" "node3 sees $((N - 1)) members, quorate"
rc=0; lab exec 2 true 2>/dev/null || rc=$?
assert_eq "$rc" 125 "lab exec on a powered-off node: 125"
[[ -z $(ip netns pids "${CD_LAB_PREFIX:-cdlab}-n2") ]] || fail "processes left in node2's netns"
pass "no processes left on node2"

lab start 2
wait_for 30 "node1 sees $N members again" cs_members_are 1 "$N" Yes
wait_for 30 "node2 sees $N members" cs_members_are 2 "$N" Yes
pass "node2 back after lab start 2 ($WAIT_FOR_MS ms after start returned)"

# one daemon only
lab kill 1 corosync
assert_eq "$(lab exec 1 uname -n)" node1 "node1 is still up without corosync"
wait_for 30 "node2 sees $((N - 1)) members" cs_members_are 2 $((N - 1)) Yes
lab start 1 corosync
wait_for 30 "all back to $N members" cs_members_are 1 "$N" Yes
pass "kill/start of corosync alone"

# partition node N off
lab partition "$N"
wait_for 30 "node$N alone and not quorate" cs_members_are "$N" 1 No
wait_for 30 "node1 sees $((N - 1)) members, quorate" cs_members_are 1 $((N - 1)) Yes
pass "partition $N: node$N alone without quorum, others quorate"
if lab_ping 1 "198.18.0.$N" 1; then fail "node1 still reaches node$N"; fi
pass "node1 cannot reach node$N"
lab_ping client 198.18.0.1 || fail "client cannot ping node1"
pass "client still reaches node1 (lan0)"
assert_match "$(lab status)" "node$N +.* lan1" "status shows node$N on lan1"
lab heal
wait_for 30 "node$N back in the membership" cs_members_are "$N" "$N" Yes
wait_for 30 "node1 sees $N members" cs_members_are 1 "$N" Yes
pass "heal: $N members again"

# down leaves nothing behind
pids=$(awk '{print $1, $2}' "$LAB_DIR/pids")
((LIBVIRT)) && note_qemu
lab down
pass "lab down"
if ((LIBVIRT)); then
	[[ -s $qemu_seen ]] || fail "no QEMU was seen during the test"
	assert_eq "$(pids_alive <"$qemu_seen" | tr '\n' ' ')" "" "no QEMU of the lab left ($(sort -u "$qemu_seen" | wc -l) seen)"
	assert_eq "$(pgrep -f 'guest=cdlab-' || :)" "" "no cdlab-* guest process on the host"
fi
rm -f "$qemu_seen"
assert_eq "$(lab_loop_devices | tr '\n' ' ')" "" "no loop device over a file of the lab dir"
assert_eq "$(libvirt_dirs_state)" "$libvirt_dirs_before" "libvirt's host directories as before"
assert_eq "$(ip netns list | grep -c "^${CD_LAB_PREFIX:-cdlab}-" || :)" 0 "no lab netns left"
assert_eq "$(test -e "$LAB_DIR" && echo yes || echo no)" no "no lab dir left"
left=''
while read -r pid start; do
	[[ -r /proc/$pid/stat ]] || continue
	s=$(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $1, $20}')
	[[ $s == "Z "* || ${s#* } != "$start" ]] || left+=" $pid"
done <<<"$pids"
assert_eq "$left" "" "no lab process left"
assert_eq "$(lab_shm_files)" "$shm_before" "no new corosync/libqb files in /dev/shm"
assert_eq "$(mountinfo_targets)" "$mounts_before" "mounts as before"
assert_eq "$(grep -c " /run/netns/${CD_LAB_PREFIX:-cdlab}-" /proc/self/mountinfo || :)" 0 "no lab netns mounts"
if [[ -n $(ls -A /run/netns 2>/dev/null) ]]; then
	pass "/run/netns still in use by others: $(ip netns list | tr '\n' ' ')"
else
	assert_eq "$( [[ -e /run/netns ]] && echo yes || echo no)" "$netns_run_before" "/run/netns as before"
fi
lab down >/dev/null 2>&1
pass "a second lab down succeeds"

lab_test_end
