"""One trdsim run per output folder at a time, across processes and machines.

A run takes a lock on its output folder before any work: a file `.trdsim.lock` in the
folder itself, created with O_CREAT | O_EXCL (atomic, also on a filesystem shared by
several machines), holding the host, the process id and the time. A second run into the
same folder, from any process on any host sharing the folder (whatever its TMPDIR), stops
with a message naming the holder instead of interleaving files. The lock is removed when
the run ends (and the folder too, if the run made it and left it empty: a run refused
for bad input leaves nothing behind).

A lock is stale, and taken over, when its process has ended: known for certain only on
its own host (the pid is dead). A lock held by another host is never taken over unless
it is older than STALE_HOURS (that host may have crashed; its pid cannot be checked
from here).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

from trdsim.errors import TrdsimError

__all__ = ["LOCK_FILE", "STALE_HOURS", "holds", "lock_folder", "release_all", "release_folder"]

LOCK_FILE = ".trdsim.lock"
STALE_HOURS = 24.0  # a lock from another host older than this is taken over
_UNWRITTEN_SECONDS = 60.0  # an empty lock file older than this was never finished

# lock file -> whether this process made its folder (removed again if left empty)
_HELD: dict[Path, bool] = {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    except OSError:
        return False
    return True


def _holder(path: Path) -> dict | None:
    """What a lock file says (host, pid, time, since) or None if it cannot be read."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _age_seconds(holder: dict | None, path: Path) -> float:
    t = holder.get("time") if holder else None
    if isinstance(t, (int, float)):
        return time.time() - float(t)
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _stale(holder: dict | None, path: Path) -> bool:
    """Whether a lock may be taken over (see the module's docstring)."""
    age = _age_seconds(holder, path)
    if holder is None:  # being written this instant, or cut by a crash long ago
        return age > _UNWRITTEN_SECONDS
    pid = holder.get("pid")
    if holder.get("host") == socket.gethostname() and isinstance(pid, int):
        return pid == os.getpid() or not _alive(pid)
    return age > STALE_HOURS * 3600


def _who(holder: dict | None) -> str:
    if holder is None:
        return "a run whose lock file is being written"
    return f"process {holder.get('pid')} on {holder.get('host')}, since {holder.get('since', '?')}"


def lock_folder(folder: Path) -> None:
    """Take this process's lock on `folder` (made if missing) until it exits or calls
    `release_folder`; TrdsimError naming the holder if another run holds it."""
    folder = Path(folder).absolute()
    path = folder / LOCK_FILE
    if path in _HELD:
        return
    made = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TrdsimError(f"--out {folder}: cannot be made ({e.strerror or e})") from None
    for _ in range(3):  # further tries after removing a stale lock
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(path)
            if not _stale(holder, path):
                _forget(folder, made)
                raise TrdsimError(
                    f"--out {folder}: in use by another trdsim run ({_who(holder)}; lock "
                    f"{path}); wait for it to finish or write to another folder (a lock "
                    f"from another host is taken over after {STALE_HOURS:g} hours)"
                ) from None
            # stale: moved aside under a name of our own first, so that two runs taking
            # it over at once do not remove each other's new lock
            aside = path.with_name(f"{LOCK_FILE}.stale-{os.getpid()}")
            try:
                path.replace(aside)
                aside.unlink(missing_ok=True)
            except OSError:
                pass
            continue
        except OSError as e:
            _forget(folder, made)
            raise TrdsimError(f"--out {folder}: cannot be written ({e.strerror or e})") from None
        now = time.time()
        with os.fdopen(fd, "w") as f:
            json.dump(
                {
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "time": now,
                    "since": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
                },
                f,
            )
        _HELD[path] = made
        return
    _forget(folder, made)
    raise TrdsimError(f"--out {folder}: could not take its lock ({path})")


def _forget(folder: Path, made: bool) -> None:
    """Remove `folder` again if this process made it and nothing is in it."""
    if made:
        with contextlib.suppress(OSError):
            folder.rmdir()


def holds(folder: Path) -> bool:
    """Whether this process holds the lock on `folder`."""
    return Path(folder).absolute() / LOCK_FILE in _HELD


def release_folder(folder: Path) -> None:
    """Release this process's lock on `folder` (if held)."""
    path = Path(folder).absolute() / LOCK_FILE
    if path in _HELD:
        made = _HELD.pop(path)
        holder = _holder(path)
        if holder is None or holder.get("pid") == os.getpid():
            path.unlink(missing_ok=True)
        _forget(path.parent, made)


def release_all() -> None:
    """Release this process's locks (at exit, or when a test is done)."""
    for path in list(_HELD):
        release_folder(path.parent)


atexit.register(release_all)
