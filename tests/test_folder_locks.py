"""Issue 33: output folders are locked in the folder itself (`.trdsim.lock`: host, pid,
time), so runs on other machines or with another TMPDIR are kept out too; a refused run
says who holds the folder."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from trdsim.errors import TrdsimError
from trdsim.runtime import locks


def test_the_lock_is_a_file_in_the_folder_naming_its_holder(tmp_path):
    out = tmp_path / "out"
    locks.lock_folder(out)
    try:
        held = json.loads((out / locks.LOCK_FILE).read_text())
        assert held["pid"] == os.getpid() and held["host"] == socket.gethostname()
    finally:
        locks.release_folder(out)
    assert not out.exists()  # made for the run, left empty: removed


def test_a_lock_of_another_host_is_honoured_until_it_is_old(tmp_path):
    out = tmp_path / "shared"
    out.mkdir()
    lock = out / locks.LOCK_FILE
    lock.write_text(json.dumps({"host": "elsewhere", "pid": 1, "time": time.time(),
                                "since": "now"}))  # fmt: skip
    with pytest.raises(TrdsimError, match="process 1 on elsewhere"):
        locks.lock_folder(out)
    assert lock.exists() and out.exists()
    old = time.time() - (locks.STALE_HOURS + 1) * 3600
    lock.write_text(json.dumps({"host": "elsewhere", "pid": 1, "time": old, "since": "then"}))
    locks.lock_folder(out)
    try:
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    finally:
        locks.release_folder(out)
    assert not lock.exists()


def test_a_lock_of_this_host_whose_process_has_ended_is_stale(tmp_path):
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    (out / locks.LOCK_FILE).write_text(json.dumps(
        {"host": socket.gethostname(), "pid": int(child.stdout), "time": time.time()}
    ))  # fmt: skip
    locks.lock_folder(out)
    locks.release_folder(out)
    assert not (out / locks.LOCK_FILE).exists()


def test_two_runs_with_different_tmpdirs_are_locked_out_of_one_folder(tmp_path, capsys):
    from trdsim.cli import main

    out = tmp_path / "psa"
    env = {**os.environ, "TMPDIR": str(tmp_path / "elsewhere")}
    (tmp_path / "elsewhere").mkdir()
    code = (
        "import time; from pathlib import Path; from trdsim.runtime.locks import lock_folder; "
        f"lock_folder(Path({str(out)!r})); print('held', flush=True); time.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env=env)  # fmt: skip
    try:
        assert child.stdout.readline().strip() == "held"
        rc = main(["threshold", "--param", "unit_costs.uk.cbt_session", "--threshold", "30000",
                   "--out", str(out), "--patients", "100"])  # fmt: skip
        err = capsys.readouterr().err.strip()
        assert rc == 2 and len(err.splitlines()) == 1, err
        assert f"process {child.pid} on {socket.gethostname()}" in err, err
    finally:
        child.kill()
        child.wait()


def test_a_write_from_python_takes_the_folders_lock_too(tmp_path):
    from trdsim.store.result import write_folder

    out = tmp_path / "res"
    out.mkdir()
    lock = out / locks.LOCK_FILE
    lock.write_text(json.dumps({"host": "elsewhere", "pid": 1, "time": time.time()}))
    with pytest.raises(TrdsimError, match="in use by another trdsim run"):
        write_folder(out, lambda stage: [], {"analysis": "x"})
    assert not (out / "manifest.json").exists()
    lock.unlink()
    write_folder(out, lambda stage: [], {"analysis": "x"})
    assert (out / "manifest.json").exists() and not lock.exists()  # released after


def _draws(path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 20
    pd.DataFrame(
        {
            "draw": np.repeat(np.arange(n), 2),
            "arm": np.tile(["a", "b"], n),
            "cost": rng.normal(1000, 100, 2 * n),
            "qaly": rng.normal(1, 0.1, 2 * n),
            "p": np.repeat(rng.uniform(size=n), 2),
        }
    ).to_parquet(path, index=False)
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["threshold", "--param", "unit_costs.uk.cbt_session", "--threshold", "30000"],
        ["validate"],
        ["calibrate", "uk_nhs", "--param", "treatments.ssri.remission_share"],
        ["dsa", "--param", "unit_costs.uk.cbt_session"],
        ["psa", "--draws", "2", "--patients", "10"],
        ["analyse", "DRAWS", "--threshold", "20000", "--no-evppi"],
        ["evsi", "DRAWS", "--param", "p", "--study", "beta", "--n", "10", "--threshold", "20000"],
        ["trial", "TRIAL"],
    ],
    ids=lambda a: a[0],
)
def test_every_writing_command_checks_the_folders_kind_before_any_work(tmp_path, capsys, argv):
    from pathlib import Path

    from trdsim.cli import main

    out = tmp_path / "compare"
    out.mkdir()
    held = {"analysis": "compare", "scenario": "uk_nhs", "patients": 1000, "seed": 1,
            "scenario_hash": "abc", "trdsim_version": "0.3"}  # fmt: skip
    (out / "manifest.json").write_text(json.dumps(held))
    trial = Path(__file__).resolve().parents[1] / "experiments/replications/cobalt.toml"
    swap = {"DRAWS": str(_draws(tmp_path / "draws.parquet")), "TRIAL": str(trial)}
    rc = main([swap.get(a, a) for a in argv] + ["--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1, err
    assert "holds results of another kind, a compare run" in err, err
    assert json.loads((out / "manifest.json").read_text()) == held  # untouched
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]  # lock released
