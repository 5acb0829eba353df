"""Each command's warm-up compiles every kernel function its work then calls, so the
compile notice covers the whole first-run wait (nothing compiles silently afterwards)."""

import json
import subprocess
import sys

import pytest

# Run in a fresh interpreter: signatures that earlier tests compiled in this process
# would hide a function the warm-up misses.
_PROBE = r"""
import json, sys
import numba
from numba.core.registry import CPUDispatcher

import trdsim
from trdsim.scenario import load_scenario
from trdsim.simulation.warmup import BATCH, CARE, SIMULATE, warm_up

kind, scenario = sys.argv[1], sys.argv[2]

def signatures():
    import trdsim.inputs.cohort, trdsim.inputs.arrays, trdsim.engine.kernel, trdsim.care_system
    out = {}
    for mod in (trdsim.inputs.cohort, trdsim.inputs.arrays, trdsim.engine.kernel, trdsim.care_system):
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher):
                out[f"{mod.__name__}.{name}"] = len(obj.signatures)
    return out

sc = load_scenario(scenario)
if kind == CARE:
    from trdsim.care_system import warm_up_care
    warm_up_care(sc)
else:
    warm_up(sc, [kind])
before = signatures()
if kind == SIMULATE:
    trdsim.compare(sc, 300, 5)
elif kind == BATCH:
    trdsim.psa(sc, draws=3, patients=100, seed=5, evppi=False)
else:
    trdsim.care(sc.with_values({"care_system.years": 1}), seed=5)
after = signatures()
print(json.dumps({k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}))
"""


@pytest.mark.parametrize(
    ("kind", "scenario"),
    [("simulate", "uk_nhs"), ("batch", "uk_nhs"), ("care", "capacity_whatif")],
)
def test_warm_up_covers_what_the_command_runs(kind, scenario):
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, kind, scenario],
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    compiled_later = json.loads(out.stdout.strip().splitlines()[-1])
    assert compiled_later == {}, f"compiled after the {kind} warm-up: {compiled_later}"


def test_warm_up_refuses_an_unknown_kind():
    from trdsim.scenario import load_scenario
    from trdsim.simulation.warmup import warm_up

    with pytest.raises(ValueError, match="not"):
        warm_up(load_scenario("uk_nhs"), ["everything"])
