"""Which part files make up a Parquet codes dataset, and whether the job that wrote it finished.

A distributed job writes its part files one by one; killed half-way, it leaves a folder that reads as a smaller,
plausible dataset. So a job marks the folder first (``_started.json``) and writes the manifest ``_SUCCESS``
last, naming every part and the row count. Readers take the parts the manifest names (so a rewrite can switch
to new parts by replacing the manifest, atomically), refuse a folder that was started and never finished, and
read a folder without either marker (someone else's pipeline) as all of its ``.parquet`` files.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from latent_explorer.core.atomic import write_text_atomic
from latent_explorer.core.errors import DatasetError

STARTED = "_started.json"
SUCCESS = "_SUCCESS"
MANIFEST_VERSION = 1


def read_manifest(folder: str | Path) -> dict[str, Any] | None:
    """The ``_SUCCESS`` manifest of a finished dataset, or None when there is none."""
    path = Path(folder) / SUCCESS
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text())
        if not isinstance(manifest.get("parts"), list):
            raise ValueError("no list of parts")
    except (OSError, ValueError, AttributeError) as exc:
        raise DatasetError(f"the dataset's manifest cannot be read ({exc})", path=path,
                           hint="the job that wrote it was interrupted while finishing; run it again") from exc
    return manifest


def dataset_parts(folder: str | Path) -> list[Path]:
    """The part files to read, in order; raises `DatasetError` for a dataset whose job did not finish."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is not None:
        parts = [folder / name for name in manifest["parts"]]
        missing = [p.name for p in parts if not p.exists()]
        if missing:
            raise DatasetError(f"{len(missing)} part files named in the manifest are missing (first: {missing[0]})",
                               path=folder, hint="the dataset was moved or pruned; copy it whole or write it again")
        return parts
    if (folder / STARTED).exists():
        raise DatasetError("this dataset is half-written: the job that wrote it did not finish (no _SUCCESS)",
                           path=folder, hint="run the job again; it starts the folder afresh")
    return sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith((".", "_")))


def begin_dataset(folder: str | Path, info: dict[str, Any]) -> Path:
    """Make ``folder`` ready for a new job: clear a dataset written by an earlier job, refuse anything else."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise DatasetError("the output exists and is not a folder", path=folder,
                           hint="name a new folder for the Parquet dataset")
    if folder.exists() and any(folder.iterdir()):
        ours = (folder / STARTED).exists() or (folder / SUCCESS).exists()
        if not ours:
            raise DatasetError("the output folder is not empty and was not written by Latent Explorer", path=folder,
                               hint="name a new or empty folder")
        for old in folder.iterdir():
            if old.is_file() and (old.suffix == ".parquet" or old.name in (SUCCESS, STARTED)):
                old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / STARTED, json.dumps({"version": MANIFEST_VERSION, **info}))
    return folder


def finish_dataset(folder: str | Path, parts: list[str], rows: int, info: dict[str, Any]) -> None:
    """Write the manifest, last: from now on the dataset reads as complete."""
    folder = Path(folder)
    write_text_atomic(folder / SUCCESS, json.dumps({"version": MANIFEST_VERSION, "parts": list(parts),
                                                    "rows": int(rows), **info}, indent=1))
    with contextlib.suppress(FileNotFoundError):
        (folder / STARTED).unlink()
