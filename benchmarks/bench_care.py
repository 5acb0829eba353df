"""Speed of the care-system model: 10 years of weekly steps, 20,000 referrals a year.

Run: .venv/bin/python benchmarks/bench_care.py [--referrals 20000] [--years 10]

Target: <= 20 s on this 2-core machine. Reports the wall time of construction and of
the weekly steps, and the share of the stepping time spent inside the numba kernel
(the two one-week calls per week) against mesa and numpy bookkeeping around it.
"""

import argparse
import time

from trdsim.care_system import CareSystemModel
from trdsim.engine import state


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--referrals", type=float, default=20000)
    ap.add_argument("--years", type=int, default=10)
    args = ap.parse_args()
    settings = {"care_system__referrals_per_year": args.referrals, "care_system__years": args.years,
                # capacity large enough that queues stay bounded over ten years
                "care_system__services__cbt__units": 800, "care_system__services__rtms__units": 120}  # fmt: skip
    CareSystemModel("capacity_whatif", care_system__years=1).run_model()  # numba: load from cache
    in_kernel = 0.0
    advance = state.ArmRun.advance

    def timed_advance(self, w0, w1):
        nonlocal in_kernel
        t = time.perf_counter()
        advance(self, w0, w1)
        in_kernel += time.perf_counter() - t

    state.ArmRun.advance = timed_advance
    t0 = time.perf_counter()
    m = CareSystemModel("capacity_whatif", **settings)
    t1 = time.perf_counter()
    m.run_model()
    t2 = time.perf_counter()
    state.ArmRun.advance = advance
    s = m.summary()
    print(f"{s['referrals']:,} referrals, {m.weeks} weeks; capacity cbt {m.services.to_list()[0].capacity}, "
          f"rtms {m.services.to_list()[1].capacity}")  # fmt: skip
    print(f"  construction (referrals, cohort, inputs): {t1 - t0:5.2f} s")
    print(f"  weekly steps:                             {t2 - t1:5.2f} s "
          f"({(t2 - t1) / m.weeks * 1e3:.1f} ms per week)")  # fmt: skip
    print(f"  total:                                    {t2 - t0:5.2f} s   (target <= 20 s)")
    print(f"  inside the numba kernel: {in_kernel:.2f} s = {in_kernel / (t2 - t1):.0%} of the steps; "
          f"outside (mesa agents, queues, numpy bookkeeping, DataCollector): "
          f"{(t2 - t1 - in_kernel) / (t2 - t1):.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
