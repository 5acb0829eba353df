"""Figures: every plot function returns a Figure; money axes, zero-VOI figures and the
Kaplan-Meier band behave as a reader expects."""

from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from trdsim import care_plots
from trdsim.analysis.decision import ceac, check_table, evpi, frontier
from trdsim.plots import analysis as aplots
from trdsim.plots import compare as plots
from trdsim.plots.style import MINUS, format_money, money_formatter, parameter_label
from trdsim.survival import at_risk_at, greenwood_band, kaplan_meier

ARMS = ("sequential", "integrated", "personalised")


def _draws(spread: float = 1.0, n: int = 60, seed: int = 1) -> pd.DataFrame:
    """PSA-like table; spread 0 makes every draw the same (no decision uncertainty)."""
    rng = np.random.default_rng(seed)
    rows = [
        (d, a, 10_000 + 1500 * k + spread * rng.normal(0, 800), 2.0 + 0.05 * k
         + spread * rng.normal(0, 0.05))
        for d in range(n)
        for k, a in enumerate(ARMS)
    ]  # fmt: skip
    return check_table(pd.DataFrame(rows, columns=["draw", "arm", "cost", "qaly"]))


def _patients(n: int = 300, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for arm in ARMS[:2]:
        follow = np.where(rng.random(n) < 0.6, rng.integers(0, 60, n), -1)
        relapse = np.where(
            (follow >= 0) & (rng.random(n) < 0.5), follow + rng.integers(1, 80, n), -1
        )
        frames.append(
            pd.DataFrame(
                {
                    "arm": arm,
                    "first_followup_week": follow,
                    "first_relapse_week": relapse,
                    "death_week": np.where(rng.random(n) < 0.05, 150, -1),
                    "first_remission_week": np.where(
                        rng.random(n) < 0.5, rng.integers(0, 150, n), -1
                    ),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _trace() -> pd.DataFrame:
    from trdsim.engine.layout import TRACE_STATES

    return pd.DataFrame(
        [
            (a, w, s, 10 + w + k)
            for a in ARMS[:2]
            for w in range(20)
            for k, s in enumerate(TRACE_STATES)
        ],
        columns=["arm", "week", "state", "count"],
    )


def _evppi(scale: float = 1.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    groups = ["costs", "utilities", "effects"]
    table = pd.DataFrame(
        {"group": groups, "evppi": scale * np.array([12.0, 40.0, 5.0]), "se": scale * 2.0,
         "evpi": scale * 60.0, "threshold": 20_000.0, "method": "gam"}
    )  # fmt: skip
    curve = pd.DataFrame(
        [(g, lam, scale * v * lam / 2e4, scale * 1.0, scale * 60.0 * lam / 2e4, False)
         for g, v in zip(groups, [12.0, 40.0, 5.0], strict=True) for lam in (0.0, 2e4, 4e4)],
        columns=["group", "threshold", "evppi", "se", "evpi", "clipped"],
    )  # fmt: skip
    return table, curve


def _target(setting: str, passed: bool):
    t = SimpleNamespace(
        id="t1", setting=setting, bounds=(0.2, 0.4), value=0.3, n=100, events=30,
        measure="response", source="Someone 2020", maintenance=None, versus=["x"], week=26,
        centre=0.3,
    )  # fmt: skip
    curves = pd.DataFrame(
        {"time": [0, 10, 26, 0, 10, 26], "survival": [1, 0.8, 0.7, 1, 0.9, 0.8],
         "arm": ["target"] * 3 + ["versus"] * 3}
    )  # fmt: skip
    return SimpleNamespace(target=t, passed=passed, value=0.33, curves=curves)


def _figures():
    """(name, thunk) for every public plot function, on small made-up inputs."""
    draws = _draws()
    grid = [0.0, 1e4, 2e4, 3e4]
    table, curve = _evppi()
    evsi = pd.DataFrame(
        {"n": [0, 50, 100], "evsi": [0.0, 20.0, 30.0], "evppi": 40.0, "enbs": [0.0, 5.0, -3.0],
         "optimal": [False, True, False], "parameter": "utilities.depressed",
         "threshold": 2e4, "method": "gam"}
    )  # fmt: skip
    tornado = pd.DataFrame(
        {"key": ["unit_costs.cbt_session", "utilities.depressed"], "moves_with": ["", "x y"],
         "low_value": [80.0, 0.5], "high_value": [180.0, 0.65], "inmb_low": [2000.0, -500.0],
         "inmb_high": [-1000.0, 1500.0]}
    )  # fmt: skip
    info = {"base_inmb": 400.0, "arm": "integrated", "versus": "sequential", "threshold": 2e4,
            "base_inmb_se": 50.0, "level": 0.95}  # fmt: skip
    kx, ky = np.meshgrid([80.0, 120.0, 160.0], [0.5, 0.55, 0.6])
    two_way = pd.DataFrame(
        {"x_parameter": "unit_costs.cbt_session", "x": kx.ravel(),
         "y_parameter": "utilities.depressed", "y": ky.ravel(),
         "inmb": (140 - kx.ravel()) * 20 + (ky.ravel() - 0.55) * 1e4, "optimal": "integrated"}
    )  # fmt: skip
    threshold = {"parameter": "unit_costs.uk.cbt_session", "value": 131.0, "base_value": 100.0,
                 "arm": "integrated", "versus": "sequential", "target_icer": 2e4,
                 "search": [[50.0, 900.0], [131.0, 0.0], [200.0, -700.0]]}  # fmt: skip
    services = pd.DataFrame(
        [(s, w, w % 5, 0.5 + 0.01 * w, 10) for s in ("cbt", "ect") for w in range(30)],
        columns=["service", "week", "queue", "utilisation", "capacity"],
    )
    sweep = pd.DataFrame(
        [(c, r, 0.5 + c / 100, 1.0 + c / 1000, 5000.0 - c) for c in (10, 20, 30) for r in range(2)],
        columns=[
            "cbt",
            "rep",
            "share_started_within_target",
            "qaly_per_referral",
            "cost_per_referral",
        ],
    )
    validation = pd.DataFrame(
        {"id": ["a", "b"], "low": [0.2, 0.3], "high": [0.4, 0.5], "target": [0.3, 0.4],
         "model": [0.35, 0.7], "agrees": [True, False]}
    )  # fmt: skip
    replications = pd.DataFrame(
        {"study": ["S1", "S2"], "measure": ["icer", "qaly"], "low": [1000.0, 0.1],
         "high": [3000.0, 0.3], "published": [2000.0, 0.2], "model": [2500.0, 0.5],
         "agrees": [True, False], "dependent": [False, True]}
    )  # fmt: skip
    patients = _patients()
    structural = pd.DataFrame(
        [(v, t, a, 1e4 + i, d, 50.0, a == best)
         for v, best in (("base", "integrated"), ("short", "sequential"))
         for t in (2e4, 3e4)
         for i, (a, d) in enumerate((("sequential", 0.0), ("integrated", 300.0 if best == "integrated" else -200.0)))],
        columns=["variant", "threshold", "arm", "nmb", "inmb", "inmb_se", "optimal"],
    )  # fmt: skip
    return [
        ("trace_figure", lambda: plots.trace_figure(_trace())),
        ("ever_remitted_figure", lambda: plots.ever_remitted_figure(patients, 200)),
        ("relapse_free_figure", lambda: plots.relapse_free_figure(patients, 200)),
        ("frontier_figure", lambda: plots.frontier_figure(frontier(draws), "GBP")),
        ("ce_plane", lambda: aplots.ce_plane(draws, [2e4, 3e4], "GBP")),
        ("ceac_figure", lambda: aplots.ceac_figure(ceac(draws, grid), "GBP", marks=[2e4])),
        ("evpi_figure", lambda: aplots.evpi_figure(evpi(draws, grid), "GBP", population=1e4)),
        ("evppi_figure", lambda: aplots.evppi_figure(table, "GBP")),
        ("evppi_curve_figure", lambda: aplots.evppi_curve_figure(curve, table, "GBP")),
        ("evsi_figure", lambda: aplots.evsi_figure(evsi, "GBP")),
        ("tornado_figure", lambda: aplots.tornado_figure(tornado, info, "GBP")),
        ("two_way_figure", lambda: aplots.two_way_figure(two_way, info, "GBP")),
        ("threshold_figure", lambda: aplots.threshold_figure(threshold, "GBP")),
        ("target_figure", lambda: aplots.target_figure(_target("acute", False))),
        ("target_figure/relapse", lambda: aplots.target_figure(_target("relapse", True))),
        ("validation_overview", lambda: aplots.validation_overview(validation)),
        ("replication_figure", lambda: aplots.replication_figure(replications)),
        (
            "structural_figure",
            lambda: aplots.structural_figure(
                structural,
                {"base": "Base case", "short": "Horizon 2 years"},
                "sequential",
                "GBP",
                1.96,
            ),
        ),
        ("queues_figure", lambda: care_plots.queues_figure(services)),
        ("utilisation_figure", lambda: care_plots.utilisation_figure(services)),
        ("waits_figure", lambda: care_plots.waits_figure({"cbt": np.array([1, 3, 20])}, 18)),
        (
            "capacity_curves",
            lambda: care_plots.capacity_curves(
                sweep,
                "cbt",
                [("cost_per_referral", "cost"), ("qaly_per_referral", "QALYs")],
                currency="GBP",
            ),
        ),  # fmt: skip
    ]


def _texts(fig: Figure) -> str:
    out = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return "\n".join(out)


def _public_plot_functions() -> set[str]:
    return {
        f"{m.__name__}.{name}"
        for m in (plots, aplots, care_plots)
        for name in m.__all__
        if callable(getattr(m, name)) and name.endswith(("figure", "curves", "plane", "overview"))
    }


def test_every_plot_function_is_covered_and_returns_a_figure(tmp_path):
    made = _figures()
    covered = {name.split("/")[0] for name, _ in made}
    assert {f.rsplit(".", 1)[1] for f in _public_plot_functions()} <= covered
    for name, make in made:
        fig = make()
        assert isinstance(fig, Figure), name
        fig.savefig(tmp_path / "x.png")  # drawable without pyplot


def test_a_path_still_writes_a_png_and_the_figure_is_returned(tmp_path):
    path = tmp_path / "evpi.png"
    fig = aplots.evpi_figure(evpi(_draws(), [0.0, 2e4]), "GBP", path)
    assert isinstance(fig, Figure)
    assert path.read_bytes().startswith(b"\x89PNG")


def test_money_format_uses_a_true_minus_and_thousands_separators():
    assert format_money(-1234.0, "GBP") == "\u2212£1,234"
    assert format_money(1_234_567.0, "USD") == "$1,234,567"
    assert "-" not in format_money(-5.0, "GBP")
    assert format_money(-0.001, "GBP", 0) == "£0"  # no "minus zero"


def test_money_axis_keeps_decimals_on_a_small_range():
    fmt = money_formatter("GBP")
    labels = fmt.format_ticks([0.0, 0.5, 1.0, 1.5])
    assert len(set(labels)) == 4, labels  # not "£0 £0 £1 £1"
    assert labels == ["£0.00", "£0.50", "£1.00", "£1.50"]
    big = fmt.format_ticks([-20_000.0, 0.0, 20_000.0])
    assert big == [f"{MINUS}£20,000", "£0", "£20,000"]
    assert fmt.format_ticks([0.0, 0.25, 0.5]) == ["£0.00", "£0.25", "£0.50"]


def test_money_axis_on_a_drawn_figure_reads_in_pence():
    table = pd.DataFrame({"threshold": [0.0, 1e4, 2e4], "evpi": [0.0, 0.8, 1.6]})
    fig = aplots.evpi_figure(table, "GBP")
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert len(labels) == len(set(labels)) >= 3
    assert any("." in lab for lab in labels)


@pytest.mark.parametrize("kind", ["evppi", "evpi", "curve"])
def test_a_figure_without_decision_uncertainty_says_so_and_draws_no_bars(kind):
    table, curve = _evppi(scale=0.0)
    if kind == "evppi":
        fig = aplots.evppi_figure(table, "GBP")
    elif kind == "curve":
        fig = aplots.evppi_curve_figure(curve, table, "GBP")
    else:
        one_winner = evpi(_draws(spread=0.0), [0.0, 2e4, 4e4])
        assert (one_winner.evpi == 0).all()
        fig = aplots.evpi_figure(one_winner, "GBP")
    ax = fig.axes[0]
    assert "No decision uncertainty" in _texts(fig)
    assert not ax.patches and not ax.containers  # no bars
    assert not ax.lines  # no flat line either


def test_a_figure_with_uncertainty_draws_bars_and_no_such_sentence():
    table, _ = _evppi()
    fig = aplots.evppi_figure(table, "GBP")
    assert len(fig.axes[0].patches) == len(table)
    assert "No decision uncertainty" not in _texts(fig)


def _km(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = rng.geometric(0.02, n)
    censor = rng.integers(1, 150, n)
    return kaplan_meier(np.minimum(t, censor), t <= censor)


def test_greenwood_band_contains_the_curve_and_narrows_with_more_patients():
    small, large = _km(200), _km(5000)
    for km in (small, large):
        band = greenwood_band(km)
        assert (band.lower <= km.survival + 1e-12).all()
        assert (km.survival <= band.upper + 1e-12).all()
        assert ((band.lower >= 0) & (band.upper <= 1)).all()
    at = 40

    def width(km):
        band = greenwood_band(km)
        i = np.searchsorted(km.time, at, side="right") - 1
        return float(band.upper.iloc[i] - band.lower.iloc[i])

    assert width(large) < 0.5 * width(small)  # sqrt(25) = 5 times the patients


def test_greenwood_variance_matches_a_hand_computed_example():
    # 5 patients: events at 1 and 3, censored at 2, 4, 5
    km = kaplan_meier(np.array([1, 2, 3, 4, 5]), np.array([True, False, True, False, False]))
    s3 = 0.8 * (1 - 1 / 3)
    var = 1 / (5 * 4) + 1 / (3 * 2)  # Greenwood sum at t = 3
    z = 1.959963984540054
    se = np.sqrt(var) / abs(np.log(s3))
    band = greenwood_band(km).set_index("time")
    assert band.loc[3, "lower"] == pytest.approx(s3 ** np.exp(z * se))
    assert band.loc[3, "upper"] == pytest.approx(s3 ** np.exp(-z * se))


def test_numbers_at_risk_count_patients_still_followed():
    km = kaplan_meier(np.array([1, 2, 3, 4, 5]), np.array([True, False, True, False, False]))
    assert list(at_risk_at(km, np.array([0, 1, 2, 3, 5, 6]))) == [5, 5, 4, 3, 1, 0]


def test_relapse_free_figure_shows_a_band_and_numbers_at_risk():
    patients = _patients()
    fig = plots.relapse_free_figure(patients, 200, scenario="uk_nhs")
    ax = fig.axes[0]
    assert len(ax.collections) == 2  # one band per arm
    texts = _texts(fig)
    assert "at risk" in texts and "scenario uk_nhs" in texts
    responders = int((patients[patients.arm == ARMS[0]].first_followup_week >= 0).sum())
    assert f"{responders:,}" in texts.split()


def test_titles_name_the_scenario_and_price_year():
    fig = aplots.ceac_figure(ceac(_draws(), [0.0, 2e4]), "GBP", scenario="uk_nhs", price_year=2024)
    assert "scenario uk_nhs, 2024 prices" in _texts(fig)


def test_parameter_labels_are_readable_and_carry_units():
    # one label source for figures, tables and the report: trdsim.schema
    assert parameter_label("unit_costs.uk.cbt_session", "GBP") == "Unit cost: CBT session (GBP)"
    assert parameter_label("unit_costs.cbt_session", "GBP") == "Unit cost: CBT session (GBP)"
    assert parameter_label("utilities.depressed") == "Utility, depressed (QALY weight)"
    assert (
        parameter_label("treatments.rtms.dropout")
        == "rTMS: stopping for intolerance (share of starters)"
    )
    assert parameter_label("no_such.key") == "no_such.key"


def test_tornado_uses_the_readable_labels():
    fig = dict(_figures())["tornado_figure"]()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any(lab.startswith("Unit cost: CBT session (GBP)") for lab in labels)
    assert not any("unit_costs." in lab for lab in labels)


def test_two_way_draws_the_zero_contour_or_says_there_is_none():
    thunk = dict(_figures())["two_way_figure"]
    fig = thunk()
    from matplotlib.contour import ContourSet

    assert fig.axes[0].findobj(ContourSet)
    assert "INMB = 0" in fig.axes[0].get_title()


def test_frontier_legend_lists_only_what_is_drawn():
    one = frontier(_draws().query("arm == 'sequential'").assign(arm=lambda d: d.arm.astype(str)))
    fig = plots.frontier_figure(one, "GBP")
    names = [t.get_text() for t in fig.legends[0].get_texts()]
    assert names == ["on the frontier"]  # one arm: a point, no line
    three = plots.frontier_figure(frontier(_draws()), "GBP")
    names = [t.get_text() for t in three.legends[0].get_texts()]
    assert names == ["efficiency frontier", "on the frontier"]
    assert "ICER £" in _texts(three)


def test_validation_overview_marks_disagreement_by_shape_as_well_as_colour():
    fig = dict(_figures())["validation_overview"]()
    coll = [c for c in fig.axes[0].collections if c.get_label().startswith("model")]
    assert len(coll) == 2
    paths = [c.get_paths()[0].vertices.shape for c in coll]
    assert paths[0] != paths[1]  # a dot and a cross
