"""Projections: raw axes and PCA planes invert exactly, MapLayout places codes on its map, coordinate files."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from latent_explorer.core.errors import DatasetError
from latent_explorer.core.projections import MapLayout, PCAModel, Projection, RawAxes, load_coordinates


@pytest.fixture(scope="module")
def codes() -> np.ndarray:
    rng = np.random.default_rng(3)
    scales = np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.2], np.float32)
    return (rng.standard_normal((500, 6)).astype(np.float32) * scales + 1.5) @ _rotation(6, rng).astype(np.float32)


def _rotation(d: int, rng) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return q


def test_pca_matches_sklearn(codes):
    pca = PCAModel.fit(codes)
    ref = PCA().fit(codes.astype(np.float64))
    assert pca.n_components == 6
    np.testing.assert_allclose(pca.explained_variance_, ref.explained_variance_, rtol=1e-6)
    np.testing.assert_allclose(pca.explained_variance_ratio_.sum(), 1.0)
    # same axes up to sign
    np.testing.assert_allclose(np.abs(pca.components_ @ ref.components_.T), np.eye(6), atol=1e-6)
    scores = pca.transform(codes)
    np.testing.assert_allclose(np.abs(scores), np.abs(ref.transform(codes)), atol=1e-6)


def test_pca_plane_inverse_round_trip(codes):
    pca = PCAModel.fit(codes)
    plane = pca.plane(1, 3)
    assert isinstance(plane, Projection)
    base = codes[:50].astype(np.float64)
    targets = np.random.default_rng(0).normal(size=(50, 2)) * 4
    z = plane.inverse(targets, base)
    np.testing.assert_allclose(plane.transform(z), targets, atol=1e-6)
    # only the plane moved: the other components keep the base's scores
    others = [0, 2, 4, 5]
    np.testing.assert_allclose(pca.transform(z)[:, others], pca.transform(base)[:, others], atol=1e-6)
    # one base code for many points, and a single point
    z_one = plane.inverse(targets, base[0])
    np.testing.assert_allclose(plane.transform(z_one), targets, atol=1e-6)
    np.testing.assert_allclose(plane.transform(plane.inverse(targets[0], base[0])), targets[:1], atol=1e-6)


def test_pca_axis_labels_show_explained_variance(codes):
    pca = PCAModel.fit(codes)
    x, y = pca.plane(0, 1).axis_labels()
    assert x == f"PC1 ({pca.explained_variance_ratio_[0]:.1%})"
    assert y.startswith("PC2 (") and y.endswith("%)")
    assert pca.explained_variance_ratio_[0] > pca.explained_variance_ratio_[1]
    with pytest.raises(ValueError):
        pca.plane(0, 6)


def test_raw_axes_transform_and_inverse(codes):
    raw = RawAxes(4, 1)
    np.testing.assert_array_equal(raw.transform(codes), codes[:, [4, 1]])
    base = codes[7]
    z = raw.inverse(np.array([[9.0, -2.0], [0.5, 0.25]]), base)
    assert z.shape == (2, 6)
    np.testing.assert_allclose(z[:, [4, 1]], [[9.0, -2.0], [0.5, 0.25]])
    keep = [0, 2, 3, 5]
    np.testing.assert_allclose(z[:, keep], np.repeat(base[None, keep], 2, axis=0), atol=1e-7)
    assert raw.axis_labels() == ("z4", "z1")


def test_map_layout_places_codes_on_their_points():
    rng = np.random.default_rng(1)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    cluster = np.repeat(np.arange(3), 40)
    codes = rng.normal(size=(120, 5)) * 0.1 + np.eye(5)[cluster] * 5
    coords = centres[cluster] + rng.normal(size=(120, 2)) * 0.5
    layout = MapLayout(coords, codes, "t-SNE", kind="tsne")
    # a code of the map lands exactly on its own point
    np.testing.assert_allclose(layout.transform(codes[:10]), coords[:10])
    np.testing.assert_allclose(layout.transform(codes[5]), coords[5])
    # a new code near cluster 1 lands inside cluster 1
    new = np.eye(5)[1] * 5 + rng.normal(size=5) * 0.05
    placed = layout.transform(new[None])[0]
    assert np.linalg.norm(placed - centres[1]) < 2.0
    # inverse of a map point in cluster 2 is a code of cluster 2
    z = layout.inverse(np.array([[0.0, 10.0]]), codes[0])
    assert z.shape == (1, 5) and int(np.argmax(z[0])) == 2
    assert layout.axis_labels() == ("t-SNE 1", "t-SNE 2")


def test_map_layout_ignores_missing_coordinates():
    rng = np.random.default_rng(2)
    codes = rng.normal(size=(30, 3))
    coords = rng.normal(size=(30, 2))
    coords[[3, 9]] = np.nan
    layout = MapLayout(coords, codes, "umap")
    assert np.isfinite(layout.transform(codes[3])).all()
    assert np.isfinite(layout.inverse(np.zeros((1, 2)), codes[0])).all()


def test_load_coordinates_formats(tmp_path):
    xy = np.arange(20, dtype=np.float64).reshape(10, 2)
    np.save(tmp_path / "a.npy", xy)
    np.savez(tmp_path / "b.npz", embedding=xy, other=np.zeros(3))
    (tmp_path / "c.csv").write_text("x,y\n" + "\n".join(f"{a},{b}" for a, b in xy))
    (tmp_path / "d.csv").write_text("id,y,x\n" + "\n".join(f"{i},{b},{a}" for i, (a, b) in enumerate(xy)))
    for name in ("a.npy", "b.npz", "c.csv", "d.csv"):
        np.testing.assert_array_equal(load_coordinates(tmp_path / name, 10), xy)


def test_load_coordinates_rejects_wrong_shapes(tmp_path):
    np.save(tmp_path / "three.npy", np.zeros((10, 3)))
    np.save(tmp_path / "short.npy", np.zeros((9, 2)))
    with pytest.raises(DatasetError, match=r"\(N, 2\)") as err:
        load_coordinates(tmp_path / "three.npy", 10)
    assert "three.npy" in str(err.value)
    with pytest.raises(DatasetError, match="9 coordinate rows for a dataset of 10") as err:
        load_coordinates(tmp_path / "short.npy", 10)
    assert err.value.hint
    with pytest.raises(DatasetError, match="no such file"):
        load_coordinates(tmp_path / "missing.npy")
