"""A results folder read back for reporting: checked, with the analyses found beside it.

The report never re-runs the model (data flows one way): it reads what `trdsim compare`,
`psa`, `dsa`, `threshold` and `validate` (or the same results' `.write`) left, through
their result objects, and only includes an analysis whose manifest names the same
scenario (by hash). Format 2 folders (this trdsim: long tables, `format_version` in the
manifest) are read with the result objects' own `read`; format 1 folders (trdsim 0.1,
wide tables) are upgraded to the same objects on reading (`_upgrade_*`). A `trdsim care`
folder (manifest analysis "care") is read by report/care.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from trdsim.analysis.compare import Result
from trdsim.analysis.costs import COST_COLUMNS
from trdsim.analysis.dsa import DsaResult, ThresholdResult, TwoWayResult
from trdsim.analysis.results import PsaResult
from trdsim.analysis.structural import StructuralResult
from trdsim.care_result import CareResult
from trdsim.economics import INCREMENTAL_COLUMNS, NET_BENEFIT_COLUMNS, STATUS_LABELS
from trdsim.errors import TrdsimError
from trdsim.report.care import CARE_MANIFEST_KEYS, CareFolder, is_care, load_care
from trdsim.store.manifest import (
    DIGESTS,
    FORMAT_VERSION,
    READABLE_FORMATS,
    format_of,
    read_manifest,
    verify_files,
)
from trdsim.store.result import result_kinds
from trdsim.store.tables import read_table, with_arm_order
from trdsim.validation.validate import VALIDATION_COLUMNS, ValidationResult

__all__ = ["SUMMARY_COLUMNS", "Dsa", "Psa", "ResultsFolder", "load_results"]

SUMMARY_COLUMNS = ("arm", "patients", "cost", "cost_se", "qaly", "qaly_se", "life_years")
# what a format 1 (trdsim 0.1) folder has
V1_FRONTIER = ("arm", "cost", "qaly", "status", "compared_with", "inc_cost", "inc_qaly", "icer")
PARAMETER_COLUMNS = ("key", "value", "distribution", "verified", "source")
V1_PSA = ("arm", "versus", "quantity", "mean", "low_95", "high_95", "mcse", "p_positive")
V1_CEAC = ("threshold", "arm", "p_cost_effective", "on_ceaf")
V1_EVPI = ("threshold", "optimal_arm", "evpi")
TORNADO_COLUMNS = ("key", "base_value", "low_value", "high_value", "inmb_low", "inmb_high")
SUBGROUP_COLUMNS = ("attribute", "subgroup", "share", "arm", "patients", "cost", "qaly", "status")
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
_LABEL_TO_STATUS = {v: k for k, v in STATUS_LABELS.items()}


@dataclass
class Psa:
    """A PSA found in the folder: where it is and its result object."""

    folder: Path
    result: PsaResult

    @property
    def manifest(self) -> dict:
        return self.result.manifest

    @property
    def summary(self) -> pd.DataFrame:
        """Incremental quantities with their intervals (long form)."""
        return self.result.intervals

    @property
    def frontier(self) -> pd.DataFrame:
        return self.result.frontier

    @property
    def net_benefit(self) -> pd.DataFrame:
        return self.result.net_benefit

    @property
    def ceac(self) -> pd.DataFrame:
        return self.result.ceac

    @property
    def evpi(self) -> pd.DataFrame:
        return self.result.evpi

    @property
    def evppi(self) -> pd.DataFrame | None:
        return self.result.evppi

    @property
    def info(self) -> dict:
        return self.result.info


@dataclass
class Dsa:
    """A one-way sensitivity analysis (tornado) and the two-way maps beside it."""

    folder: Path
    result: DsaResult
    two_way: list[Path]  # the maps' figures

    @property
    def manifest(self) -> dict:
        return self.result.manifest

    @property
    def tornado(self) -> pd.DataFrame:
        return self.result.tornado

    @property
    def info(self) -> dict:
        return self.result.info


@dataclass
class ResultsFolder:
    """Everything the report shows, read from a results folder and checked."""

    folder: Path
    manifest: dict
    summary: pd.DataFrame | None  # per arm from `compare`; None for a PSA-only folder
    frontier: pd.DataFrame  # incremental analysis (from `compare`, else the PSA means)
    net_benefit: pd.DataFrame  # NMB per threshold x arm, vs the first arm
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
    format: int = FORMAT_VERSION
    costs: pd.DataFrame | None = None  # costs.csv: cost by arm x category (newer folders)
    structural: StructuralResult | None = None  # structural/ of `trdsim structural`, if run


def _csv(path: Path, columns: tuple[str, ...], arms: list[str] | None = None) -> pd.DataFrame:
    df = read_table(path, columns, arms)
    if df.empty:
        raise TrdsimError(f"{path}: has no rows")
    return df


def _check(path: Path, manifest: dict, keys: tuple[str, ...] = MANIFEST_KEYS) -> None:
    fmt = format_of(manifest)
    if fmt not in READABLE_FORMATS:
        raise TrdsimError(
            f"{path}: results format {fmt} (trdsim {manifest.get('trdsim_version', '?')}); "
            f"this trdsim reads formats {', '.join(map(str, READABLE_FORMATS))}: rerun the "
            "analysis with it"
        )
    if fmt == 1 and not str(manifest.get("trdsim_version", "")).startswith("0.1"):
        raise TrdsimError(
            f"{path}: made by trdsim {manifest.get('trdsim_version') or 'an unknown version'} "
            "without a format_version: not a folder this trdsim can read; rerun the analysis"
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
    m = read_manifest(path)
    # every file as the manifest describes it: a folder mixing two runs (a write stopped
    # between two renames) or with a cut file is refused, naming the file
    kind = result_kinds().get(str(m.get("analysis")))
    needed = () if kind is None else (
        *(t.file for t in kind.TABLES.values() if not t.per_patient and t.file != "trace.parquet"),
        *kind.JSON.values(),
    )  # fmt: skip
    # (the figures' own data, trace and patients, are checked when drawn: a damaged one
    # is a notice; a write is moved into place tables first, so a mix shows in these)
    verify_files(folder, m, needed, only=needed)
    if is_care(m):
        _check(path, m, CARE_MANIFEST_KEYS)
        return m
    if m.get("analysis") == "sweep":
        raise TrdsimError(
            f"{folder}: is a sweep (trdsim sweep): the report covers one care-system run; "
            "give a folder `trdsim care` wrote (sweep.csv holds the sweep's table)"
        )
    _check(path, m)
    return m


def _same_scenario(path: Path, m: dict, base: dict, what: str, notices: list[str]) -> bool:
    if m.get("scenario_hash") != base["scenario_hash"]:
        notices.append(
            f"{what} in {path} is not included: it was run on a different scenario "
            f"({m.get('scenario')} {str(m.get('scenario_hash'))[:12]}, not {base['scenario']} "
            f"{base['scenario_hash'][:12]})"
        )
        return False
    return True


def _sub_manifest(folder: Path, base: dict, what: str, notices: list[str]) -> dict | None:
    """The manifest of an analysis beside the results, or None (with a notice) if unusable."""
    path = folder / "manifest.json"
    if not path.is_file():
        notices.append(
            f"{what} in {folder} is not included: it has no manifest.json, so its scenario is unknown (rerun it)"
        )
        return None
    try:
        m = read_manifest(path)
        _check(path, m)
    except TrdsimError as e:
        notices.append(f"{what} is not included: {e}")
        return None
    return m if _same_scenario(folder, m, base, what, notices) else None


# -- format 1 (trdsim 0.1): wide tables upgraded to the result objects' long ones --------


def _upgrade_summary(s: pd.DataFrame, arms: list[str]) -> pd.DataFrame:
    first = arms[0]
    renames = {f"cost_vs_{first}": "cost_diff", f"cost_vs_{first}_se": "cost_diff_se",
               f"qaly_vs_{first}": "qaly_diff", f"qaly_vs_{first}_se": "qaly_diff_se"}  # fmt: skip
    out = s.rename(columns=renames)
    if "cost_diff" in out.columns:
        out.insert(out.columns.get_loc("cost_diff"), "paired_with", first)
    return with_arm_order(out, arms)


def _upgrade_incremental(f: pd.DataFrame, arms: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(incremental, net_benefit) of a format 1 incremental.csv / frontier.csv."""
    inc = f.rename(columns={"compared_with": "comparator"}).copy()
    inc["status"] = [_LABEL_TO_STATUS.get(s, s) for s in inc.status]
    inc["comparator"] = inc.comparator.where(inc.comparator.notna() & (inc.comparator != ""))
    rows = []
    for col in f.columns:
        m = re.fullmatch(r"inc_nmb_(.+)_vs_(.+)", col)
        if not m:
            continue
        lam = float(m.group(1))
        opt = f.get(f"optimal_at_{m.group(1)}")
        for k, a in enumerate(f.arm):
            rows.append({
                "arm": a, "threshold": lam, "comparator": m.group(2),
                "nmb": f[f"nmb_{m.group(1)}"].iloc[k] if f"nmb_{m.group(1)}" in f else np.nan,
                "inc_nmb": f[col].iloc[k],
                "optimal": bool(opt.iloc[k]) if opt is not None else False,
            })  # fmt: skip
    nb = pd.DataFrame(rows, columns=list(NET_BENEFIT_COLUMNS))
    return (
        with_arm_order(inc[list(INCREMENTAL_COLUMNS)], arms),
        with_arm_order(nb, arms),
    )


def _v1_psa(folder: Path, manifest: dict) -> Psa:
    arms = manifest["arms"]
    s = _csv(folder / "psa_summary.csv", V1_PSA)
    lam = s.quantity.str.extract(r"^inc_nmb_(.+)$")[0]
    s = s.assign(
        quantity=np.where(lam.notna(), "inc_nmb", s.quantity),
        threshold=pd.to_numeric(lam, errors="coerce"),
    ).rename(columns={"versus": "comparator"})
    inc, nb = _upgrade_incremental(_csv(folder / "frontier.csv", V1_FRONTIER), arms)
    ceac = _csv(folder / "ceac.csv", V1_CEAC)
    if "expected_loss" not in ceac.columns:
        ceac["expected_loss"] = np.nan
    evpi = _csv(folder / "evpi.csv", V1_EVPI)
    evpi = evpi[[c for c in evpi.columns if not c.startswith("loss_")]]
    draws = folder / "draws.parquet"
    evppi = folder / "evppi.csv"
    r = PsaResult(
        manifest=manifest,
        draws=read_table(draws, (), arms) if draws.is_file() else pd.DataFrame(),
        intervals=with_arm_order(s, arms),
        frontier=inc,
        net_benefit=nb,
        ceac=with_arm_order(ceac, arms),
        evpi=with_arm_order(evpi, arms),
        info=read_manifest(folder / "psa_summary.json"),
        evppi=pd.read_csv(evppi) if evppi.is_file() else None,
    )
    return Psa(folder, r)


def _psa(folder: Path, manifest: dict) -> Psa:
    if format_of(manifest) == 1:
        return _v1_psa(folder, manifest)
    return Psa(folder, PsaResult.read(folder))


def _dsa(folder: Path, manifest: dict, notices: list[str]) -> Dsa:
    two_way = []
    if format_of(manifest) == 1:
        for png in sorted(folder.glob("twoway_*.png")):
            own = png.with_suffix(".manifest.json")
            if not own.is_file():
                notices.append(
                    f"two-way map {png} is not included: it has no {own.name} (rerun it)"
                )
                continue
            if _same_scenario(png, read_manifest(own), manifest, "two-way map", notices):
                two_way.append(png)
        r = DsaResult(manifest, _csv(folder / "tornado.csv", TORNADO_COLUMNS),
                      read_manifest(folder / "tornado.json"))  # fmt: skip
        return Dsa(folder, r, two_way)
    for sub in sorted(p for p in folder.glob("twoway_*") if p.is_dir()):
        m = _sub_manifest(sub, manifest, "two-way map", notices)
        if m is not None:
            try:
                TwoWayResult.read(sub)
            except TrdsimError as e:
                notices.append(f"two-way map {sub} is not included: {e}")
                continue
            two_way.append(sub / "twoway.png")
    return Dsa(folder, DsaResult.read(folder), two_way)


def _thresholds(folder: Path, base: dict, notices: list[str]) -> list[dict]:
    found = []
    for path in sorted(folder.glob("*.json")):  # format 1: one JSON file per analysis
        try:
            r = read_manifest(path)
        except TrdsimError as e:
            notices.append(f"threshold analysis is not included: {e}")
            continue
        if r.get("scenario_hash") != base["scenario_hash"]:
            notices.append(
                f"threshold analysis {path} is not included: it does not name this scenario (rerun it)"
            )
            continue
        found.append(r)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):  # format 2: a folder each
        m = _sub_manifest(sub, base, "the threshold analysis", notices)
        if m is None:
            continue
        try:
            found.append(ThresholdResult.read(sub).info)
        except TrdsimError as e:
            notices.append(f"threshold analysis {sub} is not included: {e}")
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
            f"{folder}: no such folder (run `trdsim compare` first; it writes runs/<scenario>/)"
        )
    if not folder.is_dir():
        raise TrdsimError(f"{folder}: is a file, not a results folder")
    if not any(not p.name.startswith(".trdsim") for p in folder.iterdir()):
        raise TrdsimError(f"{folder}: is empty (run `trdsim compare --out {folder}` first)")
    manifest = _manifest(folder)
    if is_care(manifest):
        if format_of(manifest) == 1:
            return load_care(folder, manifest, lambda p: read_manifest(p), _csv)
        res = CareResult.read(folder)
        return CareFolder(folder, manifest, res.info, res.yearly)
    arms = manifest["arms"]
    fmt = format_of(manifest)
    if (folder / "summary.csv").is_file():
        if fmt == 1:
            inc, nb = _upgrade_incremental(_csv(folder / "incremental.csv", V1_FRONTIER), arms)
            r = ResultsFolder(
                folder=folder,
                manifest=manifest,
                summary=_upgrade_summary(_csv(folder / "summary.csv", SUMMARY_COLUMNS), arms),
                frontier=inc,
                net_benefit=nb,
                parameters=_csv(folder / "parameters.csv", PARAMETER_COLUMNS),
                format=1,
            )
        else:
            # the compare result's tables, by its own declaration; the trace and patient
            # tables only feed figures, read when a figure must be drawn (a damaged one is
            # then a notice, not a failure)
            listed = manifest.get(DIGESTS)
            t = {
                name: None if spec.optional and not (
                    (folder / spec.file).is_file()
                    and (not isinstance(listed, dict) or spec.file in listed)
                )
                else _csv(folder / spec.file, spec.columns, arms)
                for name, spec in Result.TABLES.items()
                if name not in ("trace", "patients")
            }  # fmt: skip
            r = ResultsFolder(
                folder=folder, manifest=manifest, summary=t["per_arm"],
                frontier=t["incremental"], net_benefit=t["net_benefit"],
                parameters=t["parameters"], subgroups=t["subgroup_table"],
            )  # fmt: skip
        return _with_analyses(r)
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
        params = psa.result.parameters
        if params is None:
            params = _csv(folder / "parameters.csv", PARAMETER_COLUMNS)
        return ResultsFolder(
            folder=folder,
            manifest=manifest,
            summary=None,
            frontier=psa.frontier,
            net_benefit=psa.net_benefit,
            parameters=params,
            psa=psa,
            notices=[
                "No deterministic results (trdsim compare) for this scenario beside this PSA: "
                "per-arm results are the PSA means over draws"
            ],
            format=fmt,
        )
    raise TrdsimError(
        f"{folder}: has a manifest but neither summary.csv (trdsim compare) nor "
        "psa_summary.csv (trdsim psa): nothing to report"
    )


def _with_analyses(r: ResultsFolder) -> ResultsFolder:
    """Attach the PSA, DSA, threshold, structural and validation results found in the
    folder."""
    arms = r.manifest["arms"]
    if r.format == 1 and (r.folder / "subgroups.csv").is_file():
        r.subgroups = _csv(r.folder / "subgroups.csv", SUBGROUP_COLUMNS, arms)
    if (r.folder / "costs.csv").is_file():
        # blank resource: a category not split by resource
        r.costs = _csv(r.folder / "costs.csv", tuple(COST_COLUMNS), arms).fillna(
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
    sub = r.folder / "structural"
    if (sub / "structural.csv").is_file():
        m = _sub_manifest(sub, r.manifest, "the structural uncertainty analysis", r.notices)
        if m is not None:
            try:
                r.structural = StructuralResult.read(sub)
            except (TrdsimError, OSError, ValueError, KeyError) as e:
                r.notices.append(f"the structural uncertainty analysis is not included: {e}")
    sub = r.folder / "validation"
    if (sub / "validation.csv").is_file():
        m = _sub_manifest(sub, r.manifest, "the validation", r.notices)
        if m is not None:
            v = (
                _csv(sub / "validation.csv", VALIDATION_COLUMNS)
                if format_of(m) == 1
                else ValidationResult.read(sub).targets
            )
            r.validation = v
            r.validation_manifest = m
    # replications do not depend on this folder's scenario (each study is its own design)
    rep = r.folder.parent / "replications" / "replications.csv"
    if rep.is_file():
        r.replications = _csv(rep, REPLICATION_COLUMNS)
    return r
