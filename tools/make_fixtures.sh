#!/usr/bin/env bash
# Regenerates every committed fixture under tests/fixtures/ from scratch:
#   1. tools/setup_venv.sh  (throwaway venv with pinned numpy/pandas/scipy/pyfixest/statsmodels)
#   2. tools/fixtures/*.py  (each script writes its own files)
# Run from anywhere; paths are relative to the repository root.
#   SHARED  shared data/bench directory (default: ../shared from the repo root)
#   VENV    venv directory (default: ${TMPDIR:-/tmp}/gravity-tools-venv)
# Python is never needed to run the Rust tests: they read the committed files.
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export SHARED="${SHARED:-../shared}"
export VENV="${VENV:-${TMPDIR:-/tmp}/gravity-tools-venv}"
if [ ! -f "$SHARED/bench/gen_panel.py" ]; then
  echo "make_fixtures: $SHARED/bench/gen_panel.py not found; set SHARED=/path/to/shared" >&2
  exit 1
fi
bash tools/setup_venv.sh
PY="$VENV/bin/python"
# single-threaded BLAS keeps runs reproducible and polite on a shared 2-core machine
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 RAYON_NUM_THREADS=1
for s in parity statsmodels_small agtpa agtpa_ch2 separation weights formula inference; do
  echo "== tools/fixtures/$s.py" >&2
  "$PY" "tools/fixtures/$s.py"
done
# every JSON fixture must be well-formed
for j in tests/fixtures/*/*.json; do
  "$PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$j"
done
echo "fixtures regenerated under tests/fixtures/" >&2
