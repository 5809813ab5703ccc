"""flowloop.report: the static HTML page that shows whether the loops are working (``flow report``).

It reads every store (evaluation results, PILRs, signals, datasets) and sits above
``flowloop.evaluate``; the loop writes it as its last stage and hands it the run's state, so the
report never imports the loop. ``page.py`` gathers and renders; ``svg.py`` draws the charts.
"""

from flowloop.report.page import build_report

__all__ = ["build_report"]
