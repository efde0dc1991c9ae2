"""Shared paths and helpers of the gravity_model test suite."""

import os
import shutil
import subprocess

import pandas as pd
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "tests", "fixtures")


def fixture(*parts):
    return os.path.join(FIXTURES, *parts)


@pytest.fixture(scope="session")
def balanced():
    return pd.read_csv(fixture("parity", "balanced.csv"))


@pytest.fixture(scope="session")
def gravity_bin():
    """The `gravity` CLI: $GRAVITY_BIN, or target/release/gravity of the
    repository (python/run_tests.sh builds it); the tests that compare with
    the CLI are skipped without one."""
    candidates = [os.environ.get("GRAVITY_BIN"),
                  os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "release", "gravity"),
                  shutil.which("gravity")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    pytest.skip("the gravity CLI is not built (cargo build --release -p gravity-cli, or set GRAVITY_BIN)")


def run_cli(binary, *args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True, cwd=REPO)
    return out.stdout
