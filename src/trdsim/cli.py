"""The `trdsim` command.

Only the standard library is imported at module level: numpy, pandas and trdsim's own
modules are imported inside the commands, so `trdsim --help` and `trdsim --version`
answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["MIN_DECISION_PATIENTS", "RUNS", "build_parser", "main"]

# Copies of trdsim.scenario's DEFAULT_SCENARIO and MAX_SEED (importing that module loads
# numpy and pandas; tests/test_cli.py checks the copies agree).
DEFAULT_SCENARIO = "uk_nhs"
MAX_SEED = 2**63 - 1
CARE_SCENARIO = "capacity_whatif"  # the bundled scenario with a [care_system] section

# Where commands write unless --out says otherwise: not the tracked results/ folder, whose
# documented results a reader's first command must not overwrite.
RUNS = Path("runs")

# Fewer patients per arm than this cannot support a decision: on uk_nhs a patient's paired
# incremental NMB between the two best arms has an SD about 15 times their mean difference
# (£14,040 vs £794 at £20,000/QALY; 2,000 patients, seed 1), so at 1,000 patients the
# Monte Carlo SE is already about half that difference. `compare --force` runs fewer
# (e.g. to try a scenario quickly); the bottom line then says the run is too small.
MIN_DECISION_PATIENTS = 1_000

# patients per arm of each structural variant unless --patients says otherwise: a run of
# every variant stays a matter of seconds
STRUCTURAL_PATIENTS = 5_000
# Runs a threshold search is sized for: two ends of the bracket and Brent's method at its
# tolerances (typically 10 to 30 evaluations); an estimate, so taken generously
THRESHOLD_RUNS = 40
# Arms of a validation target's run (the treatment, and a comparator for a relapse
# contrast), each over at most the scenario's horizon (a course and its follow-up)
TARGET_ARMS = 2

# Most columns a table given to analyse or evsi may have: draw, arm, cost, qaly and a
# column per parameter (the library has a few hundred uncertain ones). Far more is not
# a PSA table, and its analysis would allocate arrays of columns x draws (x columns for
# EVPPI's regressions) past any machine's memory: refused before reading it
MAX_TABLE_COLUMNS = 10_000
MAX_HEADER_BYTES = 4 * 2**20  # a CSV header line longer than this has too many columns
WIDTH = 100  # terminal columns every printed line fits in (params --wide excepted)


# Spellings of trdsim 0.1 that now have one name across commands (said when they are used)
_RENAMED = {"--thresholds": "--threshold", "--parameter": "--param"}


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one line, as bad scenario input does, and takes
    no abbreviations (`--patient 100` is an error, not `--patients 100`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"trdsim: error: {message}\n")


# ---------------------------------------------------------------- output folders

# Sub-folders a result owns and --overwrite replaces with it: a PSA's and a sweep's
# resume data, the report's tables and the EVSI made from a PSA's draws (stale once they
# are replaced). Any other sub-folder is another analysis (e.g. psa/ inside a compare
# folder) and is kept.
_OWNED_DIRS = ("chunks", "runs", "report_tables", "evsi")
_RUN_FILES = {"psa_run.json": "psa", "sweep_run.json": "sweep"}  # written when a run starts


def _found(folder: Path) -> tuple[str, dict] | None:
    """The kind of result in `folder` and its key arguments, or None if it holds none.

    Read from manifest.json (a finished result) or from a PSA's or sweep's run file (a
    run that started, perhaps interrupted)."""
    for name, kind in _RUN_FILES.items():
        run = _json_file(folder / name)
        if run is not None:
            key = {k: run.get(k) for k in ("draws", "patients", "seed", "reps", "grid")}
            key = {k: v for k, v in key.items() if v is not None}
            held = _json_file(folder / "manifest.json") or {}
            key = {"scenario": held.get("scenario"), **key, "hash": run.get("scenario_hash")}
            return kind, {k: v for k, v in key.items() if v is not None}
    m = _json_file(folder / "manifest.json")
    if m is None or not {"scenario_hash", "trdsim_version"} & set(m):
        return None  # no manifest, or another program's: not a trdsim result to replace
    kind = str(m.get("analysis") or ("psa" if "psa_draws" in m else "compare")).split()[0]
    key = {"scenario": m.get("scenario"), "patients": m.get("patients"), "seed": m.get("seed"),
           "settings": m.get("settings") or None}  # fmt: skip
    return kind, {k: v for k, v in key.items() if v is not None}


def _json_file(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _describe(key: dict) -> str:
    """Key arguments as a person would type them: scenario uk_nhs, patients 1,000, seed 1."""
    shown = []
    for k, v in key.items():
        if k == "hash" or v is None:
            continue
        if isinstance(v, dict):
            v = " ".join(f"{a}={','.join(map(str, b)) if isinstance(b, list) else b}"
                         for a, b in v.items())  # fmt: skip
        elif isinstance(v, int) and not isinstance(v, bool) and k != "seed":
            v = f"{v:,}"
        shown.append(f"{k} {v}")
    return ", ".join(shown)


def _out_folder(
    args: argparse.Namespace,
    default: Path,
    kind: str | None,
    key: dict | None = None,
    resumes: bool = False,
    keep: tuple[Path, ...] = (),
) -> Path:
    """The output folder (--out or `default`), checked before any work and locked.

    A file there is an error. A folder holding a result of another kind, or of a run
    with other key arguments, is refused with what it holds and the ways out (--overwrite,
    --resume where the command resumes, another --out); with --overwrite that result is
    removed (files in `keep`, e.g. an input table, stay; nothing in a folder without a
    trdsim result). A rerun with the same arguments replaces the result, or resumes it
    (`resumes`: psa, sweep).
    """
    from trdsim.errors import TrdsimError
    from trdsim.runtime.locks import lock_folder, release_folder

    given = getattr(args, "out", None)
    if given is not None and not given.strip():
        raise TrdsimError(f"--out '': give a folder (default {default})")
    out = Path(given) if given else default
    if out.exists() and not out.is_dir():
        raise TrdsimError(f"--out {out}: is a file; give a folder (default {default})")
    # the lock first, so that what the folder holds cannot change between the check and
    # the run (another run into it, on this machine or another, waits for this one)
    lock_folder(out)
    try:
        _check_out(out, args, default, kind, key or {}, resumes)
    except TrdsimError:
        release_folder(out)  # (and the folder, if it was made for this run)
        raise
    found = _found(out)
    same = found is not None and found[0] == kind and _same(found[1], key or {})
    if found is not None and getattr(args, "overwrite", False) and not same:
        _clear(out, {p.resolve() for p in keep})
    return out


def _same(old: dict, key: dict) -> bool:
    return all(old.get(k) == v for k, v in key.items() if k in old)


def _check_out(out: Path, args, default: Path, kind: str | None, key: dict, resumes: bool):
    """Refuse `out` if it holds a result of another kind or other arguments (see
    `_out_folder`)."""
    from trdsim.errors import TrdsimError

    found = _found(out) if out.is_dir() else None
    overwrite = getattr(args, "overwrite", False)
    same = found is not None and found[0] == kind and _same(found[1], key)
    if found is not None and not same and not overwrite:
        held, old = found
        what = "other arguments" if held == kind else "results of another kind"
        ways = "add --overwrite to replace it"
        if resumes and held == kind:
            ways = "add --resume to resume it (with its arguments), " + ways
        this = f"; this run: {_describe(key)}" if held == kind else ""
        if held == kind and old.get("hash") not in (None, key.get("hash", old.get("hash"))):
            this += " (the scenario's values have changed since)"
        raise TrdsimError(
            f"--out {out}: holds {what}, a {held} run ({_describe(old)}){this}; "
            f"{ways}, or choose another --out"
        )
    if resumes and out.is_dir() and not same:
        # a PSA or a sweep resumes from its folder, so nothing else may be in it
        others = [
            p.name + ("/" if p.is_dir() else "")
            for p in sorted(out.iterdir())
            if not _ours(p) and (found is None or not _owned(p))
        ]
        if others:
            raise TrdsimError(
                f"--out {out}: holds {', '.join(others[:3])}{' ...' if len(others) > 3 else ''}"
                f" (not a {kind} run's); a {kind} run needs a folder of its own: choose "
                "another --out"
            )


def _resumed(args, default: Path, kind: str, scenario) -> dict:
    """With --resume: the arguments of the `kind` run in --out (or `default`), read from
    its run file, for this run to take; {} without --resume."""
    from trdsim.errors import TrdsimError

    if not args.resume:
        return {}
    out = Path(args.out) if args.out else default
    run = _json_file(out / f"{kind}_run.json")
    if run is None:
        raise TrdsimError(f"--resume: {out} holds no {kind} run to resume; run without --resume")
    if run.get("scenario_hash") != scenario.hash:
        raise TrdsimError(
            f"--resume: the {kind} run in {out} is of other values of {scenario.name} (the "
            "scenario changed since); add --overwrite instead to replace it"
        )
    return run


def _ours(path: Path) -> bool:
    """trdsim's own bookkeeping in an output folder: its lock, a write being staged."""
    return path.name.startswith(".trdsim")


def _once(flag: str, keys: list[str], given: list[str]) -> None:
    """Refuse a repeatable option naming one thing twice (`keys`: as resolved, e.g. an
    alias and its full key; `given`: as typed): the second would silently count twice."""
    from trdsim.errors import TrdsimError

    seen: dict[str, str] = {}
    for key, typed in zip(keys, given, strict=True):
        if key in seen:
            same = f" (as {seen[key]})" if seen[key] != typed else ""
            raise TrdsimError(f"{flag} {typed}: given twice{same}; give each once")
        seen[key] = typed


def _owned(path: Path) -> bool:
    """Whether `path` (in an output folder) belongs to the result there, not to another
    analysis in a sub-folder."""
    return path.is_file() or path.name in _OWNED_DIRS


def _clear(folder: Path, keep: set[Path]) -> None:
    """Remove the result in `folder` (--overwrite): its files and its own sub-folders."""
    for p in folder.iterdir():
        if p.resolve() in keep or _ours(p):
            continue
        if p.is_dir() and p.name in _OWNED_DIRS:
            shutil.rmtree(p)
        elif p.is_file():
            p.unlink()


# ---------------------------------------------------------------- checks and sizes


def _size_check(
    args, patients: int, arms: int, weeks: int, draws: int = 1, table=False, announce=True
):
    """Refuse a run too big for this machine, or over an hour without --force; say how
    long a run of more than a few seconds will take (announce=False: the caller does, with
    _announce, once its other checks pass, so that a refusal stays one line)."""
    from trdsim.runtime import runsize
    from trdsim.simulation.run import BLOCK

    # compare and trial simulate in blocks of patients; a PSA holds a draw's at once
    block = BLOCK if table else 0
    size = runsize.estimate(patients, arms, weeks, draws, table=table, block=block)
    runsize.check(size, args.force)
    if announce:
        _announce(size)
    return size


def _announce(size) -> None:
    """Print the estimate of a run of more than a few seconds before it starts."""
    from trdsim.runtime import runsize

    if size is not None and size.seconds > runsize.ANNOUNCE_SECONDS:
        print(f"estimate: {size.describe()}", file=sys.stderr)


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


def _scenario(args, default: str = DEFAULT_SCENARIO):
    """The scenario the command names (or its default), loaded and checked."""
    from trdsim.scenario import load_scenario

    return load_scenario(args.scenario or default)


# ---------------------------------------------------------------- printing


def _fit(text: str, width: int = WIDTH, indent: str | None = None) -> str:
    """Each line of `text` wrapped to `width` columns; continuation lines are indented by
    `indent` (default: the line's own indent and two spaces)."""
    import textwrap

    # "± £49" and "3.5 %" stay whole: a line never starts with "%" or ends with "±"
    text = text.replace("± ", "±\0").replace(" %", "\0%")
    lines = []
    for line in text.splitlines():
        lead = line[: len(line) - len(line.lstrip())]
        more = lead + "  " if indent is None else indent
        lines.append(
            textwrap.fill(line, width, subsequent_indent=more, break_long_words=False,
                          break_on_hyphens=False) or line
        )  # fmt: skip
    return "\n".join(lines).replace("\0", " ")


def _say(text: str = "", indent: str | None = None) -> None:
    """Print a paragraph wrapped to the terminal width."""
    print(_fit(text, indent=indent))


def _table(df, index: bool = False) -> str:
    """A table as text no wider than WIDTH: columns that do not fit go to a further block
    below (the first column repeated), as a reader scrolls down rather than sideways."""
    shown = df.astype(str) if not index else df
    text = shown.to_string(index=index)
    if max(map(len, text.splitlines()), default=0) <= WIDTH:
        return text
    cols = list(shown.columns)
    first, rest = cols[0], cols[1:]
    blocks: list[list[str]] = []
    block: list[str] = []
    for c in rest:
        trial = shown[[first, *block, c]].to_string(index=index)
        if block and max(map(len, trial.splitlines())) > WIDTH:
            blocks.append(block)
            block = []
        block.append(c)
    blocks.append(block)
    return "\n\n".join(shown[[first, *b]].to_string(index=index) for b in blocks)


def _figure(x: Any) -> Any:
    """A float as a table shows it: a true minus sign, thousands separators, about four
    significant figures; anything else unchanged."""
    from trdsim.currency import number

    if not isinstance(x, float):
        return x
    if math.isnan(x):
        return "n/a"
    return number(x, 0 if abs(x) >= 100 else 2 if abs(x) >= 1 else 3)


def _records(df) -> list[dict]:
    """A table's rows for --json: plain numbers, nulls for missing values."""
    return [{str(k): _plain(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def _plain(v: Any) -> Any:
    """A value JSON can hold: numpy scalars as numbers, NaN as null, others as text."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_plain(x) for x in v]
    if type(v).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is None or isinstance(v, bool | int | float | str):
        return v
    return str(v)


def _summary(args, **fields: Any) -> None:
    """What --json prints: the command's key numbers (main writes it on stdout)."""
    args.summary = {"command": args.command, **{k: _plain(v) for k, v in fields.items()}}


class _Bar:
    """tqdm's progress bar on stderr, with no time remaining until it has a rate: the
    first update includes start-up work (sampling the cohort, a warm cache) and would give
    an ETA off by that much, so the remaining time shows from the second update on."""

    WAITING = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}<?, measuring]"

    def __init__(self, total: int | None, desc: str, unit: str, file=None, disable=None):
        from tqdm import tqdm

        self.updates = 0
        self.bar = tqdm(total=total, unit=unit, desc=desc, disable=disable,
                        file=sys.stderr if file is None else file,
                        bar_format=self.WAITING if total else None)  # fmt: skip

    def update(self, n: int = 1) -> None:
        self.updates += 1
        if self.updates == 2 and self.bar.total:
            self.bar.bar_format = None  # tqdm's own: elapsed<remaining, rate
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()

    def __str__(self) -> str:
        return str(self.bar)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def tqdm_bar(total: int | None, desc: str, unit: str, file=None, disable=None) -> _Bar:
    """A progress bar on stderr (hidden when stderr is not a terminal, or with --quiet)."""
    return _Bar(total, desc, unit, file, disable)


# ---------------------------------------------------------------- compare and trial


def _print_summary(result) -> None:
    """The per-arm table, the paired differences, the incremental analysis and the bottom
    line (the optimal arm per threshold, or why the run cannot name one)."""
    import pandas as pd

    from trdsim.currency import money, number, plus_minus, share
    from trdsim.economics import status_label

    m = result.manifest
    cur = m["currency"]
    print()
    _say(
        f"{m['scenario']}: {m['description']}\n"
        f"{result.patients_n:,} patients per arm, seed {result.seed}, horizon "
        f"{m['horizon_weeks']} weeks, {m['perspective']} perspective, {cur} {m['price_year']}, "
        f"discount {share(m['discount_costs'])} costs / {share(m['discount_qalys'])} QALYs"
    )
    print()
    s = result.per_arm
    base = m["arms"][0]
    arms = pd.DataFrame(
        {
            "arm": s.arm.astype(str),
            "cost": [f"{money(c, cur)} {plus_minus(se, cur)}" for c, se in zip(s.cost, s.cost_se, strict=True)],
            "QALYs": [f"{number(q, 3)} {plus_minus(se, digits=3)}" for q, se in zip(s.qaly, s.qaly_se, strict=True)],
            "life-years": [number(x, 2) for x in s.life_years],
            "weeks remitted": [number(x, 1) for x in s.weeks_in_remission],
            "ever remitted": [share(x) for x in s.ever_remitted],
            "relapses": [number(x, 2) for x in s.relapses],
            "steps": [number(x, 2) for x in s.steps_used],
        }
    )  # fmt: skip
    print(_table(arms))
    diffs = pd.DataFrame(
        {
            "arm": s.arm.astype(str),
            f"Δcost vs {base}": [
                f"{money(c, cur, sign=True)} {plus_minus(se, cur)}"
                for c, se in zip(s.cost_diff, s.cost_diff_se, strict=True)
            ],
            f"ΔQALYs vs {base}": [
                f"{number(q, 3, sign=True)} {plus_minus(se, digits=3)}"
                for q, se in zip(s.qaly_diff, s.qaly_diff_se, strict=True)
            ],
        }
    )[s.arm.astype(str) != base]
    if len(diffs):
        print()
        print(_table(diffs))
    _say("(± = Monte Carlo standard error; Δ are paired: every arm meets the same patients)")
    print()
    nb = result.net_benefit
    rows = []
    for r in result.incremental.itertuples():
        row = {
            "arm": str(r.arm),
            "status": status_label(r.status, r.comparator),
            "ICER": f"{money(r.icer, cur)}/QALY" if pd.notna(r.icer) else "",
        }
        for lam in m["thresholds"]:
            v = nb.inc_nmb[(nb.threshold == lam) & (nb.arm == r.arm)].iloc[0]
            row[f"INMB @{money(lam, cur)}"] = money(v, cur, sign=True)
        rows.append(row)
    print(f"Incremental analysis (efficiency frontier; INMB vs {base})")
    print(_table(pd.DataFrame(rows)))
    print()
    print(_fit(result.bottom_line(), indent="    "))


def _compare_json(result, out: Path, **extra: Any) -> dict:
    """compare's numbers for --json: per arm, incremental, net benefit, the decision."""
    return {
        "scenario": result.manifest["scenario"],
        "patients": result.patients_n,
        "seed": result.seed,
        "currency": result.manifest["currency"],
        "out": str(out),
        "arms": _records(result.per_arm),
        "incremental": _records(result.incremental),
        "net_benefit": _records(result.net_benefit),
        "decision": _records(result.adequacy()),
        **extra,
    }


def _compiled(scenario, *kinds: str) -> None:
    """Compile the kernel functions the command runs (warmup.SIMULATE, BATCH, CARE), with
    a notice if that takes a while. Called after a command's own checks, so bad input
    still gets exactly one line."""
    from trdsim.simulation.warmup import CARE, compile_notice, warm_up

    with compile_notice(kinds):
        warm_up(scenario, [k for k in kinds if k != CARE])
        if CARE in kinds:
            from trdsim.care_system import warm_up_care

            warm_up_care(scenario)


def _care_size(sc) -> tuple[int, int]:
    """Patients and weeks of one care-system run: every referral over its years, each
    followed along the care pathway for the scenario's horizon (or the years, if longer)."""
    cs = sc.care_system or {}
    years = int(cs.get("years", 0) or 0)
    patients = math.ceil(float(cs.get("referrals_per_year", 0) or 0) * years)
    return patients, max(years * 52, sc.horizon_weeks)


def cmd_trial(args) -> int:
    """Run a randomised trial's design: outcomes, contrasts and the economics."""
    import pandas as pd

    from trdsim.currency import number, share
    from trdsim.errors import TrdsimError
    from trdsim.store.manifest import make_manifest
    from trdsim.validation.trial import run_trial

    scenario = _scenario(args)
    if scenario.trial is None:
        raise TrdsimError(
            f"{scenario.source}: trial: missing: a [trial] section is needed (control, "
            "assess_weeks, outcomes; see scenarios/README or experiments/replications/)"
        )
    n = args.patients or scenario.patients
    seed = scenario.seed if args.seed is None else args.seed
    _size_check(args, n, len(scenario.arms), scenario.horizon_weeks, table=True)
    key = {"scenario": scenario.name, "patients": n, "seed": seed}
    out = _out_folder(args, RUNS / scenario.name / "trial", "trial", key)
    _compiled(scenario, "simulate")
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
            "share": [f"{share(s)} ({share(a)} to {share(b)})"
                      for s, a, b in zip(o.share, o.low, o.high, strict=True)],
        }
    )  # fmt: skip
    print(_table(shown))
    c = r.contrasts
    if len(c):
        print(f"\nAgainst {d['control']}:\n")
        shown = pd.DataFrame(
            {
                "outcome": c.outcome,
                "week": c.week,
                "arm": c.arm,
                "difference": [
                    f"{share(x, sign=True)} ({share(a, sign=True)} to {share(b, sign=True)})"
                    for x, a, b in zip(c.difference, c.difference_low, c.difference_high,
                                       strict=True)
                ],
                "odds ratio": [
                    f"{number(x, 2)} ({number(a, 2)} to {number(b, 2)})"
                    for x, a, b in zip(c.odds_ratio, c.odds_ratio_low, c.odds_ratio_high,
                                       strict=True)
                ],
            }
        )  # fmt: skip
        print(_table(shown))
    print(f"\nEconomics over the follow-up ({cur}, {scenario.perspective} perspective):")
    _print_summary(r.result)
    written = r.write(out, make_manifest(scenario, "trial", args.seed, n))
    print(f"\nWrote {len(written)} files to {out}/")
    _summary(args, **_compare_json(r.result, out), outcomes=_records(r.outcomes),
             contrasts=_records(r.contrasts))  # fmt: skip
    return 0


def cmd_compare(args) -> int:
    """Simulate the scenario's arms on one cohort; print and write the results."""
    import numba

    from trdsim.analysis.subgroups import parse_by
    from trdsim.errors import TrdsimError

    scenario = _scenario(args)
    if args.threads and args.threads > numba.config.NUMBA_NUM_THREADS:
        raise TrdsimError(
            f"--threads {args.threads}: this machine allows at most "
            f"{numba.config.NUMBA_NUM_THREADS} (set NUMBA_NUM_THREADS to change it)"
        )
    n = args.patients or scenario.patients
    seed = scenario.seed if args.seed is None else args.seed
    for spec in args.by or []:
        try:
            parse_by(spec)
        except ValueError as e:
            raise TrdsimError(f"{scenario.source}: --by = {spec!r}: {e}") from None
    if n < MIN_DECISION_PATIENTS and not args.force:
        raise TrdsimError(
            f"--patients {n:,}: fewer than {MIN_DECISION_PATIENTS:,} per arm cannot name an "
            "optimal arm (Monte Carlo noise); give more, or add --force to run it anyway"
        )
    _size_check(args, n, len(scenario.arms), scenario.horizon_weeks, table=True)
    key = {"scenario": scenario.name, "patients": n, "seed": seed}
    out = _out_folder(args, RUNS / scenario.name, "compare", key)
    _compiled(scenario, "simulate")
    import trdsim

    t0 = time.perf_counter()
    with tqdm_bar(n * len(scenario.arms), "simulating", " patients") as bar:
        result = trdsim.compare(scenario, n, args.seed, by=args.by, threads=args.threads,
                                progress=bar.update)  # fmt: skip
    elapsed = time.perf_counter() - t0
    _print_summary(result)
    written = result.write(out, figures=not args.no_figures)
    from trdsim.evidence import UNVERIFIED

    flagged = int(result.parameters.verified.isin(UNVERIFIED).sum())
    print()
    _say(
        f"Simulated in {elapsed:.1f} s. Wrote {len(written)} files to {out}/\n"
        f"{flagged} inputs are 'from memory, unverified' or assumptions: "
        f"`trdsim params {args.scenario or DEFAULT_SCENARIO} --unverified` lists them."
    )
    report = _report(out) if args.report else None
    _summary(args, **_compare_json(result, out), seconds=round(elapsed, 2),
             unverified_inputs=flagged, report=report)  # fmt: skip
    return 0


# ---------------------------------------------------------------- the report


def _report(folder: Path, out: Path | None = None) -> str:
    """Write the HTML report of `folder` (into `out`, default the folder itself), say
    where it is and what it left out; returns its path."""
    from trdsim.report import write_report

    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    r = write_report(folder, None if out is None else out / "report.html")
    print(f"Wrote the report {r.html} ({r.html.stat().st_size / 1e6:.1f} MB, self-contained)")
    print(f"  and its {len(r.exports)} table files in {r.exports[0].parent}/")
    for n in r.notices:
        _say(f"  note: {n}", indent="    ")
    return str(r.html)


def cmd_report(args) -> int:
    """The HTML report of a results folder."""
    from trdsim.errors import TrdsimError

    out = None
    if args.out is not None:
        if not args.out.strip():
            raise TrdsimError("--out '': give a folder (default: the results folder itself)")
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise TrdsimError(f"--out {out}: is a file; give a folder (the report and its "
                              "tables go into it)")  # fmt: skip
    from trdsim.runtime.locks import lock_folder

    # the folder the report goes into, locked (no run may write it meanwhile); the results
    # folder too, so that the report never reads one a run is replacing
    for folder in dict.fromkeys(p for p in (Path(args.results), out) if p is not None):
        if folder.is_dir():
            lock_folder(folder)
    _report(Path(args.results), out)
    return 0


# ---------------------------------------------------------------- params

# params' columns, in full with --wide (one line per parameter)
_PARAM_COLUMNS = ["key", "label", "value", "unit", "distribution", "verified", "source"]


def _print_table(table, wide: bool = False) -> None:
    """Columns padded to their widths, the last one (often long text) not padded; unless
    `wide`, long cells are cut with "…" so that a line fits WIDTH columns."""
    shown = table.astype(str)
    if not wide:
        shown = _shorten(shown)
    widths = [max(len(c), shown[c].str.len().max()) for c in shown.columns[:-1]]

    def line(cells) -> str:
        return "  ".join(
            [*(v.ljust(w) for v, w in zip(cells[:-1], widths, strict=True)), cells[-1]]
        ).rstrip()

    print(line(list(shown.columns)))
    for row in shown.itertuples(index=False):
        print(line(list(row)))


def _shorten(shown):
    """Cut the widest column's cells (with "…"), never the first column's (it names the
    row), until a row fits WIDTH columns."""

    def col(c: str) -> int:
        return max(len(c), shown[c].str.len().max())

    while (excess := sum(map(col, shown.columns)) + 2 * (shown.shape[1] - 1) - WIDTH) > 0:
        cuttable = [c for c in shown.columns[1:] if col(c) > max(len(c), 8)]
        if not cuttable:
            break  # nothing left to cut
        c = max(cuttable, key=col)
        keep = max(len(c), 8, col(c) - excess)
        shown[c] = [v if len(v) <= keep else v[: keep - 1] + "…" for v in shown[c]]
    return shown


def _cut(text: str, width: int = WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_params(table) -> None:
    """The parameter table in two lines per parameter: key, value, unit and label; then
    its distribution, certainty and source (each line cut to WIDTH with "…")."""
    keys = table.key.astype(str)
    w = keys.str.len().max()
    print(f"{'key':<{w}}  value, unit: label\n    distribution · certainty · source")
    for r in table.astype(str).itertuples(index=False):
        print(_cut(f"{r.key:<{w}}  {r.value} {r.unit}: {r.label}"))
        print(_cut(f"    {r.distribution} · {r.verified} · {r.source}"))


def cmd_params(args) -> int:
    """The parameter table with sources, and how each treatment's effect is stored."""
    from trdsim.currency import share
    from trdsim.evidence import UNVERIFIED, parameter_table
    from trdsim.inputs.effective import effective_table, effects_table

    scenario = _scenario(args)
    if args.effective:
        table = effective_table(scenario)
        if args.csv:
            table.to_csv(args.csv, index=False)
            print(f"Wrote {len(table)} steps to {args.csv}")
            return 0
        relapse = [c for c in table.columns if c.startswith("relapse_")]
        shown = table.assign(
            response=[share(x) for x in table.response],
            remission=[share(x) for x in table.remission],
            **{c: [share(x) for x in table[c]] for c in relapse},
        ).rename(columns={c: c.replace("relapse_", "relapse ").replace("_", " ") for c in relapse})
        _say(
            f"{scenario.name}: response and remission by the end of each step's course, for a "
            "patient who reaches it (the cohort's failed trials plus one for each earlier step "
            "that counts as a trial; cohort average, no dropout); relapse 6 and 12 months "
            "after the course of the step's responders (without remission) and remitters, "
            "with the pathway's maintenance and enduring effects"
        )
        print()
        # the relapse columns make it wide: blocks of columns below each other, or --wide
        print(shown.to_string(index=False) if args.wide else _table(shown))
        return 0
    table = parameter_table(scenario.params, scenario.currency, scenario.raw.get("resources"))
    if args.unverified:
        table = table[table.verified.isin(UNVERIFIED)]
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"Wrote {len(table)} parameters to {args.csv}")
        return 0
    if args.wide:
        _print_table(table[_PARAM_COLUMNS], wide=True)
    else:
        _print_params(table)
    print()
    _say(
        f"{len(table)} parameters; setting '{scenario.setting}' ({scenario.currency} "
        f"{scenario.price_year})."
        + ("" if args.wide else " Long cells are cut (…): --wide shows them in full, "
           "--csv FILE writes them.")
    )  # fmt: skip
    effects = effects_table(scenario)
    print()
    _say("How each treatment's effect is stored (relative effects apply to the modelled baseline):")
    _print_table(effects.assign(flag=effects.flag.map(lambda f: f"⚠ {f}" if f else "")), args.wide)
    single = int(effects.flag.str.contains("single-arm").sum())
    if single:
        print()
        _say(
            f"⚠ {single} treatment(s) use a single-arm response rate: the rate carries its "
            "trial's population, context and outcome definition (no comparative evidence used)."
        )
    weak = effects.treatment[effects.flag.str.contains("flagged|insufficient")].tolist()
    if weak:
        _say(
            f"⚠ {len(weak)} treatment(s) lack the evidence for default pathways and are there "
            f"for scenarios to explore (see each entry's evidence_verdict): {', '.join(weak)}."
        )
    return 0


# ---------------------------------------------------------------- PSA, analyse, EVSI


def _parse_groups(specs: list[str] | None, space_keys: list[str], resolve) -> dict:
    """--group NAME=key1,key2 ... into {name: [keys]} (keys checked)."""
    from trdsim.errors import TrdsimError

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
    from trdsim.errors import TrdsimError

    if args.population is None:
        return None
    if rate is None:
        raise TrdsimError("--population: give --discount too (no scenario to take it from)")
    p = Population(args.population, args.years, rate)
    p.factor  # noqa: B018 - validates the three numbers with a clear message
    return p


def _print_psa(result) -> None:
    import pandas as pd

    from trdsim.currency import money, number, plus_minus, share

    table = result.intervals
    info = result.info
    cur = info["currency"]
    rows = []
    for _, r in table.iterrows():
        is_money = r.quantity != "inc_qaly"

        def f(x, signed=True, money_=is_money):
            return money(x, cur, sign=signed) if money_ else number(x, 3, sign=signed)

        what = {"inc_cost": "Δcost", "inc_qaly": "ΔQALYs"}.get(r.quantity)
        row = {
            "comparison": f"{r.arm} vs {r.comparator}",
            "quantity": what or f"INMB @{money(r.threshold, cur)}",
            "mean": f"{f(r['mean'])} {plus_minus(r.mcse, cur if is_money else None, 3)}",
            "95% interval": f"{f(r.low_95)} to {f(r.high_95)}",
            "P(>0)": number(r.p_positive, 3),
        }
        if "noise_share" in table.columns and pd.notna(r.get("noise_share")):
            row["patient noise"] = share(r.noise_share)
        rows.append(row)
    print(_table(pd.DataFrame(rows)))
    _say("(± = Monte Carlo standard error of the mean)")
    for t, v in info["evpi_per_person"].items():
        line = f"  EVPI at {money(float(t), cur)}/QALY: {money(v, cur)} per person"
        if info.get("evpi_population"):
            line += f", {money(info['evpi_population'][t], cur)} for the population"
        _say(line + f" (optimal by expected NMB: {info['optimal_arm'][t]})", indent="    ")
    if info.get("evppi_method"):
        line = f"  EVPPI by {', '.join(info['evppi_method'])} regression"
        if info.get("evppi_clipped"):
            line += f"; {info['evppi_clipped']} value(s) above the EVPI were set to the EVPI"
        _say(line, indent="    ")
    for w in info["warnings"]:
        _say(f"WARNING: {w}", indent="  ")


def _psa_json(result, out: Path, **extra: Any) -> dict:
    info = result.info
    return {
        "out": str(out),
        "currency": info["currency"],
        "intervals": _records(result.intervals),
        "evpi_per_person": info["evpi_per_person"],
        "evpi_population": info.get("evpi_population"),
        "optimal_arm": info["optimal_arm"],
        "warnings": info["warnings"],
        **extra,
    }


class _LazyBar:
    """A progress bar opened at its first update (so it follows the one before it)."""

    def __init__(self, total: int, desc: str, unit: str):
        self.args = (total, desc, unit)
        self.bar: Any = None

    def update(self, n: int = 1) -> None:
        if self.bar is None:
            self.bar = tqdm_bar(*self.args)
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_psa(args) -> int:
    """Probabilistic sensitivity analysis: draws, CEAC, EVPI, EVPPI (resumable)."""
    import trdsim
    from trdsim.analysis.evppi import default_groups
    from trdsim.analysis.metamodel import choose_method
    from trdsim.analysis.sampling import ParameterSpace

    scenario = _scenario(args)
    run = _resumed(args, RUNS / scenario.name / "psa", "psa", scenario)
    if run:  # the interrupted run's own arguments
        args.draws, args.patients, args.seed = run["draws"], run["patients"], run["seed"]
    space = ParameterSpace(scenario)
    groups = _parse_groups(args.group, space.keys, space.resolve) or default_groups(space.keys)
    if not args.no_evppi:
        choose_method(args.evppi_method, args.draws)  # a bad name fails before the PSA
    population = _population(args, scenario.discount_costs)
    _size_check(args, args.patients, len(scenario.arms), scenario.horizon_weeks, args.draws)
    seed = scenario.seed if args.seed is None else args.seed
    key = {"scenario": scenario.name, "draws": args.draws, "patients": args.patients,
           "seed": seed, "hash": scenario.hash}  # fmt: skip
    out = _out_folder(args, RUNS / scenario.name / "psa", "psa", key, resumes=True)
    _compiled(scenario, "batch")
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
    print()
    _say(
        f"{scenario.name}: PSA of {args.draws:,} draws × {args.patients:,} patients × "
        f"{len(scenario.arms)} arms ({len(space.keys)} uncertain parameters), seed {seed}, "
        f"in {elapsed:.1f} s"
    )
    print()
    _print_psa(result)
    clipped = result.manifest["clipped_to_keep_order"]
    for rule, n in clipped.items():
        _say(f"  kept in order by clipping in {n:,} of {args.draws:,} draws: {rule}", "    ")
    print(f"\nWrote {len(written)} files to {out}/")
    report = _report(out) if args.report else None
    _summary(args, **_psa_json(result, out), scenario=scenario.name, draws=args.draws,
             patients=args.patients, seed=seed, seconds=round(elapsed, 2), report=report)  # fmt: skip
    return 0


def _read_table(path: Path):
    import pandas as pd

    from trdsim.errors import TrdsimError

    if not path.is_file():
        raise TrdsimError(f"{path}: no such file")
    columns = _table_columns(path)
    if columns > MAX_TABLE_COLUMNS:
        raise TrdsimError(
            f"{path}: {columns:,} columns; a PSA table (draw, arm, cost, qaly and one column "
            f"per parameter) has at most {MAX_TABLE_COLUMNS:,} columns"
        )
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix == ".csv":
            return pd.read_csv(path)
    except Exception as e:  # noqa: BLE001 - any reader failure is bad input here
        raise TrdsimError(f"{path}: cannot read ({e})") from None
    raise TrdsimError(f"{path}: must be a .parquet or .csv file")


def _table_columns(path: Path) -> int:
    """Columns of a .parquet (from its footer) or .csv (from its header line) table, read
    without loading the table; 0 if the file is neither (the reader then says why)."""
    import csv

    from trdsim.errors import TrdsimError

    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.read_metadata(path).num_columns)
        except Exception as e:  # noqa: BLE001 - any reader failure is bad input here
            raise TrdsimError(f"{path}: cannot read ({e})") from None
    if path.suffix != ".csv":
        return 0
    with path.open("rb") as f:
        head = f.readline(MAX_HEADER_BYTES + 1)
    if len(head) > MAX_HEADER_BYTES:
        raise TrdsimError(
            f"{path}: a header line of over {MAX_HEADER_BYTES // 2**20} MB; a PSA table has "
            f"at most {MAX_TABLE_COLUMNS:,} columns"
        )
    text = head.decode("utf-8", errors="replace")
    return len(next(csv.reader([text]), []))


def _thresholds(args, meta: dict, meta_path: Path, table_path: Path) -> list[float]:
    """--threshold (comma-separated) or the manifest's thresholds."""
    from trdsim.analysis.decision import check_thresholds
    from trdsim.errors import TrdsimError

    if args.threshold:
        return check_thresholds(args.threshold.split(","), "--threshold")
    if "thresholds" in meta:
        return check_thresholds(meta["thresholds"], str(meta_path))
    raise TrdsimError(f"{table_path}: give --threshold (no manifest.json beside the table)")


def cmd_analyse(args) -> int:
    """CEAC, EVPI and EVPPI of any (draw, arm, cost, qaly) table."""
    import pandas as pd

    from trdsim.analysis.decision import REQUIRED, check_table
    from trdsim.analysis.evppi import default_groups
    from trdsim.analysis.metamodel import choose_method
    from trdsim.analysis.psa import STAT_COLUMNS
    from trdsim.analysis.results import analyse
    from trdsim.errors import TrdsimError

    path = Path(args.table)
    draws = check_table(_read_table(path), str(path))
    meta_path = path.parent / "manifest.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    thresholds = _thresholds(args, meta, meta_path, path)
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
    # the table's own folder by default: the analysis sits beside the draws it reads
    out = _out_folder(args, path.parent, "psa", keep=(path, meta_path))
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
    _summary(args, **_psa_json(result, out), table=str(path), thresholds=thresholds)
    return 0


def cmd_evsi(args) -> int:
    """EVSI and ENBS of a proposed study of one parameter."""
    from trdsim.analysis.decision import check_table
    from trdsim.analysis.evsi import Study, check_sizes
    from trdsim.analysis.results import write_evsi
    from trdsim.errors import TrdsimError

    path = Path(args.source)
    table_path = path / "draws.parquet" if path.is_dir() else path
    draws = check_table(_read_table(table_path), str(table_path))
    meta_path = table_path.parent / "manifest.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    try:
        sizes = check_sizes([int(x) for x in args.n.split(",") if x.strip()])
    except ValueError:
        raise TrdsimError(f"--n {args.n!r}: give whole numbers per arm, e.g. 25,50,100") from None
    thresholds = _thresholds(args, meta, meta_path, table_path)
    rate = args.discount if args.discount is not None else meta.get("discount_costs")
    population = _population(args, rate)
    if population is None and (args.fixed_cost or args.per_patient_cost):
        raise TrdsimError("--fixed-cost/--per-patient-cost: ENBS needs --population too")
    study = Study(args.param, args.study, args.control_rate, args.sd)
    out = _out_folder(args, table_path.parent / "evsi", "evsi")
    currency = args.currency or meta.get("currency", "")
    written, table = write_evsi(
        draws, out, study, sizes, thresholds, currency, population=population,
        fixed_cost=args.fixed_cost, cost_per_patient=args.per_patient_cost,
        method=args.evppi_method, seed=args.seed, figures=not args.no_figures,
        scenario=meta.get("scenario"), price_year=meta.get("price_year"),
    )  # fmt: skip
    _print_evsi(table, currency)
    print(f"\nWrote {len(written)} files to {out}/")
    _summary(args, out=str(out), currency=currency, param=args.param, evsi=_records(table))
    return 0


def _print_evsi(table, cur: str) -> None:
    from trdsim.currency import money

    cols = {"n": "n per arm", "threshold": "threshold", "evsi": "EVSI", "se": "± SE",
            "evppi": "EVPPI"}  # fmt: skip
    if "enbs" in table.columns:
        cols |= {"population_evsi": "population EVSI", "study_cost": "study cost",
                 "enbs": "ENBS"}  # fmt: skip
    shown = table[list(cols)].rename(columns=cols)
    shown["n per arm"] = [f"{int(v):,}" for v in shown["n per arm"]]
    for c in shown.columns[1:]:
        shown[c] = [money(v, cur) for v in shown[c]]
    print(_table(shown))
    if "enbs" in table.columns:
        for lam, rows in table.groupby("threshold"):
            best = rows[rows.optimal]
            what = (
                f"n = {best.n.iloc[0]:,} per arm (ENBS {money(best.enbs.iloc[0], cur)})"
                if len(best) and best.n.iloc[0] > 0
                else "no study (no size has a positive ENBS)"
            )
            _say(f"  optimum at {money(lam, cur)}/QALY: {what}", "    ")
    if table.clipped.any():
        _say(f"  {int(table.clipped.sum())} EVSI value(s) above the EVPPI were set to the EVPPI")


# ---------------------------------------------------------------- DSA and threshold


def cmd_dsa(args) -> int:
    """One-way (tornado) or two-way deterministic sensitivity analysis."""
    import pandas as pd

    import trdsim
    from trdsim.analysis.dsa import Contrast
    from trdsim.analysis.sampling import ParameterSpace
    from trdsim.currency import money, number, plus_minus

    scenario = _scenario(args)
    Contrast.of(scenario, args.arm, args.versus, args.threshold)  # bad arms stop here
    space = ParameterSpace(scenario)
    for k in args.pair or []:
        space.interval(k)  # unknown or fixed parameters stop here, before any run
    keys = [space.resolve(k) for k in args.param] if args.param and not args.pair else None
    _once("--param", keys or [], args.param or [])
    for k in keys or []:
        space.interval(k)
    n = args.patients or scenario.patients
    # a base run, then each parameter at both ends, or the steps x steps of a two-way map
    runs = args.steps**2 + 1 if args.pair else 1 + 2 * len(keys or space.drivers())
    size = _size_check(args, n, len(scenario.arms), scenario.horizon_weeks, runs, announce=False)
    seed = scenario.seed if args.seed is None else args.seed
    key = {"scenario": scenario.name, "patients": n, "seed": seed}
    out = _out_folder(args, RUNS / scenario.name / "dsa", "dsa", None if args.pair else key)
    _announce(size)
    cur = scenario.currency
    _compiled(scenario, "simulate")
    if args.pair:
        with tqdm_bar(args.steps**2, "two-way", " runs") as bar:
            r = trdsim.two_way(
                scenario, args.pair[0], args.pair[1], args.arm, args.versus, args.threshold,
                steps=args.steps, patients=args.patients, seed=args.seed, progress=bar.update,
            )  # fmt: skip
        # its own folder beside the tornado, named by the keys as trdsim spells them
        # (unit_costs.SETTING.NAME), whichever alias was given
        written = r.write(out / r.name, figures=not args.no_figures)
        grid = r.grid.pivot(index="y", columns="x", values="inmb")
        grid.index = [number(float(v), 4 if abs(float(v)) < 10 else 0) for v in grid.index]
        grid.columns = [number(float(v), 4 if abs(float(v)) < 10 else 0) for v in grid.columns]
        print(f"Incremental NMB of {r.info['arm']} vs {r.info['versus']} ({cur}):")
        print(f"rows: {r.info['y_parameter']}; columns: {r.info['x_parameter']}\n")
        print(_table(grid.map(lambda x: money(x, cur, sign=True)).reset_index(names="")))
        print(f"\nWrote {len(written)} files to {out / r.name}/")
        _summary(args, out=str(out / r.name), currency=cur, info=r.info, grid=_records(r.grid))
        return 0
    total = len(keys or space.drivers())
    with tqdm_bar(total, "one-way", " parameters") as bar:
        r = trdsim.dsa(scenario, args.arm, args.versus, args.threshold, keys=keys,
                       patients=args.patients, seed=args.seed, progress=bar.update)  # fmt: skip
    written = r.write(out, figures=not args.no_figures)
    info, table = r.info, r.tornado
    print()
    _say(
        f"Incremental NMB of {info['arm']} vs {info['versus']} at "
        f"{money(info['threshold'], cur)}/QALY: base {money(info['base_inmb'], cur, sign=True)} "
        f"{plus_minus(info['base_inmb_se'], cur)} (Monte Carlo SE; {info['patients']:,} patients, "
        "common random numbers)"
    )
    print()
    shown = table.head(15)

    def value(x: float) -> str:
        return number(x, 0) if abs(x) >= 100 else f"{x:.4g}".replace("-", "−")

    print(
        _table(
            pd.DataFrame(
                {
                    "parameter": shown.key,
                    "range": [
                        f"{value(a)} to {value(b)}"
                        for a, b in zip(shown.low_value, shown.high_value, strict=True)
                    ],
                    "INMB low": [money(x, cur, sign=True) for x in shown.inmb_low],
                    "INMB high": [money(x, cur, sign=True) for x in shown.inmb_high],
                    "optimal low/high": shown.optimal_low + " / " + shown.optimal_high,
                }
            )  # fmt: skip
        )
    )
    print(f"\nWrote {len(written)} files to {out}/")
    _summary(args, out=str(out), currency=cur, info=info, tornado=_records(table))
    return 0


def cmd_structural(args) -> int:
    """Structural uncertainty: the scenario under its declared structural alternatives."""
    import math

    import pandas as pd

    import trdsim
    from trdsim.analysis.structural import check_weights, load_variants, variant_scenarios
    from trdsim.currency import money
    from trdsim.errors import TrdsimError
    from trdsim.pathways import arm_labels

    scenario = _scenario(args)
    names = [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants else None
    weights = None
    if args.weight:
        weights = {}
        for w in args.weight:
            name, _, value = w.partition("=")
            try:
                weights[name.strip()] = float(value)
            except ValueError:
                raise TrdsimError(f"--weight {w}: give NAME=WEIGHT, e.g. base=0.5") from None
    # the whole file is checked (every variant built) before anything runs or is written
    pairs = variant_scenarios(scenario, load_variants(args.file), names)
    check_weights([v for v, _ in pairs], weights)
    n = args.patients or STRUCTURAL_PATIENTS
    seed = scenario.seed if args.seed is None else args.seed
    runs = sum(len(sc.arms) for _, sc in pairs)
    arm_weeks = sum(len(sc.arms) * sc.horizon_weeks for _, sc in pairs)
    _size_check(args, n, math.ceil(arm_weeks / scenario.horizon_weeks), scenario.horizon_weeks,
                table=True)  # fmt: skip
    key = {"scenario": scenario.name, "patients": n, "seed": seed}
    out = _out_folder(args, RUNS / scenario.name / "structural", "structural", key)
    _compiled(scenario, "simulate")
    print(f"{len(pairs)} structural variants x their arms: {runs} runs of {n:,} patients",
          file=sys.stderr)  # fmt: skip
    with tqdm_bar(runs * n, "structural", " patients") as bar:
        r = trdsim.structural(scenario, names, args.file, n, seed, weights, progress=bar.update)
    written = r.write(out, figures=not args.no_figures)
    cur = scenario.currency
    labels = arm_labels(r.manifest["pathways"], list(r.arms or []))
    opt = r.optimal()
    rows = []
    for v in r.variants:
        row = {"variant": _short(r.label(v), 38)}
        for lam in r.info["thresholds"]:
            o = opt[(opt.variant == v) & (opt.threshold == lam)].iloc[0]
            row[f"optimal at {money(lam, cur)}"] = _short(
                labels.get(o.optimal_arm, o.optimal_arm), 24
            )
        rows.append(row)
    print()
    print(_table(pd.DataFrame(rows)))
    print()
    for line in r.summary().splitlines():
        _say(line, indent="      ")
    print(f"\nWrote {len(written)} files to {out}/")
    report = None
    if args.report:
        parent = out.parent
        if (parent / "summary.csv").is_file():
            report = _report(parent)
        else:
            _say(f"no report: {parent} holds no `trdsim compare` results to show it beside "
                 f"(run `trdsim compare {scenario.name} --out {parent}` first)")  # fmt: skip
    _summary(args, out=str(out), scenario=scenario.name, patients=n, seed=seed, currency=cur,
             variants=r.info["variants"], optimal=_records(r.optimal()),
             table=_records(r.arms_table), decisions=_records(r.decisions),
             averaged=None if r.averaged is None else _records(r.averaged),
             summary=r.summary(), report=report)  # fmt: skip
    return 0


def _short(text: str, width: int) -> str:
    """`text` cut to `width` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def cmd_threshold(args) -> int:
    """The value of a parameter at which an ICER equals a threshold."""
    import trdsim

    scenario = _scenario(args)
    name = args.param.rsplit(".", 1)[-1]  # unit_costs.uk.cbt_session -> threshold/cbt_session
    n = args.patients or scenario.patients
    size = _size_check(
        args, n, len(scenario.arms), scenario.horizon_weeks, THRESHOLD_RUNS, announce=False
    )
    seed = scenario.seed if args.seed is None else args.seed
    key = {"scenario": scenario.name, "patients": n, "seed": seed}
    out = _out_folder(args, RUNS / scenario.name / "threshold" / name, "threshold", key)
    _announce(size)
    _compiled(scenario, "simulate")
    r = trdsim.threshold(
        scenario, args.param, args.threshold, arm=args.arm, versus=args.versus, low=args.low,
        high=args.high, patients=args.patients, seed=args.seed,
    )  # fmt: skip
    print(_fit(r.summary(), indent="  "))
    written = r.write(out)
    print(f"Wrote {len(written)} files to {out}/")
    _summary(args, out=str(out), currency=scenario.currency, result=r.info)
    return 0


# ---------------------------------------------------------------- validation, calibration


def cmd_validate(args) -> int:
    """Simulate each published target in its own setting."""
    import numpy as np
    import pandas as pd

    import trdsim
    from trdsim.currency import number
    from trdsim.validation.targets import load_targets

    scenario = _scenario(args)
    # a bad targets file stops here; then one run per target
    n_targets = len(load_targets(args.targets, scenario))
    size = _size_check(
        args, args.patients, TARGET_ARMS, scenario.horizon_weeks, n_targets, announce=False
    )
    seed = scenario.seed if args.seed is None else args.seed
    key = {"scenario": scenario.name, "patients": args.patients, "seed": seed}
    out = _out_folder(args, RUNS / scenario.name / "validation", "validation", key)
    _announce(size)
    _compiled(scenario, "simulate", "batch")
    targets = load_targets(args.targets, scenario)
    with tqdm_bar(len(targets), "validating", " targets") as bar:
        r = trdsim.validate(scenario, args.targets, args.patients, args.seed,
                            progress=bar.update)  # fmt: skip
    written = r.write(out, figures=not args.no_figures)
    t = r.targets
    shown = pd.DataFrame(
        {
            "target": t.id,
            "model": [number(x, 3) for x in t.model],
            "published": [number(x, 3) for x in t.target],
            "agreement": [f"{number(a, 3)} to {number(b, 3)}"
                          for a, b in zip(t.low, t.high, strict=True)],
            "": np.where(t.agrees, "agrees", "DISAGREES"),
        }
    )  # fmt: skip
    print(f"\n{scenario.name}: {int(t.agrees.sum())} of {len(t)} targets agree\n")
    print(_table(shown))
    print(f"\nWrote {len(written)} files to {out}/")
    _summary(args, out=str(out), scenario=scenario.name, agree=int(t.agrees.sum()),
             targets=_records(t))  # fmt: skip
    return 1 if args.strict and not r.agrees else 0


def cmd_calibrate(args) -> int:
    """Fit parameters to targets; write the calibrated scenario and its fit."""
    from trdsim.currency import number
    from trdsim.errors import TrdsimError
    from trdsim.validation.calibrate import MAX_EVALUATIONS, calibrate
    from trdsim.validation.targets import load_targets

    scenario = _scenario(args)
    targets = load_targets(args.targets, scenario)
    _once("--param", args.param, args.param)
    _once("--target", args.target or [], args.target or [])
    if args.target:
        known = {t.id for t in targets}
        unknown = [i for i in args.target if i not in known]
        if unknown:
            raise TrdsimError(
                f"--target {', '.join(unknown)}: not in {args.targets or 'the library targets'}; "
                f"ids: {', '.join(sorted(known))}"
            )
        targets = [t for t in targets if t.id in args.target]
    # every evaluation the optimiser may make runs each target under each seed
    runs = MAX_EVALUATIONS * args.seeds * len(targets)
    size = _size_check(
        args, args.patients, TARGET_ARMS, scenario.horizon_weeks, runs, announce=False
    )
    out = _out_folder(args, RUNS / "calibration", "calibration")
    _announce(size)
    path = out / f"{scenario.name}_calibrated.toml"
    seeds = [scenario.seed + i for i in range(args.seeds)]
    _compiled(scenario, "simulate", "batch")
    with tqdm_bar(None, "calibrating", " evaluations") as bar:
        r = calibrate(scenario, targets, args.param, patients=args.patients, seeds=seeds,
                      method=args.method, progress=bar.update)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    from trdsim.runtime.distributed import write_text_atomic

    # each file whole or not at all (a stopped run leaves the previous calibration's)
    write_text_atomic(path.with_suffix(".parameters.csv"), r.parameters.to_csv(index=False))
    write_text_atomic(path.with_suffix(".fit.csv"), r.fit.to_csv(index=False))
    write_text_atomic(path, r.fragment(path))
    print()
    _say(
        f"Objective ({r.method}) {number(r.objective_start, 4)} → {number(r.objective, 4)} in "
        f"{r.evaluations} evaluations ({'converged' if r.converged else 'NOT converged'}); "
        f"{r.patients:,} patients × {len(r.seeds)} seed(s) per target"
    )
    print()
    cols = ["key", "start", "fitted", "se", "low_95", "high_95"]
    print(_table(r.parameters[cols].map(lambda x: number(x, 4) if isinstance(x, float) else x)))
    print()
    cols = ["id", "target", "low", "high", "before", "after", "agrees_after"]
    print(_table(r.fit[cols].map(lambda x: number(x, 3) if isinstance(x, float) else x)))
    print()
    _say(f"Wrote {path} (a scenario: trdsim compare {path}), and its .parameters.csv, .fit.csv")
    _summary(args, out=str(out), scenario_file=str(path), objective=r.objective,
             converged=r.converged, evaluations=r.evaluations,
             parameters=_records(r.parameters), fit=_records(r.fit))  # fmt: skip
    return 0


# ---------------------------------------------------------------- the care system


def _settings(specs: list[str] | None) -> dict:
    from trdsim.errors import TrdsimError
    from trdsim.sweep import _value

    out: dict[str, object] = {}
    for spec in specs or []:
        key, sep, value = spec.partition("=")
        if not sep or not key.strip():
            raise TrdsimError(f"--set {spec!r}: write KEY=VALUE")
        if key.strip() in out:  # the second would silently replace the first
            raise TrdsimError(
                f"--set {spec!r}: {key.strip()} is already set ({key.strip()}="
                f"{out[key.strip()]}); set each key once"
            )
        out[key.strip()] = _value(value)
    return out


def _print_care(summary: dict, yearly, steady: dict, cs: dict) -> None:
    """The per-year table of each service and the steady-state verdict."""
    from trdsim.care_result import WITHIN_TARGET_DEFINITION, within_target_label
    from trdsim.currency import number, share

    def opt(x, f):
        return "n/a" if math.isnan(x) else f(x)  # NaN: no starts that year

    target = cs["wait_target_weeks"]
    within = within_target_label(target)
    shown = yearly.assign(
        within=[opt(x, share) for x in yearly.within_target],
        utilisation=[opt(x, share) for x in yearly.utilisation],
        mean_wait=[opt(x, lambda v: number(v, 1)) for x in yearly.mean_wait],
        p90_wait=[opt(x, number) for x in yearly.p90_wait],
        queue_mean=[number(x) for x in yearly.queue_mean],
        starts=[number(x) for x in yearly.starts],
        queue_end=[number(x) for x in yearly.queue_end],
        over_target_end=[number(x) for x in yearly.over_target_end],
    )[["service", "year", "starts", "mean_wait", "p90_wait", "within", "queue_end",
       "queue_mean", "over_target_end", "utilisation"]].rename(
        columns={"mean_wait": "mean wait", "p90_wait": "p90 wait", "within": within,
                 "queue_end": "queue at end", "queue_mean": "mean queue",
                 "over_target_end": f"> {target} w at end"}
    )  # fmt: skip
    print("By year (waits in weeks, of that year's starts):\n")
    print(_table(shown))
    _say(f"({within}: {WITHIN_TARGET_DEFINITION}; by year, those still waiting at its end)")
    print()
    _say(f"Steady state ({steady['test']}):")
    for name, t in steady["services"].items():
        if t["verdict"] == "too short to tell":
            print(f"  {name}: too short to tell (needs 2 years or more)")
            continue
        trend = t["wait_trend_per_year"]
        last = t["last_year_within_target"]
        _say(
            f"  {name}: {t['verdict']}: queue {number(t['queue_growth_per_year'], sign=True)} a "
            f"year ({share(t['growth_share_of_starts'], sign=True)} of the year's starts), waits "
            f"of starts {'n/a' if math.isnan(trend) else number(trend, 1, sign=True)} weeks a year; "
            f"utilisation {opt(t['utilisation'], share)}; last year "
            f"{'n/a' if math.isnan(last) else share(last)} {within}",
            indent="    ",
        )
    answer = "meets" if steady["meets_standard"] else "does not meet"
    _say(f"  => the system is {steady['verdict']} and {answer} the standard "
         f"({steady['wait_standard']}) in steady state; {steady['bottleneck']}",
         indent="    ")  # fmt: skip


def cmd_care(args) -> int:
    """The care system under capacity: queues, waits, utilisation and costs."""
    from trdsim.care_result import care
    from trdsim.currency import money, number, share

    base = _scenario(args, CARE_SCENARIO)
    settings = _settings(args.set)
    sc = base.with_values(settings)
    seed = sc.seed if args.seed is None else args.seed
    key = {"scenario": sc.name, "seed": seed, "settings": settings or None}
    size = None
    if sc.care_system:  # (without one, care() says so)
        patients, weeks = _care_size(sc)
        size = _size_check(args, patients, 1, weeks, announce=False)
    out = _out_folder(args, RUNS / sc.name / "care_system", "care",
                      {k: v for k, v in key.items() if v is not None})  # fmt: skip
    _announce(size)
    weeks = int(sc.care_system["years"]) * 52 if sc.care_system else 0
    _compiled(sc, "care")
    t0 = time.perf_counter()
    with tqdm_bar(weeks, "care system", " weeks") as bar:
        r = care(base, args.seed, settings, progress=bar.update)
    elapsed = time.perf_counter() - t0
    written = r.write(out, figures=not args.no_figures)
    summary, cs, cur = r.info, r.manifest["care_system"], sc.currency
    print()
    _say(
        f"{sc.name}: {summary['referrals']:,} referrals over {cs['years']} years to "
        f"'{cs['arm']}', {cs['queue']} queues, seed {r.manifest['seed']}; simulated in "
        f"{elapsed:.1f} s"
    )
    print()
    ends = r.services.groupby("service", sort=False).tail(1).set_index("service")
    from trdsim.care_result import within_target_label

    for name, spec in cs["services"].items():
        _say(
            f"  {spec.get('label', name)} ({name}): capacity {summary[f'{name}_capacity']} "
            f"patients, {summary[f'{name}_starts']:,} starts, "
            f"{share(summary[f'{name}_within_target'])} "
            f"{within_target_label(cs['wait_target_weeks'])} over the whole run, "
            f"{int(ends.loc[name, 'queue']):,} waiting at the end "
            f"({summary[f'{name}_over_target_at_end']:,} past the target)",
            indent="    ",
        )
    print(
        f"  All services: {share(summary['share_started_within_target'])} "
        f"{within_target_label(cs['wait_target_weeks'])} over the whole run"
    )
    print()
    _print_care(summary, r.yearly, r.steady, cs)
    print()
    _say(
        f"Costs over {cs['years']} years (discounted, {cur}): care "
        f"{money(summary['cost_care'], cur)}, waiting {money(summary['cost_waiting'], cur)} "
        f"({summary['waiting_weeks']:,} patient-weeks), capacity "
        f"{money(summary['cost_capacity'], cur)} (staff and equipment, used or idle); total "
        f"{money(summary['cost_total'], cur)}",
        indent="  ",
    )
    _say(
        f"  {summary['treated']:,} of {summary['referrals']:,} referrals treated: "
        f"{money(summary['cost_per_patient_treated'], cur)} per patient treated, "
        f"{money(summary['cost_per_qaly'], cur)} per QALY (average, not incremental); "
        f"QALYs per referral {number(summary['qaly_per_referral'], 3)}",
        indent="    ",
    )
    print(f"\nWrote {len(written)} files to {out}/")
    report = _report(out) if args.report else None
    _summary(args, out=str(out), scenario=sc.name, seed=seed, currency=cur, summary=summary,
             steady_state=r.steady, yearly=_records(r.yearly), seconds=round(elapsed, 2),
             report=report)  # fmt: skip
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
    """A browser page comparing two capacity plans as they run."""
    from trdsim.errors import TrdsimError

    try:
        import solara  # noqa: F401
    except ImportError:
        raise TrdsimError(
            "the dashboard needs solara: pip install 'trdsim[dashboard]' (or 'mesa[viz]')"
        ) from None
    from trdsim.dashboard import PlanComparison

    scenario = args.scenario or CARE_SCENARIO
    settings = _settings(args.set)
    # every input checked here, where a mistake is one line and exit 2
    model = PlanComparison(scenario, settings)
    problem = _port_problem(args.host, args.port)
    if problem:
        raise TrdsimError(f"port {args.port} on {args.host} {problem}: choose another with --port")
    # the page's server process loads the kernel from numba's cache: compile it here, with
    # the notice, rather than leave the first page load silent for a minute
    from trdsim.scenario import load_scenario

    _compiled(load_scenario(scenario).with_values(settings), "care")
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
    """Care-system runs over a grid of scenario values (resumable)."""
    import numpy as np

    from trdsim.sweep import parse_grid, sweep

    scenario = _scenario(args, CARE_SCENARIO)
    run = _resumed(args, RUNS / scenario.name / "sweep", "sweep", scenario)
    if run:  # the interrupted run's own arguments
        args.grid = [f"{k}={','.join(vs)}" for k, vs in run["grid"].items()]
        args.reps = run["reps"]
    grid = parse_grid(args.grid, scenario)
    key = {
        "scenario": scenario.name,
        "reps": args.reps,
        "grid": {k: [str(v) for v in vs] for k, vs in grid.items()},
        "hash": scenario.hash,
    }
    total = args.reps * int(np.prod([len(v) for v in grid.values()]))
    # each run sized as the largest the grid asks for: its most referrals and years
    biggest = {
        k: max(vs)
        for k, vs in grid.items()
        if k in ("care_system.referrals_per_year", "care_system.years")
    }
    patients, weeks = _care_size(scenario.with_values(biggest) if biggest else scenario)
    size = _size_check(args, patients, 1, weeks, total, announce=False)
    out = _out_folder(args, RUNS / scenario.name / "sweep", "sweep", key, resumes=True)
    _announce(size)
    _compiled(scenario, "care")
    with tqdm_bar(total, "sweep", " runs") as bar:
        try:
            r = sweep(scenario, grid, args.reps, out, workers=args.workers,
                      scheduler=args.scheduler, progress=bar.update)  # fmt: skip
        except KeyboardInterrupt:
            print(f"\ninterrupted: finished runs are kept in {out}/runs; rerun the same command "
                  "to resume", file=sys.stderr)  # fmt: skip
            return 130
    written = r.write(out, figures=not args.no_figures)
    print(_table(r.means().reset_index().map(_figure)))
    if "steady_state" in r.runs:
        growing = int((r.runs.steady_state == "growing").sum())
        print(f"{growing} of {len(r.runs)} runs have a growing queue in their last year")
    print(f"\nWrote {len(written)} files (and sweep.parquet) to {out}/")
    _summary(args, out=str(out), scenario=scenario.name, means=_records(r.means().reset_index()),
             runs=len(r.runs))  # fmt: skip
    return 0


# ---------------------------------------------------------------- the parser

_SCENARIO_HELP = f"scenario file or bundled name (default {DEFAULT_SCENARIO})"
_CARE_HELP = f"scenario with a [care_system] section (default {CARE_SCENARIO})"


def _out_option(p: argparse.ArgumentParser, default: str, resumes: bool = False) -> None:
    """--out FOLDER and --overwrite (and --resume), the same on every command that writes
    a folder."""
    p.add_argument("--out", metavar="FOLDER", help=f"output folder (default {default})")
    how = p.add_mutually_exclusive_group()
    how.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the result of another kind or of other arguments in --out"
        + (" (a run with the same arguments resumes)" if resumes else ""),
    )
    if resumes:
        how.add_argument(
            "--resume",
            action="store_true",
            help="resume the run in --out with its own arguments (draws, patients, seed or "
            "grid and replications), whatever this command line gives",
        )


def _quiet_options(p: argparse.ArgumentParser) -> None:
    """--quiet and --json: the same on every analysis command."""
    p.add_argument(
        "--quiet", action="store_true", help="print nothing but errors (no progress bars)"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print a machine-readable summary (JSON) on stdout and nothing else",
    )


def _force_option(p: argparse.ArgumentParser, extra: str = "") -> None:
    p.add_argument(
        "--force",
        action="store_true",
        help=f"run even if the size estimate says it takes over an hour{extra}",
    )


def _patients_option(p: argparse.ArgumentParser, what: str = "patients per arm") -> None:
    p.add_argument("--patients", type=_positive_int, help=f"{what} (default: the scenario's)")


def _seed_option(p: argparse.ArgumentParser, default: str = "the scenario's") -> None:
    p.add_argument("--seed", type=_seed, help=f"random seed (default: {default})")


def _report_option(p: argparse.ArgumentParser, extra: str = "") -> None:
    p.add_argument("--report", action="store_true", help=f"also write OUT/report.html{extra}")


def _no_figures(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")


def build_parser() -> argparse.ArgumentParser:
    """The `trdsim` argument parser: one subcommand per analysis, and --version."""
    from trdsim._version import __version__

    p = _Parser(
        prog="trdsim",
        description="Simulate sequential vs integrated care for TRD. Every command writes "
        f"under {RUNS}/ unless --out names another folder.",
    )
    p.add_argument("--version", action="version", version=f"trdsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("compare", help="compare the scenario's pathways and write results")
    c.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    _patients_option(c, f"patients per arm, at least {MIN_DECISION_PATIENTS:,} unless --force")
    _seed_option(c)
    _out_option(c, f"{RUNS}/<scenario>/")
    c.add_argument(
        "--threads", type=_positive_int, help="numba threads (results do not depend on it)"
    )
    _no_figures(c)
    _report_option(c)
    _force_option(c, f", or with fewer than {MIN_DECISION_PATIENTS:,} patients per arm")
    c.add_argument(
        "--by",
        action="append",
        metavar="ATTRIBUTE",
        help="also write subgroups.csv: results per subgroup of ATTRIBUTE (age, sex, severity, "
        "failed_trials, maltreatment, inflammation, flexibility, chronic; continuous ones in "
        "thirds, or with cut-offs as severity:17,24); repeatable",
    )
    _quiet_options(c)
    c.set_defaults(func=cmd_compare)

    tr = sub.add_parser(
        "trial", help="run a randomised trial's design (a scenario with a [trial] section)"
    )
    tr.add_argument(
        "scenario",
        help="scenario file with a [trial] section (no bundled scenario has one; e.g. "
        "experiments/replications/cobalt.toml)",
    )
    _patients_option(tr, "randomised per arm")
    _seed_option(tr)
    _out_option(tr, f"{RUNS}/<scenario>/trial/")
    _force_option(tr)
    _quiet_options(tr)
    tr.set_defaults(func=cmd_trial)

    q = sub.add_parser("params", help="print every parameter with its source")
    q.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    q.add_argument(
        "--unverified", action="store_true", help="only inputs from memory or assumptions"
    )
    q.add_argument("--csv", metavar="FILE", help="write the table to this CSV file instead")
    q.add_argument(
        "--effective",
        action="store_true",
        help="each arm's effective response and remission by step, in the scenario's cohort",
    )
    q.add_argument(
        "--wide", action="store_true", help=f"print long cells in full (lines over {WIDTH})"
    )
    q.set_defaults(func=cmd_params)

    ps = sub.add_parser("psa", help="probabilistic sensitivity analysis (resumable; dask)")
    ps.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    ps.add_argument("--draws", type=_positive_int, default=1000, help="parameter draws K (1000)")
    _force_option(ps)
    ps.add_argument(
        "--patients", type=_positive_int, default=1000, help="patients per draw N (1000)"
    )
    _dask_options(ps)
    _seed_option(ps)
    _out_option(ps, f"{RUNS}/<scenario>/psa/", resumes=True)
    _analysis_options(ps)
    _report_option(ps, " (with the compare results above OUT, if they match)")
    _quiet_options(ps)
    ps.set_defaults(func=cmd_psa)

    rp = sub.add_parser(
        "report", help="self-contained HTML report of a results folder, with CHEERS 2022 map"
    )
    rp.add_argument(
        "results",
        help="folder written by `trdsim compare`, `psa` or `care`, e.g. runs/uk_nhs",
    )
    rp.add_argument(
        "--out",
        metavar="FOLDER",
        help="folder for report.html and report_tables/ (default: the results folder)",
    )
    rp.set_defaults(func=cmd_report)

    an = sub.add_parser("analyse", help="CEAC, EVPI, EVPPI on any (draw, arm, cost, qaly) table")
    an.add_argument(
        "table", help=".parquet or .csv with columns draw, arm, cost, qaly [, parameters]"
    )
    an.add_argument(
        "--threshold",
        metavar="LIST",
        help="per QALY, comma-separated, increasing (default: the run's manifest)",
    )
    an.add_argument("--currency", help="currency label for the axes (default: the manifest's)")
    an.add_argument("--discount", type=float, help="annual rate for population EVPI")
    _out_option(an, "the table's folder")
    _analysis_options(an)
    _quiet_options(an)
    an.set_defaults(func=cmd_analyse)

    ev = sub.add_parser("evsi", help="EVSI and ENBS of a proposed study of one parameter")
    ev.add_argument("source", help="a PSA folder (with draws.parquet) or a .parquet/.csv table")
    ev.add_argument(
        "--param", required=True, metavar="KEY", help="the parameter the study informs (column)"
    )
    ev.add_argument(
        "--study", required=True, metavar="KIND",
        help="proportion (one arm, binomial), odds-ratio (two arms vs a control rate), "
             "normal or log-normal (one arm, --sd per observation)",
    )  # fmt: skip
    ev.add_argument("--n", required=True, help="sizes per arm, comma-separated, e.g. 25,50,100")
    ev.add_argument("--control-rate", type=float, help="odds-ratio: control arm's event rate")
    ev.add_argument("--sd", type=float, help="normal / log-normal: SD of one observation")
    ev.add_argument(
        "--threshold", metavar="LIST", help="per QALY, comma-separated (default: the manifest's)"
    )
    ev.add_argument("--per-patient-cost", type=float, default=0.0, help="study cost per patient")
    ev.add_argument("--fixed-cost", type=float, default=0.0, help="study set-up cost")
    ev.add_argument("--population", type=float, help="people affected per year (for ENBS)")
    ev.add_argument("--years", type=_positive_int, default=10, help="years the decision holds (10)")
    ev.add_argument("--discount", type=float, help="annual rate (default: the manifest's)")
    ev.add_argument("--currency", help="currency label (default: the manifest's)")
    ev.add_argument("--evppi-method", default="auto", metavar="METHOD", help="auto, gam or gp")
    ev.add_argument("--seed", type=_seed, default=0, help="seed of the simulated studies (0)")
    _out_option(ev, "evsi/ beside the table")
    _no_figures(ev)
    _quiet_options(ev)
    ev.set_defaults(func=cmd_evsi)

    ds = sub.add_parser("dsa", help="one-way (tornado) or two-way deterministic sensitivity")
    ds.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    _contrast_options(ds)
    ds.add_argument(
        "--param", action="append", metavar="KEY", help="vary only this parameter (repeatable)"
    )
    ds.add_argument("--pair", nargs=2, metavar=("KEY1", "KEY2"), help="two-way grid over a pair")
    ds.add_argument(
        "--steps",
        type=_whole_number(2, "at least 2"),
        default=7,
        help="grid points per parameter (7)",
    )
    _out_option(ds, f"{RUNS}/<scenario>/dsa/")
    _no_figures(ds)
    _force_option(ds)
    _quiet_options(ds)
    ds.set_defaults(func=cmd_dsa)

    st = sub.add_parser(
        "structural", help="structural uncertainty: the scenario under declared alternatives"
    )
    st.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    st.add_argument(
        "--variants", metavar="A,B", help="run only these variants (default: all of the setting)"
    )
    st.add_argument(
        "--file", metavar="TOML", help="variants file (default: the bundled structural.toml)"
    )
    st.add_argument(
        "--weight", action="append", metavar="NAME=W",
        help="a variant's weight for a model-averaged decision (repeatable; sum to 1)",
    )  # fmt: skip
    st.add_argument(
        "--patients", type=_positive_int,
        help=f"patients per arm and variant (default {STRUCTURAL_PATIENTS:,})",
    )  # fmt: skip
    _seed_option(st)
    _force_option(st)
    _out_option(st, f"{RUNS}/<scenario>/structural/")
    _report_option(st, " of the compare results the folder sits in")
    _no_figures(st)
    _quiet_options(st)
    st.set_defaults(func=cmd_structural)

    th = sub.add_parser("threshold", help="the parameter value at which an ICER equals a threshold")
    th.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    th.add_argument(
        "--param",
        required=True,
        metavar="KEY",
        help="parameter key, e.g. unit_costs.uk.esketamine_session",
    )
    th.add_argument(
        "--threshold", type=float, required=True, help="the ICER per QALY to reach, e.g. 30000"
    )
    th.add_argument("--arm", help="arm whose ICER is targeted (default: the second arm)")
    th.add_argument("--versus", help="its comparator (default: the first arm)")
    th.add_argument(
        "--low", type=float, help="lower end of the search (default from the parameter)"
    )
    th.add_argument("--high", type=float, help="upper end of the search")
    _patients_option(th)
    _seed_option(th)
    _out_option(th, f"{RUNS}/<scenario>/threshold/<parameter's last name>/")
    _force_option(th)
    _quiet_options(th)
    th.set_defaults(func=cmd_threshold)

    va = sub.add_parser("validate", help="simulate each published target in its own setting")
    va.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    va.add_argument("--targets", help="targets file (default: the bundled evidence/targets.toml)")
    va.add_argument(
        "--patients", type=_positive_int, default=20000, help="patients per target (20000)"
    )
    _seed_option(va)
    _out_option(va, f"{RUNS}/<scenario>/validation/")
    va.add_argument("--strict", action="store_true", help="exit 1 if any target disagrees")
    _no_figures(va)
    _force_option(va)
    _quiet_options(va)
    va.set_defaults(func=cmd_validate)

    ca = sub.add_parser("calibrate", help="fit parameters to targets; writes a scenario")
    ca.add_argument("scenario", nargs="?", help=_SCENARIO_HELP)
    ca.add_argument("--targets", help="targets file (default: the bundled evidence/targets.toml)")
    ca.add_argument("--target", action="append", metavar="ID",
                    help="use only this target id (repeatable)")  # fmt: skip
    ca.add_argument("--param", action="append", required=True, metavar="KEY",
                    help="parameter to fit (repeatable)")  # fmt: skip
    ca.add_argument(
        "--patients", type=_positive_int, default=5000, help="patients per target and seed (5000)"
    )
    ca.add_argument(
        "--seeds", type=_positive_int, default=1, help="seeds averaged per evaluation (1)"
    )
    ca.add_argument("--method", choices=("likelihood", "wls"), default="likelihood")
    ca.add_argument(
        "--out",
        metavar="FOLDER",
        help=f"output folder for <scenario>_calibrated.toml, its .parameters.csv and .fit.csv "
        f"(default {RUNS}/calibration/)",
    )
    _force_option(ca)
    _quiet_options(ca)
    ca.set_defaults(func=cmd_calibrate)

    cr = sub.add_parser("care", help="the care system under capacity: queues, waits, utilisation")
    cr.add_argument("scenario", nargs="?", help=_CARE_HELP)
    cr.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="change a scenario key (repeatable)"
    )
    _seed_option(cr)
    _out_option(cr, f"{RUNS}/<scenario>/care_system/")
    _no_figures(cr)
    _report_option(cr)
    _force_option(cr)
    _quiet_options(cr)
    cr.set_defaults(func=cmd_care)

    db = sub.add_parser(
        "dashboard", help="a browser page comparing two capacity plans as they run (solara)"
    )
    db.add_argument("scenario", nargs="?", help=_CARE_HELP)
    db.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="change a scenario key (repeatable)"
    )
    db.add_argument("--port", type=_port, default=8765, help="port on localhost (8765)")
    db.add_argument("--host", default="127.0.0.1", help=argparse.SUPPRESS)
    db.set_defaults(func=cmd_dashboard)

    sw = sub.add_parser(
        "sweep", help="care-system runs over a grid of scenario values (resumable; dask)"
    )
    sw.add_argument("scenario", nargs="?", help=_CARE_HELP)
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
    _out_option(sw, f"{RUNS}/<scenario>/sweep/", resumes=True)
    _no_figures(sw)
    _force_option(sw)
    _quiet_options(sw)
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
    _no_figures(p)


def _contrast_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threshold", type=float, help="per QALY (default: the scenario's first)")
    p.add_argument("--arm", help="arm (default: the second arm)")
    p.add_argument("--versus", help="comparator (default: the first arm)")
    _patients_option(p)
    _seed_option(p)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 for errors a user can act on).

    With --quiet or --json the command's own output (and its progress bars) is held back;
    errors still reach stderr as one line, and --json then prints the command's summary.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    renamed = _RENAMED | ({"--target": "--threshold"} if argv[:1] == ["threshold"] else {})
    for old in [a.split("=")[0] for a in argv if a.split("=")[0] in renamed]:
        parser.error(f"{old} is now {renamed[old]} (one spelling on every command)")
    args = parser.parse_args(argv)
    from trdsim.errors import TrdsimError
    from trdsim.runtime.locks import release_all

    quiet = getattr(args, "quiet", False) or getattr(args, "json", False)
    args.summary = None
    try:
        with contextlib.ExitStack() as held:
            if quiet:
                sink = io.StringIO()
                held.enter_context(contextlib.redirect_stdout(sink))
                held.enter_context(contextlib.redirect_stderr(sink))
            code = args.func(args)
        if getattr(args, "json", False):
            print(json.dumps(args.summary, indent=2, ensure_ascii=False, allow_nan=False))
        return code
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
