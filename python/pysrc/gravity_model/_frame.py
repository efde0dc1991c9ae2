"""Data frames (pandas, polars, anything with the Arrow PyCapsule interface)
to the columns the engine takes.

A numeric or boolean column goes over as a float64 numpy array (missing
values as NaN). A float64 column whose memory is already one contiguous,
aligned, native-endian float64 buffer goes over as a view of that buffer
(``Series.to_numpy()`` of a pandas float64 column; the Arrow buffer of a
polars float64 column without nulls), and the engine reads it in place,
without a copy. Any other layout (integers, booleans, a strided column of a
2-D block, nulls to fill with NaN, big-endian or misaligned data) costs one
copy. Strings, categoricals and other objects go over as factors: int32
codes in order of first appearance (as the engine's CSV reader numbers
levels) and the level names as text.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ._errors import UnknownColumnError

# name, "f8" (a float64 ndarray) or "cat" (int32 codes as bytes), levels
Column = Tuple[str, str, Any, Optional[List[str]]]


def _is_polars(data: Any) -> bool:
    mod = type(data).__module__
    return mod.startswith("polars")


def normalise(data: Any) -> Any:
    """A pandas or polars DataFrame for ``data``; objects with the Arrow
    PyCapsule interface (``__arrow_c_stream__``) go through polars or
    pyarrow, whichever is installed."""
    if isinstance(data, pd.DataFrame) or _is_polars(data) and hasattr(data, "get_column"):
        return data
    if hasattr(data, "__arrow_c_stream__"):
        try:
            import polars as pl

            return pl.DataFrame(data)
        except ImportError:
            import pyarrow as pa

            return pa.table(data).to_pandas()
    raise TypeError(
        f"data must be a pandas or polars DataFrame (or support the Arrow PyCapsule "
        f"interface), found {type(data).__name__}"
    )


def header(data: Any) -> List[str]:
    """The column names, as text."""
    return [str(c) for c in data.columns]


def index(data: Any) -> pd.Index:
    """The row labels: the pandas index, or 0..n-1 for polars."""
    if isinstance(data, pd.DataFrame):
        return data.index
    return pd.RangeIndex(data.height)


def _factor(values: Any) -> Tuple[bytes, List[str]]:
    codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    levels = [str(u) for u in np.asarray(uniques, dtype=object)]
    return np.ascontiguousarray(codes, dtype=np.int32).tobytes(), levels


def _pandas_column(s: pd.Series, name: str) -> Tuple[Column, bool]:
    """The column, and whether converting it copied its numbers."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        data, levels = _factor(s)
        return (name, "cat", data, levels), False
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        if isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize == 8:
            # A view of the column's own buffer (NaN is already missing);
            # the engine borrows it if contiguous, aligned and native-endian.
            return (name, "f8", s.to_numpy(copy=False), None), False
        return (name, "f8", s.to_numpy(dtype=np.float64, na_value=np.nan), None), True
    data, levels = _factor(s)
    return (name, "cat", data, levels), False


def _polars_column(s: Any, name: str) -> Tuple[Column, bool]:
    """The column, and whether converting it copied its numbers."""
    import polars as pl

    dtype = s.dtype
    if dtype.is_numeric() or dtype == pl.Boolean:
        # Float64 without nulls in one chunk: a view of the Arrow buffer
        # (64-byte aligned); otherwise one copy (nulls become NaN).
        if dtype == pl.Float64:
            try:
                return (name, "f8", s.to_numpy(allow_copy=False), None), False
            except Exception:  # polars: a copy is needed (nulls, chunks)
                pass
        return (name, "f8", s.cast(pl.Float64).to_numpy(), None), True
    text = s.cast(pl.String)
    uniques = text.unique(maintain_order=True).drop_nulls()
    codes = (
        text.replace_strict(
            uniques, pl.Series(np.arange(len(uniques), dtype=np.int32)), default=-1, return_dtype=pl.Int32
        )
        .fill_null(-1)
        .to_numpy()
    )
    return (name, "cat", np.ascontiguousarray(codes, dtype=np.int32).tobytes(), uniques.to_list()), False


def _columns(data: Any, names: Sequence[str]) -> List[Tuple[Column, bool]]:
    available = header(data)
    out = []
    for name in names:
        if name not in available:
            raise UnknownColumnError(f"unknown column '{name}'")
        if isinstance(data, pd.DataFrame):
            out.append(_pandas_column(data[_label(data, name)], name))
        else:
            out.append(_polars_column(data.get_column(name), name))
    return out


def columns(data: Any, names: Sequence[str]) -> List[Column]:
    """The named columns of ``data`` for the engine."""
    return [c for c, _ in _columns(data, names)]


def _label(data: pd.DataFrame, name: str) -> Any:
    """The pandas column label whose text is ``name``."""
    for c in data.columns:
        if str(c) == name:
            return c
    raise UnknownColumnError(f"unknown column '{name}'")


def buffer_report(data: Any, names: Sequence[str]) -> List[Tuple[str, str, int]]:
    """For the test suite: per named column of ``data``, how the engine's
    frame gets its numbers (``"borrowed"``: it reads the data frame's own
    buffer in place; ``"copied"``: one copy, here or in the engine;
    ``"factor"``) and the address of the numbers the engine reads (0 for a
    factor)."""
    from . import _native

    converted = _columns(normalise(data), list(names))
    report = _native._frame_report([c for c, _ in converted])
    out = []
    for (name, how, address), (_, copied) in zip(report, converted):
        out.append((name, "copied" if copied and how == "borrowed" else how, address))
    return out
