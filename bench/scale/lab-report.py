#!/usr/bin/env python3
# lab-report.py OUTDIR: the figures over real corosync from
# bench/scale/rejoin.sh's rows (OUTDIR/rejoin-*.jsonl), one column per
# size and node count, with the growth from 1,000 to 10,000 VMs and the
# targets at 10,000 (a change acknowledged < 20 ms p99, rejoin < 10 s,
# RSS < 300 MB, nothing but the rejoin growing more than a few percent).
import json
import os
import re
import sys

outdir = sys.argv[1]
rows = []
for name in sorted(os.listdir(outdir)):
    if re.fullmatch(r"rejoin-\d+(-\d+)?\.jsonl", name):
        rows += [json.loads(line) for line in open(os.path.join(outdir, name)) if line.strip()]
if not rows:
    print("no bench/out/rejoin-*.jsonl: run bench/scale/rejoin.sh")
    sys.exit(0)

ACKS = ["vm.add", "vm.remove", "property.set", "clusterctl property set"]
by = {}
for r in rows:
    by.setdefault((r["nodes"], r["vms"]), []).append(r)


def one(m, n, op):
    return [r for r in by.get((m, n), []) if r["op"] == op]


node_counts = sorted({m for m, _ in by})
for m in node_counts:
    sizes = sorted({n for mm, n in by if mm == m and one(mm, n, "property.set")})
    if not sizes:
        continue
    print("%d nodes: a change acknowledged end to end (ms), the coordinator's decision" % m)
    head = ["figure"] + ["%d VMs" % n for n in sizes]
    grow = 1000 in sizes and 10000 in sizes
    if grow:
        head.append("x 1k->10k")
    table = [head]
    for op in ACKS:
        for key in ("p50_ms", "p99_ms"):
            line = ["%s %s" % (op, key[:3])]
            vals = {}
            for n in sizes:
                r = one(m, n, op)
                vals[n] = r[0][key] if r else None
                line.append("%.2f" % vals[n] if r else "-")
            if grow:
                a, b = vals.get(1000), vals.get(10000)
                line.append("%.2f" % (b / a) if a and b else "-")
            table.append(line)
    for label, key in (("decision median", "median_ms"), ("decision CPU median", "cpu_median_ms")):
        line = [label]
        vals = {}
        for n in sizes:
            r = one(m, n, "decide")
            vals[n] = r[0].get(key) if r else None
            line.append("%.2f" % vals[n] if vals[n] is not None else "-")
        if grow:
            a, b = vals.get(1000), vals.get(10000)
            line.append("%.2f" % (b / a) if a and b else "-")
        table.append(line)
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for row in table:
        print("  " + "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                               for i, c in enumerate(row)))
    big = sizes[-1]
    rss = [r["rss_mb"] for r in one(m, big, "rss")]
    cpu = [r["percent"] for r in one(m, big, "idle_cpu")]
    rj = one(m, big, "rejoin")
    prop = one(m, big, "property.set")
    add = one(m, big, "vm.add")
    print("  at %d VMs on %d nodes:" % (big, m))
    if prop and add:
        worst = max(prop[0]["p99_ms"], add[0]["p99_ms"])
        print("    change acknowledged < 20 ms p99 (vm.add, property.set): %.1f ms, %s"
              % (worst, "met" if worst < 20 else "NOT met"))
    if rj:
        print("    rejoin < 10 s: after a short absence %.1f s, after a long one %.1f s, %s"
              % (rj[0]["short_ms"] / 1e3, rj[0]["long_ms"] / 1e3,
                 "met" if max(rj[0]["short_ms"], rj[0]["long_ms"]) < 10000 else "NOT met"))
    if rss:
        print("    RSS < 300 MB: largest node %d MB (of %s), %s"
              % (max(rss), " ".join(str(x) for x in rss), "met" if max(rss) < 300 else "NOT met"))
    if cpu:
        print("    idle CPU: %s %% of a core per clusterd" % " ".join("%.1f" % x for x in cpu))
    print()
