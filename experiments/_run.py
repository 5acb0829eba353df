"""Shared by the experiment scripts: run a trdsim command, stop on failure."""

from trdsim.cli import main as trdsim_main


def run(argv: list[str]) -> None:
    """Run `trdsim ARGV...` in this process; exit with its message if it fails."""
    if trdsim_main(argv) != 0:
        raise SystemExit(f"trdsim {' '.join(argv)} failed")
