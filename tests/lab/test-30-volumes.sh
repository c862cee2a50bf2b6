#!/bin/bash
# Cluster shared volumes on a real 3-node lab with one loop-device LUN:
# files exposed on every node, concurrent O_DIRECT I/O from all three,
# an exclusive lease raced for by two nodes cut off from each other, a dead
# holder's lease taken over only after expiry, and the coordinator killed in
# the middle of file creation without damage.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "volumes"

top=$(cd "$(dirname "$0")/../.." && pwd)
CSVFS=$top/csvfs/csvfs
# The stalled-storage part uses a test aid that only test builds have.
grep -q '^#define CD_TEST_HOOKS 1' "${CD_BUILDDIR:-$top}/config.h" 2>/dev/null ||
	fail "built without --enable-test-hooks (clusterctl debug volume-stall): build with scripts/build.sh"
lab up --nodes 3 --no-libvirt
N=3
LUN=$(lab lun)
# Expiry matched to corosync's membership time at token 1000 (DESIGN.md).
E=3200
"$CSVFS" format "$LUN" --name vol1 --hosts 8 --expiry-ms $E >/dev/null
R=$(json_get "$("$CSVFS" inspect "$LUN" --json)" 'd["superblock"]["renewal_ms"]' 2>/dev/null || echo 400)

ctl() { lab exec "$@"; }
vol() { lab exec "$1" clusterctl --json volume show vol1; }
lease_valid() { [[ $(json_get "$(vol "$1")" 'd["local"]["host_lease_valid"]') == true ]]; }
has_coordinator() { [[ $(json_get "$(vol "$1")" 'd["coordinator"]') != 0 ]]; }
files_of() { json_get "$(vol "$1")" 'sorted(f["name"] for f in d["files"])'; }
exposed() { lab exec "$1" test -b "/run/csvfs/vol1/$2"; }

ctl 1 clusterctl volume add vol1 "$LUN"
pass "volume added: $LUN"
for i in $(seq 1 $N); do wait_for 15 "node $i holds a valid host lease" lease_valid "$i"; done
wait_for 15 "the volume has a coordinator" has_coordinator 2

# --- with the volume, every node's death can be confirmed by its host lease
all_confirmable() { [[ $(json_get "$(cd_status 1)" 'len(d["unconfirmable_nodes"])') == 0 ]]; }
wait_for 30 "status: every node's death can be confirmed by its host lease" all_confirmable
pass "status: no node without a failover path"
rc=0; out=$(ctl 1 clusterctl cluster check) || rc=$?
assert_match "$out" "ok +volumes +every member sees every shared volume" "cluster check: every node sees vol1 (${out//$'\n'/ | })"
assert_match "$out" "ok +failover" "cluster check: every node's death can be confirmed by its host lease"
assert_eq "$(json_get "$(vol 3)" 'd["coordinator"]')" 1 "the cluster's coordinator holds the metadata lease"

# --- files, created from every node, exposed on every node
for i in $(seq 1 $N); do ctl "$i" clusterctl volume file create vol1 "file$i" 16M; done
pass "each node created a file through the coordinator"
for i in $(seq 1 $N); do
	for f in file1 file2 file3; do wait_for 10 "node $i exposes $f" exposed "$i" "$f"; done
done
assert_eq "$(files_of 2)" '["file1", "file2", "file3"]' "every node lists the three files"
rc=0; err=$(ctl 2 clusterctl volume file create vol1 file1 1M 2>&1) || rc=$?
assert_eq "$rc" 5 "creating an existing file is refused ($err)"
rc=0; err=$(ctl 2 clusterctl volume file create vol1 huge 100G 2>&1) || rc=$?
if [[ $rc -ne 0 ]]; then pass "a file larger than the volume is refused ($err)"; else fail "100G file accepted"; fi

# --- all three write their own file at once with O_DIRECT, then everyone reads everything
for i in $(seq 1 $N); do head -c $((16 << 20)) /dev/urandom >"$LAB_DIR/pattern$i"; done
pids=()
for i in $(seq 1 $N); do
	lab exec "$i" dd if="$LAB_DIR/pattern$i" of="/run/csvfs/vol1/file$i" bs=1M oflag=direct status=none &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent O_DIRECT write failed"; done
pass "three nodes wrote 16 MiB each at once with O_DIRECT"
for i in $(seq 1 $N); do
	want=$(sha256sum <"$LAB_DIR/pattern$i" | cut -d' ' -f1)
	for r in $(seq 1 $N); do
		got=$(lab exec "$r" dd if="/run/csvfs/vol1/file$i" bs=1M iflag=direct status=none | sha256sum | cut -d' ' -f1)
		assert_eq "$got" "$want" "node $r reads node $i's file back intact"
	done
done

# --- two nodes cut off from each other race for one exclusive lease
ctl 1 clusterctl volume file create vol1 contested 1M
lab partition 3
wait_for 15 "node 3 loses quorum" sh -c "! $LAB exec 3 clusterctl --json status | grep -q '\"quorate\":true'"
rc1=0 rc3=0
lab exec 1 clusterctl --timeout 30 volume lease acquire vol1 contested >"$LAB_DIR/race1" 2>&1 & p1=$!
lab exec 3 clusterctl --timeout 30 volume lease acquire vol1 contested >"$LAB_DIR/race3" 2>&1 & p3=$!
wait "$p1" || rc1=$?
wait "$p3" || rc3=$?
echo "# node 1: rc $rc1 $(cat "$LAB_DIR/race1"); node 3: rc $rc3 $(cat "$LAB_DIR/race3")"
if { [[ $rc1 -eq 0 && $rc3 -eq 8 ]] || [[ $rc1 -eq 8 && $rc3 -eq 0 ]]; }; then
	pass "exactly one of the partitioned nodes won the lease"
else
	fail "lease race: node 1 rc $rc1, node 3 rc $rc3"
fi
winner=1; [[ $rc3 -eq 0 ]] && winner=3
lab heal
wait_for 30 "node 3 quorate again" sh -c "$LAB exec 3 clusterctl --json status | grep -q '\"quorate\":true'"
ctl "$winner" clusterctl volume lease release vol1 contested
pass "node $winner released the lease"

# --- kill the holder: another node gets the lease after expiry, not before
ctl 1 clusterctl volume file create vol1 guarded 1M
ctl 2 clusterctl volume lease acquire vol1 guarded
rc=0; ctl 3 clusterctl volume lease acquire vol1 guarded 2>/dev/null || rc=$?
assert_eq "$rc" 8 "the lease is held while node 2 lives (exit 8)"
t0=$(_lab_now_ms)
lab kill 2
got_it() { lab exec 3 clusterctl --timeout 20 volume lease acquire vol1 guarded >/dev/null 2>&1; }
wait_for 30 "node 3 takes the dead holder's lease" got_it
took=$(($(_lab_now_ms) - t0))
echo "# node 3 acquired the lease $took ms after node 2 was killed (expiry $E ms, renewal $R ms)"
if ((took >= E - R)); then pass "not before expiry ($took ms >= $((E - R)) ms)"; else fail "taken after $took ms, before expiry"; fi
if ((took <= 3 * E)); then pass "soon after expiry ($took ms <= $((3 * E)) ms)"; else fail "took $took ms"; fi
ctl 3 clusterctl volume lease release vol1 guarded
lab start 2
wait_for 30 "node 2 back with a valid host lease" lease_valid 2

# --- a node whose storage stalls voids its own leases before anyone can take them
ctl 1 clusterctl volume file create vol1 stalled 1M
ctl 3 clusterctl volume lease acquire vol1 stalled
ctl 3 clusterctl debug volume-stall vol1 on
took_stalled() { lab exec 2 clusterctl --timeout 20 volume lease acquire vol1 stalled >/dev/null 2>&1; }
wait_for 30 "node 2 takes the stalled node's lease" took_stalled
voided=$(grep -m1 "leases on the volume are void" "$LAB_DIR/node3/log/clusterd.log" || true)
taken=$(grep -m1 "lease on stalled acquired" "$LAB_DIR/node2/log/clusterd.log" || true)
[[ -n $voided ]] || fail "node 3 did not report its void leases"
[[ -n $taken ]] || fail "node 2 did not log its acquisition"
# log time stamps: one host clock, millisecond resolution
log_ms() {
	python3 -c 'import sys, datetime
ts = " ".join(sys.argv[1].split()[:3])
d = datetime.datetime.strptime("%d %s" % (datetime.date.today().year, ts), "%Y %b %d %H:%M:%S.%f")
print(int(d.timestamp() * 1000))' "$1"
}
t_void=$(log_ms "$voided")
t_acq=$(log_ms "$taken")
echo "# node 3 voided its leases at $t_void, node 2 acquired at $t_acq ($((t_acq - t_void)) ms later)"
if ((t_void < t_acq)); then pass "the stalled node voided its leases before another node took one"; else fail "voided at $t_void, taken by $t_acq"; fi
assert_match "$voided" "CRIT|crit" "reported loudly: $voided"
ctl 3 clusterctl debug volume-stall vol1 off
wait_for 15 "node 3 rejoins with a valid host lease" lease_valid 3
ctl 2 clusterctl volume lease release vol1 stalled

# --- kill the coordinator while files are being created
: >"$LAB_DIR/created"
(
	for k in $(seq 1 12); do
		if "$LAB" exec 3 clusterctl --timeout 40 volume file create vol1 "burst$k" 2M 2>>"$LAB_DIR/burst.err"; then
			echo "burst$k" >>"$LAB_DIR/created"
		fi
	done
) &
writer=$!
wait_for 30 "a few files created" count_at_least "$LAB_DIR/created" 3
lab kill 1
pass "killed node 1, the coordinator, during file creation"
wait "$writer" || :
wait_for 30 "node 2 coordinates the volume" sh -c "$LAB exec 2 clusterctl --json volume show vol1 | grep -q '\"metadata_lease\":true'"
"$CSVFS" check "$LUN" >"$LAB_DIR/check.out" 2>&1 || fail "csvfs check failed: $(cat "$LAB_DIR/check.out")"
pass "csvfs check passes: $(cat "$LAB_DIR/check.out")"
ondisk=$(json_get "$("$CSVFS" file list "$LUN" --json)" 'sorted(f["name"] for f in (d["files"] if isinstance(d, dict) else d))')
while read -r f; do
	[[ $ondisk == *"'$f'"* || $ondisk == *"\"$f\""* ]] || fail "acknowledged $f is missing on disk"
done <"$LAB_DIR/created"
pass "all $(wc -l <"$LAB_DIR/created") acknowledged files are on disk"
same_view() { [[ $(files_of 2) == "$ondisk" && $(files_of 3) == "$ondisk" ]]; }
wait_for 20 "the survivors list exactly the files on disk" same_view
pass "nodes 2 and 3 list exactly what the disk holds"

lab_test_end
