"""2-D views of the latent space and their way back to z.

Every view is a `Projection`: ``transform`` places codes in the plane and ``inverse`` turns a point of
the plane back into a code, so a click or a drawn path can be decoded whatever the view. Raw axes and
PCA planes invert exactly; a t-SNE or user layout (`MapLayout`) only approximately, from the codes of
the nearest map points.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from latent_explorer.core.errors import DatasetError
from latent_explorer.core.placement import place_by_neighbours

PCA_BLOCK_ROWS = 8192
COORD_KEYS = ("coords", "xy", "embedding", "layout")


@runtime_checkable
class Projection(Protocol):
    kind: str  # "raw" | "pca" | "tsne" | "custom"

    def transform(self, z: np.ndarray) -> np.ndarray: ...

    def inverse(self, xy: np.ndarray, base: np.ndarray) -> np.ndarray: ...

    def axis_labels(self) -> tuple[str, str]: ...


def _as_rows(a: np.ndarray) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    return arr[None, :] if arr.ndim == 1 else arr


def _base_rows(base: np.ndarray, n: int) -> np.ndarray:
    """``base`` as an (n, d) float64 copy: one code broadcast to every point, or one code per point."""
    rows = _as_rows(base)
    if len(rows) == 1 and n != 1:
        rows = np.repeat(rows, n, axis=0)
    if len(rows) != n:
        raise ValueError(f"{n} points but {len(rows)} base codes")
    return rows.copy()


# ------------------------------------------------------------------------------------------ raw axes
class RawAxes:
    """Two latent coordinates as the axes; inverse sets them and keeps the base code's others."""

    kind = "raw"

    def __init__(self, i: int, j: int):
        self.i, self.j = int(i), int(j)

    def transform(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z)[..., [self.i, self.j]]

    def inverse(self, xy: np.ndarray, base: np.ndarray) -> np.ndarray:
        points = _as_rows(xy)
        out = _base_rows(base, len(points))
        out[:, self.i] = points[:, 0]
        out[:, self.j] = points[:, 1]
        return out

    def axis_labels(self) -> tuple[str, str]:
        return f"z{self.i}", f"z{self.j}"

    def __repr__(self) -> str:
        return f"RawAxes({self.i}, {self.j})"


# ------------------------------------------------------------------------------------------------ PCA
class PCAModel:
    """PCA with every component, from the eigendecomposition of the d×d covariance.

    With N ≫ d (70,000 codes of size ≤ 256) the covariance is one blocked matrix product and ``eigh`` of a
    small matrix: far quicker than an SVD of the data. Signs follow sklearn's ``svd_flip`` convention
    (each component's largest loading is positive), so refits give the same picture.
    """

    def __init__(self, mean: np.ndarray, components: np.ndarray, explained_variance: np.ndarray):
        self.mean_ = np.asarray(mean, dtype=np.float64)
        self.components_ = np.asarray(components, dtype=np.float64)  # (d, d), one component per row
        self.explained_variance_ = np.asarray(explained_variance, dtype=np.float64)
        total = float(self.explained_variance_.sum())
        self.explained_variance_ratio_ = (self.explained_variance_ / total if total > 0
                                          else np.zeros_like(self.explained_variance_))

    @classmethod
    def fit(cls, z: np.ndarray) -> PCAModel:
        data = np.asarray(z)
        if data.ndim != 2 or len(data) < 2:
            raise ValueError(f"PCA needs at least two codes in an (N, d) array, got shape {data.shape}")
        mean = data.mean(axis=0, dtype=np.float64)
        d = data.shape[1]
        cov = np.zeros((d, d), np.float64)
        for start in range(0, len(data), PCA_BLOCK_ROWS):
            block = data[start:start + PCA_BLOCK_ROWS].astype(np.float64) - mean
            cov += block.T @ block
        cov /= len(data) - 1
        values, vectors = np.linalg.eigh(cov)
        order = np.argsort(values)[::-1]
        values = np.clip(values[order], 0.0, None)
        components = vectors[:, order].T
        signs = np.sign(components[np.arange(d), np.argmax(np.abs(components), axis=1)])
        signs[signs == 0] = 1.0
        return cls(mean, components * signs[:, None], values)

    @property
    def n_components(self) -> int:
        return len(self.components_)

    def transform(self, z: np.ndarray, n_components: int | None = None) -> np.ndarray:
        """Scores on the first ``n_components`` components (all by default)."""
        comps = self.components_ if n_components is None else self.components_[:n_components]
        return (np.asarray(z, dtype=np.float64) - self.mean_) @ comps.T

    def plane(self, i: int, j: int) -> PCAPlane:
        return PCAPlane(self, i, j)

    def component_label(self, i: int) -> str:
        return f"PC{i + 1} ({self.explained_variance_ratio_[i]:.1%})"


class PCAPlane:
    """Components i and j of a `PCAModel` as axes; inverse moves the base code within that plane only."""

    kind = "pca"

    def __init__(self, model: PCAModel, i: int, j: int):
        n = model.n_components
        if not (0 <= i < n and 0 <= j < n):
            raise ValueError(f"components {i + 1} and {j + 1} asked, the PCA has {n}")
        self.model, self.i, self.j = model, int(i), int(j)
        self.basis = model.components_[[self.i, self.j]]  # (2, d)

    def transform(self, z: np.ndarray) -> np.ndarray:
        return (np.asarray(z, dtype=np.float64) - self.model.mean_) @ self.basis.T

    def inverse(self, xy: np.ndarray, base: np.ndarray) -> np.ndarray:
        points = _as_rows(xy)
        out = _base_rows(base, len(points))
        out += (points - self.transform(out)) @ self.basis
        return out

    def axis_labels(self) -> tuple[str, str]:
        return self.model.component_label(self.i), self.model.component_label(self.j)

    def __repr__(self) -> str:
        return f"PCAPlane(PC{self.i + 1}, PC{self.j + 1})"


# --------------------------------------------------------------------------------- t-SNE / user maps
class MapLayout:
    """A fixed layout of the dataset (t-SNE, or coordinates the user loaded) used as a projection.

    New codes are placed by the distance-weighted mean of the map positions of their k nearest codes;
    a point of the map goes back to z as the distance-weighted mean of the codes of its k nearest map
    points. Both are approximations: such maps have no exact inverse.
    """

    def __init__(self, coords: np.ndarray, codes: np.ndarray, name: str, kind: str = "custom", k: int = 8):
        coords = np.asarray(coords, dtype=np.float64)
        codes = np.asarray(codes)
        if coords.ndim != 2 or coords.shape[1] != 2:
            raise ValueError(f"a layout is (N, 2), got shape {coords.shape}")
        if len(coords) != len(codes):
            raise ValueError(f"{len(coords)} layout points for {len(codes)} codes")
        self.kind = kind
        self.name = name
        self.coords = coords
        self.codes = codes
        self.k = int(k)
        self.finite = np.flatnonzero(np.isfinite(coords).all(axis=1))
        self._code_index = None
        self._map_tree = None

    def _neighbours_of_codes(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._code_index is None:
            from sklearn.neighbors import NearestNeighbors

            self._code_index = NearestNeighbors(n_neighbors=min(self.k, len(self.finite)))
            self._code_index.fit(self.codes[self.finite])
        dist, idx = self._code_index.kneighbors(z)
        return dist, self.finite[idx]

    def _neighbours_on_map(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._map_tree is None:
            from scipy.spatial import cKDTree

            self._map_tree = cKDTree(self.coords[self.finite])
        dist, idx = self._map_tree.query(xy, k=min(self.k, len(self.finite)))
        dist, idx = np.atleast_2d(dist), np.atleast_2d(idx)
        if dist.shape[0] != len(xy):
            dist, idx = dist.T, idx.T
        return dist, self.finite[idx]

    def transform(self, z: np.ndarray) -> np.ndarray:
        single = np.ndim(z) == 1
        dist, idx = self._neighbours_of_codes(_as_rows(z).astype(self.codes.dtype, copy=False))
        out = place_by_neighbours(self.coords, idx, dist)
        return out[0] if single else out

    def inverse(self, xy: np.ndarray, base: np.ndarray) -> np.ndarray:
        points = _as_rows(xy)
        dist, idx = self._neighbours_on_map(points)
        return place_by_neighbours(self.codes, idx, dist)

    def axis_labels(self) -> tuple[str, str]:
        return f"{self.name} 1", f"{self.name} 2"

    def __repr__(self) -> str:
        return f"MapLayout({self.name!r}, {len(self.coords)} points)"


# ------------------------------------------------------------------------------ user coordinates file
def load_coordinates(path: str | Path, n_points: int | None = None) -> np.ndarray:
    """Read (N, 2) coordinates from .npy, .npz or .csv; with ``n_points``, the row count must match."""
    path = Path(path)
    if not path.exists():
        raise DatasetError("no such file", path=path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            coords = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            coords = _coords_from_npz(path)
        elif suffix in (".csv", ".tsv", ".txt"):
            coords = _coords_from_text(path, "\t" if suffix == ".tsv" else None)
        else:
            raise DatasetError("cannot tell the format of this coordinates file", path=path,
                               hint="save an (N, 2) array as .npy, .npz or .csv")
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"cannot read coordinates ({exc})", path=path) from exc
    coords = np.asarray(coords)
    if coords.dtype.kind not in "iuf":
        raise DatasetError(f"coordinates have dtype {coords.dtype}; numbers were expected", path=path)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise DatasetError(f"coordinates must be an (N, 2) array, this one has shape {coords.shape}", path=path,
                           hint="keep two columns: x and y, one row per sample")
    if n_points is not None and len(coords) != n_points:
        raise DatasetError(f"{len(coords):,} coordinate rows for a dataset of {n_points:,} samples", path=path,
                           hint="give one row per sample of the loaded dataset, in the same order")
    return coords.astype(np.float64)


def _coords_from_npz(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as data:
        names = list(data.files)
        if not names:
            raise DatasetError("the archive holds no arrays", path=path)
        key = next((k for k in COORD_KEYS if k in names), None)
        if key is None:
            two_columns = [k for k in names if data[k].ndim == 2 and data[k].shape[1] == 2]
            if len(two_columns) != 1:
                raise DatasetError(f"cannot tell which array holds the coordinates (arrays: {', '.join(names)})",
                                   path=path, hint=f"name the (N, 2) array one of: {', '.join(COORD_KEYS)}")
            key = two_columns[0]
        return data[key]


def _coords_from_text(path: Path, delimiter: str | None) -> np.ndarray:
    """CSV with or without a header row; with more than two columns, an ``x``/``y`` header picks them."""
    with open(path, newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        if delimiter is None:
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t ").delimiter
            except csv.Error:
                delimiter = ","
        rows = [row for row in csv.reader(fh, delimiter=delimiter) if any(cell.strip() for cell in row)]
    if not rows:
        raise DatasetError("the file is empty", path=path)
    header = None
    try:
        [float(cell) for cell in rows[0]]
    except ValueError:
        header, rows = [cell.strip().lower() for cell in rows[0]], rows[1:]
    columns = [0, 1]
    if header is not None and "x" in header and "y" in header:
        columns = [header.index("x"), header.index("y")]
    elif rows and len(rows[0]) != 2:
        raise DatasetError(f"{len(rows[0])} columns; expected two (x, y)", path=path,
                           hint="keep two columns, or name them x and y in a header row")
    try:
        return np.array([[float(row[c]) for c in columns] for row in rows], dtype=np.float64).reshape(-1, 2)
    except (ValueError, IndexError) as exc:
        raise DatasetError(f"a row is not two numbers ({exc})", path=path) from exc
