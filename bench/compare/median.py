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
    """Yields (op, layout, shape) and the numeric cells after them."""
    inside = False
    for line in open(path, encoding="utf-8"):
        if line.startswith("| op | layout | shape | copy ms"):
            inside = True
            continue
        if not inside:
            continue
        if not line.startswith("|"):
            return
        if line.startswith("| ---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        yield tuple(cells[:3]), [number(c) for c in cells[3:]]


def main(paths):
    runs, order = {}, []
    for path in paths:
        for key, cells in tables(path):
            if key not in runs:
                runs[key] = []
                order.append(key)
            runs[key].append(cells)
    print(f"Median of {len(paths)} runs of bench/compare/run.sh, cell by cell.\n")
    # Runs made with -reread have four more columns: simdbn, oneDNN, oneDNN
    # nChw16c and PyTorch, each op followed by a read of its output.
    reread = all(len(c) >= 13 for cells in runs.values() for c in cells)
    hdr = ("| op | layout | shape | copy ms | simdbn best | simdbn avx512 | simdbn avx2 | simdbn generic "
           "| oneDNN (same layout) | oneDNN nChw16c (primitive only) | PyTorch (contig / channels_last) "
           "| best peer | simdbn / best peer | memcpy |")
    ncols = 11
    if reread:
        hdr += (" simdbn +read | oneDNN +read | oneDNN nChw16c +read | PyTorch +read | best peer +read "
                "| simdbn / best peer, +read |")
        ncols += 6
    print(hdr)
    print("| --- | --- | --- |" + " ---: |" * ncols)
    for key in order:
        # copy, best, avx512, avx2, generic, oneDNN, nChw16c, PyTorch, memcpy
        # (and with -reread: simdbn, oneDNN, nChw16c, PyTorch, each +read)
        col = [median(c) for c in zip(*runs[key])]
        copy, _, avx512, avx2, generic, onednn, blocked, torch, memcpy = col[:9]
        best, impl = min((v, n) for v, n in ((avx512, "avx512"), (avx2, "avx2")) if v is not None)
        peer = min(v for v in (onednn, blocked, torch) if v is not None)
        line = (f"| {' | '.join(key)} | {fmt(copy, 3)} | **{fmt(best)}** ({impl}) | {fmt(avx512)} | {fmt(avx2)} "
                f"| {fmt(generic)} | {fmt(onednn)} | {fmt(blocked)} | {fmt(torch)} | {fmt(peer)} | {fmt(best / peer)} "
                f"| {fmt(memcpy)} |")
        if reread:
            own, onednn_r, blocked_r, torch_r = col[9:13]
            peer_r = min(v for v in (onednn_r, blocked_r, torch_r) if v is not None)
            line += (f" {fmt(own)} | {fmt(onednn_r)} | {fmt(blocked_r)} | {fmt(torch_r)} | {fmt(peer_r)} "
                     f"| {fmt(own / peer_r)} |")
        print(line)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
