"""A result's manifest: what produced it (scenario, parameters, seed, versions), written
as manifest.json beside its tables, and read back. `format_version` says how the folder's
tables are written (see store.result)."""

from __future__ import annotations

import hashlib
import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from trdsim.errors import TrdsimError

__all__ = [
    "DIGESTS",
    "FORMAT_VERSION",
    "READABLE_FORMATS",
    "VOLATILE_KEYS",
    "format_of",
    "json_ready",
    "make_manifest",
    "portable_source",
    "read_manifest",
    "sha256_of",
    "verify_files",
    "write_manifest",
]

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
# manifest keys that change between two writes of the same result (not part of equality)
# (a result's file digests change with the parquet library's version, not with the result)
VOLATILE_KEYS = ("created_utc", "files")
# the manifest key of the sha256 of every file the manifest describes (file name -> hex)
DIGESTS = "files"


def portable_source(source: str) -> str:
    """A scenario file as a manifest records it: a bundled scenario by its name, another
    file relative to the working folder, so that no path of the user's machine is kept
    (the folder may be shared or committed) and `load_scenario` still finds it."""
    import os

    from trdsim.scenario import bundled_scenarios

    path = Path(source)
    if not path.is_absolute() and not path.exists():
        return str(source)  # not a file here (e.g. a Scenario built in Python)
    resolved = path.resolve()
    if resolved.parent == bundled_scenarios().resolve():
        return resolved.stem
    try:
        return Path(os.path.relpath(resolved)).as_posix()
    except ValueError:  # another drive (Windows): the name is all that can be kept
        return path.name


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
        "scenario_file": portable_source(sc.source),
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
    """Write `manifest` (see make_manifest) as `folder/name`, whole or not at all."""
    path = Path(folder) / name
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(manifest, indent=2, default=_jsonable))
    tmp.replace(path)
    return path


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_files(
    folder: Path, manifest: dict, needed: tuple[str, ...] = (), only: tuple[str, ...] | None = None
) -> None:
    """Check the files of `folder` against the digests its manifest records: TrdsimError
    (one line naming the file) for a file that differs (a folder mixing two runs, a cut
    file) or for one of `needed` that the manifest lists but is gone. Files the manifest
    does not list are not its result's; absent ones it lists are allowed unless `needed`
    (per-patient tables and figures may be left out of a kept folder). A manifest written
    before digests were recorded is not checked; `only`: check these files only."""
    digests = manifest.get(DIGESTS)
    if not isinstance(digests, dict):
        return
    folder = Path(folder)
    for name, digest in digests.items():
        if only is not None and name not in only:
            continue
        path = folder / str(name)
        if not path.is_file():
            if name in needed:
                raise TrdsimError(
                    f"{path}: missing, though manifest.json lists it (the folder is "
                    "incomplete; rerun the command)"
                )
            continue
        if sha256_of(path) != digest:
            raise TrdsimError(
                f"{path}: differs from the file manifest.json describes (sha256): the folder "
                "mixes two runs or the file was cut; rerun the command"
            )


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
