"""Pure functions of meters and prices: the KPI catalogue, tidy tables, costs and statistics.

Modules: :mod:`.kpis` (the one KPI catalogue), :mod:`.replication` (a replication's KPIs and
tables; :class:`~sim.results.replication.Results` over replications), :mod:`.tables`,
:mod:`.costs`, :mod:`.power`, :mod:`.gateway`. Import them directly; this package loads nothing,
so reading the catalogue stays cheap.
"""
