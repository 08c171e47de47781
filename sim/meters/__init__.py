"""What one run measured: the meters (arrays) and records the model writes and the results read.

No logic lives here beyond trivial derived properties: :mod:`.run` (the :class:`Meters` of a
replication), :mod:`.flows` (the flow records), :mod:`.gateway` (the gateway's per-request record).
"""

from sim.meters.flows import FLOW_KINDS, FlowLog
from sim.meters.run import Meters

__all__ = ["FLOW_KINDS", "FlowLog", "Meters"]
