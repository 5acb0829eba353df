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

Exact arithmetic, so that quiet weeks are skipped in bulk. Nothing happens in most
weeks, and a call may commit a stretch of k such weeks at once -- with the same result,
to the last bit, as k one-week calls:
  * death, response and deepening budgets are fixed-point integers (units of 2^-52 of
    cumulative hazard; `quantise`): k weeks of a constant hazard H spend k * H exactly;
  * relapse is a threshold on the follow-up row's cumulative relapse curve
    (`relapse_table`): the patient relapses in the first clock week whose cumulative
    hazard reaches it, found by bisection over a stretch;
  * costs and QALYs accrue by segments of weeks with the same weekly cost and utility:
    a segment is closed (cost rate x discounted weeks, from cumulative discount tables)
    when the weekly numbers change, so call boundaries do not change the arithmetic; the
    open segment is carried in the state and added on reading (`ArmRun.cost`).

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

__all__ = [
    "CHUNK",
    "HCAP",
    "HSCALE",
    "K",
    "advance",
    "advance_batch",
    "advance_each",
    "baseline_mods",
    "int_budget",
    "natural_hazard",
    "quantise",
    "quiet_weeks_followup",
    "quiet_weeks_usual",
    "relapse_table",
    "start",
    "start_batch",
    "survives_week_depressed",
]

CHUNK = 2048  # patients per parallel work item; results do not depend on it
# advance_each brings up a few thousand patients a week: smaller items keep both cores busy
CATCH_UP_CHUNK = 256
HSCALE = float(2**52)  # fixed-point units per unit of cumulative hazard
# a week's hazard above this is certain death / response for any budget (an Exp(1) draw
# from 53-bit uniforms is below 37), and capping it keeps k x hazard within int64
HCAP = 1024.0
NEVER = np.int64(1) << 40  # "no change before the horizon" for week counts
_PER_WEEK = 1.0 / 52.0  # years per week (a multiply in the weekly loop, not a divide)
K = L.MAX_COMPONENTS


@numba.njit(inline="always", cache=True)
def _exp_budget(seed, pid, week, purpose):
    return -math.log(1.0 - uniform(seed, pid, week, purpose))


@numba.njit(inline="always", cache=True)
def quantise(hazard):
    """A week's cumulative hazard in fixed-point units (truncated; exact to add up)."""
    return np.int64(min(hazard, HCAP) * HSCALE)


@numba.njit(inline="always", cache=True)
def int_budget(seed, pid, week, purpose):
    """An Exp(1) budget in fixed-point units, at least one unit (so a budget is spent
    only by a positive hazard)."""
    return max(quantise(_exp_budget(seed, pid, week, purpose)), np.int64(1))


@numba.njit(inline="always", cache=True)
def _quiet(b, hz, lim):
    """Weeks (at most lim) in which a budget b > 0 outlasts a weekly spend hz."""
    if hz <= 0:
        return lim
    return min(lim, (b - 1) // hz)


@numba.njit(inline="always", cache=True)
def _seg(w, wc, u, sa, sc, su, co, qa, cdc, cqw):
    """Week w costs wc and is lived at utility u: extend the open segment if its numbers
    are the same, else close it (weeks sa .. w - 1) and open one at w."""
    if wc != sc or u != su:
        co += sc * (cdc[np.uint64(w)] - cdc[np.uint64(sa)])
        qa += su * (cqw[np.uint64(w)] - cqw[np.uint64(sa)])
        return w, wc, u, co, qa
    return sa, sc, su, co, qa


@numba.njit(inline="always", cache=True)
def _by_category(cdc, w, k, state, nw, nc, e0, e1, e2, usual, acc):
    """Weeks w .. w + k - 1 added to a patient's cost categories, kept in locals while
    the patient is simulated (`acc`: discounted weeks depressed, in response, in
    remission, in usual care, and on each of the running step's three component slots):
    the clinical state's, each running component's (nc of the step's slots, running
    while step week nw is within their course) and usual care's. With the maintenance
    weeks (`_maint_stretch`), the weekly cost of these weeks is the sum the same
    branches give `_seg`, so the categories add up to the total. Locals, not the output
    array: a store in the quiet-week loops would keep the compiler from holding the
    loops' other numbers in registers."""
    dep, resp, rem, us, a0, a1, a2 = acc
    d = cdc[np.uint64(w + k)] - cdc[np.uint64(w)]
    if state == L.DEPRESSED:
        dep += d
    elif state == L.RESPONSE:
        resp += d
    else:
        rem += d
    if nc > 0 and nw <= e0:
        a0 += d
    if nc > 1 and nw <= e1:
        a1 += d
    if nc > 2 and nw <= e2:
        a2 += d
    if usual:
        us += d
    return dep, resp, rem, us, a0, a1, a2


@numba.njit(inline="always", cache=True)
def _flush_slots(cat, i, comp, row, acc):
    """Move the slot weeks of `acc` (step row `row`'s components) to the treatments'
    columns of patient i; returns `acc` with them at zero."""
    dep, resp, rem, us, a0, a1, a2 = acc
    if a0 != 0.0:
        cat[i, L.CC_TX0 + comp[row, 0]] += a0
    if a1 != 0.0:
        cat[i, L.CC_TX0 + comp[row, 1]] += a1
    if a2 != 0.0:
        cat[i, L.CC_TX0 + comp[row, 2]] += a2
    return dep, resp, rem, us, 0.0, 0.0, 0.0


@numba.njit(inline="always", cache=True)
def _flush_maint(cat, i, base, maint_opt, maint_last, cdc, ms):
    """Add the follow-up stretch `ms` (maintenance row, first week, its week of the
    relapse clock, end week; row -1: none) to patient i's maintenance columns (base +
    option): each option's discounted weeks within the stretch while it is active."""
    r, a, fa, b = ms
    if r < 0:
        return
    for s in range(maint_opt.shape[1]):
        j = maint_opt[r, s]
        if j < 0:
            break
        # the option is active up to clock week maint_last: absolute week a + that - fa
        end = min(b, a + (maint_last[r, s] - fa) + 1)
        if end > a:
            cat[i, base + j] += cdc[np.uint64(end)] - cdc[np.uint64(a)]


@numba.njit(inline="always", cache=True)
def _maint_stretch(cat, i, base, maint_opt, maint_last, cdc, ms, row, w, fw, k):
    """Weeks w .. w + k - 1 of follow-up on maintenance row `row`, the first at clock week
    fw: the open stretch `ms` (see _flush_maint) goes on if they continue it, else it is
    flushed and they open a new one. A stretch's weeks are counted once, when it is
    flushed, from the discounting's cumulative sums: the quiet-week loops store nothing.
    A probing call's stretch is flushed only at the call's end, as the other categories
    (dropped with an undone call): a stretch ends at a relapse, and a probing call whose
    relapse brings a step (re)start is undone there, before another stretch can open."""
    r, a, fa, b = ms
    if r == row and b == w and fw - fa == w - a:
        return r, a, fa, w + k
    _flush_maint(cat, i, base, maint_opt, maint_last, cdc, ms)
    return row, w, fw, w + k


@numba.njit(cache=True)
def relapse_table(maint_hr, cum_h, weeks):
    """Cumulative relapse hazard by week of the clock (0 .. weeks) for each follow-up
    row and response depth (full, partial): the baseline curve's weekly increments (its
    last one held beyond its end) times the row's maintenance hazard ratios. A patient's
    own multiplier scales the whole curve, so it goes into the threshold instead."""
    rows = maint_hr.shape[0]
    k_max = cum_h.shape[0] - 1
    out = np.zeros((rows, 2, weeks + 1))
    for r in range(rows):
        for p in range(2):
            for k in range(1, weeks + 1):
                kk = min(k, k_max)
                out[r, p, k] = out[r, p, k - 1] + maint_hr[r, kk, p] * (cum_h[kk] - cum_h[kk - 1])
    return out


@numba.njit(cache=True)
def _next_change(maint_cost, weeks):
    """For each follow-up row and week of the clock, the first later week whose
    maintenance cost differs (weeks + 1 if none)."""
    rows = maint_cost.shape[0]
    k_max = maint_cost.shape[1] - 1
    out = np.empty((rows, weeks + 1), dtype=np.int64)
    for r in range(rows):
        out[r, weeks] = weeks + 1
        for k in range(weeks - 1, -1, -1):
            same = maint_cost[r, min(k + 1, k_max)] == maint_cost[r, min(k, k_max)]
            out[r, k] = out[r, k + 1] if same else k + 1
    return out


@numba.njit(inline="always", cache=True)
def _before_relapse(curve, row, pf, fk, k, thr):
    """Weeks (at most k) from clock week fk before the cumulative curve reaches thr."""
    top = curve.shape[2] - 1
    if k <= 0 or curve[row, pf, min(fk + k - 1, top)] < thr:
        return k
    lo, hi = fk, fk + k - 1  # the first week reaching thr is in lo .. hi
    while lo < hi:
        mid = (lo + hi) // 2
        if curve[row, pf, min(mid, top)] >= thr:
            hi = mid
        else:
            lo = mid + 1
    return lo - fk


@numba.njit(inline="always", cache=True)
def _run_len(nw, nc, e0, e1, e2):
    """Weeks from week nw of a step in which the same components are running."""
    weeks = NEVER
    if nc > 0 and nw <= e0:
        weeks = min(weeks, e0 + 1 - nw)
    if nc > 1 and nw <= e1:
        weeks = min(weeks, e1 + 1 - nw)
    if nc > 2 and nw <= e2:
        weeks = min(weeks, e2 + 1 - nw)
    return weeks


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


@numba.njit(cache=True)
def _advance_span(
    lo,
    hi,
    w0_all,
    w1,
    seed,
    pid0,
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
    comp,
    n_steps,
    step_xmult,
    step_rhr,
    step_counts,
    maint_row,
    maint_hr,
    maint_cost,
    maint_opt,
    maint_last,
    on_relapse,
    on_exhausted,
    usual_cost,
    usual_disutility,
    tx,
    ef,
    nhz,
    ctxz,
    mort_h,
    cum_h,
    qaly_weight,
    disc_c,
    cum_qw,
    cum_dc,
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
    death_budget,
    resp_budget,
    relapse_at,
    deep_budget,
    seg_a,
    seg_c,
    seg_u,
    cost,
    qaly,
    cost_cat,
    weeks_alive,
    weeks_rem,
    first_rem,
    first_resp,
    first_fu,
    first_relapse,
    relapses,
    max_step,
    top_start,
    death_week,
    death_cause,
    sudden_gains,
    requested,
    req_step,
    rel_tab,
    mc_next,
    part,
    who,
    first,
):
    """Weeks w0 .. w1 - 1 of patients lo .. hi - 1 (one parallel work item of `advance`
    or `advance_batch`); part: (w1 - w0, trace states) changes of the trace.

    who, first: None, or (`advance_each`) patients who[lo .. hi - 1], each from its own
    week first[j] (part then needs w1 - min(first) rows; its counts mean nothing)."""
    horizon = disc_c.shape[0]
    mc_max = maint_cost.shape[1] - 1
    m_base = L.CC_TX0 + tx.shape[0]  # the first maintenance column of cost_cat
    # weekly constants in locals: the compiler cannot tell that `ef` is not written
    # through the output arrays, so it would otherwise reload them every week
    mort_hr = ef[L.EF_MORT_HR]
    sui_h = ef[L.EF_SUICIDE_H]
    u_dep, u_resp, u_rem = ef[L.EF_U_DEP], ef[L.EF_U_RESP], ef[L.EF_U_REM]
    c_dep, c_resp, c_rem = ef[L.EF_C_DEP], ef[L.EF_C_RESP], ef[L.EF_C_REM]
    nh_weeks, nh_rem = ef[L.EF_NH_WEEKS], ef[L.EF_NH_REM]
    q_deep = quantise(ef[L.EF_DEEP_H])
    r_resid = math.exp(ef[L.EF_R_RESID])
    ctx_first, ctx_last = ef[L.EF_CTX_FIRST], ef[L.EF_CTX_LAST]
    for j in range(lo, hi):
        # (None arguments are resolved when compiled: `advance` keeps its plain loop)
        i = j
        w0 = w0_all
        if who is not None:
            i = who[j]
        if first is not None:
            w0 = first[j]
            if w0 >= w1:
                continue
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
        db = death_budget[i]
        rsb = resp_budget[i]
        thr = relapse_at[i]
        dpb = deep_budget[i]
        sa = np.int64(seg_a[i])
        sc = seg_c[i]
        su = seg_u[i]
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
        # cost categories of this call (see _by_category), and the step row whose
        # component slots they count
        acc = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        acc_row = vb + st
        # the open follow-up stretch whose maintenance weeks are not yet counted
        # (_maint_stretch): none
        ms = (np.int64(-1), np.int64(0), np.int64(0), np.int64(0))
        # the trace is kept as changes: +1 for the state held at the start of the
        # call, then -1/+1 in the week the state changes; summed over weeks at the end
        ts = _trace_state(cl, ph)
        if cl == L.DEAD and death_cause[i] == L.CAUSE_SUICIDE:
            ts = L.T_DEAD_SUICIDE
        ts0 = ts
        part[0, ts] += 1
        undo = False  # a probing call found a step start: leave the week undone
        if cl == L.DEAD:
            w_end = w0
        w = w0 if cl != L.DEAD else w1
        while w < w1:
            # Stretches of quiet weeks, committed in bulk: a depressed patient in usual
            # care (or none), a depressed patient on a course, a responder whose course
            # still runs, and a responder in follow-up. Each stretch has one weekly
            # hazard of each kind, one cost and one utility, and ends before the first
            # week in which something may happen (death, response, the course's end,
            # deepening, relapse) -- that week goes to the general code below.
            if cl == L.DEPRESSED:
                if ph == L.USUAL or ph == L.UNTREATED:
                    wcw = c_dep + (usual_cost if ph == L.USUAL else 0.0)
                    uw = u_dep - (usual_disutility if ph == L.USUAL else 0.0)
                    q_h = quantise(h) if h > 0.0 else np.int64(0)
                    w_in = w  # the loop's weeks are one cost category: counted once below
                    while w < w1:
                        if w >= next_age_w:
                            hb, next_age_w = _background(mort_h, sex_i, age_i, w, w1)
                        q_d = quantise(hb * mort_hr + sui_h)
                        lim = min(w1, next_age_w) - w
                        k = _quiet(rsb, q_h, _quiet(db, q_d, lim))
                        if k > 0:
                            sa, sc, su, co, qa = _seg(
                                w, wcw, uw, sa, sc, su, co, qa, cum_dc, cum_qw
                            )
                            db -= k * q_d
                            rsb -= k * q_h
                            w += k
                        if k < lim:
                            break
                    if cost_cat is not None and w > w_in:
                        acc = _by_category(
                            cum_dc, w_in, w - w_in, L.DEPRESSED, 0, 0, e0, e1, e2,
                            ph == L.USUAL, acc,
                        )  # fmt: skip
                elif ph == L.WAITING and g == L.GATE_WAIT:
                    # waiting, its step not to start in this call (a caller that knows
                    # it is not granted a place): usual care's costs and hazards, and
                    # each week only the step asked for again (the week counter back
                    # at 0), so quiet weeks commit in bulk as in usual care
                    wcw = c_dep + usual_cost
                    uw = u_dep - usual_disutility
                    q_h = quantise(h) if h > 0.0 else np.int64(0)
                    w_in = w  # the loop's weeks are one cost category: counted once below
                    while w < w1:
                        if w >= next_age_w:
                            hb, next_age_w = _background(mort_h, sex_i, age_i, w, w1)
                        q_d = quantise(hb * mort_hr + sui_h)
                        lim = min(w1, next_age_w) - w
                        k = _quiet(rsb, q_h, _quiet(db, q_d, lim))
                        if k > 0:
                            sa, sc, su, co, qa = _seg(
                                w, wcw, uw, sa, sc, su, co, qa, cum_dc, cum_qw
                            )
                            db -= k * q_d
                            rsb -= k * q_h
                            w += k
                        if k < lim:
                            break
                    if cost_cat is not None and w > w_in:
                        # a waiting week costs what a usual-care week does
                        acc = _by_category(
                            cum_dc, w_in, w - w_in, L.DEPRESSED, 0, 0, e0, e1, e2,
                            True, acc,
                        )  # fmt: skip
                elif ph == L.ACUTE:  # on a course: response, the course's end or death?
                    stop = False
                    last = max(cend, 1)  # the course's last week (not the start week)
                    while w < w1 and not stop:
                        hz, wc, u, nxt = _course_week(
                            wki + 1, h, ctx_first, ctx_last, xc, nc, e0, e1, e2, x0, x1,
                            x2, f0, f1, f2, l0, l1, l2, c0, c1, c2, d0, d1, d2, c_dep, u_dep,
                        )  # fmt: skip
                        q_z = quantise(hz) if (hz > 0.0 and wki + 1 > 0) else np.int64(0)
                        # weeks of this segment, and of the course before its last week
                        span = min(w1 - w, nxt - (wki + 1), last - 1 - wki)
                        w_in, nw_in = w, wki + 1  # one cost category: counted once below
                        while True:
                            if w >= next_age_w:
                                hb, next_age_w = _background(mort_h, sex_i, age_i, w, w1)
                            q_d = quantise(hb * mort_hr + sui_h)
                            lim = min(span, next_age_w - w)
                            k = max(_quiet(rsb, q_z, _quiet(db, q_d, lim)), 0)
                            if k > 0:
                                sa, sc, su, co, qa = _seg(
                                    w, wc, u, sa, sc, su, co, qa, cum_dc, cum_qw
                                )
                                db -= k * q_d
                                rsb -= k * q_z
                                wki += k
                                w += k
                                span -= k
                            if k < lim:
                                stop = True  # an event, or the course's last week
                                break
                            if span <= 0:
                                # the segment's end (or the call's, or the course's)
                                stop = w >= w1 or wki + 1 >= last
                                break
                        if cost_cat is not None and w > w_in:
                            acc = _by_category(
                                cum_dc, w_in, w - w_in, L.DEPRESSED, nw_in, nc, e0, e1, e2,
                                False, acc,
                            )  # fmt: skip
            elif ph == L.COURSE or ph == L.FOLLOWUP:
                # a responder: death, deepening, the course's end or relapse?
                resp = cl == L.RESPONSE
                wcb = c_resp if resp else c_rem
                ub = u_resp if resp else u_rem
                # the step's components run on after a response the course produced
                comps = st < n_steps and (ph == L.COURSE or rci != L.NATURAL)
                fu = ph == L.FOLLOWUP
                row_f = maint_row[mb + (st if (rci != L.NATURAL and st < n_steps) else n_steps)]
                pf = 1 if resp else 0
                w_fu, f_fu = w, wki + 1 - csi  # the loop's first week and its clock week
                while w < w1:
                    if w >= next_age_w:
                        hb, next_age_w = _background(mort_h, sex_i, age_i, w, w1)
                    q_b = quantise(hb)
                    nw = wki + 1
                    lim = min(w1, next_age_w) - w
                    wc = wcb
                    u = ub
                    if comps:
                        lim = min(lim, _run_len(nw, nc, e0, e1, e2))
                        wc, u = _running(nw, nc, e0, e1, e2, c0, c1, c2, d0, d1, d2, wc, u)
                    fw = nw - csi  # in follow-up >= 1: the clock started earlier
                    mw = 0.0
                    if fu:
                        lim = min(lim, mc_next[row_f, fw] - fw)
                        mw = maint_cost[row_f, min(fw, mc_max)]
                        wc += mw
                    else:
                        lim = min(lim, csi - nw)  # the course's last week is an event
                    k = _quiet(db, q_b, lim)
                    if resp:
                        k = _quiet(dpb, q_deep, k)
                    if fu:
                        k = _before_relapse(rel_tab, row_f, pf, fw, k, thr)
                    k = max(k, 0)
                    if k > 0:
                        sa, sc, su, co, qa = _seg(w, wc, u, sa, sc, su, co, qa, cum_dc, cum_qw)
                        if cost_cat is not None:
                            acc = _by_category(
                                cum_dc, w, k, cl, nw, nc if comps else 0, e0, e1, e2, False, acc
                            )
                        db -= k * q_b
                        if resp:
                            dpb -= k * q_deep
                        else:
                            wr += k
                            if fr < 0:
                                fr = w
                        wki += k
                        w += k
                    if k <= 0 or k < lim:
                        break
                if cost_cat is not None and fu and w > w_fu:
                    # the loop's weeks continue one follow-up stretch: counted once here
                    ms = _maint_stretch(
                        cost_cat, i, m_base, maint_opt, maint_last, cum_dc, ms, row_f, w_fu,
                        f_fu, w - w_fu,
                    )  # fmt: skip
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
            db -= quantise(hd)
            if db <= 0:
                # the cause: suicide with its share of the week's hazard
                cause = L.CAUSE_OTHER
                draw = uniform(seed, pid, w, P_DEATH_CAUSE) if sui_h > 0.0 else 1.0
                if cl == L.DEPRESSED and draw * hd < sui_h:
                    cause = L.CAUSE_SUICIDE
                cl = L.DEAD
                death_week[i] = w
                death_cause[i] = cause
                part[ww, ts] -= 1
                part[ww, L.T_DEAD_SUICIDE if cause == L.CAUSE_SUICIDE else L.T_DEAD] += 1
                # the week of death is not lived: the open segment closes before it
                sa, sc, su, co, qa = _seg(w, 0.0, 0.0, sa, sc, su, co, qa, cum_dc, cum_qw)
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
                    best = 0  # a response on a course is the course's unless a component adds more
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
                    rsb -= quantise(hz)
                if rsb <= 0:
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
                        dpb = int_budget(seed, pid, w, P_DEEPEN)
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
                    dpb -= q_deep
                    if dpb <= 0:
                        cl = L.REMISSION
                        if ph == L.FOLLOWUP:
                            # the residual-symptom HR no longer applies from this week:
                            # the hazard still to be spent before relapse, carried from
                            # the partial-response curve to the full one (the patient's
                            # multiplier loses the residual-symptom HR r_resid)
                            row = maint_row[
                                mb + (st if (rci != L.NATURAL and st < n_steps) else n_steps)
                            ]
                            f = min(wki - csi - 1, horizon)
                            thr = rel_tab[row, 0, f] + r_resid * (thr - rel_tab[row, 1, f])
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
                # relapse when the row's cumulative curve x rm reaches an Exp(1) draw
                b = _exp_budget(seed, pid, w, P_RELAPSE)
                thr = b / rm if rm > 0.0 else math.inf
            # 3. relapse in follow-up
            elif ph == L.FOLLOWUP:
                fw = wki - csi  # >= 1: the clock started in an earlier week
                row = maint_row[mb + (st if (rci != L.NATURAL and st < n_steps) else n_steps)]
                if rel_tab[row, 1 if cl == L.RESPONSE else 0, min(fw, horizon)] >= thr:
                    # 4. relapse: the pathway's rule says where care resumes
                    cl = L.DEPRESSED
                    nrel += 1
                    if frel < 0:
                        frel = w
                    rsb = int_budget(seed, pid, w, P_RESPONSE)
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
                    part[0, ts0] -= 1
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
                    # the slots' weeks so far belong to the step row they ran on
                    if cost_cat is not None:
                        acc = _flush_slots(cost_cat, i, comp, acc_row, acc)
                    acc_row = vb + st
                    (nc, cend, e0, e1, e2, x0, x1, x2, f0, f1, f2, l0, l1, l2, c0, c1, c2,
                     d0, d1, d2, xc) = _step_locals(comp, tx, xk, ek, st, n_steps, vb, i)  # fmt: skip
                    ph = L.ACUTE
                    wki = 0
                    if st + 1 > mx_st:
                        mx_st = st + 1
                        top_start[i] = w
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
            comps = st < n_steps and (on_course or (ph == L.FOLLOWUP and rci != L.NATURAL))
            usual = False
            mw = 0.0
            if comps:
                wc, u = _running(wki, nc, e0, e1, e2, c0, c1, c2, d0, d1, d2, wc, u)
            elif ph == L.USUAL or ph == L.WAITING:
                wc += usual_cost
                u -= usual_disutility
                usual = True
            if ph == L.FOLLOWUP:
                row = maint_row[mb + (st if (rci != L.NATURAL and st < n_steps) else n_steps)]
                mw = maint_cost[np.uint64(row), np.uint64(min(wki - csi, mc_max))]
                wc += mw
                if cost_cat is not None:
                    ms = _maint_stretch(
                        cost_cat, i, m_base, maint_opt, maint_last, cum_dc, ms, row, w,
                        wki - csi, 1,
                    )  # fmt: skip
            sa, sc, su, co, qa = _seg(w, wc, u, sa, sc, su, co, qa, cum_dc, cum_qw)
            if cost_cat is not None:
                acc = _by_category(
                    cum_dc, w, 1, cl, wki, nc if comps else 0, e0, e1, e2, usual, acc
                )
            if cl != cl_before or ph != ph_before:
                nts = _trace_state(cl, ph)
                if nts != ts:
                    part[ww, ts] -= 1
                    part[ww, nts] += 1
                    ts = nts
            w += 1
        if undo:
            continue  # the call's categories are dropped with the rest of the week
        if cost_cat is not None:
            acc = _flush_slots(cost_cat, i, comp, acc_row, acc)
            cost_cat[i, L.CC_DEP] += acc[0]
            cost_cat[i, L.CC_RESP] += acc[1]
            cost_cat[i, L.CC_REM] += acc[2]
            cost_cat[i, L.CC_USUAL] += acc[3]
            _flush_maint(cost_cat, i, m_base, maint_opt, maint_last, cum_dc, ms)
        clin[i] = cl
        phase[i] = ph
        step[i] = st
        wk[i] = wki
        cs[i] = csi
        rc[i] = rci
        fails[i] = nf
        gain[i] = gn
        hnh[i] = h
        death_budget[i] = db
        resp_budget[i] = rsb
        relapse_at[i] = thr
        deep_budget[i] = dpb
        seg_a[i] = sa
        seg_c[i] = sc
        seg_u[i] = su
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
    maint_row,
    maint_hr,
    maint_cost,
    maint_opt,  # (rows, slots) each maintenance row's options (maintenance-table rows)
    maint_last,  # (rows, slots) the last week of the relapse clock each is active in
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
    cum_qw,
    cum_dc,
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
    death_budget,
    resp_budget,
    relapse_at,
    deep_budget,
    seg_a,
    seg_c,
    seg_u,
    # per-patient outputs (accumulated; cost and QALYs of closed segments; cost_cat:
    # (patients, CC_TX0 + treatments + maintenance options) cost categories, or None:
    # not kept, and the code that keeps them is not compiled in)
    cost,
    qaly,
    cost_cat,
    weeks_alive,
    weeks_rem,
    first_rem,
    first_resp,
    first_fu,
    first_relapse,
    relapses,
    max_step,
    top_start,
    death_week,
    death_cause,
    sudden_gains,
    # step starts a probing call found (GATE_PROBE): flag and the step wanted
    requested,
    req_step,
    # week x trace-state counts (accumulated)
    trace,
):
    """Advance every patient from week w0 to w1 in parallel chunks, writing outcomes in place."""
    if w1 <= w0:
        return  # no week to simulate (the trace below is indexed by week of the call)
    n = age.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    n_tr = trace.shape[1]
    part = np.zeros((n_chunks, w1 - w0, n_tr), dtype=np.int64)
    rel_tab = relapse_table(maint_hr, cum_h, disc_c.shape[0])
    mc_next = _next_change(maint_cost, disc_c.shape[0])
    for c in numba.prange(n_chunks):
        _advance_span(
            c * CHUNK, min(n, (c + 1) * CHUNK), w0, w1, seed, pid0, age, sex, sev, malt, infl, flex, chronic, entry_step, gate, variant, comp, n_steps, step_xmult, step_rhr, step_counts, maint_row, maint_hr, maint_cost, maint_opt, maint_last, on_relapse, on_exhausted, usual_cost, usual_disutility, tx, ef, nhz, ctxz, mort_h, cum_h, qaly_weight, disc_c, cum_qw, cum_dc, clin, phase, step, wk, cs, rc, fails, gain, hnh, xk, ek, death_budget, resp_budget, relapse_at, deep_budget, seg_a, seg_c, seg_u, cost, qaly, cost_cat, weeks_alive, weeks_rem, first_rem, first_resp, first_fu, first_relapse, relapses, max_step, top_start, death_week, death_cause, sudden_gains, requested, req_step, rel_tab, mc_next, part[c], None, None,
        )  # fmt: skip
    running = np.zeros(n_tr, dtype=np.int64)
    for ww in range(w1 - w0):
        for c in range(n_chunks):
            for s in range(n_tr):
                running[s] += part[c, ww, s]
        for s in range(n_tr):
            trace[w0 + ww, s] += running[s]


@numba.njit(parallel=True, cache=True)
def advance_each(
    who, first_week, w1, seed, pid0, age, sex, sev, malt, infl, flex, chronic, entry_step,
    gate, variant, comp, n_steps, step_xmult, step_rhr, step_counts, maint_row, maint_hr,
    maint_cost, maint_opt, maint_last, on_relapse, on_exhausted, usual_cost, usual_disutility,
    tx, ef, nhz, ctxz,
    mort_h, cum_h, qaly_weight, disc_c, cum_qw, cum_dc, clin, phase, step, wk, cs, rc, fails,
    gain, hnh, xk, ek, death_budget, resp_budget, relapse_at, deep_budget, seg_a, seg_c,
    seg_u, cost, qaly, cost_cat, weeks_alive, weeks_rem, first_rem, first_resp, first_fu,
    first_relapse, relapses, max_step, top_start, death_week, death_cause, sudden_gains,
    requested, req_step,
):  # fmt: skip
    """Advance each patient who[j] from its own week first_week[j] to w1, as `advance`
    would (the same code, over chunks of the list). For a caller that leaves patients with
    nothing to happen out of its weekly calls and brings them up to date later (the
    care-system model); the week x state trace is not kept."""
    rel_tab = relapse_table(maint_hr, cum_h, disc_c.shape[0])
    mc_next = _next_change(maint_cost, disc_c.shape[0])
    n_tr = len(L.TRACE_STATES)
    m = who.shape[0]
    n_chunks = (m + CATCH_UP_CHUNK - 1) // CATCH_UP_CHUNK
    for c in numba.prange(n_chunks):
        lo, hi = c * CATCH_UP_CHUNK, min(m, (c + 1) * CATCH_UP_CHUNK)
        w_min = w1
        for j in range(lo, hi):
            w_min = min(w_min, first_week[j])
        if w_min >= w1:
            continue
        # one scratch trace for the chunk: its counts are not kept, so patients share it
        part = np.zeros((w1 - w_min, n_tr), dtype=np.int64)
        # one call for the chunk's patients (each from its own week): a call per patient
        # would pass its ninety-odd arguments once per patient
        _advance_span(
            lo, hi, w_min, w1, seed, pid0, age, sex, sev, malt, infl, flex, chronic, entry_step, gate, variant, comp, n_steps, step_xmult, step_rhr, step_counts, maint_row, maint_hr, maint_cost, maint_opt, maint_last, on_relapse, on_exhausted, usual_cost, usual_disutility, tx, ef, nhz, ctxz, mort_h, cum_h, qaly_weight, disc_c, cum_qw, cum_dc, clin, phase, step, wk, cs, rc, fails, gain, hnh, xk, ek, death_budget, resp_budget, relapse_at, deep_budget, seg_a, seg_c, seg_u, cost, qaly, cost_cat, weeks_alive, weeks_rem, first_rem, first_resp, first_fu, first_relapse, relapses, max_step, top_start, death_week, death_cause, sudden_gains, requested, req_step, rel_tab, mc_next, part, who, first_week,
        )  # fmt: skip


@numba.njit(cache=True)
def quiet_weeks_usual(
    who, w, horizon, sex, age, clin, phase, hnh, death_budget, resp_budget, seg_c, seg_u,
    ef, mort_h, usual_cost, usual_disutility,
):  # fmt: skip
    """For each patient who[j] at the start of week w: how many weeks from w nothing can
    happen to it (0 if it is not depressed in usual care or none, or waiting). These are
    the weeks `_advance_span` commits in bulk for a patient in usual care or none (no
    death, no response, the same background hazard) -- the same arithmetic, looked ahead
    to the horizon; a waiting patient, living its weeks waiting, meets the same hazards
    at the same cost and only asks for its step again each week -- and only
    if the week's cost and utility continue the patient's open segment, so that its
    cost and QALYs so far (ArmRun.cost, .qaly) are exact without simulating them."""
    out = np.zeros(who.shape[0], dtype=np.int64)
    mort_hr = ef[L.EF_MORT_HR]
    sui_h = ef[L.EF_SUICIDE_H]
    c_dep, u_dep = ef[L.EF_C_DEP], ef[L.EF_U_DEP]
    for j in range(who.shape[0]):
        i = who[j]
        ph = phase[i]
        if clin[i] != L.DEPRESSED or not (ph == L.USUAL or ph == L.UNTREATED or ph == L.WAITING):
            continue
        # usual care's cost and disutility while in it, or waiting in it
        usual = ph == L.USUAL or ph == L.WAITING
        wcw = c_dep + (usual_cost if usual else 0.0)
        uw = u_dep - (usual_disutility if usual else 0.0)
        if wcw != seg_c[i] or uw != seg_u[i]:
            continue  # the week would open a new segment: simulate it
        h = hnh[i]
        q_h = quantise(h) if h > 0.0 else np.int64(0)
        hb, next_age_w = _background(mort_h, sex[i], age[i], w, horizon)
        # across birthdays, as the kernel's loop goes on past them (only the background
        # hazard changes there)
        db = death_budget[i]
        rsb = resp_budget[i]
        ww = w
        while True:
            if ww >= next_age_w:
                hb, next_age_w = _background(mort_h, sex[i], age[i], ww, horizon)
            q_d = quantise(hb * mort_hr + sui_h)
            lim = min(horizon, next_age_w) - ww
            k = max(_quiet(rsb, q_h, _quiet(db, q_d, lim)), 0)
            db -= k * q_d
            rsb -= k * q_h
            ww += k
            if k < lim or ww >= horizon:
                break
        out[j] = ww - w
    return out


@numba.njit(cache=True)
def quiet_weeks_followup(
    who, w, horizon, sex, age, clin, phase, step, wk, cs, rc, variant, xk, ek,
    death_budget, deep_budget, relapse_at, seg_c, seg_u, comp, tx, n_steps, maint_row,
    maint_hr, maint_cost, cum_h, ef, mort_h,
):  # fmt: skip
    """For each patient who[j] at the start of week w: how many weeks from w nothing can
    happen to it (0 unless a responder or remitter on a course or in follow-up). The
    first stretch `_advance_span` would commit in bulk for it (no death, deepening,
    relapse or course end, the same components running, maintenance cost and
    background hazard) -- the same
    arithmetic, looked ahead to the horizon -- and only if its cost and utility continue
    the patient's open segment (see quiet_weeks_usual)."""
    out = np.zeros(who.shape[0], dtype=np.int64)
    if who.shape[0] == 0:
        return out
    rel_tab = relapse_table(maint_hr, cum_h, horizon)
    mc_next = _next_change(maint_cost, horizon)
    mc_max = maint_cost.shape[1] - 1
    q_deep = quantise(ef[L.EF_DEEP_H])
    for j in range(who.shape[0]):
        i = who[j]
        cl = clin[i]
        ph = phase[i]
        if not (ph == L.FOLLOWUP or ph == L.COURSE) or not (cl == L.RESPONSE or cl == L.REMISSION):
            continue
        fu = ph == L.FOLLOWUP
        st = step[i]
        rci = rc[i]
        resp = cl == L.RESPONSE
        vb = variant[i] * n_steps
        mb = variant[i] * (n_steps + 1)
        (nc, cend, e0, e1, e2, x0, x1, x2, f0, f1, f2, l0, l1, l2, c0, c1, c2, d0, d1, d2,
         xc) = _step_locals(comp, tx, xk, ek, st, n_steps, vb, i)  # fmt: skip
        wc = ef[L.EF_C_RESP] if resp else ef[L.EF_C_REM]
        u = ef[L.EF_U_RESP] if resp else ef[L.EF_U_REM]
        comps = st < n_steps and (ph == L.COURSE or rci != L.NATURAL)
        row_f = maint_row[mb + (st if (rci != L.NATURAL and st < n_steps) else n_steps)]
        hb, next_age_w = _background(mort_h, sex[i], age[i], w, horizon)
        nw = wk[i] + 1
        lim = horizon - w
        if comps:
            lim = min(lim, _run_len(nw, nc, e0, e1, e2))
            wc, u = _running(nw, nc, e0, e1, e2, c0, c1, c2, d0, d1, d2, wc, u)
        fw = nw - cs[i]
        if fu:
            lim = min(lim, mc_next[row_f, fw] - fw)
            wc += maint_cost[row_f, min(fw, mc_max)]
        else:
            lim = min(lim, cs[i] - nw)  # the course's last week is an event
        if wc != seg_c[i] or u != seg_u[i]:
            continue  # the week would open a new segment: simulate it
        # the stretch's cost and utility hold to `end`; across birthdays, as the kernel's
        # loop goes on past them (only the background hazard changes there)
        end = w + lim
        db = death_budget[i]
        dpb = deep_budget[i]
        ww = w
        while True:
            if ww >= next_age_w:
                hb, next_age_w = _background(mort_h, sex[i], age[i], ww, horizon)
            q_b = quantise(hb)
            lim = min(end, next_age_w) - ww
            k = _quiet(db, q_b, lim)
            if resp:
                k = _quiet(dpb, q_deep, k)
            if fu:
                k = _before_relapse(
                    rel_tab, row_f, 1 if resp else 0, fw + (ww - w), k, relapse_at[i]
                )
            k = max(k, 0)
            db -= k * q_b
            if resp:
                dpb -= k * q_deep
            ww += k
            if k < lim or ww >= end:
                break
        out[j] = ww - w
    return out


@numba.njit(cache=True)
def quiet_weeks_course(
    who, w, horizon, sex, age, clin, phase, step, wk, variant, xk, ek, hnh, death_budget,
    resp_budget, seg_c, seg_u, comp, tx, n_steps, ef, mort_h,
):  # fmt: skip
    """For each patient who[j] at the start of week w: how many weeks from w nothing can
    happen to it (0 unless depressed on a course). The stretches `_advance_span` would
    commit in bulk for it (no death, no response, before the course's last week) -- the
    same arithmetic, looked ahead to the horizon, across the course's hazard segments --
    as long as the weeks' cost and utility continue the patient's open segment (see
    quiet_weeks_usual)."""
    out = np.zeros(who.shape[0], dtype=np.int64)
    mort_hr = ef[L.EF_MORT_HR]
    sui_h = ef[L.EF_SUICIDE_H]
    c_dep, u_dep = ef[L.EF_C_DEP], ef[L.EF_U_DEP]
    ctx_first, ctx_last = ef[L.EF_CTX_FIRST], ef[L.EF_CTX_LAST]
    for j in range(who.shape[0]):
        i = who[j]
        if clin[i] != L.DEPRESSED or phase[i] != L.ACUTE:
            continue
        (nc, cend, e0, e1, e2, x0, x1, x2, f0, f1, f2, l0, l1, l2, c0, c1, c2, d0, d1, d2,
         xc) = _step_locals(comp, tx, xk, ek, step[i], n_steps, variant[i] * n_steps, i)  # fmt: skip
        last = max(cend, 1)
        wki = wk[i]
        h = hnh[i]
        db = death_budget[i]
        rsb = resp_budget[i]
        ww = w
        hb, next_age_w = _background(mort_h, sex[i], age[i], w, horizon)
        done = False
        while not done and ww < horizon:
            hz, wc, u, nxt = _course_week(
                wki + 1, h, ctx_first, ctx_last, xc, nc, e0, e1, e2, x0, x1, x2, f0, f1,
                f2, l0, l1, l2, c0, c1, c2, d0, d1, d2, c_dep, u_dep,
            )  # fmt: skip
            if wc != seg_c[i] or u != seg_u[i]:
                break  # the week would open a new segment: simulate it
            q_z = quantise(hz) if (hz > 0.0 and wki + 1 > 0) else np.int64(0)
            span = min(horizon - ww, nxt - (wki + 1), last - 1 - wki)
            while True:
                if ww >= next_age_w:
                    hb, next_age_w = _background(mort_h, sex[i], age[i], ww, horizon)
                q_d = quantise(hb * mort_hr + sui_h)
                lim = min(span, next_age_w - ww)
                k = max(_quiet(rsb, q_z, _quiet(db, q_d, lim)), 0)
                db -= k * q_d
                rsb -= k * q_z
                wki += k
                ww += k
                span -= k
                if k < lim:
                    done = True  # an event, or the course's last week
                    break
                if span <= 0:
                    done = ww >= horizon or wki + 1 >= last
                    break
        out[j] = ww - w
    return out


@numba.njit(cache=True)
def survives_week_depressed(who, w, horizon, sex, age, death_budget, ef, mort_h):
    """For each depressed patient who[j]: whether it lives through week w -- the death
    test `_advance_span` makes first in a week (background hazard at the depressed
    hazard ratio plus suicide, spent from the death budget), made ahead of it."""
    out = np.zeros(who.shape[0], dtype=np.bool_)
    mort_hr = ef[L.EF_MORT_HR]
    sui_h = ef[L.EF_SUICIDE_H]
    for j in range(who.shape[0]):
        i = who[j]
        hb, _ = _background(mort_h, sex[i], age[i], w, horizon)
        out[j] = death_budget[i] - quantise(hb * mort_hr + sui_h) > 0
    return out


@numba.njit(inline="always", cache=True)
def _start_one(
    i, seed, pid, sev, malt, infl, flex, chronic, entry_step, variant, comp, n_steps,
    step_xmult, tx, ef, nhz, ctxz, clin, phase, step, wk, fails, hnh, xk, ek, max_step,
    top_start, death_budget, resp_budget,
):  # fmt: skip
    """Put patient i on their entry step, depressed, with the step's plan drawn."""
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
    top_start[i] = 0
    death_budget[i] = int_budget(seed, pid, -1, P_DEATH)
    resp_budget[i] = int_budget(seed, pid, -1, P_RESPONSE)


@numba.njit(parallel=True, cache=True)
def start(
    seed, pid0, sev, malt, infl, flex, chronic, entry_step, variant, comp, n_steps, step_xmult,
    tx, ef, nhz, ctxz, clin, phase, step, wk, fails, hnh, xk, ek, max_step, top_start,
    death_budget, resp_budget,
):  # fmt: skip
    """Put every patient on their entry step, depressed, with the step's plan drawn."""
    for i in numba.prange(sev.shape[0]):
        _start_one(
            i, seed, pid0 + i, sev, malt, infl, flex, chronic, entry_step, variant, comp,
            n_steps, step_xmult, tx, ef, nhz, ctxz, clin, phase, step, wk, fails, hnh, xk, ek,
            max_step, top_start, death_budget, resp_budget,
        )  # fmt: skip


# --- many parameter draws in one call (PSA) -----------------------------------------
# Patients of draw d are rows d * n_per .. (d + 1) * n_per - 1 of every patient array;
# each draw has its own seed and its own rows of the parameter arrays (leading axis d),
# and its patients are numbered from 0, so each patient meets exactly the numbers and
# arithmetic it meets in a one-draw call: results are bit-identical to per-draw calls.


@numba.njit(parallel=True, cache=True)
def start_batch(
    seeds, n_per, sev, malt, infl, flex, chronic, entry_step, variant, comp, n_steps,
    step_xmult, tx, ef, nhz, ctxz, clin, phase, step, wk, fails, hnh, xk, ek, max_step,
    top_start, death_budget, resp_budget,
):  # fmt: skip
    """`start` for n_per patients of each draw (parameters per draw, leading axis)."""
    for i in numba.prange(sev.shape[0]):
        d = i // n_per
        _start_one(
            i, seeds[d], i - d * n_per, sev, malt, infl, flex, chronic, entry_step, variant,
            comp, n_steps, step_xmult[d], tx[d], ef[d], nhz[d], ctxz[d], clin, phase, step, wk,
            fails, hnh, xk, ek, max_step, top_start, death_budget, resp_budget,
        )  # fmt: skip


@numba.njit(parallel=True, cache=True)
def advance_batch(
    w0, w1, seeds, n_per,
    age, sex, sev, malt, infl, flex, chronic, entry_step, gate, variant,
    comp, n_steps, step_xmult, step_rhr, step_counts, maint_row, maint_hr, maint_cost, maint_opt,
    maint_last, on_relapse, on_exhausted, usual_cost, usual_disutility,
    tx, ef, nhz, ctxz, mort_h, cum_h, qaly_weight, disc_c, cum_qw, cum_dc,
    clin, phase, step, wk, cs, rc, fails, gain, hnh, xk, ek,
    death_budget, resp_budget, relapse_at, deep_budget, seg_a, seg_c, seg_u,
    cost, qaly, cost_cat, weeks_alive, weeks_rem, first_rem, first_resp, first_fu,
    first_relapse, relapses, max_step, top_start, death_week, death_cause, sudden_gains,
    requested, req_step, trace,
):  # fmt: skip
    """`advance` for n_per patients of each draw: work items are (draw, chunk) pairs
    spread over the threads; per-draw arrays (step_xmult, step_rhr, maint_hr,
    maint_cost, maint_last, usual_cost, usual_disutility, tx, ef, nhz, ctxz, cum_h) have the draw
    as their leading axis; trace is (draws, weeks, states)."""
    if w1 <= w0:
        return
    n_draws = seeds.shape[0]
    horizon = disc_c.shape[0]
    per = (n_per + CHUNK - 1) // CHUNK  # chunks per draw
    n_tr = trace.shape[2]
    # the tables and the trace's sums below take microseconds a draw: serial loops, as a
    # parallel region costs more than that to start when the cores are shared
    rel_tab = np.empty((n_draws, maint_hr.shape[1], 2, horizon + 1))
    mc_next = np.empty((n_draws, maint_cost.shape[1], horizon + 1), dtype=np.int64)
    for d in range(n_draws):
        rel_tab[d] = relapse_table(maint_hr[d], cum_h[d], horizon)
        mc_next[d] = _next_change(maint_cost[d], horizon)
    part = np.zeros((n_draws * per, w1 - w0, n_tr), dtype=np.int64)
    for t in numba.prange(n_draws * per):
        d = t // per
        c = t - d * per
        lo = d * n_per + c * CHUNK
        hi = d * n_per + min(n_per, (c + 1) * CHUNK)
        _advance_span(
            lo, hi, w0, w1, seeds[d], -d * n_per, age, sex, sev, malt, infl, flex, chronic,
            entry_step, gate, variant, comp, n_steps, step_xmult[d], step_rhr[d], step_counts, maint_row,
            maint_hr[d], maint_cost[d], maint_opt, maint_last[d], on_relapse, on_exhausted,
            usual_cost[d],
            usual_disutility[d], tx[d], ef[d], nhz[d], ctxz[d], mort_h, cum_h[d], qaly_weight,
            disc_c, cum_qw, cum_dc, clin, phase, step, wk, cs, rc, fails, gain, hnh, xk, ek,
            death_budget, resp_budget, relapse_at, deep_budget, seg_a, seg_c, seg_u, cost, qaly,
            cost_cat, weeks_alive, weeks_rem, first_rem, first_resp, first_fu, first_relapse, relapses,
            max_step, top_start, death_week, death_cause, sudden_gains, requested, req_step,
            rel_tab[d], mc_next[d], part[t], None, None,
        )  # fmt: skip
    for d in range(n_draws):
        running = np.zeros(n_tr, dtype=np.int64)
        for ww in range(w1 - w0):
            for cc in range(per):
                for st in range(n_tr):
                    running[st] += part[d * per + cc, ww, st]
            for st in range(n_tr):
                trace[d, w0 + ww, st] += running[st]
