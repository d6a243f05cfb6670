"""Benchmark: reading and auditing documents of 25, 50 and 100 KB, Markdown and LaTeX (medians).

The documents are real ones cut to size: Markdown from this repository's README, its docs and the
public excerpts under tests/audit (d2l's backprop section); LaTeX from the rendered derivations and
the dlbook notation excerpt. Each is repeated until it reaches the size, then cut at a line.

    python benchmarks/documents.py            # read_document and js.audit, in this process
    python benchmarks/documents.py --cli      # also `jacobian-sym audit FILE` from a cold process
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import jacobian_sym as js
from jacobian_sym.audit.document import read_document

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {
    "markdown": [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "tests/audit/d2l_backprop.md",
                 ROOT / "tests/audit/least_squares.md"],
    "latex": [*sorted((ROOT / "derivations").glob("*.tex")), ROOT / "tests/audit/dlbook_notation.tex",
              ROOT / "tests/audit/hidden_layer.tex"],
}
SUFFIX = {"markdown": ".md", "latex": ".tex"}


def document(kind: str, size: int) -> str:
    """The kind's sources, one after another (again from the first when they run out), cut to ``size``
    characters at a line end."""
    parts, total = [], 0
    while total < size:
        for path in SOURCES[kind]:
            text = path.read_text(encoding="utf-8") + "\n\n"
            parts.append(text)
            total += len(text)
            if total >= size:
                break
    text = "".join(parts)[:size]
    return text[:text.rfind("\n") + 1]


def median_seconds(run, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cli_seconds(text: str, kind: str, repeats: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"bench{SUFFIX[kind]}"
        path.write_text(text, encoding="utf-8")
        command = [shutil.which("jacobian-sym"), "audit", str(path)]
        return median_seconds(lambda: subprocess.run(command, capture_output=True, check=False), repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", action="store_true", help="Also time the command line from a cold process.")
    parser.add_argument("--repeats", type=int, default=3, help="Runs per measurement (the median is printed).")
    args = parser.parse_args()
    print(f"{'kind':<9} {'KB':>4} {'read s':>8} {'audit s':>8} {'links':>6}" + (f" {'cli s':>7}" if args.cli else ""))
    for kind in ("markdown", "latex"):
        for kb in (25, 50, 100):
            text = document(kind, kb * 1000)
            read = median_seconds(lambda text=text, kind=kind: read_document(text, "bench", kind), args.repeats)
            report = js.audit(text, kind=kind)
            audit = median_seconds(lambda text=text, kind=kind: js.audit(text, kind=kind), args.repeats)
            row = f"{kind:<9} {kb:>4} {read:>8.3f} {audit:>8.2f} {len(report.links):>6}"
            if args.cli:
                row += f" {cli_seconds(text, kind, args.repeats):>7.2f}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
