"""gravity_model.fepois / feols against pyfixest.fepois / feols, run here in
the same environment, on the committed parity panel
(tests/fixtures/parity/balanced.csv): 1e-8 relative in coefficients, 1e-6
in standard errors, the same number of observations."""

import warnings

import numpy as np
import pandas as pd
import pytest

import gravity_model as gm

pf = pytest.importorskip("pyfixest")
from pyfixest.demeaners import MapDemeaner  # noqa: E402

THREE_WAY = "trade ~ rta + sanction | exporter^year + importer^year + exporter^importer"
GRAVITY_2FE = "trade ~ ldist + contig + lang + rta + sanction | exporter^year + importer^year"
OLS_2FE = "ltrade ~ rta + sanction | exporter^year + importer^year"
TIGHT = dict(fixef_tol=1e-12, iwls_tol=1e-12)


def peer_fepois(fml, data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.fepois(fml, data=data, demeaner=MapDemeaner(fixef_tol=1e-12, fixef_maxiter=100_000),
                         iwls_tol=1e-12, iwls_maxiter=100, **kw)


def peer_feols(fml, data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(fml, data=data, demeaner=MapDemeaner(fixef_tol=1e-12, fixef_maxiter=100_000), **kw)


def assert_same(ours, peer):
    assert ours.nobs == peer._N
    theirs = peer.tidy()
    mine = ours.tidy()
    assert list(mine.index) == list(theirs.index)
    np.testing.assert_allclose(mine["Estimate"], theirs["Estimate"], rtol=1e-8, atol=0)
    np.testing.assert_allclose(mine["Std. Error"], theirs["Std. Error"], rtol=1e-6, atol=0)
    np.testing.assert_allclose(ours.coef().to_numpy(), peer.coef().to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(ours.se().to_numpy(), peer.se().to_numpy(), rtol=1e-6)
    v = np.asarray(peer._vcov)
    np.testing.assert_allclose(ours.vcov().to_numpy(), v, rtol=0, atol=1e-6 * np.abs(v).max())


@pytest.mark.parametrize("vcov", [{"CRV1": "pair"}, "hetero", "iid"])
def test_three_way_ppml(balanced, vcov):
    ours = gm.fepois(THREE_WAY, balanced, vcov=vcov, separation_check=["fe"], **TIGHT)
    assert_same(ours, peer_fepois(THREE_WAY, balanced, vcov=vcov))
    # pyfixest's p-values and intervals for PPML are normal-based, as ours
    peer = peer_fepois(THREE_WAY, balanced, vcov=vcov)
    np.testing.assert_allclose(ours.pvalue(), peer.pvalue(), rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(ours.confint().to_numpy(), peer.confint().to_numpy(), rtol=1e-6)


def test_two_way_ppml_gravity(balanced):
    ours = gm.fepois(GRAVITY_2FE, balanced, vcov={"CRV1": "pair"}, separation_check=["fe"], **TIGHT)
    assert_same(ours, peer_fepois(GRAVITY_2FE, balanced, vcov={"CRV1": "pair"}))


@pytest.mark.parametrize("vcov", [{"CRV1": "pair"}, "hetero", "iid"])
def test_two_way_ols(balanced, vcov):
    data = balanced[balanced["trade"] > 0]
    ours = gm.feols(OLS_2FE, data, vcov=vcov, fixef_tol=1e-12)
    peer = peer_feols(OLS_2FE, data, vcov=vcov)
    assert_same(ours, peer)
    np.testing.assert_allclose(ours.pvalue(), peer.pvalue(), rtol=1e-5, atol=1e-12)


def test_two_way_clustering(balanced):
    vcov = {"CRV1": "exporter+importer"}
    ours = gm.fepois(THREE_WAY, balanced, vcov=vcov, separation_check=["fe"], **TIGHT)
    assert_same(ours, peer_fepois(THREE_WAY, balanced, vcov=vcov))


def test_weights(balanced):
    df = balanced.copy()
    df["w"] = 0.5 + 0.25 * (df["year"] % 4) + 0.5 * df["lang"]
    fml = "trade ~ rta + sanction | exporter^year + importer^year + pair"
    for vcov in ["hetero", {"CRV1": "pair"}]:
        ours = gm.fepois(fml, df, vcov=vcov, weights="w", separation_check=["fe"], **TIGHT)
        assert_same(ours, peer_fepois(fml, df, vcov=vcov, weights="w"))
    data = df[df["trade"] > 0]
    ours = gm.feols(OLS_2FE, data, vcov={"CRV1": "pair"}, weights="w", fixef_tol=1e-12)
    assert_same(ours, peer_feols(OLS_2FE, data, vcov={"CRV1": "pair"}, weights="w"))


def test_default_vcov_is_pyfixests(balanced):
    """No vcov: iid, as pyfixest 0.60 (with fixed effects too)."""
    fml = "trade ~ rta + sanction | pair + year"
    ours = gm.fepois(fml, balanced, separation_check=["fe"], **TIGHT)
    assert ours.vcov_type == "iid"
    assert_same(ours, peer_fepois(fml, balanced))


def test_polars_equals_pandas(balanced):
    pl = pytest.importorskip("polars")
    a = gm.fepois(THREE_WAY, balanced, vcov={"CRV1": "pair"})
    from conftest import fixture

    b = gm.fepois(THREE_WAY, pl.read_csv(fixture("parity", "balanced.csv")), vcov={"CRV1": "pair"})
    pd.testing.assert_frame_equal(a.tidy(), b.tidy(), check_exact=True)
    assert list(a.sample) == list(b.sample)


def test_categoricals_equal_strings(balanced):
    df = balanced.copy()
    for c in ["exporter", "importer", "pair"]:
        df[c] = df[c].astype("category")
    a = gm.fepois(THREE_WAY, balanced, vcov={"CRV1": "pair"})
    b = gm.fepois(THREE_WAY, df, vcov={"CRV1": "pair"})
    pd.testing.assert_frame_equal(a.tidy(), b.tidy(), check_exact=True)


def test_offset(balanced):
    df = balanced.assign(off=0.1 * balanced["ldist"])
    fml = "trade ~ rta + sanction | exporter^year + importer^year + pair"
    ours = gm.fepois(fml, df, vcov="hetero", offset="off", separation_check=["fe"], **TIGHT)
    assert_same(ours, peer_fepois(fml, df, vcov="hetero", offset="off"))


def test_predict_in_sample(balanced):
    """The fitted values on the estimation sample, link and response."""
    fml = "trade ~ rta | exporter + importer"
    ours = gm.fepois(fml, balanced, separation_check=["fe"], **TIGHT)
    peer = peer_fepois(fml, balanced)
    np.testing.assert_allclose(ours.predict(), peer.predict(), rtol=1e-8)
    np.testing.assert_allclose(ours.predict(type="response"), peer.predict(type="response"), rtol=1e-8)
    data = balanced[balanced["trade"] > 0]
    ours = gm.feols("ltrade ~ rta | exporter + importer", data, fixef_tol=1e-12)
    np.testing.assert_allclose(ours.predict(), peer_feols("ltrade ~ rta | exporter + importer", data).predict(),
                               rtol=1e-10, atol=1e-10)


def test_names_are_pyfixests(balanced):
    fml = "trade ~ rta | exporter"
    ours, peer = gm.fepois(fml, balanced), peer_fepois(fml, balanced)
    assert list(ours.tidy().columns) == list(peer.tidy().columns)
    assert ours.tidy().index.name == peer.tidy().index.name
    for f in ["coef", "se", "tstat", "pvalue"]:
        assert getattr(ours, f)().name == getattr(peer, f)().name
    assert list(ours.confint().columns) == list(peer.confint().columns)


# -- fixef(): pyfixest's normalisation --------------------------------------

# pyfixest 0.60's fixef() refuses `^` interactions, so plain dimensions.
FIXEF_MODELS = [
    ("fepois", "trade ~ rta + sanction | exporter + importer", {}),
    ("fepois", "trade ~ rta + sanction + ldist | exporter + importer + year", {}),
    ("feols", "ltrade ~ rta + sanction | exporter + importer", {}),
    ("feols", "ltrade ~ rta + ldist | exporter + importer + year", {}),
]


def _peer_fixef(peer):
    fe = peer.fixef(atol=1e-14, btol=1e-14)
    return {k[2:-1]: pd.Series(v, dtype=float) for k, v in fe.items()}  # "C(exporter)" -> "exporter"


@pytest.mark.parametrize("method,fml,kw", FIXEF_MODELS, ids=["ppml-2", "ppml-3", "ols-2", "ols-3"])
def test_fixef_equals_pyfixests(balanced, method, fml, kw):
    data = balanced if method == "fepois" else balanced[balanced["trade"] > 0]
    if method == "fepois":
        ours = gm.fepois(fml, data, separation_check=["fe"], **TIGHT, **kw)
        peer = peer_fepois(fml, data, **kw)
    else:
        ours = gm.feols(fml, data, fixef_tol=1e-12, **kw)
        peer = peer_feols(fml, data, **kw)
    theirs = _peer_fixef(peer)
    mine = ours.fixef()
    assert list(mine) == list(theirs)
    for k, (name, t) in enumerate(theirs.items()):
        m = mine[name]
        # pyfixest leaves out the reference level of every dimension after
        # the first (its dummy is dropped); ours lists it, at 0.
        extra = sorted(set(m.index) - set(t.index), key=lambda level: (float(level) if level.isdigit() else level))
        assert set(t.index) <= set(m.index), name
        assert len(extra) == (0 if k == 0 else 1), (name, extra)
        if extra:
            assert m[extra[0]] == 0.0
            assert extra[0] == min(m.index, key=lambda level: (float(level) if level.isdigit() else level))
        np.testing.assert_allclose(m[t.index].to_numpy(), t.to_numpy(), rtol=0, atol=1e-6, err_msg=name)
    # The engine's own normalisation differs in the individual effects but
    # not in their sums: fitted values are the same under both, and pyfixest's.
    per = ours.fixef(normalisation="per-component")
    assert list(per) == list(mine)
    rows = data.reset_index(drop=True).iloc[ours._native.sample_rows()]
    for fe in (mine, per):
        total = sum(fe[name].reindex(rows[name].astype(str)).to_numpy() for name in fe)
        eta = total + sum(ours.coef()[c] * rows[c].to_numpy() for c in ours.coef().index)
        fitted = np.exp(eta) if method == "fepois" else eta
        np.testing.assert_allclose(fitted, ours.predict(type="response"), rtol=1e-8)
    np.testing.assert_allclose(ours.predict(type="response"), peer.predict(type="response"), rtol=1e-6)


def test_fixef_bad_normalisation(balanced):
    fit = gm.fepois("trade ~ rta | exporter + importer", balanced)
    with pytest.raises(gm.InvalidOptionError, match="normalisation"):
        fit.fixef(normalisation="stata")
