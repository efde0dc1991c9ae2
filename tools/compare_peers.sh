#!/usr/bin/env bash
# Time `gravity fit` against pyfixest (Rust demeaning back-end, its fastest) on
# one gravity-panel CSV, alternating runs: ours, peer, ours, peer, ...
#
#   tools/compare_peers.sh [--outcome COL] [--ir] PANEL.csv [RUNS]   (RUNS default 3)
#
# --outcome COL: PANEL is the shipped panel (data/gravity_panel.csv.gz) or one
#   built like it; COL (trade, trade_goods, trade_agriculture,
#   trade_mining_energy or trade_services) becomes `trade`, fta `rta` and
#   sanction_trade `sanction` in a temporary CSV of the rows where COL is
#   present, which both sides then read (the peer script's column names).
# --penppml: PANEL is penppml's long-run panel (../shared/data/penppml_trade/
#   trade.csv): export becomes `trade`, cp_prov_23 `rta`, exp/imp
#   `exporter`/`importer`, and `sanction` is a column of zeros (both sides
#   drop it as collinear), in a temporary CSV.
# --ir: pyfixest also runs its iterative-rectifier check
#   (separation_check=["fe","ir"]; the default is ["fe"], fixest's).
#
# Model (both sides):
#   trade ~ rta + sanction | exporter^year + importer^year + exporter^importer
#   PPML, standard errors clustered by pair (exporter^importer), fixest ssc.
# Make a panel with ../shared/bench/gen_panel.py, e.g.
#   python3 ../shared/bench/gen_panel.py --size medium --seed 1 --out /tmp/medium.csv
#
# Ours: target/release/gravity fit --json (built here if missing). Reported:
#   estimate_s  timings.estimate_s, the IRLS loop alone;
#   fit_s       prepare_s + estimate_s + inference_s: the whole estimation call
#               without the CSV read, the same span pyfixest's timing covers;
#   wall_s      the whole process, CSV read included.
# Peer: ../shared/bench/peer_py.py pyfixest-rust a FILE --runs 1 (one warm-up
#   fit, then one timed fit of pf.fepois, CSV read excluded), in the venv
#   $VENV (default ${TMPDIR:-/tmp}/gravity-peers; created with
#   ../shared/bench/setup_peers.sh when missing).
# Peak memory (max RSS of each process) via /usr/bin/time -v when present.
# R/fixest is not compared: it cannot be installed on these machines (no CRAN).
set -euo pipefail
cd "$(dirname "$0")/.."
outcome=""; peer_name="pyfixest-rust"
while [ $# -gt 0 ]; do
  case "$1" in
    --outcome) outcome="$2"; shift 2 ;;
    --ir) peer_name="pyfixest-rust+ir"; shift ;;
    --penppml) outcome="@penppml"; shift ;;
    *) break ;;
  esac
done
file="${1:?usage: tools/compare_peers.sh [--outcome COL] [--ir] PANEL.csv [RUNS]}"
runs="${2:-3}"
# the shared peer scripts: $SHARED, else ../shared/bench (a checkout next to
# ../shared), else ../../shared/bench (a worktree one level deeper)
shared="${SHARED:-}"
if [ -z "$shared" ]; then
  for d in ../shared/bench ../../shared/bench; do
    [ -f "$d/peer_py.py" ] && { shared="$d"; break; }
  done
fi
[ -f "${shared:-.}/peer_py.py" ] || { echo "peer_py.py not found: set SHARED=/path/to/shared/bench" >&2; exit 1; }
VENV="${VENV:-${TMPDIR:-/tmp}/gravity-peers}"
export VENV
py="$VENV/bin/python"
bin=target/release/gravity
formula='trade ~ rta + sanction | exporter^year + importer^year + exporter^importer'

if [ ! -x "$py" ] || ! "$py" -c 'import pyfixest' 2>/dev/null; then
  echo "# no pyfixest in $VENV: installing it (pip) ..." >&2
  if [ -x "$shared/setup_peers.sh" ] || [ -f "$shared/setup_peers.sh" ]; then
    bash "$shared/setup_peers.sh" >&2 || {
      # the shared script also wants econhdfe/fasthdfe; pyfixest alone is enough here
      python3 -m venv "$VENV" && "$VENV/bin/pip" install -q numpy pandas pyfixest >&2
    }
  else
    python3 -m venv "$VENV" && "$VENV/bin/pip" install -q numpy pandas pyfixest >&2
  fi
fi
[ -x "$bin" ] || cargo build --release --bin gravity >&2

timev=()
if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
  timev=(/usr/bin/time -v -o)
else
  echo "# /usr/bin/time -v not available: no peak memory (apt-get install time)" >&2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
peak_mb() { # peak RSS in MB from a /usr/bin/time -v file, or -
  [ -s "$1" ] && awk -F': ' '/Maximum resident set size/ {printf "%d", $2/1024}' "$1" || echo -
}
run_timed() { # OUT TV CMD...: run CMD, stdout to OUT; print the wall seconds
  local out="$1" tv="$2"; shift 2
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  if [ ${#timev[@]} -gt 0 ]; then "${timev[@]}" "$tv" "$@" > "$out" 2> "$out.err" || rc=$?
  else "$@" > "$out" 2> "$out.err" || rc=$?; fi
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'
  return $rc
}

if [ -n "$outcome" ]; then
  python3 - "$file" "$outcome" "$tmp/panel.csv" <<'PY'
import csv, gzip, sys
src, col, out = sys.argv[1:]
if col == "@penppml":
    with open(src, newline="") as f, open(out, "w", newline="") as g:
        w = csv.writer(g)
        w.writerow(["exporter", "importer", "year", "trade", "rta", "sanction"])
        for row in csv.DictReader(f):
            if row["export"] != "":
                w.writerow([row["exp"], row["imp"], row["year"], row["export"],
                            row["cp_prov_23"], 0])
    sys.exit(0)
opener = gzip.open if src.endswith(".gz") else open
with opener(src, "rt", newline="") as f, open(out, "w", newline="") as g:
    r = csv.DictReader(f)
    if col not in r.fieldnames:
        sys.exit(f"{src}: no column '{col}' (columns: {', '.join(r.fieldnames)})")
    w = csv.writer(g)
    w.writerow(["exporter", "importer", "year", "trade", "rta", "sanction"])
    for row in r:
        if row[col] != "":
            w.writerow([row["exporter"], row["importer"], row["year"], row[col],
                        row["fta"], row["sanction_trade"]])
PY
  echo "# $file, outcome $outcome: $tmp/panel.csv"
  file="$tmp/panel.csv"
fi
rows=$(($(wc -l < "$file") - 1))
echo "# $file: $rows rows; $runs alternating runs; peer $peer_name; $(nproc) cores; $(date -u +%FT%TZ)"
printf '%-4s %-10s %10s %10s %10s %8s\n' run who estimate_s fit_s wall_s peak_MB
: > "$tmp/ours.tsv"; : > "$tmp/peer.tsv"
for r in $(seq 1 "$runs"); do
  w=$(run_timed "$tmp/ours.json" "$tmp/ours.tv" "$bin" fit --data "$file" --formula "$formula" \
      --vcov 'cluster:exporter^importer' --ssc fixest --json) || {
    echo "gravity fit failed:" >&2; cat "$tmp/ours.json.err" >&2; exit 1; }
  read -r est fitc < <(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timings"]
print("%.3f %.3f" % (t["estimate_s"], t["prepare_s"] + t["estimate_s"] + t["inference_s"]))' "$tmp/ours.json")
  mem=$(peak_mb "$tmp/ours.tv")
  printf '%-4s %-10s %10s %10s %10s %8s\n' "$r" gravity "$est" "$fitc" "$w" "$mem"
  printf '%s\t%s\t%s\t%s\n' "$est" "$fitc" "$w" "$mem" >> "$tmp/ours.tsv"

  w=$(run_timed "$tmp/peer.out" "$tmp/peer.tv" "$py" "$shared/peer_py.py" "$peer_name" a "$file" --runs 1) || {
    echo "pyfixest failed:" >&2; tail -5 "$tmp/peer.out.err" >&2; exit 1; }
  res=$(grep '^RESULT' "$tmp/peer.out" | tail -1) || {
    echo "pyfixest printed no RESULT line:" >&2; tail -5 "$tmp/peer.out.err" >&2; exit 1; }
  pf=$(sed -n 's/.* wall_med=\([^ ]*\).*/\1/p' <<< "$res")
  mem=$(peak_mb "$tmp/peer.tv")
  printf '%-4s %-10s %10s %10s %10s %8s\n' "$r" pyfixest - "$pf" "$w" "$mem"
  printf '%s\t%s\t%s\t%s\n' - "$pf" "$w" "$mem" >> "$tmp/peer.tsv"
done

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "-"; else if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
col() { cut -f"$2" "$1" | grep -v '^-$' | median; }
o_est=$(col "$tmp/ours.tsv" 1); o_fit=$(col "$tmp/ours.tsv" 2); o_wall=$(col "$tmp/ours.tsv" 3); o_mem=$(col "$tmp/ours.tsv" 4 | awk '{printf "%.0f", $1}')
p_fit=$(col "$tmp/peer.tsv" 2); p_wall=$(col "$tmp/peer.tsv" 3); p_mem=$(col "$tmp/peer.tsv" 4 | awk '{printf "%.0f", $1}')
echo
echo "# medians over $runs runs (fit_s: estimation call without the CSV read)"
printf '%-10s %10s %10s %10s %8s\n' who estimate_s fit_s wall_s peak_MB
printf '%-10s %10s %10s %10s %8s\n' gravity "$o_est" "$o_fit" "$o_wall" "$o_mem"
printf '%-10s %10s %10s %10s %8s\n' pyfixest - "$p_fit" "$p_wall" "$p_mem"
awk -v a="$o_fit" -v b="$p_fit" -v c="$o_wall" -v d="$p_wall" 'BEGIN {
  if (a > 0 && b > 0) printf "ratio gravity/pyfixest: fit %.2f  wall %.2f  (< 1: gravity faster)\n", a / b, c / d }'
echo
echo "# coefficients (standard errors clustered by pair)"
printf 'gravity   '
python3 -c 'import json,sys
for c in json.load(open(sys.argv[1]))["coefficients"]:
    print("%s=%.5f(%.5f)" % (c["name"], c["estimate"], c["std_error"]), end=" ")
print()' "$tmp/ours.json"
echo "pyfixest  ${res#*coef(se)= }"
