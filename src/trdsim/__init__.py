"""trdsim: individual-level simulation of sequential vs integrated care for treatment-resistant depression."""

from importlib.metadata import PackageNotFoundError, version

from trdsim.scenario import Scenario, load_scenario
from trdsim.simulate import Result, simulate

try:
    __version__ = version("trdsim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["Result", "Scenario", "__version__", "load_scenario", "simulate"]
