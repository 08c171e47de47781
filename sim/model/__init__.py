"""The discrete-event world: traffic, sites, network, migration, gateway and placement policies."""
