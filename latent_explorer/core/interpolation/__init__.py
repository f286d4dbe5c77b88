"""Interpolation paths: resample a drawn polyline, lift it into z through a view, and the comparison rows.

A path drawn on a 2-D view only fixes two numbers per sample; the other latent coordinates are "held"
at the start point's code, the data mean, zero, or — by default — blended from the start point's code
to the end point's along the path, so that both endpoints decode to (near) their data points. On a
t-SNE map the lift is an approximation built from the codes of the nearest map points.

A lifted path is compared, for the same endpoints, with the straight line and the great-circle arc in latent
space and with the cross-fade of the two endpoint images in pixel space: four rows of a filmstrip, each latent
frame scored by the off-data meter. Everything here runs without a display (`render_filmstrip`).

One module per job: `geometry` (resampling, holding, lerp/slerp/fade), `path` (`LatentPath` and its
files), `lifting` (into z and back into views), `scores` (the off-data meter per frame), `filmstrip` (the
comparison strip), `images` (PNG and GIF), `constants`. The public names are importable from this package.
"""

from __future__ import annotations

from latent_explorer.core.interpolation.constants import (
    HOLD_MODES,
    LATENT_KINDS,
    MAP_KINDS,
    OFF_DATA_BANDS,
    OFF_DATA_FULL_SCALE,
    PATH_FORMAT,
    ROW_FADE,
    ROW_LINEAR,
    ROW_PATH,
    ROW_SPHERICAL,
    STRIP_ROWS,
    PathError,
)
from latent_explorer.core.interpolation.filmstrip import (
    Filmstrip,
    StripPlan,
    StripRow,
    assemble_strip,
    decode_strip,
    plan_strip,
    render_filmstrip,
    save_strip_png,
    snapped_images,
    strip_arrays,
    strip_image,
)
from latent_explorer.core.interpolation.geometry import (
    arc_length,
    crossfade,
    hold_codes,
    lerp,
    lift,
    resample,
    simplify_indices,
    slerp,
)
from latent_explorer.core.interpolation.images import (
    filmstrip,
    save_gif,
    save_png,
    to_uint8_rgb,
)
from latent_explorer.core.interpolation.lifting import (
    LiftedPath,
    endpoint_code,
    lift_path,
    path_projection,
    place_codes,
)
from latent_explorer.core.interpolation.path import (
    LatentPath,
    save_path_arrays,
)
from latent_explorer.core.interpolation.scores import (
    off_data_scores,
    score_colour,
)

__all__ = [
    "Filmstrip",
    "HOLD_MODES",
    "LATENT_KINDS",
    "LatentPath",
    "LiftedPath",
    "MAP_KINDS",
    "OFF_DATA_BANDS",
    "OFF_DATA_FULL_SCALE",
    "PATH_FORMAT",
    "PathError",
    "ROW_FADE",
    "ROW_LINEAR",
    "ROW_PATH",
    "ROW_SPHERICAL",
    "STRIP_ROWS",
    "StripPlan",
    "StripRow",
    "arc_length",
    "assemble_strip",
    "crossfade",
    "decode_strip",
    "endpoint_code",
    "filmstrip",
    "hold_codes",
    "lerp",
    "lift",
    "lift_path",
    "off_data_scores",
    "path_projection",
    "place_codes",
    "plan_strip",
    "render_filmstrip",
    "resample",
    "save_gif",
    "save_path_arrays",
    "save_png",
    "save_strip_png",
    "score_colour",
    "simplify_indices",
    "slerp",
    "snapped_images",
    "strip_arrays",
    "strip_image",
    "to_uint8_rgb",
]
