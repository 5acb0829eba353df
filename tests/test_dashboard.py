"""The dashboard's model and command without a browser: slider ranges from the scenario,
bad input refused with one message, and each plan recording what the care-system
model itself records. (tests/test_dashboard_browser.py drives the page.)"""

import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from trdsim.care_system import CareSystemModel
from trdsim.cli import main
from trdsim.dashboard import PlanComparison, slider_ranges
from trdsim.errors import TrdsimError

ROOT = Path(__file__).resolve().parents[1]
WHATIF = tomllib.loads((ROOT / "scenarios" / "capacity_whatif.toml").read_text())["care_system"]


def test_slider_ranges_run_from_none_to_four_times_the_scenario():
    r = slider_ranges("capacity_whatif")
    assert (r["referrals_per_year"].min, r["referrals_per_year"].max) == (
        1, 4 * WHATIF["referrals_per_year"]
    )  # fmt: skip
    for plan in ("a", "b"):
        for name, sv in WHATIF["services"].items():
            assert (r[f"{plan}_{name}"].value, r[f"{plan}_{name}"].min) == (sv["units"], 0)
            assert r[f"{plan}_{name}"].max == 4 * sv["units"]
    # a service declared in the scenario gets a slider in both plans, and nothing else does
    assert set(r) == {"referrals_per_year"} | {
        f"{p}_{n}" for p in ("a", "b") for n in WHATIF["services"]
    }
    # the planner's three services of integrated care: therapists, ketamine and rTMS chairs
    assert {"a_cbt", "a_ketamine", "a_rtms"} <= set(r)


@pytest.mark.parametrize(
    "given, says",
    [
        ({"a_cbt": 4 * WHATIF["services"]["cbt"]["units"] + 1}, "must be a whole number from 0 to"),
        ({"b_rtms": -1}, "must be a whole number from 0 to"),
        ({"a_cbt": 2.5}, "must be a whole number"),
        ({"referrals_per_year": 0}, "referrals a year"),
        ({"queue": "lifo"}, "queue rule 'lifo': must be one of fifo, severity"),
        ({"seed": "abc"}, "seed: must be a whole number"),
        ({"c_ect": 3}, "unknown setting 'c_ect'"),
    ],
)
def test_out_of_range_values_are_refused_with_a_message(given, says):
    with pytest.raises(TrdsimError, match=says.replace("(", r"\(")):
        PlanComparison(**given)
    shown = PlanComparison(show_errors=True, **given)  # what the page does with it
    assert says in shown.error and not shown.running
    shown.step()  # a refused model does nothing when stepped
    assert shown.week == 0


def test_each_plan_records_what_its_care_model_records():
    weeks = 60
    dash = PlanComparison(b_cbt=16, a_rtms=1, seed=7)
    for _ in range(weeks):
        dash.step()
    rec = dash.datacollector.get_model_vars_dataframe()
    for plan, units in (("A", {"cbt": 12, "rtms": 1}), ("B", {"cbt": 16, "rtms": 2})):
        own = CareSystemModel(
            rng=7, **{f"care_system__services__{k}__units": u for k, u in units.items()}
        )
        for _ in range(weeks):
            own.step()
        agents = own.datacollector.get_agent_vars_dataframe().reset_index()
        for name in units:
            mine = agents[agents.service == name]
            assert np.array_equal(rec[f"queue {name} {plan}"], mine.queue)
            assert np.array_equal(rec[f"wait {name} {plan}"], mine.mean_wait, equal_nan=True)
            assert np.array_equal(rec[f"utilisation {name} {plan}"], mine.utilisation)
        assert rec[f"cost {plan}"].iloc[-1] == own.costs()["cost_total"]
    # the same referrals in both plans; more therapists in B: a shorter CBT queue
    assert dash.plans["A"].arrived == dash.plans["B"].arrived > 0
    assert rec["queue cbt B"].iloc[-1] < rec["queue cbt A"].iloc[-1]


def _run(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


@pytest.mark.parametrize(
    "argv, says",
    [
        (
            ["--set", "care_system.queue=lifo"],
            "care_system.queue = 'lifo': must be fifo or severity",
        ),
        (["--set", "care_system.services.cbt.units=-2"], "must be a whole number from 0 to"),
        (["--set", "care_system.referrals_per_year"], "write KEY=VALUE"),
        (["uk_nhs"], "the dashboard needs a [care_system] section"),
    ],
)
def test_bad_command_line_input_is_one_line_and_exit_2(argv, says, capsys):
    code, err = _run(["dashboard", *argv, "--port", "1"], capsys)
    assert code == 2 and len(err) == 1 and says in err[0]


def test_a_port_in_use_is_refused_before_starting(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code, err = _run(["dashboard", "--port", str(port)], capsys)
    assert code == 2 and err == [
        f"trdsim: port {port} on 127.0.0.1 is in use: choose another with --port"
    ]


def test_without_solara_the_command_says_how_to_install_it():
    # a Python where solara cannot be imported (the package hidden, nothing replaced)
    code = (
        "import sys, importlib.abc\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'solara':\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from trdsim.cli import main\n"
        "sys.exit(main(['dashboard']))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "trdsim: the dashboard needs solara: pip install 'trdsim[dashboard]' (or 'mesa[viz]')"
    ]
