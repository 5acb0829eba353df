"""Issue 33: nothing lost, nothing silently wrong. A result folder is written whole or not
at all; a folder mixing two runs, or with a cut file, is refused in one line naming the
file; output folders are locked in the folder itself."""

import contextlib
import json

import numpy as np
import pandas as pd
import pytest

import trdsim.store.result as store_result
from trdsim.analysis.results import PsaResult, analyse
from trdsim.errors import TrdsimError
from trdsim.report.folder import load_results
from trdsim.runtime.distributed import claim_folder
from trdsim.scenario import load_scenario
from trdsim.store.manifest import make_manifest


@pytest.fixture(scope="module")
def two_results():
    """Two PSA results of the default scenario's arms (synthetic draws: no simulation)."""
    sc = load_scenario("uk_nhs")

    def psa(seed: int) -> PsaResult:
        rng = np.random.default_rng(seed)
        n, arms = 30, sc.arms
        draws = pd.DataFrame(
            {
                "draw": np.repeat(np.arange(n), len(arms)),
                "arm": np.tile(arms, n),
                "cost": rng.normal(1000, 100, n * len(arms)),
                "qaly": rng.normal(1, 0.1, n * len(arms)),
            }
        )
        params = pd.DataFrame({"key": ["x"], "value": [float(seed)]})
        m = make_manifest(sc, "psa", seed=seed, psa_draws=n)
        return analyse(draws, [20000.0], sc.currency, manifest=m, parameters=params)

    return psa(1), psa(2)


def _state(folder, old, new) -> str:
    """'old', 'new' or 'refused' (one line naming a file of the folder); never a mix."""
    try:
        got = PsaResult.read(folder)
    except TrdsimError as e:
        msg = str(e)
        assert "\n" not in msg and str(folder) in msg, msg
        # the report refuses it too, in one line
        with pytest.raises(TrdsimError) as r:
            load_results(folder)
        assert "\n" not in str(r.value)
        return "refused"
    shown = load_results(folder).psa.result
    if got == old:
        assert shown == old
        return "old"
    assert got == new, "a folder mixing two runs was read as a result"
    assert shown == new
    return "new"


@pytest.mark.parametrize("figures", [False, True])
def test_a_write_stopped_at_any_point_leaves_the_old_result_or_the_new_or_a_refusal(
    tmp_path, monkeypatch, two_results, figures
):
    old, new = two_results
    if figures:  # figure files as the result's own (drawing them takes seconds each)

        def drawn(self, folder):
            paths = [folder / "ceac.png", folder / "evpi.png"]
            for p in paths:
                p.write_text(f"{p.name} of seed {self.manifest['seed']}")
            return paths

        monkeypatch.setattr(PsaResult, "_figures", drawn)
    n_files = len(new.write(tmp_path / "count", figures=figures))
    n_tables = sum(getattr(new, name) is not None for name in new.TABLES)
    seen = set()
    for stop in ("write", "rename"):
        for k in range(n_files + 1):
            folder = tmp_path / f"{stop}{k}"
            old.write(folder, figures=figures)
            (folder / "psa").mkdir()  # another analysis's sub-folder: kept
            (folder / "psa" / "keep.txt").write_text("x")
            calls = {"n": 0}
            real = store_result.write_table if stop == "write" else store_result._rename

            def stopping(*a, _real=real, _calls=calls, _k=k):
                if _calls["n"] == _k:
                    raise OSError(28, "No space left on device (simulated)")
                _calls["n"] += 1
                return _real(*a)

            name = "write_table" if stop == "write" else "_rename"
            with monkeypatch.context() as mp:
                mp.setattr(store_result, name, stopping)
                with contextlib.suppress(OSError):
                    new.write(folder, figures=figures)
            state = _state(folder, old, new)
            seen.add((stop, state))
            if stop == "write":  # nothing is moved before everything is written
                assert state == ("old" if k < n_tables else "new"), (k, state)
            assert (folder / "psa" / "keep.txt").read_text() == "x"
            # the next write cleans what the stopped one left and succeeds
            new.write(folder, figures=figures)
            assert PsaResult.read(folder) == new
            assert not list(folder.glob(".trdsim-new-*"))
    assert ("write", "old") in seen and ("rename", "refused") in seen


def test_a_folder_mixing_two_runs_or_with_a_cut_file_is_refused_naming_it(tmp_path, two_results):
    old, new = two_results
    a, b = tmp_path / "a", tmp_path / "b"
    old.write(a, figures=False)
    new.write(b, figures=False)
    # new summary beside the old tables and manifest
    (a / "psa_summary.csv").write_bytes((b / "psa_summary.csv").read_bytes())
    for reader in (PsaResult.read, load_results):
        with pytest.raises(TrdsimError, match=r"psa_summary\.csv: differs from") as e:
            reader(a)
        assert "\n" not in str(e.value)
    # a cut file
    new.write(a, figures=False)
    data = (a / "draws.parquet").read_bytes()
    (a / "draws.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(TrdsimError, match=r"draws\.parquet: differs from"):
        PsaResult.read(a)
    # an optional table the manifest lists, gone
    new.write(a, figures=False)
    manifest = json.loads((a / "manifest.json").read_text())
    assert set(manifest["files"]) >= {"draws.parquet", "psa_summary.csv", "psa_summary.json"}
    (a / "parameters.csv").unlink()
    with pytest.raises(TrdsimError, match=r"parameters\.csv: missing, though manifest"):
        PsaResult.read(a)


def test_a_write_over_a_folder_without_digests_stopped_halfway_is_refused(
    tmp_path, monkeypatch, two_results
):
    old, new = two_results
    folder = tmp_path / "earlier"
    old.write(folder, figures=False)
    m = json.loads((folder / "manifest.json").read_text())
    m.pop("files")  # as an earlier trdsim wrote it
    (folder / "manifest.json").write_text(json.dumps(m))
    calls = {"n": 0}
    real = store_result._rename

    def stopping(*a):
        if calls["n"] == 2:
            raise OSError(28, "No space left on device (simulated)")
        calls["n"] += 1
        return real(*a)

    monkeypatch.setattr(store_result, "_rename", stopping)
    with pytest.raises(OSError, match="simulated"):
        new.write(folder, figures=False)
    with pytest.raises(TrdsimError, match="has no manifest.json"):
        PsaResult.read(folder)


def test_a_resume_marker_is_written_whole_and_partial_files_are_cleaned(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / ".trdsim.lock").write_text("{}")  # the folder's own lock does not make it foreign
    claim_folder(out, "psa_run.json", {"draws": 10}, "PSA run")
    (out / "chunks").mkdir()
    (out / "chunks" / "draws_0_9.parquet.partial").write_bytes(b"half")  # a stopped run's
    claim_folder(out, "psa_run.json", {"draws": 10}, "PSA run")  # the resume
    assert json.loads((out / "psa_run.json").read_text()) == {"draws": 10}
    assert not list(out.rglob("*.partial"))
    (out / "psa_run.json").write_text('{"draws": 1')  # cut by an older trdsim
    with pytest.raises(TrdsimError, match="psa_run.json: cannot be read"):
        claim_folder(out, "psa_run.json", {"draws": 10}, "PSA run")
