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
python3 - "$XMLS" "$N" "$LAB_DIR/late.xml" <<'EOF'
import sys, uuid
d, n, late = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n + 1):
    name = "s%05d" % i if i < n else "late1"
    u = uuid.UUID(int=(0x5CA1E << 100) | i)
    mac1 = "52:54:01:%02x:%02x:%02x" % ((i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
    mac2 = "52:54:02:%02x:%02x:%02x" % ((i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
    x = f"""<domain type='kvm'>
  <name>{name}</name>
  <uuid>{u}</uuid>
  <title>{name}: application server {i} of the scale test</title>
  <description>A realistic definition: what a managed host's VMs carry (disks on a shared volume, two networks, console, graphics, channels).</description>
  <metadata>
    <app:info xmlns:app='http://example.org/app/1'><app:owner>team-{i % 17}</app:owner><app:tier>{('web', 'app', 'db')[i % 3]}</app:tier></app:info>
  </metadata>
  <memory unit='MiB'>128</memory>
  <currentMemory unit='MiB'>128</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features><acpi/><apic/><vmport state='off'/></features>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>
  <clock offset='utc'><timer name='rtc' tickpolicy='catchup'/><timer name='pit' tickpolicy='delay'/><timer name='hpet' present='no'/></clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='no'/></pm>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none' io='native' discard='unmap'/>
      <source file='/var/lib/libvirt/images/{name}-root.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <serial>{name}-root</serial>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none' io='native'/>
      <source file='/var/lib/libvirt/images/{name}-data.qcow2'/>
      <target dev='vdb' bus='virtio'/>
      <serial>{name}-data</serial>
    </disk>
    <controller type='usb' index='0' model='piix3-uhci'/>
    <controller type='pci' index='0' model='pci-root'/>
    <controller type='virtio-serial' index='0'/>
    <interface type='bridge'>
      <mac address='{mac1}'/>
      <source bridge='br0'/>
      <model type='virtio'/>
      <mtu size='1500'/>
    </interface>
    <interface type='bridge'>
      <mac address='{mac2}'/>
      <source bridge='br1'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target type='isa-serial' port='0'><model name='isa-serial'/></target></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <input type='tablet' bus='usb'/>
    <input type='mouse' bus='ps2'/>
    <input type='keyboard' bus='ps2'/>
    <graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'><listen type='address' address='127.0.0.1'/></graphics>
    <video><model type='cirrus' vram='16384' heads='1' primary='yes'/></video>
    <memballoon model='virtio'><stats period='10'/></memballoon>
    <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  </devices>
</domain>
"""
    x += "<!-- " + ("padding to a managed host's size " * ((5000 - len(x)) // 34 + 1)) + "-->\n"
    open(f"{d}/{name}.xml" if i < n else late, "w").write(x)
EOF
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
lab start 3 clusterd >/dev/null
wait_for 180 "node3, empty, gets the state: the three agree" all_three_agree
assert_eq "$(vms_on 3)" "$N" "node3 lists $N VMs again"
grep -h "queued as [0-9]* chunks" "$LAB_DIR"/node[12]/log/clusterd.log >/dev/null ||
	fail "no node sent the snapshot in chunks"
chunks=$(grep -h "queued as [0-9]* chunks" "$LAB_DIR"/node[12]/log/clusterd.log | tail -1 | sed 's/.*queued as \([0-9]*\) chunks.*/\1/')
((chunks > 1)) || fail "the snapshot went in $chunks chunk(s)"
pass "the snapshot went to node3 in $chunks chunks"
grep -q "adopting state" "$LAB_DIR/node3/log/clusterd.log" || fail "node3 never adopted a snapshot"
pass "node3 adopted the streamed snapshot"

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
