"""The report layer: the only layer that draws charts or writes files.

:mod:`~sim.report.format` writes numbers as text, :mod:`~sim.report.charts` draws the charts,
:mod:`~sim.report.files` writes a run's result folder, :mod:`~sim.report.leadership` the
leadership report (HTML and PDF), and :mod:`~sim.report.io` is the one atomic writer they use.
"""
