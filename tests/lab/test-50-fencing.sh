#!/bin/bash
# Fencing on a real 3-node lab without a shared volume: a fence device as a
# cluster resource (the lab's power switch, agents/fence_lab, which speaks
# the fence-agents interface), a killed node fenced before its VM starts
# elsewhere, a fenced node rejoining cleanly, and a failing fence device:
# nothing starts until an admin vouches for the dead node.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "fencing"

top=$(cd "$(dirname "$0")/../.." && pwd)
bash "$top/tests/guest/build-guest.sh" >/dev/null
G=${CD_GUEST_DIR:-/var/cache/clusterd-guest}
probe=$G/udp-probe
export CD_LAB_CLUSTERD_EXTRA="vm_monitor_interval_ms = 500"
lab up --nodes 3 --lun-size 0
N=3

ctl() { lab exec "$@"; }

# --- cluster check before any fence device: no VM yet, so the nodes' missing
# failover paths are only a warning
rc=0; out=$(ctl 2 clusterctl cluster check) || rc=$?
assert_eq "$rc" 0 "cluster check passes with warnings only (${out//$'\n'/ | })"
assert_match "$out" "warn +failover +node1 has no fence device and the cluster has no shared volume" "cluster check warns of nodes without a failover path"
assert_match "$out" "ok +crypto" "cluster check finds corosync's crypto on"
assert_match "$out" "ok +corosync-config" "cluster check finds corosync's configuration alike"
assert_eq "$(json_get "$(cd_status 2)" 'len(d["unconfirmable_nodes"])')" 3 "status lists the 3 nodes whose death cannot be confirmed"

# --- a fence device, checked and listed
ctl 1 clusterctl fence add labpower fence_lab "lab_dir=$LAB_DIR"
assert_match "$(ctl 2 clusterctl fence list)" "labpower +fence_lab +node1,node2,node3" "the device fences every node"
assert_match "$(ctl 3 clusterctl fence test labpower node2)" "power on" "fence test asks node2's power status"
rc=0; err=$(ctl 1 clusterctl fence add bad fence_lab "pass word=x" 2>&1) || rc=$?
assert_eq "$rc" 5 "a malformed parameter is refused ($err)"
ctl 1 clusterctl fence add secret fence_lab "lab_dir=$LAB_DIR" password=hunter2
assert_match "$(ctl 1 clusterctl fence list)" "password=\\*\\*\\*\\*" "secrets are masked in the list"
if ctl 1 clusterctl --json fence list | grep -q hunter2; then fail "a secret is shown"; else pass "no secret shown in JSON"; fi
ctl 1 clusterctl fence remove secret
ctl 1 clusterctl property set failover-confirm fence

# --- a VM on node3; node3 is killed: fenced, then the VM runs elsewhere
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/f1.log" f1 198.18.0.31 128 1 >"$LAB_DIR/f1.xml"
ctl 1 clusterctl vm add f1 --xml "$LAB_DIR/f1.xml"
ctl 1 clusterctl vm set f1 preferred-owners=node3
ctl 1 clusterctl vm start f1
wait_for 60 "f1 runs on node3" runs_on 1 f1 node3
wait_for 60 "f1 answers" answers 198.18.0.31
boot1=$(lab exec client "$probe" 198.18.0.31 --once | sed -n 's/.*boot=\([0-9a-f]*\).*/\1/p')

# --- with the fence device every VM has a failover path; without (lease only, no volume) f1 has none
rc=0; out=$(ctl 2 clusterctl cluster check) || rc=$?
assert_eq "$rc" 0 "cluster check passes with a fence device for every node (${out//$'\n'/ | })"
assert_eq "$(json_get "$(cd_status 2)" 'd["no_failover_path_count"]')" 0 "status: every VM has a failover path"
ctl 1 clusterctl property set failover-confirm lease
assert_match "$(ctl 2 clusterctl status)" "Warning: +1 VM has no failover path \\(f1\\): node3 cannot be confirmed dead" "status warns that f1 has no failover path"
assert_eq "$(json_get "$(cd_status 2)" 'd["no_failover_path"][0]["vm"]')" f1 "status --json names f1"
rc=0; out=$(ctl 2 clusterctl cluster check) || rc=$?
assert_eq "$rc" 1 "cluster check fails for f1 (${out//$'\n'/ | })"
assert_eq "$(json_get "$(ctl 2 clusterctl --json cluster check || :)" 'd["verdict"]')" fail "cluster check --json says fail"
ctl 1 clusterctl property set failover-confirm fence
lab kill 3 >/dev/null
wait_for 60 "f1 runs elsewhere after node3 is fenced" runs_not_on 1 f1 node3
wait_for 60 "f1 answers again" answers 198.18.0.31
boot2=$(lab exec client "$probe" 198.18.0.31 --once | sed -n 's/.*boot=\([0-9a-f]*\).*/\1/p')
if [[ $boot1 != "$boot2" ]]; then pass "f1 was restarted (boot $boot1 -> $boot2)"; else fail "same boot id"; fi
assert_eq "$(node_state 1 node3)" fenced "node3 is shown fenced"
ev=$(ctl 1 clusterctl events)
assert_match "$ev" "fenced \\(fence:labpower" "the events say node3 was fenced"
fenced_line=$(grep -n "fenced (fence:labpower" <<<"$ev" | head -1 | cut -d: -f1)
placed_line=$(grep -nE "f1 +placed on node[12]" <<<"$ev" | tail -1 | cut -d: -f1)
if ((fenced_line < placed_line)); then pass "fenced before f1 was placed elsewhere"; else fail "f1 placed before the fence"; fi

# --- node3 comes back cleanly: online, starting nothing
lab start 3 >/dev/null
wait_for 60 "node3 back" synced_quorate 3
assert_eq "$(node_state 1 node3)" online "node3 is online again"
assert_eq "$(lab exec 3 virsh -q list --name | sed '/^$/d' | wc -l)" 0 "node3 started nothing it used to own"

# --- a fence device that fails: nothing starts until an admin vouches
ctl 1 clusterctl fence remove labpower
ctl 1 clusterctl fence add broken /bin/false
wherever=$(vm_field 1 f1 'd["node_name"]')
victim=${wherever#node}
viewer=$((victim == 1 ? 2 : 1))
lab kill "$victim" >/dev/null
failed_twice() { [[ $(lab exec "$viewer" clusterctl events | grep -c "fencing with fence:broken FAILED") -ge 2 ]]; }
wait_for 60 "two failed fencing rounds reported" failed_twice
assert_eq "$(vm_field "$viewer" f1 'd["node_name"]')" "$wherever" "f1 still belongs to the unfenced $wherever"
if answers 198.18.0.31; then fail "f1 answers although its node was not fenced"; else pass "f1 was not started anywhere while fencing failed"; fi
# f1's node is lost but not known dead: shown so, the JSON "state" as recorded
assert_eq "$(vm_field "$viewer" f1 'd["state"]')" running "vm show --json: the state as recorded"
assert_eq "$(vm_field "$viewer" f1 'd["node_lost"]')" true "vm show --json: node_lost"
assert_eq "$(vm_field "$viewer" f1 'd["waits_for"]')" "$wherever to be fenced by broken" \
	"vm show --json: failover waits for the fence device"
assert_match "$(ctl "$viewer" clusterctl vm list)" "f1 +unknown \\($wherever lost\\) +$wherever" \
	"vm list: unknown ($wherever lost)"
assert_match "$(ctl "$viewer" clusterctl vm show f1)" "Failover: +waits for $wherever to be fenced by broken" \
	"vm show: what failover waits for"
ctl "$viewer" clusterctl fence remove broken
assert_match "$(vm_field "$viewer" f1 'd["waits_for"]')" "^an admin: clusterctl node confirm-dead $wherever" \
	"no fence device left: failover waits for an admin"
ctl "$viewer" clusterctl node confirm-dead "$wherever"
wait_for 60 "f1 runs after the admin's confirmation" runs_not_on "$viewer" f1 "$wherever"
wait_for 60 "f1 answers after the admin's confirmation" answers 198.18.0.31
pass "f1 runs on $(vm_field "$viewer" f1 'd["node_name"]') after 'node confirm-dead $wherever'"
assert_eq "$(vm_field "$viewer" f1 'd["node_lost"]')" false "f1 is not shown lost once its node is confirmed dead"

lab_test_end
