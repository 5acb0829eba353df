"""Running independent pieces of work on dask.distributed, and saving them safely.

Shared by the PSA and the care-system sweeps: a client for a LocalCluster of W
processes or a running scheduler, and atomic writes (write, then rename), so that a
folder never holds half a file and an interrupted run can resume from what is there.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from trdsim.errors import TrdsimError

__all__ = [
    "PARTIAL",
    "claim_folder",
    "clean_partials",
    "dask_client",
    "write_atomic",
    "write_text_atomic",
]

PARTIAL = ".partial"  # a file being written: renamed into place when whole


def dask_client(workers: int | None, scheduler: str | None):
    """(client, cluster): a running scheduler by address, or a LocalCluster of W processes."""
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            return Client(scheduler, timeout="10s"), None
        except (OSError, TimeoutError, ValueError) as e:
            raise TrdsimError(f"--scheduler {scheduler}: cannot connect ({e})") from None
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def write_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write a parquet file so that it either exists whole or not at all."""
    tmp = path.with_name(path.name + PARTIAL)
    df.to_parquet(tmp, index=False)
    tmp.replace(path)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a text file (a run's resume marker) so that it either exists whole or not
    at all: a run stopped while writing it leaves the old one (or none), never half."""
    tmp = path.with_name(path.name + PARTIAL)
    tmp.write_text(text)
    tmp.replace(path)


def clean_partials(out: Path) -> None:
    """Remove the half-written files (`*.partial`) an interrupted run left in `out` and its
    sub-folders: a resume redoes them."""
    if out.is_dir():
        for p in out.rglob(f"*{PARTIAL}"):
            if p.is_file():
                p.unlink(missing_ok=True)


def claim_folder(out: Path, marker: str, identity: dict, what: str) -> None:
    """Make `out` the folder of this run, or check that it already is.

    A folder holding a run with another identity, or other files, is refused with one
    message, so a resume never mixes two runs.
    """
    if out.exists() and not out.is_dir():
        raise TrdsimError(f"--out {out}: exists and is not a folder")
    path = out / marker
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError):
            raise TrdsimError(
                f"{path}: cannot be read (cut while written by an older trdsim?); "
                "remove it, or choose another --out"
            ) from None
        if old != identity:
            diff = ", ".join(
                f"{k} {old.get(k)!r} -> {v!r}" for k, v in identity.items() if old.get(k) != v
            )
            raise TrdsimError(
                f"--out {out}: holds a {what} with other arguments ({diff}); rerun with the "
                "same arguments to resume, or choose another --out"
            )
    elif out.exists() and any(not p.name.startswith(".trdsim") for p in out.iterdir()):
        raise TrdsimError(f"--out {out}: not empty and not a {what} folder; choose another")
    out.mkdir(parents=True, exist_ok=True)
    clean_partials(out)  # what a stopped run was writing: redone
    write_text_atomic(path, json.dumps(identity, indent=2, default=str))
