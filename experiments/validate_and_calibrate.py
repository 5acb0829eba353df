"""Validation of the default scenario against published targets, and a calibrated variant.

Run: .venv/bin/python experiments/validate_and_calibrate.py

1. Validation (`trdsim.validate`) of uk_nhs and us_payer -> results/<scenario>/validation/
   (table, one figure per target).
2. Calibration (`validation.calibrate.calibrate`, as `trdsim calibrate`) fits the remission shares of the first two steps (SSRI, switch) to
   STAR*D levels 1 and 2, the acute targets the library's values miss, and writes
   scenarios/uk_nhs_calibrated.toml, a scenario built on uk_nhs that `compare` and `psa`
   accept (results/calibration/ holds the fit). The fitted shares (about 0.9: nearly
   every responder a remitter) show the miss is in response, not in the share.
3. uk_nhs_calibrated compared -> results/uk_nhs_calibrated/ (the same costs and QALYs as
   uk_nhs: the fitted steps come before the TRD cohort enters, after two failed trials).
4. uk_nhs_calibrated validated -> results/uk_nhs_calibrated/validation/.
5. The report of each -> results/{uk_nhs,us_payer,uk_nhs_calibrated}/report.html.
The library's defaults are not changed: which evidence to prefer is the user's call.
"""

import shutil
from pathlib import Path

import trdsim
from trdsim.report import write_report
from trdsim.validation.calibrate import calibrate
from trdsim.validation.targets import load_targets

ROOT = Path(__file__).resolve().parents[1]
FRAGMENT = ROOT / "scenarios" / "uk_nhs_calibrated.toml"
TARGETS = ["stard_level1_remission", "stard_level2_remission"]
FITTED = ["treatments.ssri.remission_share", "treatments.antidepressant_switch.remission_share"]


def validate(scenario, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    v = trdsim.validate(scenario)
    v.write(out)
    print(v.summary())


def main() -> None:
    for name in ("uk_nhs", "us_payer"):
        validate(name, ROOT / "results" / name / "validation")
    uk = trdsim.load_scenario("uk_nhs")
    targets = [t for t in load_targets(None, uk) if t.id in TARGETS]
    fit = calibrate(uk, targets, FITTED, patients=5000, seeds=[uk.seed, uk.seed + 1])
    where = ROOT / "results" / "calibration" / "uk_nhs_calibrated.toml"
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(fit.fragment(where))
    fit.parameters.to_csv(where.with_suffix(".parameters.csv"), index=False)
    fit.fit.to_csv(where.with_suffix(".fit.csv"), index=False)
    shutil.copy(where, FRAGMENT)
    calibrated = ROOT / "results" / "uk_nhs_calibrated"
    trdsim.compare(str(FRAGMENT)).write(calibrated)
    validate(str(FRAGMENT), calibrated / "validation")
    for folder in (ROOT / "results" / "uk_nhs", ROOT / "results" / "us_payer", calibrated):
        write_report(folder)


if __name__ == "__main__":
    main()
