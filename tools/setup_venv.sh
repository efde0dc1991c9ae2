#!/usr/bin/env bash
# Creates a throwaway Python virtual environment with the PEER estimators used to
# generate test fixtures (pyfixest, statsmodels). Never a dependency of the crate:
# the Rust tests read only the committed files under tests/fixtures/.
#
#   tools/setup_venv.sh            # venv at ${TMPDIR:-/tmp}/gravity-tools-venv
#   VENV=/some/dir tools/setup_venv.sh
#
# Idempotent: re-running reuses the venv and only installs what is missing or
# differs from the pins below.
set -eu
VENV="${VENV:-${TMPDIR:-/tmp}/gravity-tools-venv}"

# Pinned versions (those that installed on 2026-11-23; see tools/README.md).
PINS=(
  "numpy==2.4.6"
  "pandas==3.1.1"
  "scipy==1.17.1"
  "pyfixest==0.60.0"
  "statsmodels==0.15.0"
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
"$VENV/bin/python" -c 'import numpy, pandas, scipy, pyfixest, statsmodels; print("tools venv ready:", "numpy", numpy.__version__, "pandas", pandas.__version__, "scipy", scipy.__version__, "pyfixest", pyfixest.__version__, "statsmodels", statsmodels.__version__)'
echo "VENV=$VENV"
