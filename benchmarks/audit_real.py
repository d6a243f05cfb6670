"""Measure the audit on the public documents of tests/audit/real/: per document its links, decided,
holds, notation, conditional, wrong values, not decidable, its labelled errors found, false alarms
(wrong values on lines its labels do not call errors), the median time of three in-process audits on
one thread, and its top reasons for not decidable; then the collection's decided share.

    python benchmarks/audit_real.py [--runs 3] [--reasons 3]
"""

import argparse
import statistics
import sys
import time
import tomllib
from pathlib import Path

from threadpoolctl import threadpool_limits

import jacobian_sym as js
from jacobian_sym.audit import verdicts as A

REAL = Path(__file__).resolve().parent.parent / "tests" / "audit" / "real"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reasons", type=int, default=3)
    args = parser.parse_args()
    total = decided = found = labelled = false_alarms = 0
    print(f"{'document':<28} {'links':>5} {'dec':>4} {'hold':>4} {'not':>4} {'cond':>4} {'wrong':>5} {'undec':>5}"
          f" {'err found':>9} {'false':>5} {'median s':>8}")
    with threadpool_limits(1):
        for doc in sorted(p for p in REAL.iterdir() if p.suffix in (".md", ".tex")):
            labels = tomllib.loads(doc.with_suffix(".labels.toml").read_text(encoding="utf-8"))
            times, report = [], None
            for _ in range(args.runs):
                start = time.perf_counter()
                report = js.audit(doc)
                times.append(time.perf_counter() - start)
            wrong = {link.line for link in report.links if link.verdict == A.FAILS}
            errors = {e["line"] for e in labels.get("error", [])}
            total += len(report.links)
            decided += report.decided
            labelled += len(errors)
            found += len(errors & wrong)
            false_alarms += len(wrong - errors)
            print(f"{doc.name:<28} {len(report.links):>5} {report.decided:>4} {report.count(A.HOLDS):>4} "
                  f"{report.count(A.NOTATION):>4} {report.count(A.CONDITIONAL):>4} {report.count(A.FAILS):>5} "
                  f"{report.count(A.UNDECIDABLE):>5} {len(errors & wrong):>4}/{len(errors):<4} "
                  f"{len(wrong - errors):>5} {statistics.median(times):>8.2f}")
            for r in report.undecided_reasons(args.reasons):
                print(f"      {r.count:>3} × {r.kind}  (e.g. line {r.example[0]})")
    share = 100 * decided / total if total else 0.0
    print(f"\ncollection: {total} links, {decided} decided ({share:.0f} %), labelled errors found {found}/{labelled}, "
          f"false alarms {false_alarms}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
