"""How fast a new user's commands answer: import, --help, cold and warm first runs.

Run: .venv/bin/python benchmarks/bench_start.py [--repeats 3] [--skip-care]

Each figure is the median of `--repeats` runs, each in a fresh process:
  * `import trdsim` (target <= 1 s) and `trdsim --help` (target <= 1.5 s);
  * `trdsim compare --patients 2000 --report` cold (an empty numba cache: what a fresh
    clone meets; target <= 45 s) and warm (the cache filled by the cold run);
  * `trdsim care` cold (the default capacity_whatif scenario), also with --report.
Cold runs point NUMBA_CACHE_DIR at a new empty folder, so the project's own cache is
neither used nor disturbed. The load of the machine is printed with each figure: a cold
compile on shared cores takes up to twice as long.

The medians set the "about N s" of the compile notice (trdsim.simulation.warmup.
COMPILE_SECONDS): the compile part of a cold run is its time minus the warm run's.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRDSIM = [sys.executable, "-m", "trdsim.cli"]


def timed(cmd: list[str], env: dict | None = None) -> float:
    """Wall time of one run of `cmd` (which must succeed)."""
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0


def median_of(label: str, n: int, run) -> float:
    times = [run(i) for i in range(n)]
    m = statistics.median(times)
    load = os.getloadavg()[0]
    shown = ", ".join(f"{t:.2f}" for t in times)
    print(f"{label:<44} {m:7.2f} s  (runs: {shown}; load {load:.1f})", flush=True)
    return m


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-care", action="store_true", help="leave out the cold care run")
    args = ap.parse_args()
    n = args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)

        def env_with_cache(name: str) -> dict:
            return {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / name)}

        median_of("import trdsim", n, lambda i: timed([sys.executable, "-c", "import trdsim"]))
        median_of("trdsim --help", n, lambda i: timed([*TRDSIM, "--help"]))
        median_of("trdsim --version", n, lambda i: timed([*TRDSIM, "--version"]))

        def compare(i: int, cache: str) -> float:
            out = tmp_path / f"compare_{cache}_{i}"
            cmd = [*TRDSIM, "compare", "--patients", "2000", "--report", "--out", str(out)]
            return timed(cmd, env_with_cache(cache))

        cold = median_of(
            "trdsim compare --patients 2000 --report, cold", n, lambda i: compare(i, f"c{i}")
        )
        # warm: the cache the first cold run filled
        warm = median_of(
            "trdsim compare --patients 2000 --report, warm", n, lambda i: compare(i, "c0")
        )
        print(f"{'  compiling (cold - warm)':<44} {cold - warm:7.2f} s")
        if not args.skip_care:

            def care(i: int, cache: str) -> float:
                out = tmp_path / f"care_{cache}_{i}"
                cmd = [*TRDSIM, "care", "--out", str(out)]
                return timed(cmd, env_with_cache(cache))

            cold_care = median_of("trdsim care, cold", n, lambda i: care(i, f"k{i}"))
            warm_care = median_of("trdsim care, warm", n, lambda i: care(i, "k0"))
            print(f"{'  compiling (cold - warm)':<44} {cold_care - warm_care:7.2f} s")


if __name__ == "__main__":
    main()
