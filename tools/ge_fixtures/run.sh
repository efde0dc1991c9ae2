#!/bin/sh
# Regenerates tests/fixtures/ge/gegravity_*.json with gegravity in a throwaway venv.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
venv="${TMPDIR:-/tmp}/gravity-ge-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q gegravity
"$venv/bin/python" "$here/make_gegravity_fixtures.py" "$root/tests/fixtures/ge/gegravity_fta8.json"
