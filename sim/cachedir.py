"""The user cache folder: where clover-sim keeps compiled kernels, Matplotlib's font cache and locks.

Nothing is ever written into the installed package, so a read-only installation works. The
folder is, in order of precedence:

1. ``$CLOVER_SIM_CACHE_DIR`` if set;
2. ``$XDG_CACHE_HOME/clover-sim`` if ``XDG_CACHE_HOME`` is set;
3. ``~/Library/Caches/clover-sim`` on macOS, ``%LOCALAPPDATA%/clover-sim/Cache`` on Windows,
   ``~/.cache/clover-sim`` elsewhere;
4. ``<system temp>/clover-sim-<user>`` when none of these can be created (e.g. a read-only home).

Sub-folders: ``numba/`` (the gateway kernels compiled with ``cache=True``; numba's own
``NUMBA_CACHE_DIR`` still wins when set), ``matplotlib/`` (Matplotlib's config and font cache for
the command line; ``MPLCONFIGDIR`` still wins when set) and ``locks/`` (the locks that keep two
runs from writing one results folder at once, see :mod:`sim.report.io`). Deleting the folder is
always safe: its content is rebuilt on the next run.
"""

from __future__ import annotations

import getpass
import os
import sys
import tempfile
from pathlib import Path

__all__ = ["ENV", "cache_dir", "use_for_numba", "use_for_matplotlib"]

#: The environment variable that names the cache folder.
ENV = "CLOVER_SIM_CACHE_DIR"


def _default_root() -> Path:
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "clover-sim"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "clover-sim"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "clover-sim" / "Cache"
    return Path.home() / ".cache" / "clover-sim"


def _fallback_root() -> Path:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = str(os.getuid()) if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"clover-sim-{user}"


def cache_dir(sub: str = "") -> Path:
    """The user cache folder (or one of its sub-folders), created if missing.

    Args:
        sub: a sub-folder name such as ``"numba"``; "" for the folder itself.

    Returns:
        An existing, writable folder.
    """
    for root in (_default_root(), _fallback_root()):
        folder = root / sub if sub else root
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK | os.X_OK):
            return folder
    raise OSError(f"no writable cache folder: set {ENV} to a writable folder")


def use_for_numba() -> None:
    """Point numba's on-disk cache at ``<cache>/numba`` unless ``NUMBA_CACHE_DIR`` is set.

    Call before the ``@njit(cache=True)`` decorators run: numba picks a function's cache folder
    when the function is decorated. Without this numba writes next to the source files, i.e.
    into the installed package.
    """
    from numba.core import config

    if not config.CACHE_DIR:
        try:
            config.CACHE_DIR = str(cache_dir("numba"))
        except OSError:  # no writable folder at all: numba falls back to its own rules
            pass


def use_for_matplotlib() -> None:
    """Give Matplotlib ``<cache>/matplotlib`` as its config and cache folder unless ``MPLCONFIGDIR`` is set.

    Takes effect only before Matplotlib is imported; the command line calls it first thing.
    (Notebooks and other library users keep their own Matplotlib settings.)
    """
    if os.environ.get("MPLCONFIGDIR") or "matplotlib" in sys.modules:
        return
    try:
        os.environ["MPLCONFIGDIR"] = str(cache_dir("matplotlib"))
    except OSError:
        pass
