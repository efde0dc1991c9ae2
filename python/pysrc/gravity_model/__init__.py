"""gravity_model: structural gravity in Python, on the gravity-model Rust engine.

PPML and OLS with high-dimensional fixed effects under pyfixest's names, so
that existing code ports by changing the import, and general-equilibrium
counterfactuals (Yotov, Piermartini, Monteiro & Larch 2016)::

    import gravity_model as gm
    fit = gm.fepois("trade ~ rta | exporter^year + importer^year + pair_sym",
                    df, vcov={"CRV1": "cluster_pair"})
    fit.tidy()                       # a pandas DataFrame, as pyfixest's
    print(gm.etable([fit]))          # the `gravity table` of the CLI
    sim = gm.simulate("examples/agtpa_nafta.toml")
    sim.countries                    # per-country GE changes and 95% intervals

Estimation and simulation run with the GIL released. Errors are
:class:`GravityError` (a ``ValueError``) subclasses named after the engine's
error kinds, carrying the engine's message.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from . import _frame, _native
from ._errors import *  # noqa: F401,F403
from ._errors import GravityError, InvalidOptionError, __all__ as _error_names

__version__ = "0.1.0"

VcovArg = Union[None, str, Dict[str, str]]

_TIDY_COLUMNS = ["Estimate", "Std. Error", "t value", "Pr(>|t|)", "2.5%", "97.5%"]


def _vcov_spec(vcov: VcovArg, fixef: Sequence[str]) -> str:
    """pyfixest's ``vcov`` argument in the engine's words."""
    if vcov is None:
        # pyfixest 0.60's default, with or without fixed effects (fixest's
        # own default clusters by the first fixed effect).
        return "iid"
    if isinstance(vcov, str):
        v = vcov.strip()
        if v.lower() in ("iid", "standard", "hetero", "hc1", "robust", "twoway"):
            return v.lower()
        if v.lower().startswith("cluster:"):
            return v
        raise InvalidOptionError(
            f"unknown vcov '{vcov}': expected \"iid\", \"hetero\" (\"HC1\"), \"twoway\" "
            "or {\"CRV1\": \"var\"} / {\"CRV1\": \"var1+var2\"}"
        )
    if isinstance(vcov, dict):
        if len(vcov) != 1:
            raise InvalidOptionError(f"vcov dict must have one key, found {list(vcov)}")
        (key, value), = vcov.items()
        if str(key).upper() != "CRV1":
            raise InvalidOptionError(
                f"unsupported vcov type '{key}': only CRV1 (cluster-robust) is implemented"
            )
        variables = [p.strip() for p in str(value).split("+") if p.strip()]
        if not variables:
            raise InvalidOptionError("vcov {'CRV1': ...} needs at least one cluster variable")
        return "cluster:" + ",".join(variables)
    raise InvalidOptionError(f"vcov must be a string or a dict, found {type(vcov).__name__}")


def _ssc_name(ssc: Any) -> str:
    if ssc is None:
        return "fixest"
    if isinstance(ssc, str):
        return ssc
    raise InvalidOptionError(
        "ssc must be a preset name: \"fixest\" (pyfixest's default) or \"ppmlhdfe\" "
        f"(Stata's ppmlhdfe), found {ssc!r}"
    )


class Fixest:
    """One estimated model, with pyfixest's accessors.

    Attributes:
        nobs: observations used.
        notes: the engine's notes (dropped rows, separation, collinearity,
            non-convergence).
        sample: what became of every input row (``used``, ``missing``,
            ``singleton``, ``separated``, ``excluded``), indexed as the data.
    """

    def __init__(self, native: Any, index: pd.Index) -> None:
        self._native = native
        self._index = index

    # -- identification -------------------------------------------------
    @property
    def _fml(self) -> str:
        return self._native.formula

    @property
    def formula(self) -> str:
        """The model's formula."""
        return self._native.formula

    @property
    def depvar(self) -> str:
        """The outcome's name."""
        return self._native.depvar

    @property
    def estimator(self) -> str:
        """``"ppml"`` or ``"ols"``."""
        return self._native.estimator

    @property
    def nobs(self) -> int:
        """Observations used in the estimation."""
        return self._native.nobs

    @property
    def _N(self) -> int:  # pyfixest's name
        return self._native.nobs

    @property
    def converged(self) -> bool:
        """True if IRLS met its tolerance."""
        return self._native.converged

    @property
    def iterations(self) -> int:
        """IRLS iterations."""
        return self._native.iterations

    @property
    def deviance(self) -> float:
        """The final deviance."""
        return self._native.deviance

    @property
    def notes(self) -> List[str]:
        """The engine's notes on the fit and its inference."""
        return list(self._native.notes)

    @property
    def collinear(self) -> List[str]:
        """Regressors dropped as collinear."""
        return list(self._native.collinear)

    @property
    def vcov_type(self) -> str:
        """The variance estimator in the CLI's words (``cluster:pair``, ...)."""
        return self._native.vcov_type

    @property
    def dropped(self) -> Dict[str, int]:
        """Counts of dropped rows by reason."""
        return dict(self._native.dropped())

    @property
    def sample(self) -> pd.Series:
        """Per input row: ``used``, ``missing``, ``singleton``, ``separated`` or
        ``excluded`` (Stata's ``e(sample)`` with ppmlhdfe's separation tag)."""
        return pd.Series(self._native.sample_status(), index=self._index, name="sample")

    @property
    def fit_stats(self) -> Dict[str, Any]:
        """Log-likelihood, pseudo-R² (PPML), R² and within R² (OLS), deviances."""
        return json.loads(self._native.fit_stats())

    # -- coefficients ---------------------------------------------------
    def _rows(self) -> List[Tuple]:
        return self._native.coefficients()

    def _series(self, k: int, name: str) -> pd.Series:
        rows = self._rows()
        return pd.Series(
            [r[k] for r in rows],
            index=pd.Index([r[0] for r in rows], name="Coefficient"),
            name=name,
            dtype=float,
        )

    def coef(self) -> pd.Series:
        """The estimates, named ``Estimate`` and indexed by ``Coefficient``."""
        return self._series(1, "Estimate")

    def se(self) -> pd.Series:
        """The standard errors (``Std. Error``)."""
        return self._series(2, "Std. Error")

    def tstat(self) -> pd.Series:
        """The t (OLS) or z (PPML) statistics (``t value``, as pyfixest names both)."""
        return self._series(3, "t value")

    def pvalue(self) -> pd.Series:
        """The p-values (``Pr(>|t|)``): t distribution for OLS, normal for PPML."""
        return self._series(4, "Pr(>|t|)")

    def confint(self) -> pd.DataFrame:
        """95% confidence intervals, columns ``2.5%`` and ``97.5%``."""
        return self.tidy()[["2.5%", "97.5%"]]

    def tidy(self) -> pd.DataFrame:
        """The coefficient table as pyfixest's ``tidy()``: index ``Coefficient``,
        columns Estimate, Std. Error, t value, Pr(>|t|), 2.5%, 97.5%."""
        rows = self._rows()
        return pd.DataFrame(
            [r[1:7] for r in rows],
            index=pd.Index([r[0] for r in rows], name="Coefficient"),
            columns=_TIDY_COLUMNS,
            dtype=float,
        )

    def vcov(self, vcov: VcovArg = None, ssc: Any = None) -> Union[pd.DataFrame, "Fixest"]:
        """Without arguments, the covariance matrix (a DataFrame). With a
        ``vcov`` (as :func:`fepois` takes it), recomputes the inference in
        place and returns the model, as pyfixest's ``vcov()`` does; cluster
        variables must be fixed effects of the model or have been given at
        estimation."""
        if vcov is None and ssc is None:
            names, rows = self._native.vcov_matrix()
            return pd.DataFrame(rows, index=names, columns=names, dtype=float)
        spec = _vcov_spec(vcov, list(self._native.fixef_names)) if vcov is not None else self._native.vcov_type
        self._native = self._native.with_vcov(spec, _ssc_name(ssc))
        return self

    # -- fixed effects and predictions ----------------------------------
    def fixef(self, normalisation: str = "pyfixest") -> Dict[str, pd.Series]:
        """The estimated fixed effects, one Series per dimension indexed by
        level (log scale for PPML).

        They are identified only up to constants that move between
        dimensions; ``normalisation`` picks them. ``"pyfixest"`` (default)
        gives pyfixest 0.60's ``fixef()`` numbers: the first level in sorted
        order of every dimension after the first is 0, and of the solutions
        left, the one with the least sum of squares (what pyfixest's
        ``lsqr`` converges to; exact when only one constant per dimension
        and connected component is free, as with two dimensions or crossed
        ones like ``exporter + importer + year``). ``"per-component"`` gives
        the engine's own (``gravity fit --save-fe``): in each connected
        component the first level in order of appearance of every dimension
        after the first is 0 (fixest's choice with two dimensions). The
        sums, so fitted values and predictions, are the same either way.
        """
        out = {}
        for name, levels, values in self._native.fixef(normalisation):
            out[name] = pd.Series(values, index=pd.Index(levels, name=name), name=name, dtype=float)
        return out

    def predict(self, newdata: Any = None, type: str = "link") -> np.ndarray:
        """Predictions, as pyfixest's: without ``newdata`` on the estimation
        sample (``nobs`` values, in row order); with ``newdata`` one value per
        row (NaN where a value is missing or a fixed-effect level was not
        estimated). ``type="link"`` (default) gives ``x'b + fe``, ``"response"``
        the mean (``exp`` of it for PPML)."""
        if type not in ("link", "response"):
            raise InvalidOptionError(f"type must be \"link\" or \"response\", found {type!r}")
        ppml = self.estimator == "ppml"
        if newdata is None:
            mu = np.asarray(self._native.fitted(), dtype=float)
            if type == "link" and ppml:
                return np.log(mu)
            return mu
        data = _frame.normalise(newdata)
        fe_columns = [p for fe in self._native.fixef_names for p in fe.split("^")]
        wanted = [n for n in self.coef().index if n != "(Intercept)"] + fe_columns
        have = set(_frame.header(data))
        names = list(dict.fromkeys(n for n in wanted if n in have))
        link = self._native.predict_link(_frame.columns(data, names))
        eta = np.array([np.nan if v is None else v for v in link], dtype=float)
        if type == "response" and ppml:
            return np.exp(eta)
        return eta

    # -- tests and tables -----------------------------------------------
    def lincom(self, expression: str) -> pd.Series:
        """A linear combination ``NAME=EXPR`` of the coefficients (the CLI's
        ``--lincom``), e.g. ``"total=rta + rta_lag4"``: estimate, std. error,
        statistic, p-value and 95% interval."""
        r = self._native.lincom(expression)
        return pd.Series(r[1:7], index=_TIDY_COLUMNS, name=r[0], dtype=float)

    def wald_test(self, names: Sequence[str]) -> Dict[str, Any]:
        """The Wald test that the named coefficients are jointly zero
        (fixest's ``wald()``): ``statistic``, ``pvalue``, ``df1``, ``df2``,
        ``distribution``."""
        stat, p, df1, df2, dist = self._native.wald(list(names))
        return {"statistic": stat, "pvalue": p, "df1": df1, "df2": df2, "distribution": dist}

    def summary(self) -> None:
        """Prints the CLI's coefficient table."""
        print(self._native.summary(), end="")

    def to_json(self) -> Dict[str, Any]:
        """The CLI's ``gravity fit --json`` report, as a dict."""
        return json.loads(self._native.json_report())

    def __repr__(self) -> str:
        return self._native.summary()


class FixestMulti:
    """Several models of one formula (``sw()``, ``csw()``, ``c()``), as pyfixest's
    ``FixestMulti``: iterate, index, ``to_list()``, ``all_fitted_models``."""

    def __init__(self, models: List[Fixest]) -> None:
        self._models = models

    @property
    def all_fitted_models(self) -> Dict[str, Fixest]:
        """The models keyed by their formulas."""
        return {m.formula: m for m in self._models}

    def to_list(self) -> List[Fixest]:
        """The models, in fixest's order."""
        return list(self._models)

    def fetch_model(self, i: int) -> Fixest:
        """The ``i``-th model."""
        return self._models[i]

    def __iter__(self) -> Iterator[Fixest]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)

    def __getitem__(self, i: int) -> Fixest:
        return self._models[i]

    def tidy(self) -> pd.DataFrame:
        """Every model's ``tidy()``, with the formula as the outer index."""
        return pd.concat({m.formula: m.tidy() for m in self._models}, names=["fml"])

    def coef(self) -> pd.Series:
        """Every model's estimates, with the formula as the outer index."""
        return pd.concat({m.formula: m.coef() for m in self._models}, names=["fml"])

    def se(self) -> pd.Series:
        """Every model's standard errors, with the formula as the outer index."""
        return pd.concat({m.formula: m.se() for m in self._models}, names=["fml"])

    def etable(self, **kwargs: Any) -> str:
        """The models side by side (see :func:`etable`)."""
        return etable(self._models, **kwargs)

    def __repr__(self) -> str:
        return etable(self._models)


# pyfixest arguments that change only what it keeps in memory: accepted so
# that ported code runs, without effect.
_IGNORED = {"copy_data", "store_data", "lean"}


def _check_extra(kwargs: Dict[str, Any]) -> None:
    unknown = sorted(set(kwargs) - _IGNORED)
    if unknown:
        raise InvalidOptionError(
            f"unsupported argument(s) {', '.join(unknown)}: gravity_model takes fml, data, vcov, ssc, "
            "weights, offset, fixef_tol, iwls_tol, iwls_maxiter, separation_check, fixef_rm, "
            "collin_tol, panel, subset (and ignores copy_data, store_data, lean)"
        )


def _estimate(
    estimator: str,
    fml: str,
    data: Any,
    vcov: VcovArg,
    ssc: Any,
    weights: Optional[str],
    offset: Optional[str],
    fixef_tol: Optional[float],
    iwls_tol: Optional[float],
    iwls_maxiter: Optional[int],
    separation_check: Optional[Sequence[str]],
    fixef_rm: Optional[str],
    collin_tol: Optional[float],
    panel: Optional[str],
    subset: Optional[str],
) -> Union[Fixest, FixestMulti]:
    if not isinstance(fml, str):
        raise TypeError(f"fml must be a formula string, found {type(fml).__name__}")
    data = _frame.normalise(data)
    fixef, n_models = _native.formula_info(fml)
    spec = _vcov_spec(vcov, fixef)
    names = _native.columns_needed(fml, _frame.header(data), weights, offset, spec, panel, subset)
    columns = _frame.columns(data, names)
    separation = None if separation_check is None else [str(s) for s in separation_check]
    natives = _native.estimate(
        estimator,
        fml,
        columns,
        spec,
        _ssc_name(ssc),
        weights,
        offset,
        fixef_tol,
        iwls_tol,
        iwls_maxiter,
        separation,
        fixef_rm,
        collin_tol,
        panel,
        subset,
    )
    index = _frame.index(data)
    models = [Fixest(n, index) for n in natives]
    if n_models == 1:
        return models[0]
    return FixestMulti(models)


def fepois(
    fml: str,
    data: Any,
    vcov: VcovArg = None,
    ssc: Any = None,
    weights: Optional[str] = None,
    offset: Optional[str] = None,
    fixef_tol: Optional[float] = None,
    iwls_tol: Optional[float] = None,
    iwls_maxiter: Optional[int] = None,
    separation_check: Optional[Sequence[str]] = None,
    fixef_rm: Optional[str] = None,
    collin_tol: Optional[float] = None,
    panel: Optional[str] = None,
    subset: Optional[str] = None,
    **kwargs: Any,
) -> Union[Fixest, FixestMulti]:
    """Poisson pseudo-maximum likelihood (PPML) with high-dimensional fixed
    effects, named as ``pyfixest.fepois``.

    Args:
        fml: fixest formula, ``"trade ~ rta + log(dist) | exporter^year + importer^year"``;
            ``i()``, ``l()``/``f()``/``d()`` (with ``panel``), ``sw()``, ``csw()``, ``c()``.
        data: pandas or polars DataFrame (or an Arrow PyCapsule object).
        vcov: ``"iid"``, ``"hetero"`` (``"HC1"``), ``"twoway"``, ``{"CRV1": "pair"}``,
            ``{"CRV1": "exporter+importer"}`` (two-way); default ``"iid"``, as
            pyfixest 0.60's (fixest's own default clusters by the first fixed effect).
        ssc: ``"fixest"`` (default, pyfixest's) or ``"ppmlhdfe"`` (Stata's).
        weights: column of prior weights.
        offset: column of the offset (coefficient one).
        fixef_tol: demeaning tolerance (engine default 1e-8).
        iwls_tol: IRLS tolerance on the relative deviance change (default 1e-8).
        iwls_maxiter: IRLS iteration limit (default 100).
        separation_check: ``["fe"]`` (pyfixest's default), ``["fe", "ir"]``, ``[]``;
            default both: fixed-effect separation and the ReLU check.
        fixef_rm: ``"singleton"`` (default: singletons dropped iteratively) or ``"none"``.
        collin_tol: collinearity tolerance (default 1e-9).
        panel: ``"UNIT,TIME"`` for lags and leads, e.g. ``"exporter^importer,year"``.
        subset: a restriction such as ``"year >= 1994 & exporter != importer"``.
        **kwargs: pyfixest's ``copy_data``, ``store_data`` and ``lean`` are accepted and
            have no effect; any other name is an ``InvalidOptionError``.

    Returns:
        a :class:`Fixest`, or a :class:`FixestMulti` for several models.

    Data are not copied where their layout allows: a float64 column that is
    one contiguous, aligned, native-endian buffer (a pandas float64 column; a
    polars float64 column without nulls) is read in place by the engine while
    it runs, with the GIL released. Do not mutate ``data`` (or the arrays it
    views) from another thread during the call: that is not supported, and
    the engine would read the numbers as they change. Other columns are
    copied once.

    Raises:
        GravityError: a subclass per engine error kind (``FormulaError``,
            ``InvalidDataError``, ``ZeroOutcomeError``, ...), with the engine's message.
        TypeError: ``data`` is not a data frame.
    """
    _check_extra(kwargs)
    return _estimate(
        "ppml", fml, data, vcov, ssc, weights, offset, fixef_tol, iwls_tol, iwls_maxiter,
        separation_check, fixef_rm, collin_tol, panel, subset,
    )


def feols(
    fml: str,
    data: Any,
    vcov: VcovArg = None,
    ssc: Any = None,
    weights: Optional[str] = None,
    offset: Optional[str] = None,
    fixef_tol: Optional[float] = None,
    fixef_rm: Optional[str] = None,
    collin_tol: Optional[float] = None,
    panel: Optional[str] = None,
    subset: Optional[str] = None,
    **kwargs: Any,
) -> Union[Fixest, FixestMulti]:
    """Ordinary (weighted) least squares with high-dimensional fixed effects,
    named as ``pyfixest.feols``; arguments as :func:`fepois` (t inference with
    fixest's degrees of freedom). As there, float64 columns with a suitable
    layout are read in place: do not mutate ``data`` from another thread
    during the call."""
    _check_extra(kwargs)
    return _estimate(
        "ols", fml, data, vcov, ssc, weights, offset, fixef_tol, None, None,
        None, fixef_rm, collin_tol, panel, subset,
    )


_FORMATS = {"text": "text", "txt": "text", "md": "markdown", "markdown": "markdown", "tex": "latex", "latex": "latex"}


def etable(
    models: Union[Fixest, FixestMulti, Sequence[Union[Fixest, FixestMulti]]],
    type: str = "text",
    coefstat: str = "se",
    digits: Optional[int] = None,
    signif: Optional[Tuple[float, float, float]] = None,
    titles: Optional[Sequence[str]] = None,
    lincom: Optional[Sequence[str]] = None,
) -> str:
    """Several models side by side: the table ``gravity table`` prints.

    Args:
        models: a model, a list of models, or a :class:`FixestMulti`.
        type: ``"text"`` (default), ``"md"`` (Markdown) or ``"tex"`` (LaTeX, booktabs).
        coefstat: ``"se"`` (default), ``"tstat"`` or ``"confint"`` below the estimates.
        digits: significant digits (default 4).
        signif: the three star levels (default ``(0.001, 0.01, 0.05)``).
        titles: one title per model.
        lincom: linear combinations ``NAME=EXPR``, shown for the models that have
            their coefficients.
    """
    flat: List[Fixest] = []
    items = [models] if isinstance(models, (Fixest, FixestMulti)) else list(models)
    for m in items:
        if isinstance(m, FixestMulti):
            flat.extend(m.to_list())
        elif isinstance(m, Fixest):
            flat.append(m)
        else:
            raise TypeError(f"etable takes gravity_model fits, found {m.__class__.__name__}")
    fmt = _FORMATS.get(str(type).lower())
    if fmt is None:
        raise InvalidOptionError(f"unknown table type '{type}': expected \"text\", \"md\" or \"tex\"")
    return _native.etable(
        [m._native for m in flat],
        fmt,
        coefstat,
        digits,
        None if signif is None else tuple(float(s) for s in signif),
        None if titles is None else [str(t) for t in titles],
        None if lincom is None else [str(c) for c in lincom],
    )


class Simulation:
    """The result of :func:`simulate`: DataFrames per country and per pair,
    the policy coefficients and the imputed values.

    Attributes:
        countries: one row per country: the changes in percent (exports in
            partial, conditional and full equilibrium, factory-gate prices,
            inward and outward multilateral resistances, real GDP) and, when
            draws ran, their 95% intervals (``..._ci_low``, ``..._ci_high``).
        pairs: every pair: baseline, partial, conditional and full flows, and
            whether a shock applies.
        coefficients: the policy coefficients used (with the spread over draws).
        imputed: every imputed domestic flow and pair effect.
        notes: the engine's notes and warnings.
    """

    def __init__(self, result: Dict[str, Any]) -> None:
        self._result = result
        self.year: int = result["year"]
        self.sigma: float = result["sigma"]
        self.reference: str = result["reference"]
        self.notes: List[str] = list(result.get("notes", []))
        self.countries = pd.DataFrame(result["countries"])
        self.pairs = pd.DataFrame(result["pairs"])
        self.coefficients = pd.DataFrame(result["coefficients"])
        self.imputed = pd.DataFrame(result.get("imputed", []))

    def to_dict(self) -> Dict[str, Any]:
        """Everything, as the engine reports it (every pair)."""
        return json.loads(json.dumps(self._result))

    def cli_json(self) -> Dict[str, Any]:
        """The dict ``gravity simulate --json`` prints (its ``pairs`` keep the
        shocked pairs only)."""
        out = self.to_dict()
        out["pairs"] = [p for p in out["pairs"] if p["shocked"]]
        return out

    def __repr__(self) -> str:
        cols = ["country", "real_gdp_change_pct", "exports_change_full_pct"]
        return f"Simulation(year={self.year}, sigma={self.sigma}, reference={self.reference})\n" + repr(
            self.countries[[c for c in cols if c in self.countries]]
        )


def simulate(
    scenario: Union[str, "os.PathLike[str]", Dict[str, Any]],
    base_dir: Optional[str] = None,
    progress: bool = False,
) -> Simulation:
    """A general-equilibrium counterfactual, as ``gravity simulate``.

    Args:
        scenario: the path of a scenario TOML file (``data`` relative to it), or a
            dict with the same keys (``shock`` a list of dicts), e.g.
            ``{"data": "panel.csv", "formula": "trade ~ rta | exporter^year + importer^year + pair",
            "year": 1994, "sigma": 7, "reference": "DEU",
            "shock": [{"variable": "rta", "value": 0, "between": ["CAN", "MEX", "USA"]}]}``.
        base_dir: for a dict, the directory relative paths are taken from
            (default: the current directory).
        progress: write a count of the finished Monte Carlo draws to stderr.

    Raises:
        ScenarioError: an invalid scenario (naming the key); the other
            :class:`GravityError` kinds for the data and the estimation.
    """
    if isinstance(scenario, dict):
        text = json.dumps(scenario)
        base = os.fspath(base_dir) if base_dir is not None else os.getcwd()
        out = _native.simulate_json(text, base, progress)
    elif isinstance(scenario, (str, os.PathLike)):
        out = _native.simulate_path(os.fspath(scenario), progress)
    else:
        raise TypeError(f"scenario must be a path or a dict, found {type(scenario).__name__}")
    return Simulation(json.loads(out))


def engine_version() -> str:
    """The version of the Rust engine."""
    return _native.engine_version()


__all__ = [
    "fepois",
    "feols",
    "etable",
    "simulate",
    "Fixest",
    "FixestMulti",
    "Simulation",
    "engine_version",
    *_error_names,
]
