"""Figures embedded in the report as data: URIs (the page needs no other file)."""

from __future__ import annotations

import base64
import html
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

__all__ = ["differs", "embed", "from_table", "png_bytes"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Maker = Callable[[Path], object]  # its return value (a Figure, or None) is not used


def differs(path: Path) -> bool:
    """Whether `path` differs from the file its folder's manifest records (sha256): not
    this result's (another run's, or cut). False when the manifest records no digest."""
    from trdsim.store.manifest import DIGESTS, sha256_of

    try:
        digests = json.loads((path.parent / "manifest.json").read_text()).get(DIGESTS)
    except (OSError, ValueError, AttributeError):
        return False
    if not isinstance(digests, dict) or path.name not in digests or not path.is_file():
        return False
    return sha256_of(path) != digests[path.name]


def from_table(path: Path, draw: Callable[[pd.DataFrame, Path], object]) -> Maker | None:
    """A maker that draws the figure from a parquet table, or None when the table is absent."""
    if not path.is_file():
        return None

    def make(out: Path) -> object:
        if differs(path):
            raise ValueError(f"{path} differs from the file manifest.json describes")
        return draw(pd.read_parquet(path), out)

    return make


def png_bytes(path: Path, make: Maker | None) -> bytes | None:
    """The PNG at `path` (if it is the result's own); else drawn afresh by `make` (e.g.
    after `--no-figures`); else None."""
    if path.is_file() and not differs(path):
        data = path.read_bytes()
        if data.startswith(PNG_SIGNATURE):
            return data
    if make is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figure.png"
        make(out)
        return out.read_bytes()


def embed(path: Path, caption: str, make: Maker | None, notices: list[str]) -> str:
    """A <figure> with the PNG inline, or "" and a notice when it cannot be had."""
    try:
        data = png_bytes(path, make)
    except Exception as e:  # noqa: BLE001 - a table that cannot be drawn costs one figure, not the report
        notices.append(f"figure '{caption}' is not included: drawing it failed ({e})")
        return ""
    if data is None:
        notices.append(f"figure '{caption}' is not included: {path} is missing or not a PNG")
        return ""
    b64 = base64.b64encode(data).decode("ascii")
    alt = html.escape(caption)
    return (
        f'<figure><img src="data:image/png;base64,{b64}" alt="{alt}" data-file="{html.escape(path.name)}">'
        f"<figcaption>{alt}</figcaption></figure>"
    )
