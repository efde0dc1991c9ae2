"""The exceptions of :mod:`gravity_model`.

Every failure the engine reports is a :class:`GravityError` (a
``ValueError``), of the subclass named after the engine's error kind, with
the engine's message (and its ``hint:`` line, when there is one). Catch
``GravityError`` for all of them, or a subclass for one kind::

    try:
        gm.fepois("trade ~ ftaa | exporter", df)
    except gm.FormulaError as e:
        print(e)        # formula: unknown column 'ftaa' ... hint: did you mean 'fta'?
"""

from __future__ import annotations


class GravityError(ValueError):
    """Base class of every error the gravity-model engine reports.

    ``kind`` is the engine's error kind (``"Formula"``, ``"InvalidData"``, ...).
    """

    kind: str = "GravityError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class GravityIOError(GravityError):
    """A file could not be opened, read or written."""

    kind = "Io"


class InvalidDataError(GravityError):
    """Malformed input data: a cell, a row, a column, a header."""

    kind = "InvalidData"


class FormulaError(GravityError):
    """A formula that does not parse or names a column that does not exist."""

    kind = "Formula"


class ScenarioError(GravityError):
    """An invalid counterfactual scenario (the message names the key)."""

    kind = "Scenario"


class InvalidOptionError(GravityError):
    """An option value out of its range or not recognised."""

    kind = "InvalidOption"


class UnknownColumnError(GravityError):
    """A column the operation needs is missing or of the wrong type."""

    kind = "UnknownColumn"


class EmptySampleError(GravityError):
    """No observations are left to estimate on."""

    kind = "EmptySample"


class ZeroOutcomeError(GravityError):
    """The outcome is zero in every observation: PPML has no solution."""

    kind = "ZeroOutcome"


class TooFewClustersError(GravityError):
    """Clustered standard errors with fewer than two clusters."""

    kind = "TooFewClusters"


class CollinearError(GravityError):
    """A regressor that had to be kept was collinear."""

    kind = "Collinear"


class InvalidWorldError(GravityError):
    """General-equilibrium inputs that are inconsistent."""

    kind = "InvalidWorld"


class NotPositiveDefiniteError(GravityError):
    """A matrix that must be positive definite is not."""

    kind = "NotPositiveDefinite"


class DivergedError(GravityError):
    """An iteration diverged: values overflowed or became non-finite."""

    kind = "Diverged"


class NonFiniteError(GravityError):
    """A result that would be non-finite (NaN or infinite) is refused."""

    kind = "NonFinite"


class NoConvergenceError(GravityError):
    """An iterative solver stopped at its limit before its tolerance."""

    kind = "NoConvergence"


class InternalError(GravityError):
    """An internal invariant failed: a bug in gravity-model (please report it)."""

    kind = "Bug"


__all__ = [
    "GravityError",
    "GravityIOError",
    "InvalidDataError",
    "FormulaError",
    "ScenarioError",
    "InvalidOptionError",
    "UnknownColumnError",
    "EmptySampleError",
    "ZeroOutcomeError",
    "TooFewClustersError",
    "CollinearError",
    "InvalidWorldError",
    "NotPositiveDefiniteError",
    "DivergedError",
    "NonFiniteError",
    "NoConvergenceError",
    "InternalError",
]
