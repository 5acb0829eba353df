"""Each analysis's result object from Python: read(write(x)) == x, a short repr, a text
summary, a Figure from .plot(), and a PSA made in Python that the report takes."""

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import trdsim
from trdsim.analysis.dsa import DsaResult, ThresholdResult, TwoWayResult
from trdsim.analysis.results import PsaResult
from trdsim.care_result import CareResult
from trdsim.errors import TrdsimError
from trdsim.report import write_report
from trdsim.store.manifest import FORMAT_VERSION
from trdsim.sweep import SweepResult
from trdsim.validation.validate import ValidationResult

CBT = "treatments.cbt_augmentation.response_effect"
SMALL_CARE = {"care_system.years": 2, "care_system.referrals_per_year": 300}


@pytest.fixture(scope="module")
def compared():
    r = trdsim.compare("uk_nhs", patients=300, seed=5)
    r.subgroups("severity")
    return r


@pytest.fixture(scope="module")
def psa():
    return trdsim.psa("uk_nhs", draws=24, patients=80, seed=2, groups={"cbt": [CBT]})


def _round_trip(result, folder, cls):
    written = result.write(folder, figures=False)
    assert all(p.exists() for p in written)
    back = cls.read(folder)
    assert back == result
    assert trdsim.read(folder) == result  # by the manifest's analysis
    m = json.loads((folder / "manifest.json").read_text())
    assert m["format_version"] == FORMAT_VERSION and m["analysis"] == cls.ANALYSIS
    return back


def _shows(result):
    assert len(repr(result)) < 400 and repr(result).startswith(f"<{type(result).__name__} ")
    assert isinstance(result.summary(), str) and result.summary()
    assert isinstance(result.plot(), Figure)
    assert isinstance(result.table, pd.DataFrame) and len(result.table)


def test_compare_round_trip_and_what_it_shows(compared, tmp_path):
    back = _round_trip(compared, tmp_path / "cmp", trdsim.Result)
    assert back.scenario is None and compared.scenario is not None  # live objects stay out
    _shows(compared)
    assert list(back.per_arm.arm.cat.categories) == ["sequential", "integrated", "personalised"]
    assert back.patients.death_week.dtype == "Int16"  # nullable: no -1 codes
    for lam in compared.manifest["thresholds"]:
        best = compared.optimal(lam)
        at = compared.net_benefit[compared.net_benefit.threshold == lam]
        assert best == [str(at.arm[at.nmb.idxmax()])]
        assert all(a in compared.summary() for a in best)


def test_a_changed_table_or_manifest_makes_results_unequal(compared, tmp_path):
    back = _round_trip(compared, tmp_path / "cmp", trdsim.Result)
    back.per_arm.loc[0, "cost"] += 1e-9
    assert back != compared
    other = trdsim.Result.read(tmp_path / "cmp")
    other.manifest["seed"] = 6
    assert other != compared


def test_a_folder_of_another_analysis_or_format_is_refused(compared, psa, tmp_path):
    compared.write(tmp_path / "cmp", figures=False)
    with pytest.raises(TrdsimError, match="not a psa result"):
        PsaResult.read(tmp_path / "cmp")
    m = json.loads((tmp_path / "cmp" / "manifest.json").read_text())
    (tmp_path / "cmp" / "manifest.json").write_text(json.dumps({**m, "format_version": 1}))
    with pytest.raises(TrdsimError, match="format 1"):
        trdsim.Result.read(tmp_path / "cmp")


def test_psa_round_trip_and_what_it_shows(psa, tmp_path):
    _round_trip(psa, tmp_path / "psa", PsaResult)
    _shows(psa)
    assert set(psa.evppi.group) == {"cbt"} and (psa.evppi.evppi <= psa.evppi.evpi + 1e-9).all()
    # long form: the threshold is a column, the comparator named in its own column
    nmb = psa.intervals[psa.intervals.quantity == "inc_nmb"]
    assert sorted(set(nmb.threshold)) == [20000.0, 30000.0]
    assert set(psa.intervals.comparator) == {"sequential"}
    assert psa.intervals.threshold[psa.intervals.quantity != "inc_nmb"].isna().all()


def test_a_psa_made_in_python_is_reported_with_its_compare_results(compared, psa, tmp_path):
    folder = tmp_path / "uk_nhs"
    compared.write(folder)
    psa.write(folder / "psa")
    r = write_report(folder)
    assert r.results.psa is not None, r.notices
    assert "uncertainty" in r.sections and 'id="table-psa_summary"' in r.html.read_text()
    # the PSA alone is reported too (per-arm results are then the PSA means)
    alone = write_report(folder / "psa", tmp_path / "alone.html")
    assert alone.results.psa is not None


def test_dsa_two_way_and_threshold_round_trip(tmp_path):
    keys = ["unit_costs.uk.cbt_session", "utilities.depressed"]
    d = trdsim.dsa("uk_nhs", keys=keys, patients=100)
    _round_trip(d, tmp_path / "dsa", DsaResult)
    _shows(d)
    assert set(d.tornado.key) == set(keys)
    w = trdsim.two_way("uk_nhs", *keys, steps=2, patients=60)
    _round_trip(w, tmp_path / "dsa" / w.name, TwoWayResult)
    _shows(w)
    t = trdsim.threshold("uk_nhs", keys[0], 30000, arm="integrated", versus="sequential",
                         high=5000, patients=150)  # fmt: skip
    _round_trip(t, tmp_path / "threshold", ThresholdResult)
    _shows(t)
    row = t.value.iloc[0]
    assert row.comparator == "sequential" and row.icer == pytest.approx(30000, rel=1e-6)
    # the search brackets the root: INMB changes sign across the threshold value
    pts = np.array(t.info["search"])
    assert (pts[pts[:, 0] < row.value, 1] > 0).all() != (pts[pts[:, 0] > row.value, 1] > 0).all()


def test_validation_round_trip(tmp_path):
    v = trdsim.validate("uk_nhs", patients=300)
    back = _round_trip(v, tmp_path / "val", ValidationResult)
    assert back.outcomes is None and v.outcomes  # measurements are live, not stored
    _shows(v)
    assert v.agrees == bool(v.targets.agrees.all())


def test_care_and_sweep_round_trip(tmp_path):
    sc = trdsim.load_scenario("capacity_whatif").with_values(SMALL_CARE)
    c = trdsim.care(sc, seed=4)
    _round_trip(c, tmp_path / "care", CareResult)
    _shows(c)
    # every start's wait is kept: as many as the services' starts
    assert len(c.waits) == int(c.yearly.starts.sum())
    s = trdsim.care_sweep(sc, {"care_system.services.cbt.units": [20, 60]}, reps=1)
    _round_trip(s, tmp_path / "sweep", SweepResult)
    _shows(s)
    assert list(s.runs["care_system.services.cbt.units"]) == [20, 60]


def test_read_knows_every_result_class_of_the_package():
    # each result class registers its analysis; trdsim.api imports them all before reading
    import importlib
    import pkgutil

    from trdsim.api import result_kinds
    from trdsim.store.result import ResultBase

    kinds = result_kinds()
    for m in pkgutil.walk_packages(trdsim.__path__, "trdsim."):
        importlib.import_module(m.name)

    def every(cls):
        for c in cls.__subclasses__():
            yield c
            yield from every(c)

    defined = {
        c.ANALYSIS: c
        for c in every(ResultBase)
        if "ANALYSIS" in c.__dict__ and c.__module__.startswith("trdsim.")
    }
    assert kinds == defined
    assert {"compare", "psa", "dsa one-way", "dsa two-way", "threshold", "validation",
            "care", "sweep"} <= set(kinds)  # fmt: skip


def test_two_result_classes_cannot_claim_one_analysis():
    from dataclasses import dataclass

    from trdsim.store.result import ResultBase

    with pytest.raises(TypeError, match="analysis 'compare'"):

        @dataclass(eq=False)
        class Impostor(ResultBase):
            ANALYSIS = "compare"
