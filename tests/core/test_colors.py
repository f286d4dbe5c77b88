"""Palettes and value mapping (pure numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from latent_explorer.core.colors import (
    TAB10,
    TAB20,
    categorical_palette,
    colormap_lut,
    hex_to_rgb,
    quantize,
    value_range,
)
from latent_explorer.core.errors import LatentExplorerError


def test_categorical_palette_uses_tab10_then_tab20_then_glasbey():
    assert np.array_equal(categorical_palette(10), hex_to_rgb(TAB10))
    assert np.array_equal(categorical_palette(3), hex_to_rgb(TAB10[:3]))
    assert np.array_equal(categorical_palette(20), hex_to_rgb(TAB20))
    many = categorical_palette(60)
    assert many.shape == (60, 3) and many.dtype == np.uint8
    assert len({tuple(c) for c in many}) == 60, "glasbey colours must all differ"
    assert len(categorical_palette(0)) == 0


def test_categorical_palette_is_not_a_gradient():
    # neighbouring class ids must not get neighbouring colours
    colors = categorical_palette(40).astype(float)
    steps = np.linalg.norm(np.diff(colors, axis=0), axis=1)
    assert steps.min() > 40


def test_viridis_lut_endpoints_and_monotone_lightness():
    lut = colormap_lut("viridis", 256)
    assert lut.shape == (256, 3)
    assert np.abs(lut[0].astype(int) - (68, 1, 84)).max() <= 1
    assert np.abs(lut[-1].astype(int) - (253, 231, 37)).max() <= 1
    lightness = lut.astype(float) @ [0.299, 0.587, 0.114]
    assert (np.diff(lightness) > -1.0).all()


def test_colorcet_names_and_unknown_colour_map():
    fire = colormap_lut("fire", 10)
    assert fire.shape == (10, 3)
    assert tuple(fire[0]) == (0, 0, 0)
    with pytest.raises(LatentExplorerError, match="unknown colour map"):
        colormap_lut("no-such-map")


def test_quantize_and_missing_values():
    levels = quantize(np.array([0.0, 0.5, 1.0, 2.0, -1.0, np.nan, np.inf]), 0.0, 1.0, 10)
    assert levels.tolist() == [0, 5, 9, 9, 0, -1, -1]


def test_value_range_ignores_outliers_and_nan():
    values = np.concatenate([np.linspace(0, 1, 1000), [1e6, np.nan, -np.inf]])
    lo, hi = value_range(values)
    assert 0.0 <= lo < 0.01 and 0.99 < hi <= 1.0
    assert value_range(np.array([np.nan])) == (0.0, 1.0)
    lo, hi = value_range(np.full(5, 3.0))
    assert lo < 3.0 < hi
