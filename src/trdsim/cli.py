"""The `trdsim` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import trdsim
from trdsim.currency import money as _money
from trdsim.errors import TrdsimError
from trdsim.evidence import UNVERIFIED, parameter_table
from trdsim.scenario import DEFAULT_SCENARIO, MAX_SEED, load_scenario
from trdsim.store.manifest import make_manifest, write_manifest

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one line, as bad scenario input does."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"trdsim: error: {message}\n")


def _out_folder(given: str | None, default: Path, kind: str | None = None) -> Path:
    """The output folder: --out or the default, locked for this run.

    An existing file there is an error; so is a folder holding another kind of
    analysis (its manifest.json would be replaced and the report would drop it).
    """
    from trdsim.runtime.locks import lock_folder

    out = Path(given) if given else default
    if out.exists() and not out.is_dir():
        raise TrdsimError(f"--out {out}: exists and is not a folder")
    held = _analysis_in(out)
    if kind is not None and held is not None and held != kind:
        raise TrdsimError(
            f"--out {out}: holds the results of a {held} run (manifest.json); writing {kind} "
            "results there would hide them from the report: choose another folder"
        )
    lock_folder(out)
    return out


def _size_check(args, patients: int, arms: int, weeks: int, draws: int = 1, table=False):
    """Refuse a run too big for this machine, or over an hour without --force; say how
    long a run of more than a few seconds will take."""
    from trdsim.runtime import runsize
    from trdsim.simulation.run import BLOCK

    # compare and trial simulate in blocks of patients; a PSA holds a draw's at once
    block = BLOCK if table else 0
    size = runsize.estimate(patients, arms, weeks, draws, table=table, block=block)
    runsize.check(size, args.force)
    if size.seconds > runsize.ANNOUNCE_SECONDS:
        print(f"estimate: {size.describe()}", file=sys.stderr)


def _analysis_in(folder: Path) -> str | None:
    """The kind of analysis whose manifest.json is in `folder` (None if none)."""
    path = folder / "manifest.json"
    if not path.is_file():
        return None
    try:
        m = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(m, dict):
        return None
    kind = m.get("analysis") or ("psa" if "psa_draws" in m else "compare")
    return str(kind).split()[0]  # "dsa one-way" -> "dsa"


def _whole_number(minimum: int, meaning: str, maximum: int | None = None):
    """An argparse type: a whole number in [minimum, maximum], with a message that says
    why not."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if v < minimum or (maximum is not None and v > maximum):
            raise argparse.ArgumentTypeError(f"{v} must be {meaning}")
        return v

    return parse


_positive_int = _whole_number(1, "at least 1")
_port = _whole_number(1, "a port from 1 to 65535", 65535)
_seed = _whole_number(0, f"between 0 and {MAX_SEED} (2**63 - 1)", MAX_SEED)


def _se(x: float, fmt: str) -> str:
    return "n/a" if pd.isna(x) else format(x, fmt)


def _print_summary(result) -> None:
    m = result.manifest
    cur = m["currency"]
    print(
        f"\n{m['scenario']}: {m['description']}\n"
        f"{result.patients_n:,} patients per arm, seed {result.seed}, horizon {m['horizon_weeks']} weeks, "
        f"{m['perspective']} perspective, {cur} {m['price_year']}, discount {m['discount_costs']:.1%} costs / "
        f"{m['discount_qalys']:.1%} QALYs\n"
    )
    s = result.per_arm
    base = m["arms"][0]
    table = pd.DataFrame(
        {
            "arm": s.arm.astype(str),
            "cost": [
                f"{_money(c, cur)} ± {_se(se, ',.0f')}"
                for c, se in zip(s.cost, s.cost_se, strict=True)
            ],
            "QALYs": [
                f"{q:.3f} ± {_se(se, '.3f')}" for q, se in zip(s.qaly, s.qaly_se, strict=True)
            ],
            "life-years": s.life_years.map("{:.2f}".format),
            "weeks in remission": s.weeks_in_remission.map("{:.1f}".format),
            "ever remitted": s.ever_remitted.map("{:.1%}".format),
            "relapses": s.relapses.map("{:.2f}".format),
            "steps used": s.steps_used.map("{:.2f}".format),
            f"Δcost vs {base}": [
                f"{_money(c, cur)} ± {_se(se, ',.0f')}"
                for c, se in zip(s.cost_diff, s.cost_diff_se, strict=True)
            ],
            f"ΔQALY vs {base}": [
                f"{q:+.3f} ± {_se(se, '.3f')}"
                for q, se in zip(s.qaly_diff, s.qaly_diff_se, strict=True)
            ],
        }
    )
    print(table.to_string(index=False))
    print("(± = Monte Carlo standard error; Δ are paired: every arm meets the same patients)\n")
    from trdsim.economics import status_label

    nb = result.net_benefit
    rows = []
    for r in result.incremental.itertuples():
        row = {
            "arm": str(r.arm),
            "status": status_label(r.status, r.comparator),
            "ICER": f"{_money(r.icer, cur)}/QALY" if pd.notna(r.icer) else "",
        }
        for lam in m["thresholds"]:
            v = nb.inc_nmb[(nb.threshold == lam) & (nb.arm == r.arm)].iloc[0]
            row[f"INMB @{_money(lam, cur)}"] = _money(v, cur)
        rows.append(row)
    print("Incremental analysis (efficiency frontier; INMB vs " + base + ")")
    print(pd.DataFrame(rows).to_string(index=False))
    for lam in m["thresholds"]:
        print(f"  optimal at {_money(lam, cur)}/QALY: {', '.join(result.optimal(lam))}")


def _compiled(scenario) -> None:
    """Compile the kernel for the scenario's run, with a notice if that takes a while.
    Called after a command's own checks, so bad input still gets exactly one line."""
    from trdsim.simulation.warmup import compile_notice, warm_up

    with compile_notice():
        warm_up(scenario)


def cmd_trial(args) -> int:
    from trdsim.validation.trial import run_trial

    scenario = load_scenario(args.scenario)
    if scenario.trial is None:
        raise TrdsimError(
            f"{scenario.source}: trial: missing: a [trial] section is needed (control, "
            "assess_weeks, outcomes; see scenarios/README or experiments/replications/)"
        )
    n = args.patients or scenario.patients
    _size_check(args, n, len(scenario.arms), scenario.horizon_weeks, table=True)
    out = _out_folder(args.out, Path("results") / scenario.name / "trial", "trial")
    _compiled(scenario)
    with tqdm_bar(n * len(scenario.arms), "simulating", " patients") as bar:
        r = run_trial(scenario, patients=n, seed=args.seed, progress=bar.update)
    d = r.design
    cur = scenario.currency
    print(f"\n{d['name']}: {n:,} randomised per arm, follow-up {scenario.horizon_weeks} weeks")
    print("Outcomes among all randomised (95 % Monte Carlo intervals):\n")
    o = r.outcomes
    shown = pd.DataFrame(
        {
            "outcome": o.outcome,
            "week": o.week,
            "arm": o.arm,
            "share": [
                f"{s:.1%} ({a:.1%}-{b:.1%})" for s, a, b in zip(o.share, o.low, o.high, strict=True)
            ],
        }
    )
    print(shown.to_string(index=False))
    c = r.contrasts
    if len(c):
        print(f"\nAgainst {d['control']}:\n")
        shown = pd.DataFrame(
            {
                "outcome": c.outcome,
                "week": c.week,
                "arm": c.arm,
                "difference": [
                    f"{x:+.1%} ({a:+.1%} to {b:+.1%})"
                    for x, a, b in zip(
                        c.difference, c.difference_low, c.difference_high, strict=True
                    )
                ],
                "odds ratio": [
                    f"{x:.2f} ({a:.2f}-{b:.2f})"
                    for x, a, b in zip(
                        c.odds_ratio, c.odds_ratio_low, c.odds_ratio_high, strict=True
                    )
                ],
            }
        )
        print(shown.to_string(index=False))
    print(f"\nEconomics over the follow-up ({cur}, {scenario.perspective} perspective):\n")
    _print_summary(r.result)
    written = r.write(out)
    write_manifest(out, make_manifest(scenario, "trial", args.seed, n))
    print(f"\nWrote {len(written) + 1} files to {out}/")
    return 0


def cmd_compare(args) -> int:
    import numba

    from trdsim.analysis.subgroups import parse_by

    scenario = load_scenario(args.scenario)
    if args.threads and args.threads > numba.config.NUMBA_NUM_THREADS:
        raise TrdsimError(
            f"--threads {args.threads}: this machine allows at most "
            f"{numba.config.NUMBA_NUM_THREADS} (set NUMBA_NUM_THREADS to change it)"
        )
    n = args.patients or scenario.patients
    for spec in args.by or []:
        try:
            parse_by(spec)
        except ValueError as e:
            raise TrdsimError(f"{scenario.source}: --by = {spec!r}: {e}") from None
    _size_check(args, n, len(scenario.arms), scenario.horizon_weeks, table=True)
    out = _out_folder(args.out, Path("results") / scenario.name, "compare")
    _compiled(scenario)
    t0 = time.perf_counter()
    with tqdm_bar(n * len(scenario.arms), "simulating", " patients") as bar:
        result = trdsim.compare(scenario, n, args.seed, by=args.by, threads=args.threads,
                                progress=bar.update)  # fmt: skip
    elapsed = time.perf_counter() - t0
    _print_summary(result)
    written = result.write(out, figures=not args.no_figures)
    flagged = result.parameters.verified.isin(UNVERIFIED).sum()
    print(
        f"\nSimulated in {elapsed:.1f} s. Wrote {len(written)} files to {out}/"
        f"\n{flagged} inputs are 'from memory, unverified' or assumptions: "
        f"`trdsim params {args.scenario or DEFAULT_SCENARIO} --unverified` lists them."
    )
    if args.report:
        _report(out)
    return 0


def _report(folder: Path, out: str | None = None) -> None:
    """Write the HTML report of `folder` and say where it is and what it left out."""
    from trdsim.report import write_report

    r = write_report(folder, out)
    print(f"Wrote the report {r.html} ({r.html.stat().st_size / 1e6:.1f} MB, self-contained)")
    print(f"  and its {len(r.exports)} table files in {r.exports[0].parent}/")
    for n in r.notices:
        print(f"  note: {n}")


def cmd_report(args) -> int:
    _report(Path(args.results), args.out)
    return 0


def _print_table(table: pd.DataFrame) -> None:
    """Columns padded to their widths; the last one (often long text) is not padded."""
    shown = table.astype(str)
    widths = [max(len(c), shown[c].str.len().max()) for c in shown.columns[:-1]]

    def line(cells) -> str:
        return "  ".join(
            [*(v.ljust(w) for v, w in zip(cells[:-1], widths, strict=True)), cells[-1]]
        )

    print(line(list(shown.columns)))
    for row in shown.itertuples(index=False):
        print(line(list(row)))


def cmd_params(args) -> int:
    from trdsim.inputs.effective import effective_table, effects_table

    scenario = load_scenario(args.scenario)
    if args.effective:
        table = effective_table(scenario)
        if args.csv:
            table.to_csv(args.csv, index=False)
            print(f"Wrote {len(table)} steps to {args.csv}")
            return 0
        shown = table.assign(
            response=table.response.map("{:.1%}".format),
            remission=table.remission.map("{:.1%}".format),
        )
        print(
            f"{scenario.name}: response and remission by the end of each step's course, for a "
            "patient who reaches it\n(the cohort's failed trials plus one for each earlier step "
            "that counts as a trial; cohort average, no dropout)\n"
        )
        _print_table(shown)
        return 0
    table = parameter_table(scenario.params, scenario.currency, scenario.raw.get("resources"))
    if args.unverified:
        table = table[table.verified.isin(UNVERIFIED)]
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"Wrote {len(table)} parameters to {args.csv}")
        return 0
    _print_table(table[["key", "label", "value", "unit", "distribution", "verified", "source"]])
    print(
        f"\n{len(table)} parameters; setting '{scenario.setting}' ({scenario.currency} {scenario.price_year})."
    )
    effects = effects_table(scenario)
    print(
        "\nHow each treatment's effect is stored (relative effects apply to the modelled baseline):"
    )
    _print_table(effects.assign(flag=effects.flag.map(lambda f: f"⚠ {f}" if f else "")))
    single = int(effects.flag.str.contains("single-arm").sum())
    if single:
        print(
            f"\n⚠ {single} treatment(s) use a single-arm response rate: the rate carries its "
            "trial's population, context and outcome definition (no comparative evidence used)."
        )
    weak = effects.treatment[effects.flag.str.contains("flagged|insufficient")].tolist()
    if weak:
        print(
            f"⚠ {len(weak)} treatment(s) lack the evidence for default pathways and are there "
            f"for scenarios to explore (see each entry's evidence_verdict): {', '.join(weak)}."
        )
    return 0


def _parse_groups(specs: list[str] | None, space_keys: list[str], resolve) -> dict:
    """--group NAME=key1,key2 ... into {name: [keys]} (keys checked)."""
    groups = {}
    for spec in specs or []:
        name, sep, keys = spec.partition("=")
        if not sep or not name.strip() or not keys.strip():
            raise TrdsimError(f"--group {spec!r}: write NAME=key1,key2,...")
        resolved = [resolve(k.strip()) for k in keys.split(",") if k.strip()]
        fixed = [k for k in resolved if k not in space_keys]
        if fixed:
            raise TrdsimError(
                f"--group {name}: {', '.join(fixed)} has no distribution in this run or is "
                "used by no arm, so it carries no decision uncertainty"
            )
        groups[name.strip()] = resolved
    return groups


def _population(args, rate: float | None):
    from trdsim.analysis.results import Population

    if args.population is None:
        return None
    if rate is None:
        raise TrdsimError("--population: give --discount too (no scenario to take it from)")
    p = Population(args.population, args.years, rate)
    p.factor  # noqa: B018 - validates the three numbers with a clear message
    return p


def _print_psa(result) -> None:
    table = result.intervals
    info = result.info
    cur = info["currency"]
    rows = []
    for _, r in table.iterrows():
        money = r.quantity != "inc_qaly"
        f = (lambda x: _money(x, cur)) if money else (lambda x: f"{x:+.3f}")
        what = {"inc_cost": "Δcost", "inc_qaly": "ΔQALY"}.get(r.quantity)
        row = {
            "comparison": f"{r.arm} vs {r.comparator}",
            "quantity": what or f"INMB @{_money(r.threshold, cur)}",
            "mean": f(r["mean"]),
            "95% interval": f"{f(r.low_95)} to {f(r.high_95)}",
            "MC SE": f(r.mcse).lstrip("+"),
            "P(>0)": f"{r.p_positive:.3f}",
        }
        if "noise_share" in table.columns and pd.notna(r.get("noise_share")):
            row["patient noise"] = f"{r.noise_share:.1%}"
        rows.append(row)
    print(pd.DataFrame(rows).to_string(index=False))
    for t, v in info["evpi_per_person"].items():
        line = f"  EVPI at {_money(float(t), cur)}/QALY: {_money(v, cur)} per person"
        if info.get("evpi_population"):
            line += f", {_money(info['evpi_population'][t], cur)} for the population"
        print(line + f" (optimal by expected NMB: {info['optimal_arm'][t]})")
    if info.get("evppi_method"):
        line = f"  EVPPI by {', '.join(info['evppi_method'])} regression"
        if info.get("evppi_clipped"):
            line += f"; {info['evppi_clipped']} value(s) above the EVPI were set to the EVPI"
        print(line)
    for w in info["warnings"]:
        print(f"WARNING: {w}")


class _LazyBar:
    """A progress bar opened at its first update (so it follows the one before it)."""

    def __init__(self, total: int, desc: str, unit: str):
        self.args, self.bar = (total, desc, unit), None

    def update(self, n: int = 1) -> None:
        if self.bar is None:
            self.bar = tqdm_bar(*self.args)
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_psa(args) -> int:
    from trdsim.analysis.evppi import default_groups
    from trdsim.analysis.metamodel import choose_method
    from trdsim.analysis.sampling import ParameterSpace

    scenario = load_scenario(args.scenario)
    space = ParameterSpace(scenario)
    groups = _parse_groups(args.group, space.keys, space.resolve) or default_groups(space.keys)
    if not args.no_evppi:
        choose_method(args.evppi_method, args.draws)  # a bad name fails before the PSA
    population = _population(args, scenario.discount_costs)
    _size_check(args, args.patients, len(scenario.arms), scenario.horizon_weeks, args.draws)
    out = _out_folder(args.out, Path("results") / scenario.name / "psa", "psa")
    seed = scenario.seed if args.seed is None else args.seed
    _compiled(scenario)
    t0 = time.perf_counter()
    evppi_bar = _LazyBar(0 if args.no_evppi else len(groups), "EVPPI", " groups")
    with tqdm_bar(args.draws, "PSA", " draws") as bar:
        try:
            result = trdsim.psa(
                scenario, args.draws, args.patients, seed=seed, groups=groups,
                evppi=not args.no_evppi, evppi_method=args.evppi_method, population=population,
                workers=args.workers, scheduler=args.scheduler, folder=out,
                progress=bar.update, evppi_progress=evppi_bar.update,
            )  # fmt: skip
        except KeyboardInterrupt:
            print(
                f"\ninterrupted: finished chunks are kept in {out}/chunks; "
                "rerun the same command to resume",
                file=sys.stderr,
            )
            return 130
        finally:
            evppi_bar.close()
    elapsed = time.perf_counter() - t0
    written = result.write(out, figures=not args.no_figures)
    print(
        f"\n{scenario.name}: PSA of {args.draws:,} draws x {args.patients:,} patients x "
        f"{len(scenario.arms)} arms ({len(space.keys)} uncertain parameters), seed {seed}, "
        f"in {elapsed:.1f} s\n"
    )
    _print_psa(result)
    for rule, n in result.manifest["clipped_to_keep_order"].items():
        print(f"  kept in order by clipping in {n} of {args.draws:,} draws: {rule}")
    print(f"\nWrote {len(written)} files to {out}/")
    if args.report:
        _report(out, str(out / "report.html"))
    return 0


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise TrdsimError(f"{path}: no such file")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix == ".csv":
            return pd.read_csv(path)
    except Exception as e:  # noqa: BLE001 - any reader failure is bad input here
        raise TrdsimError(f"{path}: cannot read ({e})") from None
    raise TrdsimError(f"{path}: must be a .parquet or .csv file")


def cmd_analyse(args) -> int:
    from trdsim.analysis.decision import REQUIRED, check_table, check_thresholds
    from trdsim.analysis.evppi import default_groups
    from trdsim.analysis.metamodel import choose_method
    from trdsim.analysis.psa import STAT_COLUMNS
    from trdsim.analysis.results import analyse

    path = Path(args.table)
    draws = check_table(_read_table(path), str(path))
    meta_path = path.parent / "manifest.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    if args.thresholds:
        thresholds = check_thresholds(args.thresholds.split(","), "--thresholds")
    elif "thresholds" in meta:
        thresholds = check_thresholds(meta["thresholds"], str(meta_path))
    else:
        raise TrdsimError(f"{path}: give --thresholds (no manifest.json beside the table)")
    currency = args.currency or meta.get("currency", "")
    rate = args.discount if args.discount is not None else meta.get("discount_costs")
    population = _population(args, rate)
    params = [c for c in draws.columns if c not in (*REQUIRED, *STAT_COLUMNS)]
    params = [c for c in params if pd.api.types.is_numeric_dtype(draws[c])]
    groups = None
    if not args.no_evppi:

        def resolve(k):
            if k not in params:
                raise TrdsimError(f"--group: {k} is not a parameter column of {path}")
            return k

        groups = _parse_groups(args.group, params, resolve) or default_groups(params)
        choose_method(args.evppi_method, int(draws.draw.nunique()))
    out = _out_folder(args.out, path.parent, "psa")
    n_groups = len(groups or {})
    with tqdm_bar(n_groups, "EVPPI", " groups") as bar:
        result = analyse(
            draws, thresholds, currency, manifest=meta or None, groups=groups,
            population=population, patients=meta.get("patients"), progress=bar.update,
            evppi_method=args.evppi_method,
        )  # fmt: skip
    written = result.write(out, figures=not args.no_figures)
    _print_psa(result)
    print(f"\nWrote {len(written)} files to {out}/")
    return 0


def cmd_evsi(args) -> int:
    from trdsim.analysis.decision import check_table, check_thresholds
    from trdsim.analysis.evsi import Study, check_sizes
    from trdsim.analysis.results import write_evsi

    path = Path(args.source)
    table_path = path / "draws.parquet" if path.is_dir() else path
    draws = check_table(_read_table(table_path), str(table_path))
    meta_path = table_path.parent / "manifest.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    try:
        sizes = check_sizes([int(x) for x in args.n.split(",") if x.strip()])
    except ValueError:
        raise TrdsimError(f"--n {args.n!r}: give whole numbers per arm, e.g. 25,50,100") from None
    if args.threshold:
        thresholds = check_thresholds(args.threshold.split(","), "--threshold")
    elif "thresholds" in meta:
        thresholds = check_thresholds(meta["thresholds"], str(meta_path))
    else:
        raise TrdsimError(f"{table_path}: give --threshold (no manifest.json beside the table)")
    rate = args.discount if args.discount is not None else meta.get("discount_costs")
    population = _population(args, rate)
    if population is None and (args.fixed_cost or args.per_patient_cost):
        raise TrdsimError("--fixed-cost/--per-patient-cost: ENBS needs --population too")
    study = Study(args.parameter, args.study, args.control_rate, args.sd)
    out = _out_folder(args.out, table_path.parent / "evsi")
    currency = args.currency or meta.get("currency", "")
    written, table = write_evsi(
        draws, out, study, sizes, thresholds, currency, population=population,
        fixed_cost=args.fixed_cost, cost_per_patient=args.per_patient_cost,
        method=args.evppi_method, seed=args.seed, figures=not args.no_figures,
        scenario=meta.get("scenario"), price_year=meta.get("price_year"),
    )  # fmt: skip
    _print_evsi(table, currency)
    print(f"\nWrote {len(written)} files to {out}/")
    return 0


def _print_evsi(table: pd.DataFrame, cur: str) -> None:
    cols = {"n": "n per arm", "threshold": "threshold", "evsi": "EVSI", "se": "± SE",
            "evppi": "EVPPI"}  # fmt: skip
    if "enbs" in table.columns:
        cols |= {"population_evsi": "population EVSI", "study_cost": "study cost",
                 "enbs": "ENBS"}  # fmt: skip
    shown = table[list(cols)].rename(columns=cols)
    for c in shown.columns[1:]:
        shown[c] = [_money(v, cur) for v in shown[c]]
    print(shown.to_string(index=False))
    if "enbs" in table.columns:
        for lam, rows in table.groupby("threshold"):
            best = rows[rows.optimal]
            what = (
                f"n = {best.n.iloc[0]:,} per arm (ENBS {_money(best.enbs.iloc[0], cur)})"
                if len(best) and best.n.iloc[0] > 0
                else "no study (no size has a positive ENBS)"
            )
            print(f"  optimum at {_money(lam, cur)}/QALY: {what}")
    if table.clipped.any():
        print(f"  {int(table.clipped.sum())} EVSI value(s) above the EVPPI were set to the EVPPI")


def tqdm_bar(total: int, desc: str, unit: str):
    """A progress bar on stderr (hidden when stderr is not a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, desc=desc, disable=None, file=sys.stderr)


def cmd_dsa(args) -> int:
    from trdsim.analysis.dsa import Contrast
    from trdsim.analysis.sampling import ParameterSpace

    scenario = load_scenario(args.scenario)
    Contrast.of(scenario, args.arm, args.versus, args.threshold)  # bad arms stop here
    out = _out_folder(args.out, Path("results") / scenario.name / "dsa", "dsa")
    space = ParameterSpace(scenario)
    cur = scenario.currency
    _compiled(scenario)
    if args.pair:
        for k in args.pair:
            space.interval(k)  # unknown or fixed parameters stop here, before any run
        with tqdm_bar(args.steps**2, "two-way", " runs") as bar:
            r = trdsim.two_way(
                scenario, args.pair[0], args.pair[1], args.arm, args.versus, args.threshold,
                steps=args.steps, patients=args.patients, seed=args.seed, progress=bar.update,
            )  # fmt: skip
        # its own folder beside the tornado, named by the keys as trdsim spells them
        # (unit_costs.SETTING.NAME), whichever alias was given
        written = r.write(out / r.name, figures=not args.no_figures)
        grid = r.grid.pivot(index="y", columns="x", values="inmb")
        grid.index.name, grid.columns.name = r.info["y_parameter"], r.info["x_parameter"]
        print(f"Incremental NMB of {r.info['arm']} vs {r.info['versus']} ({cur}):")
        print(grid.map(lambda x: _money(x, cur)).to_string(float_format="{:.4g}".format))
        print(f"\nWrote {len(written)} files to {out / r.name}/")
        return 0
    keys = [space.resolve(k) for k in args.param] if args.param else None
    for k in keys or []:
        space.interval(k)
    total = len(keys or space.drivers())
    with tqdm_bar(total, "one-way", " parameters") as bar:
        r = trdsim.dsa(scenario, args.arm, args.versus, args.threshold, keys=keys,
                       patients=args.patients, seed=args.seed, progress=bar.update)  # fmt: skip
    written = r.write(out, figures=not args.no_figures)
    info, table = r.info, r.tornado
    print(
        f"\nIncremental NMB of {info['arm']} vs {info['versus']} at {_money(info['threshold'], cur)}"
        f"/QALY: base {_money(info['base_inmb'], cur)} ± {_se(info['base_inmb_se'], ',.0f')} "
        f"(MC SE; {info['patients']:,} patients, common random numbers)\n"
    )
    shown = table.head(15)
    print(
        pd.DataFrame(
            {
                "parameter": shown.key,
                "range": [
                    f"{a:.4g} – {b:.4g}"
                    for a, b in zip(shown.low_value, shown.high_value, strict=True)
                ],
                "INMB low": shown.inmb_low.map(lambda x: _money(x, cur)),
                "INMB high": shown.inmb_high.map(lambda x: _money(x, cur)),
                "optimal low/high": shown.optimal_low + " / " + shown.optimal_high,
            }
        ).to_string(index=False)
    )
    print(f"\nWrote {len(written)} files to {out}/")
    return 0


def cmd_threshold(args) -> int:
    scenario = load_scenario(args.scenario)
    r = trdsim.threshold(
        scenario, args.param, args.target, arm=args.arm, versus=args.versus, low=args.low,
        high=args.high, patients=args.patients, seed=args.seed,
    )  # fmt: skip
    print(r.summary())
    if args.out:
        out = Path(args.out)
        if out.suffix == ".json" or out.is_file():
            raise TrdsimError(
                f"--out {out}: give a folder (trdsim writes the threshold analysis, its "
                "manifest and figure into it), e.g. results/uk_nhs/threshold/NAME"
            )
        written = r.write(out)
        print(f"Wrote {len(written)} files to {out}/")
    return 0


def cmd_validate(args) -> int:
    from trdsim.validation.targets import load_targets

    scenario = load_scenario(args.scenario)
    targets = load_targets(args.targets, scenario)
    out = _out_folder(args.out, Path("results") / scenario.name / "validation", "validation")
    _compiled(scenario)
    with tqdm_bar(len(targets), "validating", " targets") as bar:
        r = trdsim.validate(scenario, args.targets, args.patients, args.seed,
                            progress=bar.update)  # fmt: skip
    written = r.write(out, figures=not args.no_figures)
    t = r.targets
    shown = pd.DataFrame(
        {
            "target": t.id,
            "model": t.model.map("{:.3f}".format),
            "published": t.target.map("{:.3f}".format),
            "agreement": [f"{a:.3f}–{b:.3f}" for a, b in zip(t.low, t.high, strict=True)],
            "": np.where(t.agrees, "agrees", "DISAGREES"),
        }
    )
    print(f"\n{scenario.name}: {int(t.agrees.sum())} of {len(t)} targets agree\n")
    print(shown.to_string(index=False))
    print(f"\nWrote {len(written)} files to {out}/")
    return 1 if args.strict and not r.agrees else 0


def cmd_calibrate(args) -> int:
    from trdsim.validation.calibrate import calibrate
    from trdsim.validation.targets import load_targets

    scenario = load_scenario(args.scenario)
    targets = load_targets(args.targets, scenario)
    if args.target:
        known = {t.id for t in targets}
        unknown = [i for i in args.target if i not in known]
        if unknown:
            raise TrdsimError(
                f"--target {', '.join(unknown)}: not in {args.targets or 'the library targets'}; "
                f"ids: {', '.join(sorted(known))}"
            )
        targets = [t for t in targets if t.id in args.target]
    out = (
        Path(args.out)
        if args.out
        else Path("results") / "calibration" / f"{scenario.name}_calibrated.toml"
    )
    if out.exists() and out.is_dir():
        raise TrdsimError(f"--out {out}: is a folder; give the scenario file to write")
    seeds = [scenario.seed + i for i in range(args.seeds)]
    _compiled(scenario)
    with tqdm_bar(None, "calibrating", " evaluations") as bar:
        r = calibrate(scenario, targets, args.param, patients=args.patients, seeds=seeds,
                      method=args.method, progress=bar.update)  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(r.fragment(out))
    r.parameters.to_csv(out.with_suffix(".parameters.csv"), index=False)
    r.fit.to_csv(out.with_suffix(".fit.csv"), index=False)
    print(
        f"\nObjective ({r.method}) {r.objective_start:.4g} -> {r.objective:.4g} in "
        f"{r.evaluations} evaluations ({'converged' if r.converged else 'NOT converged'}); "
        f"{r.patients:,} patients x {len(r.seeds)} seed(s) per target\n"
    )
    print(
        r.parameters[["key", "start", "fitted", "se", "low_95", "high_95"]].to_string(index=False)
    )
    print()
    print(
        r.fit[["id", "target", "low", "high", "before", "after", "agrees_after"]].to_string(
            index=False
        )
    )
    print(f"\nWrote {out} (a scenario: trdsim compare {out}), and its .parameters.csv, .fit.csv")
    return 0


def _settings(specs: list[str] | None) -> dict:
    from trdsim.sweep import _value

    out = {}
    for spec in specs or []:
        key, sep, value = spec.partition("=")
        if not sep or not key.strip():
            raise TrdsimError(f"--set {spec!r}: write KEY=VALUE")
        out[key.strip()] = _value(value)
    return out


def _print_care(summary: dict, yearly: pd.DataFrame, steady: dict, cs: dict) -> None:
    """The per-year table of each service and the steady-state verdict."""
    target = cs["wait_target_weeks"]
    shown = yearly.assign(
        within=[_se(x, ".1%") for x in yearly.within_target],
        utilisation=[_se(x, ".1%") for x in yearly.utilisation],
        mean_wait=[_se(x, ".1f") for x in yearly.mean_wait],
        p90_wait=[_se(x, ".0f") for x in yearly.p90_wait],
        queue_mean=[f"{x:.0f}" for x in yearly.queue_mean],
    )[["service", "year", "starts", "mean_wait", "p90_wait", "within", "queue_end",
       "queue_mean", "over_target_end", "utilisation"]].rename(
        columns={"mean_wait": "mean wait", "p90_wait": "p90 wait", "within": f"<= {target} w",
                 "queue_end": "queue at end", "queue_mean": "mean queue",
                 "over_target_end": f"> {target} w at end"}
    )  # fmt: skip
    print("By year (waits in weeks, of that year's starts):\n")
    print(shown.to_string(index=False))
    print(f"\nSteady state ({steady['test']}):")
    for name, t in steady["services"].items():
        if t["verdict"] == "too short to tell":
            print(f"  {name}: too short to tell (needs 2 years or more)")
            continue
        print(
            f"  {name}: {t['verdict']}: queue {t['queue_growth_per_year']:+,.0f} a year "
            f"({t['growth_share_of_starts']:+.1%} of the year's starts), waits of starts "
            f"{_se(t['wait_trend_per_year'], '+.1f')} weeks a year; last year "
            f"{_se(t['last_year_within_target'], '.1%')} within {target} weeks (those still "
            f"waiting past it count as missed)"
        )
    answer = "meets" if steady["meets_standard"] else "does not meet"
    print(f"  => the system is {steady['verdict']} and {answer} the standard "
          f"({steady['wait_standard']}) in steady state")  # fmt: skip


def cmd_care(args) -> int:
    from trdsim.care_result import care

    base = load_scenario(args.scenario or "capacity_whatif")
    settings = _settings(args.set)
    sc = base.with_values(settings)
    out = _out_folder(args.out, Path("results") / sc.name / "care_system", "care")
    weeks = int(sc.care_system["years"]) * 52 if sc.care_system else 0
    t0 = time.perf_counter()
    with tqdm_bar(weeks, "care system", " weeks") as bar:
        r = care(base, args.seed, settings, progress=bar.update)
    elapsed = time.perf_counter() - t0
    written = r.write(out, figures=not args.no_figures)
    summary, cs, cur = r.info, r.manifest["care_system"], sc.currency
    print(
        f"\n{sc.name}: {summary['referrals']:,} referrals over {cs['years']} years to "
        f"'{cs['arm']}', {cs['queue']} queues, seed {r.manifest['seed']}; simulated in "
        f"{elapsed:.1f} s\n"
    )
    ends = r.services.groupby("service", sort=False).tail(1).set_index("service")
    for name, spec in cs["services"].items():
        print(
            f"  {spec.get('label', name)} ({name}): capacity {summary[f'{name}_capacity']} "
            f"patients, {summary[f'{name}_starts']:,} starts, "
            f"{summary[f'{name}_within_target']:.1%} within {cs['wait_target_weeks']} weeks "
            f"over the whole run, {int(ends.loc[name, 'queue']):,} waiting at the end"
        )
    print()
    _print_care(summary, r.yearly, r.steady, cs)
    print(
        f"\nCosts over {cs['years']} years (discounted, {cur}): care {_money(summary['cost_care'], cur)}"
        f", waiting {_money(summary['cost_waiting'], cur)} ({summary['waiting_weeks']:,} "
        f"patient-weeks), capacity {_money(summary['cost_capacity'], cur)} (staff and equipment, "
        f"used or idle); total {_money(summary['cost_total'], cur)}"
    )
    print(
        f"  {summary['treated']:,} of {summary['referrals']:,} referrals treated: "
        f"{_money(summary['cost_per_patient_treated'], cur)} per patient treated, "
        f"{_money(summary['cost_per_qaly'], cur)} per QALY (average, not incremental); "
        f"QALYs per referral {summary['qaly_per_referral']:.3f}"
    )
    print(f"\nWrote {len(written)} files to {out}/")
    return 0


def _port_problem(host: str, port: int) -> str | None:
    """Why a server could not listen on host:port now, or None (checked before starting
    one, so that a busy port is one message rather than the server's traceback)."""
    import errno
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as the server binds (uvicorn sets it): a port left in TIME_WAIT by a server
        # just stopped is free, one a server listens on is not
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            return "is in use" if e.errno == errno.EADDRINUSE else f"cannot be used ({e.strerror})"
    return None


def cmd_dashboard(args) -> int:
    try:
        import solara  # noqa: F401
    except ImportError:
        raise TrdsimError(
            "the dashboard needs solara: pip install 'trdsim[dashboard]' (or 'mesa[viz]')"
        ) from None
    from trdsim.dashboard import PlanComparison

    scenario = args.scenario or "capacity_whatif"
    settings = _settings(args.set)
    # every input checked here, where a mistake is one line and exit 2
    model = PlanComparison(scenario, settings)
    problem = _port_problem(args.host, args.port)
    if problem:
        raise TrdsimError(f"port {args.port} on {args.host} {problem}: choose another with --port")
    app = Path(__file__).with_name("apps") / "dashboard_page.py"
    env = {
        **os.environ,
        "TRDSIM_DASHBOARD": json.dumps({"scenario": scenario, "settings": settings}),
    }
    print(
        f"trdsim dashboard: {model.scenario_name} at http://{args.host}:{args.port}/ "
        f"(Ctrl-C stops it)",
        flush=True,
    )
    cmd = [sys.executable, "-m", "solara", "run", str(app), "--host", args.host,
           "--port", str(args.port), "--no-open", "--production", "--no-check-version",
           "--log-level", "warning"]  # fmt: skip
    sys.stdout.flush()
    # the server replaces this process: stopping trdsim (Ctrl-C, or its pid) stops it;
    # --no-check-version: a page on localhost does not ask PyPI for solara's latest version
    os.execve(sys.executable, cmd, env)
    return 0  # not reached


def cmd_sweep(args) -> int:
    from trdsim.sweep import parse_grid, sweep

    scenario = load_scenario(args.scenario)
    grid = parse_grid(args.grid, scenario)
    out = _out_folder(args.out, Path("results") / scenario.name / "sweep", "sweep")
    total = args.reps * int(np.prod([len(v) for v in grid.values()]))
    _compiled(scenario)
    with tqdm_bar(total, "sweep", " runs") as bar:
        try:
            r = sweep(scenario, grid, args.reps, out, workers=args.workers,
                      scheduler=args.scheduler, progress=bar.update)  # fmt: skip
        except KeyboardInterrupt:
            print(f"\ninterrupted: finished runs are kept in {out}/runs; rerun the same command to resume",
                  file=sys.stderr)  # fmt: skip
            return 130
    written = r.write(out, figures=not args.no_figures)
    print(r.summary())
    print(f"\nWrote {len(written)} files (and sweep.parquet) to {out}/")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The `trdsim` argument parser: one subcommand per analysis, and --version."""
    p = _Parser(prog="trdsim", description="Simulate sequential vs integrated care for TRD.")
    p.add_argument("--version", action="version", version=f"trdsim {trdsim.__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("compare", help="compare the scenario's pathways and write results")
    c.add_argument(
        "scenario", nargs="?", help=f"scenario file or bundled name (default {DEFAULT_SCENARIO})"
    )
    c.add_argument(
        "--patients", type=_positive_int, help="patients per arm (default: the scenario's)"
    )
    c.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    c.add_argument("--out", help="output folder (default results/<scenario name>/)")
    c.add_argument(
        "--threads", type=_positive_int, help="numba threads (results do not depend on it)"
    )
    c.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    c.add_argument("--report", action="store_true", help="also write OUT/report.html")
    c.add_argument(
        "--force",
        action="store_true",
        help="run even if the size estimate says it takes over an hour",
    )
    c.add_argument(
        "--by",
        action="append",
        metavar="ATTRIBUTE",
        help="also write subgroups.csv: results per subgroup of ATTRIBUTE (age, sex, severity, "
        "failed_trials, maltreatment, inflammation, flexibility, chronic; continuous ones in "
        "thirds, or with cut-offs as severity:17,24); repeatable",
    )
    c.set_defaults(func=cmd_compare)
    tr = sub.add_parser(
        "trial", help="run a randomised trial's design (a scenario with a [trial] section)"
    )
    tr.add_argument("scenario", help="scenario file or bundled name with a [trial] section")
    tr.add_argument(
        "--patients", type=_positive_int, help="randomised per arm (default: the scenario's)"
    )
    tr.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    tr.add_argument("--out", help="output folder (default results/<scenario name>/trial/)")
    tr.add_argument(
        "--force",
        action="store_true",
        help="run even if the size estimate says it takes over an hour",
    )
    tr.set_defaults(func=cmd_trial)
    q = sub.add_parser("params", help="print every parameter with its source")
    q.add_argument(
        "scenario", nargs="?", help=f"scenario file or bundled name (default {DEFAULT_SCENARIO})"
    )
    q.add_argument(
        "--unverified", action="store_true", help="only inputs from memory or assumptions"
    )
    q.add_argument("--csv", help="write the table to this CSV file instead")
    q.add_argument(
        "--effective",
        action="store_true",
        help="each arm's effective response and remission by step, in the scenario's cohort",
    )
    q.set_defaults(func=cmd_params)

    scen_help = f"scenario file or bundled name (default {DEFAULT_SCENARIO})"
    ps = sub.add_parser("psa", help="probabilistic sensitivity analysis (resumable; dask)")
    ps.add_argument("scenario", nargs="?", help=scen_help)
    ps.add_argument("--draws", type=_positive_int, default=1000, help="parameter draws K (1000)")
    ps.add_argument(
        "--force",
        action="store_true",
        help="run even if the size estimate says it takes over an hour",
    )
    ps.add_argument(
        "--patients", type=_positive_int, default=1000, help="patients per draw N (1000)"
    )
    _dask_options(ps)
    ps.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    ps.add_argument("--out", help="output folder (default results/<scenario>/psa/)")
    _analysis_options(ps)
    ps.add_argument(
        "--report",
        action="store_true",
        help="also write OUT/report.html (with the compare results above OUT, if they match)",
    )
    ps.set_defaults(func=cmd_psa)

    rp = sub.add_parser(
        "report", help="self-contained HTML report of a results folder, with CHEERS 2022 map"
    )
    rp.add_argument(
        "results", help="folder written by `trdsim compare` (or `trdsim psa`), e.g. results/uk_nhs"
    )
    rp.add_argument(
        "--out", help="HTML file (default RESULTS/report.html); tables go to <stem>_tables/"
    )
    rp.set_defaults(func=cmd_report)

    an = sub.add_parser("analyse", help="CEAC, EVPI, EVPPI on any (draw, arm, cost, qaly) table")
    an.add_argument(
        "table", help=".parquet or .csv with columns draw, arm, cost, qaly [, parameters]"
    )
    an.add_argument(
        "--thresholds", help="comma-separated, increasing (default: the run's manifest)"
    )
    an.add_argument("--currency", help="currency label for the axes (default: the manifest's)")
    an.add_argument("--discount", type=float, help="annual rate for population EVPI")
    an.add_argument("--out", help="output folder (default: the table's folder)")
    _analysis_options(an)
    an.set_defaults(func=cmd_analyse)

    ev = sub.add_parser("evsi", help="EVSI and ENBS of a proposed study of one parameter")
    ev.add_argument("source", help="a PSA folder (with draws.parquet) or a .parquet/.csv table")
    ev.add_argument("--parameter", required=True, help="the parameter the study informs (column)")
    ev.add_argument(
        "--study", required=True, metavar="KIND",
        help="proportion (one arm, binomial), odds-ratio (two arms vs a control rate), "
             "normal or log-normal (one arm, --sd per observation)",
    )  # fmt: skip
    ev.add_argument("--n", required=True, help="sizes per arm, comma-separated, e.g. 25,50,100")
    ev.add_argument("--control-rate", type=float, help="odds-ratio: control arm's event rate")
    ev.add_argument("--sd", type=float, help="normal / log-normal: SD of one observation")
    ev.add_argument("--threshold", help="per QALY, comma-separated (default: the manifest's)")
    ev.add_argument("--per-patient-cost", type=float, default=0.0, help="study cost per patient")
    ev.add_argument("--fixed-cost", type=float, default=0.0, help="study set-up cost")
    ev.add_argument("--population", type=float, help="people affected per year (for ENBS)")
    ev.add_argument("--years", type=_positive_int, default=10, help="years the decision holds (10)")
    ev.add_argument("--discount", type=float, help="annual rate (default: the manifest's)")
    ev.add_argument("--currency", help="currency label (default: the manifest's)")
    ev.add_argument("--evppi-method", default="auto", metavar="METHOD", help="auto, gam or gp")
    ev.add_argument("--seed", type=_seed, default=0, help="seed of the simulated studies (0)")
    ev.add_argument("--out", help="output folder (default: evsi/ beside the table)")
    ev.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    ev.set_defaults(func=cmd_evsi)

    ds = sub.add_parser("dsa", help="one-way (tornado) or two-way deterministic sensitivity")
    ds.add_argument("scenario", nargs="?", help=scen_help)
    _contrast_options(ds)
    ds.add_argument("--param", action="append", help="vary only this parameter (repeatable)")
    ds.add_argument("--pair", nargs=2, metavar=("KEY1", "KEY2"), help="two-way grid over a pair")
    ds.add_argument(
        "--steps",
        type=_whole_number(2, "at least 2"),
        default=7,
        help="grid points per parameter (7)",
    )
    ds.add_argument("--out", help="output folder (default results/<scenario>/dsa/)")
    ds.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    ds.set_defaults(func=cmd_dsa)

    th = sub.add_parser("threshold", help="the parameter value at which an ICER equals a target")
    th.add_argument("scenario", nargs="?", help=scen_help)
    th.add_argument(
        "--param", required=True, help="parameter key, e.g. unit_costs.uk.esketamine_session"
    )
    th.add_argument("--target", type=float, required=True, help="target ICER per QALY")
    th.add_argument("--arm", help="arm whose ICER is targeted (default: the second arm)")
    th.add_argument("--versus", help="its comparator (default: the first arm)")
    th.add_argument(
        "--low", type=float, help="lower end of the search (default from the parameter)"
    )
    th.add_argument("--high", type=float, help="upper end of the search")
    th.add_argument(
        "--patients", type=_positive_int, help="patients per arm (default: the scenario's)"
    )
    th.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    th.add_argument("--out", help="also write the result to this JSON file")
    th.set_defaults(func=cmd_threshold)

    va = sub.add_parser("validate", help="simulate each published target in its own setting")
    va.add_argument("scenario", nargs="?", help=scen_help)
    va.add_argument("--targets", help="targets file (default: the bundled evidence/targets.toml)")
    va.add_argument(
        "--patients", type=_positive_int, default=20000, help="patients per target (20000)"
    )
    va.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    va.add_argument("--out", help="output folder (default results/<scenario>/validation/)")
    va.add_argument("--strict", action="store_true", help="exit 1 if any target disagrees")
    va.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    va.set_defaults(func=cmd_validate)

    ca = sub.add_parser("calibrate", help="fit parameters to targets; writes a scenario")
    ca.add_argument("scenario", nargs="?", help=scen_help)
    ca.add_argument("--targets", help="targets file (default: the bundled evidence/targets.toml)")
    ca.add_argument("--target", action="append", help="use only this target id (repeatable)")
    ca.add_argument("--param", action="append", required=True, help="parameter to fit (repeatable)")
    ca.add_argument(
        "--patients", type=_positive_int, default=5000, help="patients per target and seed (5000)"
    )
    ca.add_argument(
        "--seeds", type=_positive_int, default=1, help="seeds averaged per evaluation (1)"
    )
    ca.add_argument("--method", choices=("likelihood", "wls"), default="likelihood")
    ca.add_argument(
        "--out", help="scenario file to write (default results/calibration/<name>_calibrated.toml)"
    )
    ca.set_defaults(func=cmd_calibrate)

    cr = sub.add_parser("care", help="the care system under capacity: queues, waits, utilisation")
    cr.add_argument(
        "scenario",
        nargs="?",
        help="scenario with a [care_system] section (default capacity_whatif)",
    )
    cr.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="change a scenario key (repeatable)"
    )
    cr.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")
    cr.add_argument("--out", help="output folder (default results/<scenario>/care_system/)")
    cr.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    cr.set_defaults(func=cmd_care)

    db = sub.add_parser(
        "dashboard", help="a browser page comparing two capacity plans as they run (solara)"
    )
    db.add_argument(
        "scenario",
        nargs="?",
        help="scenario with a [care_system] section (default capacity_whatif)",
    )
    db.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="change a scenario key (repeatable)"
    )
    db.add_argument("--port", type=_port, default=8765, help="port on localhost (8765)")
    db.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    db.set_defaults(func=cmd_dashboard)

    sw = sub.add_parser(
        "sweep", help="care-system runs over a grid of scenario values (resumable; dask)"
    )
    sw.add_argument("scenario", help="scenario with a [care_system] section")
    sw.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="values of a scenario key (repeatable)",
    )
    sw.add_argument(
        "--reps", type=_positive_int, default=1, help="replications (seeds) per combination (1)"
    )
    _dask_options(sw)
    sw.add_argument("--out", help="output folder (default results/<scenario>/sweep/)")
    sw.add_argument("--no-figures", action="store_true", help="skip the PNG figure")
    sw.set_defaults(func=cmd_sweep)
    return p


def _dask_options(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=_positive_int, help="run on a dask LocalCluster of W processes"
    )
    where.add_argument("--scheduler", help="run on a running dask scheduler (address)")


def _analysis_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--group",
        action="append",
        metavar="NAME=KEY,KEY",
        help="EVPPI group (repeatable; default: by treatment and section)",
    )
    p.add_argument("--no-evppi", action="store_true", help="skip EVPPI")
    p.add_argument(
        "--evppi-method",
        default="auto",
        metavar="METHOD",
        help="EVPPI regression: auto (GAM from 50 draws, else exact GP), gam or gp",
    )
    p.add_argument("--population", type=float, help="people affected per year, for population EVPI")
    p.add_argument("--years", type=_positive_int, default=10, help="years the decision holds (10)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")


def _contrast_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", type=float, help="per QALY (default: the scenario's first)")
    p.add_argument("--arm", help="arm (default: the second arm)")
    p.add_argument("--versus", help="comparator (default: the first arm)")
    p.add_argument(
        "--patients", type=_positive_int, help="patients per arm (default: the scenario's)"
    )
    p.add_argument("--seed", type=_seed, help="random seed (default: the scenario's)")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for errors a user can act on)."""
    from trdsim.runtime.locks import release_all

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except TrdsimError as e:
        print(f"trdsim: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps the interpreter's final flush quiet
        return 0
    except OSError as e:
        print(f"trdsim: cannot write: {e}", file=sys.stderr)
        return 2
    finally:
        release_all()  # the output folder is free again for the next run


if __name__ == "__main__":
    sys.exit(main())
