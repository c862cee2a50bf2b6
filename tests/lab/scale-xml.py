#!/usr/bin/env python3
# scale-xml.py DIR N LATE: N domain definitions of some 5 KB each in DIR
# (s00000.xml ...), and one more in the file LATE: two disks, two NICs,
# console, graphics, channels, as a managed host's VMs have. Unique names,
# UUIDs and MACs, and 384 hex digits of per-VM data that packs no better
# than real per-VM data does (keys, serials, cloud-init instance data), so
# that a snapshot packed with zstd is not mostly the same text over and
# over. For test-90-scale and bench/scale/rejoin.sh.
import hashlib, sys, uuid
d, n, late = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n + 1):
    name = "s%05d" % i if i < n else "late1"
    u = uuid.UUID(int=(0x5CA1E << 100) | i)
    mac1 = "52:54:01:%02x:%02x:%02x" % ((i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
    mac2 = "52:54:02:%02x:%02x:%02x" % ((i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
    key = "".join(hashlib.sha512(b"%d/%d" % (i, k)).hexdigest() for k in range(3))
    x = f"""<domain type='kvm'>
  <name>{name}</name>
  <uuid>{u}</uuid>
  <title>{name}: application server {i} of the scale test</title>
  <description>A realistic definition: what a managed host's VMs carry (disks on a shared volume, two networks, console, graphics, channels).</description>
  <metadata>
    <app:info xmlns:app='http://example.org/app/1'><app:owner>team-{i % 17}</app:owner><app:tier>{('web', 'app', 'db')[i % 3]}</app:tier><app:instance>{key}</app:instance></app:info>
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
