"""Seeds: every random draw of a run comes from one ``numpy.random.SeedSequence``.

Replications of a run are ``SeedSequence(seed).spawn(R)``; inside a replication each component
draws from its own generator keyed by its *name* (not by creation order), so the same seed gives
the same results byte for byte and two scenarios run on the same seed see the same demand
(common random numbers). There is no global random state anywhere in ``sim``.
"""

from __future__ import annotations

import zlib

import numpy as np

__all__ = ["replication_seeds", "component_rng"]


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """The SeedSequences of ``replications`` independent replications of root ``seed``.

    Raises:
        ValueError: if ``replications`` < 1.
    """
    if replications < 1:
        raise ValueError("replications must be >= 1")
    return np.random.SeedSequence(seed).spawn(replications)


def component_rng(seed_seq: np.random.SeedSequence, name: str) -> np.random.Generator:
    """The generator of one named component, spawned from the replication's SeedSequence.

    Args:
        seed_seq: the replication's SeedSequence.
        name: the component's name, e.g. ``"traffic"``; the child's spawn key ends in its CRC-32.
    """
    child = np.random.SeedSequence(seed_seq.entropy, spawn_key=(*seed_seq.spawn_key, zlib.crc32(name.encode())))
    return np.random.default_rng(child)
