"""Data frames (pandas, polars, anything with the Arrow PyCapsule interface)
to the columns the engine takes.

A numeric or boolean column goes over as its float64 buffer (missing values
as NaN): for a float64 column without missing values that buffer is the
column's own, handed to the engine, which copies it once into its frame.
Strings, categoricals and other objects go over as factors: int32 codes in
order of first appearance (as the engine's CSV reader numbers levels) and
the level names as text.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ._errors import UnknownColumnError

Column = Tuple[str, str, bytes, Optional[List[str]]]


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


def _pandas_column(s: pd.Series, name: str) -> Column:
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        data, levels = _factor(s)
        return (name, "cat", data, levels)
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        if dtype == np.float64:
            arr = s.to_numpy(copy=False)
        else:
            arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return (name, "f8", np.ascontiguousarray(arr, dtype=np.float64).tobytes(), None)
    data, levels = _factor(s)
    return (name, "cat", data, levels)


def _polars_column(s: Any, name: str) -> Column:
    import polars as pl

    dtype = s.dtype
    if dtype.is_numeric() or dtype == pl.Boolean:
        arr = s.cast(pl.Float64).to_numpy()
        return (name, "f8", np.ascontiguousarray(arr, dtype=np.float64).tobytes(), None)
    text = s.cast(pl.String)
    uniques = text.unique(maintain_order=True).drop_nulls()
    codes = (
        text.replace_strict(
            uniques, pl.Series(np.arange(len(uniques), dtype=np.int32)), default=-1, return_dtype=pl.Int32
        )
        .fill_null(-1)
        .to_numpy()
    )
    return (name, "cat", np.ascontiguousarray(codes, dtype=np.int32).tobytes(), uniques.to_list())


def columns(data: Any, names: Sequence[str]) -> List[Column]:
    """The named columns of ``data`` for the engine."""
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


def _label(data: pd.DataFrame, name: str) -> Any:
    """The pandas column label whose text is ``name``."""
    for c in data.columns:
        if str(c) == name:
            return c
    raise UnknownColumnError(f"unknown column '{name}'")
