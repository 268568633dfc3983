#!/usr/bin/env python3
"""Median, cell by cell, of the ratio tables of several run.sh reports.

    python3 bench/compare/median.py run1.md run2.md run3.md > median.md

The machine is shared: one run's cells move by up to 30% with the neighbours'
load, and not all cells of a run move together. The median of a few runs,
minutes apart, is steadier. Each numeric column is the median of its runs;
"simdbn best" is the lower of the avx512 and avx2 medians; "best peer" is
the lowest median among oneDNN (same layout), oneDNN nChw16c and PyTorch,
and "simdbn / best peer" is below 1 where simdbn is faster.
"""
import re
import statistics
import sys


def number(cell):
    m = re.match(r"^\**([0-9.]+)", cell.strip())
    return float(m.group(1)) if m else None


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=2):
    return "—" if v is None else f"{v:.{digits}f}"


def tables(path):
    """Yields (op, layout, shape) and a dict of the numeric cells after them,
    by column name."""
    names = None
    for line in open(path, encoding="utf-8"):
        if line.startswith("| op | layout | shape | copy ms"):
            names = [c.strip() for c in line.strip().strip("|").split("|")]
            continue
        if names is None:
            continue
        if not line.startswith("|"):
            return
        if line.startswith("| ---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        yield tuple(cells[:3]), {n: number(c) for n, c in zip(names[3:], cells[3:])}


BASE = ["copy ms", "simdbn best", "simdbn avx512", "simdbn avx2", "simdbn generic",
        "oneDNN (same layout)", "oneDNN nChw16c (primitive only)", "PyTorch (contig / channels_last)"]
PEERS = BASE[5:]
# Columns of runs made with -reread: each op followed by a read of its output.
READ_PEERS = ["oneDNN +read", "oneDNN nChw16c +read", "PyTorch +read"]


def main(paths):
    runs, order, extra = {}, [], []
    for path in paths:
        for key, cells in tables(path):
            if key not in runs:
                runs[key] = []
                order.append(key)
            runs[key].append(cells)
            for n in cells:
                if n not in BASE and n != "memcpy" and n not in extra:
                    extra.append(n)
    reread = "simdbn +read" in extra
    print(f"Median of {len(paths)} runs of bench/compare/run.sh, cell by cell.\n")
    hdr = BASE + ["best peer", "simdbn / best peer", "memcpy"] + extra
    if reread:
        hdr += ["best peer +read", "simdbn / best peer, +read"]
    print("| op | layout | shape | " + " | ".join(hdr) + " |")
    print("| --- | --- | --- |" + " ---: |" * len(hdr))
    for key in order:
        col = {}
        for n in BASE + ["memcpy"] + extra:
            col[n] = median([c.get(n) for c in runs[key]])
        best, impl = min((v, n) for v, n in ((col["simdbn avx512"], "avx512"), (col["simdbn avx2"], "avx2"))
                         if v is not None)
        peer = min(col[n] for n in PEERS if col[n] is not None)
        cells = [fmt(col["copy ms"], 3), f"**{fmt(best)}** ({impl})"]
        cells += [fmt(col[n]) for n in BASE[2:]]
        cells += [fmt(peer), fmt(best / peer), fmt(col["memcpy"])]
        cells += [fmt(col[n]) for n in extra]
        if reread:
            peer_r = min(col[n] for n in READ_PEERS if col.get(n) is not None)
            cells += [fmt(peer_r), fmt(col["simdbn +read"] / peer_r)]
        print(f"| {' | '.join(key)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
