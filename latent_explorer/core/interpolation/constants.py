"""What every part of interpolation shares: the hold modes, the strip rows, the meter's bands, `PathError`."""

from __future__ import annotations

from latent_explorer.core.errors import DatasetError

HOLD_MODES = ("blend", "start", "mean", "zero")
PATH_FORMAT = "latent-explorer-path"
LATENT_KINDS = ("z", "mu")
MAP_KINDS = ("tsne", "custom")  # views whose inverse is only approximate
ROW_PATH, ROW_LINEAR, ROW_SPHERICAL, ROW_FADE = "path", "linear", "spherical", "pixel fade"
STRIP_ROWS = (ROW_PATH, ROW_LINEAR, ROW_SPHERICAL, ROW_FADE)
OFF_DATA_BANDS = ((2.0, (46, 125, 50)), (4.0, (239, 108, 0)), (float("inf"), (198, 40, 40)))  # the meter's colours
OFF_DATA_FULL_SCALE = 5.0  # a score this high fills the bar


class PathError(DatasetError):
    """A path that cannot be lifted, loaded or written: wrong view, unreadable file, unwritable folder."""
