"""mypy against a baseline that may only shrink.

    python tools/mypy_check.py            # exit 1 on a new error, or on a fixed one still listed
    python tools/mypy_check.py --update   # rewrite the baseline with today's errors

mypy's settings are in pyproject.toml ([tool.mypy]). tools/mypy_baseline.txt lists the
errors accepted when mypy was brought in, one line per error, `file: [code] message`,
without line numbers, so editing elsewhere in a file does not disturb it (the same error
twice in a file is listed twice). An error not in the baseline fails the check; so does
a baseline entry no longer reported (remove it: `--update`), so the list only shrinks.
When a module moves, its entries match the same errors in its new file (a note asks
for `--update`).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tools" / "mypy_baseline.txt"
HEADER = (
    "# mypy errors accepted as of its introduction; may only shrink.\n"
    "# `python tools/mypy_check.py --update` rewrites this file. One line per error:\n"
    "# file: [code] message (no line numbers)\n"
)
# path:line[:column]: error: message  [code]
ERROR = re.compile(
    r"^(?P<path>[^:\s][^:]*):\d+(?::\d+)?: error: (?P<msg>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)


def normalise(path: str, code: str | None, msg: str) -> str:
    path = Path(path).as_posix()
    msg = re.sub(r"\bline \d+\b", "line N", msg)  # "defined on line 12"
    return f"{path}: [{code or 'error'}] {msg}"


def run_mypy(args: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "mypy", "--no-pretty", "--no-error-summary",
           "--show-error-codes", "--no-color-output", *args]  # fmt: skip
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if p.returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        sys.stderr.write(p.stdout + p.stderr)
        raise SystemExit(f"mypy failed (exit {p.returncode})")
    errors = []
    for line in p.stdout.splitlines():
        m = ERROR.match(line)
        if m:
            errors.append(normalise(m["path"], m["code"], m["msg"]))
    return sorted(errors)


def read_baseline(path: Path = BASELINE) -> list[str]:
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [x for x in lines if x.strip() and not x.startswith("#")]


def compare(baseline: list[str], now: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(new errors, baseline entries fixed, entries matched in a moved file)."""
    new = Counter(now) - Counter(baseline)
    fixed = Counter(baseline) - Counter(now)
    moved = []
    # an entry of a file that is gone matches the same error in another file
    for entry in list(fixed.elements()):
        path, rest = entry.split(": ", 1)
        if (ROOT / path).exists():
            continue
        twin = next((e for e in new if new[e] and e.split(": ", 1)[1] == rest), None)
        if twin is not None:
            new[twin] -= 1
            fixed[entry] -= 1
            moved.append(f"{path} -> {twin.split(': ', 1)[0]}: {rest}")
    return sorted(new.elements()), sorted(fixed.elements()), moved


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--update", action="store_true", help="rewrite the baseline")
    ap.add_argument("mypy_args", nargs="*", help="extra arguments for mypy")
    args = ap.parse_args(argv)
    now = run_mypy(args.mypy_args)
    if args.update:
        BASELINE.write_text(HEADER + "".join(f"{e}\n" for e in now))
        print(f"{BASELINE.relative_to(ROOT)}: {len(now)} errors")
        return 0
    new, fixed, moved = compare(read_baseline(), now)
    for line in moved:
        print(f"moved (run --update to record): {line}")
    if new:
        print(f"{len(new)} mypy error(s) not in the baseline:")
        print("".join(f"  {e}\n" for e in new), end="")
    if fixed:
        print(f"{len(fixed)} baseline entr(ies) fixed; remove them (--update):")
        print("".join(f"  {e}\n" for e in fixed), end="")
    if new or fixed:
        return 1
    print(f"mypy: {len(now)} errors, all in the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
