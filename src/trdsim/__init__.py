"""trdsim: individual-level simulation of sequential vs integrated care for treatment-resistant depression.

The package face is lazy (PEP 562): `import trdsim` loads nothing heavy, and each name
below is imported on first use, so the command line answers `--help` at once and a
notebook pays only for what it touches.
"""

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

from trdsim._version import __version__

# numba's OpenMP threads otherwise spin between parallel regions; on cores shared with
# other work that spinning made a PSA up to 6x slower, and passive waiting costs about
# nothing on idle cores (`benchmarks/bench_psa.py --load`). Read when the threads start,
# so set before any kernel runs; a value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# public name -> the module that defines it
_LAZY = {
    "Result": "trdsim.analysis.compare",
    "simulate": "trdsim.analysis.compare",
    "Scenario": "trdsim.scenario",
    "load_scenario": "trdsim.scenario",
    "care": "trdsim.api",
    "care_sweep": "trdsim.api",
    "compare": "trdsim.api",
    "dsa": "trdsim.api",
    "psa": "trdsim.api",
    "read": "trdsim.api",
    "structural": "trdsim.api",
    "threshold": "trdsim.api",
    "two_way": "trdsim.api",
    "validate": "trdsim.api",
}
_SUBMODULES = {"report"}

__all__ = ["__version__", *sorted(_LAZY), *sorted(_SUBMODULES)]

if TYPE_CHECKING:  # the names for type checkers and editors
    from trdsim import report  # noqa: F401
    from trdsim.analysis.compare import Result, simulate  # noqa: F401
    from trdsim.api import (  # noqa: F401
        care,
        care_sweep,
        compare,
        dsa,
        psa,
        read,
        structural,
        threshold,
        two_way,
        validate,
    )
    from trdsim.scenario import Scenario, load_scenario  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = import_module(f"trdsim.{name}")
    else:
        raise AttributeError(f"module 'trdsim' has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
