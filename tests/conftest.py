"""Shared fixtures: small cohorts keep the suite fast (numba compiles once, cached)."""

import pytest

import trdsim


@pytest.fixture(scope="session")
def uk():
    return trdsim.load_scenario("uk_nhs")


@pytest.fixture(scope="session")
def uk_small(uk):
    """The default scenario on 3,000 patients per arm."""
    return trdsim.simulate(uk, patients=3000)


@pytest.fixture(scope="session")
def report_results(tmp_path_factory):
    """A small but complete results folder (compare, PSA, DSA, threshold, validation),
    made once with the real commands, for the report tests."""
    from trdsim.cli import main

    out = tmp_path_factory.mktemp("report") / "uk_nhs"
    steps = [
        ["compare", "--patients", "600", "--force", "--out", str(out)],
        ["psa", "--draws", "40", "--patients", "150", "--out", str(out / "psa"),
         "--group", "cbt=treatments.cbt_augmentation.response_effect,unit_costs.uk.cbt_session"],
        ["dsa", "--patients", "300", "--out", str(out / "dsa"),
         "--param", "unit_costs.uk.cbt_session", "--param", "utilities.depressed"],
        ["dsa", "--patients", "200", "--out", str(out / "dsa"), "--steps", "2",
         "--pair", "unit_costs.uk.cbt_session", "utilities.depressed"],
        ["threshold", "--param", "unit_costs.uk.cbt_session", "--threshold", "30000", "--high", "5000",
         "--arm", "integrated", "--versus", "sequential", "--patients", "300",
         "--out", str(out / "threshold" / "cbt_session")],
        ["validate", "--patients", "600", "--out", str(out / "validation")],
    ]  # fmt: skip
    for argv in steps:
        assert main(argv) == 0, f"trdsim {' '.join(argv)} failed"
    return out
