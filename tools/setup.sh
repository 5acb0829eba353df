#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install trdsim (editable). Usage:
#   bash tools/setup.sh          # the package
#   bash tools/setup.sh test     # the package and its test tools
# Finds Python 3.12+ on PATH, or in pyenv's versions when the global pyenv Python is older.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"

find_python() {
  local c v
  for c in python3.14 python3.13 python3.12 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  for v in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3; do
    if [ -x "$v" ]; then echo "$v"; return 0; fi
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
  py=$(find_python) || { echo "setup: Python 3.12 or newer is needed (mesa >= 3.4 requires it); none found" >&2; exit 1; }
  echo "setup: creating .venv with $("$py" --version)" >&2
  rm -rf .venv
  "$py" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "$extra" = "test" ]; then
  .venv/bin/python -m pip install --quiet -e ".[test]"
  # .ci/run lints with ruff before the tests; the test extra lists it, this catches an
  # environment where it did not land on .venv/bin
  if [ ! -x .venv/bin/ruff ]; then
    .venv/bin/python -m pip install --quiet "ruff>=0.6"
  fi
  # The report's browser test drives Debian's Chromium through its ChromeDriver (selenium is
  # pointed at both, so nothing is downloaded at test time).
  if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo"
    if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
      echo "setup: installing chromium and chromium-driver (Debian packages) for the browser test" >&2
      $sudo apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
    else
      echo "setup: the browser test needs chromium and chromedriver on PATH (Debian: apt-get install chromium chromium-driver)" >&2
    fi
  fi
else
  .venv/bin/python -m pip install --quiet -e .
fi
echo "setup: ready (.venv/bin/trdsim)" >&2
