"""python/examples/agtpa_rta_nafta.py runs and prints the book's RTA effect."""

import os
import subprocess
import sys

from conftest import REPO


def test_example_runs():
    path = os.path.join(REPO, "python", "examples", "agtpa_rta_nafta.py")
    out = subprocess.run([sys.executable, path], check=True, capture_output=True, text=True).stdout
    assert "0.557185    0.102235" in out      # rta and the book's s.e. (ssc="ppmlhdfe")
    assert "Observations                    28,482" in out
    assert "CAN" in out and "real_gdp_change_pct" in out
