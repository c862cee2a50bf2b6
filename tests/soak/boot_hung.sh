# shellcheck shell=bash
# boot_hung.sh - sourced by tests/soak/soak (and its self-test): a guest
# whose boot hung after a live move in its first seconds.
#
# QEMU 7.2 under TCG (no KVM on the lab's machines) now and then leaves a
# guest that is moved live in its first second or two of boot hung for
# good on the target: its kernel idles waiting for an interrupt that never
# comes (native_safe_halt), halts with interrupts off (native_halt) or
# spins on a lock with interrupts off, and its boot never ends. Plain
# `virsh migrate --live --p2p` does it too: two guests in 100 migrated 0.3
# to 2.5 s after their start (one in 40 with two busy guests beside, one in
# 60 without), none of them the cluster's. A drain or a clusterd stopping
# moves a VM live the moment it runs, which is how the soak meets it.
#
# boot_hung VM: VM runs on exactly the node the cluster says, its domain
# there came by a live migration, and its console since this round began
# shows a boot that began (earlyprintk's first line) and never ended (no
# READY after it). Only that is reset (the guest, in its QEMU, as a person
# would); anything else not as wanted fails the round.
#
# It asks the caller's viewer, vm_field, vm_nodes_running and lab, and
# reads con_mark[VM] (the console's size when the round began) and LAB_DIR.
boot_hung() {
	local v=$1 n st on i text
	n=$(viewer) || return 1
	st=$(vm_field "$n" "$v" 'd["state"] + " " + (d["node_name"] or "")') || return 1
	on=${st#* }
	[[ ${st%% *} == running && -n $on && $(vm_nodes_running "$v") == "$on" ]] || return 1
	i=${on#node}
	[[ $(lab exec "$i" virsh domstate --reason "$v" 2>/dev/null | head -n 1) == "running (migrated)" ]] || return 1
	text=$(tail -c +"$((${con_mark[$v]:-0} + 1))" "$LAB_DIR/$v-console.log" 2>/dev/null | tr -d '\r') || return 1
	grep -q 'KASLR using' <<<"$text" || return 1
	# shellcheck disable=SC2016 # sed's $, not the shell's
	! sed -n '/KASLR using/h; /KASLR using/!H; ${x;p}' <<<"$text" | grep -q '^READY '
}
