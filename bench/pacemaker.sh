# shellcheck shell=bash
# bench/pacemaker.sh - Debian's Pacemaker on a lab's nodes, for the
# benchmarks that set it beside clusterd (bench/failover/run.sh,
# bench/scale/cib.sh). Source it from bash with LAB (tests/lab/lab) and D
# (the lab's directory) set, and log and die defined.
#
# Each node's pacemakerd runs inside the node ("lab exec"), started with
# setsid, over the node's corosync, with a /var/lib/pacemaker and a
# /var/log/pacemaker of its own ($D/pm/nodeI/lib and log, bind-mounted in
# the node's private mount namespace; the host's are never written). It
# dies with its node; the caller stops the rest by PID on exit
# (pm_stop_all, or the wrappers' PIDs in PM_PIDS).

PM_PACKAGES="pacemaker pacemaker-cli-utils resource-agents"
# node -> the PID of its pacemakerd's wrapper (nsenter, whose child is
# pacemakerd); every wrapper ever started
declare -gA PM_WRAPPER=()
declare -ga PM_PIDS=()

# pm_need CMD...: the commands are there, or die saying what to install
pm_need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null ||
			die "$c missing: apt-get install --no-install-recommends $PM_PACKAGES"
	done
}

# pm_start_node I: node I's pacemakerd (its directories made at the first
# start, copied from the host's empty ones; mounted where they are not yet)
pm_start_node() {
	local i=$1 d=$D/pm/node$1
	if [[ ! -d $d/lib ]]; then
		mkdir -p "$d/lib" "$d/log"
		cp -a /var/lib/pacemaker/. "$d/lib/"
		cp -a /var/log/pacemaker/. "$d/log/"
		chown hacluster:haclient "$d/lib" "$d/log"
		chmod 0770 "$d/log"
	fi
	"$LAB" exec "$i" sh -c "set -e
		mountpoint -q /var/lib/pacemaker || mount --bind '$d/lib' /var/lib/pacemaker
		mountpoint -q /var/log/pacemaker || mount --bind '$d/log' /var/log/pacemaker
		mkdir -p /run/resource-agents"
	setsid "$LAB" exec "$i" env PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none \
		pacemakerd </dev/null >>"$d/pacemakerd.out" 2>&1 &
	PM_WRAPPER[$i]=$!
	PM_PIDS+=($!)
	disown $! # it dies with its node; no "Killed" message
}

# pm_pid I: node I's pacemakerd (the wrapper's child), if it runs
pm_pid() {
	local w=${PM_WRAPPER[$1]:-} c
	[[ -n $w ]] || return 1
	c=$(cat "/proc/$w/task/$w/children" 2>/dev/null) || return 1
	c=${c%% *}
	[[ -n $c ]] && echo "$c"
}

# pm_stop_node I [SECS]: node I's pacemakerd stopped by its PID (SIGTERM:
# it stops its daemons and leaves the cluster), waited for SECS (default
# 120), then SIGKILLed with its wrapper. Fails if it had to be killed.
pm_stop_node() {
	local i=$1 secs=${2:-120} w=${PM_WRAPPER[$1]:-} p rc=0 end
	[[ -n $w ]] || return 0
	if p=$(pm_pid "$i"); then
		kill -TERM "$p" 2>/dev/null || :
		end=$((SECONDS + secs))
		while kill -0 "$p" 2>/dev/null && ((SECONDS < end)); do sleep 0.05; done
		if kill -0 "$p" 2>/dev/null; then
			log "node$i pacemakerd did not stop in ${secs}s: SIGKILL"
			kill -KILL "$p" 2>/dev/null || :
			rc=1
		fi
	fi
	kill -KILL "$w" 2>/dev/null || :
	unset "PM_WRAPPER[$i]"
	return "$rc"
}

# pm_stop_all [SECS]: every node's pacemakerd (pm_stop_node)
pm_stop_all() {
	local i
	for i in "${!PM_WRAPPER[@]}"; do pm_stop_node "$i" "${1:-120}" || :; done
}

# pm_online I: node I's crm_mon sees all 3 nodes online and a DC
pm_online() {
	local out
	out=$("$LAB" exec "$1" crm_mon -1 2>/dev/null) || return 1
	grep -q 'Online: \[ node1 node2 node3 \]' <<<"$out" && grep -q 'Current DC: node' <<<"$out"
}
