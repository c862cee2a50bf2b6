#!/bin/bash
# build-guest.sh [--refresh] [--force] [OUTDIR]
#
# Build the clusterd test guest once and cache it in OUTDIR (default
# ${CD_GUEST_DIR:-/var/cache/clusterd-guest}):
#   vmlinuz      Debian's linux-image-6.1.0-*-cloud-amd64 kernel
#   initrd.img   gzip'd newc cpio: static busybox, the agent, the virtio
#                modules of that kernel and an /init that starts it all
#   agent        the guest agent (static; host copy)
#   udp-probe    the client that polls the agent (runs on the host)
#   VERSION      kernel version, package versions and the sha256 of the inputs
#   debs/        the .deb files used (kept, so rebuilds use the same kernel)
#
# Only Debian packages are downloaded (apt-get download). Runs again are
# cheap: nothing is done when the outputs exist and the inputs (agent.c,
# udp-probe.c, this script, the cached .deb files) are unchanged.
#   --refresh   forget the cached .deb files: take the current kernel
#   --force     rebuild even if up to date
# Environment: CD_GUEST_DIR (default OUTDIR), CD_GUEST_KERNEL_PKG (a
# linux-image-6.1.0-N-cloud-amd64 package to use instead of the current one),
# CC (default gcc).
# Needs gcc, libc6-dev, cpio, gzip; installs the missing ones with apt-get
# when run as root (and says so).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
self="$here/$(basename "${BASH_SOURCE[0]}")"
CC=${CC:-gcc}
# Loaded by /init in this order (required).
MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci failover net_failover virtio_net"
# Loaded after them if the kernel has them: disks (--disk) and the ACPI
# power button (virsh shutdown).
EXTRA_MODULES="virtio_blk button evdev"

refresh=0 force=0 out=
while [ $# -gt 0 ]; do
	case $1 in
	--refresh) refresh=1 ;;
	--force) force=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$self"
		exit 0
		;;
	-*)
		echo "usage: $0 [--refresh] [--force] [OUTDIR]" >&2
		exit 2
		;;
	*)
		[ -z "$out" ] || {
			echo "usage: $0 [--refresh] [--force] [OUTDIR]" >&2
			exit 2
		}
		out=$1
		;;
	esac
	shift
done
out=${out:-${CD_GUEST_DIR:-/var/cache/clusterd-guest}}

log() { echo "build-guest: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

apt_updated=0
apt_update() {
	[ "$apt_updated" = 0 ] || return 0
	[ "$(id -u)" = 0 ] || die "apt-get update needed (run as root)"
	log "running apt-get update"
	apt-get update -qq >&2 || die "apt-get update failed"
	apt_updated=1
}

# ensure_pkgs CMD-OR-FILE:PACKAGE... : install the packages whose command (or
# file, if it starts with /) is missing.
ensure_pkgs() {
	local want=() spec what pkg
	for spec in "$@"; do
		what=${spec%%:*} pkg=${spec#*:}
		case $what in
		/*) [ -e "$what" ] && continue ;;
		*) command -v "$what" >/dev/null 2>&1 && continue ;;
		esac
		want+=("$pkg")
	done
	[ ${#want[@]} -gt 0 ] || return 0
	[ "$(id -u)" = 0 ] || die "missing build dependencies: ${want[*]} (install them, or run as root)"
	log "installing build dependencies: ${want[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >&2; then
		apt_update
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >&2 ||
			die "cannot install ${want[*]}"
	fi
}

libc_a=$("$CC" -print-file-name=libc.a 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/libc.a)
case $libc_a in /*) ;; *) libc_a=/usr/lib/x86_64-linux-gnu/libc.a ;; esac
ensure_pkgs "$CC:gcc" "$libc_a:libc6-dev" cpio:cpio gzip:gzip dpkg-deb:dpkg \
	apt-get:apt sha256sum:coreutils flock:util-linux

mkdir -p "$out/debs" || die "cannot create $out"
exec 9>"$out/.lock"
flock 9 # one build at a time (lab nodes may start together)

# --- the packages ----------------------------------------------------------
kernel_re='^linux-image-6\.1\.0-[0-9]+-cloud-amd64$'

current_kernel_pkg() {
	local p
	p=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *|\{0,1\}Depends: \(linux-image-6\.1\.0-[0-9]*-cloud-amd64\)$/\1/p' | head -n1)
	if [ -z "$p" ]; then
		p=$(apt-cache search --names-only "$kernel_re" 2>/dev/null |
			awk '{print $1}' | grep -E "$kernel_re" | sort -V | tail -n1)
	fi
	echo "$p"
}

# download PACKAGE: apt-get download into $out/debs (apt-get update and retry
# once if the lists are missing or stale).
download() {
	if ! (cd "$out/debs" && apt-get download -q -o APT::Sandbox::User=root "$1" >&2); then
		apt_update
		(cd "$out/debs" && apt-get download -q -o APT::Sandbox::User=root "$1" >&2) ||
			die "apt-get download $1 failed"
	fi
}

if [ "$refresh" = 1 ]; then
	log "forgetting cached packages"
	rm -f "$out"/debs/*.deb
fi

shopt -s nullglob
kdebs=("$out"/debs/linux-image-6.1.0-*-cloud-amd64_*.deb)
if [ -n "${CD_GUEST_KERNEL_PKG:-}" ]; then
	[[ $CD_GUEST_KERNEL_PKG =~ $kernel_re ]] || die "CD_GUEST_KERNEL_PKG must match $kernel_re"
	kdebs=("$out/debs/${CD_GUEST_KERNEL_PKG}"_*.deb)
fi
if [ ${#kdebs[@]} -eq 0 ]; then
	kpkg=${CD_GUEST_KERNEL_PKG:-$(current_kernel_pkg)}
	if [ -z "$kpkg" ]; then
		apt_update
		kpkg=$(current_kernel_pkg)
	fi
	[ -n "$kpkg" ] || die "no linux-image-6.1.0-*-cloud-amd64 package known to apt"
	rm -f "$out"/debs/linux-image-*.deb
	log "downloading $kpkg"
	download "$kpkg"
	kdebs=("$out/debs/${kpkg}"_*.deb)
	[ ${#kdebs[@]} -eq 1 ] || die "download of $kpkg left no .deb"
fi
[ ${#kdebs[@]} -eq 1 ] || die "several kernel packages in $out/debs: use --refresh"
kdeb=${kdebs[0]}

bdebs=("$out"/debs/busybox-static_*.deb)
if [ ${#bdebs[@]} -eq 0 ]; then
	log "downloading busybox-static"
	download busybox-static
	bdebs=("$out"/debs/busybox-static_*.deb)
fi
[ ${#bdebs[@]} -eq 1 ] || die "expected one busybox-static .deb in $out/debs"
bdeb=${bdebs[0]}
shopt -u nullglob

# --- up to date? --------------------------------------------------------------
inputs=$(cd "$here" && sha256sum agent.c udp-probe.c "$(basename "$self")"
	sha256sum "$kdeb" "$bdeb" | sed 's|  .*/|  |')
inputs_sha=$(printf '%s\n' "$inputs" | sha256sum | cut -d' ' -f1)
if [ "$force" = 0 ] && [ -f "$out/VERSION" ] &&
	grep -qx "inputs=$inputs_sha" "$out/VERSION" &&
	[ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] &&
	[ -x "$out/agent" ] && [ -x "$out/udp-probe" ]; then
	log "up to date: $out ($(sed -n 's/^kernel=//p' "$out/VERSION"))"
	exit 0
fi

# --- build ----------------------------------------------------------------------
tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "building in $tmp"

mkdir "$tmp/k" "$tmp/bb"
dpkg-deb -x "$kdeb" "$tmp/k"
dpkg-deb -x "$bdeb" "$tmp/bb"
kvers=("$tmp"/k/lib/modules/*)
if [ ${#kvers[@]} -ne 1 ] || [ ! -d "${kvers[0]}" ]; then
	die "no single lib/modules/<version> in $kdeb"
fi
kver=$(basename "${kvers[0]}")
kmod="$tmp/k/lib/modules/$kver"
[ -f "$tmp/k/boot/vmlinuz-$kver" ] || die "no boot/vmlinuz-$kver in $kdeb"
busybox="$tmp/bb/bin/busybox"
[ -x "$busybox" ] || die "no bin/busybox in $bdeb"

cflags=(-O2 -Wall -Wextra -Werror)
"$CC" "${cflags[@]}" -static -pthread -s -o "$tmp/agent" "$here/agent.c"
"$CC" "${cflags[@]}" -o "$tmp/udp-probe" "$here/udp-probe.c" -lm

root="$tmp/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,root,etc/acpi/PWRF,lib/modules,var/log}
chmod 1777 "$root/tmp"
install -m 0755 "$busybox" "$root/bin/busybox"
"$busybox" --list-full | while read -r applet; do
	case $applet in
	bin/busybox | linuxrc | init | "") continue ;;
	esac
	mkdir -p "$root/$(dirname "$applet")"
	ln -sf /bin/busybox "$root/$applet"
done
install -m 0755 "$tmp/agent" "$root/sbin/agent"

# Modules: uncompressed into /lib/modules/NAME.ko; /etc/modules gives the order.
: >"$root/etc/modules"
for m in $MODULES $EXTRA_MODULES; do
	f=$(find "$kmod/kernel" \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" -o -name "$m.ko.gz" \) | head -n1)
	if [ -z "$f" ]; then
		if grep -qE "/$m\.ko$" "$kmod/modules.builtin" 2>/dev/null; then
			log "module $m is built in"
			continue
		fi
		case " $MODULES " in
		*" $m "*) die "module $m not found in $kdeb" ;;
		*) log "optional module $m not found; skipped" && continue ;;
		esac
	fi
	case $f in
	*.ko.xz)
		ensure_pkgs xz:xz-utils
		xz -dc "$f" >"$root/lib/modules/$m.ko"
		;;
	*.ko.zst)
		ensure_pkgs zstd:zstd
		zstd -qdc "$f" >"$root/lib/modules/$m.ko"
		;;
	*.ko.gz) gzip -dc "$f" >"$root/lib/modules/$m.ko" ;;
	*) cp "$f" "$root/lib/modules/$m.ko" ;;
	esac
	echo "$m" >>"$root/etc/modules"
done

# ACPI power button (virsh shutdown) -> busybox acpid -> this -> /init's trap.
printf '#!/bin/sh\nkill -USR2 1\n' >"$root/etc/acpi/PWRF/00000080"
chmod 0755 "$root/etc/acpi/PWRF/00000080"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
echo "$kver" >"$root/etc/guest-kernel"

cat >"$root/init" <<'INIT'
#!/bin/sh
# /init of the clusterd test guest (made by tests/guest/build-guest.sh).
# Kernel command line: ip=198.18.0.X[/24] [gw=ADDR] [hostname=NAME]
#   [dirty_mb=N dirty_rate_mbps=R|max] [agent_port=N]
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run

log() { read -r up _ </proc/uptime; echo "guest-init: [$up] $*"; }
read -r CMDLINE </proc/cmdline
arg() { # arg KEY: the value of KEY= on the kernel command line
	set -f
	for w in $CMDLINE; do
		case $w in "$1"=*)
			echo "${w#*=}"
			set +f
			return 0
			;;
		esac
	done
	set +f
	return 1
}

while read -r m; do
	insmod "/lib/modules/$m.ko" || log "insmod $m failed"
done </etc/modules
log "modules loaded"

ip link set lo up
addr=$(arg ip) || addr=
gw=$(arg gw) || gw=
name=$(arg hostname) || name=
if [ -n "$addr" ]; then
	case $addr in */*) ;; *) addr=$addr/24 ;; esac
	n=0
	while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 100 ]; do
		usleep 50000
		n=$((n + 1))
	done
	if ip addr add "$addr" dev eth0 && ip link set eth0 up; then
		[ -z "$gw" ] || ip route add default via "$gw" || log "bad gw=$gw"
		# Only with garp=1: a gratuitous ARP tells the bridge and neighbours
		# where this address is now. Off by default, like many real guests
		# that send nothing until spoken to: telling the network where a VM
		# runs is the cluster's job, and a test must see whether it does.
		if [ "$(arg garp || :)" = 1 ]; then
			arping -q -U -c 2 -I eth0 "${addr%/*}" >/dev/null 2>&1 &
		fi
		log "eth0 up: $addr${gw:+ gw $gw}"
	else
		log "cannot configure eth0 with $addr"
	fi
else
	log "no ip= on the kernel command line; eth0 left down"
fi
[ -n "$name" ] || name=guest-$(echo "${addr%/*}" | sed 's/.*\.//')
hostname "$name"

[ -e /dev/input/event0 ] && acpid -d -c /etc/acpi 2>&1 &

agent_loop() {
	while :; do
		/sbin/agent --boot-id-file /run/boot-id
		log "agent exited ($?), restarting in 1 s"
		sleep 1
	done
}
agent_loop &
loop=$!

down() { # down poweroff|reboot
	log "$1 requested"
	kill "$loop" 2>/dev/null
	killall agent acpid 2>/dev/null
	sync
	"$1" -f
}
trap 'down poweroff' USR1 USR2
trap 'down reboot' TERM
# PID 1: reap children, keep the agent loop alive, never exit.
while :; do
	wait
	if ! kill -0 "$loop" 2>/dev/null; then
		agent_loop &
		loop=$!
	fi
done
INIT
chmod 0755 "$root/init"

# newc_entry NAME MODE(octal) NLINK RDEV_MAJOR RDEV_MINOR INO: a data-less
# newc header (devices, directories, the trailer), so no mknod (root) is
# needed for /dev/console.
newc_entry() {
	local name=$1 namesize=$((${#1} + 1)) pad
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		"$6" "$((8#$2))" 0 0 "$3" 0 0 0 0 "$4" "$5" "$namesize" 0
	printf '%s\0' "$name"
	pad=$(((4 - (110 + namesize) % 4) % 4))
	[ "$pad" = 0 ] || head -c "$pad" /dev/zero
}

epoch=${SOURCE_DATE_EPOCH:-1}
find "$root" -exec touch -h -d "@$epoch" {} +
{
	(cd "$root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet)
	# a second archive in the same stream: /dev/console for the kernel to
	# open before /init runs
	newc_entry dev 040755 2 0 0 900001
	newc_entry dev/console 020600 1 5 1 900002
	newc_entry 'TRAILER!!!' 0 1 0 0 0
} | gzip -9 -n >"$tmp/initrd.img"

cp "$tmp/k/boot/vmlinuz-$kver" "$tmp/vmlinuz"
pkgver() { echo "$(dpkg-deb -f "$1" Package) $(dpkg-deb -f "$1" Version)"; }
{
	echo "kernel=$kver"
	echo "kernel_package=$(pkgver "$kdeb")"
	echo "busybox_package=$(pkgver "$bdeb")"
	echo "modules=$(tr '\n' ' ' <"$root/etc/modules" | sed 's/ $//')"
	echo "inputs=$inputs_sha"
	printf '%s\n' "$inputs" | sed 's/^/input=/'
} >"$tmp/VERSION"

# Install: each file replaced atomically, VERSION last (it marks completion).
rm -f "$out/VERSION"
for f in vmlinuz initrd.img agent udp-probe; do
	cp "$tmp/$f" "$out/.$f.new"
	mv -f "$out/.$f.new" "$out/$f"
done
chmod 0644 "$out/vmlinuz" "$out/initrd.img"
mv -f "$tmp/VERSION" "$out/VERSION"
log "built $out: kernel $kver, vmlinuz $(stat -c %s "$out/vmlinuz") bytes, initrd.img $(stat -c %s "$out/initrd.img") bytes"
