"""Properties of the incremental analysis on random sets of arms (hypothesis)."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from trdsim.economics import ON_FRONTIER, incremental_analysis

arms = st.lists(
    st.tuples(st.floats(0, 1e5, allow_nan=False), st.floats(0, 20, allow_nan=False)),
    min_size=1,
    max_size=7,
)


@settings(max_examples=300, deadline=None)
@given(arms)
def test_frontier_is_efficient_and_contains_the_optimum(values):
    df = pd.DataFrame(
        [(f"a{i}", c, q) for i, (c, q) in enumerate(values)], columns=["arm", "cost", "qaly"]
    )
    lams = [0.0, 1e3, 2e4, 1e5, 1e7]
    r = incremental_analysis(df)
    front = r[r.status.isin(ON_FRONTIER)].sort_values("cost")
    assert len(front) >= 1
    # along the frontier cost and QALYs rise strictly, and ICERs never fall
    assert (np.diff(front.cost) > 0).all() and (np.diff(front.qaly) > 0).all()
    icers = front.icer.dropna().to_numpy()
    assert (np.diff(icers) >= -1e-9 * np.maximum(1, np.abs(icers[1:]))).all()
    # no frontier arm is dominated by any arm
    for _, a in front.iterrows():
        better = (
            (df.cost <= a.cost) & (df.qaly >= a.qaly) & ((df.cost < a.cost) | (df.qaly > a.qaly))
        )
        assert not better.any()
    # at every threshold some frontier arm has the maximum net monetary benefit
    for lam in lams:
        nmb = lam * df.qaly - df.cost
        assert np.isclose((lam * front.qaly - front.cost).max(), nmb.max(), rtol=1e-9, atol=1e-6)
