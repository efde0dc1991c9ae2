"""gravity_model.simulate against `gravity simulate --json` on the Advanced
Guide's NAFTA scenario (examples/agtpa_nafta.toml): the same JSON, exactly."""

import json
import os
import sys

import pytest

import gravity_model as gm
from conftest import REPO, run_cli

NAFTA = os.path.join(REPO, "examples", "agtpa_nafta.toml")


@pytest.fixture(scope="module")
def nafta():
    return gm.simulate(NAFTA)


def test_nafta_equals_cli_json(nafta, gravity_bin):
    cli = json.loads(run_cli(gravity_bin, "simulate", "--scenario", NAFTA, "--json"))
    assert nafta.cli_json() == cli


def test_nafta_frames(nafta):
    c = nafta.countries.set_index("country")
    assert len(c) == 69
    for col in ["real_gdp_change_pct", "real_gdp_change_pct_ci_low", "real_gdp_change_pct_ci_high",
                "exports_change_full_pct", "factory_price_change_pct"]:
        assert col in c.columns
    # Removing NAFTA lowers its members' real GDP.
    assert (c.loc[["CAN", "MEX", "USA"], "real_gdp_change_pct"] < 0).all()
    assert len(nafta.pairs) == 69 * 69
    assert nafta.pairs["shocked"].sum() == 6
    assert list(nafta.coefficients["variable"]) == ["rta"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_dict_equals_file(nafta):
    import tomllib

    with open(NAFTA, "rb") as f:
        scenario = tomllib.load(f)
    from_dict = gm.simulate(scenario, base_dir=os.path.dirname(NAFTA))
    assert from_dict.to_dict() == nafta.to_dict()


def test_bad_scenario_raises_scenario_error():
    with pytest.raises(gm.ScenarioError, match="sigma") as e:
        gm.simulate({"data": "x.csv", "formula": "trade ~ rta | exporter^year", "year": 1994,
                     "sigma": 0.5, "reference": "DEU",
                     "shock": [{"variable": "rta", "value": 0.0, "between": ["CAN", "MEX"]}]})
    assert isinstance(e.value, ValueError)
    with pytest.raises(gm.ScenarioError, match="unknown field|unknown key|sigmaa"):
        gm.simulate({"data": "x.csv", "sigmaa": 7})


def test_missing_scenario_file():
    with pytest.raises(gm.GravityIOError, match="no_such.toml"):
        gm.simulate("no_such.toml")


def test_progress_on_stderr(capfd):
    scenario = {"data": os.path.join(REPO, "tests", "fixtures", "agtpa", "ch1_app3.csv.gz"),
                "formula": "trade ~ rta | exporter^year + importer^year + pair_sym",
                "vcov": "cluster:cluster_pair", "year": 1994, "sigma": 7.0, "reference": "DEU",
                "impute_pair_effects": ["ldist", "cntg", "lang", "clny"], "draws": 5, "seed": 1,
                "shock": [{"variable": "rta", "value": 0.0, "between": ["CAN", "MEX", "USA"]}]}
    gm.simulate(scenario, progress=True)
    assert "draws 5/5" in capfd.readouterr().err
    gm.simulate(scenario)
    assert capfd.readouterr().err == ""
