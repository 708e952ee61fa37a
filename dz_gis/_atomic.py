"""Atomic output: write to a temporary file (or folder) beside the target, then rename.

A run that fails half-way, or is killed, never leaves a half-written or corrupted result
behind: :func:`atomic_path` for one file, :func:`atomic_folder` for a run's whole set.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["MANIFEST", "atomic_folder", "atomic_path"]


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces ``target``, on error it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # writers such as GDAL want to create the file themselves
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


#: The list of files a complete run wrote, kept in its folder (:func:`atomic_folder`).
MANIFEST = ".dz_gis_outputs"


@contextmanager
def atomic_folder(target: str | Path) -> Iterator[Path]:
    """Yield an empty folder beside ``target``; on success it becomes ``target`` as a whole.

    A run writes its whole set there. At the end the two folders are exchanged in one step
    (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames, undone by the next run if it
    dies between them), so ``target`` always holds one complete run, old or new, never a mix.
    Runs on the same ``target`` wait for each other (a lock file beside it); leftovers of a
    killed run are removed by the next. A ``target`` that holds files no run wrote (a folder
    of the user's) is not swapped: the new files are moved in one by one, each atomically,
    with a warning.
    """
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / f".{target.name}.lock"):
        _clean_leftovers(target)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
        os.chmod(work, _folder_mode(target))  # mkdtemp makes it private (0700)
        try:
            yield work
            (work / MANIFEST).write_text("\n".join(sorted(p.name for p in work.iterdir())) + "\n", encoding="utf-8")
            _swap_in(work, target)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _folder_mode(target: Path) -> int:
    """The permissions the new folder gets: the old one's, else what the umask gives a new folder."""
    if target.is_dir():
        return stat.S_IMODE(target.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def _swap_in(work: Path, target: Path) -> None:
    """Make ``work`` the new ``target``; ``work`` then holds the old one (or is gone)."""
    if not target.exists():
        os.rename(work, target)
        return
    foreign = _foreign_files(target)
    if foreign:
        warnings.warn(
            f"{target}: holds files no dz_gis run wrote ({', '.join(sorted(foreign)[:5])}); the new outputs "
            "are moved in one by one instead of swapping the folder as a whole. Use a folder of its own for "
            "the outputs (成果目录) to keep each run complete.",
            UserWarning,
            stacklevel=4,
        )
        for path in sorted(work.iterdir()):
            os.replace(path, target / path.name)
        return
    if not _exchange(work, target):
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.rename(target, old)  # a run killed here leaves no target: the next run puts the old one back
        os.rename(work, target)
        shutil.rmtree(old, ignore_errors=True)


def _foreign_files(target: Path) -> set[str]:
    """Names in ``target`` that its last run's manifest does not list (all, when there is none)."""
    names = {p.name for p in target.iterdir()}
    if not names:
        return set()
    listed = target / MANIFEST
    if not listed.is_file():
        return names
    return names - set(listed.read_text(encoding="utf-8").split()) - {MANIFEST}


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ≥ 3.15, glibc ≥ 2.28); False where that is not available.

    Written with ctypes because Python's os module has no renameat2.
    """
    if sys.platform != "linux":
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return done == 0


def _clean_leftovers(target: Path) -> None:
    """Remove what killed runs left beside ``target`` (called under the lock, so none is running)."""
    for path in target.parent.glob(f".{target.name}.old-*"):
        if not target.exists():
            os.rename(path, target)  # killed between the two renames: the old set comes back
        else:
            shutil.rmtree(path, ignore_errors=True)
    for path in target.parent.glob(f".{target.name}.new-*"):
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _locked(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock`` (waits for another run on the same folder)."""
    with open(lock, "a+b") as handle:
        if sys.platform == "win32":  # pragma: no cover - msvcrt locks a byte range
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logging.getLogger(__name__).warning("%s: another run is writing there; waiting for it", lock.parent)
                fcntl.flock(handle, fcntl.LOCK_EX)
        yield
