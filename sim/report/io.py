"""The one atomic writer: a file or a folder appears whole, or not at all.

Everything is written into a temporary sibling (dot-prefixed, so no reader mistakes it for a
result) and renamed into place at the end; an interrupted or failed write leaves the old content
where it was and removes its temporary. Every file this package writes goes through here.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_dir", "atomic_file", "atomic_write_text"]


def _umask_mode(mode: int) -> int:
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def atomic_dir(out: Path, fill: Callable[[Path], None]) -> Path:
    """Create ``out`` by filling a temporary sibling folder and renaming it into place.

    An existing ``out`` is replaced only after the new one is complete.

    Args:
        out: the destination folder.
        fill: called with the temporary folder; writes every file of the result into it.

    Returns:
        ``out``.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    os.chmod(tmp, _umask_mode(0o777))
    try:
        fill(tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "x")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
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
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
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
