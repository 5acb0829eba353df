"""Figures of the uncertainty analyses name arms by their pathways' labels ('Sequential
care'), not their ids, wherever they are drawn (`.plot()`, `.write`, the report); a result
whose manifest has no pathways keeps the ids."""

import numpy as np
import pandas as pd
import pytest

import trdsim
from trdsim.analysis.dsa import DsaResult, ThresholdResult
from trdsim.analysis.results import analyse
from trdsim.pathways import arm_labels
from trdsim.plots import analysis as plots
from trdsim.report import write_report

IDS = ("sequential", "integrated", "personalised")
COST = "unit_costs.uk.cbt_session"
UTILITY = "utilities.depressed"


def _texts(fig) -> list[str]:
    """Every piece of text a reader sees: titles, axis labels, legends, annotations."""
    out = [fig._suptitle.get_text()] if fig._suptitle else []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.texts]
        if ax.get_legend() is not None:
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    return [t for t in out if t]


def _shows_labels_not_ids(fig, labels: dict[str, str], arms=IDS) -> None:
    text = "\n".join(_texts(fig))
    assert any(labels[a] in text for a in arms), text
    for a in arms:
        # an id as a word of its own (the labels are capitalised: 'Sequential care')
        assert not any(a in t.replace(labels[a], "") for t in _texts(fig)), (a, text)


def _capture(monkeypatch, module, name: str) -> list:
    """Wrap module.name to keep the figures it returns."""
    made, original = [], getattr(module, name)

    def keep(*args, **kw):
        made.append(original(*args, **kw))
        return made[-1]

    monkeypatch.setattr(module, name, keep)
    return made


@pytest.fixture(scope="module")
def labels() -> dict[str, str]:
    sc = trdsim.load_scenario("uk_nhs")
    names = arm_labels(sc.pathways, sc.arms)
    # independent of arm_labels' rule: each label is its pathway's label up to the colon
    assert names == {a: sc.pathways[a]["label"].split(":")[0].split(" (")[0] for a in sc.arms}
    return names


@pytest.fixture(scope="module")
def psa():
    return trdsim.psa("uk_nhs", draws=12, patients=60, seed=2, evppi=False)


@pytest.fixture(scope="module")
def tornado():
    return trdsim.dsa("uk_nhs", keys=[COST, UTILITY], patients=60)


def test_psa_figures_name_arms_by_label(psa, labels, monkeypatch, tmp_path):
    assert psa.manifest["pathways"]  # a PSA of a scenario keeps its pathways
    legend = [t.get_text() for t in psa.plot().axes[0].get_legend().get_texts()]
    assert [labels[a] for a in IDS] == legend[:3]
    planes = _capture(monkeypatch, plots, "ce_plane")
    curves = _capture(monkeypatch, plots, "ceac_figure")
    psa.write(tmp_path / "psa")  # the files the CLI and the report show
    assert len(planes) == len(curves) == 1
    plane = [t.get_text() for t in planes[0].axes[0].get_legend().get_texts()]
    assert plane[:2] == [f"{labels[a]} vs {labels['sequential']}" for a in IDS[1:]]
    _shows_labels_not_ids(curves[0], labels)


def test_a_psa_table_from_elsewhere_keeps_its_ids(psa, monkeypatch, tmp_path):
    mine = analyse(psa.draws[["draw", "arm", "cost", "qaly"]], [20_000.0], "GBP")
    assert "pathways" not in mine.manifest
    legend = [t.get_text() for t in mine.plot().axes[0].get_legend().get_texts()]
    assert legend[:3] == list(IDS)
    planes = _capture(monkeypatch, plots, "ce_plane")
    mine.write(tmp_path / "psa")
    plane = [t.get_text() for t in planes[0].axes[0].get_legend().get_texts()]
    assert plane[:2] == ["integrated vs sequential", "personalised vs sequential"]


def test_tornado_names_the_contrast_by_label(tornado, labels):
    x = tornado.plot().axes[0].get_xlabel()
    assert "of Integrated care vs Sequential care at" in x, x
    assert labels["integrated"] == "Integrated care"
    bare = DsaResult({k: v for k, v in tornado.manifest.items() if k != "pathways"},
                     tornado.tornado, tornado.info)  # fmt: skip
    assert "of integrated vs sequential at" in bare.plot().axes[0].get_xlabel()


def test_two_way_map_marks_cells_with_abbreviated_labels(labels):
    w = trdsim.two_way("uk_nhs", COST, UTILITY, steps=2, patients=60)
    fig = w.plot()
    ax, bar = fig.axes
    optimal = sorted({labels[a] for a in w.grid.optimal})
    marks = plots.short_marks(optimal)
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == len(w.grid)
    assert cells == [marks[labels[a]] for a in w.grid.optimal]
    for name in optimal:
        assert f"{marks[name]} = {name}" in ax.get_title()
    assert not any(a[:3] in ax.get_title() for a in IDS)
    assert "INMB Integrated care vs Sequential care at" in bar.get_ylabel()


def test_threshold_figure_names_the_contrast_by_label(labels):
    t = trdsim.threshold("uk_nhs", COST, 30000, arm="integrated", versus="sequential",
                         high=5000, patients=100)  # fmt: skip
    assert "INMB of Integrated care vs Sequential care at" in t.plot().axes[0].get_ylabel()
    bare = ThresholdResult({k: v for k, v in t.manifest.items() if k != "pathways"}, t.value,
                           t.info)  # fmt: skip
    assert "INMB of integrated vs sequential at" in bare.plot().axes[0].get_ylabel()


def test_the_report_draws_missing_figures_with_labels(psa, tornado, labels, monkeypatch, tmp_path):
    folder = tmp_path / "uk_nhs"
    trdsim.compare("uk_nhs", patients=60, seed=5).write(folder, figures=False)
    psa.write(folder / "psa", figures=False)
    tornado.write(folder / "dsa", figures=False)
    drawn = {n: _capture(monkeypatch, plots, n) for n in ("ce_plane", "ceac_figure",
                                                          "tornado_figure")}  # fmt: skip
    r = write_report(folder)
    assert r.results.psa is not None and r.results.dsa is not None, r.notices
    for name, figs in drawn.items():
        assert len(figs) == 1, name
        _shows_labels_not_ids(figs[0], labels)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["Sequential care", "Integrated care"], ["SC", "IC"]),
        # same initials: the shortest prefix that tells them apart
        (["Sequential care", "Stepped care"], ["Se", "St"]),
        # ids as names (no pathways): their initials
        (["sequential", "integrated"], ["S", "I"]),
        # one name starts the other: numbers
        (["Care", "Care plus"], ["C", "CP"]),
        (["Care A", "Care A+"], ["1", "2"]),
    ],
)
def test_short_marks_tell_names_apart(names, expected):
    assert list(plots.short_marks(names).values()) == expected


def test_named_tables_keep_flags_and_unknown_arms(psa):
    named = psa.named()
    nb = pd.DataFrame({"arm": ["sequential", "elsewhere"], "optimal": [True, False]})
    out = named(nb)
    assert list(out.arm) == ["Sequential care", "elsewhere"]
    assert out.optimal.dtype == bool and list(out.optimal) == [True, False]
    info = named({"arm": "integrated", "versus": "sequential", "threshold": 2e4})
    assert info == {"arm": "Integrated care", "versus": "Sequential care", "threshold": 2e4}
    assert np.isnan(named({"versus": float("nan")})["versus"])


def test_care_figures_name_services_by_their_labels(tmp_path):
    """Queues, utilisation and waits name each service by the scenario's label ('CBT
    therapists'), not its key ('cbt'), in `.plot()` and in the files `.write` draws."""
    from trdsim import care_plots

    r = trdsim.care("capacity_whatif", seed=3, settings={"care_system.years": 1,
                    "care_system.referrals_per_year": 300})  # fmt: skip
    labels = care_plots.service_labels(r.manifest["care_system"])
    assert labels["cbt"] == "CBT therapists"
    for fig in (r.plot(), care_plots.utilisation_figure(r.services, labels=labels)):
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert {lab for lab in labels.values()} <= {t.split(" (")[0] for t in legend}
        assert not set(labels) & {t.split(" (")[0] for t in legend}


def test_summaries_name_arms_by_label(psa, tornado, labels):
    """The text summaries say what the figures say: 'Integrated care', not 'integrated'."""
    # (the PSA's sampling warnings, written when the draws are summarised, keep ids)
    decisions = [ln for ln in psa.summary().splitlines() if ln.startswith("  at ")]
    for text in ("\n".join(decisions), tornado.summary().splitlines()[0]):
        assert any(labels[a] in text for a in IDS), text
        assert not any(f" {a}," in text or f" {a} vs" in text or f"vs {a} " in text
                       for a in IDS), text  # fmt: skip
