"""A results folder read back for reporting: checked, with the analyses found beside it.

The report never re-runs the model (data flows one way): it reads what `trdsim compare`,
`psa`, `dsa`, `threshold` and `validate` wrote, and only includes an analysis whose
manifest names the same scenario (by hash) and a trdsim that wrote the same format. A
`trdsim care` folder (manifest analysis "care") is read by report/care.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

import trdsim
from trdsim.errors import TrdsimError
from trdsim.report.care import CARE_MANIFEST_KEYS, CareFolder, is_care, load_care

__all__ = ["Dsa", "Psa", "ResultsFolder", "SUMMARY_COLUMNS", "format_version", "load_results"]

SUMMARY_COLUMNS = ("arm", "patients", "cost", "cost_se", "qaly", "qaly_se", "life_years")
FRONTIER_COLUMNS = (
    "arm",
    "cost",
    "qaly",
    "status",
    "compared_with",
    "inc_cost",
    "inc_qaly",
    "icer",
)
PARAMETER_COLUMNS = ("key", "value", "distribution", "verified", "source")
PSA_COLUMNS = ("arm", "versus", "quantity", "mean", "low_95", "high_95", "mcse", "p_positive")
CEAC_COLUMNS = ("threshold", "arm", "p_cost_effective", "on_ceaf")
EVPI_COLUMNS = ("threshold", "optimal_arm", "evpi")
TORNADO_COLUMNS = ("key", "base_value", "low_value", "high_value", "inmb_low", "inmb_high")
SUBGROUP_COLUMNS = ("attribute", "subgroup", "share", "arm", "patients", "cost", "qaly", "status")
COST_COLUMNS = ("arm", "group", "category", "label", "resource", "resource_label", "cost", "se")
VALIDATION_COLUMNS = ("id", "description", "model", "target", "low", "high", "agrees", "source")
REPLICATION_COLUMNS = (
    "study", "measure", "published", "low", "high", "model", "agrees", "dependent",
    "description", "source",
)  # fmt: skip
MANIFEST_KEYS = (
    "scenario",
    "scenario_hash",
    "seed",
    "patients",
    "currency",
    "price_year",
    "perspective",
    "horizon_weeks",
    "discount_costs",
    "discount_qalys",
    "thresholds",
    "arms",
    "pathways",
    "parameters",
)


def format_version(version: str) -> tuple[int, ...]:
    """The part of a trdsim version that fixes the results format: (major, minor).

    Before 1.0 a minor release may change the files, so 0.1.x reads only 0.1.x.
    """
    parts = version.split("+")[0].split(".")
    try:
        return tuple(int(p) for p in parts[:2])
    except ValueError:
        return ()


@dataclass
class Psa:
    """A probabilistic sensitivity analysis: summary, frontier of means, CEAC, EVPI."""

    folder: Path
    manifest: dict
    summary: pd.DataFrame
    frontier: pd.DataFrame
    ceac: pd.DataFrame
    evpi: pd.DataFrame
    info: dict
    evppi: pd.DataFrame | None


@dataclass
class Dsa:
    """A one-way sensitivity analysis (tornado) and any two-way maps beside it."""

    folder: Path
    manifest: dict
    tornado: pd.DataFrame
    info: dict
    two_way: list[Path]


@dataclass
class ResultsFolder:
    """Everything the report shows, read from a results folder and checked."""

    folder: Path
    manifest: dict
    summary: pd.DataFrame | None  # per arm from `compare`; None for a PSA-only folder
    frontier: pd.DataFrame  # incremental analysis (from `compare`, else the PSA means)
    parameters: pd.DataFrame
    psa: Psa | None = None
    dsa: Dsa | None = None
    thresholds: list[dict] = field(default_factory=list)
    validation: pd.DataFrame | None = None
    validation_manifest: dict | None = None
    subgroups: pd.DataFrame | None = None  # subgroups.csv of `compare --by`, if written
    # results/replications/replications.csv beside this results folder, if there is one
    replications: pd.DataFrame | None = None
    notices: list[str] = field(default_factory=list)
    costs: pd.DataFrame | None = None  # costs.csv: cost by arm x category (newer folders)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise TrdsimError(f"{path}: cannot read ({e})") from None
    if not isinstance(data, dict):
        raise TrdsimError(f"{path}: is not a JSON object")
    return data


def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A CSV with the columns this trdsim writes; a clear error when it has not."""
    if not path.is_file():
        raise TrdsimError(f"{path}: missing (the folder is incomplete; rerun the command)")
    try:
        df = pd.read_csv(path)
    except Exception as e:  # noqa: BLE001 - any reader failure is bad input here
        raise TrdsimError(f"{path}: cannot read ({e})") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TrdsimError(
            f"{path}: has no column {', '.join(missing)}: written by another trdsim version? "
            "Rerun the command with this one"
        )
    if df.empty:
        raise TrdsimError(f"{path}: has no rows")
    return df


def _check_version(path: Path, manifest: dict, keys: tuple[str, ...] = MANIFEST_KEYS) -> None:
    made_by = str(manifest.get("trdsim_version", ""))
    ours = trdsim.__version__
    if not made_by or format_version(made_by) != format_version(ours):
        shown = made_by or "an unknown version"
        raise TrdsimError(
            f"{path}: made by trdsim {shown}; this is trdsim {ours}, which reads results of "
            f"{'.'.join(map(str, format_version(ours)))}.x only: rerun the analysis with it"
        )
    missing = [k for k in keys if k not in manifest]
    if missing:
        raise TrdsimError(f"{path}: has no {', '.join(missing)}: not a trdsim results manifest")


def _manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    if not path.is_file():
        older = (folder / "summary.json").is_file() and (folder / "services.csv").is_file()
        raise TrdsimError(
            f"{folder}: has no manifest.json, so it is not a trdsim results folder "
            + (
                "(a care-system folder of an older trdsim: rerun `trdsim care`)"
                if older
                else "(give the folder `trdsim compare`, `psa` or `care` wrote)"
            )
        )
    m = _read_json(path)
    if is_care(m):
        _check_version(path, m, CARE_MANIFEST_KEYS)
        return m
    if m.get("analysis") == "sweep":
        raise TrdsimError(
            f"{folder}: is a sweep (trdsim sweep): the report covers one care-system run; "
            "give a folder `trdsim care` wrote (sweep.csv holds the sweep's table)"
        )
    _check_version(path, m)
    return m


def _sub_manifest(folder: Path, base: dict, what: str, notices: list[str]) -> dict | None:
    """The manifest of an analysis beside the results, or None (with a notice) if unusable."""
    path = folder / "manifest.json"
    if not path.is_file():
        notices.append(
            f"{what} in {folder} is not included: it has no manifest.json, so its scenario is unknown (rerun it)"
        )
        return None
    try:
        m = _read_json(path)
        _check_version(path, m)
    except TrdsimError as e:
        notices.append(f"{what} is not included: {e}")
        return None
    if m["scenario_hash"] != base["scenario_hash"]:
        notices.append(
            f"{what} in {folder} is not included: it was run on a different scenario "
            f"({m['scenario']} {m['scenario_hash'][:12]}, not {base['scenario']} "
            f"{base['scenario_hash'][:12]})"
        )
        return None
    return m


def _psa(folder: Path, manifest: dict) -> Psa:
    evppi = folder / "evppi.csv"
    return Psa(
        folder=folder,
        manifest=manifest,
        summary=_read_csv(folder / "psa_summary.csv", PSA_COLUMNS),
        frontier=_read_csv(folder / "frontier.csv", FRONTIER_COLUMNS),
        ceac=_read_csv(folder / "ceac.csv", CEAC_COLUMNS),
        evpi=_read_csv(folder / "evpi.csv", EVPI_COLUMNS),
        info=_read_json(folder / "psa_summary.json"),
        evppi=pd.read_csv(evppi) if evppi.is_file() else None,
    )


def _dsa(folder: Path, manifest: dict, notices: list[str]) -> Dsa:
    two_way = []
    for png in sorted(folder.glob("twoway_*.png")):
        # each two-way map has its own manifest (it may be run apart from the tornado)
        own = png.with_suffix(".manifest.json")
        if not own.is_file():
            notices.append(f"two-way map {png} is not included: it has no {own.name} (rerun it)")
            continue
        m = _read_json(own)
        if m.get("scenario_hash") != manifest["scenario_hash"]:
            notices.append(f"two-way map {png} is not included: it was run on another scenario")
            continue
        two_way.append(png)
    return Dsa(
        folder=folder,
        manifest=manifest,
        tornado=_read_csv(folder / "tornado.csv", TORNADO_COLUMNS),
        info=_read_json(folder / "tornado.json"),
        two_way=two_way,
    )


def _thresholds(folder: Path, base: dict, notices: list[str]) -> list[dict]:
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            r = _read_json(path)
        except TrdsimError as e:
            notices.append(f"threshold analysis is not included: {e}")
            continue
        if r.get("scenario_hash") != base["scenario_hash"]:
            notices.append(
                f"threshold analysis {path} is not included: it does not name this scenario (rerun it)"
            )
            continue
        found.append(r)
    return found


def load_results(path: str | Path) -> ResultsFolder | CareFolder:
    """Read and check a results folder written by `trdsim compare` (or `trdsim psa`, or
    `trdsim care`: a CareFolder).

    Raises TrdsimError (shown as one line, exit 2) for a folder that is missing, empty,
    not trdsim's, or written by an incompatible version.
    """
    folder = Path(path)
    if not folder.exists():
        raise TrdsimError(
            f"{folder}: no such folder (run `trdsim compare` first; it writes results/<scenario>/)"
        )
    if not folder.is_dir():
        raise TrdsimError(f"{folder}: is a file, not a results folder")
    if not any(folder.iterdir()):
        raise TrdsimError(f"{folder}: is empty (run `trdsim compare --out {folder}` first)")
    manifest = _manifest(folder)
    if is_care(manifest):
        return load_care(folder, manifest, _read_json, _read_csv)
    if (folder / "summary.csv").is_file():
        return _with_analyses(
            ResultsFolder(
                folder=folder,
                manifest=manifest,
                summary=_read_csv(folder / "summary.csv", SUMMARY_COLUMNS),
                frontier=_read_csv(folder / "incremental.csv", FRONTIER_COLUMNS),
                parameters=_read_csv(folder / "parameters.csv", PARAMETER_COLUMNS),
            )
        )
    if (folder / "psa_summary.csv").is_file():
        parent = folder.parent
        if (parent / "summary.csv").is_file() and (parent / "manifest.json").is_file():
            try:
                up = _manifest(parent)
            except TrdsimError:
                up = None
            if up is not None and up["scenario_hash"] == manifest["scenario_hash"]:
                # the PSA with the deterministic results it belongs to (this PSA, whatever
                # the folder's name)
                r = load_results(parent)
                if r.psa is None or r.psa.folder.resolve() != folder.resolve():
                    r.psa = _psa(folder, manifest)
                return r
        psa = _psa(folder, manifest)
        return ResultsFolder(
            folder=folder,
            manifest=manifest,
            summary=None,
            frontier=psa.frontier,
            parameters=_read_csv(folder / "parameters.csv", PARAMETER_COLUMNS),
            psa=psa,
            notices=[
                "No deterministic results (trdsim compare) for this scenario beside this PSA: "
                "per-arm results are the PSA means over draws"
            ],
        )
    raise TrdsimError(
        f"{folder}: has a manifest but neither summary.csv (trdsim compare) nor "
        "psa_summary.csv (trdsim psa): nothing to report"
    )


def _with_analyses(r: ResultsFolder) -> ResultsFolder:
    """Attach the PSA, DSA, threshold and validation results found in the folder."""
    if (r.folder / "subgroups.csv").is_file():
        r.subgroups = _read_csv(r.folder / "subgroups.csv", SUBGROUP_COLUMNS)
    if (r.folder / "costs.csv").is_file():
        r.costs = _read_csv(r.folder / "costs.csv", COST_COLUMNS).fillna(
            {"resource": "", "resource_label": ""}
        )
    sub = r.folder / "psa"
    if (sub / "psa_summary.csv").is_file():
        m = _sub_manifest(sub, r.manifest, "the PSA", r.notices)
        if m is not None:
            r.psa = _psa(sub, m)
    sub = r.folder / "dsa"
    if (sub / "tornado.csv").is_file():
        m = _sub_manifest(sub, r.manifest, "the one-way sensitivity analysis", r.notices)
        if m is not None:
            r.dsa = _dsa(sub, m, r.notices)
    sub = r.folder / "threshold"
    if sub.is_dir():
        r.thresholds = _thresholds(sub, r.manifest, r.notices)
    sub = r.folder / "validation"
    if (sub / "validation.csv").is_file():
        m = _sub_manifest(sub, r.manifest, "the validation", r.notices)
        if m is not None:
            r.validation = _read_csv(sub / "validation.csv", VALIDATION_COLUMNS)
            r.validation_manifest = m
    # replications do not depend on this folder's scenario (each study is its own design)
    rep = r.folder.parent / "replications" / "replications.csv"
    if rep.is_file():
        r.replications = _read_csv(rep, REPLICATION_COLUMNS)
    return r
