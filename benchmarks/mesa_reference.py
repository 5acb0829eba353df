"""The trdsim clinical model written the natural mesa way: the speed reference peer.

One `mesa.Agent` per patient with a Python `step()` doing one week, the same rules,
parameters and counter-based random numbers as the numba kernel -- so on a small cohort
it must reproduce the kernel's per-patient results, which `bench_core.py` checks.
"""

import math

import mesa

from trdsim.engine import layout as L
from trdsim.engine import rng as R

MASK = (1 << 64) - 1
GOLDEN, M1, M2, WEEK_MUL = (int(x) for x in (R._GOLDEN, R._M1, R._M2, R._WEEK_MUL))


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * M1) & MASK
    z = ((z ^ (z >> 27)) * M2) & MASK
    return z ^ (z >> 31)


def uniform(seed: int, pid: int, week: int, purpose: int) -> float:
    z = _mix((seed * GOLDEN + pid) & MASK)
    z = _mix(z ^ (((week + 1) * WEEK_MUL + purpose) & MASK))
    return float(z >> 11) * (1.0 / 9007199254740992.0)


class Patient(mesa.Agent):
    """One patient; `step` advances one week in the kernel's documented order."""

    def __init__(self, model, pid, age, sex, sev, malt, infl, flex, fails):
        super().__init__(model)
        self.pid, self.age0, self.sex = pid, float(age), int(sex)
        self.sev, self.malt, self.infl, self.flex = float(sev), int(malt), int(infl), float(flex)
        self.fails = int(fails)
        p = model.pathway
        self.entry = min(self.fails, p.n_steps - 1)
        self.step_i, self.wk, self.gain, self.rmult, self.rbudget = self.entry, -1, 0, 0.0, 0.0
        self.clin, self.phase = L.DEPRESSED, L.ACUTE
        self.cost = self.qaly = 0.0
        self.weeks_alive = 0
        self.first_relapse = self.death_week = -1
        self.relapses = 0
        self.dbudget = -math.log(1.0 - uniform(model.seed_, pid, -1, R.P_DEATH))
        self.plan(-1)

    def plan(self, week: int) -> None:
        tx, ef, t = self.model.tx, self.model.ef, self.model.pathway.steps[self.step_i]
        eta = (
            tx[t, L.TX_ALPHA]
            + ef[L.EF_B_FAIL] * (self.fails - tx[t, L.TX_REF_FAIL])
            + ef[L.EF_B_MALT] * self.malt
            + ef[L.EF_B_INFL] * self.infl * tx[t, L.TX_MONO]
            + ef[L.EF_B_SEV] * (self.sev - ef[L.EF_SEV_MEAN]) * tx[t, L.TX_PSYCH]
            + ef[L.EF_B_FLEX] * self.flex
        )
        p = 1.0 / (1.0 + math.exp(-eta))
        s = self.model.seed_
        n_weeks = int(tx[t, L.TX_TRIAL_WEEKS])
        if uniform(s, self.pid, week, R.P_OUTCOME) < p:
            first = int(tx[t, L.TX_ONSET_FIRST])
            span = int(tx[t, L.TX_ONSET_LAST]) - first + 1
            self.ev = L.EV_RESPOND
            self.ev_wk = first + int(uniform(s, self.pid, week, R.P_ONSET) * span)
        elif uniform(s, self.pid, week, R.P_DROPOUT) < tx[t, L.TX_DROPOUT]:
            self.ev = L.EV_DROPOUT
            self.ev_wk = 1 + int(uniform(s, self.pid, week, R.P_DROP_WEEK) * n_weeks)
        else:
            self.ev, self.ev_wk = L.EV_FAIL, n_weeks

    def step(self) -> None:
        m, w = self.model, self.model.week
        tx, ef, p = m.tx, m.ef, m.pathway
        if self.clin == L.DEAD:
            return
        h = m.mort_h[self.sex, min(int(self.age0 + w * (1.0 / 52.0)), m.mort_h.shape[1] - 1)]
        if self.clin == L.DEPRESSED:
            h *= ef[L.EF_MORT_HR]
        self.dbudget -= h
        if self.dbudget <= 0.0:
            self.clin, self.death_week = L.DEAD, w
            return
        restart = advance_step = False
        if self.phase in (L.ACUTE, L.COURSE):
            t = p.steps[self.step_i]
            self.wk += 1
            if self.phase == L.ACUTE and self.wk == self.ev_wk:
                if self.ev == L.EV_RESPOND:
                    rem = uniform(m.seed_, self.pid, w, R.P_REMISSION) < tx[t, L.TX_REM_SHARE]
                    self.clin = L.REMISSION if rem else L.RESPONSE
                    self.gain = int(
                        tx[t, L.TX_PSYCH] > 0.0
                        and uniform(m.seed_, self.pid, w, R.P_SUDDEN_GAIN) < ef[L.EF_SG_PROB]
                    )
                    self.phase = L.COURSE
                else:
                    self.fails += 1
                    advance_step = True
            if self.phase == L.COURSE and self.wk >= int(tx[t, L.TX_TRIAL_WEEKS]):
                self.phase, self.wk = L.FOLLOWUP, 0
                lin = (
                    ef[L.EF_R_FAIL] * (self.fails - tx[t, L.TX_REF_FAIL])
                    + ef[L.EF_R_MALT] * self.malt
                    + ef[L.EF_R_FLEX] * self.flex
                    + ef[L.EF_R_SG] * self.gain
                )
                if self.clin == L.RESPONSE:
                    lin += ef[L.EF_R_RESID]
                self.rmult = tx[t, L.TX_RELAPSE_C] * math.exp(lin) / tx[t, L.TX_REF_HR]
                self.rbudget = -math.log(1.0 - uniform(m.seed_, self.pid, w, R.P_RELAPSE))
        elif self.phase == L.FOLLOWUP:
            t = p.steps[self.step_i]
            self.wk += 1
            k = min(self.wk, m.cum_h.shape[1] - 1)
            mult = self.rmult * p.maint_hr[self.step_i, k, 1 if self.clin == L.RESPONSE else 0]
            self.rbudget -= mult * (m.cum_h[t, k] - m.cum_h[t, k - 1])
            if self.rbudget <= 0.0:
                self.clin = L.DEPRESSED
                self.relapses += 1
                if self.first_relapse < 0:
                    self.first_relapse = w
                if p.on_relapse == L.RELAPSE_ADVANCE:
                    advance_step = True
                else:
                    restart = True
        if advance_step:
            self.step_i += 1
            restart = True
        if restart:
            if self.step_i >= p.n_steps:
                if p.on_exhausted == L.EXHAUSTED_REPEAT_LAST:
                    self.step_i = p.n_steps - 1
                elif p.on_exhausted == L.EXHAUSTED_RESTART:
                    self.step_i = self.entry
                else:
                    self.step_i, self.phase, restart = p.n_steps - 1, L.OFF, False
            if restart:
                self.plan(w)
                self.phase, self.wk = L.ACUTE, 0
        u, wc = ef[L.EF_U_DEP], ef[L.EF_PROD_DEP]
        if self.clin == L.RESPONSE:
            u, wc = ef[L.EF_U_RESP], ef[L.EF_PROD_RESP]
        elif self.clin == L.REMISSION:
            u, wc = ef[L.EF_U_REM], ef[L.EF_PROD_REM]
        if self.phase in (L.ACUTE, L.COURSE):
            t = p.steps[self.step_i]
            wc += tx[t, L.TX_COST_WEEK]
            u -= tx[t, L.TX_DISUTILITY]
        elif self.phase == L.FOLLOWUP:
            wc += p.maint_cost[self.step_i, min(self.wk, m.cum_h.shape[1] - 1)]
        self.cost += wc * m.disc_c[w]
        self.qaly += u * m.qaly_weight[w]
        self.weeks_alive += 1


class MesaCohortModel(mesa.Model):
    """A cohort of Patient agents stepped week by week."""

    def __init__(self, cohort, inputs, pathway, seed: int):
        super().__init__(rng=seed)
        self.seed_ = seed
        self.tx, self.ef = inputs.tx, inputs.ef
        self.mort_h, self.cum_h = inputs.mort_h, inputs.cum_h
        self.qaly_weight, self.disc_c = inputs.qaly_weight, inputs.disc_c
        self.pathway = pathway
        self.week = 0
        for i in range(len(cohort)):
            Patient(
                self, cohort.pid0 + i, cohort.age[i], cohort.sex[i], cohort.severity[i],
                cohort.maltreatment[i], cohort.inflammation[i], cohort.flexibility[i],
                cohort.failed_trials[i],
            )  # fmt: skip

    def step(self) -> None:
        self.agents.do("step")
        self.week += 1
