"""Property-based fuzzing of every field declared in trdsim.schema: a type swap, a value
outside the field's kind, or a misspelt key, written into a scenario file as a user would,
must end `trdsim compare` with exit 2 and one line naming the file and the key — no
traceback, nothing written."""

import contextlib
import io
import math
import tempfile
from pathlib import Path

from helpers import default_raw
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bad_input import _write

from trdsim import schema
from trdsim.cli import main

# where each declared field sits in a scenario file: (table path, field)
TREATMENT, MAINTENANCE, INTERACTION = "cbt_augmentation", "maintenance_cbt", "ketamine_cbt"
PLACES = (
    [((section,), f) for section, fields in schema.SECTIONS.items() for f in fields]
    + [(("treatments", TREATMENT), f) for f in schema.TREATMENT]
    + [(("maintenance", MAINTENANCE), f) for f in schema.MAINTENANCE]
    + [(("interactions", INTERACTION), f) for f in schema.INTERACTION]
    + [(("state_costs", "uk"), f) for f in schema.STATE_COSTS]
)

# values outside each kind (independent of the kinds' own checks)
OUTSIDE = {
    "prob": [-0.1, 1.5],
    "prob_open": [0.0, 1.0, -0.5],
    "weeks": [0, 2.5, -3],
    "count": [-1, 1.5],
    "positive": [0.0, -2.0],
    "ratio": [0.0, -1.0],
    "cost": [-1.0],
    "nonneg": [-0.5],
    "utility": [1.2],
    "decrement": [-0.1, 1.1],
    "real": [],
}
# not numbers at all, or not finite: wrong for every field
SWAPS = ["abc", [1, 2], True, {"note": "no value"}, math.nan, math.inf, -math.inf]


def _misspell(key: str, how: int, at: int) -> str:
    i = at % len(key)
    if how == 0:  # a letter dropped
        return key[:i] + key[i + 1 :]
    if how == 1:  # a letter doubled
        return key[:i] + key[i] + key[i:]
    j = min(i + 1, len(key) - 1)  # two letters swapped
    return key[:i] + key[j] + key[i] + key[j + 1 :] if j > i else key + "x"


def _run(raw: dict, table: tuple[str, ...], key: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "bad.toml"
        _write(bad, raw)
        out = Path(tmp) / "out"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["compare", str(bad), "--patients", "10", "--out", str(out)])
        text = err.getvalue().strip()
        assert code == 2, text
        assert not out.exists()
        assert "Traceback" not in text
        assert len(text.splitlines()) == 1, text
        assert str(bad) in text and ".".join((*table, key)) in text, text


def _place(raw: dict, table: tuple[str, ...]) -> dict:
    node = raw
    for part in table:
        node = node.setdefault(part, {})
    return node


fuzz = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fuzz
@given(place=st.sampled_from(PLACES), data=st.data())
def test_a_value_of_the_wrong_type_or_outside_its_kind_is_refused(place, data):
    table, f = place
    bad = data.draw(st.sampled_from(SWAPS + OUTSIDE[f.kind]), label="value")
    raw = default_raw()
    _place(raw, table)[f.key] = bad
    _run(raw, table, f.key)


@fuzz
@given(place=st.sampled_from(PLACES), how=st.integers(0, 2), at=st.integers(0, 60))
def test_a_misspelt_key_is_refused_with_a_suggestion(place, how, at):
    table, f = place
    wrong = _misspell(f.key, how, at)
    siblings = {g.key for t, g in PLACES if t == table}
    if wrong in siblings:  # the misspelling is another real field: not a misspelling
        return
    raw = default_raw()
    _place(raw, table)[wrong] = 1.0
    _run(raw, table, wrong)


def test_every_declared_kind_has_values_outside_it_or_is_unbounded():
    """The fuzzing above covers each kind: a new kind must say what lies outside it."""
    assert set(OUTSIDE) == set(schema.KINDS)
    for kind, values in OUTSIDE.items():
        assert not any(schema.KINDS[kind].check(v) for v in values), kind
