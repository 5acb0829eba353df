"""Column layout of the arrays the kernel reads, and the codes of its states.

The kernel sees only numbers; this module is the one place that names them.
"""

__all__ = [
    "ACUTE",
    "CAUSE_OTHER",
    "CAUSE_SUICIDE",
    "CC_DEP",
    "CC_REM",
    "CC_RESP",
    "CC_TX0",
    "CC_USUAL",
    "COURSE",
    "DEAD",
    "DEPRESSED",
    "DEPRESSED_TRACE_STATES",
    "EF_B_CHRONIC",
    "EF_B_FLEX",
    "EF_B_INFL",
    "EF_B_MALT",
    "EF_B_SEV",
    "EF_CTX_FIRST",
    "EF_CTX_LAST",
    "EF_C_DEP",
    "EF_C_REM",
    "EF_C_RESP",
    "EF_DEEP_H",
    "EF_MORT_HR",
    "EF_NCOL",
    "EF_NH_REM",
    "EF_NH_WEEKS",
    "EF_R_FAIL",
    "EF_R_FLEX",
    "EF_R_MALT",
    "EF_R_NF0",
    "EF_R_RESID",
    "EF_R_SG",
    "EF_SEV_MEAN",
    "EF_SG_PROB",
    "EF_SUICIDE_H",
    "EF_U_DEP",
    "EF_U_REM",
    "EF_U_RESP",
    "EXHAUSTED_NONE",
    "EXHAUSTED_REPEAT_LAST",
    "EXHAUSTED_RESTART",
    "EXHAUSTED_USUAL_CARE",
    "FOLLOWUP",
    "GATE_OPEN",
    "GATE_PROBE",
    "GATE_SKIP",
    "GATE_WAIT",
    "MAX_COMPONENTS",
    "MAX_MAINTENANCE",
    "MX_COST_WEEK",
    "MX_DURATION",
    "MX_HR",
    "MX_HR_PARTIAL",
    "MX_NCOL",
    "NATURAL",
    "NF_MAX",
    "RELAPSE_ADVANCE",
    "RELAPSE_RETREAT",
    "REMISSION",
    "RESPONSE",
    "TRACE_STATES",
    "TX_COST_WEEK",
    "TX_COUNTS",
    "TX_DISUTILITY",
    "TX_DROPOUT",
    "TX_ENDURING_HALF",
    "TX_ENDURING_LNHR",
    "TX_LN_OR",
    "TX_MONO",
    "TX_NCOL",
    "TX_ONSET_FIRST",
    "TX_ONSET_LAST",
    "TX_OR",
    "TX_PSYCH",
    "TX_RELAPSE_HR",
    "TX_REM_SHARE",
    "TX_TRIAL_WEEKS",
    "T_DEAD",
    "T_DEAD_SUICIDE",
    "T_ON_TREATMENT",
    "T_REMISSION",
    "T_RESPONSE",
    "T_UNTREATED",
    "T_USUAL",
    "T_WAITING",
    "UNTREATED",
    "USUAL",
    "WAITING",
]

# Clinical status
DEPRESSED = 0
RESPONSE = 1
REMISSION = 2
DEAD = 3

# Treatment phase
ACUTE = 0  # depressed, on a pathway step whose components are running
COURSE = 1  # responded; the component that produced the response is still running
FOLLOWUP = 2  # relapse clock running; maintenance active for its duration
USUAL = 3  # usual care (a usual-care step, or after the pathway): natural history only
WAITING = 4  # depressed, waiting for a service to start the step in `step`
UNTREATED = 5  # after the pathway with on_exhausted = "none": natural history, no care

# Gate: what a one-week call may do for a patient (the care-system model's capacity)
GATE_SKIP = -1  # not in the system this week (not yet referred): left untouched
GATE_PROBE = 0  # run the week, but if it would start a step, undo the week and flag it
GATE_OPEN = 1  # run the week; steps start when due (the only gate outside capacity)
GATE_WAIT = 2  # run the week; a step due to start is not started: the patient waits

# Trace states (columns of the week x state count table)
TRACE_STATES = (
    "on_treatment_depressed",
    "usual_care_depressed",
    "response",
    "remission",
    "dead",
    "waiting_depressed",
    "untreated_depressed",
    "dead_suicide",
)
DEPRESSED_TRACE_STATES = (
    "on_treatment_depressed",
    "usual_care_depressed",
    "waiting_depressed",
    "untreated_depressed",
)
T_ON_TREATMENT = 0
T_USUAL = 1
T_RESPONSE = 2
T_REMISSION = 3
T_DEAD = 4
T_WAITING = 5
T_UNTREATED = 6
T_DEAD_SUICIDE = 7  # deaths from suicide (T_DEAD: every other cause)

# Causes of death (per-patient output)
CAUSE_NONE = 0
CAUSE_OTHER = 1
CAUSE_SUICIDE = 2

# Cost categories (columns of the per-patient cost-category array): discounted weeks
# in each clinical state (numbered as the states, so a state's code is its column), in
# usual care (the usual-care phase and waiting), on each treatment (column CC_TX0 + its
# treatment-table row) and on each maintenance option (column CC_TX0 + treatments + its
# maintenance-table row). Weeks times the weekly cost of each category add up to the
# patient's total cost.
CC_DEP = DEPRESSED
CC_RESP = RESPONSE
CC_REM = REMISSION
CC_USUAL = 3
CC_TX0 = 4

# Components of one pathway step (treatments given together)
MAX_COMPONENTS = 3
NATURAL = -1  # "responsible component" of a response natural history produced off a course

# Treatment table columns (one row per library treatment a scenario uses)
TX_LN_OR = 0  # ln odds ratio of response vs the usual-care baseline at TX_TRIAL_WEEKS
TX_REM_SHARE = 1  # remission among responders
TX_TRIAL_WEEKS = 2  # course length; the effect's time point
TX_ONSET_FIRST = 3  # window of weeks in which the excess response hazard acts
TX_ONSET_LAST = 4
TX_DROPOUT = 5  # share of starters who stop the component for intolerance
TX_RELAPSE_HR = 6  # relapse hazard ratio of its responders vs the baseline curve
TX_MONO = 7
TX_PSYCH = 8
TX_COUNTS = 9  # 1 if failing it counts as a failed adequate trial
TX_COST_WEEK = 10
TX_DISUTILITY = 11
TX_OR = 12  # exp(TX_LN_OR), for components no patient attribute modifies
TX_ENDURING_LNHR = 13  # ln HR on relapse after a completed course (0: none)
TX_ENDURING_HALF = 14  # its half-life in weeks of the relapse clock (inf: no waning)
TX_NCOL = 15

# Maintenance table columns
MX_HR = 0
MX_HR_PARTIAL = 1
MX_DURATION = 2
MX_COST_WEEK = 3
MX_NCOL = 4
MAX_MAINTENANCE = 3  # components per step

# Effects vector
EF_B_MALT = 0  # ln OR of response (baseline) with childhood maltreatment
EF_B_INFL = 1  # ln OR of a monoaminergic component's effect with raised CRP
EF_B_SEV = 2  # log-odds per severity point above the reference mean (psychotherapy effect)
EF_B_FLEX = 3  # ln OR of response (baseline) per SD of psychological flexibility
EF_B_CHRONIC = 4  # ln OR of response (baseline) with a chronic episode (>= 2 years)
EF_R_FAIL = 5  # ln HR of relapse per failed trial (vs the baseline curve's population)
EF_R_RESID = 6
EF_R_MALT = 7
EF_R_FLEX = 8
EF_SG_PROB = 9
EF_R_SG = 10
EF_MORT_HR = 11
EF_U_DEP = 12
EF_U_RESP = 13
EF_U_REM = 14
EF_SEV_MEAN = 15  # reference severity (effects are centred on the evidence's population)
EF_C_DEP = 16  # weekly cost by clinical state: health-care state costs (+ productivity)
EF_C_RESP = 17
EF_C_REM = 18
EF_NH_WEEKS = 19  # period of the natural-history response probability
EF_NH_REM = 20  # remission among natural-history responders
EF_DEEP_H = 21  # weekly hazard of a responder deepening into remission
EF_R_NF0 = 22  # failed trials of the baseline relapse curve's population
EF_CTX_FIRST = 23  # weeks of a course in which the trial-context response arises
EF_CTX_LAST = 24
EF_SUICIDE_H = 25  # weekly suicide hazard while depressed (a cause of its own)
EF_NCOL = 26

NF_MAX = 15  # failed trials beyond this share the last natural-history intercept

# Pathway rules
RELAPSE_ADVANCE = 0
RELAPSE_RETREAT = 1
EXHAUSTED_USUAL_CARE = 0
EXHAUSTED_NONE = 1
EXHAUSTED_REPEAT_LAST = 2
EXHAUSTED_RESTART = 3
