#!/usr/bin/env bash
# Writes the shipped ITPD-E panel (data/gravity_panel.csv.gz) in the column
# layout of ../shared/bench (exporter, importer, year, trade, rta, sanction),
# so tools/compare_peers.sh can time gravity and pyfixest on the real,
# unbalanced panel with the same model:
#   trade ~ rta + sanction | exporter^year + importer^year + exporter^importer
# with rta = fta and sanction = sanction_trade.
#
#   tools/itpd_bench_panel.sh /tmp/itpd.csv && tools/compare_peers.sh /tmp/itpd.csv 3
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: tools/itpd_bench_panel.sh OUT.csv}"
zcat data/gravity_panel.csv.gz | awk -F, 'BEGIN { OFS = "," }
  NR == 1 {
    for (k = 1; k <= NF; k++) col[$k] = k
    split("exporter importer year trade fta sanction_trade", need, " ")
    for (k in need) if (!(need[k] in col)) { print "missing column " need[k] > "/dev/stderr"; exit 1 }
    print "exporter,importer,year,trade,rta,sanction"
    next
  }
  { print $col["exporter"], $col["importer"], $col["year"], $col["trade"], $col["fta"], $col["sanction_trade"] }' > "$out"
echo "wrote $out ($(($(wc -l < "$out") - 1)) rows)" >&2
