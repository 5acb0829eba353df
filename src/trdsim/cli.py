"""The `trdsim` command."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from trdsim.errors import TrdsimError
from trdsim.evidence import UNVERIFIED, parameter_table
from trdsim.scenario import DEFAULT_SCENARIO, load_scenario


class _Parser(argparse.ArgumentParser):
    """argparse that exits with code 2 and one line, as bad scenario input does."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"trdsim: error: {message}\n")


def _whole_number(minimum: int, meaning: str):
    """An argparse type: a whole number >= minimum, with a message that says why not."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"{v} must be {meaning}")
        return v

    return parse


_positive_int = _whole_number(1, "at least 1")
_seed = _whole_number(0, "0 or more")


def _se(x: float, fmt: str) -> str:
    return "n/a" if pd.isna(x) else format(x, fmt)


def _money(x: float, currency: str) -> str:
    symbol = {"GBP": "£", "USD": "$", "EUR": "€"}.get(currency, currency + " ")
    return f"-{symbol}{-x:,.0f}" if x < 0 else f"{symbol}{x:,.0f}"


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


def cmd_compare(args) -> int:
    import numba
    from tqdm import tqdm

    from trdsim.outputs import write_results
    from trdsim.simulate import simulate

    scenario = load_scenario(args.scenario)
    if args.threads and args.threads > numba.config.NUMBA_NUM_THREADS:
        raise TrdsimError(
            f"--threads {args.threads}: this machine allows at most "
            f"{numba.config.NUMBA_NUM_THREADS} (set NUMBA_NUM_THREADS to change it)"
        )
    n = args.patients or scenario.patients
    out = Path(args.out) if args.out else Path("results") / scenario.name
    if out.exists() and not out.is_dir():
        raise TrdsimError(f"--out {out}: exists and is not a folder")
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
    written = write_results(result, out, figures=not args.no_figures)
    flagged = parameter_table(scenario.params).verified.isin(UNVERIFIED).sum()
    print(
        f"\nSimulated in {elapsed:.1f} s. Wrote {len(written)} files to {out}/"
        f"\n{flagged} inputs are 'from memory, unverified' or assumptions: "
        f"`trdsim params {args.scenario or DEFAULT_SCENARIO} --unverified` lists them."
    )
    return 0


def cmd_params(args) -> int:
    scenario = load_scenario(args.scenario)
    table = parameter_table(scenario.params)
    if args.unverified:
        table = table[table.verified.isin(UNVERIFIED)]
    if args.csv:
        table.to_csv(args.csv, index=False)
        print(f"Wrote {len(table)} parameters to {args.csv}")
        return 0
    shown = table[["key", "value", "distribution", "verified"]].astype(str)
    widths = [max(len(c), shown[c].str.len().max()) for c in shown.columns]
    print("  ".join(c.ljust(w) for c, w in zip(shown.columns, widths, strict=True)) + "  source")
    for row, source in zip(shown.itertuples(index=False), table.source, strict=True):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + "  " + source)
    print(
        f"\n{len(table)} parameters; setting '{scenario.setting}' ({scenario.currency} {scenario.price_year})."
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="trdsim", description="Simulate sequential vs integrated care for TRD.")
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
    c.set_defaults(func=cmd_compare)
    q = sub.add_parser("params", help="print every parameter with its source")
    q.add_argument(
        "scenario", nargs="?", help=f"scenario file or bundled name (default {DEFAULT_SCENARIO})"
    )
    q.add_argument(
        "--unverified", action="store_true", help="only inputs from memory or assumptions"
    )
    q.add_argument("--csv", help="write the table to this CSV file instead")
    q.set_defaults(func=cmd_params)
    return p


def main(argv: list[str] | None = None) -> int:
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


if __name__ == "__main__":
    sys.exit(main())
