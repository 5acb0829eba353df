"""Compile, ahead of a command's work, exactly the kernel functions that command runs.

The first run on a machine compiles them (numba); later runs load them from numba's
cache in about a second. Each command says which paths it takes (`SIMULATE` for the
per-patient run of compare, trial, validate, calibrate, DSA and threshold; `BATCH` for
the PSA's batched draws; `CARE` for the care system's week-by-week calls), so it
compiles only what it needs, and says so before it starts instead of sitting silent
inside its first progress bar.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from trdsim.scenario import Scenario

__all__ = ["BATCH", "CARE", "COMPILE_SECONDS", "SIMULATE", "compile_notice", "warm_up"]

SIMULATE, BATCH, CARE = "simulate", "batch", "care"

# Seconds each path takes to compile from an empty cache on the reference machine
# (2 cores, load 1), measured on 2026-12-08: SIMULATE and CARE the medians of three cold
# runs less a warm one in `benchmarks/bench_start.py` (31.8 s, 64.4 s); BATCH a cold
# `trdsim psa --draws 3 --patients 1000 --no-evppi` less a warm one (35.2 s). They set
# the "about N s" of the notice, so a user knows whether to wait or worry.
COMPILE_SECONDS = {SIMULATE: 32, BATCH: 35, CARE: 64}

NOTICE_AFTER = 2.0  # seconds: loading compiled functions from numba's cache takes less


def expected_seconds(kinds: Iterable[str]) -> int:
    """About how long compiling `kinds` takes on the reference machine."""
    return sum(COMPILE_SECONDS[k] for k in set(kinds))


@contextmanager
def compile_notice(
    kinds: Iterable[str] = (SIMULATE,),
    stream: TextIO | None = None,
    after: float = NOTICE_AFTER,
) -> Iterator[None]:
    """Within the block, print a notice to `stream` (stderr) if it lasts over `after` s
    (loading from the cache does not), and how long it took at the end."""
    out = sys.stderr if stream is None else stream
    told = threading.Event()
    done = threading.Event()
    about = expected_seconds(kinds)

    def tell() -> None:
        if not done.is_set():
            told.set()
            print(
                f"compiling the model (first run only, about {about} s on 2 cores) ...",
                file=out,
                flush=True,
            )

    timer = threading.Timer(after, tell)
    timer.daemon = True
    t0 = time.perf_counter()
    timer.start()
    try:
        yield
    finally:
        done.set()
        timer.cancel()
        if told.is_set():
            print(
                f"compiled in {time.perf_counter() - t0:.0f} s; later runs start at once",
                file=out,
                flush=True,
            )


def warm_up(scenario: Scenario, kinds: Iterable[str] = (SIMULATE,)) -> None:
    """Compile (or load from the cache) every kernel function that `kinds` of run of
    `scenario` use: one patient of each arm over the horizon (SIMULATE), the same as a
    batch of one draw (BATCH)."""
    kinds = set(kinds)
    unknown = kinds - {SIMULATE, BATCH}
    if unknown:  # CARE is the care system's own (care_system.warm_up_care: a layer up)
        raise ValueError(f"warm_up compiles {SIMULATE!r} and {BATCH!r}, not {sorted(unknown)}")
    if SIMULATE in kinds:
        from trdsim.simulation.run import arm_means

        arm_means(scenario, 1, scenario.seed)
    if BATCH in kinds:
        from trdsim.simulation.run import arm_means_values

        arm_means_values(scenario, {}, [scenario.seed], 1)
