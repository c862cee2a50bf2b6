#!/bin/bash
# Making existing libvirt domains highly available (clusterctl vm import) on
# a real 3-node lab with the shared volume: a domain started by hand on
# node1 (virsh create) with its disk on vol1 is imported and adopted where
# it runs, without a restart (its boot id is the same), and fails over when
# node1 dies; a domain with a disk of node1 only is refused with the reason
# and nothing changes; a domain that is only defined is added stopped and
# libvirt's own definition of it is removed; with --copy-disks, a defined
# domain's disk of node1 only is copied onto the volume first, and it runs.
# An import may be asked of any member: node2 and node3 ask for node1's
# domains, and node1 does the work; --copy-disks, an unknown node and an
# offline node are refused with what to do. A kernel outside the lab's
# boot_file_dirs is refused, before --copy-disks copies anything.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "import"

lab_up_with_volume
move_lab_ready

declare -A ip=([imp1]=198.18.0.41 [imp2]=198.18.0.42 [imp3]=198.18.0.43)
bash "$top/tests/guest/domain.sh" --disk /run/csvfs/vol1/d1disk --mac ip \
	--console "$LAB_DIR/imp1.log" imp1 "${ip[imp1]}" 192 1 >"$LAB_DIR/imp1.xml"
bash "$top/tests/guest/domain.sh" --disk /var/lib/cdimp-local.img --mac ip \
	imp2 "${ip[imp2]}" 192 1 >"$LAB_DIR/imp2.xml"
lab exec 1 clusterctl volume file create vol1 d3disk 16M
wait_for 30 "d3disk exposed on node1" lab exec 1 test -b /run/csvfs/vol1/d3disk
bash "$top/tests/guest/domain.sh" --disk /run/csvfs/vol1/d3disk --mac ip \
	imp3 "${ip[imp3]}" 192 1 >"$LAB_DIR/imp3.xml"

# --- a domain started by hand on node1, its disk on the shared volume
lab exec 1 virsh create "$LAB_DIR/imp1.xml" >/dev/null
wait_for 90 "imp1 answers (started by hand on node1)" answers "${ip[imp1]}"
boot=$(guest_boot "${ip[imp1]}")
[[ -n $boot ]] || fail "imp1 gave no boot id"

out=$(lab exec 1 clusterctl --json vm import imp1 --node node1 --check)
assert_eq "$(jq -r '"\(.running) \(.report.ok)"' <<<"$out")" "true true" "--check: imp1 runs and can be made highly available"
assert_eq "$(lab exec 1 clusterctl --json vm list | jq '.vms | length')" 0 "--check changed nothing"

rc=0
out=$(lab exec 2 clusterctl vm import imp1 --node node9 2>&1) || rc=$?
assert_eq "$rc" 4 "an import for a node the cluster does not have: exit 4"
assert_match "$out" "no node named 'node9'" "it says there is no such node"

# Asked on node2: node1, whose libvirtd has the domain, does the work.
rc=0
out=$(lab exec 2 clusterctl --json vm import imp1 --node node1) || rc=$?
assert_eq "$rc" 0 "vm import imp1 --node node1, asked on node2: exit 0 ($out)"
assert_eq "$(jq -r .node <<<"$out")" node1 "the answer comes from node1"
assert_eq "$(jq -r '"\(.running) \(.state)"' <<<"$out")" "true running" "imp1 imported running"
assert_eq "$(vm_field 2 imp1 'd["state"]') $(vm_field 2 imp1 'd["node_name"]')" "running node1" "node2 sees imp1 running on node1"
assert_eq "$(vm_nodes_running imp1)" node1 "imp1 runs on node1 only (libvirt on every node)"
assert_eq "$(guest_boot "${ip[imp1]}")" "$boot" "imp1's boot id is unchanged: adopted, not restarted"
lease_held() { lab exec 2 clusterctl --json volume lease acquire vol1 d1disk >/dev/null 2>&1 && { lab exec 2 clusterctl volume lease release vol1 d1disk >/dev/null 2>&1; return 1; } || return 0; }
wait_for 10 "imp1's disk lease is held (node2 cannot take it)" lease_held
sleep 3
assert_eq "$(vm_field 1 imp1 'd["state"]') $(guest_boot "${ip[imp1]}")" "running $boot" "imp1 still runs, same boot, after the monitor looked at it"
assert_match "$(lab exec 1 clusterctl events)" "imported from node1" "the events record the import"
pass "imp1 adopted on node1 without a restart"

# --- a disk of node1 only: refused with the reason, nothing changes
lab exec 1 virsh define "$LAB_DIR/imp2.xml" >/dev/null
sum=$(state_sum 1)
rc=0
out=$(lab exec 1 clusterctl --json vm import imp2 --node node1) || rc=$?
assert_eq "$rc" 9 "imp2 (a disk of node1 only) is refused (exit 9)"
assert_match "$(jq -r '[.report.reasons[].code] | join(" ")' <<<"$out")" "disk-local" "the refusal names the local disk"
assert_match "$(jq -r '.report.reasons[].text' <<<"$out")" "/var/lib/cdimp-local.img" "the reason names its path"
out=$(lab exec 1 clusterctl vm import imp2 --node node1 2>&1) || :
assert_match "$out" "disk-local +disk /var/lib/cdimp-local.img" "the words list the reason"
assert_eq "$(state_sum 1)" "$sum" "the cluster's state is unchanged"
rc=0
lab exec 1 clusterctl vm show imp2 >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 4 "the cluster has no VM imp2"
assert_match "$(lab exec 1 virsh -q list --all --name)" "imp2" "libvirt still has imp2 defined on node1"
rc=0
out=$(lab exec 3 clusterctl --json vm import imp2 --node node1 --check) || rc=$?
assert_eq "$rc/$(jq -r '[.report.reasons[].code] | join(" ")' <<<"$out")" "9/disk-local" "--check asked on node3 gives node1's verdict: disk-local"
rc=0
lab exec 1 clusterctl vm import imp2 --node node1 --copy-disks vol1 --check >/dev/null 2>&1 || rc=$?
assert_eq "$rc" 2 "--check with --copy-disks is a usage error"
rc=0
out=$(lab exec 2 clusterctl vm import imp2 --node node1 --copy-disks vol1 2>&1) || rc=$?
assert_eq "$rc" 5 "--copy-disks asked on node2 for node1's domain: exit 5"
assert_match "$out" "run it on node1" "it says to run it on node1"
assert_match "$(lab exec 1 virsh -q list --all --name)" "imp2" "libvirt still has imp2 defined on node1"
lab exec 1 virsh undefine imp2 >/dev/null
pass "imp2 refused with its reason; nothing changed"

# --- a kernel outside boot_file_dirs (a copy of the guest's, in the lab
# dir) and a disk of node1 only: refused before --copy-disks copies anything
mkdir -p "$LAB_DIR/kern"
cp "${CD_GUEST_DIR:-/var/cache/clusterd-guest}"/{vmlinuz,initrd.img} "$LAB_DIR/kern/"
bash "$top/tests/guest/domain.sh" --disk /var/lib/cdimp-local.img --mac ip \
	--guest-dir "$LAB_DIR/kern" imp5 198.18.0.45 192 1 >"$LAB_DIR/imp5.xml"
lab exec 1 virsh define "$LAB_DIR/imp5.xml" >/dev/null
files=$(lab exec 1 clusterctl --json volume show vol1 | jq -c '[.files[].name]')
rc=0
out=$(lab exec 1 clusterctl --json vm import imp5 --node node1 --copy-disks vol1) || rc=$?
assert_eq "$rc" 9 "imp5 (its kernel and initrd outside boot_file_dirs) is refused (exit 9)"
assert_eq "$(jq -r '[.report.reasons[].code] | sort | unique | join(" ")' <<<"$out")" "boot-local disk-local" "the reasons: boot-local (kernel, initrd) and disk-local"
assert_match "$(jq -r '.report.reasons[].text' <<<"$out")" "kernel $LAB_DIR/kern/vmlinuz is a file of this node only" "the reason names the kernel's path"
assert_eq "$(lab exec 1 clusterctl --json volume show vol1 | jq -c '[.files[].name]')" "$files" "--copy-disks copied nothing onto vol1"
lab exec 1 virsh undefine imp5 >/dev/null
pass "imp5 refused for its boot files before any copy"

# --- a domain that is only defined: added stopped, libvirt's definition gone
lab exec 1 virsh define "$LAB_DIR/imp3.xml" >/dev/null
rc=0
out=$(lab exec 3 clusterctl --json vm import imp3 --node node1) || rc=$?
assert_eq "$rc" 0 "vm import imp3 (defined, not running), asked on node3: exit 0"
assert_eq "$(jq -r '"\(.running) \(.state) \(.libvirt_definition)"' <<<"$out")" "false stopped removed" "imp3 added stopped, libvirt's definition removed"
vm_absent_on 1 imp3 || fail "libvirt on node1 still has imp3"
pass "imp3 imported stopped"

# --- --copy-disks: a defined domain with a disk of node1 only is copied onto
# the shared volume, pointed at the copy, and runs from it
ip[imp4]=198.18.0.44
img=$LAB_DIR/cdimp4-local.img
files_of_vol1() { lab exec 1 clusterctl --json volume show vol1 | jq -r '[.files[].name] | join(" ")'; }
dd if=/dev/urandom of="$img" bs=1M count=8 status=none
bash "$top/tests/guest/domain.sh" --disk "$img" --mac ip --console "$LAB_DIR/imp4.log" imp4 "${ip[imp4]}" 192 1 >"$LAB_DIR/imp4.xml"
lab exec 1 virsh define "$LAB_DIR/imp4.xml" >/dev/null
rc=0
out=$(lab exec 1 clusterctl --json vm import imp4 --node node1 --copy-disks vol1) || rc=$?
assert_eq "$rc" 0 "vm import imp4 --copy-disks vol1: exit 0 ($out)"
assert_eq "$(vm_field 1 imp4 'd["state"]')" stopped "imp4 added stopped"
copy=$(vm_field 1 imp4 'd["xml"]' | grep -o "/run/csvfs/vol1/[A-Za-z0-9._-]*" | head -1)
assert_eq "$copy" /run/csvfs/vol1/imp4-vda "its definition points at the copy on vol1"
assert_match "$(files_of_vol1)" "imp4-vda" "the copy is a file of vol1"
want=$(sha256sum <"$img" | cut -d' ' -f1)
got=$(lab exec 2 sh -c "head -c $((8 << 20)) $copy | sha256sum" | cut -d' ' -f1)
assert_eq "$got" "$want" "the copy holds the disk's bytes (read on node2)"
lab exec 1 clusterctl vm start imp4
wait_for 90 "imp4 runs from its copy and answers" running_answers 1 imp4
pass "imp4's disk copied to vol1; it runs from there"

# --- node1 dies: imp1 fails over and answers
probe_start imp1
lab kill 1 >/dev/null
wait_for 90 "imp1 runs on another node and answers" runs_not_on 2 imp1 node1
wait_for 90 "imp1 answers after the failover" answers "${ip[imp1]}"
probe_stop imp1
assert_eq "$inter" false "imp1 never answered from two boots at once"
new=$(vm_field 2 imp1 'd["node_name"]')
assert_eq "$(vm_nodes_running imp1)" "$new" "imp1 runs on $new only"
pass "imp1 failed over to $new"

rc=0
out=$(lab exec 2 clusterctl vm import imp9 --node node1 2>&1) || rc=$?
assert_eq "$rc" 5 "an import for node1 while it is down: exit 5"
assert_match "$out" "node1 is not a member now" "it says node1 is not a member"

lab_test_end
