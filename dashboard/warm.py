"""At server start, once per process: what the pages need that is slow to load the first time (Altair
and its Vega-Lite schema, ~0.5 s of imports and ~0.2 s for the first schema check) is loaded in a
background thread while the first visitor signs in, instead of inside the first page that draws a chart.
Nothing is read from the database here: figures are only read for a visitor, through the cached loaders."""

from __future__ import annotations

import threading


def _load() -> None:
    from dashboard import ui  # noqa: F401 - the pages' helpers, with pandas and Babel
    from outreach import charts

    charts.bar_chart([{"name": "a", "value": 1}], category="name", value="value").to_dict()


started = threading.Thread(target=_load, name="outreach-dashboard-warm-up", daemon=True)
started.start()
