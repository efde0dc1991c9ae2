#!/usr/bin/env python3
"""Summarise criterion results and compare them with a committed reference.

  tools/bench_summary.py [--criterion DIR] [--baseline FILE] [--newer-than FILE]
                         [--write-baseline FILE] [--warn-ratio 1.5]

Reads every DIR/**/new/estimates.json (default DIR: target/criterion) with its
benchmark.json, and prints one line per benchmark:

  bench  median_s  ref_s  ratio

ref_s comes from the baseline file (default benches/baseline.json, if it
exists): {"benches": {"demean/balanced_200k/1fe": 0.0123, ...}, ...}.
A ratio above --warn-ratio prints a WARNING line; the exit status is always 0
(timings on shared CI machines are too noisy to fail on).  --newer-than skips
results older than the given file (CI touches a marker before running).
--write-baseline writes the medians of this run as a new reference.
Python 3 standard library only.
"""

import argparse
import json
import os
import sys
import time


def collect(root, newer_than=None):
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
            continue
        est = os.path.join(dirpath, "estimates.json")
        if newer_than is not None and os.path.getmtime(est) < newer_than:
            continue
        name = os.path.relpath(os.path.dirname(dirpath), root)
        meta = os.path.join(dirpath, "benchmark.json")
        if os.path.exists(meta):
            with open(meta) as f:
                name = json.load(f).get("full_id", name)
        with open(est) as f:
            median_ns = json.load(f)["median"]["point_estimate"]
        out[name] = median_ns / 1e9
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--criterion",
        default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "criterion"),
    )
    ap.add_argument("--baseline", default="benches/baseline.json")
    ap.add_argument("--newer-than", default=None)
    ap.add_argument("--write-baseline", default=None)
    ap.add_argument("--warn-ratio", type=float, default=1.5)
    a = ap.parse_args()

    newer = os.path.getmtime(a.newer_than) if a.newer_than else None
    res = collect(a.criterion, newer)
    if not res:
        print(f"no criterion results under {a.criterion}", file=sys.stderr)
        return 0
    ref = {}
    if a.baseline and os.path.exists(a.baseline):
        with open(a.baseline) as f:
            ref = json.load(f).get("benches", {})

    width = max(len(k) for k in res)
    print(f"{'bench':<{width}}  {'median_s':>10}  {'ref_s':>10}  {'ratio':>6}")
    warn = []
    for name in sorted(res):
        m = res[name]
        r = ref.get(name)
        if r:
            ratio = m / r
            print(f"{name:<{width}}  {m:>10.6f}  {r:>10.6f}  {ratio:>6.2f}")
            if ratio > a.warn_ratio:
                warn.append((name, ratio))
        else:
            print(f"{name:<{width}}  {m:>10.6f}  {'-':>10}  {'-':>6}")
    for name, ratio in warn:
        print(f"WARNING: {name} is {ratio:.2f}x its reference in {a.baseline} "
              f"(> {a.warn_ratio}x; noisy machine? re-run before worrying)")
    if not ref:
        print(f"(no reference at {a.baseline}; write one with --write-baseline)")

    if a.write_baseline:
        doc = {
            "note": "criterion medians (seconds) from .ci/run's short mode; "
            "regenerate with tools/bench_summary.py --write-baseline benches/baseline.json",
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": f"{os.cpu_count()} cores",
            "benches": {k: round(v, 6) for k, v in sorted(res.items())},
        }
        with open(a.write_baseline, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"wrote {a.write_baseline}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
