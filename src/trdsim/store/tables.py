"""A result's tables: declared once (`Table`), written as CSV or parquet, read back exactly
(every float as written), in one tidy form (blank text as nulls, arm columns as ordered
categoricals in the scenario's arm order)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from trdsim.errors import TrdsimError

__all__ = [
    "ARM_COLUMNS",
    "Table",
    "arms_of",
    "as_written",
    "read_csv_exact",
    "read_table",
    "tidy",
    "with_arm_order",
    "write_table",
]

# columns that hold arm names: kept as categoricals in the scenario's arm order
ARM_COLUMNS = ("arm", "comparator", "paired_with", "optimal_arm")


@dataclass(frozen=True)
class Table:
    """A table of a result: its file name and the columns it must have."""

    file: str
    columns: tuple[str, ...] = ()
    optional: bool = False  # absent when the analysis did not make it (e.g. no EVPPI)
    # one row per patient: megabytes, so a folder may be kept without it (the repository's
    # results/ are); it then reads as None, and what needs it says how to get it
    per_patient: bool = False


def arms_of(df: pd.DataFrame) -> list[str]:
    """Arm names in table order (the first is the comparator)."""
    if isinstance(df["arm"].dtype, pd.CategoricalDtype):
        return list(df["arm"].cat.categories)
    return list(dict.fromkeys(df["arm"]))


def with_arm_order(df: pd.DataFrame, arms: Iterable[str] | None) -> pd.DataFrame:
    """`df` with its arm columns (ARM_COLUMNS) as ordered categoricals in the order `arms`
    (arms unknown to `arms` are appended in order of appearance)."""
    if arms is None:
        return df
    order = [str(a) for a in arms]
    out = df.copy()
    for c in ARM_COLUMNS:
        if c in out.columns:
            values = out[c].astype(object).where(out[c].notna(), None)
            seen = [a for a in pd.unique(values.dropna().astype(str)) if a not in order]
            out[c] = pd.Categorical(values, categories=order + seen, ordered=True)
    return out


def tidy(df: pd.DataFrame, arms: Iterable[str] | None) -> pd.DataFrame:
    """A result table in its one form: blank text as nulls, arm columns as ordered
    categoricals in the order `arms`, a default index."""
    out = with_arm_order(df.reset_index(drop=True), arms)
    for c in out.columns:
        dt = out[c].dtype
        if isinstance(dt, pd.CategoricalDtype) or not (
            dt == np.dtype(object) or pd.api.types.is_string_dtype(dt)
        ):
            continue
        blank = out[c].map(lambda v: isinstance(v, str) and v == "", na_action="ignore")
        blank = blank.fillna(False).astype(bool)
        if blank.any():
            out[c] = out[c].mask(blank, np.nan)
    return out


# pandas 3 reads floats back exactly by default (and deprecates the option); 2.x needs it
_EXACT = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def read_csv_exact(source) -> pd.DataFrame:
    """pd.read_csv with every float read back exactly as it was written."""
    return pd.read_csv(source, **_EXACT)


def as_written(df: pd.DataFrame) -> pd.DataFrame:
    """The table as it reads back from its CSV file (the dtypes CSV holds), so that a
    result made in memory equals the one read from its folder."""
    return read_csv_exact(io.StringIO(df.reset_index(drop=True).to_csv(index=False)))


def write_table(df: pd.DataFrame, path: Path) -> Path:
    """A table as CSV or parquet (by the file's suffix)."""
    if path.suffix == ".parquet":
        plain = df.copy()
        for c in plain.columns:
            # parquet would keep the categories; the manifest's arm order is the one truth
            if isinstance(plain[c].dtype, pd.CategoricalDtype):
                plain[c] = plain[c].astype(object).where(plain[c].notna(), None)
        plain.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)
    return path


def read_table(path: Path, columns: tuple[str, ...] = (), arms: list[str] | None = None):
    """A table written by write_table, with the columns it must have; arm columns in the
    manifest's arm order. TrdsimError (one line) for a missing or foreign file."""
    if not path.is_file():
        raise TrdsimError(f"{path}: missing (the folder is incomplete; rerun the command)")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else read_csv_exact(path)
    except Exception as e:  # noqa: BLE001 - any reader failure is bad input here
        raise TrdsimError(f"{path}: cannot read ({e})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TrdsimError(
            f"{path}: has no column {', '.join(missing)}: written by another trdsim version? "
            "Rerun the command with this one"
        )
    return with_arm_order(df, arms)
