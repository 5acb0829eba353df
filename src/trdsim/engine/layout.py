"""Column layout of the arrays the kernel reads, and the codes of its states.

The kernel sees only numbers; this module is the one place that names them.
"""

# Clinical status
DEPRESSED = 0
RESPONSE = 1
REMISSION = 2
DEAD = 3

# Treatment phase
ACUTE = 0  # depressed, on a pathway step
COURSE = 1  # responded, completing the acute course
FOLLOWUP = 2  # after the course; maintenance active for its duration
OFF = 3  # pathway exhausted, no active treatment
WAITING = 4  # depressed, waiting for a service to start the step in `step`

# Gate: what a one-week call may do for a patient (the care-system model's capacity)
GATE_SKIP = -1  # not in the system this week (not yet referred): left untouched
GATE_PROBE = 0  # run the week, but if it would start a step, undo the week and flag it
GATE_OPEN = 1  # run the week; steps start when due (the only gate outside capacity)
GATE_WAIT = 2  # run the week; a step due to start is not started: the patient waits

# Planned outcome of a step (drawn when the step starts)
EV_RESPOND = 0
EV_DROPOUT = 1
EV_FAIL = 2

# Trace states (columns of the week x state count table)
TRACE_STATES = (
    "on_treatment_depressed",
    "untreated_depressed",
    "response",
    "remission",
    "dead",
    "waiting_depressed",
)
T_ON_TREATMENT = 0
T_UNTREATED = 1
T_RESPONSE = 2
T_REMISSION = 3
T_DEAD = 4
T_WAITING = 5

# Treatment table columns
TX_ALPHA = 0  # individual-level logit intercept of response (calibrated)
TX_REM_SHARE = 1  # remission among responders
TX_TRIAL_WEEKS = 2
TX_ONSET_FIRST = 3
TX_ONSET_LAST = 4
TX_DROPOUT = 5  # over the trial, as a share of all patients
TX_W_SCALE = 6  # Weibull scale (weeks) of relapse after the course
TX_W_SHAPE = 7
TX_REF_HR = 8  # relapse HR of the maintenance the curve was measured under
TX_REF_FAIL = 9  # failed trials in the source population
TX_MONO = 10
TX_PSYCH = 11
TX_COST_WEEK = 12
TX_DISUTILITY = 13
TX_RELAPSE_C = 14  # relapse multiplier that keeps the curve the population average
TX_NCOL = 15

# Maintenance table columns
MX_HR = 0
MX_HR_PARTIAL = 1
MX_DURATION = 2
MX_COST_WEEK = 3
MX_NCOL = 4
MAX_MAINTENANCE = 3  # components per step

# Effects vector
EF_B_FAIL = 0  # ln OR of response per failed trial
EF_B_MALT = 1
EF_B_INFL = 2
EF_B_SEV = 3  # log-odds per severity point above the cohort mean (psychotherapy)
EF_B_FLEX = 4
EF_R_FAIL = 5  # ln HR of relapse per failed trial
EF_R_RESID = 6
EF_R_MALT = 7
EF_R_FLEX = 8
EF_SG_PROB = 9
EF_R_SG = 10
EF_MORT_HR = 11
EF_U_DEP = 12
EF_U_RESP = 13
EF_U_REM = 14
EF_SEV_MEAN = 15
EF_PROD_DEP = 16  # productivity loss per week by state (societal perspective)
EF_PROD_RESP = 17
EF_PROD_REM = 18
EF_NCOL = 19

# Pathway rules
RELAPSE_ADVANCE = 0
RELAPSE_RETREAT = 1
EXHAUSTED_NONE = 0
EXHAUSTED_REPEAT_LAST = 1
EXHAUSTED_RESTART = 2
