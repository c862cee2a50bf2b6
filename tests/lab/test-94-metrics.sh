#!/bin/bash
# The console's Prometheus endpoint against a real 3-node lab (libvirtd,
# QEMU, one shared volume): clusterd-console on node1, with a certificate
# made for the test, reads its clusterd over IPC. From node1's loopback
# /metrics answers without a login and tells the truth: clusterd up,
# quorate, three members, the running VM on its node, host-lease renewals on
# the volume in the latency histogram, a live move counted with its duration
# in the histogram. From the client's namespace (not loopback) /metrics and
# every /api/ path get 401 without a session or token; with the configured
# bearer token /metrics answers. cluster check finds nothing failing on the
# same lab.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_test_begin "metrics"

lab_up_with_volume
move_lab_ready

declare -A ip=([c1]=198.18.0.51)
bash "$top/tests/guest/domain.sh" --console "$LAB_DIR/c1.log" c1 "${ip[c1]}" 128 1 >"$LAB_DIR/c1.xml"
lab exec 1 clusterctl vm add c1 --xml "$LAB_DIR/c1.xml"
lab exec 1 clusterctl vm set c1 preferred-owners=node2
lab exec 1 clusterctl vm start c1
wait_for 120 "c1 runs and answers" running_answers 1 c1

# a certificate for the console, made for this test only
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=node1 \
	-keyout "$LAB_DIR/console.key" -out "$LAB_DIR/console.crt" >/dev/null 2>&1
echo "metrics-secret-$$" >"$LAB_DIR/metrics.token"
lab exec 1 "$top/console/clusterd-console" --foreground --port 9440 \
	--cert "$LAB_DIR/console.crt" --key "$LAB_DIR/console.key" --static "$top/console/www" \
	--metrics-token-file "$LAB_DIR/metrics.token" >"$LAB_DIR/console.log" 2>&1 &

# http_code NODE URL [CURL ARG...]: the HTTP status of a GET from NODE
http_code() {
	local n=$1 url=$2
	shift 2
	lab exec "$n" curl -sk -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || :
}
metrics() { lab exec 1 curl -sk --max-time 5 https://127.0.0.1:9440/metrics; }
console_up() { [[ $(http_code 1 https://127.0.0.1:9440/metrics) == 200 ]]; }
wait_for 30 "the console answers on node1's loopback" console_up

# sample TEXT NAME_AND_LABELS: the value of one sample ("" if absent)
sample() { awk -v k="$2" '$1 == k { print $2; exit }' <<<"$1"; }
m=$(metrics)
assert_eq "$(sample "$m" clusterd_up)" 1 "clusterd_up 1: the console reads its clusterd"
assert_eq "$(sample "$m" clusterd_quorate)" 1 "clusterd_quorate 1"
assert_eq "$(sample "$m" clusterd_members)" 3 "clusterd_members 3"
assert_eq "$(sample "$m" 'clusterd_vm_running{vm="c1",node="node2"}')" 1 "c1 shown running on node2"
assert_match "$(grep -c '^# TYPE ' <<<"$m")" '^[1-9][0-9]*$' "every family has its TYPE line"
renewals_grow() {
	local a
	a=$(sample "$(metrics)" 'clusterd_lease_renewals_total{volume="vol1",result="ok"}')
	[[ -n $a && $a -gt 0 ]]
}
wait_for 30 "node1's host-lease renewals on vol1 are counted" renewals_grow

# a live move: counted, with its duration
lab exec 1 clusterctl vm move c1 node3 --mode live --wait >/dev/null
moved_counted() {
	local t
	t=$(metrics)
	[[ $(sample "$t" 'clusterd_moves_total{mode="live",outcome="moved"}') -ge 1 &&
		$(sample "$t" 'clusterd_vm_running{vm="c1",node="node3"}') == 1 ]]
}
wait_for 30 "the live move is counted and c1 shown on node3" moved_counted
m=$(metrics)
assert_match "$(sample "$m" 'clusterd_move_duration_seconds_count{mode="live"}')" '^[1-9]' \
	"the move's duration is in the histogram"
assert_eq "$(sample "$m" 'clusterd_move_duration_seconds_bucket{mode="live",le="+Inf"}')" \
	"$(sample "$m" 'clusterd_move_duration_seconds_count{mode="live"}')" \
	"the duration histogram's +Inf bucket holds every timed live move"
assert_match "$(sample "$m" 'clusterd_lease_renew_latency_seconds_bucket{volume="vol1",le="2.5"}')" \
	'^[1-9]' "host-lease renewals on vol1 are in the latency histogram's buckets"

# from the client's namespace: not loopback
assert_eq "$(http_code client https://198.18.0.1:9440/metrics)" 401 "/metrics from another host without a token: 401"
assert_eq "$(http_code client https://198.18.0.1:9440/metrics -H 'Authorization: Bearer wrong')" 401 \
	"/metrics with a wrong token: 401"
assert_eq "$(http_code client https://198.18.0.1:9440/metrics -H "Authorization: Bearer $(cat "$LAB_DIR/metrics.token")")" 200 \
	"/metrics with the configured token: 200"
for p in /api/status /api/vms /api/nothing/here; do
	assert_eq "$(http_code client "https://198.18.0.1:9440$p")" 401 "$p without a session: 401"
done

# the same lab as cluster check sees it: nothing fails (a clock not yet measured may warn)
rc=0
out=$(lab exec 1 clusterctl cluster check 2>&1) || rc=$?
sed 's/^/# /' <<<"$out"
assert_eq "$rc" 0 "cluster check: nothing fails on the lab"

lab_test_end
