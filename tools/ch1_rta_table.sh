#!/usr/bin/env bash
# Writes docs/ch1_rta.tex: the Advanced Guide's Chapter 1, Application 3 RTA
# specifications (PPML with exporter-year, importer-year and pair fixed effects,
# pair-clustered; without and with the book's lags, and the total effect by
# --lincom) as a LaTeX table from `gravity table --format latex`. With a TeX
# engine on the PATH (Debian: texlive-latex-base texlive-latex-recommended) it
# also compiles the table in a minimal document, to check that it compiles as
# is, and leaves the PDF in ${OUT:-${TMPDIR:-/tmp}/gravity-ch1-rta}.
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build --release -q -p gravity-cli
G=target/release/gravity
DATA=tests/fixtures/inference/ch1_rta_lags.csv.gz
FE="exporter^year + importer^year + pair_sym"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$G" fit --data "$DATA" --formula "trade ~ rta | $FE" --vcov cluster:cluster_pair \
  --json > "$TMP/rta.json"
"$G" fit --data "$DATA" --formula "trade ~ rta + rta_lag4 + rta_lag8 + rta_lag12 | $FE" \
  --vcov cluster:cluster_pair --lincom "total=rta+rta_lag4+rta_lag8+rta_lag12" \
  --json > "$TMP/lags.json"
"$G" table "$TMP/rta.json" "$TMP/lags.json" --format latex --digits 3 \
  --titles "(4) RTA,(5) RTA lags" --out docs/ch1_rta.tex
echo "wrote docs/ch1_rta.tex" >&2
if command -v pdflatex > /dev/null; then
  OUT="${OUT:-${TMPDIR:-/tmp}/gravity-ch1-rta}"
  mkdir -p "$OUT"
  cp docs/ch1_rta.tex "$OUT/"
  cat > "$OUT/ch1_rta_doc.tex" <<'TEX'
\documentclass{article}
\usepackage{booktabs}
\begin{document}
\input{ch1_rta.tex}
\end{document}
TEX
  (cd "$OUT" && pdflatex -interaction=nonstopmode -halt-on-error ch1_rta_doc.tex > /dev/null)
  echo "compiled: $OUT/ch1_rta_doc.pdf" >&2
else
  echo "no pdflatex: not compiled" >&2
fi
