#!/bin/sh
# domain.sh [options] NAME IP [MEMORY_MB] [VCPUS]
#
# Print a libvirt domain XML for the clusterd test guest (built by
# build-guest.sh): direct kernel boot of ${CD_GUEST_DIR:-/var/cache/clusterd-guest}
# /vmlinuz + /initrd.img, no disk, one virtio NIC on a bridge, serial console
# to a file. MEMORY_MB defaults to 256, VCPUS to 1.
#
# By default the XML has no UUID and no MAC, and the guest sends nothing on
# the network until spoken to (no gratuitous ARP, no IPv6): like a guest the
# project has never seen, so that keeping a VM's identity and announcing it
# is left to the cluster, where it belongs.
#
# Options (anywhere on the line):
#   --kvm               <domain type='kvm'> (default: type='qemu', i.e. TCG)
#   --cpu MODEL         CPU model (default qemu64; host-passthrough allowed)
#   --bridge BR         bridge to join (default br0)
#   --console FILE      serial console log (default
#                       /var/log/libvirt/qemu/NAME-console.log)
#   --disk PATH         add a raw block device PATH as vda (vdb, ... if repeated)
#   --uuid UUID         fixed domain UUID
#   --mac MAC           fixed MAC address ("ip": 52:54:00 + the IP's last
#                       three octets)
#   --garp              the guest announces itself (gratuitous ARP, IPv6)
#                       when its interface comes up
#   --gw ADDR           guest default gateway
#   --dirty-mb N        guest agent: N MiB of memory in use ...
#   --dirty-rate R      ... rewritten at R MiB/s (or "max")
#   --cmdline-extra S   appended to the kernel command line (which has
#                       "quiet"; "loglevel=7" brings the kernel messages back)
#   --guest-dir DIR     kernel/initrd directory (default $CD_GUEST_DIR or
#                       /var/cache/clusterd-guest)
set -eu

usage() {
	echo "usage: $0 [--kvm] [--cpu MODEL] [--bridge BR] [--console FILE] [--disk PATH]..." >&2
	echo "          [--uuid UUID] [--mac MAC|ip] [--garp] [--gw ADDR] [--dirty-mb N] [--dirty-rate R]" >&2
	echo "          [--cmdline-extra S] [--guest-dir DIR] NAME IP [MEMORY_MB] [VCPUS]" >&2
	exit 2
}
die() {
	echo "domain.sh: $*" >&2
	exit 2
}
# XML-escape for attribute and text values
xml() { printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e "s/'/\&apos;/g" -e 's/"/\&quot;/g'; }

type=qemu cpu=qemu64 bridge=br0 console='' uuid='' gw='' dirty_mb='' dirty_rate='' extra=''
mac='' garp=0
guest_dir=${CD_GUEST_DIR:-/var/cache/clusterd-guest}
disks=''
name='' ip='' mem=256 vcpus=1 npos=0
while [ $# -gt 0 ]; do
	case $1 in
	--kvm) type=kvm ;;
	--garp) garp=1 ;;
	--cpu | --bridge | --console | --disk | --uuid | --mac | --gw | --dirty-mb | --dirty-rate | --cmdline-extra | --guest-dir)
		[ $# -ge 2 ] || usage
		case $1 in
		--cpu) cpu=$2 ;;
		--bridge) bridge=$2 ;;
		--console) console=$2 ;;
		--disk)
			case $2 in *"
"*) die "bad disk path" ;; esac
			disks="$disks$2
"
			;;
		--uuid) uuid=$2 ;;
		--mac) mac=$2 ;;
		--gw) gw=$2 ;;
		--dirty-mb) dirty_mb=$2 ;;
		--dirty-rate) dirty_rate=$2 ;;
		--cmdline-extra) extra=$2 ;;
		--guest-dir) guest_dir=$2 ;;
		esac
		shift
		;;
	-h | --help) usage ;;
	-*) usage ;;
	*)
		npos=$((npos + 1))
		case $npos in
		1) name=$1 ;;
		2) ip=$1 ;;
		3) mem=$1 ;;
		4) vcpus=$1 ;;
		*) usage ;;
		esac
		;;
	esac
	shift
done
if [ -z "$name" ] || [ -z "$ip" ]; then usage; fi

case $name in *[!A-Za-z0-9_.-]* | "") die "bad NAME '$name' (letters, digits, _ . -)" ;; esac
# IPv4 dotted quad; the MAC takes its last three octets
old_ifs=$IFS
IFS=.
# shellcheck disable=SC2086 # splitting on dots is the point
set -- $ip
IFS=$old_ifs
[ $# -eq 4 ] || die "bad IP '$ip'"
for o in "$@"; do
	case $o in '' | *[!0-9]*) die "bad IP '$ip'" ;; esac
	[ "$o" -le 255 ] || die "bad IP '$ip'"
done
[ "$mac" != ip ] || mac=$(printf '52:54:00:%02x:%02x:%02x' "$2" "$3" "$4")
case $mac in *[!0-9A-Fa-f:]*) die "bad MAC '$mac'" ;; esac
case $mem in '' | *[!0-9]*) die "bad MEMORY_MB '$mem'" ;; esac
case $vcpus in '' | *[!0-9]*) die "bad VCPUS '$vcpus'" ;; esac
[ "$mem" -ge 64 ] || die "MEMORY_MB must be at least 64"
[ "$vcpus" -ge 1 ] || die "VCPUS must be at least 1"
for v in "$dirty_mb" "$gw" "$dirty_rate"; do
	case $v in *[!A-Za-z0-9.:]*) die "bad value '$v'" ;; esac
done
console=${console:-/var/log/libvirt/qemu/$name-console.log}
for f in "$guest_dir/vmlinuz" "$guest_dir/initrd.img"; do
	[ -r "$f" ] || echo "domain.sh: warning: $f missing (run build-guest.sh)" >&2
done

cmdline="console=ttyS0 ip=$ip/24"
[ -z "$gw" ] || cmdline="$cmdline gw=$gw"
[ -z "$dirty_mb" ] || cmdline="$cmdline dirty_mb=$dirty_mb"
[ -z "$dirty_rate" ] || cmdline="$cmdline dirty_rate_mbps=$dirty_rate"
if [ "$garp" = 1 ]; then
	cmdline="$cmdline garp=1"
else
	cmdline="$cmdline ipv6.disable=1"
fi
cmdline="$cmdline hostname=$name panic=1 oops=panic quiet $extra"
cmdline=${cmdline% }

if [ "$cpu" = host-passthrough ]; then
	cpu_xml="  <cpu mode='host-passthrough' check='none' migratable='on'/>"
else
	cpu_xml="  <cpu mode='custom' match='exact' check='none'>
    <model fallback='forbid'>$(xml "$cpu")</model>
  </cpu>"
fi

cat <<EOF
<domain type='$type'>
  <name>$(xml "$name")</name>
EOF
[ -z "$uuid" ] || echo "  <uuid>$(xml "$uuid")</uuid>"
cat <<EOF
  <memory unit='MiB'>$mem</memory>
  <currentMemory unit='MiB'>$mem</currentMemory>
  <vcpu placement='static'>$vcpus</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$(xml "$guest_dir/vmlinuz")</kernel>
    <initrd>$(xml "$guest_dir/initrd.img")</initrd>
    <cmdline>$(xml "$cmdline")</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
$cpu_xml
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
EOF
n=0
printf '%s' "$disks" | while IFS= read -r d; do
	dev=vd$(printf '%s' abcdefghijklmnopqrstuvwxyz | cut -c$((n + 1)))
	n=$((n + 1))
	cat <<EOF
    <disk type='block' device='disk'>
      <driver name='qemu' type='raw' cache='none' io='native'/>
      <source dev='$(xml "$d")'/>
      <target dev='$dev' bus='virtio'/>
    </disk>
EOF
done
cat <<EOF
    <interface type='bridge'>
EOF
[ -z "$mac" ] || echo "      <mac address='$mac'/>"
cat <<EOF
      <source bridge='$(xml "$bridge")'/>
      <model type='virtio'/>
    </interface>
    <serial type='file'>
      <source path='$(xml "$console")' append='on'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='$(xml "$console")' append='on'/>
      <target type='serial' port='0'/>
    </console>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
