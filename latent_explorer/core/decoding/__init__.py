"""What the decoder panel computes, with no Qt, one module per job:

- `images`: images from z (`decode_images`, `DecodeError`, `error_tile`, a model on another device);
- `sliders`: slider ranges from the data, PCA directions, decoder sensitivity;
- `off_data`: the off-data meter and what is prepared once per set of codes;
- `prior`: prior samples and their radius against the data;
- `arithmetic`: latent arithmetic and class means;
- `grids`: decoded grids over a rectangle of a projection plane;
- `map_placement`: placing new codes in a t-SNE map.

The names are importable from ``latent_explorer.core.decoding`` as well.
"""

from __future__ import annotations

from latent_explorer.core.decoding.arithmetic import (
    class_means,
    latent_arithmetic,
)
from latent_explorer.core.decoding.grids import (
    decode_grid,
    grid_codes,
    grid_points,
    lift_point,
    tile_images,
)
from latent_explorer.core.decoding.images import (
    DecodeError,
    decode_images,
    error_tile,
    iter_decode_batched,
    model_for_device,
    to_display,
)
from latent_explorer.core.decoding.map_placement import (
    iter_exact_map_placement,
    knn_placement,
)
from latent_explorer.core.decoding.off_data import (
    OffDataMeter,
    PreparedLatents,
    iter_prepare_latents,
    iter_typical_nn_distance,
    torch_threads,
)
from latent_explorer.core.decoding.prior import (
    PRIORS,
    RadiusReport,
    radius_report,
    sample_prior,
)
from latent_explorer.core.decoding.sliders import (
    PERCENTILES,
    LatentSummary,
    PCABasis,
    extend_ranges,
    iter_decoder_sensitivity,
    pca_slider_ranges,
    slider_ranges,
)

__all__ = [
    "DecodeError",
    "LatentSummary",
    "OffDataMeter",
    "PCABasis",
    "PERCENTILES",
    "PRIORS",
    "PreparedLatents",
    "RadiusReport",
    "class_means",
    "decode_grid",
    "decode_images",
    "error_tile",
    "extend_ranges",
    "grid_codes",
    "grid_points",
    "iter_decode_batched",
    "iter_decoder_sensitivity",
    "iter_exact_map_placement",
    "iter_prepare_latents",
    "iter_typical_nn_distance",
    "knn_placement",
    "latent_arithmetic",
    "lift_point",
    "model_for_device",
    "pca_slider_ranges",
    "radius_report",
    "sample_prior",
    "slider_ranges",
    "tile_images",
    "to_display",
    "torch_threads",
]
