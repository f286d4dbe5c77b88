"""A drawn path as data (`LatentPath`): its vertices, the view it was drawn on, JSON in and out, its arrays."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latent_explorer.core.interpolation.constants import HOLD_MODES, LATENT_KINDS, MAP_KINDS, PATH_FORMAT, PathError
from latent_explorer.core.interpolation.images import _writing


@dataclass
class LatentPath:
    """A path the user drew: where, on which view, and how it is lifted. Saved and loaded as JSON."""

    name: str
    vertices: list[list[float]]  # 2-D vertices in the coordinates of the view it was drawn on
    view: dict[str, Any] = field(default_factory=dict)  # ViewSpec fields: kind, i, j, key
    steps: int = 64
    hold: str = "blend"
    start_index: int | None = None  # data point the start snapped to
    end_index: int | None = None
    visible: bool = True
    latent: str = "z"  # which codes the view plotted: "z", or "mu" for a VAE

    def view_label(self) -> str:
        kind = self.view.get("kind", "?")
        i, j = int(self.view.get("i", 0)), int(self.view.get("j", 1))
        if kind == "raw":
            return f"raw z{i}/z{j}"
        if kind == "pca":
            return f"PCA {i + 1}/{j + 1}"
        return f"{kind} {self.view.get('key', '')}".strip()

    def vertex_array(self) -> np.ndarray:
        return np.asarray(self.vertices, dtype=np.float64).reshape(-1, 2)

    def to_json(self) -> dict[str, Any]:
        return {"format": PATH_FORMAT, "version": 1, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "") -> LatentPath:
        where = source or None
        if not isinstance(data, dict) or data.get("format") != PATH_FORMAT:
            raise PathError("not a Latent Explorer path file", path=where,
                            hint="save a path from the Paths panel (Save JSON) and load that file")
        try:
            path = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
            verts = path.vertex_array()
            path.vertices = verts.tolist()
            path.steps = int(path.steps)
            path.view = dict(path.view)
            for key in ("start_index", "end_index"):
                value = getattr(path, key)
                setattr(path, key, None if value is None else int(value))
        except (TypeError, ValueError) as exc:
            raise PathError(f"the path file is malformed ({exc})", path=where) from exc
        if len(verts) < 2 or not np.isfinite(verts).all():
            raise PathError("a path needs at least two finite vertices", path=where)
        if path.hold not in HOLD_MODES:
            raise PathError(f"hold must be one of {HOLD_MODES}, not '{path.hold}'", path=where)
        if path.latent not in LATENT_KINDS:
            raise PathError(f"latent must be one of {LATENT_KINDS}, not '{path.latent}'", path=where)
        if path.view.get("kind") not in ("raw", "pca", *MAP_KINDS):
            raise PathError(f"the path names an unknown view {path.view}", path=where,
                            hint="kind must be raw, pca, tsne or custom")
        if not 2 <= path.steps <= 4096:
            raise PathError(f"steps must be between 2 and 4096, not {path.steps}", path=where)
        return path

    def save(self, file: str | Path) -> None:
        with _writing(file, ".json") as tmp:
            tmp.write_text(json.dumps(self.to_json(), indent=2))

    @classmethod
    def load(cls, file: str | Path) -> LatentPath:
        try:
            data = json.loads(Path(file).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PathError(f"cannot read the path file ({exc})", path=file) from exc
        return cls.from_json(data, str(file))


def save_path_arrays(file: str | Path, z: np.ndarray, vertices: np.ndarray, samples: np.ndarray,
                     **extra: np.ndarray) -> None:
    """The path's z-sequence, its drawn vertices and its resampled 2-D points (and ``extra`` arrays) as one .npz."""
    arrays = {"z": np.asarray(z, np.float32), "vertices": np.asarray(vertices, np.float64),
              "samples": np.asarray(samples, np.float64)}
    arrays.update({k: np.asarray(v) for k, v in extra.items() if v is not None})
    with _writing(file, ".npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
