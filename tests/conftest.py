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
