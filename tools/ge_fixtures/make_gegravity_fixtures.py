"""Build GE fixtures with gegravity (USITC) for tests/ge_gegravity.rs.

A synthetic 8-country world: trade costs t_ij^(1-sigma) = exp(b'x_ij) with
x = (ldist, pta, international), a baseline trade matrix built from a gravity
law plus noise (so trade is imbalanced), and an FTA shock (pta = 1 among
three countries). gegravity's OneSectorGE solves baseline, conditional and
its "full GE"; we write inputs and per-country results to JSON.
"""
import json
import math
import sys

import numpy as np
import pandas as pd
import gegravity as ge

out_path = sys.argv[1]
rng = np.random.default_rng(20240601)
countries = ["ARG", "BRA", "CAN", "DEU", "FRA", "JPN", "MEX", "USA"]
n = len(countries)
sigma = 5.0
reference = "DEU"
coef = {"ldist": -0.8, "pta": 0.5, "international": -2.0}
pos = rng.uniform(0, 10, size=(n, 2))
size = rng.uniform(1, 20, size=n)
pta0 = np.zeros((n, n))
for a, b in [("DEU", "FRA")]:
    i, j = countries.index(a), countries.index(b)
    pta0[i, j] = pta0[j, i] = 1
rows = []
for i in range(n):
    for j in range(n):
        d = np.linalg.norm(pos[i] - pos[j]) if i != j else 0.3
        intl = 0.0 if i == j else 1.0
        phi = math.exp(coef["ldist"] * math.log(d) + coef["pta"] * pta0[i, j] + coef["international"] * intl)
        trade = size[i] * size[j] * phi * rng.uniform(0.7, 1.3) * 1000
        rows.append(dict(exporter=countries[i], importer=countries[j], year="2006",
                         trade=trade, ldist=math.log(d), pta=pta0[i, j], international=intl))
df = pd.DataFrame(rows)
df["Y"] = df.groupby("exporter")["trade"].transform("sum")
df["E"] = df.groupby("importer")["trade"].transform("sum")

baseline = ge.BaselineData(df, imp_var_name="importer", exp_var_name="exporter", year_var_name="year",
                           trade_var_name="trade", expend_var_name="E", output_var_name="Y")
coeffs = ge.CostCoeffs(estimates=pd.DataFrame([{"var": k, "coeff": v} for k, v in coef.items()]),
                       identifier_col="var", coeff_col="coeff")
model = ge.OneSectorGE(baseline, year="2006", expend_var_name="E", output_var_name="Y",
                       cost_coeff_values=coeffs, cost_variables=list(coef), reference_importer=reference,
                       sigma=sigma, quiet=True)
model.build_baseline(omr_rescale=1, mr_tolerance=1e-12, mr_max_iter=100000)
fta = ["CAN", "MEX", "USA"]
exp_data = model.baseline_data.copy()
sel = exp_data["exporter"].isin(fta) & exp_data["importer"].isin(fta) & (exp_data["exporter"] != exp_data["importer"])
exp_data.loc[sel, "pta"] = 1.0
model.define_experiment(exp_data)
model.simulate(ge_tolerance=1e-12, ge_max_iter=100000)
for k, v in model.solver_diagnostics.items():
    # scipy may report "xtol too small" at machine precision: judge the residual
    assert np.max(np.abs(v.fun)) < 1e-10, (k, v.message, np.max(np.abs(v.fun)))
residuals = {k: float(np.max(np.abs(v.fun))) for k, v in model.solver_diagnostics.items()}

def cost_matrix(data):
    m = np.zeros((n, n))
    for _, r in data.iterrows():
        i, j = countries.index(r["exporter"]), countries.index(r["importer"])
        m[i, j] = math.exp(sum(coef[k] * r[k] for k in coef))
    return m

trade = np.zeros((n, n))
for _, r in df.iterrows():
    trade[countries.index(r["exporter"]), countries.index(r["importer"])] = r["trade"]
cr = model.country_results
mr = model.country_mr_terms
lab = model.labels
res = {}
for c in countries:
    res[c] = {
        "factory_price_change_pct": float(cr.loc[c, lab.factory_price_change]),
        "gdp_change_pct": float(cr.loc[c, lab.gdp_change]),
        "foreign_exports_change_pct": float(cr.loc[c, lab.foreign_exports_change]),
        "imr_change_pct": float(cr.loc[c, lab.imr_change]),
        "omr_change_pct": float(cr.loc[c, lab.omr_change]),
        "baseline_imr": float(mr.loc[c, lab.baseline_imr]),
        "baseline_omr": float(mr.loc[c, lab.baseline_omr]),
        "conditional_imr": float(mr.loc[c, lab.conditional_imr]),
        "conditional_omr": float(mr.loc[c, lab.conditional_omr]),
    }
fixture = {
    "source": "gegravity " + getattr(ge, "__version__", "0.3") + " OneSectorGE (tools/ge_fixtures/make_gegravity_fixtures.py)",
    "countries": countries,
    "sigma": sigma,
    "reference": reference,
    "trade": trade.flatten().tolist(),
    "phi_baseline": cost_matrix(df).flatten().tolist(),
    "phi_counterfactual": cost_matrix(exp_data).flatten().tolist(),
    "solver_max_abs_residual": residuals,
    "results": res,
}
with open(out_path, "w") as f:
    json.dump(fixture, f, indent=1)
