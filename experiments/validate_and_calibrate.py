"""Validation of the default scenario against published targets, and a calibrated variant.

Run: .venv/bin/python experiments/validate_and_calibrate.py

1. `trdsim validate uk_nhs` and `us_payer` -> results/<scenario>/validation/ (table, one
   figure per target).
2. `trdsim calibrate` fits the remission shares of the first two steps (SSRI, switch) to
   STAR*D levels 1 and 2, the acute targets the library's values miss, and writes
   scenarios/uk_nhs_calibrated.toml, a scenario built on uk_nhs that `compare` and `psa`
   accept (results/calibration/ holds the fit). The fitted shares (about 0.9: nearly
   every responder a remitter) show the miss is in response, not in the share.
3. `trdsim compare uk_nhs_calibrated` -> results/uk_nhs_calibrated/.
4. `trdsim validate uk_nhs_calibrated` -> results/uk_nhs_calibrated/validation/.
5. `trdsim report` for each -> results/{uk_nhs,us_payer,uk_nhs_calibrated}/report.html.
The library's defaults are not changed: which evidence to prefer is the user's call.
"""

import shutil
from pathlib import Path

from _run import run

ROOT = Path(__file__).resolve().parents[1]
FRAGMENT = ROOT / "scenarios" / "uk_nhs_calibrated.toml"


def main() -> None:
    for name in ("uk_nhs", "us_payer"):
        shutil.rmtree(ROOT / "results" / name / "validation", ignore_errors=True)
        run(["validate", name, "--out", str(ROOT / "results" / name / "validation")])
    run(["calibrate", "uk_nhs",
         "--target", "stard_level1_remission", "--target", "stard_level2_remission",
         "--param", "treatments.ssri.remission_share",
         "--param", "treatments.antidepressant_switch.remission_share",
         "--patients", "5000", "--seeds", "2",
         "--out", str(ROOT / "results" / "calibration" / "uk_nhs_calibrated.toml")])  # fmt: skip
    shutil.copy(ROOT / "results" / "calibration" / "uk_nhs_calibrated.toml", FRAGMENT)
    calibrated = ROOT / "results" / "uk_nhs_calibrated"
    run(["compare", str(FRAGMENT), "--out", str(calibrated)])
    run(["validate", str(FRAGMENT), "--out", str(calibrated / "validation")])
    for folder in (ROOT / "results" / "uk_nhs", ROOT / "results" / "us_payer", calibrated):
        run(["report", str(folder)])


if __name__ == "__main__":
    main()
