#!/bin/bash
# Quick moves and saved states on a real 3-node lab (libvirtd, QEMU, one
# formatted shared volume), every guest polled every 10 ms from a client:
# a quick move keeps the guest's boot id (its memory was restored, not
# rebooted), one instance at all times, and the state file is gone
# afterwards; a guest that dirties its memory flat out moves the same way
# (it is paused while it is saved); vm stop --save and vm start on another
# node keep the boot id; a corrupted state file is refused and the VM is
# not started from it. Faults, with the save slowed down (the domain's
# migration speed, which saves honour) so that they strike while it runs:
# the source dies during the save (one cold failover), the target dies
# during the save (it stays on its source), and the target dies after the
# save, before its restore is recorded (restored on another node from the
# same verified file). A live move that cannot converge falls back to quick.
# A state-volume the cluster lacks refuses quick moves and saves; a saved
# VM is removed only with --discard-saved, and its state file with it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "quick move"

# No auto-converge: a copy that cannot converge stays so, and falls back to
# quick (under TCG on the lab's machines QEMU 7.2 loses guest writes when a
# guest that rewrites its memory is migrated live to the end: it must not be)
# The last part holds a source's hand-over with this directory (test-hooks builds).
export CD_TEST_HOLD_DIR=$LAB_DIR/hold
LAB_CONF_EXTRA="migration_auto_converge = no" lab_up_with_volume
mkdir -p "$CD_TEST_HOLD_DIR"
N=3
move_lab_ready

declare -A ip=([vm1]=198.18.0.21 [vm2]=198.18.0.22)
# vm1: a disk on the shared volume, 96 MiB in use; vm2: rewrites its memory flat out
bash "$top/tests/guest/domain.sh" --disk /run/csvfs/vol1/d1disk --dirty-mb 96 \
	--console "$LAB_DIR/vm1.log" vm1 "${ip[vm1]}" 256 1 >"$LAB_DIR/vm1.xml"
bash "$top/tests/guest/domain.sh" --dirty-mb 64 --dirty-rate max --console "$LAB_DIR/vm2.log" \
	vm2 "${ip[vm2]}" 192 1 >"$LAB_DIR/vm2.xml"
for v in vm1 vm2; do
	lab exec 1 clusterctl vm add "$v" --xml "$LAB_DIR/$v.xml"
	lab exec 1 clusterctl vm start "$v"
done
for v in vm1 vm2; do wait_for 90 "$v runs and answers" running_answers 1 "$v"; done

boot_of() { guest_boot "${ip[$1]}"; }
files_of_vol1() { lab exec "${1:-1}" clusterctl --json volume show vol1 | jq -r '[.files[].name] | join(" ")'; }
no_state_file() { [[ " $(files_of_vol1 "${2:-1}") " != *" $1.vmstate "* ]]; }
# begin_slow_quick VM TARGET: a quick move whose save is under way, slowed down
begin_slow_quick() {
	throttle "$1" "$(where "$1")" 4
	mid=$(lab exec 1 clusterctl --json vm move "$1" "$2" --mode quick | jq -r '.action_id')
	# QEMU on the source streams the memory (the save's own migration, not a libvirt job)
	saving_begun() {
		phase_is "$1" saving && lab exec "$(nodeid "$2")" virsh qemu-monitor-command "$1" '{"execute":"query-migrate"}' |
			jq -e '.return.status == "active" and .return.ram.transferred > 0' >/dev/null
	}
	wait_for 60 "$1's save is under way" saving_begun "$1" "$(where "$1")"
}

# --- a quick move, the target chosen by the policy
src=$(where vm1)
probe_start vm1
rc=0
out=$(lab exec 1 clusterctl vm move vm1 --mode quick --wait 2>&1) || rc=$?
probe_stop vm1
dst=$(where vm1)
assert_eq "$rc" 0 "vm move vm1 --mode quick --wait: exit 0 ($(tail -1 <<<"$out"))"
[[ $dst != "$src" ]] || fail "vm1 is still on $src"
assert_eq "$(vm_nodes_running vm1)" "$dst" "vm1 runs on $dst only (libvirt on every node)"
assert_eq "$boots $inter" "1 false" "the client saw one boot of vm1, never two answering: restored, not restarted"
assert_eq "$(vm_field 1 vm1 'd["last_move"]["mode"]')" quick "the last move was quick"
wait_for 30 "vm1's state file is freed" no_state_file vm1
pass "vm1 quick-moved $src -> $dst; client-seen gap ${gap} ms, outage as measured $(vm_field 1 vm1 'd["last_move"]["downtime_ms"]') ms"
assert_match "$(lab exec 1 clusterctl events)" "quick move $src -> $dst done" "the events record the quick move"

# --- a guest that rewrites its memory flat out: paused while saved, it moves all the same
src=$(where vm2)
dst=$(other_than "$src")
probe_start vm2
rc=0
out=$(lab exec 2 clusterctl --json vm move vm2 "$dst" --mode quick --wait 2>&1) || rc=$?
probe_stop vm2
assert_eq "$rc $(tail -1 <<<"$out" | jq -r '"\(.event) \(.outcome)"')" "0 end moved" "vm2 quick-moved, --json --wait ends with the outcome"
assert_eq "$(vm_nodes_running vm2)" "$dst" "vm2 runs on $dst only"
assert_eq "$boots $inter" "1 false" "one boot of vm2 throughout (gap ${gap} ms)"
dirtying() { [[ $(lab exec client "$probe" "${ip[vm2]}" --once --timeout-ms 300 | sed -n 's/.*dirtied_mb=\([0-9]*\).*/\1/p') -gt ${1:-0} ]]; }
d0=$(lab exec client "$probe" "${ip[vm2]}" --once --timeout-ms 300 | sed -n 's/.*dirtied_mb=\([0-9]*\).*/\1/p')
wait_for 30 "vm2 goes on dirtying its memory on $dst" dirtying "$d0"

# --- a live move that cannot converge (vm2 rewrites its memory flat out, its
# copy held to 8 MiB/s) falls back to quick, and says so
src=$(where vm2)
dst=$(other_than "$src")
throttle vm2 "$src" 8
probe_start vm2
rc=0
out=$(lab exec 1 clusterctl vm move vm2 "$dst" --mode live --wait 2>&1) || rc=$?
probe_stop vm2
assert_eq "$rc" 0 "vm2's live move ended moved ($(tail -1 <<<"$out"))"
assert_eq "$(where vm2) $(vm_field 1 vm2 'd["last_move"]["mode"]')" "$dst quick" "vm2 runs on $dst, its move finished quick"
assert_eq "$(vm_nodes_running vm2)" "$dst" "vm2 runs on $dst only"
assert_eq "$boots $inter" "1 false" "one boot of vm2 throughout its live copy and its quick move (gap ${gap} ms)"
assert_match "$(lab exec 1 clusterctl events)" "vm2.*falling back to a quick move" "the events say it fell back to quick"
throttle vm2 "$dst" 100000

# --- vm stop --save, then vm start on another node: the same boot
b0=$(boot_of vm1)
src=$(where vm1)
lab exec 1 clusterctl vm stop vm1 --save
saved() { vm_state_is 1 vm1 stopped && [[ $(vm_field 1 vm1 '(d.get("saved") or {}).get("file") or ""') == vm1.vmstate ]]; }
wait_for 60 "vm1 is saved" saved
assert_eq "$(vm_nodes_running vm1)" "" "vm1 runs nowhere once saved"
assert_match "$(lab exec 1 clusterctl vm show vm1)" "Saved: +vol1/vm1.vmstate" "vm show says it is saved and where"
other=$(other_than "$src")
lab exec 1 clusterctl vm set vm1 preferred-owners="$other"
lab exec 1 clusterctl vm start vm1
wait_for 60 "vm1 runs again" running_answers 1 vm1
assert_eq "$(where vm1) $(boot_of vm1)" "$other $b0" "vm1 restored on $other with the boot it had on $src"
assert_eq "$(vm_field 1 vm1 'd.get("saved")')" null "its saved state is consumed"
wait_for 30 "vm1's state file is freed" no_state_file vm1

# --- a corrupted state file is refused: the VM is not started from it
b0=$(boot_of vm1)
lab exec 1 clusterctl vm stop vm1 --save
wait_for 60 "vm1 is saved" saved
len=$(vm_field 1 vm1 'd["saved"]["length"]')
# one byte in the middle of the image (the file's data begins at 8 KiB)
dev=$(lab exec 1 readlink -f /run/csvfs/vol1/vm1.vmstate)
off=$((8192 + len / 2))
orig=$(lab exec 1 dd if="$dev" bs=1 skip="$off" count=1 status=none iflag=skip_bytes | od -An -tu1 | tr -d ' ')
printf "\\x$(printf %02x $(((orig + 1) % 256)))" | lab exec 1 dd of="$dev" bs=1 seek="$off" conv=notrunc oflag=seek_bytes status=none
lab exec 1 sync
lab exec 1 clusterctl vm start vm1
wait_for 120 "vm1 runs again, started afresh" running_answers 1 vm1
assert_eq "$(vm_field 1 vm1 'd.get("saved")')" null "the corrupt saved state is discarded"
b1=$(boot_of vm1)
[[ $b1 != "$b0" ]] || fail "vm1 answered with its old boot $b0: it was restored from a corrupted image"
pass "vm1 not restored from its corrupted image (boot $b0 -> $b1)"
assert_match "$(lab exec 1 clusterctl events)" "vm1.*(corrupt|checksum|SHA-256|not the one recorded)" "the events say why"

# --- the source dies during the save: one cold failover, never two instances
src=$(where vm1)
dst=$(other_than "$src")
probe_start vm1
begin_slow_quick vm1 "$dst"
lab kill "$(nodeid "$src")" >/dev/null
viewer=$(nodeid "$dst")
runs_answers() { vm_state_is "$viewer" "$1" running && answers "${ip[$1]}"; }
wait_for 120 "vm1 runs again after its source died" runs_answers vm1
probe_stop vm1
assert_eq "$inter" false "no two boots of vm1 answered at once"
assert_eq "$(vm_nodes_running vm1 | wc -w)" 1 "vm1 runs on one node: $(vm_nodes_running vm1)"
pass "source $src died mid-save: vm1 runs on $(where vm1 "$viewer") ($(last_move vm1 "$viewer")), $boots boot(s), gap ${gap} ms"
lab start "$(nodeid "$src")" >/dev/null
wait_for 90 "$src rejoined" cluster_whole

# --- the target dies during the save: it stays on its source, the same boot
src=$(where vm1)
dst=$(other_than "$src")
probe_start vm1
begin_slow_quick vm1 "$dst"
lab kill "$(nodeid "$dst")" >/dev/null
viewer=$(nodeid "$src")
wait_for 90 "the move ends after its target died" last_move_is vm1 stayed "$viewer"
probe_stop vm1
assert_eq "$(vm_field "$viewer" vm1 'd["state"]') $(where vm1 "$viewer")" "running $src" "vm1 runs on its source $src"
assert_eq "$(vm_nodes_running vm1)" "$src" "only there"
assert_eq "$boots $inter" "1 false" "the same boot throughout (gap ${gap} ms)"
throttle vm1 "$src" 100000
lab start "$(nodeid "$dst")" >/dev/null
wait_for 90 "$dst rejoined" cluster_whole

# --- the target dies once the save is done, before its restore is recorded:
# the verified image is restored on another node, the same boot
src=$(where vm1)
dst=$(other_than "$src")
b0=$(boot_of vm1)
probe_start vm1
begin_slow_quick vm1 "$dst"
lab pause "$(nodeid "$dst")" clusterd
throttle vm1 "$src" 100000
viewer=$(nodeid "$src")
wait_for 90 "vm1 is saved and the target's to restore" phase_is vm1 restoring "$viewer"
lab kill "$(nodeid "$dst")" >/dev/null
wait_for 120 "vm1 runs again after its target died" runs_answers vm1
probe_stop vm1
assert_eq "$(vm_nodes_running vm1 | wc -w)" 1 "vm1 runs on one node: $(vm_nodes_running vm1)"
assert_eq "$inter" false "no two boots of vm1 answered at once"
assert_eq "$(boot_of vm1)" "$b0" "restored from the same image: the boot it had"
pass "target $dst died before its restore was recorded: vm1 restored on $(where vm1 "$viewer"), gap ${gap} ms"
lab start "$(nodeid "$dst")" >/dev/null
wait_for 90 "$dst rejoined" cluster_whole

# --- the source dies once the target has restored the image paused, before
# the save is recorded: the cluster never learnt of that copy, so it never
# runs; the VM fails over (to the target, its only other possible owner),
# where the paused copy goes first and the VM runs once, not paused. The
# target is held from dropping its copy when it hears that the move ended,
# as a busy target that hears of that and of the new placement at once is.
src=$(where vm1)
dst=$(other_than "$src")
viewer=$(nodeid "$dst")
lab exec "$viewer" clusterctl vm set vm1 possible-owners="$src,$dst"
touch "$CD_TEST_HOLD_DIR/$src-vm1.handover" "$CD_TEST_HOLD_DIR/$dst-vm1.keepcopy"
probe_start vm1
lab exec "$viewer" clusterctl vm move vm1 "$dst" --mode quick >/dev/null
wait_for 90 "vm1 saved on $src, its hand-over held" test -e "$CD_TEST_HOLD_DIR/$src-vm1.handover.held"
domstate_is() { [[ $(lab exec "$(nodeid "$1")" virsh domstate "$2" 2>/dev/null) == "$3"* ]]; }
wait_for 90 "$dst restored vm1 paused, following its source" domstate_is "$dst" vm1 paused
assert_eq "$(vm_field "$viewer" vm1 'd["state"]') $(where vm1 "$viewer")" "migrating $src" \
	"the cluster still has vm1 saving on $src"
lab kill "$(nodeid "$src")" >/dev/null
rm -f "$CD_TEST_HOLD_DIR/$src-vm1.handover"
wait_for 120 "vm1 runs and answers after its source died" running_answers "$viewer" vm1
probe_stop vm1
rm -f "$CD_TEST_HOLD_DIR/$dst-vm1.keepcopy"
assert_eq "$(where vm1 "$viewer")" "$dst" "vm1 failed over to $dst"
assert_eq "$(vm_nodes_running vm1)" "$dst" "vm1 runs on $dst alone"
assert_eq "$(lab exec "$viewer" virsh domstate vm1)" running "not paused: its vCPUs run"
assert_eq "$inter" false "no two boots of vm1 answered at once"
assert_match "$(lab exec "$viewer" clusterctl events)" "vm1.*restored here by quick move.*never ran" \
	"the events say the unrecorded copy went"
pass "source $src died before its save was recorded: vm1 started afresh on $dst, gap ${gap} ms"
lab exec "$viewer" clusterctl vm set vm1 possible-owners=
lab start "$(nodeid "$src")" >/dev/null
wait_for 90 "$src rejoined" cluster_whole

# --- state-volume names a volume the cluster lacks: a quick move and a save
# of vm2 are refused with what to do, and vm2 runs on where it ran
wait_for 60 "vm2 runs" vm_state_is 1 vm2 running
src=$(where vm2)
lab exec 1 clusterctl property set state-volume vol9
rc=0
out=$(lab exec 1 clusterctl vm move vm2 --mode quick 2>&1) || rc=$?
assert_eq "$rc" 5 "a quick move with state-volume vol9 missing is refused: exit 5"
assert_match "$out" "state-volume names volume 'vol9'.*property set state-volume none" "the refusal names the property and the way back"
rc=0
out=$(lab exec 1 clusterctl vm stop vm2 --save 2>&1) || rc=$?
assert_eq "$rc" 5 "vm stop --save with state-volume vol9 missing is refused: exit 5"
assert_match "$out" "cannot be saved: .*state-volume" "the refusal says why"
assert_eq "$(vm_field 1 vm2 'd["state"]') $(where vm2) $(vm_nodes_running vm2)" "running $src $src" "vm2 runs on where it ran"
lab exec 1 clusterctl property set state-volume none

# --- vm remove of a saved VM: refused, then with --discard-saved its state file goes too
lab exec 1 clusterctl vm stop vm2 --save
saved2() { vm_state_is 1 vm2 stopped && [[ $(vm_field 1 vm2 '(d.get("saved") or {}).get("file") or ""') == vm2.vmstate ]]; }
wait_for 60 "vm2 is saved" saved2
rc=0
out=$(lab exec 1 clusterctl vm remove vm2 2>&1) || rc=$?
assert_eq "$rc" 5 "vm remove of a saved VM is refused: exit 5"
assert_match "$out" "VM vm2 has a saved state \(vol1/vm2.vmstate, [0-9]+ MiB, saved at .*\): vm start it first, or vm remove --discard-saved" "the refusal says where the state is and the ways on"
assert_eq "$(vm_field 1 vm2 'd["state"]')" stopped "vm2 is still there, stopped"
out=$(lab exec 1 clusterctl vm remove vm2 --discard-saved)
assert_eq "$out" "Saved state discarded: vol1/vm2.vmstate removed" "vm remove --discard-saved says the state file is removed"
no_state_file vm2 || fail "vm2.vmstate is still on vol1: $(files_of_vol1)"
pass "vm2's state file is gone from vol1 ($(files_of_vol1))"
rc=0
lab exec 1 clusterctl vm show vm2 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 4 "vm2 is no more: vm show exits 4"

lab_test_end
