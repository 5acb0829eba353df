"""How big a run is before it starts: an estimate of time and memory, and a refusal
above a limit unless the user insists (`--force`).

The rates are this project's measurements (README, Performance: `benchmarks/`), taken
conservatively; they make the estimate an order of magnitude, not a promise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from trdsim.errors import TrdsimError

__all__ = ["ANNOUNCE_SECONDS", "RunSize", "check", "estimate", "physical_memory"]

PATIENT_WEEKS_PER_S = 1.5e8  # full kernel over all arms on 2 cores, with its overheads
KERNEL_BYTES = 170  # per patient while simulating: attributes, state and outputs
TABLE_BYTES = 160  # per patient and arm in a `compare` patient table (about 20 columns)
MAX_SECONDS = 3600.0  # longer than this needs --force
ANNOUNCE_SECONDS = 30.0  # longer than this: the estimate is printed before the run
MEMORY_SHARE = 0.8  # of this machine's physical memory


@dataclass(frozen=True)
class RunSize:
    """An estimate of one run."""

    patient_weeks: float
    seconds: float
    bytes: float

    def describe(self) -> str:
        return (
            f"{self.patient_weeks:,.0f} patient-weeks: about {_duration(self.seconds)} and "
            f"{self.bytes / 2**30:,.1f} GB of memory"
        )


def _duration(s: float) -> str:
    if s < 120:
        return f"{s:,.0f} s"
    if s < 7200:
        return f"{s / 60:,.0f} min"
    return f"{s / 3600:,.1f} h"


def estimate(
    patients: int, arms: int, weeks: int, draws: int = 1, table: bool = False, block: int = 0
) -> RunSize:
    """Time and peak memory of simulating `draws` x `patients` x `arms` x `weeks`.

    table: the run keeps a per-patient table (`compare`, `trial`); block: patients held
    in the kernel at once (0: all of them)."""
    pw = float(patients) * arms * weeks * draws
    held = min(patients, block) if block else patients
    mem = KERNEL_BYTES * float(held) + (TABLE_BYTES * float(patients) * arms if table else 0.0)
    return RunSize(pw, pw / PATIENT_WEEKS_PER_S, mem)


def physical_memory() -> float:
    """Bytes of physical memory on this machine."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return float("inf")


def check(size: RunSize, force: bool) -> None:
    """TrdsimError if the run would not fit in memory, or would take over an hour
    without `force` (a run that cannot fit is refused even then)."""
    limit = MEMORY_SHARE * physical_memory()
    if size.bytes > limit:
        raise TrdsimError(
            f"this run needs {size.describe()}, more than this machine's "
            f"{limit / 2**30:,.1f} GB: use fewer patients (or run a PSA in chunks on dask)"
        )
    if size.seconds > MAX_SECONDS and not force:
        raise TrdsimError(
            f"this run is large ({size.describe()}); add --force to run it anyway, or use "
            "fewer patients or draws"
        )
