"""What keeps a catalogue file from being damaged by its own builds: one builder at a time, no temp
files left behind by a killed build, and disk failures said in one line.

Why a lock file *and* a temp file: the build writes ``.catalog.db.<random>.tmp`` next to the target
and renames it over the target (readers never see half a file). Two builds at once would each be
atomic but one would silently win; a build killed by SIGKILL or a power cut leaves its temp file.
So a build first takes an exclusive ``flock`` on ``.catalog.db.lock`` (released by the kernel when
the holder dies, so it never goes stale), refuses to start while another build holds it, and -- being
the only builder -- removes every ``.catalog.db.*.tmp``: those can only be left by dead builds. The
lock file is removed at the end, and a builder that locked a file someone just removed tries again.
"""

from __future__ import annotations

import errno
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from evidence.errors import BuildError

NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)


def lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def temp_files(out: Path) -> list[Path]:
    """Temp files of builds of ``out``: ``.<name>.*.tmp`` (as :func:`tempfile.mkstemp` names them) and
    SQLite's companions of those (``-journal``, ``-wal``, ``-shm``)."""
    return sorted(out.parent.glob(f".{out.name}.*.tmp")) + sorted(out.parent.glob(f".{out.name}.*.tmp-*"))


def disk_error(exc: BaseException, out: Path) -> BuildError | None:
    """A one-line :class:`BuildError` for a full disk or an unwritable target, else None. Accepts an
    ``OSError`` or a database error whose message says the same (SQLite reports a full disk itself)."""
    code = exc.errno if isinstance(exc, OSError) else None
    text = str(getattr(exc, "orig", exc)).lower()
    kept = "the previous catalogue is unchanged" if out.exists() else "nothing was written"
    if code in NO_SPACE or "disk is full" in text or "no space left" in text:
        return BuildError(f"no space left on the disk holding {out.parent}: free some space and build again ({kept})")
    if code in NOT_WRITABLE or "readonly database" in text or "read-only file system" in text:
        return BuildError(f"cannot write to {out.parent} (read-only or no permission): choose another --catalog "
                          f"or fix the permissions ({kept})")
    if isinstance(exc, OSError):
        return BuildError(f"cannot write the catalogue at {out}: {exc.strerror or exc} ({kept})")
    return None


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii").strip()
    except OSError:
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


@contextmanager
def exclusive_build(out: Path):
    """Hold the build lock of ``out`` for the block, after removing stale temp files.

    Raises :class:`BuildError` at once when another build holds it (no waiting: a second build on
    the same files is almost always a mistake, and the first one's result is what the user wants)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(out)
    for _ in range(10):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BuildError(f"another `evidence build`{_holder(path)} is writing {out}: "
                             "wait for it to finish, then build again") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # we locked a lock file the previous holder had just removed: take the new one
    else:  # pragma: no cover - ten removals in a row
        raise BuildError(f"could not take the build lock {path}")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        for stale in temp_files(out):  # we are the only builder: these were left by killed builds
            stale.unlink(missing_ok=True)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


__all__ = ["disk_error", "exclusive_build", "lock_path", "temp_files"]
