"""Speed of the care-system model: 10 years of weekly steps, 20,000 referrals a year.

Run: .venv/bin/python benchmarks/bench_care.py [--referrals 20000] [--years 10]
     .venv/bin/python benchmarks/bench_care.py --dashboard [--years Y]  # the dashboard

Target: <= 5 s on this 2-core machine. Reports the wall time of construction and of
the weekly steps, and the share of the stepping time spent inside the numba kernel
(the weekly calls, bringing up patients left out of them while nothing could happen
to them, and finding those patients) against mesa and numpy bookkeeping around it.

--dashboard: the dashboard's model (trdsim.dashboard.PlanComparison: two plans of
the scenario's 1,000 referrals a year over its 5 years, stepped together, with the
dashboard's weekly record); reports weeks per second (target >= 20), without drawing
the charts (the page redraws them every `Render Interval` steps).
"""

import argparse
import time

from trdsim.care_system import CareSystemModel
from trdsim.simulation import arm as state

# ArmRun methods that run the numba kernel for the care-system model
KERNEL_CALLS = ("advance", "advance_some", "quiet_weeks", "survives_week")


def dashboard(years: int | None) -> None:
    from trdsim.dashboard import PlanComparison

    settings = {"care_system.years": years} if years else {}
    m = PlanComparison(settings=settings, b_cbt=16)  # plan B: 4 more therapists
    t0 = time.perf_counter()
    while m.running:
        m.step()
    t = time.perf_counter() - t0
    a = m.plans["A"]
    print(f"dashboard model: 2 plans x {a.arrived:,} referrals, {m.week} weeks, with the "
          f"weekly record ({len(m.datacollector.model_reporters)} series)")  # fmt: skip
    print(f"  {t:.2f} s: {m.week / t:.0f} weeks per second (target >= 20)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--referrals", type=float, default=20000)
    ap.add_argument("--years", type=int, help="years (10; --dashboard: the scenario's)")
    ap.add_argument("--dashboard", action="store_true", help="time the dashboard's model")
    args = ap.parse_args()
    CareSystemModel("capacity_whatif", care_system__years=1).run_model()  # numba: load from cache
    if args.dashboard:
        dashboard(args.years)
        return
    settings = {"care_system__referrals_per_year": args.referrals, "care_system__years": args.years or 10,
                # the benchmark's capacity since it was written (kept, so timings compare;
                # the ketamine service came later: unlimited, as it was before)
                "care_system__services__cbt__units": 800, "care_system__services__rtms__units": 120,
                "care_system__services__ketamine__units": 10**6}  # fmt: skip
    in_kernel = 0.0
    originals = {name: getattr(state.ArmRun, name) for name in KERNEL_CALLS}

    def timed(f):
        def run(self, *a):
            nonlocal in_kernel
            t = time.perf_counter()
            out = f(self, *a)
            in_kernel += time.perf_counter() - t
            return out

        return run

    for name, f in originals.items():
        setattr(state.ArmRun, name, timed(f))
    t0 = time.perf_counter()
    m = CareSystemModel("capacity_whatif", **settings)
    t1 = time.perf_counter()
    m.run_model()
    t2 = time.perf_counter()
    for name, f in originals.items():
        setattr(state.ArmRun, name, f)
    s = m.summary()
    capacity = ", ".join(f"{sv.name} {sv.capacity:,}" for sv in m.services)
    print(f"{s['referrals']:,} referrals, {m.weeks} weeks; capacity {capacity}; "
          f"{s['waiting_at_end']:,} waiting at the end")  # fmt: skip
    print(f"  construction (referrals, cohort, inputs): {t1 - t0:5.2f} s")
    print(f"  weekly steps:                             {t2 - t1:5.2f} s "
          f"({(t2 - t1) / m.weeks * 1e3:.1f} ms per week)")  # fmt: skip
    print(f"  total:                                    {t2 - t0:5.2f} s   (target <= 5 s)")
    print(f"  inside the numba kernel: {in_kernel:.2f} s = {in_kernel / (t2 - t1):.0%} of the steps; "
          f"outside (mesa agents, queues, numpy bookkeeping, DataCollector): "
          f"{(t2 - t1 - in_kernel) / (t2 - t1):.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
