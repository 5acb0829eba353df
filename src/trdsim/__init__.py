"""trdsim: individual-level simulation of sequential vs integrated care for treatment-resistant depression."""

import os
from importlib.metadata import PackageNotFoundError, version

# numba's OpenMP threads otherwise spin between parallel regions; on cores shared with
# other work that spinning made a PSA up to 6x slower, and passive waiting costs about
# nothing on idle cores (`benchmarks/bench_psa.py --load`). Read when the threads start,
# so set before any kernel runs; a value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# first: modules imported below read it
try:
    __version__ = version("trdsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

from trdsim import report  # noqa: E402 - after __version__
from trdsim.api import (
    care,
    care_sweep,
    compare,
    dsa,
    psa,
    read,
    threshold,
    two_way,
    validate,
)
from trdsim.scenario import Scenario, load_scenario
from trdsim.simulate import Result, simulate

__all__ = [
    "Result",
    "Scenario",
    "__version__",
    "care",
    "care_sweep",
    "compare",
    "dsa",
    "load_scenario",
    "psa",
    "read",
    "report",
    "simulate",
    "threshold",
    "two_way",
    "validate",
]
