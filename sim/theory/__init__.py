"""Queueing theory for validation and staffing: Erlang B/C, Pollaczek-Khinchine, priority queues.

Importable by the tests and by the gateway's staffing module only (the layer contract says so).
"""

from sim.theory.queueing import *  # noqa: F403
from sim.theory.queueing import __all__  # noqa: F401
