"""The weekly individual-level kernel.

One function, `advance`, moves every patient of one arm from week `w0` to week `w1`.
The full-horizon run calls it once (w0=0, w1=horizon); the care-system model can call
it one week at a time. Both give identical results because all state lives in the
arrays passed in and every random number is a pure function of
(seed, patient, week, purpose).

Order within a week (fixed):
  1. death (background by age and sex; x hazard ratio while depressed);
  2. acute phase: the step's planned event (response, dropout, or failure at the end
     of an adequate trial) happens when its week comes; a responder completes the
     course; a failed step moves the patient to the next step;
  3. follow-up: relapse hazard by weeks since the course ended (Weibull), times
     patient modifiers and the active maintenance hazard ratios;
Death and relapse use exponential budgets: an Exp(1) threshold drawn once (at entry,
at the end of each course) against the accumulated hazard, which has the same law as
weekly Bernoulli draws and needs no random number in ordinary weeks.
  4. on relapse: back to acute care at the step the pathway's rule names;
  5. costs and QALYs of the week, discounted, for the state after 2-4.
"""

import math

import numba
import numpy as np

from trdsim.engine import layout as L
from trdsim.engine.rng import (
    P_DEATH,
    P_DROP_WEEK,
    P_DROPOUT,
    P_ONSET,
    P_OUTCOME,
    P_RELAPSE,
    P_REMISSION,
    P_SUDDEN_GAIN,
    uniform,
)

CHUNK = 2048  # patients per parallel work item; results do not depend on it
_PER_WEEK = 1.0 / 52.0  # years per week (a multiply in the weekly loop, not a divide)


@numba.njit(inline="always", cache=True)
def _response_probability(tx, t, ef, fails, malt, infl, sev, flex):
    eta = (
        tx[t, L.TX_ALPHA]
        + ef[L.EF_B_FAIL] * (fails - tx[t, L.TX_REF_FAIL])
        + ef[L.EF_B_MALT] * malt
        + ef[L.EF_B_INFL] * infl * tx[t, L.TX_MONO]
        + ef[L.EF_B_SEV] * (sev - ef[L.EF_SEV_MEAN]) * tx[t, L.TX_PSYCH]
        + ef[L.EF_B_FLEX] * flex
    )
    return 1.0 / (1.0 + math.exp(-eta))


@numba.njit(inline="always", cache=True)
def _plan_step(seed, pid, week, tx, t, p):
    """Draw what will happen on a step that starts in `week`: (event, week of step)."""
    n_weeks = int(tx[t, L.TX_TRIAL_WEEKS])
    if uniform(seed, pid, week, P_OUTCOME) < p:
        first = int(tx[t, L.TX_ONSET_FIRST])
        span = int(tx[t, L.TX_ONSET_LAST]) - first + 1
        return L.EV_RESPOND, first + int(uniform(seed, pid, week, P_ONSET) * span)
    if uniform(seed, pid, week, P_DROPOUT) < tx[t, L.TX_DROPOUT]:
        return L.EV_DROPOUT, 1 + int(uniform(seed, pid, week, P_DROP_WEEK) * n_weeks)
    return L.EV_FAIL, n_weeks


@numba.njit(inline="always", cache=True)
def _trace_state(cl, ph):
    if cl == L.DEAD:
        return L.T_DEAD
    if cl == L.RESPONSE:
        return L.T_RESPONSE
    if cl == L.REMISSION:
        return L.T_REMISSION
    if ph == L.OFF:
        return L.T_UNTREATED
    if ph == L.WAITING:
        return L.T_WAITING
    return L.T_ON_TREATMENT


@numba.njit(parallel=True, cache=True)
def advance(
    w0,
    w1,
    seed,
    pid0,
    # patient attributes
    age,
    sex,
    sev,
    malt,
    infl,
    flex,
    entry_step,
    gate,
    # one arm's pathway
    steps,
    n_steps,
    maint_hr,
    maint_cost,
    on_relapse,
    on_exhausted,
    # parameters
    tx,
    ef,
    mort_h,
    cum_h,
    qaly_weight,
    disc_c,
    # state (modified)
    clin,
    phase,
    step,
    wk,
    ev,
    ev_wk,
    fails,
    gain,
    rmult,
    death_budget,
    relapse_budget,
    # per-patient outputs (accumulated)
    cost,
    qaly,
    weeks_alive,
    weeks_rem,
    first_rem,
    first_fu,
    first_relapse,
    relapses,
    max_step,
    death_week,
    # step starts a probing call found (GATE_PROBE): flag and the step wanted
    requested,
    req_step,
    # week x trace-state counts (accumulated)
    trace,
):
    n = age.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    n_tr = trace.shape[1]
    n_ages = mort_h.shape[1]
    k_max = cum_h.shape[1] - 1
    # weekly constants in locals: the compiler cannot tell that `ef` is not written
    # through the output arrays, so it would otherwise reload them every week
    mort_hr = ef[L.EF_MORT_HR]
    u_dep, u_resp, u_rem = ef[L.EF_U_DEP], ef[L.EF_U_RESP], ef[L.EF_U_REM]
    c_dep, c_resp, c_rem = ef[L.EF_PROD_DEP], ef[L.EF_PROD_RESP], ef[L.EF_PROD_REM]
    part = np.zeros((n_chunks, w1 - w0, n_tr), dtype=np.int64)
    for c in numba.prange(n_chunks):
        for i in range(c * CHUNK, min(n, (c + 1) * CHUNK)):
            g = gate[i]
            if g == L.GATE_SKIP:
                continue
            pid = pid0 + i
            # state in locals for the whole call, stored back at the end: keeps the
            # weekly loop in registers
            cl = clin[i]
            ph = phase[i]
            st = step[i]
            wki = wk[i]
            evi = ev[i]
            evw = ev_wk[i]
            nf = fails[i]
            gn = gain[i]
            rm = rmult[i]
            db = death_budget[i]
            rb = relapse_budget[i]
            co = cost[i]
            qa = qaly[i]
            wr = weeks_rem[i]
            fr = first_rem[i]
            w_end = w1  # first week not lived in this call
            age_i = age[i]
            sex_i = sex[i]
            # the trace is kept as changes: +1 for the state held at the start of the
            # call, then -1/+1 in the week the state changes; summed over weeks at the end
            ts = _trace_state(cl, ph)
            ts0 = ts
            part[c, 0, ts] += 1
            undo = False  # a probing call found a step start: leave the week undone
            if cl == L.DEAD:
                w_end = w0
            for w in range(w0 if cl != L.DEAD else w1, w1):
                ww = w - w0
                if ph == L.OFF:
                    # pathway exhausted: nothing but death can change, so the remaining
                    # weeks run in a tight loop (same arithmetic, same order as below)
                    for w2 in range(w, w1):
                        h = mort_h[
                            np.uint64(sex_i),
                            np.uint64(min(int(age_i + w2 * _PER_WEEK), n_ages - 1)),
                        ]
                        db -= h * mort_hr
                        if db <= 0.0:
                            cl = L.DEAD
                            death_week[i] = w2
                            part[c, w2 - w0, ts] -= 1
                            part[c, w2 - w0, L.T_DEAD] += 1
                            w_end = w2
                            break
                        co += c_dep * disc_c[np.uint64(w2)]
                        qa += u_dep * qaly_weight[np.uint64(w2)]
                    break
                cl_before = cl
                ph_before = ph
                # 1. death: the patient dies once the accumulated hazard exceeds an
                # Exp(1) budget drawn at entry -- the same law as a weekly Bernoulli
                # draw with p = 1 - exp(-h), without a random number every week
                h = mort_h[np.uint64(sex_i), np.uint64(min(int(age_i + w * _PER_WEEK), n_ages - 1))]
                if cl == L.DEPRESSED:
                    h *= mort_hr
                db -= h
                if db <= 0.0:
                    cl = L.DEAD
                    death_week[i] = w
                    part[c, ww, ts] -= 1
                    part[c, ww, L.T_DEAD] += 1
                    w_end = w
                    break
                restart = False  # the patient (re)starts a step this week
                advance_step = False
                # 2. acute phase and course completion
                if ph == L.ACUTE or ph == L.COURSE:
                    t = steps[st]
                    wki += 1
                    if ph == L.ACUTE and wki == evw:
                        if evi == L.EV_RESPOND:
                            if uniform(seed, pid, w, P_REMISSION) < tx[t, L.TX_REM_SHARE]:
                                cl = L.REMISSION
                            else:
                                cl = L.RESPONSE
                            gn = 0
                            if (
                                tx[t, L.TX_PSYCH] > 0.0
                                and uniform(seed, pid, w, P_SUDDEN_GAIN) < ef[L.EF_SG_PROB]
                            ):
                                gn = 1
                            ph = L.COURSE
                        else:
                            nf += 1
                            advance_step = True
                    if ph == L.COURSE and wki >= int(tx[t, L.TX_TRIAL_WEEKS]):
                        # course complete: relapse clock starts, maintenance begins
                        ph = L.FOLLOWUP
                        wki = 0
                        if first_fu[i] < 0:
                            first_fu[i] = w
                        lin = (
                            ef[L.EF_R_FAIL] * (nf - tx[t, L.TX_REF_FAIL])
                            + ef[L.EF_R_MALT] * malt[i]
                            + ef[L.EF_R_FLEX] * flex[i]
                            + ef[L.EF_R_SG] * gn
                        )
                        if cl == L.RESPONSE:
                            lin += ef[L.EF_R_RESID]
                        rm = tx[t, L.TX_RELAPSE_C] * math.exp(lin) / tx[t, L.TX_REF_HR]
                        rb = -math.log(1.0 - uniform(seed, pid, w, P_RELAPSE))
                # 3. relapse in follow-up
                elif ph == L.FOLLOWUP:
                    t = steps[st]
                    wki += 1
                    # maintenance active this week (tabulated by step and week since the
                    # course) and this week's Weibull hazard (tabulated cumulative)
                    k_wk = min(int(wki), k_max)
                    uk = np.uint64(k_wk)
                    ut = np.uint64(t)
                    m = rm * maint_hr[np.uint64(st), uk, np.uint64(1 if cl == L.RESPONSE else 0)]
                    rb -= m * (cum_h[ut, uk] - cum_h[ut, uk - np.uint64(1)])
                    if rb <= 0.0:
                        # 4. relapse: the pathway's rule says where care resumes
                        cl = L.DEPRESSED
                        relapses[i] += 1
                        if first_relapse[i] < 0:
                            first_relapse[i] = w
                        if on_relapse == L.RELAPSE_ADVANCE:
                            advance_step = True
                        else:
                            restart = True
                elif ph == L.WAITING:
                    restart = True  # still wants the step in `st`; the gate decides
                if advance_step:
                    st += 1
                    restart = True
                if restart:
                    if st >= n_steps:
                        if on_exhausted == L.EXHAUSTED_REPEAT_LAST:
                            st = n_steps - 1
                        elif on_exhausted == L.EXHAUSTED_RESTART:
                            st = entry_step[i]
                        else:
                            st = n_steps - 1
                            ph = L.OFF
                            restart = False
                    if restart and g == L.GATE_PROBE:
                        # undo the week: the caller decides whether the step can start
                        requested[i] = 1
                        req_step[i] = st
                        part[c, 0, ts0] -= 1
                        if ph_before == L.FOLLOWUP:
                            relapses[i] -= 1  # the relapse that led here is redone later
                            if first_relapse[i] == w:
                                first_relapse[i] = -1
                        undo = True
                        break
                    if restart and g == L.GATE_WAIT:
                        ph = L.WAITING
                        wki = 0
                        restart = False
                    if restart:
                        t = steps[st]
                        p = _response_probability(tx, t, ef, nf, malt[i], infl[i], sev[i], flex[i])
                        # the entry step's outcome is keyed to week -1, wherever it starts
                        key = w if max_step[i] > 0 else -1
                        evi, evw = _plan_step(seed, pid, key, tx, t, p)
                        ph = L.ACUTE
                        wki = 0
                        if st + 1 > max_step[i]:
                            max_step[i] = st + 1
                # 5. costs and QALYs of the week
                u = u_dep
                wc = c_dep
                if cl == L.RESPONSE:
                    u = u_resp
                    wc = c_resp
                elif cl == L.REMISSION:
                    u = u_rem
                    wc = c_rem
                    wr += 1
                    if fr < 0:
                        fr = w
                if ph == L.ACUTE or ph == L.COURSE:
                    ut = np.uint64(steps[np.uint64(st)])
                    wc += tx[ut, L.TX_COST_WEEK]
                    u -= tx[ut, L.TX_DISUTILITY]
                elif ph == L.FOLLOWUP:
                    wc += maint_cost[np.uint64(st), np.uint64(min(int(wki), k_max))]
                co += wc * disc_c[np.uint64(w)]
                qa += u * qaly_weight[np.uint64(w)]
                if cl != cl_before or ph != ph_before:
                    nts = _trace_state(cl, ph)
                    if nts != ts:
                        part[c, ww, ts] -= 1
                        part[c, ww, nts] += 1
                        ts = nts
            if undo:
                continue
            clin[i] = cl
            phase[i] = ph
            step[i] = st
            wk[i] = wki
            ev[i] = evi
            ev_wk[i] = evw
            fails[i] = nf
            gain[i] = gn
            rmult[i] = rm
            death_budget[i] = db
            relapse_budget[i] = rb
            cost[i] = co
            qaly[i] = qa
            weeks_alive[i] += w_end - w0
            weeks_rem[i] = wr
            first_rem[i] = fr
    running = np.zeros(n_tr, dtype=np.int64)
    for ww in range(w1 - w0):
        for c in range(n_chunks):
            for s in range(n_tr):
                running[s] += part[c, ww, s]
        for s in range(n_tr):
            trace[w0 + ww, s] += running[s]


@numba.njit(parallel=True, cache=True)
def start(
    seed,
    pid0,
    sev,
    malt,
    infl,
    flex,
    entry_step,
    steps,
    tx,
    ef,
    clin,
    phase,
    step,
    wk,
    ev,
    ev_wk,
    fails,
    max_step,
    death_budget,
):
    """Put every patient on their entry step, depressed, with the step's outcome drawn."""
    n = sev.shape[0]
    for i in numba.prange(n):
        pid = pid0 + i
        t = steps[entry_step[i]]
        p = _response_probability(tx, t, ef, fails[i], malt[i], infl[i], sev[i], flex[i])
        ev[i], ev_wk[i] = _plan_step(seed, pid, -1, tx, t, p)
        clin[i] = L.DEPRESSED
        phase[i] = L.ACUTE
        step[i] = entry_step[i]
        # -1: week 0 is the entry step's first week, as the start week is for later steps
        wk[i] = -1
        max_step[i] = entry_step[i] + 1
        death_budget[i] = -math.log(1.0 - uniform(seed, pid, -1, P_DEATH))
