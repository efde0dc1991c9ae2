#!/usr/bin/env python3
"""gravity_model.fepois against pyfixest.fepois, side by side in one run, on
the 450k-row synthetic panel of ../shared/bench/gen_panel.py (--size medium
--seed 1: 150 countries, 20 years).

    python python/bench/fepois_vs_pyfixest.py [--reps 5] [--shared ../shared] [--csv FILE]
                                              [--pyfixest-backend numba|rust]

Both fit the three-way PPML
    trade ~ rta + sanction | exporter^year + importer^year + exporter^importer
with standard errors clustered by pair, each with its own defaults otherwise
(pyfixest 0.60: MAP demeaner with the numba backend, separation_check ["fe"];
--pyfixest-backend rust gives it MapDemeaner(backend="rust") instead;
gravity_model: separation by the fixed effects and the ReLU check). The
timed call is the whole call from a pandas DataFrame (conversion of the
columns included). After one warm-up call each (pyfixest compiles with
numba), the two are timed alternately --reps times; the medians, their ratio
and the coefficients of both are printed.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

FML = "trade ~ rta + sanction | exporter^year + importer^year + exporter^importer"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--shared", default=os.path.join(here, "..", "..", "..", "shared"))
    ap.add_argument("--csv", help="an existing panel instead of generating one")
    ap.add_argument("--pyfixest-backend", choices=["default", "numba", "rust"], default="default",
                    help="pyfixest's MAP demeaner back-end (default: pyfixest's own default)")
    args = ap.parse_args()

    import gravity_model as gm
    import pyfixest as pf

    with tempfile.TemporaryDirectory() as tmp:
        path = args.csv
        if path is None:
            path = os.path.join(tmp, "medium.csv")
            gen = os.path.join(args.shared, "bench", "gen_panel.py")
            subprocess.run([sys.executable, gen, "--size", "medium", "--seed", "1", "--out", path], check=True)
        df = pd.read_csv(path)
    df["pair"] = df["exporter"] + "_" + df["importer"]
    print(f"panel: {len(df):,} rows; pyfixest {pf.__version__}, pandas {pd.__version__}, "
          f"gravity_model {gm.__version__}; {os.cpu_count()} CPUs", flush=True)

    def ours():
        return gm.fepois(FML, df, vcov={"CRV1": "pair"})

    extra = {}
    if args.pyfixest_backend != "default":
        from pyfixest.demeaners import MapDemeaner

        extra["demeaner"] = MapDemeaner(backend=args.pyfixest_backend)
    print(f"pyfixest demeaner: {args.pyfixest_backend}", flush=True)

    def theirs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pf.fepois(FML, data=df, vcov={"CRV1": "pair"}, **extra)

    def timed(f):
        t0 = time.perf_counter()
        m = f()
        return time.perf_counter() - t0, m

    _, a = timed(ours)
    _, b = timed(theirs)
    times = {"gravity_model": [], "pyfixest": []}
    for _ in range(args.reps):
        t, a = timed(ours)
        times["gravity_model"].append(t)
        t, b = timed(theirs)
        times["pyfixest"].append(t)
    for name, ts in times.items():
        print(f"{name:14s} median {statistics.median(ts):7.3f} s  runs " + " ".join(f"{t:.3f}" for t in ts))
    ratio = statistics.median(times["pyfixest"]) / statistics.median(times["gravity_model"])
    print(f"ratio (pyfixest / gravity_model, medians): {ratio:.1f}x")
    print(f"nobs: gravity_model {a.nobs:,}, pyfixest {b._N:,}")
    print(pd.DataFrame({"gravity_model": a.coef(), "pyfixest": b.coef(),
                        "se gravity_model": a.se(), "se pyfixest": b.se()}).to_string())


if __name__ == "__main__":
    main()
