#!/usr/bin/env python3
# cib-report.py ROWS VERSION OUTDIR: bench/scale/cib.sh's table: its rows
# (ROWS, one JSON line a size), Pacemaker's figures per size, then ours
# beside them from OUTDIR/scale.jsonl (bench/scale/run.sh, 3 nodes) and
# OUTDIR/rejoin-VMS.jsonl (bench/scale/rejoin.sh), where they exist, with
# the ratios.
import json
import os
import re
import sys
import time

rows_file, version, outdir = sys.argv[1:4]
runs = [json.loads(line) for line in open(rows_file) if line.strip()]
sizes = [r["vms"] for r in runs]

FIGURES = [
    ("load_ms", "load, all primitives (ms)"),
    ("settle_ms", "then idle: all probed (ms)"),
    ("cib_bytes", "CIB bytes (cibadmin -Q)"),
    ("config_bytes", "  of which configuration"),
    ("cibadmin_p50_ms", "cibadmin --modify p50 ms"),
    ("cibadmin_p99_ms", "cibadmin --modify p99 ms"),
    ("crm_resource_p50_ms", "crm_resource --meta p50 ms"),
    ("crm_resource_p99_ms", "crm_resource --meta p99 ms"),
    ("rejoin_online_ms", "rejoin: node2 online (ms)"),
    ("rejoin_ms", "rejoin: node2's CIB caught up (ms)"),
    ("rejoin_idle_ms", "rejoin: idle, re-probed (ms)"),
]


def cell(r, key):
    return str(r[key]) if key in r else "-"


def table(head, lines):
    w0 = max(len(head[0]), *(len(line[0]) for line in lines))
    ws = [max(len(head[i]), *(len(line[i]) for line in lines)) for i in range(1, len(head))]
    out = ["%-*s  %s" % (w0, head[0], "  ".join("%*s" % (w, h) for w, h in zip(ws, head[1:])))]
    for line in lines:
        out.append("%-*s  %s" % (w0, line[0], "  ".join("%*s" % (w, c) for w, c in zip(ws, line[1:]))))
    return "\n".join(out)


print("# %s %d CPUs; Pacemaker %s, 3 nodes, corosync in network namespaces"
      % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), os.cpu_count(), version))
print()
print("Pacemaker's CIB with N ocf:heartbeat:VirtualDomain primitives (target-role=Stopped)")
print(table(["VMs"] + [str(n) for n in sizes],
            [[label] + [cell(r, key) for r in runs] for key, label in FIGURES]))
for r in runs:
    for k in ("dnf", "note"):
        if k in r:
            print("%d VMs: %s" % (r["vms"], r[k]))

# ours: a change acknowledged end to end and the rejoins, over corosync
# (bench/scale/rejoin.sh's rows), else the in-process figures (run.sh)
ours = {}
end_to_end = False
for name in sorted(os.listdir(outdir)) if os.path.isdir(outdir) else []:
    if not re.fullmatch(r"rejoin-\d+\.jsonl", name):
        continue
    for line in open(os.path.join(outdir, name)):
        o = json.loads(line)
        if o.get("nodes") != 3:
            continue
        if o.get("op") == "clusterctl property set":
            ours.setdefault(o["vms"], {})["change_p99_ms"] = o["p99_ms"]
            end_to_end = True
        elif o.get("op") == "rejoin":
            ours.setdefault(o["vms"], {}).update(rejoin_ms=o["short_ms"], rejoin_long_ms=o["long_ms"])
if not end_to_end:
    try:
        for line in open(os.path.join(outdir, "scale.jsonl")):
            o = json.loads(line)
            if o.get("nodes") == 3:
                ours.setdefault(o["vms"], {}).update(
                    change_p99_ms=o["prop_p99_ms"] + o["journal_p99_ms"])
    except FileNotFoundError:
        pass
if not any(n in ours for n in sizes):
    print()
    print("ours: no bench/out/scale.jsonl or rejoin-VMS.jsonl yet (bench/scale/run.sh, rejoin.sh)")
    sys.exit(0)


def num(v):
    return "%.3g" % v if isinstance(v, float) else str(v)


def ratio(theirs, mine):
    if theirs is None or mine is None or mine <= 0:
        return "-"
    return "%.0fx" % (theirs / mine) if theirs / mine >= 10 else "%.1fx" % (theirs / mine)


lines = []
for key, label, pkey in [
        ("change_p99_ms", "change p99 ms", "cibadmin_p99_ms"),
        ("rejoin_ms", "rejoin ms (short absence)", "rejoin_ms"),
        ("rejoin_long_ms", "rejoin ms (long: whole state)", "rejoin_ms")]:
    lines.append(["ours: " + label] + [num(ours[n][key]) if key in ours.get(n, {}) else "-" for n in sizes])
    lines.append(["  Pacemaker / ours"] + [ratio(r.get(pkey), ours.get(r["vms"], {}).get(key)) for r in runs])
print()
print("Beside ours (Pacemaker / ours: how many times longer Pacemaker takes)")
print(table(["VMs"] + [str(n) for n in sizes], lines))
print()
if end_to_end:
    print("ours' change: clusterctl property set on node1, a new process each as an admin types it,")
    print("answered once the change is delivered through corosync to the three nodes, applied and in")
    print("node1's journal (bench/scale/rejoin.sh; its ackbench rows give the same without the process")
    print("start); Pacemaker's: cibadmin --modify on node1, acknowledged once the change is replicated.")
else:
    print("ours' change: a property.set applied plus a journal commit, p99 of each added, in one")
    print("process (bench/scale/run.sh): no CPG round trip, no IPC; Pacemaker's: cibadmin --modify on")
    print("node1, acknowledged once the change is replicated.")
print("Rejoin: ours from clusterd's start")
print("until the three nodes' state checksums agree (bench/scale/rejoin.sh); Pacemaker's from")
print("pacemakerd's start until node2's own CIB is at node1's epoch and num_updates.")
