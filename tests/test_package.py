"""The package as a library: imports leave matplotlib alone, public names are declared and
documented, the version is reported, type information ships."""

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import trdsim
from trdsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def _modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(trdsim.__path__, "trdsim."))


# The child resolves matplotlib's backend and snapshots rcParams before trdsim is imported,
# then imports every module and compares; what it prints is read back as JSON.
CHILD = """
import importlib, json, pkgutil, sys
import matplotlib
backend = matplotlib.get_backend()
before = {k: repr(v) for k, v in matplotlib.rcParams.items()}
pyplot_before = "matplotlib.pyplot" in sys.modules  # resolving "auto" may load it
import trdsim
names = sorted(m.name for m in pkgutil.walk_packages(trdsim.__path__, "trdsim."))
for name in names:
    importlib.import_module(name)
after = {k: repr(v) for k, v in matplotlib.rcParams.items()}
print(json.dumps({
    "modules": names,
    "backend": [backend, matplotlib.get_backend()],
    "changed": sorted(k for k in before if before[k] != after.get(k)),
    "pyplot": [pyplot_before, "matplotlib.pyplot" in sys.modules],
}))
"""


@pytest.mark.parametrize("backend", [None, "svg"])
def test_importing_every_module_leaves_the_backend_and_rcparams_alone(backend):
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("MPLBACKEND", None)
    if backend:  # a notebook-like caller that chose its own backend
        env["MPLBACKEND"] = backend
    run = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert set(got["modules"]) >= {"trdsim.plots.compare", "trdsim.plots.analysis", "trdsim.care_plots",
                                   "trdsim.store.result", "trdsim.report", "trdsim.engine.kernel"}  # fmt: skip
    assert got["backend"][0] == got["backend"][1]
    assert got["changed"] == []
    # figures are built without pyplot's global state: trdsim never imports it
    assert got["pyplot"][0] == got["pyplot"][1]


def test_drawing_a_figure_leaves_rcparams_alone(tmp_path):
    import matplotlib
    import pandas as pd

    from trdsim.plots.analysis import evpi_figure

    before = {k: repr(v) for k, v in matplotlib.rcParams.items()}
    table = pd.DataFrame({"threshold": [0.0, 2e4], "evpi": [0.0, 10.0]})
    evpi_figure(table, "GBP", tmp_path / "evpi.png")
    assert {k: repr(v) for k, v in matplotlib.rcParams.items()} == before


def test_version_flag_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"trdsim {trdsim.__version__}"


def test_version_from_the_command_line():
    run = subprocess.run(
        [sys.executable, "-m", "trdsim.cli", "--version"],
        env={**os.environ, "PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"trdsim {trdsim.__version__}"
    assert trdsim.__version__.count(".") >= 2 or trdsim.__version__ == "0+unknown"


def _own_doc(obj) -> str:
    """The object's own docstring (not one a dataclass writes from its fields)."""
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    if inspect.isclass(obj) and doc and doc.startswith(f"{obj.__name__}("):
        return ""
    return (doc or "").strip()


def test_every_module_declares_all_and_every_public_name_has_a_docstring():
    missing_all, missing_names, undocumented = [], [], []
    for name in _modules():
        mod = importlib.import_module(name)
        if not (mod.__doc__ or "").strip():
            undocumented.append(name)
        if not hasattr(mod, "__all__"):
            missing_all.append(name)
            continue
        for attr in mod.__all__:
            if not hasattr(mod, attr):
                missing_names.append(f"{name}.{attr}")
                continue
            obj = getattr(mod, attr)
            py_func = getattr(obj, "py_func", None)  # numba dispatchers keep the Python one
            target = py_func if py_func is not None else obj
            if (inspect.isfunction(target) or inspect.isclass(target)) and not _own_doc(target):
                undocumented.append(f"{name}.{attr}")
    assert missing_all == []
    assert missing_names == []
    assert undocumented == []


def test_the_docstring_check_can_fail():
    from dataclasses import dataclass

    @dataclass
    class Bare:
        x: int

    def bare():
        pass

    assert _own_doc(Bare) == "" and _own_doc(bare) == ""


def test_type_information_ships_with_the_package():
    assert (SRC / "trdsim" / "py.typed").is_file()
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    # the wheel takes the whole package folder, so py.typed goes with it
    assert "src/trdsim" in build["targets"]["wheel"]["packages"]
    assert "exclude" not in build["targets"]["wheel"]
