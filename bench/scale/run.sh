#!/bin/bash
# Run the state benchmark (bench/scale/statebench) at 100, 1,000 and 10,000
# VMs on 3 and on 32 nodes, keep each run's output in bench/out/scale-*.txt,
# and print a table: every figure per size, its growth from 1,000 to 10,000
# VMs, and the targets met or not. The table goes to bench/out/scale.txt.
#
#   bench/scale/run.sh [-d DIR] [-t TRIES]
#
# The options go to statebench (DIR: where the journal is timed; put it on
# the disk the state lives on). SIZES and NODES in the environment change
# the runs, e.g. SIZES="100 1000" NODES=3.
#
# Then, as root (LAB=0 skips it), the same over real corosync on lab
# clusters: rejoin.sh at LAB_VMS VMs (default 10000) on 3 nodes and on
# LAB_BIG nodes (default 16; 0 skips it): changes acknowledged end to end,
# the coordinator's decision, RSS, idle CPU, rejoins (lab-report.py's
# table in bench/out/scale-lab.txt); and Pacemaker's CIB beside it
# (cib.sh at CIB_SIZES, default "100 1000 10000", as far as it gets).
# All of it takes an hour or more on a 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=${SIZES:-100 1000 10000}
nodes=${NODES:-3 32}
limit=$(sed -n 's/^#define CD_MAX_VMS \([0-9]*\)$/\1/p' core/state.h)
make -s bench/scale/statebench
mkdir -p bench/out
results=bench/out/scale.jsonl
: >"$results"
for m in $nodes; do
	for n in $sizes; do
		prog=bench/scale/statebench
		echo "statebench: $n VMs on $m nodes (${prog##*/})" >&2
		"$prog" "$@" "$n" "$m" >"bench/out/scale-$n-$m.txt"
		tail -n 1 "bench/out/scale-$n-$m.txt" >>"$results"
	done
done
{
	echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -m) $(nproc) CPUs; VM limit of the build: $limit"
	python3 - "$results" "$limit" <<'PY'
import json
import sys

runs = [json.loads(line) for line in open(sys.argv[1])]
limit = int(sys.argv[2])
# (key, label, scales with the whole state by nature)
rows = [
    ("built", "VMs built", True),
    ("build_s", "build s (all changes)", True),
    ("add_p50_ms", "vm.add p50 ms", False),
    ("add_p99_ms", "vm.add p99 ms", False),
    ("prop_p50_ms", "property.set p50 ms", False),
    ("prop_p99_ms", "property.set p99 ms", False),
    ("journal_p50_ms", "journal commit p50 ms", False),
    ("journal_p99_ms", "journal commit p99 ms", False),
    ("text_p50_ms", "whole text ms (json-c)", True),
    ("checksum_p50_ms", "checksum p50 ms (one VM changed)", True),
    ("checksum_cold_ms", "checksum ms (every VM printed)", True),
    ("state_json_bytes", "state JSON MB", True),
    ("snapshot_ms", "snapshot ms", True),
    ("copy_ms", "state copy ms", True),
    ("save_p50_ms", "whole file save ms", True),
    ("save_vs_journal", "save / journal", True),
    ("decide_cold_ms", "decide cold ms (every XML read)", True),
    ("warm_ms", "adapter warm-up ms (all XML)", True),
    ("warm_slice_max_ms", "  longest slice ms", False),
    ("decide_first_ms", "decide first ms (warmed up)", True),
    ("decide_p50_ms", "decide p50 ms", True),
    ("decide_p99_ms", "decide p99 ms", True),
    ("adapter_p50_ms", "  of which adapter ms", True),
    ("rss_mb", "RSS MB", True),
    ("rss_bytes_per_vm", "RSS bytes per VM", False),
    ("hwm_mb", "peak RSS MB", True),
]


def fmt(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v >= 100:
        return "%.0f" % v
    if v >= 1:
        return "%.2f" % v
    return "%.4f" % v


def value(r, key):
    v = r[key]
    return v / 1e6 if key == "state_json_bytes" else v


by = {(r["nodes"], r["vms"]): r for r in runs}
node_counts = sorted({r["nodes"] for r in runs})
sizes = sorted({r["vms"] for r in runs})
head = ["figure"]
for m in node_counts:
    head += ["%d VMs/%d" % (n, m) for n in sizes]
    if 1000 in sizes and 10000 in sizes:
        head.append("x 1k->10k")
table = [head]
for key, label, whole in rows:
    line = [label + (" *" if whole else "")]
    for m in node_counts:
        for n in sizes:
            r = by.get((m, n))
            line.append(fmt(value(r, key)) if r else "-")
        if 1000 in sizes and 10000 in sizes:
            a, b = by.get((m, 1000)), by.get((m, 10000))
            ok = a and b and value(a, key)
            line.append("%.2f" % (value(b, key) / value(a, key)) if ok else "-")
    table.append(line)
widths = [max(len(row[i]) for row in table) for i in range(len(head))]
for row in table:
    print("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                    for i, c in enumerate(row)))
print("* grows with the whole state by nature (a pass over every VM);"
      " the rest should stay flat")
print()


def verdict(ok):
    return "met" if ok else "NOT met"


print("targets at the largest size:")
for m in node_counts:
    r = by[(m, sizes[-1])]
    ack = r["add_p99_ms"] + r["journal_p99_ms"]
    where = "%d VMs on %d nodes" % (r["built"], m)
    print("  %s: change acknowledged < 20 ms p99 (vm.add p99 + journal commit p99,"
          " no network): %.2f ms, %s" % (where, ack, verdict(ack < 20)))
    print("  %s: RSS < 300 MB after building: %.0f MB, %s; at its peak (a checksum,"
          " snapshot or save in flight): %.0f MB, %s"
          % (where, r["rss_mb"], verdict(r["rss_mb"] < 300), r["hwm_mb"],
             verdict(r["hwm_mb"] < 300)))
    print("  %s: policy decision < 100 ms (DESIGN.md): p99 %.1f ms, %s;"
          " a new coordinator's first one (warmed up) %.0f ms, %s;"
          " a cold adapter's (every XML read) %.0f ms"
          % (where, r["decide_p99_ms"], verdict(r["decide_p99_ms"] < 100),
             r["decide_first_ms"], verdict(r["decide_first_ms"] < 100),
             r["decide_cold_ms"]))
PY
} | tee bench/out/scale.txt

if [[ ${LAB:-1} == 1 && $EUID -eq 0 ]]; then
	lab_vms=${LAB_VMS:-10000}
	rm -f bench/out/rejoin-*.jsonl
	bash bench/scale/rejoin.sh "$lab_vms" 3
	if [[ ${LAB_BIG:-16} != 0 ]]; then
		bash bench/scale/rejoin.sh "$lab_vms" "${LAB_BIG:-16}" ||
			echo "run.sh: the ${LAB_BIG:-16}-node run did not finish (see above)" >&2
	fi
	python3 bench/scale/lab-report.py bench/out | tee bench/out/scale-lab.txt
	# shellcheck disable=SC2086 # a list of sizes
	bash bench/scale/cib.sh ${CIB_SIZES:-100 1000 10000} || echo "run.sh: cib.sh failed (see above)" >&2
	[[ ! -f bench/out/cib.txt ]] || cat bench/out/cib.txt
fi
