"""Probabilistic sensitivity analysis: K parameter draws x N patients x arms.

Draw d's parameters come from `ParameterSpace.sample` and its patients from a seed
derived from (seed, d); within a draw every arm meets the same patients and random
numbers. Draws are grouped in chunks; each finished chunk is written to
OUT/chunks/ at once (write, then rename), so an interrupted run loses at most the
chunks in flight and a rerun with the same arguments does only what is missing. The
table is a pure function of (scenario, draws, patients, seed): the same serially, on
a LocalCluster or on a remote dask scheduler, in any chunk order.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from trdsim._version import __version__
from trdsim.analysis.decision import check_table
from trdsim.analysis.sampling import ParameterSpace
from trdsim.currency import number
from trdsim.currency import share as pct
from trdsim.errors import TrdsimError
from trdsim.runtime.distributed import claim_folder, dask_client, write_atomic
from trdsim.scenario import Scenario
from trdsim.simulation.run import BLOCK, arm_means_values
from trdsim.store.tables import arms_of

__all__ = [
    "RUN_FILE",
    "STAT_COLUMNS",
    "PsaRun",
    "chunk_size",
    "draw_seed",
    "evaluate_draws",
    "run_psa",
    "summarise",
]

RUN_FILE = "psa_run.json"
CHUNK_DIR = "chunks"
DRAWS_FILE = "draws.parquet"
WORK_PER_CHUNK = 1e8  # patient-weeks per chunk: a few seconds, so little is lost on a stop
PROGRESS_STEPS = 20  # chunks of a run in this process: the progress bar moves in steps
CHUNKS_PER_WORKER = 4  # chunks per dask worker: uneven chunks still keep every worker busy
# In this process consecutive chunks go through the kernel together, up to these (and are
# then saved one by one): fewer, longer parallel regions (about a second of work each),
# which is what a stop loses at most. On shared cores 50-draw calls ran up to half as
# fast in some measurements and as fast in others (too noisy to settle). Memory: about
# 200 bytes per patient in the call (the default PSA's peak went from ~410 to ~540 MB).
WORK_PER_CALL = 4e8  # patient-weeks
PATIENTS_PER_CALL = 1_000_000
STAT_COLUMNS = ("cost_var", "qaly_var", "dcost_var", "dqaly_var", "dcov")
# Below these the report says plainly that the run is too small for its conclusions.
NOISE_SHARE_WARN = 0.10  # share of the spread of incremental NMB due to patient-level noise
P_CE_MCSE_WARN = 0.02  # Monte Carlo SE of a probability cost-effective


def draw_seed(seed: int, draw: int) -> int:
    """The patients' seed of one draw (independent streams per draw)."""
    return int(np.random.SeedSequence([seed, draw]).generate_state(1, np.uint64)[0] >> 1)


def chunk_size(draws: int, patients: int, arms: int, horizon: int, workers: int = 1) -> int:
    """Draws per chunk: each worker gets several chunks (and the progress bar about
    PROGRESS_STEPS steps), no chunk holds more than WORK_PER_CHUNK patient-weeks (little
    is lost on a stop) or more patients than one kernel call takes (BLOCK)."""
    by_work = WORK_PER_CHUNK // max(patients * arms * horizon, 1)
    by_workers = -(-draws // max(workers * CHUNKS_PER_WORKER, PROGRESS_STEPS))
    return int(max(1, min(by_work, by_workers, max(BLOCK // patients, 1))))


def evaluate_draws(
    scenario: Scenario,
    values: pd.DataFrame,
    patients: int,
    seed: int,
    threads: int | None = None,
    parameters: bool = True,
    block: int = BLOCK,
) -> pd.DataFrame:
    """Rows (draw, arm, cost, qaly, patient-level statistics, parameters) for some draws;
    without the parameters' columns if not `parameters`. block: patients per kernel call
    (at least one draw's; the numbers do not depend on it).

    The draws go through the kernel together (`arm_means_values`: inputs compiled for
    all of them in one pass, up to BLOCK patients a call): the same numbers as one call
    per draw, bit for bit.
    """
    if threads is not None:
        numba.set_num_threads(threads)
    draws = [int(d) for d in values.index]
    cols = {k: values[k].to_numpy(dtype=np.float64) for k in values.columns}
    size = max(block // patients, 1)  # draws per kernel call
    means = []
    for k in range(0, len(draws), size):
        part = {key: x[k : k + size] for key, x in cols.items()}
        seeds = [draw_seed(seed, d) for d in draws[k : k + size]]
        means += arm_means_values(scenario, part, seeds, patients)
    arms = list(scenario.arms)
    stats = ("cost", "qaly", *STAT_COLUMNS)
    table = {
        "draw": np.repeat(draws, len(arms)),
        "arm": np.tile(np.array(arms, dtype=object), len(draws)),
        **{f: np.concatenate([getattr(m, f) for m in means]) for f in stats},
    }
    if parameters:
        params = values.to_numpy()
        for j, key in enumerate(values.columns):
            table[key] = np.repeat(params[:, j], len(arms))
    return pd.DataFrame(table)


@dataclass(frozen=True)
class PsaRun:
    """What defines a PSA run; a rerun resumes only if this matches."""

    scenario_hash: str
    draws: int
    patients: int
    seed: int
    chunk: int
    version: str

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2)


def _chunk_path(out: Path, first: int, last: int) -> Path:
    return out / CHUNK_DIR / f"draws_{first:07d}-{last:07d}.parquet"


def _run_chunks(scenario, values, patients, seed, out, bounds, client, progress, on_chunk):
    """Compute and save the chunks not yet on disk, here or on the dask client."""
    todo = [(a, b) for a, b in bounds if not _chunk_path(out, a, b).exists()]
    done = int(values.shape[0]) - sum(b - a + 1 for a, b in todo)
    if progress is not None and done:
        progress(done)

    def save(a: int, b: int, df: pd.DataFrame) -> None:
        nonlocal done
        write_atomic(df, _chunk_path(out, a, b))
        done += b - a + 1
        if progress is not None:
            progress(b - a + 1)
        if on_chunk is not None:
            on_chunk(done)

    # chunk files hold the simulated columns only: run_psa adds the parameters' from
    # `values` at the end (writing 70 parameter columns per chunk cost more than the rest)
    if client is None:
        work = patients * len(scenario.arms) * scenario.horizon_weeks
        most = max(1, min(int(WORK_PER_CALL // work), PATIENTS_PER_CALL // patients))
        for group in _consecutive(todo, most):
            a0, b1 = group[0][0], group[-1][1]
            df = evaluate_draws(
                scenario, values.loc[a0:b1], patients, seed, parameters=False, block=most * patients
            )
            for a, b in group:
                save(a, b, df[(df.draw >= a) & (df.draw <= b)].reset_index(drop=True))
        return
    from dask.distributed import as_completed

    sc = client.scatter(scenario, broadcast=True)
    futures = {
        client.submit(evaluate_draws, sc, values.loc[a:b], patients, seed, 1, False, pure=False): (
            a,
            b,
        )
        for a, b in todo
    }
    for fut in as_completed(futures):
        a, b = futures[fut]
        save(a, b, fut.result())


def _consecutive(bounds: list[tuple[int, int]], most: int) -> list[list[tuple[int, int]]]:
    """Runs of consecutive chunks (draws a..b) of at most `most` draws (or one chunk)."""
    groups: list[list[tuple[int, int]]] = []
    for a, b in bounds:
        g = groups[-1] if groups else None
        if g and g[-1][1] + 1 == a and b - g[0][0] + 1 <= most:
            g.append((a, b))
        else:
            groups.append([(a, b)])
    return groups


def run_psa(
    scenario: Scenario,
    draws: int,
    patients: int,
    out: Path,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int], None] | None = None,
    on_chunk: Callable[[int], None] | None = None,
    chunk: int | None = None,
) -> pd.DataFrame:
    """Run (or resume) a PSA into `out`; returns the full draws table.

    workers/scheduler: None/None runs in this process; otherwise dask.distributed.
    chunk: draws per chunk (default from the draws, the work per draw and the number of
    workers; the table does not depend on it, but a resumed run must use the same).
    progress(n) is called with the number of draws finished; on_chunk(done) after each
    chunk is saved (tests use it to interrupt a run).
    """
    if draws < 1 or patients < 1:
        raise TrdsimError(f"draws ({draws}) and patients ({patients}) must be at least 1")
    if workers is not None and workers < 1:
        raise TrdsimError(f"--workers {workers}: must be at least 1")
    s = scenario.seed if seed is None else int(seed)
    space = ParameterSpace(scenario)
    if not space.keys:
        raise TrdsimError(f"{scenario.source}: no parameter has a distribution; nothing to draw")
    values, _ = space.sample(np.arange(draws), s)  # validates every draw before any work
    if chunk is not None and chunk < 1:
        raise TrdsimError(f"chunk {chunk}: must be at least 1 draw")
    out = Path(out)
    # connect first: an unreachable scheduler must not leave a half-made run folder
    client, cluster = (
        (None, None) if workers is None and scheduler is None else dask_client(workers, scheduler)
    )
    try:
        if chunk is None:
            n_workers = 1 if client is None else max(len(client.scheduler_info()["workers"]), 1)
            chunk = chunk_size(
                draws, patients, len(scenario.arms), scenario.horizon_weeks, n_workers
            )
        run = PsaRun(scenario.hash, draws, patients, s, chunk, __version__)
        claim_folder(out, RUN_FILE, json.loads(run.to_json()), "PSA run")
        if (out / DRAWS_FILE).exists():  # finished before: nothing to redo
            if progress is not None:
                progress(draws)
            return pd.read_parquet(out / DRAWS_FILE)
        (out / CHUNK_DIR).mkdir(exist_ok=True)
        bounds = [(a, min(a + chunk, draws) - 1) for a in range(0, draws, chunk)]
        _run_chunks(scenario, values, patients, s, out, bounds, client, progress, on_chunk)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    # chunks written by an earlier version also hold the parameters: read the rest only
    columns = ["draw", "arm", "cost", "qaly", *STAT_COLUMNS]
    table = pd.concat([pd.read_parquet(_chunk_path(out, a, b), columns=columns) for a, b in bounds])
    table = table.sort_values(["draw", "arm"], key=_arm_order(scenario.arms)).reset_index(drop=True)
    params = values.loc[table["draw"].to_numpy()].reset_index(drop=True)
    table = pd.concat([table, params], axis=1)
    write_atomic(table, out / DRAWS_FILE)
    shutil.rmtree(out / CHUNK_DIR)  # resume data, superseded by the table
    return table


def _arm_order(arms: list[str]):
    rank = {a: i for i, a in enumerate(arms)}
    return lambda col: col.map(rank) if col.name == "arm" else col


def summarise(
    draws: pd.DataFrame, thresholds: list[float], patients: int | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Mean incremental cost, QALYs and NMB (vs the first arm, the comparator column) with
    95 % intervals, in long form: quantity inc_cost / inc_qaly (threshold null) or inc_nmb
    at each threshold.

    With the patient-level columns of a trdsim PSA, the variance of each incremental
    quantity over draws is split into patient-level noise (mean within-draw variance
    of the paired difference / N) and parameter uncertainty (the rest). Returns the
    table and plain-language warnings when N or K is too small for the conclusions.
    """
    df = check_table(draws)
    arms = arms_of(df)
    k = df["draw"].nunique()
    has_noise = all(c in df.columns for c in STAT_COLUMNS) and patients
    rows, warnings = [], []
    base = df[df.arm == arms[0]].set_index("draw")
    for a in arms[1:]:
        d = df[df.arm == a].set_index("draw")
        dc = d.cost - base.cost
        dq = d.qaly - base.qaly
        quantities = [("inc_cost", np.nan, dc, d.get("dcost_var"))]
        quantities.append(("inc_qaly", np.nan, dq, d.get("dqaly_var")))
        for lam in thresholds:
            noise = None
            if has_noise:
                noise = lam**2 * d.dqaly_var + d.dcost_var - 2 * lam * d.dcov
            quantities.append(("inc_nmb", float(lam), lam * dq - dc, noise))
        for name, lam, x, within in quantities:
            total_var = float(x.var(ddof=1)) if k > 1 else np.nan
            row = {
                "arm": a,
                "comparator": arms[0],
                "quantity": name,
                "threshold": lam,
                "mean": float(x.mean()),
                "low_95": float(x.quantile(0.025)),
                "high_95": float(x.quantile(0.975)),
                "mcse": float(np.sqrt(total_var / k)) if k > 1 else np.nan,
                "p_positive": float((x > 0).mean()),
            }
            if has_noise and within is not None:
                noise_var = float(within.mean()) / patients
                row["noise_var"] = noise_var
                row["parameter_var"] = max(total_var - noise_var, 0.0)
                row["noise_share"] = noise_var / total_var if total_var > 0 else np.nan
            rows.append(row)
            if name == "inc_nmb":
                warnings += _warnings(
                    a, arms[0], number(lam), row, k, patients if has_noise else None
                )
    return pd.DataFrame(rows), warnings


def _warnings(arm, versus, lam, row, k, patients) -> list[str]:
    out = []
    share = row.get("noise_share", np.nan)
    if patients and np.isfinite(share) and share > NOISE_SHARE_WARN:
        need = patients * (share / (1 - share)) / (0.05 / 0.95) if share < 1 else np.inf
        out.append(
            f"{arm} vs {versus} at {lam}/QALY: patient-level noise is {pct(share, 0)} of the spread "
            f"of incremental NMB over draws with N = {patients:,} patients per draw, so the "
            f"intervals, CEAC and EVPI overstate parameter uncertainty; about "
            f"{number(need)} patients per draw would bring it under 5 %."
        )
    p = row["p_positive"]
    mcse_p = np.sqrt(p * (1 - p) / k)
    if mcse_p > P_CE_MCSE_WARN:
        out.append(
            f"{arm} vs {versus} at {lam}/QALY: probability of positive incremental NMB "
            f"{number(p, 2)} has Monte Carlo SE {number(mcse_p, 3)} with K = {k:,} draws; use "
            "more draws."
        )
    if np.isfinite(row["mcse"]) and abs(row["mean"]) < 1.96 * row["mcse"]:
        out.append(
            f"{arm} vs {versus} at {lam}/QALY: mean incremental NMB {number(row['mean'])} is "
            f"within 1.96 Monte Carlo SEs ({number(row['mcse'])}) of zero with K = {k:,} draws: the "
            "decision is not settled by this run."
        )
    return out
