#!/usr/bin/env bash
# Writes docs/ch1_rta.tex: the Advanced Guide's Chapter 1, Application 3
# (Table 3, the effects of regional trade agreements), all seven columns, as a
# LaTeX table from `gravity table --format latex`: OLS and PPML on
# international flows, domestic trade diversion, pair effects, the lead test,
# the phased-in lags and the globalisation dummies, with the totals of the lead
# and lag effects by --lincom; errors clustered by pair with the book's Stata
# convention (--ssc ppmlhdfe), so the cells are the book's. With a TeX engine
# on the PATH (Debian: texlive-latex-base texlive-latex-recommended) it also
# compiles the table in a minimal document, to check that it compiles as is,
# and leaves the PDF in ${OUT:-${TMPDIR:-/tmp}/gravity-ch1-rta}.
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build --release -q -p gravity-cli
G=target/release/gravity
DATA=tests/fixtures/agtpa/ch1_tables.csv.gz
FE="exporter^year + importer^year"
LAGS="rta + rta_lag4 + rta_lag8 + rta_lag12"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
fit() { # NAME FORMULA [options...]
  local name="$1" formula="$2"
  shift 2
  "$G" fit --data "$DATA" --formula "$formula" --vcov cluster:pair_id --ssc ppmlhdfe \
    --json "$@" > "$TMP/$name.json"
}
fit 1 "log(trade) ~ log(dist) + cntg + lang + clny + rta | $FE" --estimator ols \
  --subset "intl == 1 & trade > 0"
fit 2 "trade ~ log(dist) + cntg + lang + clny + rta | $FE" --subset "intl == 1"
fit 3 "trade ~ log(dist) + cntg + lang + clny + rta | $FE + intra_pair"
fit 4 "trade ~ rta | $FE + pair_sym"
fit 5 "trade ~ rta + rta_lead4 | $FE + pair_sym" --lincom "total=rta+rta_lead4"
fit 6 "trade ~ $LAGS | $FE + pair_sym" --lincom "total=rta+rta_lag4+rta_lag8+rta_lag12"
fit 7 "trade ~ $LAGS + i(year, intl, ref = 2006) | $FE + pair_sym" \
  --lincom "total=rta+rta_lag4+rta_lag8+rta_lag12"
"$G" table "$TMP"/{1,2,3,4,5,6,7}.json --format latex --digits 3 \
  --titles "OLS,PPML,Intra,Endog.,Lead,Phasing,Globalization" --out docs/ch1_rta.tex
echo "wrote docs/ch1_rta.tex" >&2
if command -v pdflatex > /dev/null; then
  OUT="${OUT:-${TMPDIR:-/tmp}/gravity-ch1-rta}"
  mkdir -p "$OUT"
  cp docs/ch1_rta.tex "$OUT/"
  cat > "$OUT/ch1_rta_doc.tex" <<'TEX'
\documentclass{article}
\usepackage[landscape,margin=2cm]{geometry}
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
