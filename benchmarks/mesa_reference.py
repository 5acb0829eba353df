"""The trdsim clinical model written the natural mesa way: the speed reference peer.

One `mesa.Agent` per patient with a Python `step()` doing one week: the weekly rules of
the kernel's docstring written again, independently, in plain Python, with the same
parameters and counter-based random numbers. Only arithmetic helpers are shared with
the kernel (the natural-history hazard, a course's plan, the fixed-point hazard units
and the cumulative relapse curves), so that floating-point results can agree to the
last bit. It lives every week one at a time; the kernel skips quiet weeks in bulk, so
agreeing with it also checks that skipping. On a small cohort it must reproduce the kernel's
per-patient results: `tests/test_mesa_reference.py` asserts it, `bench_core.py` times it.
"""

import math

import mesa
import numpy as np

from trdsim.engine import kernel as K
from trdsim.engine import layout as L
from trdsim.engine import rng as R

MASK = (1 << 64) - 1
GOLDEN, M1, M2, WEEK_MUL = (int(x) for x in (R._GOLDEN, R._M1, R._M2, R._WEEK_MUL))
SLOTS = L.MAX_COMPONENTS


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * M1) & MASK
    z = ((z ^ (z >> 27)) * M2) & MASK
    return z ^ (z >> 31)


def uniform(seed: int, pid: int, week: int, purpose: int) -> float:
    z = _mix((seed * GOLDEN + pid) & MASK)
    z = _mix(z ^ (((week + 1) * WEEK_MUL + purpose) & MASK))
    return float(z >> 11) * (1.0 / 9007199254740992.0)


def budget(seed: int, pid: int, week: int, purpose: int) -> float:
    return -math.log(1.0 - uniform(seed, pid, week, purpose))


def int_budget(seed: int, pid: int, week: int, purpose: int) -> int:
    """An Exp(1) budget in the kernel's fixed-point hazard units (at least one)."""
    return max(q(budget(seed, pid, week, purpose)), 1)


def q(hazard: float) -> int:
    """A week's hazard in fixed-point units, as the kernel counts it."""
    return int(min(hazard, K.HCAP) * K.HSCALE)


class Patient(mesa.Agent):
    """One patient; `step` advances one week in the kernel's documented order."""

    def __init__(self, model, pid, age, sex, sev, malt, infl, flex, chronic, fails, variant):
        super().__init__(model)
        m, p, ef = model, model.pathway, model.ef
        self.pid, self.age0, self.sex = pid, float(age), int(sex)
        self.sev, self.malt, self.infl = float(sev), int(malt), int(infl)
        self.flex, self.chronic = float(flex), int(chronic)
        self.fails = int(fails)
        # the patient's block of rows in the pathway tables (personalised pathways)
        self.vb, self.mb = int(variant) * p.n_steps, int(variant) * (p.n_steps + 1)
        self.entry = int(p.entry_steps(np.array([self.fails]))[0])
        self.mods = K.baseline_mods(ef, self.malt, self.flex, self.chronic)
        self.h = K.natural_hazard(m.nhz, self.fails, self.mods, ef[L.EF_NH_WEEKS])
        self.xk = np.zeros((1, SLOTS + 1))
        self.ek = np.zeros((1, SLOTS + 1), dtype=np.int16)
        self.step_i, self.wk, self.cs, self.rc = self.entry, -1, 0, L.NATURAL
        self.clin, self.phase = L.DEPRESSED, L.ACUTE
        self.gain = 0
        # costs and QALYs by segments of weeks with one weekly cost and utility
        self.cost_closed = self.qaly_closed = 0.0
        self.seg_a, self.seg_c, self.seg_u = 0, 0.0, 0.0
        self.first_response = self.first_relapse = self.death_week = -1
        self.relapses = 0
        self.suicide = False
        self.max_step = self.entry + 1
        self.dbudget = int_budget(m.seed_, pid, -1, R.P_DEATH)
        self.rsbudget = int_budget(m.seed_, pid, -1, R.P_RESPONSE)
        self.dpbudget = 0
        self.relapse_at = 0.0  # threshold on the follow-up row's cumulative relapse curve
        self.plan(-1)

    def plan(self, key: int) -> None:
        m = self.model
        K._plan_step(
            m.seed_, self.pid, key, self.vb + self.step_i, m.pathway.comp, m.pathway.step_xmult, m.tx,
            m.ef, m.ctxz, self.fails, self.mods, self.h, self.sev, self.infl, 0, self.xk,
            self.ek,
        )  # fmt: skip

    def components(self) -> list[int]:
        return [int(t) for t in self.model.pathway.comp[self.vb + self.step_i] if t >= 0]

    def start_followup(self, w: int) -> None:
        m, ef, p = self.model, self.model.ef, self.model.pathway
        self.phase, self.cs = L.FOLLOWUP, self.wk
        lin = (
            ef[L.EF_R_FAIL] * (self.fails - ef[L.EF_R_NF0])
            + ef[L.EF_R_MALT] * self.malt
            + ef[L.EF_R_FLEX] * self.flex
            + ef[L.EF_R_SG] * self.gain
        )
        rmult = math.exp(lin)
        if self.clin == L.RESPONSE:
            rmult *= math.exp(ef[L.EF_R_RESID])
        if self.rc != L.NATURAL:
            t = p.comp[self.vb + self.step_i, self.rc]
            rmult *= m.tx[t, L.TX_RELAPSE_HR] * p.step_rhr[self.vb + self.step_i]
        b = budget(m.seed_, self.pid, w, R.P_RELAPSE)
        # relapse when rmult x the row's cumulative curve reaches the Exp(1) draw
        self.relapse_at = b / rmult if rmult > 0.0 else math.inf

    def followup_row(self) -> int:
        p = self.model.pathway
        n = p.n_steps
        return int(
            p.maint_row[
                self.mb + (self.step_i if (self.rc != L.NATURAL and self.step_i < n) else n)
            ]
        )

    def close_segment(self, w: int, wc: float, u: float) -> None:
        """Week w costs wc at utility u: a new segment when either differs."""
        if wc != self.seg_c or u != self.seg_u:
            cc, cq = self.model.cum_dc, self.model.cum_qw
            self.cost_closed += self.seg_c * (cc[w] - cc[self.seg_a])
            self.qaly_closed += self.seg_u * (cq[w] - cq[self.seg_a])
            self.seg_a, self.seg_c, self.seg_u = w, wc, u

    @property
    def cost(self) -> float:
        cc = self.model.cum_dc
        return self.cost_closed + self.seg_c * (cc[self.model.week] - cc[self.seg_a])

    @property
    def qaly(self) -> float:
        cq = self.model.cum_qw
        return self.qaly_closed + self.seg_u * (cq[self.model.week] - cq[self.seg_a])

    def step(self) -> None:
        m, w = self.model, self.model.week
        tx, ef, p = m.tx, m.ef, m.pathway
        n = p.n_steps
        if self.clin == L.DEAD:
            return
        # 1. death
        hd = m.mort_h[self.sex, min(int(self.age0 + w * (1.0 / 52.0)), m.mort_h.shape[1] - 1)]
        if self.clin == L.DEPRESSED:
            hd = hd * ef[L.EF_MORT_HR] + ef[L.EF_SUICIDE_H]
        self.dbudget -= q(hd)
        if self.dbudget <= 0:
            self.suicide = (
                self.clin == L.DEPRESSED
                and ef[L.EF_SUICIDE_H] > 0.0
                and uniform(m.seed_, self.pid, w, R.P_DEATH_CAUSE) * hd < ef[L.EF_SUICIDE_H]
            )
            self.clin, self.death_week = L.DEAD, w
            self.close_segment(w, 0.0, 0.0)
            return
        if self.phase in (L.ACUTE, L.COURSE, L.FOLLOWUP):
            self.wk += 1
        restart = advance = start_fu = False
        if self.clin == L.DEPRESSED:
            # 2. response: natural history plus the running components' excess
            hz, best, bestx = self.h, L.NATURAL, 0.0
            if self.phase == L.ACUTE:
                if ef[L.EF_CTX_FIRST] <= self.wk <= ef[L.EF_CTX_LAST]:
                    hz += self.xk[0, SLOTS]
                best = 0
                for k, t in enumerate(self.components()):
                    window = tx[t, L.TX_ONSET_FIRST] <= self.wk <= tx[t, L.TX_ONSET_LAST]
                    if self.wk <= self.ek[0, k] and window:
                        hz += self.xk[0, k]
                        if self.xk[0, k] > bestx:
                            best, bestx = k, self.xk[0, k]
            lived = self.wk > 0 if self.phase == L.ACUTE else True
            if hz > 0.0 and lived:
                self.rsbudget -= q(hz)
            if self.rsbudget <= 0:
                if self.first_response < 0:
                    self.first_response = w
                if best == L.NATURAL:
                    share, psych = ef[L.EF_NH_REM], 0.0
                else:
                    t = p.comp[self.vb + self.step_i, best]
                    share, psych = tx[t, L.TX_REM_SHARE], tx[t, L.TX_PSYCH]
                if uniform(m.seed_, self.pid, w, R.P_REMISSION) < share:
                    self.clin = L.REMISSION
                else:
                    self.clin = L.RESPONSE
                    self.dpbudget = int_budget(m.seed_, self.pid, w, R.P_DEEPEN)
                self.gain = int(
                    psych > 0.0
                    and uniform(m.seed_, self.pid, w, R.P_SUDDEN_GAIN) < ef[L.EF_SG_PROB]
                )
                self.rc = best
                if best == L.NATURAL or self.wk >= self.ek[0, best]:
                    start_fu = True
                else:
                    self.phase, self.cs = L.COURSE, int(self.ek[0, best])
            elif self.phase == L.ACUTE:
                end = max(int(self.ek[0, k]) for k in range(len(self.components())))
                if self.wk >= end and self.wk > 0:
                    if p.step_counts[self.vb + self.step_i] > 0:
                        self.fails += 1
                        self.h = K.natural_hazard(m.nhz, self.fails, self.mods, ef[L.EF_NH_WEEKS])
                    advance = True
        else:
            if self.clin == L.RESPONSE:  # a partial response may deepen into remission
                self.dpbudget -= q(ef[L.EF_DEEP_H])
                if self.dpbudget <= 0:
                    self.clin = L.REMISSION
                    if self.phase == L.FOLLOWUP:
                        # the hazard left before relapse, carried to the full-remission curve
                        r = math.exp(ef[L.EF_R_RESID])
                        f, row = min(self.wk - self.cs - 1, m.weeks), self.followup_row()
                        self.relapse_at = m.rel[row, 0, f] + r * (
                            self.relapse_at - m.rel[row, 1, f]
                        )
            if self.phase == L.COURSE and self.wk >= self.cs:
                start_fu = True
        if start_fu:
            self.start_followup(w)
        elif self.phase == L.FOLLOWUP:
            # 3. relapse by weeks since the clock started
            k = min(self.wk - self.cs, m.weeks)
            if (
                m.rel[self.followup_row(), 1 if self.clin == L.RESPONSE else 0, k]
                >= self.relapse_at
            ):
                # 4. where care resumes
                self.clin = L.DEPRESSED
                self.relapses += 1
                if self.first_relapse < 0:
                    self.first_relapse = w
                self.rsbudget = int_budget(m.seed_, self.pid, w, R.P_RESPONSE)
                natural = self.rc == L.NATURAL or self.step_i >= n
                if not natural and p.on_relapse == L.RELAPSE_ADVANCE:
                    advance = True
                else:
                    restart = True
        if advance:
            self.step_i += 1
            restart = True
        if restart:
            if self.step_i >= n:
                if p.on_exhausted == L.EXHAUSTED_REPEAT_LAST:
                    self.step_i = n - 1
                elif p.on_exhausted == L.EXHAUSTED_RESTART:
                    self.step_i = self.entry
                else:
                    self.step_i = n
                    self.phase = L.UNTREATED if p.on_exhausted == L.EXHAUSTED_NONE else L.USUAL
                    self.wk = 0
                    restart = False
            if restart:
                self.plan(w if self.max_step > 0 else -1)
                self.phase, self.wk = L.ACUTE, 0
                self.max_step = max(self.max_step, self.step_i + 1)
        # 5. costs and QALYs
        u, wc = ef[L.EF_U_DEP], ef[L.EF_C_DEP]
        if self.clin == L.RESPONSE:
            u, wc = ef[L.EF_U_RESP], ef[L.EF_C_RESP]
        elif self.clin == L.REMISSION:
            u, wc = ef[L.EF_U_REM], ef[L.EF_C_REM]
        course = self.phase in (L.ACUTE, L.COURSE)
        after = self.phase == L.FOLLOWUP and self.rc != L.NATURAL
        if self.step_i < n and (course or after):
            for k, t in enumerate(self.components()):
                if self.wk <= self.ek[0, k]:
                    wc += tx[t, L.TX_COST_WEEK]
                    u -= tx[t, L.TX_DISUTILITY]
        elif self.phase == L.USUAL:
            wc += p.usual_cost
            u -= p.usual_disutility
        if self.phase == L.FOLLOWUP:
            row = self.followup_row()
            wc += p.maint_cost[row, min(self.wk - self.cs, m.cum_h.shape[0] - 1)]
        self.close_segment(w, wc, u)


class MesaCohortModel(mesa.Model):
    """A cohort of Patient agents stepped week by week."""

    def __init__(self, cohort, inputs, pathway, seed: int):
        super().__init__(rng=seed)
        self.seed_ = seed
        self.tx, self.ef, self.nhz, self.ctxz = inputs.tx, inputs.ef, inputs.nhz, inputs.ctxz
        self.mort_h, self.cum_h = inputs.mort_h, inputs.cum_h
        self.cum_qw, self.cum_dc = inputs.cum_qaly_weight, inputs.cum_disc_c
        self.weeks = len(inputs.disc_c)
        self.rel = K.relapse_table(pathway.maint_hr, inputs.cum_h, self.weeks)
        self.pathway = pathway
        self.week = 0
        variant = pathway.variants_of(cohort.attributes())
        for i in range(len(cohort)):
            Patient(
                self, cohort.pid0 + i, cohort.age[i], cohort.sex[i], cohort.severity[i],
                cohort.maltreatment[i], cohort.inflammation[i], cohort.flexibility[i],
                cohort.chronic[i], cohort.failed_trials[i], variant[i],
            )  # fmt: skip

    def step(self) -> None:
        self.agents.do("step")
        self.week += 1
