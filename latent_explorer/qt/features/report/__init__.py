"""File ▸ Report…: the `report` command's HTML report, made from the window for the current model (and the
model it is compared with, if any), in a worker with progress and Cancel."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.features.report.dialog import JOB, ReportMaker


def install(context: FeatureContext) -> dict:
    maker = ReportMaker(context)
    context.menus.add("file.export", "Report…", maker.ask_and_start)
    context.on_close(lambda: context.jobs.cancel(JOB))
    return {}


FEATURE = Feature("report", install, menus=("file.export",), needs=("compare",))
