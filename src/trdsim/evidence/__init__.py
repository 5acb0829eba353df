"""The default parameter library: values, sources, certainty and PSA distributions."""

import copy
import tomllib
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from trdsim import schema

__all__ = [
    "DISTRIBUTIONS",
    "PARAM_FIELDS",
    "UNVERIFIED",
    "USER_UNSTATED",
    "flatten",
    "is_param",
    "life_tables",
    "load_library",
    "parameter_table",
    "price_factor",
    "price_indices",
    "price_years",
    "weekly_mortality_hazard",
]

DISTRIBUTIONS = {
    "beta": ("a", "b"),
    "lognormal": ("mu", "sigma"),
    "gamma": ("mean", "se"),
    "normal": ("mean", "sd"),
    "uniform": ("low", "high"),
    "fixed": (),
}
PARAM_FIELDS = {"value", "dist", "source", "verified", "note", "ref", "price_year"} | {
    f for fields in DISTRIBUTIONS.values() for f in fields
}
# a value a scenario gives without saying how sure it is counts as unverified too
USER_UNSTATED = "scenario, not stated"
UNVERIFIED = ("from memory, unverified", "assumption", USER_UNSTATED)


@cache
def _library() -> dict:
    text = resources.files(__package__).joinpath("library.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def load_library() -> dict:
    """A fresh copy of the evidence library as nested dicts."""
    return copy.deepcopy(_library())


def is_param(node: object) -> bool:
    """True for a parameter entry (an inline table with a value)."""
    return isinstance(node, dict) and "value" in node


@cache
def life_tables() -> pd.DataFrame:
    """Annual probability of death by table, sex and age (see life_tables.md)."""
    with resources.files(__package__).joinpath("life_tables.csv").open("r") as f:
        return pd.read_csv(f)


@cache
def price_indices() -> pd.DataFrame:
    """Price index by setting and year (see price_indices.md)."""
    with resources.files(__package__).joinpath("price_indices.csv").open("r") as f:
        return pd.read_csv(f)


@cache
def price_years(setting: str) -> tuple[int, ...]:
    """The years the setting's price index holds (empty if it has none)."""
    t = price_indices()
    return tuple(int(y) for y in t[t.setting == setting].year)


@cache
def price_factor(setting: str, from_year: int, to_year: int) -> float:
    """Multiplier taking a price from `from_year` to `to_year` with the setting's index."""
    if from_year == to_year:
        return 1.0
    t = price_indices()
    index = t[t.setting == setting].set_index("year")["index"]
    return float(index[to_year] / index[from_year])


@cache
def weekly_mortality_hazard(table: str, max_age: int = 120) -> np.ndarray:
    """Weekly death hazard, shape (2, max_age + 1): row 0 male, row 1 female (read-only)."""
    lt = life_tables()
    out = np.empty((2, max_age + 1))
    for row, sex in enumerate(("male", "female")):
        sub = lt[(lt.table == table) & (lt.sex == sex)].sort_values("age")
        qx = np.interp(np.arange(max_age + 1), sub.age.to_numpy(), sub.qx.to_numpy())
        out[row] = -np.log1p(-qx) / 52.0
    out.flags.writeable = False  # cached and shared between runs
    return out


def flatten(tree: dict, prefix: str = "") -> dict[str, dict]:
    """Parameter entries of a nested tree, keyed by dotted path."""
    out = {}
    for key, node in tree.items():
        path = f"{prefix}{key}"
        if is_param(node):
            out[path] = node
        elif isinstance(node, dict):
            out.update(flatten(node, path + "."))
    return out


def parameter_table(tree: dict, currency: str = "", resources: dict | None = None) -> pd.DataFrame:
    """One row per parameter: key, its label and unit (trdsim.schema), value,
    distribution, source, certainty, note. resources: a scenario's declared resources
    ([resources.NAME] with a label), for their unit costs' labels."""
    rows = []
    for key, p in flatten(tree).items():
        dist = p.get("dist", "fixed")
        args = ", ".join(f"{a}={p[a]:g}" for a in DISTRIBUTIONS.get(dist, ()) if a in p)
        rows.append(
            {
                "key": key,
                "label": schema.label(key, tree, with_unit=False, resources=resources),
                "unit": schema.unit(key, currency),
                "value": p["value"],
                "distribution": f"{dist}({args})" if args else dist,
                "verified": p.get("verified", ""),
                "source": p.get("source", ""),
                "note": p.get("note", ""),
            }
        )
    return pd.DataFrame(rows)
