"""The compare feature: the current model beside a second one on the same samples (File ▸ Compare…).

It offers ``context.compare`` (`CompareService`), through which the command line's ``--compare MODEL`` opens
the window straight into a comparison.
"""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import Feature
from latent_explorer.qt.features.compare.window import JOB, CompareWindow


class Comparer:
    """Makes the comparison window on first use and hands it the second model."""

    def __init__(self, context: FeatureContext):
        self.context = context
        self.window: CompareWindow | None = None

    def show(self) -> CompareWindow:
        if self.window is None:
            self.window = CompareWindow(self.context)
        self.window.show()
        self.window.raise_()
        return self.window

    def compare_with(self, spec: str) -> None:
        self.show().compare_with(spec)

    def second_model(self) -> tuple[str, object] | None:
        """(spec, model) of the model compared with, once a comparison has finished."""
        window = self.window
        if window is None or window.result is None or not window.second_spec:
            return None
        return window.second_spec, window.result.sides[1].model

    def close(self) -> None:
        self.context.jobs.cancel(JOB)
        if self.window is not None:
            self.window.close()


def install(context: FeatureContext) -> dict:
    comparer = Comparer(context)
    context.compare = comparer
    context.menus.add("file.open", "Compare with a Second Model…", comparer.show)
    context.on_close(comparer.close)
    return {}


FEATURE = Feature("compare", install, menus=("file.open",), provides=("compare",))
