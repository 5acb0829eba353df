"""The notebooks in examples/ run from top to bottom (so they cannot rot), and what they
show is what trdsim returns: every code cell executes without an error."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))


def test_the_three_examples_are_there():
    assert {p.stem for p in NOTEBOOKS} >= {
        "compare_and_frontier",
        "psa_ceac_evppi",
        "capacity_whatif",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path):
    book = nbformat.read(path, as_version=4)
    # the kernel is this interpreter's (ipykernel in the same environment)
    NotebookClient(book, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    code = [c for c in book.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    # figures are displayed by the notebook (trdsim returns them): at least one image
    images = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "no figure was displayed"
