"""The one way to find the project's shipped files (icons, demo checkpoints, the screenshot).

They live in the checkout's top-level ``resources/`` folder, which the build installs as the data-only package
``latent_explorer.resources``. Going through importlib means a wheel, pipx and an editable install all answer the
same; a plain source tree on ``sys.path`` (no install at all) falls back to the folder beside the package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parent.parent / "resources"


def resource_dir() -> Path:
    """The folder that holds icons/, demo/ and the screenshot."""
    try:
        found = Path(str(resources.files("latent_explorer.resources")))
    except ModuleNotFoundError:
        found = _SOURCE_TREE
    if not (found / "icons").is_dir() and (_SOURCE_TREE / "icons").is_dir():
        found = _SOURCE_TREE
    return found


def resource_path(*parts: str) -> Path:
    """A path under the resources folder, e.g. ``resource_path("icons", "latent-explorer.svg")``."""
    return resource_dir().joinpath(*parts)
