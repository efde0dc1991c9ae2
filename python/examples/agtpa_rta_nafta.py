# %% [markdown]
# # The Advanced Guide's RTA model and the NAFTA counterfactual, from Python
#
# Yotov, Piermartini, Monteiro & Larch (2016), *An Advanced Guide to Trade
# Policy Analysis*: Chapter 1, Application 3 (the effects of regional trade
# agreements, with exporter-year, importer-year and pair fixed effects) and
# Chapter 2, Application 2 (NAFTA removed in 1994, in general equilibrium).
# The data are the book's 69-country panel, 1986–2006 every four years
# (`tests/fixtures/agtpa/ch1_app3.csv.gz`; credits in `data/README.md`).
#
#     pip install ./python        # from the repository root
#     python python/examples/agtpa_rta_nafta.py
#
# Each `# %%` is a notebook cell (Jupyter, VS Code and Spyder run them as such).

# %%
import os

import pandas as pd

import gravity_model as gm

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
panel = pd.read_csv(os.path.join(ROOT, "tests", "fixtures", "agtpa", "ch1_app3.csv.gz"))
print(panel.shape, list(panel.columns))

# %% [markdown]
# ## Chapter 1, Application 3: the RTA effect
# The book's specification (4): PPML with exporter-year, importer-year and
# (symmetric) pair fixed effects, standard errors clustered by pair. With
# Stata's ppmlhdfe conventions (`ssc="ppmlhdfe"`) it gives the book's printed
# numbers, rta = 0.5572 (s.e. 0.1022), N = 28,482; pyfixest's (the default)
# scale the s.e. by (N-1)/(N-K).

# %%
fml = "trade ~ rta | exporter^year + importer^year + pair_sym"
book = gm.fepois(fml, panel, vcov={"CRV1": "cluster_pair"}, ssc="ppmlhdfe")
fixest = gm.fepois(fml, panel, vcov={"CRV1": "cluster_pair"})
print(book.tidy())
print("notes:", *book.notes, sep="\n  ")
print(book.sample.value_counts())

# %% [markdown]
# The globalisation of the border: the international-border dummies by year
# beside the RTA (several models from one formula with `csw0()`).

# %%
panel["intl"] = (panel["exporter"] != panel["importer"]).astype(float)
steps = gm.fepois("trade ~ rta + csw0(i(year, intl, ref = 2006)) | exporter^year + importer^year + pair_sym",
                  panel, vcov={"CRV1": "cluster_pair"})
print(gm.etable([book, fixest, *steps], titles=["ppmlhdfe s.e.", "fixest s.e.", "RTA", "RTA + borders"],
                digits=3))

# %% [markdown]
# ## Chapter 2, Application 2: NAFTA removed in 1994
# The scenario file `examples/agtpa_nafta.toml` (the same keys work as a dict):
# the baseline is the model above, the GE is solved on 1994 with σ = 7, and
# the 95% intervals come from 200 draws of the RTA coefficient.

# %%
sim = gm.simulate(os.path.join(ROOT, "examples", "agtpa_nafta.toml"))
cols = ["country", "real_gdp_change_pct", "real_gdp_change_pct_ci_low", "real_gdp_change_pct_ci_high",
        "exports_change_full_pct", "factory_price_change_pct"]
print(sim.countries[cols].set_index("country").loc[["CAN", "MEX", "USA", "DEU", "CHN", "JPN"]].round(3).to_string())
print(sim.pairs[sim.pairs["shocked"]].round(1).to_string(index=False))
print(sim.coefficients.to_string(index=False))
