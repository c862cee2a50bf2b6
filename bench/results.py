"""bench/results.py - the lab benchmarks' results (bench/migrate/run.sh,
bench/quick/run.sh, bench/drain/summary.py), for their summaries:
results.tsv (a row a move,
tab-separated, the columns the benchmark's, "nan" where none) and
scenarios.tsv (number, description) read, what a move's probe and libvirt
said that is amiss, and the medians of two systems side by side."""

import statistics

SILENT = 1000  # ms without an answer until the probe's end: the guest was lost


def load(results, scenarios, ncols):
    """The rows of results (each padded or cut to ncols) and the scenarios
    as a dict number -> description."""
    with open(results) as f:
        rows = [(l.rstrip("\n").split("\t") + [""] * ncols)[:ncols] for l in f if l.strip()]
    with open(scenarios) as f:
        scen = dict(l.rstrip("\n").split("\t", 1) for l in f if l.strip())
    return rows, scen


def num(x):
    """x as a number, or None ("nan", "-", empty)."""
    try:
        v = float(x)
        return v if v == v else None
    except (TypeError, ValueError):
        return None


def cell(x):
    v = num(x)
    return "-" if v is None else "%.0f" % v


def guest_intact(boots, inter, silent):
    """The probe saw one boot, never two answering, and the guest answered
    again after the move."""
    return boots == "1" and inter == "false" and (num(silent) or 0) < SILENT


def same_boot(before, after):
    """The guest answered with the same boot id before and after its move."""
    return before not in ("", "none") and before == after


def guest_notes(boots, inter, silent, running, expect):
    """What the probe (boots, interleaved, silence at its end) and libvirt
    (the nodes that run the guest, expected: expect) said that is amiss."""
    notes = []
    if boots != "1":
        notes.append("%s boots: the guest REBOOTED" % boots)
    if inter != "false":
        notes.append("interleaved=" + inter)
    if (num(silent) or 0) >= SILENT:
        notes.append("NO ANSWER after the move (%s ms until the probe ended)" % silent)
    if running != expect:
        notes.append("runs on: " + (running or "none"))
    return notes


def ratio(a, b):
    return None if a is None or not b else a / b


def ratio_text(q):
    return "-" if q is None else "%.2f" % q


def median_table(by, cols):
    """Print, for each column (name, index, keep), the median over the rows
    keep() accepts of each of the two systems of by (system -> its rows),
    with the number of rows, and the ratio first/second. Returns the
    medians as {(system, name): value or None}."""
    a, b = by
    print("%-10s %18s %18s %12s" % ("median", a, b, "%s/%s" % (a, b)))
    med = {}
    for name, i, keep in cols:
        txt = {}
        for k, rs in by.items():
            ok = [num(r[i]) for r in rs if keep(r) and num(r[i]) is not None]
            med[k, name] = statistics.median(ok) if ok else None
            txt[k] = cell(med[k, name]) + " (%d)" % len(ok)
        print("%-10s %18s %18s %12s" % (name, txt[a], txt[b], ratio_text(ratio(med[a, name], med[b, name]))))
    return med
