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
    from trdsim.locks import lock_folder

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
    from trdsim import runsize
    from trdsim.simulate import BLOCK

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
_seed = _whole_number(0, f"between 0 and {MAX_SEED} (2**63 - 1)", MAX_SEED)


def _se(x: float, fmt: str) -> str:
    return "n/a" if pd.isna(x) else format(x, fmt)


def _print_summary(result) -> None:
    sc = result.scenario
    cur = sc.currency
    print(
        f"\n{sc.name}: {sc.description}\n"
        f"{result.patients_n:,} patients per arm, seed {result.seed}, horizon {sc.horizon_weeks} weeks, "
        f"{sc.perspective} perspective, {cur} {sc.price_year}, discount {sc.discount_costs:.1%} costs / "
        f"{sc.discount_qalys:.1%} QALYs\n"
    )
    s = result.summary
    base = sc.arms[0]
    table = pd.DataFrame(
        {
            "arm": s.arm,
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
                for c, se in zip(s[f"cost_vs_{base}"], s[f"cost_vs_{base}_se"], strict=True)
            ],
            f"ΔQALY vs {base}": [
                f"{q:+.3f} ± {_se(se, '.3f')}"
                for q, se in zip(s[f"qaly_vs_{base}"], s[f"qaly_vs_{base}_se"], strict=True)
            ],
        }
    )
    print(table.to_string(index=False))
    print("(± = Monte Carlo standard error; Δ are paired: every arm meets the same patients)\n")
    inc = result.incremental
    rows = []
    for _, r in inc.iterrows():
        row = {
            "arm": r.arm,
            "status": r.status + (f" by {r.compared_with}" if "dominated" in r.status else ""),
            "ICER": f"{_money(r.icer, cur)}/QALY" if pd.notna(r.icer) else "",
        }
        for lam in sc.thresholds:
            row[f"INMB @{_money(lam, cur)}"] = _money(r[f"inc_nmb_{lam:g}_vs_{base}"], cur)
        rows.append(row)
    print("Incremental analysis (efficiency frontier; INMB vs " + base + ")")
    print(pd.DataFrame(rows).to_string(index=False))
    for lam in sc.thresholds:
        best = inc.arm[inc[f"optimal_at_{lam:g}"]].tolist()
        print(f"  optimal at {_money(lam, cur)}/QALY: {', '.join(best)}")


def _compiled(scenario) -> None:
    """Compile the kernel for the scenario's run, with a notice if that takes a while.
    Called after a command's own checks, so bad input still gets exactly one line."""
    from trdsim.engine.warmup import compile_notice, warm_up

    with compile_notice():
        warm_up(scenario)


def cmd_trial(args) -> int:
    from trdsim.analysis.trial import run_trial

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
    _write_manifest(out, scenario, args.seed, n, "trial")
    print(f"\nWrote {len(written) + 1} files to {out}/")
    return 0


def cmd_compare(args) -> int:
    import numba
    from tqdm import tqdm

    from trdsim.analysis.subgroups import parse_by, subgroup_analysis
    from trdsim.outputs import write_results
    from trdsim.simulate import simulate

    scenario = load_scenario(args.scenario)
    if args.threads and args.threads > numba.config.NUMBA_NUM_THREADS:
        raise TrdsimError(
            f"--threads {args.threads}: this machine allows at most "
            f"{numba.config.NUMBA_NUM_THREADS} (set NUMBA_NUM_THREADS to change it)"
        )
    n = args.patients or scenario.patients
    by = []
    for spec in args.by or []:
        try:
            by.append(parse_by(spec))
        except ValueError as e:
            raise TrdsimError(f"{scenario.source}: --by = {spec!r}: {e}") from None
    _size_check(args, n, len(scenario.arms), scenario.horizon_weeks, table=True)
    out = _out_folder(args.out, Path("results") / scenario.name, "compare")
    _compiled(scenario)
    t0 = time.perf_counter()
    with tqdm(
        total=n * len(scenario.arms),
        unit=" patients",
        unit_scale=True,
        desc="simulating",
        disable=None,
        file=sys.stderr,
    ) as bar:
        result = simulate(
            scenario, patients=n, seed=args.seed, threads=args.threads, progress=bar.update
        )
    elapsed = time.perf_counter() - t0
    _print_summary(result)
    groups = None
    if by:
        groups = subgroup_analysis(result.patients, scenario.arms, scenario.thresholds, by)
    written = write_results(result, out, figures=not args.no_figures, subgroups=groups)
    flagged = parameter_table(scenario.params).verified.isin(UNVERIFIED).sum()
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


def _write_manifest(
    out: Path,
    scenario,
    seed: int | None,
    patients: int | None,
    kind: str,
    name: str = "manifest.json",
) -> None:
    """The manifest of an analysis: which scenario and trdsim made it (the report includes
    an analysis only when it matches the results beside it)."""
    from trdsim.outputs import scenario_manifest

    m = scenario_manifest(
        scenario,
        scenario.seed if seed is None else seed,
        patients or scenario.patients,
    )
    m["analysis"] = kind
    (out / name).write_text(json.dumps(m, indent=2, default=str))


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
    from trdsim.effective import effective_table, effects_table

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


def _print_psa(info: dict, summary_path: Path) -> None:
    table = pd.read_csv(summary_path)
    cur = info["currency"]
    rows = []
    for _, r in table.iterrows():
        money = r.quantity != "inc_qaly"
        f = (lambda x: _money(x, cur)) if money else (lambda x: f"{x:+.3f}")
        row = {
            "comparison": f"{r.arm} vs {r.versus}",
            "quantity": r.quantity.replace("inc_", "Δ").replace("nmb_", "NMB @"),
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


def cmd_psa(args) -> int:
    from tqdm import tqdm

    from trdsim.analysis.evppi import default_groups
    from trdsim.analysis.metamodel import choose_method
    from trdsim.analysis.psa import run_psa
    from trdsim.analysis.results import write_analysis
    from trdsim.analysis.sampling import ParameterSpace
    from trdsim.outputs import scenario_manifest

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
    with tqdm(total=args.draws, unit=" draws", desc="PSA", disable=None, file=sys.stderr) as bar:
        try:
            draws = run_psa(
                scenario, args.draws, args.patients, out, seed=seed, workers=args.workers,
                scheduler=args.scheduler, progress=bar.update,
            )  # fmt: skip
        except KeyboardInterrupt:
            print(
                f"\ninterrupted: finished chunks are kept in {out}/chunks; "
                "rerun the same command to resume",
                file=sys.stderr,
            )
            return 130
    elapsed = time.perf_counter() - t0
    n_groups = 0 if args.no_evppi else len(groups)
    with tqdm(total=n_groups, unit=" groups", desc="EVPPI", disable=None, file=sys.stderr) as bar:
        written, info = write_analysis(
            draws, out, scenario.thresholds, scenario.currency,
            groups=None if args.no_evppi else groups, population=population,
            patients=args.patients, figures=not args.no_figures, progress=bar.update,
            evppi_method=args.evppi_method, scenario=scenario.name, price_year=scenario.price_year,
        )  # fmt: skip
    _, clipped = space.sample(np.arange(args.draws), seed)  # 40 ms per 1,000 draws
    clipped = {rule: n for rule, n in clipped.items() if n}
    m = scenario_manifest(scenario, seed, args.patients)
    m.update(
        psa_draws=args.draws,
        evppi_groups=groups,
        population=info["population"],
        clipped_to_keep_order=clipped,
    )
    (out / "manifest.json").write_text(json.dumps(m, indent=2, default=str))
    parameter_table(scenario.params, scenario.currency, scenario.raw.get("resources")).to_csv(
        out / "parameters.csv", index=False
    )
    print(
        f"\n{scenario.name}: PSA of {args.draws:,} draws x {args.patients:,} patients x "
        f"{len(scenario.arms)} arms ({len(space.keys)} uncertain parameters), seed {seed}, "
        f"in {elapsed:.1f} s\n"
    )
    _print_psa(info, out / "psa_summary.csv")
    for rule, n in clipped.items():
        print(f"  kept in order by clipping in {n} of {args.draws:,} draws: {rule}")
    print(f"\nWrote draws.parquet and {len(written) + 2} more files to {out}/")
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
    from trdsim.analysis.results import write_analysis

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
        written, info = write_analysis(
            draws, out, thresholds, currency, groups=groups, population=population,
            patients=meta.get("patients"), figures=not args.no_figures, progress=bar.update,
            evppi_method=args.evppi_method, scenario=meta.get("scenario"),
            price_year=meta.get("price_year"),
        )  # fmt: skip
    _print_psa(info, out / "psa_summary.csv")
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
    from trdsim.analysis import plots
    from trdsim.analysis.dsa import Contrast, one_way, two_way

    scenario = load_scenario(args.scenario)
    contrast = Contrast.of(scenario, args.arm, args.versus, args.threshold)
    out = _out_folder(args.out, Path("results") / scenario.name / "dsa", "dsa")
    info = {"arm": contrast.arm, "versus": contrast.versus, "threshold": contrast.threshold}
    _compiled(scenario)
    if args.pair:
        from trdsim.analysis.sampling import ParameterSpace

        space = ParameterSpace(scenario)
        for k in args.pair:
            space.interval(k)  # unknown or fixed parameters stop here, before any run
        with tqdm_bar(args.steps**2, "two-way", " runs") as bar:
            table = two_way(
                scenario, contrast, args.pair[0], args.pair[1], steps=args.steps,
                patients=args.patients, seed=args.seed, progress=bar.update,
            )  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        # the keys as trdsim spells them (unit_costs.SETTING.NAME), whichever alias was given
        name = "twoway_" + "_x_".join(space.resolve(k) for k in args.pair)
        _write_manifest(
            out, scenario, args.seed, args.patients, "dsa two-way", f"{name}.manifest.json"
        )
        table.to_csv(out / f"{name}.csv", index=False)
        if not args.no_figures:
            plots.two_way_figure(
                table, info, scenario.currency, out / f"{name}.png",
                scenario=scenario.name, price_year=scenario.price_year,
            )  # fmt: skip
        grid = table.pivot(index=table.columns[1], columns=table.columns[0], values="inmb")
        print(f"Incremental NMB of {contrast.arm} vs {contrast.versus} ({scenario.currency}):")
        print(
            grid.map(lambda x: _money(x, scenario.currency)).to_string(float_format="{:.4g}".format)
        )
        print(f"\nWrote {name}.csv{'' if args.no_figures else ' and .png'} to {out}/")
        return 0
    from trdsim.analysis.sampling import ParameterSpace

    space = ParameterSpace(scenario)
    keys = [space.resolve(k) for k in args.param] if args.param else None
    for k in keys or []:
        space.interval(k)
    total = len(keys or space.keys)
    with tqdm_bar(total, "one-way", " parameters") as bar:
        table, info = one_way(
            scenario, contrast, keys=keys, patients=args.patients, seed=args.seed,
            progress=bar.update,
        )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    _write_manifest(out, scenario, args.seed, info["patients"], "dsa one-way")
    table.to_csv(out / "tornado.csv", index=False)
    (out / "tornado.json").write_text(json.dumps(info, indent=2))
    if not args.no_figures:
        plots.tornado_figure(
            table, info, scenario.currency, out / "tornado.png",
            scenario=scenario.name, price_year=scenario.price_year,
        )  # fmt: skip
    cur = scenario.currency
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
    print(
        f"\nWrote tornado.csv, tornado.json{'' if args.no_figures else ', tornado.png'} to {out}/"
    )
    return 0


def cmd_threshold(args) -> int:
    from trdsim.analysis.dsa import threshold_value

    scenario = load_scenario(args.scenario)
    r = threshold_value(
        scenario, args.param, args.target, arm=args.arm, versus=args.versus, low=args.low,
        high=args.high, patients=args.patients, seed=args.seed,
    )  # fmt: skip
    cur = scenario.currency
    print(
        f"{r['parameter']} = {r['value']:.6g} (base {r['base_value']:.6g}) makes the ICER of "
        f"{r['arm']} vs {r['versus']} {_money(r['icer'], cur)}/QALY "
        f"(target {_money(r['target_icer'], cur)}): Δcost {_money(r['inc_cost'], cur)}, "
        f"ΔQALY {r['inc_qaly']:+.4f}, {r['quadrant']}; {r['evaluations']} simulations of "
        f"{r['patients']:,} patients, seed {r['seed']}"
    )
    if args.out:
        from trdsim.outputs import scenario_manifest

        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        m = scenario_manifest(scenario, r["seed"], r["patients"])
        provenance = {
            k: m[k] for k in ("scenario", "scenario_hash", "trdsim_version", "created_utc")
        }
        out.write_text(json.dumps({**r, **provenance}, indent=2))
        print(f"Wrote {out}")
    return 0


def cmd_validate(args) -> int:
    from trdsim.analysis import plots
    from trdsim.analysis.targets import load_targets
    from trdsim.analysis.validation import table, validate

    scenario = load_scenario(args.scenario)
    targets = load_targets(args.targets, scenario)
    out = _out_folder(args.out, Path("results") / scenario.name / "validation", "validation")
    _compiled(scenario)
    with tqdm_bar(len(targets), "validating", " targets") as bar:
        outcomes = validate(scenario, targets, args.patients, args.seed, progress=bar.update)
    t = table(outcomes)
    out.mkdir(parents=True, exist_ok=True)
    _write_manifest(out, scenario, args.seed, args.patients, "validation")
    t.to_csv(out / "validation.csv", index=False)
    if not args.no_figures:
        plots.validation_overview(t, out / "validation.png", scenario=scenario.name)
        for o in outcomes:
            plots.target_figure(o, out / f"target_{o.target.id}.png", scenario=scenario.name)
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
    print(f"\nWrote validation.csv{'' if args.no_figures else ' and figures'} to {out}/")
    return 1 if args.strict and not t.agrees.all() else 0


def cmd_calibrate(args) -> int:
    from trdsim.analysis.calibration import calibrate
    from trdsim.analysis.targets import load_targets

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


def _care_manifest(out: Path, scenario, seed: int, kind: str, **extra) -> None:
    """manifest.json of a care-system run or sweep: the scenario (as run, --set values
    included), seed, trdsim version, and what the command was given."""
    from trdsim.outputs import scenario_manifest

    m = scenario_manifest(scenario, seed, 0)
    m.pop("patients")  # referrals arrive at random: there is no fixed number
    m["analysis"] = kind
    m["care_system"] = scenario.care_system
    m.update(extra)
    (out / "manifest.json").write_text(json.dumps(m, indent=2, default=str))


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
    from trdsim import care_plots
    from trdsim.care_system import CareSystemModel

    base = load_scenario(args.scenario or "capacity_whatif")
    settings = _settings(args.set)
    sc = base.with_values(settings)
    out = _out_folder(args.out, Path("results") / sc.name / "care_system", "care")
    model = CareSystemModel(sc, rng=args.seed)
    t0 = time.perf_counter()
    with tqdm_bar(model.weeks, "care system", " weeks") as bar:
        while model.running:
            model.step()
            bar.update(1)
    elapsed = time.perf_counter() - t0
    weekly = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    services = model.datacollector.get_agent_vars_dataframe().reset_index()
    services["week"] = services["Step"].astype(int) - 1
    services = services.drop(columns=["Step", "AgentID"])
    summary = model.summary()
    yearly = model.yearly()
    steady = model.steady_state()
    out.mkdir(parents=True, exist_ok=True)
    weekly.to_csv(out / "weekly.csv", index=False)
    services.to_csv(out / "services.csv", index=False)
    yearly.to_csv(out / "yearly.csv", index=False)
    (out / "summary.json").write_text(
        json.dumps({**summary, "steady_state_test": steady}, indent=2, default=float)
    )
    _care_manifest(out, model.scenario, model.seed_value, "care", settings=settings)
    if not args.no_figures:
        care_plots.queues_figure(services, out / "queues.png", scenario=sc.name)
        care_plots.utilisation_figure(services, out / "utilisation.png", scenario=sc.name)
        waits = {
            sv.name: np.concatenate(sv.all_waits) if sv.all_waits else np.empty(0)
            for sv in model.services
        }
        care_plots.waits_figure(waits, model.wait_target, out / "waits.png", scenario=sc.name)
    cs = model.scenario.care_system
    cur = sc.currency
    print(
        f"\n{sc.name}: {summary['referrals']:,} referrals over {cs['years']} years to "
        f"'{cs['arm']}', {cs['queue']} queues, seed {model.seed_value}; simulated in "
        f"{elapsed:.1f} s\n"
    )
    for sv in model.services:
        print(
            f"  {sv.label} ({sv.name}): capacity {sv.capacity} patients, {sv.total_starts:,} starts, "
            f"{summary[f'{sv.name}_within_target']:.1%} within {cs['wait_target_weeks']} weeks "
            f"over the whole run, {sv.queue_length:,} waiting at the end"
        )
    print()
    _print_care(summary, yearly, steady, cs)
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
    print(
        f"\nWrote weekly.csv, services.csv, yearly.csv, summary.json, manifest.json and figures to {out}/"
    )
    return 0


def cmd_sweep(args) -> int:
    from trdsim import care_plots
    from trdsim.sweep import parse_grid, run_sweep

    scenario = load_scenario(args.scenario)
    grid = parse_grid(args.grid, scenario)
    out = _out_folder(args.out, Path("results") / scenario.name / "sweep", "sweep")
    total = args.reps * int(np.prod([len(v) for v in grid.values()]))
    _compiled(scenario)
    with tqdm_bar(total, "sweep", " runs") as bar:
        try:
            table = run_sweep(scenario, grid, args.reps, out, workers=args.workers,
                              scheduler=args.scheduler, progress=bar.update)  # fmt: skip
        except KeyboardInterrupt:
            print(f"\ninterrupted: finished runs are kept in {out}/runs; rerun the same command to resume",
                  file=sys.stderr)  # fmt: skip
            return 130
    table.to_csv(out / "sweep.csv", index=False)
    _care_manifest(out, scenario, scenario.seed, "sweep", reps=args.reps,
                   grid={k: list(v) for k, v in grid.items()},
                   seeds=sorted(set(table.seed.tolist())))  # fmt: skip
    keys = list(grid)
    if keys and not args.no_figures:
        care_plots.capacity_curves(
            table, keys[0],
            [("share_started_within_target", "share of starts within target"),
             ("qaly_per_referral", "QALYs per referral"),
             ("cost_per_referral", f"cost per referral ({scenario.currency})")],
            out / "sweep.png", by=keys[1] if len(keys) > 1 else None,
            currency=scenario.currency, scenario=scenario.name, price_year=scenario.price_year,
            labels=care_plots.grid_labels(scenario.raw.get("care_system", {}), keys),
        )  # fmt: skip
    shown = table.groupby(keys or ["rep"])[
        ["share_started_within_target", "qaly_per_referral", "cost_per_referral"]
    ].mean()
    print(shown.to_string(float_format="{:.4g}".format))
    if "steady_state" in table:
        growing = (table.steady_state == "growing").sum()
        print(f"\n{growing} of {len(table)} runs have a growing queue in their last year")
    print(
        f"\nWrote sweep.parquet, sweep.csv, manifest.json{'' if args.no_figures else ', sweep.png'} to {out}/"
    )
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
    from trdsim.locks import release_all

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
