#!/bin/bash
# Members: clusterctl node add and node remove on a running 3-node cluster,
# the lab's namespaces taken for hosts. A fourth node is added (the files
# node add writes, copied as it says, corosync-cfgtool -R), started and
# seen online; a VM placed on it keeps node remove from removing it once it
# is stopped, --force hands the VM to failover, and the cluster counts 3
# votes again. Then, through an ssh stand-in (tests/lab/fake-ssh), the
# fourth node joins again with cluster join and goes with cluster leave,
# then with node add --ssh and node remove --ssh.
# The three original nodes stay quorate throughout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "members"

top=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$top/cli/clusterctl
SUBNET=198.18.0

lab up --nodes 3

# The ssh stand-in: ssh, scp and systemctl for clusterctl in the nodes
# (tests/lab/fake-ssh), and its relay in the root namespace.
fakebin=$LAB_DIR/fakebin
mkdir -p "$fakebin"
for p in ssh scp systemctl; do ln -s "$top/tests/lab/fake-ssh" "$fakebin/$p"; done
"$top/tests/lab/fake-ssh" --relay "$LAB_DIR/ssh-relay" $$ &
relay=$!

# ctl NODE ARGS...: clusterctl on NODE with the node's own files (the lab
# keeps them in $LAB_DIR/nodeI/, not in /etc) and the ssh stand-in first
# on its PATH
ctl() {
	local i=$1
	shift
	# shellcheck disable=SC2016 # expanded in the node
	lab exec "$i" env CLUSTERCTL_COROSYNC_CONF="$LAB_DIR/node$i/corosync.conf" \
		CLUSTERCTL_AUTHKEY="$LAB_DIR/node$i/authkey" CLUSTERCTL_PKI_DIR="$LAB_DIR/node$i/pki" \
		sh -c 'PATH=$0:$PATH exec clusterctl "$@"' "$fakebin" "$@"
}
# expected_votes NODE: votequorum's expected votes on NODE
expected_votes() {
	lab exec "$1" corosync-quorumtool -s | sed -n 's/^Expected votes:[[:space:]]*\([0-9]*\).*/\1/p'
}
votes_are() { [[ $(expected_votes "$1") == "$2" ]]; }
# install_pki NODE DIR: the node's certificates from DIR/etc/clusterd/pki, modes kept
install_pki() {
	install -d -m 0700 "$LAB_DIR/node$1/pki"
	cp -p "$2"/etc/clusterd/pki/{ca.crt,node.crt,node.key} "$LAB_DIR/node$1/pki/"
}
# node_is VIEWER NAME STATE / node_is_not VIEWER NAME STATE: as VIEWER's clusterd shows NAME
node_is() { [[ $(node_state "$1" "$2") == "$3" ]]; }
node_is_not() { [[ $(node_state "$1" "$2") != "$3" ]]; }
# node_gone VIEWER NAME: VIEWER's clusterd has no record of NAME (exit status 4)
node_gone() {
	local rc=0
	lab exec "$1" clusterctl node show "$2" >/dev/null 2>&1 || rc=$?
	[[ $rc == 4 ]]
}

# The three original nodes stay quorate throughout: node1's corosync is
# asked all along, in the background, and every answer is kept.
quorum_log=$LAB_DIR/quorum.log
: >"$quorum_log"
(
	# (and not past the test's end, whatever ends it)
	while [[ ! -e $LAB_DIR/quorum.stop ]] && kill -0 $$ 2>/dev/null; do
		cs_quorum 1 >>"$quorum_log" 2>/dev/null || echo "no-answer" >>"$quorum_log"
		sleep 0.2
	done
) &
watcher=$!
stop_watcher() {
	touch "$LAB_DIR/quorum.stop"
	wait "$watcher" || :
	kill "$relay" 2>/dev/null || :
	wait "$relay" 2>/dev/null || :
}

# --- 1. the cluster's CA, from cluster create (the lab's nodes have none)
"$CTL" cluster create lab --nodes "node1=$SUBNET.1,node2=$SUBNET.2,node3=$SUBNET.3" \
	--out "$LAB_DIR/create" >/dev/null
"$CTL" cluster create other --nodes "node1=$SUBNET.1,node2=$SUBNET.2" --out "$LAB_DIR/other" >/dev/null
for i in 1 2 3; do
	install_pki "$i" "$LAB_DIR/create/node$i"
	# the lab's nodes share one authkey ($LAB_DIR/authkey, corosync.conf's
	# keyfile); each also keeps a copy where clusterctl reads it
	install -m 0400 "$LAB_DIR/authkey" "$LAB_DIR/node$i/authkey"
done
pass "a CA made by cluster create; nodes 1-3 have its certificates"

# --- 2. node add refuses what it must
rc=0
err=$(ctl 1 node add "node2=$SUBNET.9" --ca "$LAB_DIR/create" --out "$LAB_DIR/bad1" 2>&1) || rc=$?
assert_eq "$rc" 5 "node add of a name already there: exit status 5 ($err)"
rc=0
err=$(ctl 1 node add "node4=$SUBNET.4" --ca "$LAB_DIR/other" --out "$LAB_DIR/bad2" 2>&1) || rc=$?
assert_eq "$rc" 9 "node add with another cluster's CA: exit status 9 ($err)"
[[ ! -e $LAB_DIR/bad1 && ! -e $LAB_DIR/bad2 ]] || fail "a refused node add wrote files"

# --- 3. node add node4 (files only), copied as it says, then the reload
out=$(ctl 1 --json node add "node4=$SUBNET.4" --ca "$LAB_DIR/create" --out "$LAB_DIR/add4")
assert_eq "$(json_get "$out" '[d["name"], d["nodeid"], d["ring0_addr"], d["nodes"], d["members"]]')" \
	"[\"node4\", 4, \"$SUBNET.4\", 4, [\"node1\", \"node2\", \"node3\"]]" "node add: node4 gets id 4"
text=$(ctl 1 node add "node5=$SUBNET.5" --ca "$LAB_DIR/create" --out "$LAB_DIR/add5-text")
assert_match "$text" "corosync-cfgtool -R" "node add prints the steps (the reload among them)"
rm -rf -- "$LAB_DIR/add5-text"
cmp -s "$LAB_DIR/node1/corosync.conf" "$LAB_DIR/node2/corosync.conf" ||
	fail "node add without --ssh changed this node's corosync.conf"

lab add-node 4
for i in 1 2 3 4; do
	install -m 0644 "$LAB_DIR/add4/node$i/etc/corosync/corosync.conf" "$LAB_DIR/node$i/corosync.conf"
done
cmp -s "$LAB_DIR/add4/node4/etc/corosync/authkey" "$LAB_DIR/authkey" ||
	fail "node add's authkey for node4 is not the cluster's"
install_pki 4 "$LAB_DIR/add4/node4"
assert_eq "$(stat -c %a "$LAB_DIR/node4/pki/node.key")" 600 "node4's key has mode 0600"
openssl verify -CAfile "$LAB_DIR/create/ca/ca.crt" "$LAB_DIR/node4/pki/node.crt" >/dev/null ||
	fail "node4's certificate is not signed by the cluster's CA"
pass "node4's files in place; its certificate is signed by the cluster's CA"
lab exec 1 corosync-cfgtool -R >/dev/null
for i in 1 2 3; do wait_for 20 "node$i's corosync expects 4 votes" votes_are "$i" 4; done
wait_for 10 "the three members quorate while node4 is not up yet" cs_members_are 1 3 Yes
pass "after the reload every member expects 4 votes, 3 present: quorate"

# --- 4. node4 starts and joins
lab start 4
for i in 1 4; do wait_for 30 "node$i's corosync sees 4 members, quorate" cs_members_are "$i" 4 Yes; done
wait_for 30 "clusterd on node1 lists node4 online" node_is 1 node4 online
wait_for 30 "node4's clusterd synchronised and quorate" synced_quorate 4
pass "node4 is a member: corosync counts 4, clusterd shows it online"

# --- 5. a VM on node4, node4 stopped: node remove refuses
if [[ -f $LAB_DIR/libvirt ]]; then
	lab_tiny_domain_xml v4 >"$LAB_DIR/v4.xml"
	lab exec 1 clusterctl vm add v4 --xml "$LAB_DIR/v4.xml"
	lab exec 1 clusterctl vm set v4 preferred-owners=node4
	lab exec 1 clusterctl vm start v4
	wait_for 60 "v4 runs on node4" runs_on 1 v4 node4
	pass "v4 placed on node4"
fi
lab kill 4
wait_for 20 "node1 shows node4 no longer online" node_is_not 1 node4 online
wait_for 20 "the three originals quorate without node4" cs_members_are 1 3 Yes
if [[ -f $LAB_DIR/libvirt ]]; then
	rc=0
	err=$(ctl 2 --timeout 10 node remove node4 2>&1) || rc=$?
	assert_eq "$rc" 9 "node remove of node4 with v4 placed on it: exit status 9 ($err)"
	assert_match "$err" "v4|VM" "node remove says why: a VM is placed there"
	grep -q "name: node4" "$LAB_DIR/node2/corosync.conf" || fail "a refused node remove edited corosync.conf"

	# --- 6. --force: v4 fails over, node4's record and entry go
	out=$(ctl 2 --json --timeout 10 node remove node4 --force)
	wait_for 60 "v4 runs on one of the three originals" runs_not_on 1 v4 node4
	pass "node remove --force: v4 failed over to $(vm_field 1 v4 'd["node_name"]')"
else
	out=$(ctl 2 --json --timeout 10 node remove node4)
fi
assert_eq "$(json_get "$out" '[d["removed"], d["nodeid"], d["nodes"]]')" '["node4", 4, 3]' "node remove: node4 (id 4) removed, 3 left"
wait_for 10 "clusterd has no record of node4" node_gone 1 node4
grep -q "name: node4" "$LAB_DIR/node2/corosync.conf" && fail "node4 still in node2's corosync.conf"
for i in 1 3; do install -m 0644 "$LAB_DIR/node2/corosync.conf" "$LAB_DIR/node$i/corosync.conf"; done
lab exec 2 corosync-cfgtool -R >/dev/null
for i in 1 2 3; do wait_for 20 "node$i's corosync expects 3 votes again" votes_are "$i" 3; done
for i in 1 2 3; do wait_for 20 "node$i synchronised and quorate" synced_quorate "$i"; done
pass "node4 removed: corosync expects 3 votes, clusterd knows 3 nodes"

# --- 7. cluster join and cluster leave, through the ssh stand-in
# node4 comes back as a fresh host: none of the cluster's files
rm -rf -- "$LAB_DIR"/node4/{corosync.conf,authkey,pki,state}
mkdir -p "$LAB_DIR/node4/state"
lab start 4 holder
out=$(ctl 4 --json cluster join node1 --ca "$LAB_DIR/create" --as "node4=$SUBNET.4" --out "$LAB_DIR/node4/join")
assert_eq "$(json_get "$out" '[d["name"], d["member"]]')" '["node4", "node1"]' "cluster join: node1 added node4"
for i in 2 3 4; do
	cmp -s "$LAB_DIR/node1/corosync.conf" "$LAB_DIR/node$i/corosync.conf" ||
		fail "node$i's corosync.conf differs from node1's after the join"
done
grep -q "name: node4" "$LAB_DIR/node1/corosync.conf" || fail "node4 not in corosync.conf after the join"
cmp -s "$LAB_DIR/node4/authkey" "$LAB_DIR/authkey" || fail "node4 fetched another authkey"
openssl verify -CAfile "$LAB_DIR/create/ca/ca.crt" "$LAB_DIR/node4/pki/node.crt" >/dev/null ||
	fail "node4's certificate from the join is not signed by the cluster's CA"
for i in 1 2 3; do wait_for 20 "node$i's corosync expects 4 votes after the join" votes_are "$i" 4; done
pass "cluster join: every member has node4 in its corosync.conf, reloaded; node4 has its files"
rc=0
err=$(ctl 4 cluster join node1 --ca "$LAB_DIR/create" --as "node4=$SUBNET.4" --out "$LAB_DIR/node4/join2" 2>&1) || rc=$?
assert_eq "$rc" 9 "a second cluster join refused: the host has a CA ($err)"
lab start 4
for i in 1 4; do wait_for 30 "node$i's corosync sees 4 members after the join" cs_members_are "$i" 4 Yes; done
wait_for 30 "clusterd on node1 lists node4 online after the join" node_is 1 node4 online
pass "node4 joined and runs"

out=$(ctl 4 --json --timeout 20 cluster leave)
assert_eq "$(json_get "$out" '[d["left"], d["removed_by"]]')" '["node4", "node1"]' "cluster leave: node4 left, node1 removed it"
for i in 1 2 3; do wait_for 20 "node$i's corosync expects 3 votes after the leave" votes_are "$i" 3; done
for i in 2 3; do
	cmp -s "$LAB_DIR/node1/corosync.conf" "$LAB_DIR/node$i/corosync.conf" ||
		fail "node$i's corosync.conf differs from node1's after the leave"
done
grep -q "name: node4" "$LAB_DIR/node1/corosync.conf" && fail "node4 still in corosync.conf after the leave"
wait_for 10 "clusterd has no record of node4 after the leave" node_gone 1 node4
for i in 1 2 3; do wait_for 20 "node$i synchronised and quorate after the leave" synced_quorate "$i"; done
pass "cluster leave: node4's daemons stopped, removed everywhere, 3 votes"

# --- 8. node add --ssh and node remove --ssh, from two other members
rm -rf -- "$LAB_DIR"/node4/{corosync.conf,authkey,pki,state}
mkdir -p "$LAB_DIR/node4/state"
out=$(ctl 2 --json node add "node4=$SUBNET.4" --ca "$LAB_DIR/create" --out "$LAB_DIR/add4-ssh" --ssh)
assert_eq "$(json_get "$out" '[d["nodeid"], d["reloaded"], d["failed"]]')" '[4, true, []]' \
	"node add --ssh on node2: node4 (id 4), copied everywhere, reloaded"
for i in 1 3 4; do
	cmp -s "$LAB_DIR/node2/corosync.conf" "$LAB_DIR/node$i/corosync.conf" ||
		fail "node$i's corosync.conf differs from node2's after node add --ssh"
done
cmp -s "$LAB_DIR/node4/authkey" "$LAB_DIR/authkey" || fail "node add --ssh gave node4 another authkey"
assert_eq "$(stat -c %a "$LAB_DIR/node4/pki/node.key")" 600 "node add --ssh: node4's key copied with mode 0600"
for i in 1 2 3; do wait_for 20 "node$i's corosync expects 4 votes after node add --ssh" votes_are "$i" 4; done
lab start 4
for i in 1 4; do wait_for 30 "node$i's corosync sees 4 members after node add --ssh" cs_members_are "$i" 4 Yes; done
wait_for 30 "clusterd on node1 lists node4 online after node add --ssh" node_is 1 node4 online
pass "node add --ssh: node4 joined and runs"
lab kill 4
out=$(ctl 3 --json --timeout 20 node remove node4 --ssh)
assert_eq "$(json_get "$out" '[d["removed"], d["nodes"], d["reloaded"], d["failed"]]')" '["node4", 3, true, []]' \
	"node remove --ssh on node3: node4 removed everywhere, reloaded"
for i in 1 2 3; do wait_for 20 "node$i's corosync expects 3 votes after node remove --ssh" votes_are "$i" 3; done
for i in 1 2; do
	cmp -s "$LAB_DIR/node3/corosync.conf" "$LAB_DIR/node$i/corosync.conf" ||
		fail "node$i's corosync.conf differs from node3's after node remove --ssh"
done
wait_for 10 "clusterd has no record of node4 after node remove --ssh" node_gone 1 node4
for i in 1 2 3; do wait_for 20 "node$i synchronised and quorate after node remove --ssh" synced_quorate "$i"; done
pass "node remove --ssh: 3 votes, the same corosync.conf on every member"

# --- 9. quorate throughout
stop_watcher
samples=$(wc -l <"$quorum_log")
bad=$(grep -cv ' Yes$' "$quorum_log" || :)
assert_eq "$bad" 0 "node1 quorate in all $samples samples taken during the test"

lab_test_end
