"""Charts: pandas DataFrame in, matplotlib ``Figure`` out, in one house style.

This package exports the charts of one run (notebooks call them as
``from sim.report import charts; charts.stored_by_site_chart(...)``):

* :func:`stored_by_site_chart` - stored data per site over time;
* :func:`cost_by_site_chart` - yearly cost per site by category against a reference;
* :func:`rtt_by_country_chart` - request-weighted round trip per country;
* :func:`reviewer_utilisation_chart` - gateway reviewer utilisation by hour of day;
* :func:`gateway_wait_quantile_chart` - the distribution of gateway waits per class, from a
  table of quantiles;
* :func:`tornado_chart` - what moves a KPI over its assumption range (``run --uncertainty N``);
* :func:`calibration_chart` - prior against posterior ranges of the uncertain inputs.

Its modules: :mod:`~sim.report.charts.run` (those charts), :mod:`~sim.report.charts.style`
(colours per site, policy and cost category, the figure every chart starts from),
:mod:`~sim.report.charts.report` (the leadership report's comparison, transfer, cost-by-year,
carbon and gateway-wait charts) and :mod:`~sim.report.charts.maps` (the map of Europe).

Every chart builds its figure with the object-oriented API on an Agg canvas: it works headless,
never touches pyplot state, and nothing is shown or written; the caller saves it.
"""

from __future__ import annotations

# the unit constants, as sim.report.charts has always had them
from sim.report.charts.run import EUR_PER_MILLION as EUR_PER_MILLION
from sim.report.charts.run import TB_PER_PB as TB_PER_PB
from sim.report.charts.run import (
    cost_by_site_chart,
    gateway_wait_quantile_chart,
    reviewer_utilisation_chart,
    rtt_by_country_chart,
    stored_by_site_chart,
)
from sim.report.charts.uncertainty import calibration_chart, tornado_chart

__all__ = ["stored_by_site_chart", "cost_by_site_chart", "rtt_by_country_chart", "reviewer_utilisation_chart",
           "gateway_wait_quantile_chart", "tornado_chart", "calibration_chart"]
