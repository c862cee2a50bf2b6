#!/bin/bash
# selftest.sh [OUTDIR]: boot the test guest under plain QEMU (TCG) and check it.
#
# Builds the guest if needed (build-guest.sh OUTDIR), then in a private
# network namespace gtest-<pid> (bridge br0 198.18.0.250/24, tap gtap0, guest
# 198.18.0.21) boots it with a memory dirtier (dirty_mb=64 dirty_rate_mbps=50)
# and checks:
#   - READY on the console, and the boot-to-READY time;
#   - udp-probe --once answers with the boot id READY printed;
#   - the dirtier runs (DIRTY line; dirtied_mb grows at about the set rate);
#   - /init restarts the agent when it exits (same boot id, seq from 1);
#   - a 1 ms udp-probe run, with a reset (QEMU system_reset) in the middle:
#     the boot id changes exactly once, never interleaves, and the outage is
#     measured;
#   - the ACPI power button (system_powerdown, i.e. virsh shutdown) powers
#     the guest off.
# Needs root and qemu-system-x86_64 (installs qemu-system-x86 if missing).
# GTEST_CONSOLE=FILE keeps a copy of the console log; GTEST_MEM_MB (256).
# Everything it creates (netns, tap, bridge, QEMU, temp dir) is removed on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-${CD_GUEST_DIR:-/var/cache/clusterd-guest}}
ns=gtest-$$
guest_ip=198.18.0.21
mem=${GTEST_MEM_MB:-256}
tmp=$(mktemp -d /tmp/gtest.XXXXXX)
qpid=''
probe_pid=''
fails=0

log() { echo "selftest: $*"; }
ok() { echo "selftest: ok   $*"; }
bad() {
	echo "selftest: FAIL $*"
	fails=$((fails + 1))
}

cleanup() {
	[ -z "$probe_pid" ] || kill "$probe_pid" 2>/dev/null || true
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$qpid" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$qpid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	[ -z "${GTEST_CONSOLE:-}" ] || cp "$tmp/console.log" "$GTEST_CONSOLE" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || {
	echo "selftest: needs root" >&2
	exit 2
}
if ! command -v qemu-system-x86_64 >/dev/null; then
	log "installing qemu-system-x86"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-x86
fi

"$here/build-guest.sh" "$out"
probe=$out/udp-probe

# --- network: all of it inside the namespace ------------------------------------
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add br0 type bridge forward_delay 0 stp_state 0
ip -n "$ns" addr add 198.18.0.250/24 dev br0
ip -n "$ns" link set br0 up
ip -n "$ns" tuntap add gtap0 mode tap
ip -n "$ns" link set gtap0 master br0 up
nsx() { ip netns exec "$ns" "$@"; }

con=$tmp/console.log
mon=$tmp/monitor.sock
monitor() { # send one HMP command
	python3 - "$mon" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
try:
    s.recv(4096)  # banner
except OSError:
    pass
s.sendall(sys.argv[2].encode() + b"\n")
time.sleep(0.2)
s.close()
PY
}
now() { date +%s%N; }
# wait_for PATTERN COUNT TIMEOUT_S: until the console has COUNT lines matching
wait_for() {
	local deadline=$(($(date +%s) + $3)) n
	while :; do
		n=$(grep -c -- "$1" "$con" 2>/dev/null) || true
		[ "${n:-0}" -lt "$2" ] || return 0
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 0.02
	done
}

cmdline="console=ttyS0 ip=$guest_ip/24 hostname=gtest dirty_mb=64 dirty_rate_mbps=50 panic=1 quiet"
log "booting: qemu-system-x86_64 -accel tcg -cpu qemu64 -m $mem ($cmdline)"
t0=$(now)
# not through nsx: $! must be QEMU itself (ip netns exec execs it)
ip netns exec "$ns" qemu-system-x86_64 -accel tcg -cpu qemu64 -m "$mem" -smp 1 -nographic \
	-serial "file:$con" -monitor "unix:$mon,server=on,wait=off" \
	-netdev tap,id=n0,ifname=gtap0,script=no,downscript=no \
	-device virtio-net-pci,netdev=n0,mac=52:54:00:12:00:15 \
	-kernel "$out/vmlinuz" -initrd "$out/initrd.img" -append "$cmdline" \
	-pidfile "$tmp/qemu.pid" </dev/null >"$tmp/qemu.out" 2>&1 &
qpid=$!

for _ in $(seq 1 100); do
	[ -s "$tmp/qemu.pid" ] || ! kill -0 "$qpid" 2>/dev/null && break
	sleep 0.05
done
if [ -s "$tmp/qemu.pid" ] && [ "$(cat "$tmp/qemu.pid")" != "$qpid" ]; then
	log "QEMU runs as pid $(cat "$tmp/qemu.pid"), not $qpid"
	qpid=$(cat "$tmp/qemu.pid")
fi

# 1. READY
if wait_for '^READY ' 1 120; then
	t1=$(now)
	boot_ms=$(((t1 - t0) / 1000000))
	ready=$(grep -m1 '^READY ' "$con" | tr -d '\r')
	boot1=${ready##*boot=}
	ok "READY after $boot_ms ms: $ready"
else
	bad "no READY within 120 s"
	cat "$tmp/qemu.out" "$con" >&2 || true
	exit 1
fi
grep -q "^READY $guest_ip boot=" "$con" || bad "READY does not name $guest_ip"
if grep -qi 'unable to open an initial console' "$con"; then
	bad "kernel found no /dev/console"
fi

# 2. --once
if reply=$(nsx "$probe" "$guest_ip" --once --timeout-ms 2000); then
	ok "udp-probe --once: $reply"
	case $reply in "boot=$boot1 "*) ;; *) bad "reply boot id differs from READY's" ;; esac
else
	bad "udp-probe --once got no answer"
fi
if nsx "$probe" 198.18.0.22 --once --timeout-ms 300 >/dev/null; then
	bad "an absent address answered"
else
	ok "udp-probe --once to an absent address exits 1"
fi

# 3. dirtier
if wait_for '^DIRTY allocated 64 MiB' 1 60; then
	ok "$(grep -m1 '^DIRTY' "$con" | tr -d '\r')"
	d1=$(nsx "$probe" "$guest_ip" --once | sed -n 's/.* dirtied_mb=\([0-9]*\) .*/\1/p')
	ta=$(now)
	sleep 4
	d2=$(nsx "$probe" "$guest_ip" --once | sed -n 's/.* dirtied_mb=\([0-9]*\) .*/\1/p')
	tb=$(now)
	rate=$(((d2 - d1) * 1000000000 / (tb - ta)))
	if [ "$rate" -ge 35 ] && [ "$rate" -le 65 ]; then
		ok "dirtier rewrites $rate MiB/s (set: 50)"
	else
		bad "dirtier rate $rate MiB/s (set: 50; $d1 -> $d2 MiB)"
	fi
else
	bad "no DIRTY line"
fi

# 4. the agent restarts if it dies
if nsx "$probe" "$guest_ip" --once --timeout-ms 500 --message '!agent-exit' >/dev/null; then
	bad "agent answered !agent-exit"
fi
ta=$(now)
reply=''
for _ in $(seq 1 50); do
	reply=$(nsx "$probe" "$guest_ip" --once --timeout-ms 100) && break
done
case $reply in
"boot=$boot1 seq=1 "*) ok "agent restarted by /init after $((($(now) - ta) / 1000000)) ms, same boot id: $reply" ;;
*) bad "agent not restarted as expected: '$reply'" ;;
esac

# 5. 1 ms probe across a reset
log "probing every 1 ms for 25 s; system_reset after 3 s"
ip netns exec "$ns" "$probe" "$guest_ip" --interval-ms 1 --duration-s 25 --json \
	>"$tmp/probe.json" 2>"$tmp/probe.err" &
probe_pid=$!
sleep 3
nready=$(grep -c '^READY ' "$con")
tr0=$(now)
monitor system_reset
if wait_for '^READY ' $((nready + 1)) 120; then
	tr1=$(now)
	ready2=$(grep '^READY ' "$con" | tail -n1 | tr -d '\r')
	boot2=${ready2##*boot=}
	ok "READY after reset in $(((tr1 - tr0) / 1000000)) ms: $ready2"
	if [ "$boot2" != "$boot1" ]; then
		ok "boot id changed ($boot1 -> $boot2)"
	else
		bad "boot id unchanged after reset"
	fi
else
	bad "no READY after reset"
fi
wait "$probe_pid" || bad "udp-probe run failed"
probe_pid=''

python3 - "$tmp/probe.json" "$boot1" "${boot2:-}" <<'PY' || fails=$((fails + 1))
import json, sys
r = json.load(open(sys.argv[1]))
b1, b2 = sys.argv[2], sys.argv[3]
g = r["max_gap"]
print("selftest: probe sent %d answered %d lost %d rtt avg %.3f ms max %.3f ms"
      % (r["sent"], r["answered"], r["lost"], r["rtt_ms"]["avg"], r["rtt_ms"]["max"]))
print("selftest: outage (longest gap) %.0f ms, boot change at %.0f ms"
      % (g["ms"], r["boot_changes"][0]["at_ms"] if r["boot_changes"] else -1))
ids = [b["id"] for b in r["boots"]]
okk = (ids == [b1, b2] and len(r["boot_changes"]) == 1 and not r["interleaved"]
       and g["from_boot"] == b1 and g["to_boot"] == b2)
print("selftest: %s boots seen %s, changes %d, interleaved %s"
      % ("ok  " if okk else "FAIL", ids, len(r["boot_changes"]), r["interleaved"]))
sys.exit(0 if okk else 1)
PY

# 6. ACPI power button
tp=$(now)
monitor system_powerdown
for _ in $(seq 1 300); do
	kill -0 "$qpid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$qpid" 2>/dev/null; then
	bad "guest ignored the ACPI power button"
else
	ok "ACPI power button: powered off in $((($(now) - tp) / 1000000)) ms"
	qpid=''
fi

log "console: $(wc -l <"$con") lines; last lines:"
tail -n 5 "$con" | tr -d '\r' | sed 's/^/    /'
if [ "$fails" = 0 ]; then
	log "all checks passed"
else
	log "$fails check(s) failed"
	exit 1
fi
