"""The pyfixest-style accessors, multiple estimation, etable against the CLI,
the sample tags, the exceptions and the GIL."""

import threading
import time

import numpy as np
import pandas as pd
import pytest

import gravity_model as gm
from conftest import fixture, run_cli

THREE_WAY = "trade ~ rta + sanction | exporter^year + importer^year + exporter^importer"
BALANCED = fixture("parity", "balanced.csv")


def test_accessors(balanced):
    fit = gm.fepois(THREE_WAY, balanced, vcov={"CRV1": "pair"})
    tidy = fit.tidy()
    assert list(tidy.columns) == ["Estimate", "Std. Error", "t value", "Pr(>|t|)", "2.5%", "97.5%"]
    assert tidy.index.name == "Coefficient"
    pd.testing.assert_series_equal(fit.coef(), tidy["Estimate"])
    pd.testing.assert_series_equal(fit.se(), tidy["Std. Error"])
    np.testing.assert_allclose(fit.tstat(), fit.coef() / fit.se(), rtol=1e-12)
    assert fit.pvalue().between(0, 1).all()
    assert list(fit.confint().columns) == ["2.5%", "97.5%"]
    np.testing.assert_allclose(np.sqrt(np.diag(fit.vcov())), fit.se(), rtol=1e-12)
    assert fit.nobs == 8910 == fit._N
    assert fit.converged and fit.estimator == "ppml"
    assert any("separated by a fixed effect" in n for n in fit.notes)


def test_sample_tags_and_predict(balanced):
    df = balanced.copy()
    df.loc[3, "rta"] = np.nan
    df.index = df.index + 100          # the tags follow the data's index
    fit = gm.fepois(THREE_WAY, df, vcov="hetero")
    s = fit.sample
    assert len(s) == len(df) and (s.index == df.index).all()
    assert s.loc[103] == "missing"
    assert (s == "separated").sum() == fit.dropped["separated"] > 0
    assert (s == "used").sum() == fit.nobs
    mu = fit.predict(type="response")
    assert mu.shape == (fit.nobs,)
    np.testing.assert_allclose(np.log(mu), fit.predict(), rtol=1e-12)
    # on new data: the used rows get the in-sample fit back
    new = fit.predict(df, type="response")
    used = (s == "used").to_numpy()
    np.testing.assert_allclose(new[used], mu, rtol=1e-8)
    assert np.isnan(new[3])             # the row with a missing rta (index 103)
    assert not np.isnan(new[2])


def test_fixef(balanced):
    fit = gm.fepois("trade ~ rta + sanction | exporter^year + importer^year", balanced)
    fe = fit.fixef()
    assert list(fe) == ["exporter^year", "importer^year"]
    assert isinstance(fe["exporter^year"], pd.Series) and len(fe["exporter^year"]) == 240


def test_vcov_recompute(balanced):
    fit = gm.fepois(THREE_WAY, balanced, vcov="iid")
    iid = fit.se()
    assert fit.vcov("hetero") is fit
    assert fit.vcov_type == "hetero"
    assert not np.allclose(iid, fit.se())


def test_lincom_and_wald(balanced):
    fit = gm.fepois(THREE_WAY, balanced, vcov={"CRV1": "pair"})
    total = fit.lincom("total=rta + sanction")
    assert total["Estimate"] == pytest.approx(fit.coef().sum(), rel=1e-12)
    w = fit.wald_test(["rta", "sanction"])
    assert w["df1"] == 2 and 0 <= w["pvalue"] <= 1


def test_multiple_estimation(balanced):
    multi = gm.fepois("trade ~ csw(rta, sanction) | exporter^year + importer^year", balanced, vcov="hetero")
    assert isinstance(multi, gm.FixestMulti) and len(multi) == 2
    one = gm.fepois("trade ~ rta | exporter^year + importer^year", balanced, vcov="hetero")
    pd.testing.assert_frame_equal(multi[0].tidy(), one.tidy(), check_exact=True)
    assert list(multi.all_fitted_models) == ["trade ~ rta | exporter^year + importer^year",
                                             "trade ~ rta + sanction | exporter^year + importer^year"]
    sw = gm.feols("ltrade ~ sw(rta, sanction) | exporter^year", balanced)
    assert [list(m.coef().index) for m in sw] == [["rta"], ["sanction"]]
    c = gm.feols("c(ltrade, ldist) ~ rta | exporter^year", balanced)
    assert [m.depvar for m in c] == ["ltrade", "ldist"]


@pytest.mark.parametrize("fmt,flag", [("text", "text"), ("md", "markdown"), ("tex", "latex")])
def test_etable_equals_cli(balanced, gravity_bin, fmt, flag):
    fml = "trade ~ csw(rta, sanction) | exporter^year + importer^year + exporter^importer"
    cli = run_cli(gravity_bin, "fit", "--data", BALANCED, "--formula", fml,
                  "--vcov", "cluster:pair", "--table", flag)
    ours = gm.etable(gm.fepois(fml, balanced, vcov={"CRV1": "pair"}), type=fmt)
    assert ours == cli


def test_etable_lincom_and_single_model_equals_cli(balanced, gravity_bin):
    cli = run_cli(gravity_bin, "fit", "--data", BALANCED, "--formula", THREE_WAY, "--vcov", "cluster:pair",
                  "--table", "text", "--lincom", "total=rta+sanction")
    fit = gm.fepois(THREE_WAY, balanced, vcov={"CRV1": "pair"})
    assert gm.etable([fit], lincom=["total=rta+sanction"]) == cli


# -- exceptions ---------------------------------------------------------

def test_error_hierarchy():
    for name in ["FormulaError", "InvalidDataError", "ZeroOutcomeError", "ScenarioError",
                 "InvalidOptionError", "EmptySampleError", "GravityIOError", "NoConvergenceError"]:
        cls = getattr(gm, name)
        assert issubclass(cls, gm.GravityError) and issubclass(cls, ValueError)


def test_unknown_column_is_formula_error(balanced):
    with pytest.raises(gm.FormulaError) as e:
        gm.fepois("trade ~ rtaa | exporter", balanced)
    msg = str(e.value)
    assert "unknown column 'rtaa'" in msg and "did you mean 'rta'?" in msg
    assert e.value.kind == "Formula"


def test_formula_syntax_error(balanced):
    with pytest.raises(gm.FormulaError, match=r"\^"):
        gm.fepois("trade ~ rta + | exporter", balanced)


def test_negative_outcome_is_invalid_data(balanced):
    df = balanced.copy()
    df.loc[5, "trade"] = -3
    with pytest.raises(gm.InvalidDataError, match="non-negative"):
        gm.fepois("trade ~ rta | exporter", df)


def test_zero_outcome(balanced):
    df = balanced.assign(trade=0.0)
    with pytest.raises(gm.ZeroOutcomeError, match="zero in every observation"):
        gm.fepois("trade ~ rta | exporter", df)


def test_text_regressor_is_invalid_data(balanced):
    with pytest.raises(gm.InvalidDataError, match="must be a number"):
        gm.fepois("trade ~ exporter_txt | importer", balanced.assign(exporter_txt=balanced["exporter"]))


def test_bad_options(balanced):
    with pytest.raises(gm.InvalidOptionError, match="unknown vcov"):
        gm.fepois("trade ~ rta | exporter", balanced, vcov="HC9")
    with pytest.raises(gm.InvalidOptionError, match="CRV3"):
        gm.fepois("trade ~ rta | exporter", balanced, vcov={"CRV3": "pair"})
    with pytest.raises(gm.InvalidOptionError, match="small-sample"):
        gm.fepois("trade ~ rta | exporter", balanced, ssc="stata")
    with pytest.raises(gm.InvalidOptionError, match="separation"):
        gm.fepois("trade ~ rta | exporter", balanced, separation_check=["simplex"])
    with pytest.raises(gm.InvalidOptionError, match="tol"):
        gm.fepois("trade ~ rta | exporter", balanced, iwls_tol=-1.0)
    with pytest.raises(gm.UnknownColumnError, match="weights"):
        gm.fepois("trade ~ rta | exporter", balanced, weights="nope")
    with pytest.raises(gm.InvalidOptionError, match="demeaner"):
        gm.fepois("trade ~ rta | exporter", balanced, demeaner=None)
    gm.fepois("trade ~ rta | exporter", balanced, lean=True, copy_data=False)
    with pytest.raises(TypeError, match="DataFrame"):
        gm.fepois("trade ~ rta | exporter", {"trade": [1, 2]})


def test_gil_released_during_estimation(balanced):
    from gravity_model import _frame, _native

    names = _native.columns_needed(THREE_WAY, list(balanced.columns), None, None, "hetero", None, None)
    cols = _frame.columns(balanced, names)
    span = {}

    def work():
        span["t0"] = time.perf_counter()
        for _ in range(5):
            _native.estimate("ppml", THREE_WAY, cols, "hetero", "fixest", None, None, 1e-13, 1e-13)
        span["t1"] = time.perf_counter()

    ticks = []
    t = threading.Thread(target=work)
    t.start()
    while t.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.0005)
    t.join()
    inside = [x for x in ticks if span["t0"] < x < span["t1"]]
    # With the GIL held through each native call, this thread could not run
    # while the estimations did.
    assert len(inside) >= 10, (len(inside), span["t1"] - span["t0"])


def test_arrow_pycapsule_object():
    pl = pytest.importorskip("polars")
    df = pl.read_csv(BALANCED)

    class Capsule:
        """Only the Arrow PyCapsule interface, as a DuckDB or pyarrow object offers."""

        def __init__(self, d):
            self._d = d

        def __arrow_c_stream__(self, requested_schema=None):
            return self._d.__arrow_c_stream__(requested_schema)

    fml = "trade ~ rta + sanction | exporter^year + importer^year"
    a = gm.fepois(fml, Capsule(df), vcov="hetero")
    b = gm.fepois(fml, df, vcov="hetero")
    pd.testing.assert_frame_equal(a.tidy(), b.tidy(), check_exact=True)


# -- the formula language, as the CLI --------------------------------------

TERMS = fixture("formula", "ch1_terms.csv.gz")
FE = "exporter^year + importer^year"


@pytest.fixture(scope="module")
def terms():
    return pd.read_csv(TERMS)


@pytest.mark.parametrize("fml,kw,cli", [
    ("trade ~ rta + l(rta, 4) + l(rta, 8) + l(rta, 12) | " + FE + " + pair_id",
     dict(panel="exporter^importer,year", vcov={"CRV1": "pair_id"}),
     ["--panel", "exporter^importer,year", "--vcov", "cluster:pair_id"]),
    ("trade ~ i(year, log(dist)) + cntg + lang + clny | " + FE,
     dict(subset="exporter != importer", vcov={"CRV1": "pair_id"}),
     ["--subset", "exporter != importer", "--vcov", "cluster:pair_id"]),
    ("trade ~ rta + i(year, intl, ref = 2006) | " + FE + " + pair_id",
     dict(vcov="hetero"), ["--vcov", "hetero"]),
])
def test_formula_language_equals_cli(terms, gravity_bin, fml, kw, cli):
    import json

    ours = gm.fepois(fml, terms, **kw)
    report = json.loads(run_cli(gravity_bin, "fit", "--data", TERMS, "--formula", fml, "--json", *cli))
    theirs = pd.DataFrame(report["coefficients"]).set_index("name")
    assert list(ours.coef().index) == list(theirs.index)
    np.testing.assert_allclose(ours.coef(), theirs["estimate"], rtol=1e-12)
    np.testing.assert_allclose(ours.se(), theirs["std_error"], rtol=1e-10)
    assert ours.nobs == report["nobs"]
    assert ours.dropped["missing"] == report["dropped"]["missing"]


def test_lincom_equals_cli(terms, gravity_bin):
    import json

    fml = "trade ~ rta + l(rta, 4) + l(rta, 8) + l(rta, 12) | " + FE + " + pair_id"
    expr = "total=rta + `l(rta, 4)` + `l(rta, 8)` + `l(rta, 12)`"
    ours = gm.fepois(fml, terms, panel="exporter^importer,year", vcov={"CRV1": "pair_id"}).lincom(expr)
    report = json.loads(run_cli(gravity_bin, "fit", "--data", TERMS, "--formula", fml, "--json",
                                "--panel", "exporter^importer,year", "--vcov", "cluster:pair_id",
                                "--lincom", expr))
    assert ours["Estimate"] == pytest.approx(report["lincom"][0]["estimate"], rel=1e-12)
    assert ours["Std. Error"] == pytest.approx(report["lincom"][0]["std_error"], rel=1e-10)
