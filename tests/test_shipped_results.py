"""The results kept in the repository are complete: on a clean checkout (only the files
git tracks), every folder reads back as its result object and every folder the report
covers makes a report. A folder that is not complete must not be shipped."""

import shutil
import subprocess
from pathlib import Path

import pytest

import trdsim
from trdsim.report import write_report

ROOT = Path(__file__).resolve().parents[1]
# analyses whose folders the HTML report covers (a compare folder takes its psa/, dsa/,
# threshold/ and validation/ subfolders along)
REPORTED = {"compare", "psa", "care"}
# analyses that have no result object yet (TrialResult writes its own tables): a
# replication's folder, read by experiments/replications, not by trdsim.read
NO_RESULT_OBJECT = {"trial"}


def _tracked_results(tmp_path: Path) -> Path:
    """A copy of results/ holding only the files git tracks, as a fresh clone has it."""
    try:
        files = subprocess.run(
            ["git", "ls-files", "results"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    for f in files:
        dest = tmp_path / f
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, dest)
    return tmp_path / "results"


def _analysis(folder: Path) -> str:
    import json

    return str(json.loads((folder / "manifest.json").read_text()).get("analysis", "")).split()[0]


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> list[Path]:
    root = _tracked_results(tmp_path_factory.mktemp("clean"))
    return sorted(p.parent for p in root.rglob("manifest.json"))


def test_every_shipped_folder_reads_back(shipped):
    assert shipped, "no results folder is tracked"
    failures = []
    for folder in shipped:
        if _analysis(folder) in NO_RESULT_OBJECT:
            continue
        try:
            trdsim.read(folder)
        except Exception as e:  # noqa: BLE001 - every failure is listed
            failures.append(f"{folder.name}: {e}")
    assert failures == []


def test_every_shipped_folder_the_report_covers_makes_a_report(shipped, tmp_path):
    reported = [f for f in shipped if _analysis(f) in REPORTED]
    assert reported
    for i, folder in enumerate(reported):
        r = write_report(folder, tmp_path / f"report_{i}.html")
        assert r.html.stat().st_size > 10_000, folder


def test_a_compare_folder_without_its_patient_table_says_how_to_make_it(tmp_path):
    from trdsim.errors import TrdsimError

    r = trdsim.compare("uk_nhs", patients=200, seed=3)
    r.write(tmp_path, figures=False)
    (tmp_path / "patients.parquet").unlink()
    back = trdsim.read(tmp_path)
    assert back.patients is None
    assert back.per_arm.equals(r.per_arm)
    with pytest.raises(TrdsimError, match=r"trdsim compare uk_nhs --patients 200 --seed 3"):
        back.subgroups("severity")
