"""The Python API: each analysis as one call returning its result object.

    import trdsim
    r = trdsim.compare("uk_nhs", patients=2000)   # Result: r.table, r.summary(), r.plot()
    p = trdsim.psa("uk_nhs", draws=200, patients=500)
    p.write("results/uk_nhs/psa"); trdsim.report.write_report("results/uk_nhs")

Every function takes a Scenario or a scenario name / TOML path, and an optional
`progress(n)` callback (a tqdm bar's `update`). Heavy modules are imported on call, so
`import trdsim` stays light and never touches matplotlib's state.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from trdsim.errors import TrdsimError
from trdsim.scenario import Scenario, load_scenario

if TYPE_CHECKING:
    from trdsim.analysis.compare import Result
    from trdsim.analysis.dsa import DsaResult, ThresholdResult, TwoWayResult
    from trdsim.analysis.results import Population, PsaResult
    from trdsim.analysis.structural import StructuralResult
    from trdsim.care_result import CareResult
    from trdsim.sweep import SweepResult
    from trdsim.validation.validate import ValidationResult

__all__ = [
    "care",
    "care_sweep",
    "compare",
    "dsa",
    "psa",
    "read",
    "structural",
    "threshold",
    "two_way",
    "validate",
]


def _scenario(s: Scenario | str | None) -> Scenario:
    return s if isinstance(s, Scenario) else load_scenario(s)


def _cut(value: object) -> str:
    """A value as a message shows it: its repr, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _whole(name: str, value, minimum: int = 1, maximum: int | None = None, meaning: str = ""):
    """`value` (None passes) as a whole number in [minimum, maximum]; TrdsimError, one line
    as the CLI says it, for anything else (100.5, True, '3', 0, a seed beyond 2**63 - 1)."""
    import numbers

    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TrdsimError(f"{name}={_cut(value)}: is not a whole number")
    v = int(value)
    if v < minimum or (maximum is not None and v > maximum):
        raise TrdsimError(f"{name}={v}: must be {meaning or f'at least {minimum}'}")
    return v


def _seed(seed):
    from trdsim.scenario import MAX_SEED

    return _whole("seed", seed, 0, MAX_SEED, f"between 0 and {MAX_SEED} (2**63 - 1)")


def _threads(threads):
    import numba

    most = numba.config.NUMBA_NUM_THREADS
    meaning = f"from 1 to {most} (this machine's most; set NUMBA_NUM_THREADS to change it)"
    return _whole("threads", threads, 1, most, meaning)


def _by(by) -> list[str] | None:
    """Subgroup attributes: one ('severity', 'severity:17,24') or a list; each checked."""
    from trdsim.analysis.subgroups import parse_by

    if by is None:
        return None
    specs = [by] if isinstance(by, str) else list(by)
    for spec in specs:
        if not isinstance(spec, str):
            raise TrdsimError(f"by={_cut(spec)}: give attribute names such as 'severity'")
        try:
            parse_by(spec)
        except ValueError as e:
            raise TrdsimError(f"by={_cut(spec)}: {e}") from None
    return specs


def compare(
    scenario: Scenario | str | None = None,
    patients: int | None = None,
    seed: int | None = None,
    by: list[str] | None = None,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Every arm of the scenario for one cohort (common random numbers): per-arm results,
    the incremental analysis and net benefit; `by` adds subgroup tables."""
    from trdsim.analysis.compare import simulate

    patients, seed, threads = _whole("patients", patients), _seed(seed), _threads(threads)
    by = _by(by)
    r = simulate(_scenario(scenario), patients, seed, threads=threads, progress=progress)
    if by:
        r.subgroups(*by)
    return r


def psa(
    scenario: Scenario | str | None = None,
    draws: int = 1000,
    patients: int = 1000,
    seed: int | None = None,
    groups: dict[str, list[str]] | None = None,
    evppi: bool = True,
    evppi_method: str = "auto",
    population: Population | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    folder: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
    evppi_progress: Callable[[int], None] | None = None,
) -> PsaResult:
    """A probabilistic sensitivity analysis and its value-of-information analysis.

    groups: EVPPI groups {name: [parameter keys]} (default: one per treatment and the
    economic groups); evppi=False skips EVPPI. folder: where the run's chunks are kept
    so an interrupted run resumes (default: a temporary folder). progress(n): draws
    done; evppi_progress(1): after each EVPPI group. The result's manifest
    names the scenario, seed and draws, so `.write(folder)` gives a folder the report
    reads.
    """
    import numpy as np

    from trdsim.analysis.evppi import default_groups
    from trdsim.analysis.metamodel import choose_method
    from trdsim.analysis.psa import run_psa
    from trdsim.analysis.results import analyse
    from trdsim.analysis.sampling import ParameterSpace
    from trdsim.evidence import parameter_table
    from trdsim.store.manifest import make_manifest

    draws, patients = _whole("draws", draws), _whole("patients", patients)
    seed, workers = _seed(seed), _whole("workers", workers)
    sc = _scenario(scenario)
    space = ParameterSpace(sc)
    if groups:
        groups = {name: [space.resolve(k) for k in keys] for name, keys in groups.items()}
    else:
        groups = default_groups(space.keys)
    if evppi:
        choose_method(evppi_method, draws)  # a bad name fails before the PSA
    seed = sc.seed if seed is None else int(seed)
    with tempfile.TemporaryDirectory(prefix="trdsim_psa_") as tmp:
        out = Path(folder) if folder is not None else Path(tmp)
        table = run_psa(sc, draws, patients, out, seed=seed, workers=workers,
                        scheduler=scheduler, progress=progress)  # fmt: skip
    _, clipped = space.sample(np.arange(draws), seed)
    m = make_manifest(
        sc, "psa", seed, patients, psa_draws=draws, evppi_groups=groups if evppi else {},
        population=population.__dict__ if population else None,
        clipped_to_keep_order={rule: n for rule, n in clipped.items() if n},
    )  # fmt: skip
    params = parameter_table(sc.params, sc.currency, sc.raw.get("resources"))
    return analyse(
        table, sc.thresholds, sc.currency, manifest=m, groups=groups if evppi else None,
        population=population, patients=patients, evppi_method=evppi_method, parameters=params,
        progress=evppi_progress,
    )  # fmt: skip


def dsa(
    scenario: Scenario | str | None = None,
    arm: str | None = None,
    versus: str | None = None,
    threshold: float | None = None,
    keys: list[str] | None = None,
    patients: int | None = None,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> DsaResult:
    """One-way sensitivity (tornado) of arm vs versus at a threshold."""
    from trdsim.analysis.dsa import dsa as one_way

    patients, seed = _whole("patients", patients), _seed(seed)
    return one_way(_scenario(scenario), arm, versus, threshold, keys, patients, seed,
                   progress=progress)  # fmt: skip


def two_way(
    scenario: Scenario | str | None,
    x: str,
    y: str,
    arm: str | None = None,
    versus: str | None = None,
    threshold: float | None = None,
    steps: int = 7,
    patients: int | None = None,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> TwoWayResult:
    """Two-way sensitivity over a steps x steps grid of parameters x and y."""
    from trdsim.analysis.dsa import two_way_map

    patients, seed, steps = _whole("patients", patients), _seed(seed), _whole("steps", steps, 2)
    return two_way_map(_scenario(scenario), x, y, arm, versus, threshold, steps, patients,
                       seed, progress=progress)  # fmt: skip


def structural(
    scenario: Scenario | str | None = None,
    variants: list[str] | None = None,
    file: str | Path | None = None,
    patients: int | None = None,
    seed: int | None = None,
    weights: dict[str, float] | None = None,
    progress: Callable[[int], None] | None = None,
) -> StructuralResult:
    """The scenario under its structural alternatives (evidence/structural.toml, or
    `file`): every variant on the same patients and random numbers; optional weights
    (summing to 1) give a model-averaged decision."""
    from trdsim.analysis.structural import structural as run

    return run(_scenario(scenario), variants, file, patients, seed, weights, progress)


def threshold(
    scenario: Scenario | str | None,
    parameter: str,
    target: float,
    arm: str | None = None,
    versus: str | None = None,
    low: float | None = None,
    high: float | None = None,
    patients: int | None = None,
    seed: int | None = None,
) -> ThresholdResult:
    """The value of `parameter` at which the ICER of arm vs versus equals `target`."""
    from trdsim.analysis.dsa import threshold as solve

    patients, seed = _whole("patients", patients), _seed(seed)
    return solve(_scenario(scenario), parameter, target, arm, versus, low, high, patients, seed)


def validate(
    scenario: Scenario | str | None = None,
    targets: str | Path | None = None,
    patients: int | None = None,
    seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ValidationResult:
    """Every validation target (the library's, or those of a targets file) measured."""
    from trdsim.validation.targets import load_targets
    from trdsim.validation.validate import PATIENTS, validation

    patients, seed = _whole("patients", patients), _seed(seed)
    sc = _scenario(scenario)
    return validation(sc, load_targets(targets, sc), patients or PATIENTS, seed, progress)


def care(
    scenario: Scenario | str | None = None,
    seed: int | None = None,
    settings: dict | None = None,
    progress: Callable[[int], None] | None = None,
) -> CareResult:
    """A care-system run over the scenario's horizon (settings: `--set` style values)."""
    from trdsim.care_result import care as run

    seed = _seed(seed)
    return run(scenario or "capacity_whatif", seed, settings, progress)


def care_sweep(
    scenario: Scenario | str,
    grid: dict[str, list],
    reps: int = 1,
    folder: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> SweepResult:
    """A care-system sweep over `grid` x `reps` replications (folder keeps finished runs
    so an interrupted sweep resumes; default: a temporary folder)."""
    from trdsim.sweep import sweep as run

    reps, workers = _whole("reps", reps), _whole("workers", workers)
    sc = _scenario(scenario)
    with tempfile.TemporaryDirectory(prefix="trdsim_sweep_") as tmp:
        out = Path(folder) if folder is not None else Path(tmp) / "sweep"
        return run(sc, grid, reps, out, workers, scheduler, progress)


def result_kinds() -> dict:
    """Every result class, by its analysis name: this layer knows every analysis, so it
    imports their modules (each result class registers itself on import)."""
    from trdsim import care_result, sweep  # noqa: F401
    from trdsim.analysis import compare, dsa, results, structural  # noqa: F401
    from trdsim.store.result import result_kinds as registered
    from trdsim.validation import validate as validation  # noqa: F401

    return registered()


def read(folder: str | Path):
    """The result object a trdsim command or `.write` left in `folder`."""
    from trdsim.store.result import read_result

    result_kinds()  # every result class registered
    if not Path(folder).is_dir():
        raise TrdsimError(f"{folder}: no such folder")
    return read_result(folder)
