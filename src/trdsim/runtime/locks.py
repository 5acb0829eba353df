"""One trdsim run per output folder at a time.

A run takes a lock on its output folder; a second run into the same folder stops with a
clear message instead of interleaving files (two identical `psa` runs used to fail with
a misleading "non-existent directory"). Locks live in the system's temporary folder,
keyed by the folder's absolute path, so taking one writes nothing into the user's tree
(a run refused for bad input leaves nothing behind). A lock whose process has ended is
stale and taken over.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import tempfile
from pathlib import Path

from trdsim.errors import TrdsimError

__all__ = ["lock_folder", "release_all"]

_HELD: set[Path] = set()


def _lock_path(folder: Path) -> Path:
    key = hashlib.sha1(str(folder.resolve()).encode()).hexdigest()[:20]
    return Path(tempfile.gettempdir()) / "trdsim-locks" / f"{key}.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def lock_folder(folder: Path) -> None:
    """Take this process's lock on `folder` until it exits; TrdsimError if another live
    trdsim process holds it."""
    path = _lock_path(folder)
    if path in _HELD:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):  # a second try after removing a stale lock
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(path.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pid = -1
            if pid > 0 and _alive(pid) and pid != os.getpid():
                raise TrdsimError(
                    f"--out {folder}: in use by another trdsim run (process {pid}); wait for "
                    "it to finish or write to another folder"
                ) from None
            path.unlink(missing_ok=True)  # stale: its process has ended
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()} {folder.resolve()}\n")
        _HELD.add(path)
        return
    raise TrdsimError(f"--out {folder}: could not take its lock ({path})")


def release_all() -> None:
    """Release this process's locks (at exit, or when a test is done)."""
    for path in list(_HELD):
        path.unlink(missing_ok=True)
        _HELD.discard(path)


atexit.register(release_all)
