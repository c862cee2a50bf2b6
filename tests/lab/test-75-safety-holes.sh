#!/bin/bash
# Holes through which a VM could run twice or a node lose its safety net,
# each provoked on purpose on a real 3-node lab:
#   1. signals: SIGHUP (a log rotation), SIGUSR1 and SIGUSR2 do not end
#      clusterd (its watchdog process would then kill every VM of the node);
#   2. a start that times out and succeeds later: a QEMU that takes long to
#      come up (a wrapper that waits before it runs QEMU) outlives the
#      libvirt call's deadline; the VM must end running there once, with no
#      failure counted, and no other node may start it as well;
#   2b. a host lease that lapses while a start is in flight (held, by the
#      test-hooks build, before it reaches libvirt): the node powers the VM
#      off but must not report it failed until the start has returned and
#      the VM is confirmed off; it never runs on two nodes;
#   2c. quorum lost while a start is in flight: the self-fence waits for it,
#      powers the VM off and only then releases the host slot; the others
#      start it; it never runs on two nodes;
#   2d. a stop while a start is in flight (its libvirt call timed out, the
#      start may still succeed): the VM is reported stopped only once the
#      start has returned and the domain is confirmed off;
#   3. a clusterd that starts before corosync: it must not take a host slot
#      before corosync gives it its node id (slot 0 would never be valid),
#      and holds its host lease once corosync runs;
#   4. a node whose device path holds another LUN: it joins, leases and
#      exposes nothing there, and says why.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "safety-holes"
top=$(cd "$(dirname "$0")/../.." && pwd)
bash "$top/tests/guest/build-guest.sh" >/dev/null
G=${CD_GUEST_DIR:-/var/cache/clusterd-guest}
probe=$G/udp-probe
# Short libvirt deadline: a slow QEMU start outlives it (part 2).
export CD_LAB_CLUSTERD_EXTRA="vm_monitor_interval_ms = 500
libvirt_timeout_ms = 3000"
# Part 2b holds a start in flight with this directory (test-hooks builds).
export CD_TEST_HOLD_DIR=$LAB_DIR/hold
lab up --nodes 3
mkdir -p "$CD_TEST_HOLD_DIR"
LUN=$(lab lun)
"$top/csvfs/csvfs" format "$LUN" --name vol1 --hosts 8 --expiry-ms 3200 >/dev/null
lab exec 1 clusterctl volume add vol1 "$LUN"
lab exec 1 clusterctl property set flap-limit 0
for i in 1 2 3; do wait_for 30 "node$i holds vol1's host lease" lease_valid "$i"; done

boot_of() { guest_boot "$1"; }

# --- 1: signals
IP1=198.18.0.71
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/s1.log" s1 $IP1 128 1 >"$LAB_DIR/s1.xml"
lab exec 1 clusterctl vm add s1 --xml "$LAB_DIR/s1.xml"
lab exec 1 clusterctl vm set s1 preferred-owners=node2
lab exec 1 clusterctl vm start s1
wait_for 60 "s1 runs on node2" runs_on 1 s1 node2
wait_for 90 "s1 answers" answers $IP1
boot=$(boot_of $IP1)
cpid=$(cat "$LAB_DIR/node2/clusterd.pid")
log=$LAB_DIR/node2/log/clusterd.log
mv "$log" "$log.1"
kill -HUP "$cpid"
wait_for 10 "clusterd reopened its log after SIGHUP" grep -q "SIGHUP: log file reopened" "$log"
pass "SIGHUP: clusterd reopened its log file (log rotation)"
kill -USR1 "$cpid"
wait_for 10 "clusterd wrote its blackbox after SIGUSR1" grep -q "SIGUSR1: blackbox written" "$log"
bb=$(sed -n 's/.*SIGUSR1: blackbox written to \([^ ]*\) .*/\1/p' "$log" | tail -n 1)
lab exec 2 test -s "$bb" || fail "no blackbox file $bb on node2"
pass "SIGUSR1: blackbox written ($bb)"
kill -USR2 "$cpid"
wait_for 10 "clusterd logged SIGUSR2" grep -q "signal 12 ignored" "$log"
kill -0 "$cpid" || fail "clusterd died of a signal"
assert_eq "$(cat "$LAB_DIR/node2/clusterd.pid")" "$cpid" "clusterd on node2 still runs, same pid"
assert_eq "$(boot_of $IP1)" "$boot" "s1 was not touched (same boot id)"
assert_eq "$(vm_nodes_running s1)" node2 "s1 runs on node2 only"
lab exec 1 clusterctl vm stop s1 --force
wait_for 30 "s1 stopped" vm_runs_only s1

# --- 2: a start that outlives its libvirt deadline
# The wrapper waits 8 s before it runs QEMU when it runs a guest (libvirt's
# capability probes, without "-name guest=", go straight through).
wrapper=$LAB_DIR/slow-qemu
cat >"$wrapper" <<EOF
#!/bin/sh
case " \$* " in
*" -name guest="*) sleep 8 ;;
esac
exec $(command -v qemu-system-x86_64) "\$@"
EOF
chmod +x "$wrapper"
IP2=198.18.0.72
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/slow.log" slow $IP2 128 1 |
	sed "s|<devices>|<devices>\n    <emulator>$wrapper</emulator>|" >"$LAB_DIR/slow.xml"
grep -q "<emulator>" "$LAB_DIR/slow.xml" || fail "no emulator in the test XML"
lab exec 1 clusterctl vm add slow --xml "$LAB_DIR/slow.xml"
lab exec 1 clusterctl vm set slow preferred-owners=node3
lab exec 1 clusterctl vm start slow
log3=$LAB_DIR/node3/log/clusterd.log
wait_for 30 "node3's start of slow timed out" grep -q "libvirt start of slow did not return" "$log3"
pass "the start of slow outlived its libvirt deadline"
wait_for 60 "slow runs" runs_on 1 slow node3
wait_for 90 "slow answers" answers $IP2
assert_eq "$(vm_field 1 slow 'd["fail_count"]')" 0 "no failure was counted for slow"
assert_eq "$(vm_nodes_running slow)" node3 "slow runs on node3 only"
for i in 1 2; do
	! grep -q "vm slow: starting (action" "$LAB_DIR/node$i/log/clusterd.log" || fail "node$i tried to start slow as well"
done
pass "no other node tried to start slow"
lab exec 1 clusterctl vm stop slow --force
wait_for 30 "slow stopped" vm_runs_only slow

# --- 2b: a host lease that lapses while a start is in flight
IP3=198.18.0.73
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/held.log" held $IP3 128 1 >"$LAB_DIR/held.xml"
lab exec 1 clusterctl vm add held --xml "$LAB_DIR/held.xml"
lab exec 1 clusterctl vm set held preferred-owners=node3

# hold_start_on_node3: start held; its start on node3 stays in flight
# (before libvirt) until release_start
hold_start_on_node3() {
	touch "$CD_TEST_HOLD_DIR/node3-held"
	lab exec 1 clusterctl vm start held
	wait_for 30 "node3's start of held is in flight" test -e "$CD_TEST_HOLD_DIR/node3-held.held"
}
release_start() { rm -f "$CD_TEST_HOLD_DIR/node3-held"; }
# watch_held / watched_once: where held runs, looked at every 0.1 s or so
# from watch_held on; watched_once stops looking and fails if held ever
# ran on two nodes at once
seen=$LAB_DIR/held-seen
watch_held() {
	: >"$seen"
	(while :; do vm_nodes_running held >>"$seen"; sleep 0.1; done) &
	watcher=$!
	trap 'kill "$watcher" 2>/dev/null; _lab_test_exit' EXIT
}
watched_once() {
	local twice
	kill "$watcher" 2>/dev/null || :
	wait "$watcher" 2>/dev/null || :
	trap '_lab_test_exit' EXIT
	twice=$(awk 'NF > 1' "$seen" | head -n 3)
	[[ -z $twice ]] || fail "held ran on two nodes at once: $twice"
}
# log3_since MARK PATTERN: node3's log has PATTERN after line MARK
log3_since() { tail -n +"$1" "$log3" | grep -q -- "$2"; }

hold_start_on_node3
watch_held
lab exec 3 clusterctl debug volume-stall vol1 on
wait_for 30 "node3's host lease on vol1 lapsed and held is being powered off" \
	grep -q "vm held: this node's host lease on volume vol1 lapsed" "$log3"
wait_for 30 "node3 waits for the start in flight before it reports held" \
	grep -q "vm held: off, but its start has not returned" "$log3"
assert_eq "$(vm_field 1 held '[d["state"], d["node_name"]]')" '["starting", "node3"]' \
	"held is still starting on node3 while its start is in flight (not reported failed)"
rm -f "$CD_TEST_HOLD_DIR/node3-held"
wait_for 30 "node3 reported held failed once its start returned and it was off" \
	grep -q "vm held: reported failed" "$log3"
lab exec 3 clusterctl debug volume-stall vol1 off
wait_for 60 "node3 holds vol1's host lease again" lease_valid 3
wait_for 90 "held runs" vm_state_is 1 held running
wait_for 90 "held answers" answers $IP3
where=$(vm_field 1 held 'd["node_name"]')
wait_for 30 "held runs on $where in libvirt" vm_runs_only held "$where"
watched_once
pass "lapse: held never ran on two nodes ($(wc -l <"$seen") looks), and runs on $where only"
lab exec 1 clusterctl vm stop held --force
wait_for 30 "held stopped" vm_runs_only held

# --- 2c: quorum lost while a start is in flight
mark=$(($(wc -l <"$log3") + 1))
hold_start_on_node3
watch_held
lab partition 3
wait_for 60 "node3 self-fences and waits for the start in flight" \
	log3_since "$mark" "self-fence: a start was under way"
rc=0; log3_since "$mark" "self-fence complete" || rc=$?
assert_eq "$rc" 1 "node3's self-fence is not complete while a start is in flight"
release_start
wait_for 60 "node3's self-fence complete" log3_since "$mark" "self-fence complete: no domain runs here"
wait_for 120 "held runs on node1 or node2" runs_not_on 1 held node3
where=$(vm_field 1 held 'd["node_name"]')
wait_for 90 "held answers" answers $IP3
lab heal
wait_for 60 "node3 synced and quorate" synced_quorate 3
wait_for 30 "held runs on $where only in libvirt" vm_runs_only held "$where"
watched_once
pass "quorum loss: held never ran on two nodes ($(wc -l <"$seen") looks), and runs on $where only"
lab exec 1 clusterctl vm stop held --force
wait_for 30 "held stopped" vm_state_is 1 held stopped
wait_for 30 "held is off everywhere" vm_runs_only held
wait_for 30 "node3 holds vol1's host lease again" lease_valid 3

# --- 2d: a stop while a start is in flight
mark=$(($(wc -l <"$log3") + 1))
hold_start_on_node3
wait_for 30 "node3's start of held timed out (its call is still under way)" \
	log3_since "$mark" "libvirt start of held did not return"
lab exec 1 clusterctl vm stop held
wait_for 30 "node3 does not call held stopped while its start is in flight" \
	log3_since "$mark" "vm held: off, but its start has not returned: not stopped yet"
assert_eq "$(vm_field 1 held '[d["state"], d["node_name"]]')" '["stopping", "node3"]' \
	"held is still stopping on node3 while its start is in flight"
release_start
wait_for 60 "held stopped" vm_state_is 1 held stopped
wait_for 30 "held is off everywhere" vm_runs_only held
pass "stop during a start: held reported stopped only once off, and off everywhere"

# --- 3: clusterd before corosync
lab kill 3 clusterd >/dev/null
lab kill 3 corosync >/dev/null
wait_for 30 "node3 gone from corosync" cs_members_are 1 2
lab start 3 clusterd >/dev/null
wait_for 30 "node3's clusterd waits for corosync" grep -q "corosync is not running yet" "$log3"
# The host-lease thread must not have joined anything meanwhile.
! grep -q "joined host slot 0" "$log3" || fail "node3 joined host slot 0"
lab start 3 corosync >/dev/null
wait_for 60 "node3 synced and quorate" synced_quorate 3
wait_for 30 "node3 holds vol1's host lease again" lease_valid 3
assert_match "$(grep "joined host slot" "$log3" | tail -n 1)" "joined host slot 3 " "node3 joined its own slot (3)"

# --- 4: a node whose device path holds another LUN (device names differ
# between hosts): node3 sees another csvfs volume at the cluster's path. It
# must not join, lease or expose anything there, and must say why.
other=$LAB_DIR/other-lun.img
truncate -s 64M "$other"
other_dev=$(losetup --find --show --direct-io=on "$other")
cleanup_other() {
	[[ -n ${other_dev:-} ]] && losetup -d "$other_dev" 2>/dev/null
	rm -f "$other"
}
trap 'cleanup_other; _lab_test_exit' EXIT
"$top/csvfs/csvfs" format "$other_dev" --name vol1 --hosts 8 --expiry-ms 3200 >/dev/null
lab kill 3 clusterd >/dev/null
lab exec 3 mount --bind "$other_dev" "$LUN"
lab start 3 clusterd >/dev/null
wait_for 60 "node3 synced and quorate" synced_quorate 3
wait_for 30 "node3 refuses the other volume" grep -q "holds csvfs volume .*, not the cluster's" "$log3"
pass "node3 says: $(grep -o "holds csvfs volume .*" "$log3" | tail -n 1)"
rc=0; lease_valid 3 || rc=$?
assert_eq "$rc" 1 "node3 holds no host lease on the wrong LUN"
"$top/csvfs/csvfs" inspect "$other_dev" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
hosts = [h for h in d["host_slots"] if h["state"] != "free"]
sys.exit(1 if hosts else 0)' || fail "node3 wrote a host slot on the other LUN"
pass "nothing was written on the other LUN"
[[ -z $(lab exec 3 sh -c 'ls /run/csvfs/vol1/ 2>/dev/null') ]] || fail "node3 exposes files of the wrong LUN"
pass "node3 exposes no file of the wrong LUN"
assert_match "$(lab exec 3 clusterctl events)" "vol1 +unusable on this node" "node3's events tell an admin"

lab_test_end
