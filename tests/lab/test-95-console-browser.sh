#!/bin/bash
# The web console in a real browser against a real 3-node lab (libvirtd,
# QEMU, one shared volume, one guest): clusterd-console on node1 with a
# certificate made for the test, headless Chromium in the client's
# namespace, driven over the DevTools protocol by cdp.py. A wrong password
# is refused (the page says so, no session cookie); the lab's console
# admin logs in through PAM and sees node1..node3; a live move started from
# the page shows its preflight before the confirmation, then its progress
# changing, and the VM ends on the chosen node as clusterctl sees it; a
# drain started from the page shows its plan, and the node ends drained;
# a stop and a start of the VM, a resume of the drained node and a
# maintenance run of a schedule, each from the page, show their preflight
# or plan in the confirmation while nothing changes, and end as clusterctl
# sees them (stopped, running, online, the run done).
# Without a session every /api/ path, known or not, GET or POST, gets 401.
# Screenshots (after the login, of each confirmation, during the move, after
# each action) are kept
# in $CD_LAB_ARTIFACTS/test-95-console-browser, or beside the lab dir.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "console in a browser"

CDP_PORT=9222
chromium_pid=
# stop_chromium: the browser this test started, by its PID, and wait for it
stop_chromium() {
	[[ -n $chromium_pid ]] || return 0
	kill "$chromium_pid" 2>/dev/null || :
	wait "$chromium_pid" 2>/dev/null || :
	chromium_pid=
}
_set_rc() { return "$1"; }
# the browser goes first, then the lab (lib.sh's exit trap, with our status)
_console_browser_exit() {
	local rc=$?
	stop_chromium
	_set_rc "$rc"
	_lab_test_exit
}
trap _console_browser_exit EXIT

shots=${CD_LAB_ARTIFACTS:-${LAB_DIR%/}.artifacts}/$LAB_TEST_SCRIPT
mkdir -p "$shots"

lab_up_with_volume
move_lab_ready

# --- one guest, on node2; it uses 32 MiB so that a slowed copy takes a while
declare -A ip=([c1]=198.18.0.52)
bash "$top/tests/guest/domain.sh" --dirty-mb 32 --console "$LAB_DIR/c1.log" c1 "${ip[c1]}" 128 1 >"$LAB_DIR/c1.xml"
lab exec 1 clusterctl vm add c1 --xml "$LAB_DIR/c1.xml"
lab exec 1 clusterctl vm set c1 preferred-owners=node2
lab exec 1 clusterctl vm start c1
wait_for 120 "c1 runs and answers" running_answers 1 c1
assert_eq "$(where c1)" node2 "c1 runs on node2, its preferred owner"

# --- the console's admin: a user and a group of this test, only in node1's
# own /etc/passwd, /etc/group (the lab's copies) and an /etc/shadow of its
# own mounted over node1's; the host's files are never touched. PAM checks
# the password as on any Debian host (common-auth, pam_unix).
d1=$LAB_DIR/node1
admin=cdwebadmin
pass=$(openssl rand -hex 12)
[[ -f $d1/etc/passwd && -f $d1/etc/group ]] || fail "node1 has no private /etc/passwd and /etc/group"
echo "$admin:x:64200:64200:console test admin:/nonexistent:/usr/sbin/nologin" >>"$d1/etc/passwd"
echo "cdwebadm:x:64200:$admin" >>"$d1/etc/group"
printf 'root:*:19000:0:99999:7:::\n%s:%s:19000:0:99999:7:::\n' "$admin" "$(openssl passwd -6 "$pass")" >"$d1/etc/shadow"
chmod 600 "$d1/etc/shadow"
lab exec 1 mount --bind "$d1/etc/shadow" /etc/shadow
assert_eq "$(lab exec 1 id -nG "$admin")" "cdwebadm" "node1 knows $admin, in the group cdwebadm"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=node1 \
	-keyout "$LAB_DIR/console.key" -out "$LAB_DIR/console.crt" >/dev/null 2>&1
lab exec 1 "$top/console/clusterd-console" --foreground --port 9440 \
	--cert "$LAB_DIR/console.crt" --key "$LAB_DIR/console.key" --static "$top/console/www" \
	--admin-group cdwebadm >"$LAB_DIR/console.log" 2>&1 &
URL=https://198.18.0.1:9440/

# http_code [CURL ARG...] URL: the HTTP status the client gets
http_code() { lab exec client curl -sk -o /dev/null -w '%{http_code}' --max-time 5 "$@" || :; }
console_up() { [[ $(http_code "$URL") == 200 ]]; }
wait_for 30 "the console answers the client" console_up

# --- the browser, in the client's namespace (DevTools on its own loopback)
"$LAB" exec client chromium --headless=new --no-sandbox --ignore-certificate-errors \
	--remote-debugging-address=127.0.0.1 --remote-debugging-port=$CDP_PORT \
	--user-data-dir="$LAB_DIR/chromium" --no-first-run --no-default-browser-check \
	--window-size=1280,900 about:blank >"$LAB_DIR/chromium.log" 2>&1 &
chromium_pid=$!
# cdp ARGS...: the driver, in the client's namespace
cdp() { lab exec client /usr/bin/python3 "$top/tests/lab/cdp.py" --port $CDP_PORT "$@"; }
# page_wait SECONDS DESCRIPTION JS: wait until JS is truthy in the page (its
# value, as JSON, in PAGE_VALUE); past the deadline, fail with DESCRIPTION
page_wait() {
	local out
	out=$(cdp wait -t "$(($1 * ${CD_TEST_TIME_SCALE:-1}))" "$3" 2>&1) || fail "$2: $out"
	PAGE_VALUE=$out
}
# click SELECTOR / type SELECTOR TEXT: as a person would, or fail saying why
click() { local out; out=$(cdp click "$1" 2>&1) || fail "click $1: $out"; }
type_in() { local out; out=$(cdp type "$1" "$2" 2>&1) || fail "type into $1: $out"; }
# q SELECTOR: JavaScript for document.querySelector(SELECTOR)
q() { printf 'document.querySelector(%s)' "$(jq -Rn --arg s "$1" '$s')"; }
# js JS: JS's value (JSON) in the page
js() { cdp eval "$1"; }
shot() {
	local out
	out=$(cdp shot "$shots/$1.png" 2>&1) || fail "screenshot $1: $out"
	pass "screenshot $1.png"
}

out=$(cdp ready -t 60 2>&1) || fail "Chromium's DevTools do not answer: $out"
out=$(cdp open "$URL" 2>&1) || fail "open $URL: $out"
page_wait 30 "the page asks for a login" "!$(q '#login').hidden"
pass "the console's page loads in Chromium and asks for a login"

# --- (1) a wrong password: refused, the page says so, no session cookie
type_in '#login-user' "$admin"
type_in '#login-pass' "wrong-$pass"
click '#login-submit'
page_wait 30 "the page says why the login failed" "$(q '#login-error').textContent"
assert_eq "$PAGE_VALUE" '"login refused"' "a wrong password: the page says the login was refused"
assert_eq "$(js "$(q '#console').hidden")" true "and shows no console"
assert_eq "$(cdp cookies | jq '[.[] | select(.name == "cd_session")] | length')" 0 "no session cookie"
assert_eq "$(http_code "${URL}api/session" -b cd_session=forged)" 401 "a forged session cookie: 401"

# --- (2) the right one: logged in, a session cookie (HttpOnly, Secure)
type_in '#login-pass' "$pass"
click '#login-submit'
page_wait 30 "the console shows after the login" "!$(q '#console').hidden && $(q '#whoami').textContent === '$admin'"
pass "$admin logs in through PAM: the console shows, and who is logged in"
assert_eq "$(cdp cookies | jq -r '.[] | select(.name == "cd_session") | "\(.httpOnly) \(.secure)"')" \
	"true true" "a session cookie, HttpOnly and Secure"

# --- (3) the three nodes
nodes_js="[...document.querySelectorAll('#overview-nodes tbody tr')].map((r) => r.dataset.node).join(' ')"
page_wait 30 "the overview lists the three nodes" "$nodes_js === 'node1 node2 node3'"
pass "the overview lists node1 node2 node3"
assert_eq "$(js "[...document.querySelectorAll('#overview-nodes tbody tr td:nth-child(2)')].map((c) => c.textContent).join(' ')")" \
	'"online online online"' "each one online"
page_wait 30 "the overview says quorate" "$(q '#overview').dataset.quorate === 'yes'"
shot 1-logged-in

# --- (4) a live move of c1 to node3 from the page, the copy slowed down
# so that its progress can be seen changing
click '#tabs button[data-tab="vms"]'
page_wait 30 "the VM list shows c1 on node2" "$(q '#vms tr[data-vm="c1"] td:nth-child(3)')?.textContent === 'node2'"
throttle c1 node2 2
click '#vms button[data-action="move"][data-vm="c1"]'
# the dialog runs a first preflight (the cluster's choice) at once: let it
# end, then choose node3 and live, and check again
page_wait 60 "the move dialog's first preflight ends" "$(q '#confirm').open && !!$(q '#move-check').dataset.ok"
js "(() => { for (const [s, v] of [['#move-node', 'node3'], ['#move-mode', 'live']]) {
	const e = document.querySelector(s); e.value = v; e.dispatchEvent(new Event('change')); }
	delete document.querySelector('#move-check').dataset.ok; return true; })()" >/dev/null
assert_eq "$(js "$(q '#confirm-ok').disabled")" true "Move is disabled until the preflight passed"
click '#move-check-run'
page_wait 60 "the preflight to node3 passes and Move is enabled" "$(q '#move-check').dataset.ok === 'yes' && !$(q '#confirm-ok').disabled"
report=$(js "$(q '#move-report').textContent" | jq -r .)
assert_match "$report" "node3" "the preflight's report is shown before the confirmation, for node3"
sed 's/^/#   /' <<<"$report"
shot 2-move-preflight
click '#confirm-ok'
progress='#move-progress'
page_wait 60 "the page shows the memory copy under way" "$(q $progress).dataset.phase === 'copying' && $(q $progress).dataset.percent !== '' && $(q $progress).textContent"
first=$PAGE_VALUE
pass "the page shows the copy under way: $first"
shot 3-move-progress
page_wait 90 "the move's progress changes on the page" "$(q $progress).textContent !== $first"
pass "and its progress changes: $(js "$(q $progress).textContent")"
throttle c1 node2 100000
page_wait 120 "the page says the move ended" "$(q $progress).dataset.state !== 'running'"
assert_eq "$(js "$(q $progress).dataset.state")" '"moved"' "the page says the move ended: $(js "$(q $progress).textContent")"
assert_eq "$(vm_field 1 c1 '"%s %s" % (d["state"], d["node_name"])')" "running node3" "clusterctl vm show: c1 runs on node3"
assert_eq "$(vm_nodes_running c1)" node3 "libvirt runs c1 on node3 only"
page_wait 30 "the VM list shows c1 on node3" "$(q '#vms tr[data-vm="c1"] td:nth-child(3)')?.textContent === 'node3'"
pass "the VM list shows c1 on node3"
shot 4-moved

# --- (5) drain node3 from the page: its plan first, then c1 leaves it
click '#tabs button[data-tab="nodes"]'
click '#nodes button[data-action="drain"][data-node="node3"]'
page_wait 30 "the drain's plan shows in the dialog" "$(q '#confirm').open && !!$(q '#confirm-body tr[data-vm="c1"]')"
pass "the drain's plan is shown before the confirmation: $(js "[...$(q '#confirm-body tr[data-vm="c1"]').cells].map((c) => c.textContent).join(' ')")"
shot 5-drain-plan
click '#confirm-ok'
page_wait 180 "the page says node3 is drained" "$(q '#drain-progress').dataset.state === 'drained'"
pass "the page says the drain of node3 is done"
assert_eq "$(node_state 1 node3)" drained "clusterctl node show: node3 drained"
assert_eq "$(vm_field 1 c1 'd["state"]')" running "c1 runs"
assert_match "$(where c1)" '^node[12]$' "c1 is no longer on node3"
assert_eq "$(lab_qemu_pids 3 | wc -w)" 0 "no QEMU runs on node3"
page_wait 30 "the node list shows node3 drained" "$(q '#nodes tr[data-node="node3"] .state')?.textContent === 'drained'"
pass "the node list shows node3 drained"
shot 6-drained

# --- (6) stop c1 from the page: where it runs and how it stops, first;
# nothing changes while the dialog is open; then it ends stopped
vm_is() { [[ $(vm_field 1 c1 '"%s %s" % (d["state"], d["target"])') == "$1" ]]; }
click '#tabs button[data-tab="vms"]'
page_wait 30 "the VM list shows c1 running" "$(q '#vms tr[data-vm="c1"] .state')?.textContent === 'running'"
click '#vms button[data-action="stop"][data-vm="c1"]'
page_wait 30 "the stop's preflight shows in the dialog and Stop is enabled" \
	"$(q '#confirm').open && $(q '#stop-check').dataset.ok === 'yes' && !$(q '#confirm-ok').disabled"
assert_match "$(js "$(q '#stop-report').textContent")" "c1 is running on node[12]: it stops there" \
	"the stop's dialog says where c1 runs and what a stop does"
assert_eq "$(js "$(q '#stop-mode').value")" '""' "the stop's default is a shutdown"
assert_eq "$(vm_field 1 c1 '"%s %s" % (d["state"], d["target"])')" "running started" \
	"while the dialog is open, c1 still runs and is wanted running (clusterctl)"
assert_eq "$(vm_nodes_running c1)" "$(where c1)" "and libvirt runs it where it ran"
shot 7-stop-confirm
click '#confirm-ok'
wait_for 180 "clusterctl says c1 stopped" vm_is "stopped stopped"
pass "clusterctl vm show: c1 stopped, its target stopped"
wait_for 60 "libvirt runs c1 nowhere" vm_runs_only c1
pass "libvirt runs c1 nowhere"
page_wait 60 "the page says c1 stopped" "$(q '#vm-progress').dataset.state === 'stopped' && $(q '#vms tr[data-vm="c1"] .state')?.textContent === 'stopped'"
pass "the page says c1 stopped: $(js "$(q '#vm-progress').textContent")"
shot 8-stopped

# --- (7) start it again: placement's answer (where it would start) first
click '#vms button[data-action="start"][data-vm="c1"]'
page_wait 60 "the start's preflight shows in the dialog and Start is enabled" \
	"$(q '#confirm').open && $(q '#start-check').dataset.ok === 'yes' && !$(q '#confirm-ok').disabled"
report=$(js "$(q '#start-report').textContent" | jq -r .)
assert_eq "$report" "c1 is to start on node2: preferred owner 1 of 1" \
	"the start's dialog says where placement would start c1, and why"
assert_eq "$(vm_field 1 c1 '"%s %s" % (d["state"], d["target"])')" "stopped stopped" \
	"while the dialog is open, c1 stays stopped (clusterctl)"
assert_eq "$(vm_nodes_running c1)" "" "and libvirt runs it nowhere"
assert_eq "$(lab exec 1 clusterctl vm start c1 --check)" "$report" "clusterctl vm start c1 --check says the same"
shot 9-start-confirm
click '#confirm-ok'
wait_for 180 "clusterctl says c1 runs" vm_is "running started"
assert_eq "$(where c1)" node2 "clusterctl vm show: c1 runs on node2, as the dialog said"
wait_for 60 "libvirt runs c1 on node2 only" vm_runs_only c1 node2
pass "libvirt runs c1 on node2 only"
page_wait 60 "the page says c1 runs" "$(q '#vm-progress').dataset.state === 'running' && $(q '#vms tr[data-vm="c1"] .state')?.textContent === 'running'"
pass "the page says c1 runs: $(js "$(q '#vm-progress').textContent")"
shot 10-started

# --- (8) resume node3 from the page: its state and the VMs that would come
# back to it first; then it is online again
node3_is() { [[ $(node_state 1 node3) == "$1" ]]; }
click '#tabs button[data-tab="nodes"]'
click '#nodes button[data-action="resume"][data-node="node3"]'
page_wait 30 "the resume's preflight shows in the dialog and Resume is enabled" \
	"$(q '#confirm').open && $(q '#resume-check').dataset.ok === 'yes' && !$(q '#confirm-ok').disabled"
assert_eq "$(js "$(q '#resume-report').textContent")" '"node3 is drained; once resumed it takes VMs again."' \
	"the resume's dialog says node3 is drained"
assert_eq "$(js "$(q '#resume-returning').textContent")" '"none"' "and that no VM comes back to it (c1 prefers node2)"
assert_eq "$(node_state 1 node3)" drained "while the dialog is open, node3 stays drained (clusterctl)"
shot 11-resume-confirm
click '#confirm-ok'
wait_for 60 "clusterctl says node3 online" node3_is online
pass "clusterctl node show: node3 online"
page_wait 60 "the node list shows node3 online" "$(q '#nodes tr[data-node="node3"] .state')?.textContent === 'online'"
pass "the node list shows node3 online"
shot 12-resumed

# --- (9) a maintenance run from the page: a schedule for node3 tomorrow,
# run now; its steps and each node's drain plan first, nothing runs while
# the dialog is open; then node3 is serviced (drained, resumed) and online
run_of() { lab exec 1 clusterctl --json maintenance show webmaint | jq -r '.run.outcome // "none"'; }
lab exec 1 clusterctl maintenance add webmaint --nodes node3 --at +12h >/dev/null
click '#tabs button[data-tab="maintenance"]'
page_wait 30 "the page lists webmaint" "!!$(q '#maintenance button[data-action="run"][data-maintenance="webmaint"]')"
assert_match "$(js "$(q '#maintenance tr[data-maintenance="webmaint"]').textContent")" "node3; at .*; never ran" \
	"the page shows webmaint in words: for node3, when, never ran"
click '#maintenance button[data-action="run"][data-maintenance="webmaint"]'
page_wait 60 "the run's plan shows in the dialog and Run now is enabled" \
	"$(q '#confirm').open && $(q '#maint-plan').dataset.ok === 'yes' && !$(q '#confirm-ok').disabled"
plan=$(js "$(q '#maint-plan').textContent" | jq -r .)
assert_match "$plan" "in this order: node3\. For each: a health gate, a live drain" "the dialog shows the run's steps"
assert_match "$plan" "node3: 0 VM\(s\) to move" "and node3's drain plan"
assert_eq "$(run_of)" none "while the dialog is open, webmaint has not run (clusterctl)"
assert_eq "$(node_state 1 node3)" online "and node3 stays online"
shot 13-maintenance-plan
click '#confirm-ok'
page_wait 300 "the page says the run of webmaint is done" "$(q '#maint-progress').dataset.state === 'done'"
pass "the page says the run is done: $(js "$(q '#maint-progress').innerText")"
assert_eq "$(run_of)" done "clusterctl maintenance show: the run of webmaint is done"
assert_eq "$(lab exec 1 clusterctl --json maintenance show webmaint | jq -r '[.run.nodes[] | "\(.node) \(.outcome)"] | join(",")')" \
	"node3 done" "the run serviced node3"
assert_eq "$(node_state 1 node3)" online "node3 is online again"
assert_eq "$(vm_field 1 c1 '"%s %s" % (d["state"], d["node_name"])')" "running node2" "c1 still runs on node2"
shot 14-maintenance-done

stop_chromium
pass "Chromium stopped"

# --- (10) no session, no API: whatever the path and the method
for p in /api/status /api/nodes /api/vms /api/vms/c1 /api/vms/c1/move /api/nodes/node1/drain \
	/api/session /api/events /api/nothing/here /api/ /api/login; do
	assert_eq "$(http_code "${URL%/}$p")" 401 "GET $p without a session: 401"
done
for p in /api/vms/c1/move /api/vms/c1/stop /api/nodes/node1/drain /api/nodes/node3/resume \
	/api/logout /api/nothing/here /api/status; do
	assert_eq "$(http_code -X POST -H 'Content-Type: application/json' -d '{}' "${URL%/}$p")" 401 \
		"POST $p without a session: 401"
done
assert_eq "$(http_code -X DELETE "${URL%/}/api/vms/c1")" 401 "DELETE /api/vms/c1 without a session: 401"
assert_eq "$(http_code -X POST -H 'Content-Type: application/json' -H 'X-CSRF-Token: x' -b cd_session=forged \
	-d '{}' "${URL%/}/api/vms/c1/stop")" 401 "POST with a forged session and CSRF token: 401"
assert_eq "$(vm_field 1 c1 'd["state"]')" running "c1 still runs: none of them did anything"

echo "# screenshots in $shots"
lab_test_end
