"""The weekly individual-level kernel (clinical model v2).

One function, `advance`, moves every patient of one arm from week `w0` to week `w1`.
The full-horizon run calls it once (w0=0, w1=horizon); the care-system model can call
it one week at a time. Both give identical results because all state lives in the
arrays passed in and every random number is a pure function of
(seed, patient, week, purpose).

Response is one hazard process. Every depressed patient has a natural-history hazard
`hnh` (usual care; lower with more failed trials, a chronic episode, maltreatment),
whatever else happens. A running component of a pathway step adds an excess hazard,
spread evenly over its onset window, whose total over the course is
X = ln(OR + (1 - OR) exp(-hnh T)): with it, the probability of response by the course's
end T is the natural-history probability with the component's odds ratio applied.
Components given together add their excess hazards (independent action: the chances of
*not* responding multiply). A patient responds when the accumulated hazard passes an
Exp(1) budget drawn when the depressive episode began -- the same law as weekly
Bernoulli draws, with one random number per episode. An add-on with OR 1 therefore
changes nothing, bit for bit.

Order within a week (fixed):
  1. death (background by age and sex; x hazard ratio while depressed);
  2. depressed: the week's response hazard (natural history + running components'
     excess) against the response budget; on response the component with the largest
     excess this week is the responsible one (natural history if none adds any), its
     remission share decides remission; a step whose components have all ended
     without response has failed -> the next step;
     responders: a responder not in remission may deepen into remission;
     the course of the responsible component ends -> the relapse clock starts;
  3. follow-up: relapse hazard = baseline curve by weeks since the clock started x
     the responsible component's hazard ratio x patient modifiers x active
     maintenance hazard ratios;
  4. on relapse: back to acute care at the step the pathway's rule names (a response
     natural history produced returns to where the patient was);
  5. costs (running components, maintenance, usual care, state costs) and QALYs of the
     week, discounted, for the state after 2-4.
"""

import math

import numba
import numpy as np

from trdsim.engine import layout as L
from trdsim.engine.rng import (
    P_DEATH,
    P_DEATH_CAUSE,
    P_DEEPEN,
    P_DROP_WEEK,
    P_DROPOUT,
    P_RELAPSE,
    P_REMISSION,
    P_RESPONSE,
    P_SUDDEN_GAIN,
    uniform,
)

CHUNK = 2048  # patients per parallel work item; results do not depend on it
_PER_WEEK = 1.0 / 52.0  # years per week (a multiply in the weekly loop, not a divide)
K = L.MAX_COMPONENTS


@numba.njit(inline="always", cache=True)
def _exp_budget(seed, pid, week, purpose):
    return -math.log(1.0 - uniform(seed, pid, week, purpose))


@numba.njit(inline="always", cache=True)
def natural_hazard(nhz, nf, mods, nh_weeks):
    """Weekly natural-history response hazard for a patient with `nf` failed trials.

    The patient's response probability over `nh_weeks` is logistic(nhz[nf] + mods).
    """
    z = nhz[min(nf, nhz.shape[0] - 1)] + mods
    # -ln(1 - logistic(z)) = ln(1 + e^z), written to stay finite for large z
    return (z + math.log1p(math.exp(-z)) if z > 0.0 else math.log1p(math.exp(z))) / nh_weeks


@numba.njit(inline="always", cache=True)
def _plan_step(
    seed, pid, key, s, comp, step_xmult, tx, ef, ctxz, nf, mods, h, sev, infl, i, xk, ek
):
    """Excess hazard per onset week and end week of each component of step row `s` (the
    patient's variant block + the step) for patient i.

    Slot MAX_COMPONENTS holds the trial-context (nonspecific) response of a new course,
    given once per step over the context window: c = logistic(ctxz[nf] + mods). A
    component's comparator then responds by its week T with p_c = 1 - (1 - c)^f e^{-hT}
    (f: the share of the context window up to T); the component adds the cumulative
    hazard that takes p_c to logistic(logit(p_c) + ln OR).
    """
    c = 1.0 / (1.0 + math.exp(-(ctxz[min(nf, ctxz.shape[0] - 1)] + mods)))
    span_ctx = ef[L.EF_CTX_LAST] - ef[L.EF_CTX_FIRST] + 1.0
    log_nc = math.log1p(-c)  # ln(1 - c): the context's share of no response
    xk[i, K] = -log_nc / span_ctx
    ek[i, K] = int(ef[L.EF_CTX_LAST])
    for k in range(K):
        t = comp[s, k]
        if t < 0:
            xk[i, k] = 0.0
            ek[i, k] = 0
            continue
        weeks = tx[t, L.TX_TRIAL_WEEKS]
        m_sev = ef[L.EF_B_SEV] * (sev - ef[L.EF_SEV_MEAN]) * tx[t, L.TX_PSYCH]
        m_infl = ef[L.EF_B_INFL] * infl * tx[t, L.TX_MONO]
        # the comparator's chance of no response by week T: q = (1 - c)^f e^{-hT} (f the
        # share of the context window within the course); the odds ratio makes it
        # q / (q + OR (1 - q)), a cumulative hazard of ln(q + OR (1 - q)) - ln q, of which
        # the comparator's own is -ln q: the component adds X = ln(OR - (OR - 1) q)
        f = min(max(weeks - ef[L.EF_CTX_FIRST] + 1.0, 0.0) / span_ctx, 1.0)
        q = math.exp(f * log_nc - h * weeks)
        if m_sev == 0.0 and m_infl == 0.0:
            odds_ratio = tx[t, L.TX_OR]  # the same number, without an exp per plan
        else:
            odds_ratio = math.exp(tx[t, L.TX_LN_OR] + m_sev + m_infl)
        span = tx[t, L.TX_ONSET_LAST] - tx[t, L.TX_ONSET_FIRST] + 1.0
        xk[i, k] = math.log(odds_ratio - (odds_ratio - 1.0) * q) * step_xmult[s] / span
        if uniform(seed, pid, key, P_DROPOUT + k) < tx[t, L.TX_DROPOUT]:
            # stops in weeks 0 .. T - 1 of the course (0: before the first session)
            ek[i, k] = int(uniform(seed, pid, key, P_DROP_WEEK + k) * weeks)
        else:
            ek[i, k] = int(weeks)


@numba.njit(inline="always", cache=True)
def _background(mort_h, sex, age, w, w1):
    """Background weekly death hazard at week w, and the first later week at which the
    patient's age in whole years (as the weekly formula computes it) changes."""
    n_ages = mort_h.shape[1]
    a_idx = min(int(age + w * _PER_WEEK), n_ages - 1)
    hb = mort_h[np.uint64(sex), np.uint64(a_idx)]
    if a_idx == n_ages - 1:
        return hb, w1
    # an estimate of the boundary, corrected by the formula itself (exact, not approximate)
    nxt = max(int((a_idx + 1 - age) * 52.0), w + 1)
    while nxt > w + 1 and min(int(age + (nxt - 1) * _PER_WEEK), n_ages - 1) != a_idx:
        nxt -= 1
    while nxt < w1 and min(int(age + nxt * _PER_WEEK), n_ages - 1) == a_idx:
        nxt += 1
    return hb, nxt


@numba.njit(inline="always", cache=True)
def _slot(comp, tx, st, k, nc):
    """(onset first, onset last, weekly cost, disutility) of component slot k, or zeros."""
    if k >= nc:
        return 0.0, 0.0, 0.0, 0.0
    t = comp[st, k]
    return (
        tx[t, L.TX_ONSET_FIRST], tx[t, L.TX_ONSET_LAST], tx[t, L.TX_COST_WEEK],
        tx[t, L.TX_DISUTILITY],
    )  # fmt: skip


@numba.njit(inline="always", cache=True)
def _running(wk, nc, e0, e1, e2, c0, c1, c2, d0, d1, d2, wc, u):
    """Add the week's cost and disutility of the components still running at week wk."""
    if nc > 0 and wk <= e0:
        wc += c0
        u -= d0
    if nc > 1 and wk <= e1:
        wc += c1
        u -= d1
    if nc > 2 and wk <= e2:
        wc += c2
        u -= d2
    return wc, u


@numba.njit(inline="always", cache=True)
def _quiet_responder_week(resp, w, dpb, deep_h, wr, fr):
    """A responder's week without an event: the deepening budget is spent (response), or
    the week counts in remission."""
    if resp:
        dpb -= deep_h
    else:
        wr += 1
        if fr < 0:
            fr = w
    return dpb, wr, fr


@numba.njit(inline="always", cache=True)
def _after(nxt, nw, b):
    """The earlier of `nxt` and week b, if b comes after week nw."""
    return b if nw < b < nxt else nxt


@numba.njit(inline="always", cache=True)
def _course_week(
    nw, h, ctx_first, ctx_last, xc, nc, e0, e1, e2, x0, x1, x2, f0, f1, f2, l0, l1, l2,
    c0, c1, c2, d0, d1, d2, wbase, ubase,
):  # fmt: skip
    """Week nw of a course: the response hazard, the weekly cost and utility from the
    state's (wbase, ubase) -- the same sums, in the same order, as the general code -- and
    the first later week at which any of them, or the hazard's counting (from week 1),
    can change. The weeks in between repeat the same three numbers."""
    hz = h
    if ctx_first <= nw <= ctx_last:
        hz += xc
    if nc > 0 and nw <= e0 and f0 <= nw <= l0:
        hz += x0
    if nc > 1 and nw <= e1 and f1 <= nw <= l1:
        hz += x1
    if nc > 2 and nw <= e2 and f2 <= nw <= l2:
        hz += x2
    wc, u = _running(nw, nc, e0, e1, e2, c0, c1, c2, d0, d1, d2, wbase, ubase)
    nxt = _after(np.int64(1) << 40, nw, 1)
    nxt = _after(nxt, nw, math.ceil(ctx_first))
    nxt = _after(nxt, nw, math.floor(ctx_last) + 1)
    if nc > 0:
        nxt = _after(_after(nxt, nw, math.ceil(f0)), nw, math.floor(l0) + 1)
        nxt = _after(nxt, nw, e0 + 1)
    if nc > 1:
        nxt = _after(_after(nxt, nw, math.ceil(f1)), nw, math.floor(l1) + 1)
        nxt = _after(nxt, nw, e1 + 1)
    if nc > 2:
        nxt = _after(_after(nxt, nw, math.ceil(f2)), nw, math.floor(l2) + 1)
        nxt = _after(nxt, nw, e2 + 1)
    return hz, wc, u, nxt


@numba.njit(inline="always", cache=True)
def _step_locals(comp, tx, xk, ek, st, n_steps, vb, i):
    """The running step's per-component numbers, to keep in registers for the weekly loop:
    (components, end week, excess per onset week, onset first, onset last, weekly cost,
    disutility) for each of the three slots, and the context's excess per week."""
    nc = 0
    if st < n_steps:
        for k in range(K):
            if comp[vb + st, k] >= 0:
                nc += 1
    e = (ek[i, 0], ek[i, 1], ek[i, 2])
    x = (xk[i, 0], xk[i, 1], xk[i, 2])
    f0, l0, c0, d0 = _slot(comp, tx, vb + st, 0, nc)
    f1, l1, c1, d1 = _slot(comp, tx, vb + st, 1, nc)
    f2, l2, c2, d2 = _slot(comp, tx, vb + st, 2, nc)
    end = max(e[0] if nc > 0 else 0, e[1] if nc > 1 else 0, e[2] if nc > 2 else 0)
    return (nc, end, e[0], e[1], e[2], x[0], x[1], x[2], f0, f1, f2, l0, l1, l2, c0, c1, c2,
            d0, d1, d2, xk[i, K])  # fmt: skip


@numba.njit(inline="always", cache=True)
def _trace_state(cl, ph):
    if cl == L.DEAD:
        return L.T_DEAD
    if cl == L.RESPONSE:
        return L.T_RESPONSE
    if cl == L.REMISSION:
        return L.T_REMISSION
    if ph == L.USUAL:
        return L.T_USUAL
    if ph == L.UNTREATED:
        return L.T_UNTREATED
    if ph == L.WAITING:
        return L.T_WAITING
    return L.T_ON_TREATMENT


@numba.njit(inline="always", cache=True)
def baseline_mods(ef, malt, flex, chronic):
    """Patient modifiers of the natural-history (baseline) log-odds of response."""
    return ef[L.EF_B_MALT] * malt + ef[L.EF_B_FLEX] * flex + ef[L.EF_B_CHRONIC] * chronic


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
    chronic,
    entry_step,
    gate,
    variant,
    # one arm's pathway
    comp,
    n_steps,
    step_xmult,
    step_rhr,
    step_counts,
    maint_hr,
    maint_cost,
    on_relapse,
    on_exhausted,
    usual_cost,
    usual_disutility,
    # parameters
    tx,
    ef,
    nhz,
    ctxz,
    mort_h,
    cum_h,
    qaly_weight,
    disc_c,
    # state (modified)
    clin,
    phase,
    step,
    wk,
    cs,
    rc,
    fails,
    gain,
    hnh,
    xk,
    ek,
    rmult,
    death_budget,
    resp_budget,
    relapse_budget,
    deep_budget,
    # per-patient outputs (accumulated)
    cost,
    qaly,
    weeks_alive,
    weeks_rem,
    first_rem,
    first_resp,
    first_fu,
    first_relapse,
    relapses,
    max_step,
    death_week,
    death_cause,
    sudden_gains,
    # step starts a probing call found (GATE_PROBE): flag and the step wanted
    requested,
    req_step,
    # week x trace-state counts (accumulated)
    trace,
):
    n = age.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    n_tr = trace.shape[1]
    k_max = cum_h.shape[0] - 1
    # weekly constants in locals: the compiler cannot tell that `ef` is not written
    # through the output arrays, so it would otherwise reload them every week
    mort_hr = ef[L.EF_MORT_HR]
    sui_h = ef[L.EF_SUICIDE_H]
    u_dep, u_resp, u_rem = ef[L.EF_U_DEP], ef[L.EF_U_RESP], ef[L.EF_U_REM]
    c_dep, c_resp, c_rem = ef[L.EF_C_DEP], ef[L.EF_C_RESP], ef[L.EF_C_REM]
    nh_weeks, nh_rem, deep_h = ef[L.EF_NH_WEEKS], ef[L.EF_NH_REM], ef[L.EF_DEEP_H]
    r_resid = math.exp(ef[L.EF_R_RESID])
    ctx_first, ctx_last = ef[L.EF_CTX_FIRST], ef[L.EF_CTX_LAST]
    part = np.zeros((n_chunks, w1 - w0, n_tr), dtype=np.int64)
    # the baseline relapse hazard of each week of the clock (the same subtraction the
    # general code makes, done once)
    dcum_h = np.zeros(k_max + 1)
    for k in range(1, k_max + 1):
        dcum_h[k] = cum_h[k] - cum_h[k - 1]
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
            csi = cs[i]
            rci = rc[i]
            nf = fails[i]
            gn = gain[i]
            h = hnh[i]
            rm = rmult[i]
            db = death_budget[i]
            rsb = resp_budget[i]
            rb = relapse_budget[i]
            dpb = deep_budget[i]
            co = cost[i]
            qa = qaly[i]
            wr = weeks_rem[i]
            fr = first_rem[i]
            fresp = first_resp[i]
            nrel = relapses[i]
            frel = first_relapse[i]
            ffu = first_fu[i]
            mx_st = max_step[i]
            nsg = sudden_gains[i]
            w_end = w1  # first week not lived in this call
            age_i = age[i]
            sex_i = sex[i]
            next_age_w = w0  # first week at which the background hazard is looked up again
            hb = 0.0
            mods = baseline_mods(ef, malt[i], flex[i], chronic[i])
            # the patient's rows of the pathway tables (personalised pathways have one
            # block of steps per variant; others have one block)
            vb = variant[i] * n_steps
            mb = variant[i] * (n_steps + 1)
            (nc, cend, e0, e1, e2, x0, x1, x2, f0, f1, f2, l0, l1, l2, c0, c1, c2, d0, d1, d2,
             xc) = _step_locals(comp, tx, xk, ek, st, n_steps, vb, i)  # fmt: skip
            # the trace is kept as changes: +1 for the state held at the start of the
            # call, then -1/+1 in the week the state changes; summed over weeks at the end
            ts = _trace_state(cl, ph)
            if cl == L.DEAD and death_cause[i] == L.CAUSE_SUICIDE:
                ts = L.T_DEAD_SUICIDE
            ts0 = ts
            part[c, 0, ts] += 1
            undo = False  # a probing call found a step start: leave the week undone
            if cl == L.DEAD:
                w_end = w0
            w = w0 if cl != L.DEAD else w1
            while w < w1:
                # Tight loops for stretches of weeks in one state, each with its
                # loop-invariant choices made once: a depressed patient in usual care (or
                # none), a depressed patient on a course, a responder whose course still
                # runs, and a responder in follow-up. Each commits weeks in which nothing
                # can happen (no death, response, course end, deepening or relapse) with
                # the very same arithmetic, in the same order, as the general code below,
                # and stops at the first week in which something may happen.
                if cl == L.DEPRESSED:
                    if ph == L.USUAL or ph == L.UNTREATED:
                        wcw = c_dep + (usual_cost if ph == L.USUAL else 0.0)
                        uw = u_dep - (usual_disutility if ph == L.USUAL else 0.0)
                        while w < w1:
                            if w >= next_age_w:
                                hb, next_age_w = _background(mort_h, sex_i, age_i, w, w1)
                            hdd = hb * mort_hr + sui_h
                            if db - hdd <= 0.0 or (h > 0.0 and rsb - h <= 0.0):
                                break
                            db -= hdd
                            if h > 0.0:
                                rsb -= h
                            co += wcw * disc_c[np.uint64(w)]
                            qa += uw * qaly_weight[np.uint64(w)]
                            w += 1
                    elif ph == L.ACUTE:  # on a course: response, the course's end or death?
                        # segments of weeks with the same hazard, cost and utility
                        stop = False
                        last = max(cend, 1)  # the course's last week (not the start week)
                        while w < w1 and not stop:
                            hz, wc, u, seg = _course_week(
                                wki + 1, h, ctx_first, ctx_last, xc, nc, e0, e1, e2, x0, x1,
                                x2, f0, f1, f2, l0, l1, l2, c0, c1, c2, d0, d1, d2, c_dep, u_dep,
                            )  # fmt: skip
                            counts = hz > 0.0 and wki + 1 > 0
                            w_seg = min(w1, w + seg - (wki + 1))
                            while w < w_seg:
                                if w >= next_age_w:
                                    hb, next_age_w = _background(mort_h, sex_i, age_i, w, w1)
                                nw = wki + 1
                                hdd = hb * mort_hr + sui_h
                                left = rsb - hz if counts else rsb
                                if db - hdd <= 0.0 or left <= 0.0 or nw >= last:
                                    stop = True
                                    break
                                db -= hdd
                                wki = nw
                                rsb = left
                                co += wc * disc_c[np.uint64(w)]
                                qa += u * qaly_weight[np.uint64(w)]
                                w += 1
                elif ph == L.COURSE or ph == L.FOLLOWUP:
                    # a responder: death, deepening, the course's end or relapse?
                    resp = cl == L.RESPONSE
                    wcb = c_resp if resp else c_rem
                    ub = u_resp if resp else u_rem
                    # the step's components run on after a response the course produced
                    comps = st < n_steps and (ph == L.COURSE or rci != L.NATURAL)
                    if ph == L.COURSE:
                        while w < w1:
                            if w >= next_age_w:
                                hb, next_age_w = _background(mort_h, sex_i, age_i, w, w1)
                            nw = wki + 1
                            if db - hb <= 0.0 or nw >= csi or (resp and dpb - deep_h <= 0.0):
                                break
                            db -= hb
                            wki = nw
                            dpb, wr, fr = _quiet_responder_week(resp, w, dpb, deep_h, wr, fr)
                            wc = wcb
                            u = ub
                            if comps:
                                wc, u = _running(wki, nc, e0, e1, e2, c0, c1, c2, d0, d1, d2, wc, u)
                            co += wc * disc_c[np.uint64(w)]
                            qa += u * qaly_weight[np.uint64(w)]
                            w += 1
                    else:
                        row_f = np.uint64(
                            mb + (st if (rci != L.NATURAL and st < n_steps) else n_steps)
                        )
                        # this row's maintenance hazard ratios and costs by week of the clock
                        partial_f = np.uint64(1 if resp else 0)
                        while w < w1:
                            if w >= next_age_w:
                                hb, next_age_w = _background(mort_h, sex_i, age_i, w, w1)
                            nw = wki + 1
                            # weeks since the clock started: >= 1 (it started in an
                            # earlier week), the curve's last week from then on
                            uk = np.uint64(min(nw - csi, k_max))
                            rel = rm * maint_hr[row_f, uk, partial_f]
                            rel = rel * dcum_h[uk]
                            if db - hb <= 0.0 or rb - rel <= 0.0 or (resp and dpb - deep_h <= 0.0):
                                break
                            db -= hb
                            wki = nw
                            dpb, wr, fr = _quiet_responder_week(resp, w, dpb, deep_h, wr, fr)
                            wc = wcb
                            u = ub
                            if comps:
                                wc, u = _running(wki, nc, e0, e1, e2, c0, c1, c2, d0, d1, d2, wc, u)
                            rb -= rel
                            wc += maint_cost[row_f, uk]
                            co += wc * disc_c[np.uint64(w)]
                            qa += u * qaly_weight[np.uint64(w)]
                            w += 1
                if w >= w1:
                    break
                ww = w - w0
                if w >= next_age_w:
                    hb, next_age_w = _background(mort_h, sex_i, age_i, w, w1)
                cl_before = cl
                ph_before = ph
                # 1. death: the patient dies once the accumulated hazard exceeds an
                # Exp(1) budget drawn at entry -- the same law as a weekly Bernoulli
                # draw with p = 1 - exp(-h), without a random number every week
                # while depressed: other causes at the depressed hazard ratio, and
                # suicide as a cause of its own
                hd = hb  # this week's background hazard, looked up above
                if cl == L.DEPRESSED:
                    hd = hd * mort_hr + sui_h
                db -= hd
                if db <= 0.0:
                    # the cause: suicide with its share of the week's hazard
                    cause = L.CAUSE_OTHER
                    draw = uniform(seed, pid, w, P_DEATH_CAUSE) if sui_h > 0.0 else 1.0
                    if cl == L.DEPRESSED and draw * hd < sui_h:
                        cause = L.CAUSE_SUICIDE
                    cl = L.DEAD
                    death_week[i] = w
                    death_cause[i] = cause
                    part[c, ww, ts] -= 1
                    part[c, ww, L.T_DEAD_SUICIDE if cause == L.CAUSE_SUICIDE else L.T_DEAD] += 1
                    w_end = w
                    break
                restart = False  # the patient (re)starts a step this week
                advance_step = False
                start_fu = False
                # weeks since the step started (or the wait, or a natural response began)
                if ph == L.ACUTE or ph == L.COURSE or ph == L.FOLLOWUP or ph == L.WAITING:
                    wki += 1
                # 2. depressed: natural history plus the running components' excess
                if cl == L.DEPRESSED:
                    hz = h
                    best = L.NATURAL
                    bestx = 0.0
                    if ph == L.ACUTE:
                        if ctx_first <= wki <= ctx_last:
                            hz += xc
                        best = (
                            0  # a response on a course is the course's unless a component adds more
                        )
                        if nc > 0 and wki <= e0 and f0 <= wki <= l0:
                            hz += x0
                            if x0 > bestx:
                                best = 0
                                bestx = x0
                        if nc > 1 and wki <= e1 and f1 <= wki <= l1:
                            hz += x1
                            if x1 > bestx:
                                best = 1
                                bestx = x1
                        if nc > 2 and wki <= e2 and f2 <= wki <= l2:
                            hz += x2
                            if x2 > bestx:
                                best = 2
                                bestx = x2
                    # a course's first week is the week it starts in, processed under the
                    # step before (or, for the entry step, week 0): T weeks of hazard per
                    # course; a waiting patient's week counts only if the wait goes on
                    if ph == L.ACUTE:
                        lived = wki > 0
                    elif ph == L.WAITING:
                        lived = g == L.GATE_WAIT
                    else:
                        lived = True
                    if hz > 0.0 and lived:
                        rsb -= hz
                    if rsb <= 0.0:
                        if best == L.NATURAL:
                            share = nh_rem
                            psych = 0.0
                        else:
                            t = comp[vb + st, best]
                            share = tx[t, L.TX_REM_SHARE]
                            psych = tx[t, L.TX_PSYCH]
                        if fresp < 0:
                            fresp = w
                        if uniform(seed, pid, w, P_REMISSION) < share:
                            cl = L.REMISSION
                        else:
                            cl = L.RESPONSE
                            dpb = _exp_budget(seed, pid, w, P_DEEPEN)
                        gn = 0
                        if psych > 0.0 and uniform(seed, pid, w, P_SUDDEN_GAIN) < ef[L.EF_SG_PROB]:
                            gn = 1
                            nsg += 1
                        rci = best
                        if best == L.NATURAL or wki >= ek[i, best]:
                            start_fu = True
                        else:
                            ph = L.COURSE
                            csi = ek[i, best]
                        if ph == L.WAITING:
                            # a natural response ends the wait: no step was started
                            wki = 0
                    elif ph == L.ACUTE:
                        end = cend
                        # not in the start week: a course refused at once (end 0) fails a
                        # week later, wherever it started (entry, or after a wait)
                        if wki >= end and wki > 0:
                            if step_counts[vb + st] > 0:
                                nf += 1
                                h = natural_hazard(nhz, nf, mods, nh_weeks)
                            advance_step = True
                    elif ph == L.WAITING:
                        restart = True  # still wants the step in `st`; the gate decides
                else:
                    # responders: a partial response may deepen into remission
                    if cl == L.RESPONSE:
                        dpb -= deep_h
                        if dpb <= 0.0:
                            cl = L.REMISSION
                            if ph == L.FOLLOWUP:
                                rm /= r_resid
                    if ph == L.COURSE and wki >= csi:
                        start_fu = True
                if start_fu:
                    # the responsible component's course has ended: the relapse clock starts
                    ph = L.FOLLOWUP
                    csi = wki
                    if ffu < 0:
                        ffu = w
                    lin = (
                        ef[L.EF_R_FAIL] * (nf - ef[L.EF_R_NF0])
                        + ef[L.EF_R_MALT] * malt[i]
                        + ef[L.EF_R_FLEX] * flex[i]
                        + ef[L.EF_R_SG] * gn
                    )
                    rm = math.exp(lin)
                    if cl == L.RESPONSE:
                        rm *= r_resid
                    if rci != L.NATURAL:
                        rm *= tx[comp[vb + st, rci], L.TX_RELAPSE_HR] * step_rhr[vb + st]
                    rb = _exp_budget(seed, pid, w, P_RELAPSE)
                # 3. relapse in follow-up
                elif ph == L.FOLLOWUP:
                    fw = wki - csi  # >= 1: the clock started in an earlier week
                    k_wk = min(max(fw, 1), k_max)
                    uk = np.uint64(k_wk)
                    row = mb + (st if (rci != L.NATURAL and st < n_steps) else n_steps)
                    m = rm * maint_hr[np.uint64(row), uk, np.uint64(1 if cl == L.RESPONSE else 0)]
                    rb -= m * (cum_h[uk] - cum_h[uk - np.uint64(1)])
                    if rb <= 0.0:
                        # 4. relapse: the pathway's rule says where care resumes
                        cl = L.DEPRESSED
                        nrel += 1
                        if frel < 0:
                            frel = w
                        rsb = _exp_budget(seed, pid, w, P_RESPONSE)
                        if rci == L.NATURAL or st >= n_steps:
                            restart = True  # back to where the patient was
                        elif on_relapse == L.RELAPSE_ADVANCE:
                            advance_step = True
                        else:
                            restart = True
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
                            st = n_steps
                            ph = L.UNTREATED if on_exhausted == L.EXHAUSTED_NONE else L.USUAL
                            wki = 0
                            restart = False
                    if restart and g == L.GATE_PROBE:
                        # undo the week: the caller decides whether the step can start
                        requested[i] = 1
                        req_step[i] = st
                        part[c, 0, ts0] -= 1
                        undo = True
                        break
                    if restart and g == L.GATE_WAIT:
                        ph = L.WAITING
                        wki = 0
                        restart = False
                    if restart:
                        # the entry step's plan is keyed to week -1, wherever it starts
                        key = w if mx_st > 0 else -1
                        _plan_step(
                            seed,
                            pid,
                            key,
                            vb + st,
                            comp,
                            step_xmult,
                            tx,
                            ef,
                            ctxz,
                            nf,
                            mods,
                            h,
                            sev[i],
                            infl[i],
                            i,
                            xk,
                            ek,
                        )
                        (nc, cend, e0, e1, e2, x0, x1, x2, f0, f1, f2, l0, l1, l2, c0, c1, c2,
                         d0, d1, d2, xc) = _step_locals(comp, tx, xk, ek, st, n_steps, vb, i)  # fmt: skip
                        ph = L.ACUTE
                        wki = 0
                        if st + 1 > mx_st:
                            mx_st = st + 1
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
                # the step's components run on a course, and on after a response the course
                # produced (a natural response, while waiting or after the pathway, has none)
                on_course = ph == L.ACUTE or ph == L.COURSE
                if st < n_steps and (on_course or (ph == L.FOLLOWUP and rci != L.NATURAL)):
                    wc, u = _running(wki, nc, e0, e1, e2, c0, c1, c2, d0, d1, d2, wc, u)
                elif ph == L.USUAL or ph == L.WAITING:
                    wc += usual_cost
                    u -= usual_disutility
                if ph == L.FOLLOWUP:
                    row = mb + (st if (rci != L.NATURAL and st < n_steps) else n_steps)
                    wc += maint_cost[np.uint64(row), np.uint64(min(wki - csi, k_max))]
                co += wc * disc_c[np.uint64(w)]
                qa += u * qaly_weight[np.uint64(w)]
                if cl != cl_before or ph != ph_before:
                    nts = _trace_state(cl, ph)
                    if nts != ts:
                        part[c, ww, ts] -= 1
                        part[c, ww, nts] += 1
                        ts = nts
                w += 1
            if undo:
                continue
            clin[i] = cl
            phase[i] = ph
            step[i] = st
            wk[i] = wki
            cs[i] = csi
            rc[i] = rci
            fails[i] = nf
            gain[i] = gn
            hnh[i] = h
            rmult[i] = rm
            death_budget[i] = db
            resp_budget[i] = rsb
            relapse_budget[i] = rb
            deep_budget[i] = dpb
            cost[i] = co
            qaly[i] = qa
            weeks_alive[i] += w_end - w0
            weeks_rem[i] = wr
            first_rem[i] = fr
            first_resp[i] = fresp
            relapses[i] = nrel
            first_relapse[i] = frel
            first_fu[i] = ffu
            max_step[i] = mx_st
            sudden_gains[i] = nsg
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
    chronic,
    entry_step,
    variant,
    comp,
    n_steps,
    step_xmult,
    tx,
    ef,
    nhz,
    ctxz,
    clin,
    phase,
    step,
    wk,
    fails,
    hnh,
    xk,
    ek,
    max_step,
    death_budget,
    resp_budget,
):
    """Put every patient on their entry step, depressed, with the step's plan drawn."""
    n = sev.shape[0]
    for i in numba.prange(n):
        pid = pid0 + i
        s = entry_step[i]
        mods = baseline_mods(ef, malt[i], flex[i], chronic[i])
        h = natural_hazard(nhz, fails[i], mods, ef[L.EF_NH_WEEKS])
        hnh[i] = h
        clin[i] = L.DEPRESSED
        step[i] = s
        phase[i] = L.ACUTE
        _plan_step(
            seed, pid, -1, variant[i] * n_steps + s, comp, step_xmult, tx, ef, ctxz, fails[i], mods,
            h, sev[i], infl[i],
            i, xk, ek,
        )  # fmt: skip
        # -1: week 0 is the entry step's first week, as the start week is for later steps
        wk[i] = -1
        max_step[i] = s + 1
        death_budget[i] = _exp_budget(seed, pid, -1, P_DEATH)
        resp_budget[i] = _exp_budget(seed, pid, -1, P_RESPONSE)
