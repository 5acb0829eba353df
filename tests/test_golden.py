"""Frozen numbers: the default scenarios' key results must not move unnoticed.

tests/data/golden.json holds, at small sizes: each arm's cost and QALYs (full precision)
from `trdsim.compare` for uk_nhs and us_payer, a digest of a PSA's draw table and
digests of a care-system run's tables. A change that moves any of them fails here with
one line per number (section, scenario, arm, number: old -> new).

When the numbers move on purpose, regenerate the file with ONE command

    PYTHONPATH=src .venv/bin/python tools/golden.py --write

(`--write care` regenerates one section: compare, psa or care) and commit it on its own,
the commit message saying why the numbers moved.
"""

import importlib.util
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parent.parent / "tools" / "golden.py"


def _tool():
    spec = importlib.util.spec_from_file_location("trdsim_golden_tool", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = _tool()


@pytest.mark.parametrize("section", golden.SECTIONS)
def test_golden_numbers(section):
    moved = golden.check([section])
    if moved:
        pytest.fail(
            f"golden numbers moved ({section}):\n  " + "\n  ".join(moved) + "\nIf on purpose, "
            f"regenerate: PYTHONPATH=src .venv/bin/python tools/golden.py --write {section}",
            pytrace=False,
        )


def test_a_planted_change_is_caught():
    """A unit cost moved (GBP 125 to 126 a CBT session) shows as that scenario's arms' costs, old vs new."""

    def plant(sc):
        return sc.with_value("unit_costs.uk.cbt_session", 126.0) if sc.name == "uk_nhs" else sc

    moved = golden.check(["compare"], transform=plant)
    assert moved
    assert all(line.startswith("compare.scenarios.uk_nhs.arms.") for line in moved)
    assert any(".cost: " in line and " -> " in line for line in moved)
