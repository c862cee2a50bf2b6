"""bench/drain/summary.py DIR [VIRSH_DEADLINE_S] - the summary of
bench/drain/run.sh's raw results in DIR: results.tsv (a row per VM and
drain: SCEN REP SYS VM SRC NODE GAP DOWNTIME JOB VIRSH OUTCOME METHOD BOOTS
INTERLEAVED RUNNING SILENT_MS BOOT_BEFORE BOOT_AFTER), totals.tsv (a row per
drain: SCEN REP SYS TOTAL EXIT STATE PARALLEL OWN) and scenarios.tsv. Prints
every VM's row, every drain's total, then per system the medians, the worst
gap, the ratios ours/manual and whether ours meets the target."""

import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from results import cell, guest_intact, guest_notes, load, num, ratio, ratio_text, same_boot  # noqa: E402

TARGET = 0.5  # the issue's target: ours' total at most this x the manual loop's
SYSTEMS = ("ours", "manual")

res = sys.argv[1]
deadline = sys.argv[2] if len(sys.argv) > 2 else "VIRSH_DEADLINE_S"
rows, scen = load(os.path.join(res, "results.tsv"), os.path.join(res, "scenarios.tsv"), 18)
totals, _ = load(os.path.join(res, "totals.tsv"), os.path.join(res, "scenarios.tsv"), 8)


def moved(r):
    return r[10] == "moved"


def intact(r):  # moved, and the guest kept running: one boot, the old one, answering after it
    return moved(r) and guest_intact(r[12], r[13], r[15]) and same_boot(r[16], r[17])


def complete(t):  # the drain moved every VM: ours drained (exit 0), manual no failed virsh
    return t[4] == "0" and t[5] in ("drained", "moved-all")


def ms(v):
    return "-" if v is None else "%.0f ms" % v


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


print()
print("Node drain of 8 VMs off node2: clusterd (clusterctl node drain node2 --wait) against a loop")
print("of plain virsh migrate --live --p2p, one VM after another; 3-node lab, TCG guests, a client")
print("probe per guest every 10 ms. Times in ms. gap: longest client-seen gap; downtime: libvirt's,")
print("measured by the target; job: the migration job (ours: last_move.total_ms, manual: target's")
print("Time elapsed); virsh: the wall clock of the manual loop's virsh migrate of the VM.")
print()
hdr = "%-4s %-3s %-6s %-3s %-13s %7s %9s %7s %7s %-6s  %s"
print(hdr % ("scen", "rep", "system", "vm", "move", "gap", "downtime", "job", "virsh", "method", "notes"))
for r in rows:
    s, rep, sysn, vm, src, node, gap, down, job, virsh, outcome, method, boots, inter, running, silent, b0, b1 = r
    notes = []
    if outcome == "did-not-converge":
        notes.append("DID NOT CONVERGE in %s s (aborted)" % deadline)
    elif not moved(r):
        notes.append("outcome " + outcome)
    notes += guest_notes(boots, inter, silent, running, "node" + (node if moved(r) else src))
    if moved(r) and boots == "1" and not same_boot(b0, b1):
        notes.append("boot id %s -> %s: NOT the old boot" % (b0[:8], b1[:8]))
    if moved(r) and method != "live":
        notes.append("moved " + method)
    dst = node if moved(r) else src
    print(hdr % (s, rep, sysn, vm, "node%s->node%s" % (src, dst), cell(gap), cell(down), cell(job), cell(virsh),
                 method, "; ".join(notes) or "ok"))

print()
thdr = "%-4s %-3s %-6s %8s %8s %8s  %s"
print(thdr % ("scen", "rep", "system", "total", "own", "at once", "end"))
for t in totals:
    s, rep, sysn, total, rc, state, par, own = t
    end = "%s, exit %s" % (state, rc) if sysn == "ours" else "%s VMs not moved" % rc
    print(thdr % (s, rep, sysn, cell(total), cell(own), cell(par), end))

verdicts = []
for s in sorted(scen, key=int):
    print()
    print("Scenario %s: %s" % (s, scen[s]))
    by = {k: [r for r in rows if r[0] == s and r[2] == k] for k in SYSTEMS}
    tby = {k: [t for t in totals if t[0] == s and t[2] == k] for k in SYSTEMS}
    med, worst = {}, {}
    for k in SYSTEMS:
        med[k, "total"] = median(num(t[3]) for t in tby[k] if complete(t))
        med[k, "total, all"] = median(num(t[3]) for t in tby[k])
        med[k, "gap"] = median(num(r[6]) for r in by[k] if intact(r))
        med[k, "downtime"] = median(num(r[7]) for r in by[k] if moved(r))
        med[k, "job"] = median(num(r[8]) for r in by[k] if moved(r))
        gaps = [num(r[6]) for r in by[k] if num(r[6]) is not None]
        worst[k] = max(gaps) if gaps else None
    a, b = SYSTEMS
    print("%-12s %12s %12s %12s" % ("", a, b, "%s/%s" % (a, b)))
    lines = [("median total", med[a, "total"], med[b, "total"]),
             ("total, all", med[a, "total, all"], med[b, "total, all"]),
             ("median gap", med[a, "gap"], med[b, "gap"]),
             ("worst gap", worst[a], worst[b]),
             ("median down", med[a, "downtime"], med[b, "downtime"]),
             ("median job", med[a, "job"], med[b, "job"])]
    for name, x, y in lines:
        print("%-12s %12s %12s %12s" % (name, cell(x), cell(y), ratio_text(ratio(x, y))))
    for k in SYSTEMS:
        rs = by[k]
        print("%-6s drains: %d, complete %d; VMs: %d, moved %d, intact %d, not live %d" % (
            k, len(tby[k]), sum(map(complete, tby[k])), len(rs), sum(map(moved, rs)), sum(map(intact, rs)),
            sum(1 for r in rs if moved(r) and r[11] != "live")))
    t = ratio(med[a, "total"], med[b, "total"])
    if t is None or worst[a] is None or worst[b] is None:
        verdict = "unknown (no ratio)"
    else:
        verdict = "met" if t <= TARGET and worst[a] <= worst[b] else "NOT met"
    verdicts.append("scenario %s: total ours %s, manual %s, ratio %s; worst gap ours %s, manual %s; "
                    "target (total at most %.1fx manual's, no gap worse than manual's worst) %s" % (
                        s, ms(med[a, "total"]), ms(med[b, "total"]), ratio_text(t), ms(worst[a]), ms(worst[b]),
                        TARGET, verdict))
print()
for v in verdicts:
    print(v)
print()
print("total: the median over the drains that moved every VM (ours: drained, exit 0; manual: every")
print("virsh migrate succeeded), the one the target is judged by; total, all: over every drain. own:")
print("ours' drain from its begun_ms to its ended_ms; at once: how many moves it ran at once. gap: the")
print("median over the VMs that came through intact (moved, one boot id, the one it had before, never")
print("two answering, answering again afterwards); worst gap: over every VM of every drain. downtime,")
print("job: every VM that moved.")
