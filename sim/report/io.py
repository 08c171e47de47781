"""The one writer: a file or a folder appears whole, or not at all, and nothing foreign is lost.

Every file this package writes goes through here. The rules, and what they guarantee:

* **Whole or nothing.** A result folder is filled in a temporary sibling (``.NAME.tmp-XXXX``,
  dot-prefixed so that no reader mistakes it for a result) and put in place only when complete;
  a single file is written to a temporary sibling and ``os.replace``-d. An interrupted or failed
  write removes its temporary and leaves the old content where it was.
* **Crash-safe replacement.** An existing folder is replaced by an atomic exchange of the two
  paths (``renameat2(RENAME_EXCHANGE)`` on Linux, ``renamex_np(RENAME_SWAP)`` on macOS): at every
  instant ``NAME`` is either the complete old result or the complete new one, even if the
  process is killed. Where the file system cannot exchange, the old folder is renamed aside to
  ``.NAME.old-XXXX`` and the new one renamed in; a failure between the two renames moves the old
  folder back, and if the process dies there (power loss, ``kill -9``) the next write or check
  of ``NAME`` (:func:`recover`) moves it back before anything else happens. Left-over
  ``.NAME.tmp-*`` folders (incomplete) and ``.NAME.old-*`` folders (superseded) are removed at the
  same moment.
* **Only our own folders are replaced.** Every folder written here holds :data:`MARKER`, a small
  JSON file listing the files written into it. A destination is replaced only if it does not
  exist, is an empty folder, or holds a marker whose list covers everything in it; a folder
  with anything else (notes, an ``analysis/`` folder, the input scenario, a results folder of an
  older version without a marker) is refused with :class:`OutputError`, and nothing is deleted.
* **One writer per destination.** :func:`lock_destination` takes an exclusive, non-blocking lock
  (``flock``) on a lock file in the user cache folder (:mod:`sim.cachedir`), named after the
  destination's absolute path. A second process asking for the same destination gets
  :class:`OutputError` at once (the command line exits 2 before simulating); it never waits.
  The operating system drops the lock when the holder exits, however it exits. Processes see
  each other's locks when they share the cache folder (the same user and ``CLOVER_SIM_CACHE_DIR``).
* **Strict JSON.** :func:`dumps_json` never writes ``NaN`` or ``Infinity``: a non-finite number
  becomes ``null``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "MARKER",
    "OutputError",
    "atomic_dir",
    "atomic_file",
    "atomic_write_text",
    "check_replaceable",
    "dumps_json",
    "finite_json",
    "lock_destination",
    "recover",
    "release_destination",
    "release_all_destinations",
    "stale_siblings",
]

#: The marker file every folder written by :func:`atomic_dir` holds (a JSON list of its files).
MARKER = ".clover-sim.json"
_WRITER = "clover-sim"
#: The longest folder name whose temporary sibling still fits the file system's name limit.
_KEY_MAX = 200


class OutputError(ValueError):
    """A destination that must not be written: not ours, in use by another run, or unusable."""


# ----------------------------------------------------------------------------------------------
# strict JSON


def finite_json(obj: Any) -> Any:
    """``obj`` with every non-finite float (NaN, +-inf, also NumPy's) replaced by None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_json(v) for v in obj]
    return obj


def dumps_json(obj: Any, **kwargs: Any) -> str:
    """``json.dumps`` that always gives strict JSON: non-finite numbers are written as ``null``.

    Args:
        obj: JSON data (dicts, lists, str, int, float, bool, None).
        **kwargs: passed to :func:`json.dumps` (``indent``, ``sort_keys`` ...).
    """
    return json.dumps(finite_json(obj), allow_nan=False, **kwargs)


# ----------------------------------------------------------------------------------------------
# names of the temporary siblings


def _key(name: str) -> str:
    """The name used in temporary siblings (a digest for very long names)."""
    if len(name.encode("utf-8", "surrogateescape")) <= _KEY_MAX:
        return name
    return hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def stale_siblings(out: Path) -> tuple[list[Path], list[Path]]:
    """The temporary (``.NAME.tmp-*``) and set-aside (``.NAME.old-*``) siblings of ``out``."""
    out = Path(out)
    key = _key(out.name)
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return [], []
    tmp = sorted(p for p in entries if p.name.startswith(f".{key}.tmp-"))
    old = sorted(p for p in entries if p.name.startswith(f".{key}.old-"))
    return tmp, old


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink()


def recover(out: Path) -> list[str]:
    """Finish what an interrupted replacement of ``out`` left behind; call it holding the lock.

    If ``out`` is missing and a set-aside old folder exists, the newest one is moved back to
    ``out``. Left-over temporaries, and set-aside folders that a complete ``out`` supersedes,
    are removed.

    Args:
        out: the destination folder.

    Returns:
        One line per thing done, e.g. ``"restored results/clover from .clover.old-x1y2"`` ("" none).
    """
    out = Path(out)
    done: list[str] = []
    tmp, old = stale_siblings(out)
    if old and not os.path.lexists(out):
        newest = max(old, key=lambda p: p.stat().st_mtime_ns)
        os.rename(newest, out)
        old.remove(newest)
        done.append(f"restored {out} from {newest.name} (an earlier replacement was interrupted)")
    for p in tmp + old:
        _remove(p)
    if tmp or old:
        done.append(f"removed {len(tmp) + len(old)} left-over temporary folder(s) of {out}")
    return done


# ----------------------------------------------------------------------------------------------
# ownership


def _entries(folder: Path) -> list[str]:
    """Every file and folder under ``folder``, as sorted relative POSIX paths (folders end with /)."""
    out: list[str] = []
    for root, dirs, files in os.walk(folder):
        rel = Path(root).relative_to(folder)
        out += [(rel / d).as_posix() + "/" for d in dirs]
        out += [(rel / f).as_posix() for f in files]
    return sorted(out)


def _write_marker(folder: Path) -> None:
    entries = [e for e in _entries(folder) if e != MARKER]
    doc = {"written_by": _WRITER, "format": 1, "entries": entries}
    (folder / MARKER).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def _marker_entries(folder: Path) -> set[str] | None:
    """What the folder's marker lists, or None if it has no valid marker of ours."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    entries = doc.get("entries") if isinstance(doc, dict) and doc.get("written_by") == _WRITER else None
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        return None
    return set(entries)


def check_replaceable(out: Path, what: str = "--out") -> None:
    """Refuse to replace anything but a folder this program wrote (or an empty one).

    Args:
        out: the destination.
        what: how the destination is named in the message (e.g. ``--out``).

    Raises:
        OutputError: naming the destination and what it holds that is not ours.
    """
    out = Path(out)
    if not os.path.lexists(out):
        return
    if out.is_symlink() or not out.is_dir():
        raise OutputError(f"{what}: {out} exists and is not a folder; choose another folder")
    try:
        present = _entries(out)
    except OSError as exc:
        raise OutputError(f"{what}: {out} cannot be read ({exc.strerror}); choose another folder") from None
    if not present:
        return
    listed = _marker_entries(out)
    if listed is None:
        raise OutputError(
            f"{what}: {out} is a non-empty folder that clover-sim did not write (no {MARKER}); "
            "refusing to replace it: move its content or choose another folder"
        )
    foreign = [e for e in present if e != MARKER and e not in listed]
    foreign = [e for e in foreign if not any(e.startswith(f) for f in foreign if f.endswith("/") and f != e)]
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise OutputError(
            f"{what}: {out} holds files clover-sim did not write ({shown}); refusing to replace it: "
            "move them or choose another folder"
        )


# ----------------------------------------------------------------------------------------------
# one writer per destination


class _Lock:
    """An exclusive, non-blocking, re-entrant lock of one destination (a lock file + flock)."""

    def __init__(self, dest: Path) -> None:
        from sim.cachedir import cache_dir

        self.dest = dest
        digest = hashlib.sha256(str(dest).encode("utf-8", "surrogateescape")).hexdigest()[:40]
        self.path = cache_dir("locks") / f"{digest}.lock"
        self.fd: int | None = None
        self.count = 0

    def acquire(self, what: str) -> None:
        if self.count:
            self.count += 1
            return
        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
            if not _try_lock(fd):
                os.close(fd)
                raise OutputError(
                    f"{what}: {self.dest} is being written by another clover-sim run right now; "
                    "wait for it to finish or choose another folder"
                )
            try:  # the file we locked must still be the one at the path (a releaser unlinks it)
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                os.write(fd, f"{os.getpid()} {self.dest}\n".encode("utf-8", "surrogateescape"))
                self.fd, self.count = fd, 1
                return
            os.close(fd)
        raise OutputError(f"{what}: cannot lock {self.dest}; try again")

    def release(self) -> None:
        if self.count == 0:
            return
        self.count -= 1
        if self.count == 0 and self.fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            os.close(self.fd)
            self.fd = None


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return False
        raise
    return True


_LOCKS: dict[str, _Lock] = {}


def lock_destination(out: Path, what: str = "--out") -> Path:
    """Take the exclusive lock of a destination (re-entrant within this process; never waits).

    The lock is held until :func:`release_destination` is called as often as this was, or until
    :func:`release_all_destinations`, or until the process exits.

    Args:
        out: the destination folder or file.
        what: how the destination is named in messages.

    Returns:
        ``out``.

    Raises:
        OutputError: another process holds the lock.
    """
    dest = Path(out).absolute()
    key = str(Path(os.path.realpath(dest)))
    lock = _LOCKS.get(key)
    if lock is None:
        try:
            lock = _LOCKS[key] = _Lock(Path(key))
        except OSError as exc:
            raise OutputError(f"{what}: cannot lock {out}: {exc}") from None
    lock.acquire(what)
    return Path(out)


def release_destination(out: Path) -> None:
    """Release one hold of a destination's lock (see :func:`lock_destination`)."""
    lock = _LOCKS.get(str(Path(os.path.realpath(Path(out).absolute()))))
    if lock is not None:
        lock.release()


def release_all_destinations() -> None:
    """Release every destination lock this process holds (the command line does this at exit)."""
    for lock in _LOCKS.values():
        while lock.count:
            lock.release()


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    lock_destination(out)
    try:
        yield
    finally:
        release_destination(out)


# ----------------------------------------------------------------------------------------------
# atomic exchange of two paths


def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically; False where the system or file system cannot.

    Raises:
        OSError: for any other failure (permissions, a vanished path ...).
    """
    libc = _libc() if sys.platform in ("linux", "darwin") else None
    src, dst = os.fsencode(a), os.fsencode(b)
    if libc is not None and sys.platform == "linux" and hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        result = libc.renameat2(at_fdcwd, src, at_fdcwd, dst, ctypes.c_uint(rename_exchange))
    elif libc is not None and sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        rename_swap = 2
        result = libc.renamex_np(src, dst, ctypes.c_uint(rename_swap))
    else:
        return False
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(b))


def _replace_dir(tmp: Path, out: Path) -> None:
    """Put the complete folder ``tmp`` at ``out`` (see the module docstring for the guarantee)."""
    if not os.path.lexists(out):
        os.rename(tmp, out)
        return
    if _exchange(tmp, out):
        _remove(tmp)  # now holds the old result
        return
    old = tmp.with_name(tmp.name.replace(".tmp-", ".old-", 1))
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    _remove(old)


def _umask_mode(mode: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def atomic_dir(out: Path, fill: Callable[[Path], None]) -> Path:
    """Create or replace the folder ``out``: ``fill`` writes a temporary sibling, then it is put in place.

    Holds the destination's lock throughout, recovers an earlier interrupted replacement first,
    refuses a destination this program did not write (:func:`check_replaceable`) and writes
    :data:`MARKER` into the new folder.

    Args:
        out: the destination folder.
        fill: called with the temporary folder; writes every file of the result into it.

    Returns:
        ``out``.

    Raises:
        OutputError: ``out`` is in use by another run or holds files this program did not write.
    """
    out = Path(out)
    with _locked(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        recover(out)
        check_replaceable(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{_key(out.name)}.tmp-", dir=out.parent))
        os.chmod(tmp, _umask_mode(0o777))
        try:
            fill(tmp)
            _write_marker(tmp)
            check_replaceable(out)
            _replace_dir(tmp, out)
        except BaseException:
            _remove(tmp)
            raise
    return out


def atomic_file(path: Path, write: Callable[[Path], None]) -> Path:
    """Create or replace one file: ``write`` fills a temporary sibling, then ``os.replace``.

    Args:
        path: the destination file.
        write: called with the temporary path; writes the whole file there.

    Returns:
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{_key(path.name)}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode(0o666))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    """Create or replace a UTF-8 text file atomically (see :func:`atomic_file`)."""
    return atomic_file(path, lambda p: p.write_text(text, encoding="utf-8"))
