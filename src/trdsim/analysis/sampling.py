"""The uncertain parameters of a scenario: PSA draws, ranges for DSA, parameter sets.

Every parameter whose library (or scenario) entry has a distribution other than
`fixed` is uncertain. A draw is a pure function of (seed, draw number, parameter key):
the uniform behind it comes from the counter-based generator, so draw 17 has the same
values whether 20 or 20,000 draws are made, in whatever chunks and on whatever worker.

Parameters that must stay ordered are drawn from linked uniforms: the second point of
a relapse curve uses the same uniform as the first (one arm's curve moves together).
Since clinical model v2 a treatment's response is an effect against a baseline and its
remission a share of responders, so neither has to stay below the other.

Linked quantiles keep the order wherever the two distributions do not cross; where
they do (the far tails), the dependent value is clipped to its bound, and the number
of clipped values is reported. Utilities (depressed <= response <= remission) are
drawn independently and clipped the same way. The library has no group of parameters
that must sum to one.
"""

from __future__ import annotations

import dataclasses
import difflib
import zlib
from collections.abc import Mapping

import numba
import numpy as np
import pandas as pd
from scipy import stats

from trdsim.engine.rng import P_PSA, uniform
from trdsim.errors import TrdsimError
from trdsim.evidence import flatten
from trdsim.inputs.arrays import params_with_values, used_parameters
from trdsim.scenario import KINDS, SETTING_SECTIONS, Scenario

__all__ = ["Constraint", "ParameterSpace", "moments", "quantile"]

_HALF_ULP = 2.0**-54  # keeps u strictly inside (0, 1): quantiles stay finite


@numba.njit(cache=True)
def _uniforms(seed, draws, codes):
    out = np.empty((draws.shape[0], codes.shape[0]))
    for i in range(draws.shape[0]):
        for j in range(codes.shape[0]):
            out[i, j] = uniform(seed, draws[i], codes[j], P_PSA) + _HALF_ULP
    return out


def _code(key: str) -> int:
    """A stable stream number per parameter key (adding a parameter moves no other).

    Setting-specific keys (unit_costs.SETTING.NAME) keep the stream of their earlier
    spelling (unit_costs.NAME), so the respelling changed no PSA draw.
    """
    parts = key.split(".")
    if parts[0] in SETTING_SECTIONS and len(parts) == 3:
        key = f"{parts[0]}.{parts[2]}"
    return zlib.crc32(key.encode()) & 0x3FFFFFFF


def quantile(entry: Mapping, u: np.ndarray | float) -> np.ndarray:
    """The entry's distribution evaluated at probability u (inverse CDF)."""
    u = np.asarray(u, dtype=np.float64)
    dist = entry.get("dist", "fixed")
    if dist == "fixed":
        return np.full_like(u, float(entry["value"]))
    if dist == "beta":
        return stats.beta.ppf(u, entry["a"], entry["b"])
    if dist == "lognormal":
        return np.exp(entry["mu"] + entry["sigma"] * stats.norm.ppf(u))
    if dist == "gamma":
        shape = (entry["mean"] / entry["se"]) ** 2
        return stats.gamma.ppf(u, shape, scale=entry["se"] ** 2 / entry["mean"])
    if dist == "normal":
        return entry["mean"] + entry["sd"] * stats.norm.ppf(u)
    if dist == "uniform":
        return entry["low"] + (entry["high"] - entry["low"]) * u
    raise ValueError(f"unknown distribution {dist!r}")


def moments(entry: Mapping) -> tuple[float, float]:
    """Mean and variance of the entry's distribution (closed forms, for tests and reports)."""
    dist = entry.get("dist", "fixed")
    if dist == "beta":
        a, b = entry["a"], entry["b"]
        return a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
    if dist == "lognormal":
        mu, s2 = entry["mu"], entry["sigma"] ** 2
        return float(np.exp(mu + s2 / 2)), float((np.exp(s2) - 1) * np.exp(2 * mu + s2))
    if dist == "gamma":
        return entry["mean"], entry["se"] ** 2
    if dist == "normal":
        return entry["mean"], entry["sd"] ** 2
    if dist == "uniform":
        return (entry["low"] + entry["high"]) / 2, (entry["high"] - entry["low"]) ** 2 / 12
    return float(entry["value"]), 0.0


@dataclasses.dataclass(frozen=True)
class Constraint:
    """dependent <= bound (or dependent <= 1 - bound when complement)."""

    dependent: str
    bound: str
    complement: bool = False
    strict: bool = False

    def describe(self) -> str:
        rhs = f"1 - {self.bound}" if self.complement else self.bound
        return f"{self.dependent} {'<' if self.strict else '<='} {rhs}"


class ParameterSpace:
    """The uncertain parameters of one scenario and the rules that keep draws valid."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self.entries = flatten(scenario.params)
        # uncertain and able to change some arm's results (see inputs.used_parameters)
        used = used_parameters(scenario)
        self.keys = sorted(
            k for k, p in self.entries.items() if p.get("dist", "fixed") != "fixed" and used(k)
        )
        links: dict[str, tuple[str, bool]] = {}  # dependent -> (driver, antithetic)
        constraints: list[Constraint] = []
        for name in scenario.params["treatments"]:
            t = f"treatments.{name}"
            if f"{t}.relapse_p2" in self.entries:
                links[f"{t}.relapse_p2"] = (f"{t}.relapse_p1", False)
                constraints.append(Constraint(f"{t}.relapse_p1", f"{t}.relapse_p2", strict=True))
        # top down, so clipping the second cannot undo the first
        constraints.append(Constraint("utilities.response", "utilities.remission"))
        constraints.append(Constraint("utilities.depressed", "utilities.response"))
        self.links = links
        self.constraints = constraints

    # ----- keys -----------------------------------------------------------
    def resolve(self, key: str) -> str:
        """The parameter key as trdsim spells it; accepts unit_costs.NAME (and
        state_costs.NAME) for unit_costs.SETTING.NAME of this scenario's setting."""
        parts = key.split(".")
        if parts[0] in SETTING_SECTIONS and len(parts) == 2:
            key = f"{parts[0]}.{self.scenario.setting}.{parts[1]}"
        if key not in self.entries:
            close = difflib.get_close_matches(key, list(self.entries), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise TrdsimError(f"{key}: unknown parameter{hint}; `trdsim params` lists every key")
        return key

    def base_values(self) -> dict[str, float]:
        """Every parameter at its point estimate."""
        return {k: float(p["value"]) for k, p in self.entries.items()}

    # ----- draws ----------------------------------------------------------
    def sample(self, draws: np.ndarray, seed: int) -> tuple[pd.DataFrame, dict[str, int]]:
        """Values of the uncertain parameters for the given draw numbers.

        Returns (table indexed by draw, one column per uncertain key; clipped counts per
        constraint). Raises TrdsimError naming the key when a distribution puts draws
        outside what the parameter allows (e.g. a normal for a probability).
        """
        draws = np.asarray(draws, dtype=np.int64)
        drivers = sorted({self.links[k][0] if k in self.links else k for k in self.keys})
        u = _uniforms(np.uint64(seed), draws, np.array([_code(k) for k in drivers], dtype=np.int64))
        col = {k: j for j, k in enumerate(drivers)}
        out = {}
        for k in self.keys:
            if k in self.links:
                driver, anti = self.links[k]
                uk = u[:, col[driver]]
                out[k] = quantile(self.entries[k], 1.0 - uk if anti else uk)
            else:
                out[k] = quantile(self.entries[k], u[:, col[k]])
        table = pd.DataFrame(out, index=pd.Index(draws, name="draw"))
        self.check(table)  # before clipping, so a bad distribution is named, not its partner
        clipped = self.enforce(table)
        return table, clipped

    def enforce(self, table: pd.DataFrame) -> dict[str, int]:
        """Clip dependents to their bounds in place; count the clipped values."""
        counts = {}
        for c in self.constraints:
            if c.dependent not in table and c.bound not in table:
                continue
            dep = self._column(table, c.dependent)
            bound = self._column(table, c.bound)
            limit = 1.0 - bound if c.complement else bound
            if c.strict:
                limit = np.nextafter(limit, -np.inf)
            bad = dep > limit
            counts[c.describe()] = int(bad.sum())
            if bad.any():
                if c.dependent not in table:
                    # a fixed dependent cannot move: clip the bound instead
                    table.loc[bad, c.bound] = (
                        1.0 - dep[bad] if c.complement else np.nextafter(dep[bad], np.inf)
                    )
                else:
                    table.loc[bad, c.dependent] = limit[bad]
        return counts

    def _column(self, table: pd.DataFrame, key: str) -> np.ndarray:
        if key in table:
            return table[key].to_numpy(dtype=np.float64)
        return np.full(len(table), float(self.entries[key]["value"]))

    def check(self, table: pd.DataFrame) -> None:
        """Every drawn value within what its parameter allows."""
        for k in table.columns:
            kind = self.entries[k]["kind"]
            desc, ok = KINDS[kind]
            values = table[k].to_numpy()
            bad = ~np.isfinite(values)
            if not bad.any():
                lo, hi = float(values.min()), float(values.max())
                bad_value = lo if not ok(lo) else hi if not ok(hi) else None
            else:
                bad_value = float(values[bad][0])
            if bad_value is not None:
                e = self.entries[k]
                raise TrdsimError(
                    f"{k}: its {e['dist']} distribution gives {bad_value:g}, which is not {desc}; "
                    "choose a distribution with that support (beta for probabilities, "
                    "lognormal or gamma for positive values)"
                )

    # ----- ranges and parameter sets -------------------------------------
    def followers(self, key: str) -> dict[str, bool]:
        """Uncertain parameters drawn from this one's uniform: {key: antithetic}."""
        return {
            k: anti for k, (driver, anti) in self.links.items() if driver == key and k in self.keys
        }

    def drivers(self) -> list[str]:
        """Uncertain parameters that move on their own (followers move with them)."""
        return [k for k in self.keys if k not in self.links or self.links[k][0] not in self.keys]

    def at_quantile(self, key: str, q: float) -> dict[str, float]:
        """The parameter at probability q of its distribution, with its followers at q
        (or 1 - q), as the PSA would draw them together."""
        key = self.resolve(key)
        out = {key: float(quantile(self.entries[key], q))}
        for k, anti in self.followers(key).items():
            out[k] = float(quantile(self.entries[k], 1.0 - q if anti else q))
        return out

    def interval(self, key: str, level: float = 0.95) -> tuple[float, float]:
        """Central interval of the parameter's distribution (the DSA range)."""
        e = self.entries[self.resolve(key)]
        if e.get("dist", "fixed") == "fixed":
            raise TrdsimError(f"{key}: fixed in this scenario, so it has no range to vary")
        lo, hi = quantile(e, np.array([(1 - level) / 2, (1 + level) / 2]))
        return float(lo), float(hi)

    def scenario_at(self, values: Mapping[str, float]) -> tuple[Scenario, dict[str, int]]:
        """The scenario with the given parameters set (others at their point values).

        Ordered parameters are kept valid as in `enforce` (returns the clipped counts)
        and every value is checked against what its parameter allows.
        """
        table = pd.DataFrame({self.resolve(k): [float(v)] for k, v in values.items()})
        self.check(table)
        clipped = self.enforce(table)
        return self.apply(table.iloc[0].to_dict()), clipped

    def apply(self, values: Mapping[str, float]) -> Scenario:
        """The scenario with these values, taken as they are (from `sample`, already valid).

        The parameter tree is copied only along the changed paths.
        """
        params = params_with_values(self.scenario.params, values, float)
        return dataclasses.replace(self.scenario, params=params)
