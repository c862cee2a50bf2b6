#!/bin/bash
# bench/scale/cib.sh [VMS...]: Pacemaker's CIB holding VMS VirtualDomain
# primitives (default 100 1000 10000), beside our replicated state at the
# same sizes. Debian's Pacemaker runs alone on a 3-node lab (corosync in
# network namespaces; no libvirtd, no clusterd), as bench/failover/run.sh
# runs it (bench/pacemaker.sh). Per size, on a fresh lab:
#   load    the primitives (target-role=Stopped; a config= path the nodes
#           lack, so that a probe finds the VM stopped), by cibadmin --modify
#           of generated <resources> in batches of CIB_BATCH (default 1000)
#   settle  until the cluster is idle: every primitive probed on every node
#           (crm_resource --wait); if that does not come in the step's
#           deadline, the next steps run with the probes going on (noted)
#   change  50 single changes of one primitive's meta attribute, each one
#           command as an admin types it on node1: cibadmin --modify of its
#           nvpair, and crm_resource --meta --set-parameter; p50, p99 (timed
#           inside the node, without the lab's own overhead)
#   rejoin  node2's pacemakerd stopped by its PID (SIGTERM, until node1
#           sees node2 offline), one change made, pacemakerd started again:
#           until node1 sees node2 online, until node2's own CIB (cibadmin
#           -Q -l) is at node1's admin_epoch, epoch and num_updates (as
#           they were just before) or past them, and until the cluster is
#           idle again (node2 probed anew)
#   CIB     the bytes of node1's CIB (cibadmin -Q -l), and of its
#           configuration section
# Each step has a deadline of CIB_STEP_SECS (default 1200) seconds: a step
# that does not end in it ends its size ("did not finish in ...") and no
# larger size is tried: as far as it gets. The table goes to
# bench/out/cib.txt (the rows to bench/out/cib.jsonl), beside ours from
# bench/out/scale.jsonl (bench/scale/run.sh) and bench/out/rejoin-VMS.txt
# (bench/scale/rejoin.sh) when they exist, with the ratios.
#
# Needs root, the lab's packages and pacemaker pacemaker-cli-utils
# resource-agents (apt-get install --no-install-recommends). Runs its own
# lab: CD_LAB_PREFIX (default scalecib) in CD_LAB_DIR (default
# /tmp/scalecib). A benchmark, not a test: nothing here judges a time.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. bench/lib.sh
. bench/pacemaker.sh
(($#)) || set -- 100 1000 10000
for n; do [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [VMS...]" >&2; exit 2; }; done
STEP_SECS=${CIB_STEP_SECS:-1200}
BATCH=${CIB_BATCH:-1000}
CHANGES=50
bench_setup scalecib
pm_need pacemakerd cibadmin crm_mon crm_resource
[[ -x /usr/lib/ocf/resource.d/heartbeat/VirtualDomain ]] ||
	die "VirtualDomain missing: apt-get install --no-install-recommends $PM_PACKAGES"

lab() { "$LAB" "$@"; }
CUR=none
bench_on_exit() {
	pm_stop_all 20
	[[ ! -d $D/pm ]] || cp -r "$D/pm" "$RES/pacemaker-$CUR" 2>/dev/null || :
}

# --- a step's deadline: step NAME starts it; left is what remains of it
step() { STEP=$1 STEP_END=$((SECONDS + STEP_SECS)); }
left() { local l=$((STEP_END - SECONDS)); echo $((l > 1 ? l : 1)); }
late() { log "$CUR VMs: $STEP did not finish in ${STEP_SECS}s"; DNF="$STEP did not finish in ${STEP_SECS} s"; return 1; }

# --- the cluster's view
# node_is I STATE: node1's crm_mon says node I is online="STATE"
node_is() {
	lab exec 1 crm_mon -1 --output-as=xml 2>/dev/null | grep -q "<node name=\"node$1\"[^>]* online=\"$2\""
}
# cib_ver I: "admin_epoch.epoch.num_updates" of node I's own CIB
cib_ver() {
	local h a e u
	h=$(lab exec "$1" sh -c 'cibadmin -Q -l 2>/dev/null | head -c 4096' | grep -m1 -o '<cib [^>]*>') || return 1
	[[ $h =~ \ admin_epoch=\"([0-9]+)\" ]] && a=${BASH_REMATCH[1]} || return 1
	[[ $h =~ \ epoch=\"([0-9]+)\" ]] && e=${BASH_REMATCH[1]} || return 1
	[[ $h =~ \ num_updates=\"([0-9]+)\" ]] && u=${BASH_REMATCH[1]} || return 1
	echo "$a.$e.$u"
}
# caught_up: node2's CIB is at least where node1's was just before
# (admin_epoch, epoch, num_updates in that order): while node2 is probed
# anew, updates keep coming and two samples are rarely equal
caught_up() {
	local a b
	a=$(cib_ver 1) && b=$(cib_ver 2) || return 1
	python3 -c 'import sys; a, b = ([int(x) for x in v.split(".")] for v in sys.argv[1:]); sys.exit(b < a)' "$a" "$b"
}
# idle: the cluster has nothing left to do (crm_resource --wait), within
# the step's deadline
# idle: until crm_resource --wait says the cluster is idle, asked again
# when it gives up first (its own timeout), within the step's deadline
idle() {
	until lab exec 1 timeout "$(left)" crm_resource --wait >/dev/null 2>&1; do
		(($(left) > 1)) || return 1
		sleep 1 # a retry pace, not a wait for a condition
	done
}
cib_bytes() { lab exec 1 sh -c "cibadmin -Q -l $* | wc -c"; }
vm_name() { printf 'vm%05d' "$1"; }

# resources FIRST COUNT: <resources> with primitives FIRST..FIRST+COUNT-1
resources() {
	python3 - "$1" "$2" <<'EOF'
import sys
first, count = int(sys.argv[1]), int(sys.argv[2])
print("<resources>")
for i in range(first, first + count):
    v = "vm%05d" % i
    print(f"""<primitive id="{v}" class="ocf" provider="heartbeat" type="VirtualDomain">
  <instance_attributes id="{v}-ia">
    <nvpair id="{v}-config" name="config" value="/shared/vms/{v}.xml"/>
    <nvpair id="{v}-hypervisor" name="hypervisor" value="qemu:///system"/>
    <nvpair id="{v}-migration_transport" name="migration_transport" value="ssh"/>
  </instance_attributes>
  <meta_attributes id="{v}-meta">
    <nvpair id="{v}-target-role" name="target-role" value="Stopped"/>
    <nvpair id="{v}-allow-migrate" name="allow-migrate" value="true"/>
    <nvpair id="{v}-priority" name="priority" value="0"/>
  </meta_attributes>
  <operations>
    <op id="{v}-monitor-10s" name="monitor" interval="10s" timeout="30s"/>
    <op id="{v}-start-0" name="start" interval="0s" timeout="90s"/>
    <op id="{v}-stop-0" name="stop" interval="0s" timeout="90s"/>
    <op id="{v}-migrate_to-0" name="migrate_to" interval="0s" timeout="120s"/>
    <op id="{v}-migrate_from-0" name="migrate_from" interval="0s" timeout="60s"/>
  </operations>
</primitive>""")
print("</resources>")
EOF
}

# changes N TOOL: $CHANGES changes of spread primitives' priority on node1
# with TOOL (cibadmin or crm_resource), timed inside the node: one ms
# figure a line; fails past the step's deadline
changes() {
	# shellcheck disable=SC2016 # the node's bash expands it
	lab exec 1 bash -c '
n=$1 tool=$2 count=$3 end=$((SECONDS + $4))
for ((k = 1; k <= count; k++)); do
	v=$(printf "vm%05d" $(((k - 1) * n / count + 1)))
	t=${EPOCHREALTIME/./}
	case $tool in
	cibadmin) timeout $((end - SECONDS + 1)) cibadmin --modify --xml-text "<nvpair id=\"$v-priority\" name=\"priority\" value=\"$k\"/>" ;;
	crm_resource) timeout $((end - SECONDS + 1)) crm_resource --resource "$v" --meta --set-parameter priority --parameter-value "$((k + 100))" ;;
	esac >/dev/null || exit 1
	u=${EPOCHREALTIME/./}
	echo $(((10#$u - 10#$t) / 1000))
	((SECONDS < end)) || exit 1
done' _ "$1" "$2" "$CHANGES" "$(left)"
}
# pct P FILE: the P-th percentile (nearest rank) of FILE's numbers
pct() { sort -n "$2" | awk -v p="$1" '{ a[NR] = $1 } END { i = int((NR * p + 99) / 100); print a[i < 1 ? 1 : i] }'; }

# one_size N: the steps at N primitives on a fresh lab; sets R (the
# figures) and DNF (the step that did not finish)
declare -A R
one_size() {
	local n=$1 f t i c
	R=() DNF='' NOTE=''
	LAB_UP=1
	# a build tree without clusterd: the lab runs corosync alone
	CD_BUILDDIR=$D/no-build lab up --nodes 3 --no-libvirt --lun-size 0 >/dev/null || die "lab up failed"
	for i in 1 2 3; do pm_start_node "$i"; done
	step start
	wait_for "$(left)" "pacemaker: 3 nodes online with a DC" pm_online 1 || { late; return 1; }
	# no fencing device in this lab: nothing is started anyway; and the
	# three nodes share one machine's load average, which would throttle
	# every node's actions (as in bench/failover/run.sh)
	lab exec 1 crm_attribute -t crm_config -n stonith-enabled -v false >/dev/null || die "crm_attribute failed"
	lab exec 1 crm_attribute -t crm_config -n load-threshold -v 10000% >/dev/null || die "crm_attribute failed"

	step load
	t=$(now_ms)
	for ((f = 1; f <= n; f += BATCH)); do
		c=$((n - f + 1 < BATCH ? n - f + 1 : BATCH))
		resources "$f" "$c" >"$D/batch.xml"
		lab exec 1 timeout "$(left)" cibadmin --timeout "$(left)" --modify --scope resources --xml-file "$D/batch.xml" >/dev/null 2>"$RES/load-$n.err" ||
			{ ((SECONDS < STEP_END)) || { late; return 1; }; die "$n VMs: cibadmin --modify failed: $(tail -n 3 "$RES/load-$n.err")"; }
		((SECONDS < STEP_END)) || { late; return 1; }
	done
	R[load_ms]=$(($(now_ms) - t))
	c=$(lab exec 1 sh -c 'cibadmin -Q -l -o resources | grep -c "<primitive "')
	[[ $c == "$n" ]] || die "$n VMs: the CIB holds $c primitives after the load"
	log "$n VMs: loaded in ${R[load_ms]} ms"

	# the changes and the rejoin go on if the probes have not ended by then
	step settle
	t=$(now_ms)
	if idle; then
		R[settle_ms]=$(($(now_ms) - t))
	else
		NOTE+="idle after the load did not come in ${STEP_SECS} s (the probes went on meanwhile); "
	fi
	R[cib_bytes]=$(cib_bytes) || die "cibadmin -Q failed"
	R[config_bytes]=$(cib_bytes -o configuration) || die "cibadmin -Q failed"
	log "$n VMs: idle after ${R[settle_ms]:-?} ms more; CIB ${R[cib_bytes]} bytes"

	for c in cibadmin crm_resource; do
		step "$c changes"
		changes "$n" "$c" >"$RES/$c-$n.txt" || { late; return 1; }
		R[${c}_p50_ms]=$(pct 50 "$RES/$c-$n.txt")
		R[${c}_p99_ms]=$(pct 99 "$RES/$c-$n.txt")
		log "$n VMs: $c change p50 ${R[${c}_p50_ms]} ms, p99 ${R[${c}_p99_ms]} ms"
	done

	step "node2 stop"
	pm_stop_node 2 "$(left)" || { late; return 1; }
	wait_for "$(left)" "node1 sees node2 offline" node_is 2 false || { late; return 1; }
	lab exec 1 cibadmin --modify --xml-text "<nvpair id=\"vm00001-priority\" name=\"priority\" value=\"-1\"/>" >/dev/null ||
		die "the change while node2 is away failed"
	step rejoin
	t=$(now_ms)
	pm_start_node 2
	wait_for "$(left)" "node1 sees node2 online" node_is 2 true || { late; return 1; }
	R[rejoin_online_ms]=$(($(now_ms) - t))
	wait_for "$(left)" "node2's CIB caught up with node1's" caught_up || { late; return 1; }
	R[rejoin_ms]=$(($(now_ms) - t))
	R[rejoin_cib]=$(cib_ver 2)
	log "$n VMs: node2 online after ${R[rejoin_online_ms]} ms, its CIB caught up after ${R[rejoin_ms]} ms"
	if idle; then
		R[rejoin_idle_ms]=$(($(now_ms) - t))
		log "$n VMs: idle after ${R[rejoin_idle_ms]} ms"
	else
		NOTE+="idle after the rejoin did not come in the step's ${STEP_SECS} s; "
	fi
}

# row N: the size's figures as one JSON line
row() {
	local k
	{
		printf '{"vms":%s' "$1"
		for k in "${!R[@]}"; do
			case $k in
			rejoin_cib) printf ',"%s":"%s"' "$k" "${R[$k]}" ;;
			*) printf ',"%s":%s' "$k" "${R[$k]}" ;;
			esac
		done
		[[ -z $DNF ]] || printf ',"dnf":"%s"' "$DNF"
		[[ -z $NOTE ]] || printf ',"note":"%s"' "${NOTE%; }"
		echo '}'
	}
}

mkdir -p bench/out
: >"$RES/cib.jsonl"
VERSION=$(dpkg-query -W -f '${Version}' pacemaker)
SIZES=("$@")
log "Pacemaker $VERSION, sizes ${SIZES[*]}, step deadline ${STEP_SECS}s"
for ((s = 0; s < ${#SIZES[@]}; s++)); do
	CUR=${SIZES[s]}
	log "=== $CUR VMs"
	rc=0
	one_size "$CUR" || rc=$?
	row "$CUR" >>"$RES/cib.jsonl"
	pm_stop_all 60
	cp -r "$D/pm" "$RES/pacemaker-$CUR" 2>/dev/null || :
	lab down >/dev/null 2>&1 || lab down >&2
	LAB_UP=0
	((rc == 0)) || break
done
for ((s++; s < ${#SIZES[@]}; s++)); do echo "{\"vms\":${SIZES[s]},\"dnf\":\"not tried\"}" >>"$RES/cib.jsonl"; done
CUR=none
cp "$RES/cib.jsonl" bench/out/cib.jsonl
python3 bench/scale/cib-report.py "$RES/cib.jsonl" "$VERSION" bench/out | tee bench/out/cib.txt
