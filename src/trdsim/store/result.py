"""The result objects' base: one place where a result is written and read back.

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

import json
import os
import shutil
import uuid
from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar, Self

import pandas as pd

from trdsim.errors import TrdsimError
from trdsim.store.manifest import (
    DIGESTS,
    FORMAT_VERSION,
    VOLATILE_KEYS,
    _jsonable,
    format_of,
    read_manifest,
    sha256_of,
    verify_files,
    write_manifest,
)
from trdsim.store.tables import Table, as_written, read_table, tidy, write_table

__all__ = ["STAGE_PREFIX", "ResultBase", "read_result", "result_kinds", "write_folder"]

# a result is written whole into a hidden folder of this name inside its folder, then
# moved into place file by file (each an atomic rename), manifest last
STAGE_PREFIX = ".trdsim-new-"
_rename = os.replace  # (tests stop a write between two renames through this)


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
        where = (cls.__module__, cls.__qualname__)
        if known is not None and (known.__module__, known.__qualname__) != where:
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
        figures into `folder`; returns the paths written.

        Whole or nothing: everything is written into a hidden folder inside `folder` first
        (a full disk or an error there leaves the folder as it was), then moved into place
        one atomic rename per file, manifest last; the manifest records each file's sha256,
        so a folder stopped between two renames (new tables beside old ones) is refused by
        `read` and the report, naming the file. Sub-folders of other analyses are kept;
        files of the previous result that this one has not are removed."""

        def files(stage: Path) -> list[str]:
            names: list[str] = []
            for name, t in self.TABLES.items():
                df = getattr(self, name)
                if df is None:
                    if not (t.optional or t.per_patient):
                        raise ValueError(f"{type(self).__name__}.{name} is missing")
                    continue
                write_table(df, stage / t.file)
                names.append(t.file)
            for name, file in self.JSON.items():
                value = getattr(self, name)
                if value is not None:
                    (stage / file).write_text(json.dumps(value, indent=2, default=_jsonable))
                    names.append(file)
            return names + ([p.name for p in self._figures(stage)] if figures else [])

        return write_folder(folder, files, self.manifest)

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
        needed = tuple(t.file for t in cls.TABLES.values() if not t.per_patient)
        verify_files(folder, manifest, needed + tuple(cls.JSON.values()))
        listed = manifest.get(DIGESTS)

        def present(file: str) -> bool:
            # a file the manifest does not list is not this result's (a stale one)
            return (folder / file).is_file() and (not isinstance(listed, dict) or file in listed)

        values: dict[str, Any] = {"manifest": manifest}
        arms = manifest.get("arms")
        for name, t in cls.TABLES.items():
            p = folder / t.file
            values[name] = (
                None
                if (t.optional or t.per_patient) and not present(t.file)
                else read_table(p, t.columns, arms)
            )
        for name, file in cls.JSON.items():
            p = folder / file
            values[name] = read_manifest(p) if present(file) else None
        return cls._from_files(values)

    @classmethod
    def _from_files(cls, values: dict[str, Any]) -> Self:
        return cls(**values)

    def _figures(self, folder: Path) -> list[Path]:
        """The figure files of `write`: by default `.plot()` as FIGURE (none if unset)."""
        if not self.FIGURE:
            return []
        from trdsim.plots.style import finish

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


def write_folder(folder: str | Path, files, manifest: dict) -> list[Path]:
    """Write a result into `folder` whole or not at all: `files(stage)` writes its files
    into a hidden staging folder and returns their names; then the manifest (with each
    file's sha256 under DIGESTS) is written there, and everything is moved into `folder`
    one atomic rename per file, manifest last. Files of the previous result there that
    this one has not are then removed; anything else (other analyses' sub-folders) stays.
    Returns the paths written (the manifest after the tables and JSON files, as before)."""
    from trdsim.runtime.locks import holds, lock_folder, release_folder

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    # the folder's lock (a command has it already; a write from Python takes it here), so
    # that no other run writes the folder meanwhile, on this machine or another
    mine = not holds(out)
    if mine:
        lock_folder(out)
    try:
        return _write_locked(out, files, manifest)
    finally:
        if mine:
            release_folder(out)


def _write_locked(out: Path, files, manifest: dict) -> list[Path]:
    _clean_stages(out)  # what a write stopped before its renames left
    stage = out / f"{STAGE_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    stage.mkdir()
    try:
        names = list(files(stage))
        digests = {n: sha256_of(stage / n) for n in names}
        write_manifest(stage, {**manifest, DIGESTS: digests})
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    before = _listed(out)
    if not before and (out / "manifest.json").is_file():
        # a manifest without digests (an earlier trdsim's) could not tell its tables from
        # these: removed first, so a write stopped halfway leaves a folder refused whole
        (out / "manifest.json").unlink()
    for n in [*names, "manifest.json"]:
        _rename(stage / n, out / n)
    for n in before - set(digests):  # the previous result's, not this one's
        if n != "manifest.json":
            (out / n).unlink(missing_ok=True)
    shutil.rmtree(stage, ignore_errors=True)
    tables = [n for n in names if not n.endswith((".png", ".svg", ".pdf"))]
    shown = [n for n in names if n not in tables]
    return [out / n for n in tables] + [out / "manifest.json"] + [out / n for n in shown]


def _clean_stages(out: Path) -> None:
    """Remove the staging folders of writes into `out` that were stopped (the folder's
    lock keeps two writes apart)."""
    for p in out.glob(f"{STAGE_PREFIX}*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def _listed(out: Path) -> set[str]:
    """The files the manifest in `out` describes (none if it has none or no digests)."""
    path = out / "manifest.json"
    try:
        digests = read_manifest(path).get(DIGESTS) if path.is_file() else None
    except TrdsimError:
        return set()
    return {str(n) for n in digests} if isinstance(digests, dict) else set()


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
