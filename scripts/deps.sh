#!/bin/bash
# Install every Debian 12 package the project needs to build, test and run
# its lab. Run as root. Safe to run again.
set -euo pipefail

packages=(
	# build; clang-format for the layout check (scripts/check-format.sh)
	build-essential autoconf automake libtool pkg-config clang-format
	# corosync and its client libraries, libqb
	corosync libcorosync-common-dev libcpg-dev libquorum-dev libvotequorum-dev
	libcmap-dev libcfg-dev libqb-dev
	# libvirt C API, JSON, XML, OpenSSL, Check; libarchive (clusterctl debug dump's .tar.gz);
	# zstd (snapshots to the members compressed)
	libvirt-dev libjson-c-dev libxml2-dev libssl-dev check libarchive-dev libzstd-dev
	# the web console: HTTPS (libmicrohttpd with GnuTLS), logins through PAM
	libmicrohttpd-dev libpam0g-dev
	# the lab: namespaces, bridges, loop devices, JSON in test scripts (jq
	# for a field: a tenth of python's start-up on a busy machine)
	iproute2 util-linux mount procps python3 jq
	# VMs in the lab: one libvirtd per node, QEMU (TCG where KVM does not work)
	libvirt-daemon libvirt-clients qemu-system-x86
	# the test guest, built from Debian's packages (tests/guest/build-guest.sh)
	cpio gzip xz-utils zstd
	# the Debian packages, their lintian check and their test in a clean root
	# (tests/pkg/test-packages.sh)
	debhelper lintian mmdebstrap
	# the web console's lab tests: a test certificate and curl (test-94), and
	# headless Chromium driven over DevTools by tests/lab/cdp.py (test-95)
	openssl curl chromium python3-websocket
)

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: run as root (it installs Debian packages)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps.sh: all ${#packages[@]} packages are installed"
	exit 0
fi
echo "deps.sh: installing ${missing[*]}"
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
