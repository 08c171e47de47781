"""The security gateway: access and transfer requests as queued requests, exact and fast."""

from sim.model.gateway.engine import *  # noqa: F403
from sim.model.gateway.engine import __all__  # noqa: F401
