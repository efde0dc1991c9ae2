#!/usr/bin/env bash
# The Python package's test suite, from nothing: a throwaway virtual
# environment, `pip install ./python` (maturin builds the extension with the
# Rust toolchain), the peers and test tools from PyPI, the `gravity` CLI the
# tests compare with, then pytest. Nothing is cached; the venv is removed.
#
#   python/run_tests.sh                 # from anywhere
#   PYTHON=python3.12 python/run_tests.sh
#   KEEP_VENV=1 python/run_tests.sh     # keep the venv (its path is printed)
#   python/run_tests.sh -k parity       # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
# The versions the suite was written against (tools/README.md pins the same
# numpy, pandas and pyfixest for the fixtures).
PINS=(numpy==2.4.6 pandas==3.1.1 pyfixest==0.60.0 polars==2.1.0 pytest==9.2.0)

VENV="$(mktemp -d "${TMPDIR:-/tmp}/gravity-python-venv.XXXXXX")"
if [ -z "${KEEP_VENV:-}" ]; then
  trap 'rm -rf "$VENV"' EXIT
else
  echo "venv: $VENV"
fi
pip=("$VENV/bin/pip" install -q --disable-pip-version-check)

t=$SECONDS
"$PYTHON" -m venv "$VENV"
"${pip[@]}" "${PINS[@]}"
echo "python: venv and ${PINS[*]}: $((SECONDS - t)) s"

t=$SECONDS
"${pip[@]}" ./python
echo "python: pip install ./python: $((SECONDS - t)) s"

t=$SECONDS
cargo build --release -q -p gravity-cli
target_dir="$(cargo metadata --format-version 1 --no-deps | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
echo "python: the gravity CLI for the comparisons: $((SECONDS - t)) s"

t=$SECONDS
# Run from outside the source tree, so that the installed package is tested.
(cd python/tests && GRAVITY_BIN="$target_dir/release/gravity" "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@" .)
echo "python: pytest: $((SECONDS - t)) s"
