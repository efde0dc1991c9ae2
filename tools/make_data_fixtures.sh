#!/usr/bin/env bash
# Regenerates tests/fixtures/formats/ (the Stata .dta and Parquet copies of
# tests/fixtures/parity/statsmodels_small.csv) in a throwaway venv with pinned
# numpy, pandas and pyarrow. Needs nothing from ../shared.
#   VENV  venv directory (default: ${TMPDIR:-/tmp}/gravity-formats-venv)
# Python is never needed to run the Rust tests: they read the committed files.
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-${TMPDIR:-/tmp}/gravity-formats-venv}"
# Pinned versions (those that installed on 2026-12-02; see tools/README.md).
PINS=(
  "numpy==2.4.6"
  "pandas==3.1.1"
  "pyarrow==26.0.1"
)
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" - "${PINS[@]}" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    if version(name) != want:
        sys.exit(1)
PY
then
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PINS[@]}"
fi
"$VENV/bin/python" tools/fixtures/formats.py
echo "fixtures regenerated under tests/fixtures/formats/" >&2
