"""A PSA's draws compiled and sampled in one pass equal, bit for bit, one per draw.

`inputs.compile_draws` mirrors `inputs.compile_inputs` operation by operation over a
leading draw axis, and `cohort.sample_cohorts` draws every draw's patients in one call;
both must give exactly what the per-draw functions give (the PSA's numbers must not
depend on how its draws are grouped). Equality is of the bytes: not a last-bit
difference is allowed.
"""

import numpy as np
import pytest

import trdsim
from trdsim.analysis.psa import draw_seed
from trdsim.analysis.sampling import ParameterSpace
from trdsim.evidence import flatten
from trdsim.inputs.arrays import compile_draws, compile_inputs, stack_inputs
from trdsim.inputs.cohort import COHORT_ARRAYS, sample_cohort, sample_cohorts
from trdsim.simulation.run import arm_means, arm_means_values

STACKED = ("tx", "mx", "ef", "nhz", "ctxz", "cum_h")
PATHWAY = ("step_xmult", "step_rhr", "maint_hr", "maint_cost", "maint_last", "usual_cost",
           "usual_disutility")  # fmt: skip


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _assert_same_inputs(got, want, arms) -> None:
    for f in STACKED:
        assert _same(getattr(got, f), getattr(want, f)), f
    for a in arms:
        for f in PATHWAY:
            assert _same(getattr(got.pathways[a], f), getattr(want.pathways[a], f)), (a, f)
        assert _same(got.pathways[a].comp, want.pathways[a].comp)
        assert _same(got.pathways[a].step_counts, want.pathways[a].step_counts)
        assert _same(got.pathways[a].maint_opt, want.pathways[a].maint_opt)
    # the first draw's inputs, which the kernel's shared arrays come from
    for f in (
        "tx",
        "mx",
        "ef",
        "nhz",
        "ctxz",
        "cum_h",
        "mort_h",
        "disc_q",
        "qaly_weight",
        "disc_c",
    ):
        assert _same(getattr(got.first, f), getattr(want.first, f)), f
    assert got.treatments == want.treatments and got.maintenance == want.maintenance


def _per_draw(sc, values: dict[str, np.ndarray], n: int):
    space = ParameterSpace(sc)
    rows = [{k: float(x[d]) for k, x in values.items()} for d in range(n)]
    return stack_inputs([compile_inputs(space.apply(r)) for r in rows])


@pytest.mark.parametrize("name", ["uk_nhs", "us_payer"])
def test_compiled_draws_equal_one_compile_per_draw(name):
    sc = trdsim.load_scenario(name)
    values, _ = ParameterSpace(sc).sample(np.arange(7), 11)
    cols = {k: values[k].to_numpy() for k in values.columns}
    _assert_same_inputs(compile_draws(sc, cols), _per_draw(sc, cols, 7), sc.arms)


def test_every_parameter_compile_inputs_reads_is_read_per_draw(uk):
    """Every numeric parameter moved (not only the uncertain ones), by a different small
    factor in each draw: a parameter that compile_draws read from the scenario instead of
    the draw's values, or through another operation, would show. Some effects are 1
    (ln OR 0) in the scenario, so draw 0 (unmoved) and the others use different
    quadrature points: the draws are compiled in groups and merged."""
    rng = np.random.default_rng(4)
    n = 5
    values = {}
    for key, p in flatten(uk.params).items():
        factor = 1.0 + 0.02 * rng.uniform(-1.0, 1.0, n)
        factor[0] = 1.0
        values[key] = float(p["value"]) * factor
    _assert_same_inputs(compile_draws(uk, values), _per_draw(uk, values, n), uk.arms)


def test_draws_with_other_quadrature_points_are_compiled_apart_and_merged(uk):
    """A flexibility effect of exactly 1 in some draws (no flexibility nodes) and not in
    others, interleaved."""
    key = "effects.response_or_per_sd_flexibility"
    values, _ = ParameterSpace(uk).sample(np.arange(6), 2)
    cols = {k: values[k].to_numpy() for k in values.columns}
    cols[key] = np.array([1.0, 1.3, 1.0, 0.8, 1.1, 1.0])
    got = compile_draws(uk, cols)
    _assert_same_inputs(got, _per_draw(uk, cols, 6), uk.arms)
    # and the two groups do use different points: the intercepts differ from a compile
    # that ignored the flexibility effect
    assert not _same(got.nhz[1], compile_draws(uk, {k: x[:1] for k, x in cols.items()}).nhz[0])


def test_compile_draws_needs_one_value_per_draw(uk):
    with pytest.raises(ValueError, match="number of draws"):
        compile_draws(uk, {})
    with pytest.raises(ValueError, match="one value per draw"):
        compile_draws(uk, {"utilities.depressed": np.array([0.5, 0.6])}, 3)
    one = compile_draws(uk, {}, 2)  # no values: the scenario's, twice
    _assert_same_inputs(one, stack_inputs([compile_inputs(uk)] * 2), uk.arms)


def test_cohorts_of_draws_in_one_call_equal_one_call_per_draw(uk):
    space = ParameterSpace(uk)
    values, _ = space.sample(np.arange(4), 3)
    cols = {k: values[k].to_numpy() for k in values.columns}
    assert any(k.startswith("cohort.") for k in cols)  # the draws' cohorts differ
    seeds = [draw_seed(3, d) for d in range(4)]
    n = 301
    got = sample_cohorts(uk, n, np.array(seeds, dtype=np.uint64), cols)
    for d, row in enumerate(values.to_dict("index").values()):
        one = sample_cohort(space.apply(row), n, seeds[d])
        for f in COHORT_ARRAYS:
            assert _same(getattr(got, f)[d * n : (d + 1) * n], getattr(one, f)), (d, f)


def test_means_from_values_equal_one_run_per_draw(uk):
    space = ParameterSpace(uk)
    values, _ = space.sample(np.arange(3), 6)
    cols = {k: values[k].to_numpy() for k in values.columns}
    seeds = [draw_seed(6, d) for d in range(3)]
    got = arm_means_values(uk, cols, seeds, 60)
    for row, seed, m in zip(values.to_dict("index").values(), seeds, got, strict=True):
        one = arm_means(space.apply(row), 60, seed)
        for f in ("cost", "qaly", "cost_var", "qaly_var", "dcost_var", "dqaly_var", "dcov"):
            assert _same(getattr(m, f), getattr(one, f)), f
