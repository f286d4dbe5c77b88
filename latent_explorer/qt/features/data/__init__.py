"""The model and data feature: what is loaded, and buttons and lists to open models, datasets and demos."""

from __future__ import annotations

from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.feature import LEFT, DockSpec, Feature
from latent_explorer.qt.features.data.open_dialogs import OpenDatasetDialog, OpenModelDialog
from latent_explorer.qt.features.data.pane import DataPane


def ask_open_dataset(context: FeatureContext) -> OpenDatasetDialog:
    """File ▸ Open Dataset…: the dialog, then the load (after asking whether to drop unsaved work)."""
    dialog = OpenDatasetDialog(context.parent)

    def accepted() -> None:
        request = dialog.result_request
        if context.sources.confirm_discard(f"the dataset {request.spec}"):
            context.sources.open_dataset(request.spec, **request.options)

    dialog.accepted.connect(accepted)
    dialog.open()
    return dialog


def ask_open_model(context: FeatureContext) -> OpenModelDialog:
    """File ▸ Open Model…: a demo (with its dataset) or a model file."""
    dialog = OpenModelDialog(context.parent)

    def accepted() -> None:
        kind, spec = dialog.result_request
        if kind == "demo":
            context.sources.open_demo(spec)  # asks itself
        elif context.sources.confirm_discard(f"the model {spec}"):
            context.sources.open_model(spec)

    dialog.accepted.connect(accepted)
    dialog.open()
    return dialog


def install(context: FeatureContext) -> dict[str, DataPane]:
    # the window's Open entries (menus, the pane's buttons) show these dialogs instead of a bare file chooser
    context.sources.open_dialogs["dataset"] = lambda: ask_open_dataset(context)
    context.sources.open_dialogs["model"] = lambda: ask_open_model(context)
    return {"data": DataPane(context)}


FEATURE = Feature("data", install, docks=(DockSpec("data", "Model and data", LEFT, 10),))
