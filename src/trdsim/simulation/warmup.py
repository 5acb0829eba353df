"""The first run on a machine compiles the kernel (numba, about a minute on 2 cores);
later runs load it from numba's cache in about a second. Commands compile it up front,
saying so when it takes a while, instead of sitting silent inside the first progress bar.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["compile_notice", "warm_up"]

NOTICE_AFTER = 2.0  # seconds: loading compiled functions from numba's cache takes less


@contextmanager
def compile_notice(stream: TextIO | None = None, after: float = NOTICE_AFTER) -> Iterator[None]:
    """Within the block, print a notice to `stream` (stderr) if it lasts over `after` s,
    and how long it took at the end."""
    out = sys.stderr if stream is None else stream
    told = threading.Event()
    done = threading.Event()

    def tell() -> None:
        if not done.is_set():
            told.set()
            print("compiling the model (first run only; about a minute) ...", file=out, flush=True)

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


def warm_up(scenario) -> None:
    """Compile (or load from the cache) every kernel function a run of `scenario` uses:
    one patient of each arm over the horizon, alone and as a batch of one draw (whose
    inputs and patients the PSA's batched functions make)."""
    from trdsim.simulation.run import arm_means, arm_means_values

    arm_means(scenario, 1, scenario.seed)
    arm_means_values(scenario, {}, [scenario.seed], 1)
