"""Numeric columns reach the engine without a copy where their layout allows:
the engine's frame reads the data frame's own float64 buffer (same address),
and any other layout costs one copy. Fits from borrowed and copied columns
are the same bit for bit."""

import numpy as np
import pandas as pd
import pytest

import gravity_model as gm
from gravity_model import _frame, _native

from conftest import fixture

FML = "trade ~ rta + sanction + ldist | exporter^year + importer^year"


def report(data, names):
    return {name: (how, address) for name, how, address in _frame.buffer_report(data, names)}


def native(arr):
    """The native hook on one array: how the engine's column got it, and its address."""
    [(_, how, address)] = _native._frame_report([("a", "f8", arr, None)])
    return how, address


def test_contiguous_float64_array_is_borrowed():
    a = np.linspace(0.0, 1.0, 1001)
    assert native(a) == ("borrowed", a.ctypes.data)
    ro = a.copy()
    ro.flags.writeable = False
    assert native(ro) == ("borrowed", ro.ctypes.data)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: a[::2],                                        # strided
        lambda a: a.astype(">f8"),                               # big-endian
        lambda a: a.astype(np.float32),                          # another dtype
        lambda a: np.frombuffer(b"\0" + a.tobytes(), dtype=np.float64, offset=1),  # misaligned
        lambda a: a.view(type("Sub", (np.ndarray,), {})),        # a subclass
        lambda a: (a * 10).astype(np.int64),                     # integers
    ],
    ids=["strided", "big-endian", "float32", "misaligned", "subclass", "int64"],
)
def test_other_layouts_are_copied_once(make):
    base = np.linspace(0.0, 1.0, 1001)
    arr = make(base)
    how, address = native(arr)
    assert how == "copied"
    assert address != arr.__array_interface__["data"][0]
    # The copy holds the same numbers (rta-like values convert exactly).
    expected = np.array(arr, dtype=np.float64)
    with_copy = pd.DataFrame({"y": expected})
    assert _frame.buffer_report(with_copy, ["y"])[0][1] == "borrowed"


def test_two_dimensional_array_is_an_error():
    with pytest.raises(gm.InvalidOptionError, match="one dimension"):
        native(np.zeros((3, 2)))


def test_pandas_float64_columns_are_borrowed_others_copied(balanced):
    df = balanced.copy()
    df["strided"] = 0.0
    names = ["ldist", "trade", "rta", "exporter"]
    r = report(df, names)
    assert df["ldist"].dtype == np.float64
    assert r["ldist"] == ("borrowed", df["ldist"].to_numpy(copy=False).ctypes.data)
    assert r["trade"][0] == "copied" and df["trade"].dtype == np.int64
    assert r["rta"][0] == "copied"
    assert r["exporter"] == ("factor", 0)


def test_pandas_columns_of_user_arrays_are_read_in_place():
    rng = np.random.default_rng(1)
    y = rng.poisson(3.0, 500).astype(np.float64)
    x = rng.normal(size=500)
    df = pd.DataFrame({"y": y, "x": x}, copy=False)
    if not np.shares_memory(df["y"].to_numpy(copy=False), y):
        pytest.skip("this pandas copied the arrays when building the DataFrame")
    r = report(df, ["y", "x"])
    assert r["y"] == ("borrowed", y.ctypes.data)
    assert r["x"] == ("borrowed", x.ctypes.data)
    # A column of a 2-D block is strided: one copy.
    block = np.column_stack([y, x])
    wide = pd.DataFrame(block, columns=["y", "x"], copy=False)
    if wide["x"].to_numpy(copy=False).flags.c_contiguous:
        pytest.skip("this pandas stored the 2-D array column by column")
    assert report(wide, ["x"])["x"][0] == "copied"


def test_polars_float64_without_nulls_is_borrowed():
    pl = pytest.importorskip("polars")
    chunked = pl.concat([pl.read_csv(fixture("parity", "balanced.csv"))] * 2, rechunk=False)
    assert chunked["ldist"].n_chunks() > 1
    assert report(chunked, ["ldist"])["ldist"][0] == "copied"  # several Arrow buffers: one copy
    df = chunked.rechunk()
    r = report(df, ["ldist", "trade"])
    assert r["ldist"] == ("borrowed", df["ldist"].to_numpy(allow_copy=False).ctypes.data)
    assert r["trade"][0] == "copied"  # Int64
    with_null = df.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("ldist")).alias("ldist"))
    how, _ = report(with_null, ["ldist"])["ldist"]
    assert how == "copied"
    filled = with_null["ldist"].cast(pl.Float64).to_numpy()
    assert np.isnan(filled[3])


def test_fits_from_borrowed_and_copied_columns_are_identical(balanced):
    df = balanced.copy()
    for c in ["ldist", "ltrade"]:
        assert df[c].dtype == np.float64
    copied = df.copy()
    copied["ldist"] = copied["ldist"].astype("Float64")        # nullable: copied
    assert report(df, ["ldist"])["ldist"][0] == "borrowed"
    assert report(copied, ["ldist"])["ldist"][0] == "copied"
    a = gm.fepois(FML, df, vcov={"CRV1": "pair"})
    b = gm.fepois(FML, copied, vcov={"CRV1": "pair"})
    pd.testing.assert_frame_equal(a.tidy(), b.tidy(), check_exact=True)
    assert a.deviance == b.deviance
    np.testing.assert_array_equal(a.predict(), b.predict())
    ols = "ltrade ~ ldist + rta | exporter^year + importer^year"
    pos = df[df["trade"] > 0]
    wide = pd.DataFrame(np.column_stack([pos["ltrade"], pos["ldist"]]), columns=["ltrade", "ldist"])
    other = pos.drop(columns=["ltrade", "ldist"]).reset_index(drop=True).join(wide)
    c = gm.feols(ols, pos.reset_index(drop=True))
    d = gm.feols(ols, other)
    pd.testing.assert_frame_equal(c.tidy(), d.tidy(), check_exact=True)


def test_borrowed_arrays_are_released_after_the_call():
    # The frame holds a reference to each borrowed array while it lives, and
    # gives it back when the call ends (no leak).
    import gc
    import sys

    a = np.linspace(1.0, 2.0, 64)
    before = sys.getrefcount(a)
    native(a)
    gc.collect()
    assert sys.getrefcount(a) == before, "the hook's frame released the array"
