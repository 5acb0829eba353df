"""The one place where a result's files are written and read back.

Every analysis owns a result object (`Result` of `simulate`, `PsaResult`, `DsaResult`,
`ThresholdResult`, `ValidationResult`, `CareResult`, `SweepResult`). Each declares its
tables once (attribute -> file); `ResultBase` writes them, the manifest and the figures,
and reads them back so that `type(x).read(folder)` equals `x` after `x.write(folder)`.
The report, the CLI and the experiments go through these objects only.

Format 2 (this trdsim) writes long tables: comparator and threshold are columns, not
parts of column names; missing values are nulls; arm columns keep the scenario's arm
order (as an ordered categorical, restored from the manifest); statuses are codes of a
fixed vocabulary (`economics.STATUSES`). Format 1 folders (trdsim 0.1, no
`format_version` in the manifest) are still read by the report (`report/folder.py`).
"""

from __future__ import annotations

import io
import json
import platform
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from trdsim.errors import TrdsimError

__all__ = [
    "ARM_COLUMNS",
    "FORMAT_VERSION",
    "READABLE_FORMATS",
    "ResultBase",
    "Table",
    "format_of",
    "json_ready",
    "make_manifest",
    "read_manifest",
    "read_result",
    "result_kinds",
    "write_manifest",
]

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
# columns that hold arm names: kept as categoricals in the scenario's arm order
ARM_COLUMNS = ("arm", "comparator", "paired_with", "optimal_arm")
# manifest keys that change between two writes of the same result (not part of equality)
VOLATILE_KEYS = ("created_utc",)


@dataclass(frozen=True)
class Table:
    """A table of a result: its file name and the columns it must have."""

    file: str
    columns: tuple[str, ...] = ()
    optional: bool = False  # absent when the analysis did not make it (e.g. no EVPPI)


def make_manifest(
    scenario: Any,
    analysis: str,
    seed: int | None = None,
    patients: int | None = None,
    **extra: Any,
) -> dict:
    """What produced a result: the scenario (name, file, hash, every parameter value and
    the pathways), seed, patients, software versions, the analysis and `extra` (e.g. a
    PSA's draws, a care run's --set values). Enough to repeat it exactly."""
    import numba

    from trdsim._version import __version__
    from trdsim.evidence import flatten
    from trdsim.pathways import rule_moderation

    sc = scenario

    def moderated(pathway: dict) -> dict:
        # each rule carrying what the library says its attribute does
        if "rules" not in pathway:
            return pathway
        rules = [
            r | {"moderation": rule_moderation(r, pathway["steps"], sc.params)}
            for r in pathway["rules"]
        ]
        return pathway | {"rules": rules}

    m = {
        "format_version": FORMAT_VERSION,
        "analysis": analysis,
        "scenario": sc.name,
        "description": sc.description,
        "scenario_file": sc.source,
        "scenario_hash": sc.hash,
        "seed": sc.seed if seed is None else int(seed),
        "patients": sc.patients if patients is None else int(patients),
        "trdsim_version": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "setting": sc.setting,
        "currency": sc.currency,
        "price_year": sc.price_year,
        "perspective": sc.perspective,
        "horizon_weeks": sc.horizon_weeks,
        "discount_costs": sc.discount_costs,
        "discount_qalys": sc.discount_qalys,
        "thresholds": sc.thresholds,
        "life_table": sc.life_table,
        "cohort_start": sc.start,
        "failed_trials_at_entry": sc.failed_trials,
        "arms": sc.arms,
        "pathways": {a: moderated(sc.pathways[a]) for a in sc.arms},
        "parameters": {k: p["value"] for k, p in flatten(sc.params).items()},
        "text_parameters": {
            f"{section}.{name}.{k}": v
            for section in ("treatments", "maintenance")
            for name, entry in sc.params[section].items()
            for k, v in entry.items()
            if not isinstance(v, dict)
        },
    }
    m.update(extra)
    # as it will read back: JSON has no tuples, numpy scalars or paths
    return json_ready(m)


def _jsonable(x: Any) -> Any:
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def json_ready(d: dict) -> dict:
    """`d` as it reads back from its JSON file (plain numbers, lists, strings)."""
    return json.loads(json.dumps(d, default=_jsonable))


def write_manifest(folder: Path, manifest: dict, name: str = "manifest.json") -> Path:
    """Write `manifest` (see make_manifest) as `folder/name`."""
    path = Path(folder) / name
    path.write_text(json.dumps(manifest, indent=2, default=_jsonable))
    return path


def read_manifest(path: Path) -> dict:
    """A manifest (or any JSON object) read back; TrdsimError if it is not one."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as e:
        raise TrdsimError(f"{path}: cannot read ({e})") from None
    if not isinstance(data, dict):
        raise TrdsimError(f"{path}: is not a JSON object")
    return data


def format_of(manifest: dict) -> int:
    """The results format of a manifest: 1 before trdsim wrote `format_version`."""
    v = manifest.get("format_version", 1)
    return v if isinstance(v, int) else 0


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


# analysis name (a manifest's "analysis") -> its result class; filled as they are defined
_KINDS: dict[str, type[ResultBase]] = {}


class ResultBase:
    """Write, read, compare and show a result. Subclasses are dataclasses with a
    `manifest` field, declare ANALYSIS (their analysis's name, by which `read_result`
    finds them), TABLES (dataclass field -> Table) and JSON (field -> file of a dict
    field), and implement `summary()`, `plot()` and `_figures(folder)`."""

    ANALYSIS: ClassVar[str]
    TABLES: ClassVar[dict[str, Table]] = {}
    JSON: ClassVar[dict[str, str]] = {}
    MAIN: ClassVar[str] = ""  # the field `.table` returns
    FIGURE: ClassVar[str] = ""  # the file `.plot()`'s figure is written to, if one

    manifest: dict

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("ANALYSIS")
        if name is None:
            return
        known = _KINDS.get(name)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise TypeError(f"{cls.__qualname__}: analysis {name!r} is {known.__qualname__}'s")
        _KINDS[name] = cls  # (a module imported again replaces its own class)

    def __post_init__(self) -> None:
        # every table as it reads back from its file (a CSV's dtypes; blank text is null),
        # arm columns in the scenario's arm order: a result made in memory and the same
        # result read from its folder are one and the same
        for name, spec in self.TABLES.items():
            df = getattr(self, name)
            if isinstance(df, pd.DataFrame):
                if not spec.file.endswith(".parquet"):
                    df = as_written(df)
                setattr(self, name, tidy(df, self.manifest.get("arms")))

    @property
    def table(self) -> pd.DataFrame:
        """The result's main tidy table."""
        return getattr(self, self.MAIN)

    @property
    def arms(self) -> list[str] | None:
        """The arms, in the scenario's order (None for results without arms)."""
        return self.manifest.get("arms")

    def named(self):
        """A function giving a copy of a table or info dict with its arms by their
        pathways' labels ('Sequential care'; `pathways.named_arms`): what every figure of
        a result shows. Arms keep their ids when the manifest has no pathways (a PSA table
        made elsewhere)."""
        from trdsim.pathways import named_arms

        return named_arms(self.manifest.get("pathways") or {}, list(self.arms or []))

    def write(self, folder: str | Path, figures: bool = True) -> list[Path]:
        """Write the tables, the JSON summaries, the manifest and (unless figures=False) the
        figures into `folder`; returns the paths written."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, t in self.TABLES.items():
            df = getattr(self, name)
            if df is None:
                if not t.optional:
                    raise ValueError(f"{type(self).__name__}.{name} is missing")
                continue
            written.append(write_table(df, out / t.file))
        for name, file in self.JSON.items():
            value = getattr(self, name)
            if value is not None:
                (out / file).write_text(json.dumps(value, indent=2, default=_jsonable))
                written.append(out / file)
        written.append(write_manifest(out, self.manifest))
        if figures:
            written += self._figures(out)
        return written

    @classmethod
    def read(cls, folder: str | Path) -> Self:
        """The result a `write` left in `folder`. TrdsimError (one line) when the folder
        is not this kind of result or was written in another format."""
        folder = Path(folder)
        path = folder / "manifest.json"
        if not path.is_file():
            raise TrdsimError(f"{folder}: has no manifest.json: not a trdsim results folder")
        manifest = read_manifest(path)
        if manifest.get("analysis") != cls.ANALYSIS:
            raise TrdsimError(
                f"{folder}: holds a {manifest.get('analysis', 'unknown')} result, "
                f"not a {cls.ANALYSIS} result"
            )
        if format_of(manifest) != FORMAT_VERSION:
            raise TrdsimError(
                f"{folder}: results format {format_of(manifest)}; this trdsim reads format "
                f"{FORMAT_VERSION} here (rerun the analysis)"
            )
        values: dict[str, Any] = {"manifest": manifest}
        arms = manifest.get("arms")
        for name, t in cls.TABLES.items():
            p = folder / t.file
            values[name] = (
                None if t.optional and not p.is_file() else read_table(p, t.columns, arms)
            )
        for name, file in cls.JSON.items():
            p = folder / file
            values[name] = read_manifest(p) if p.is_file() else None
        return cls._from_files(values)

    @classmethod
    def _from_files(cls, values: dict[str, Any]) -> Self:
        return cls(**values)

    def _figures(self, folder: Path) -> list[Path]:
        """The figure files of `write`: by default `.plot()` as FIGURE (none if unset)."""
        if not self.FIGURE:
            return []
        from trdsim.figure_style import finish

        finish(self.plot(), folder / self.FIGURE)
        return [folder / self.FIGURE]

    def summary(self) -> str:
        """A few lines a reader takes in at once."""
        raise NotImplementedError

    def plot(self):
        """The result's main figure (a matplotlib Figure)."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        for f in fields(self):  # type: ignore[arg-type]
            a, b = getattr(self, f.name), getattr(other, f.name)
            if f.name == "manifest":
                a = {k: v for k, v in a.items() if k not in VOLATILE_KEYS}
                b = {k: v for k, v in b.items() if k not in VOLATILE_KEYS}
            if f.name not in self.TABLES and f.name not in self.JSON and f.name != "manifest":
                continue  # live objects (scenario, compiled inputs) are not part of a result
            if isinstance(a, pd.DataFrame) and isinstance(b, pd.DataFrame):
                try:
                    pd.testing.assert_frame_equal(
                        a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True
                    )
                except AssertionError:
                    return False
            elif isinstance(a, dict) and isinstance(b, dict):
                # as JSON text: NaN (a cost per QALY of no QALYs) equals itself there
                if json.dumps(a, sort_keys=True, default=_jsonable) != json.dumps(
                    b, sort_keys=True, default=_jsonable
                ):
                    return False
            elif a != b:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]  # mutable tables

    def __repr__(self) -> str:
        m = self.manifest
        parts = [f"{m.get('scenario', '?')}"]
        if m.get("arms"):
            parts.append(f"arms={', '.join(m['arms'])}")
        for name in self.TABLES:
            df = getattr(self, name)
            if df is not None:
                parts.append(f"{name}: {len(df):,} rows")
        return f"<{type(self).__name__} {'; '.join(parts)}>"


def result_kinds() -> dict[str, type[ResultBase]]:
    """The result classes defined so far, by analysis name. Each registers itself when its
    module is imported; `trdsim.api.read` imports them all first."""
    return dict(_KINDS)


def read_result(folder: str | Path) -> ResultBase:
    """Whatever result a trdsim command or `.write` left in `folder`, by its manifest's
    analysis; the result classes are those imported so far (see `result_kinds`)."""
    folder = Path(folder)
    path = folder / "manifest.json"
    if not path.is_file():
        raise TrdsimError(f"{folder}: has no manifest.json: not a trdsim results folder")
    kind = read_manifest(path).get("analysis")
    if kind not in _KINDS:
        raise TrdsimError(f"{folder}: analysis {kind!r} has no result object ({', '.join(_KINDS)})")
    return _KINDS[kind].read(folder)
