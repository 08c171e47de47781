"""The discrete-event world: traffic, sites, network, migration, gateway and placement policies."""

import sim.model.optimiser  # noqa: F401,E402  (registers cost_optimal, carbon_optimal, latency_optimal, weighted)
