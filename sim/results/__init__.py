"""Pure functions of meters and prices: the KPI catalogue, tidy tables, costs and statistics."""

from sim.results.replication import KPI, ReplicationResult, Results, replication_result, residency_table, t_interval

__all__ = ["KPI", "ReplicationResult", "Results", "replication_result", "residency_table", "t_interval"]
