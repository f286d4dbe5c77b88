"""Opening datasets and models in the window: `SourceLoader`, the one path every load takes.

The menus, the data pane, recent files, drag and drop and sessions all open files through this object, so
that every model load meets the same consent flow: a model whose loading runs code from the file raises
`UnsafeFileError`; the user is asked, and the load is retried with ``allow_pickle=True`` only if they agree.
Before each load starts, ``opening`` says which spec is being opened (the session feature records it).

A codes file (or Parquet dataset folder) opens without a model: its rows become the dataset, its codes the
codes, and ``state.decoding`` says decoding is unavailable and which model would enable it. A model opened
while such codes are shown is *attached* to them (not used to encode) when its latent size matches; another
size is refused with one message and the codes stay as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from psygnal import Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from latent_explorer.core.codes_file import ARROW_SUFFIXES, PARQUET_SUFFIXES
from latent_explorer.core.codes_source import OpenedCodes, check_attachable, has_pixels, iter_open_codes
from latent_explorer.core.datasets import default_dataset_spec
from latent_explorer.core.encoding import iter_encode_cached
from latent_explorer.core.errors import LatentExplorerError, UnsafeFileError
from latent_explorer.core.jobs import Progress
from latent_explorer.core.loaders import iter_load_dataset, load_model  # plugins' formats, then the built-in ones
from latent_explorer.core.models import default_demo_for
from latent_explorer.core.parquet_dataset import STARTED, SUCCESS
from latent_explorer.core.state import DecodingStatus, ExplorerState
from latent_explorer.qt.context import ErrorReporter
from latent_explorer.workers.runner import JobRunner

MAX_RECENT = 10
LOAD_DATA_JOB, LOAD_MODEL_JOB, ENCODE_JOB = "load-data", "load-model", "encode"
CODES_FILE_SUFFIXES = PARQUET_SUFFIXES + ARROW_SUFFIXES  # dropped files that are codes (.npz/.npy are datasets)


def is_codes_path(path: Path) -> bool:
    """A Parquet/Arrow codes file, or a folder of Parquet parts (a dataset written by a job)."""
    if path.is_dir():
        return (path / SUCCESS).exists() or (path / STARTED).exists() or any(path.glob("*.parquet"))
    return path.suffix.lower() in CODES_FILE_SUFFIXES


def ask_consent(parent: QWidget, exc: UnsafeFileError) -> bool:
    """The one question asked before a model file may run code."""
    answer = QMessageBox.warning(
        parent, "Run code from this model?",
        f"{exc}\n\nLoading it runs code from the file. Load it only if you trust its origin.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


class SourceLoader:
    """Loads datasets and models into the state and encodes the dataset with the model."""

    opening = Signal(str, str, dict)  # kind ("data" | "model"), spec, load options
    recent_changed = Signal()
    encode_progress = Signal(object)  # Progress of the running encoding

    def __init__(self, state: ExplorerState, jobs: JobRunner, settings: Any, errors: ErrorReporter,
                 parent: QWidget, coordinates: Callable[[str], Any]):
        self.state, self.jobs, self.settings, self.errors, self.parent = state, jobs, settings, errors, parent
        self.load_coordinates = coordinates
        self.device = "auto"
        self.consent: Callable[[QWidget, UnsafeFileError], bool] = ask_consent  # tests answer in its place
        # asked by the user's Open entries before they replace the model or dataset (the session feature answers)
        self.confirm_discard: Callable[[str], bool] = lambda what: True
        # "dataset" / "model": a feature's Open dialog shown by ask_open_*, in place of the bare file chooser
        self.open_dialogs: dict[str, Callable[[], Any]] = {}
        self._pending_model: str | None = None
        self._pending_allow_pickle = False

    # ------------------------------------------------------------------ opening
    def open_initial(self, model: str | None = None, data: str | None = None, device: str = "auto",
                     allow_pickle: bool = False) -> None:
        """What ``latent-explorer`` opens at start: the given files, else the demo for the default data."""
        self.device = device or "auto"
        data = data or default_dataset_spec()
        if model is None:
            model = f"demo:{default_demo_for(data)}" if data in ("digits",) or data.startswith("fashion") else None
        self.open_dataset(data, then_model=model, allow_pickle=allow_pickle)

    def open_demo(self, name: str) -> None:
        if not self.confirm_discard(f"the demo {name}"):
            return
        data = "fashion-mnist" if name.startswith("fashion") else "digits"
        if self.state.dataset is not None and self.state.dataset.name == data:
            self.open_model(f"demo:{name}")
        else:
            self.open_dataset(data, then_model=f"demo:{name}")

    def open_dataset(self, spec: str, then_model: str | None = None, allow_pickle: bool = False,
                     **options: Any) -> None:
        self._pending_model = then_model
        self._pending_allow_pickle = allow_pickle
        self._remember_recent(spec, "data")
        self.opening.emit("data", str(spec), {k: v for k, v in options.items() if v is not None})
        self.jobs.start(LOAD_DATA_JOB, lambda: iter_load_dataset(spec, **options), title="loading data",
                        on_done=self._on_dataset_loaded)

    def open_model(self, spec: str, allow_pickle: bool = False,
                   on_loaded: Callable[[Any], Any] | None = None,
                   on_failed: Callable[[BaseException], Any] | None = None, check_with: Any = None,
                   job_name: str = LOAD_MODEL_JOB) -> None:
        """Load a model in the background; a model that would run code is loaded only after the user agrees.

        With ``on_loaded(model)`` the model is handed to the caller instead of put in the state (a session
        restoring more than the model), checked against ``check_with`` (a dataset) rather than the loaded one;
        ``on_failed(exc)`` then hears of a failure (or of the user saying no) instead of an error box.
        A load under another ``job_name`` runs beside the window's own model load instead of replacing it.
        """
        if on_loaded is None:
            self._remember_recent(spec, "model")
            self.opening.emit("model", str(spec), {})
        dataset = check_with if check_with is not None else self.state.dataset
        samples = dataset.float_images(slice(0, 2)) if has_pixels(dataset) else None
        device = self.device

        def job():
            yield Progress("loading model", 0, None, spec)
            return load_model(spec, device=device, allow_pickle=allow_pickle, check_samples=samples)

        def failed(exc: BaseException) -> bool:
            if isinstance(exc, UnsafeFileError) and not allow_pickle:
                if self.consent(self.parent, exc):
                    self.open_model(spec, allow_pickle=True, on_loaded=on_loaded, on_failed=on_failed,
                                    check_with=check_with, job_name=job_name)
                    return True
                self.errors.say(f"not loaded: {Path(str(spec)).name} would run code from the file")
                if on_failed is not None:
                    on_failed(exc)
                return True
            if on_failed is not None:
                on_failed(exc)
                return True
            return False

        self.jobs.start(job_name, job, title="loading model",
                        on_done=on_loaded if on_loaded is not None else self._on_model_loaded, on_error=failed)

    def encode(self) -> None:
        model, dataset = self.state.model, self.state.dataset
        if model is None or dataset is None:
            return

        self.jobs.start(ENCODE_JOB, lambda: iter_encode_cached(model, dataset), title="encoding",
                        on_done=lambda codes: self._on_encoded(model, dataset, codes),
                        on_progress=self.encode_progress.emit)

    def open_codes(self, spec: str, then_model: str | None = None, allow_pickle: bool = False) -> None:
        """Open a codes file or Parquet dataset folder without a model (see the module docstring); a model
        named by ``then_model`` is attached to the codes once they are shown."""
        self._pending_model, self._pending_allow_pickle = then_model, allow_pickle
        self._remember_recent(str(spec), "codes")
        self.jobs.start(LOAD_DATA_JOB, lambda: iter_open_codes(spec), title="reading codes",
                        on_done=self.show_codes)

    def open_path(self, path: str) -> None:
        """A dropped or named path: a model if it looks like one, codes if they are, else a dataset."""
        p = Path(path)
        if not self.confirm_discard(p.name):
            return
        if p.name == "model.toml" or p.suffix == ".toml" or (p.is_dir() and ((p / "model.toml").exists()
                                                                            or (p / "config.json").exists())):
            self.open_model(str(p))
        elif p.name == "config.json":
            self.open_model(str(p.parent))
        elif is_codes_path(p):
            self.open_codes(str(p))
        else:
            self.open_dataset(str(p))

    # ------------------------------------------------------------------ results (GUI thread)
    def _on_dataset_loaded(self, dataset: Any) -> None:
        self.jobs.cancel(ENCODE_JOB)  # codes of the previous dataset must never arrive after this one
        state = self.state
        state.codes = None
        state.selection = np.zeros(0, np.int64)
        state.current_index = None
        state.hidden_classes = frozenset()  # class ids of another dataset mean other classes
        state.decoding = DecodingStatus()
        state.dataset = dataset
        msg = f"{dataset.name}: {len(dataset):,} images {list(dataset.image_shape)}"
        if dataset.skipped:
            msg += f" — {len(dataset.skipped)} unreadable files skipped"
        self.errors.say(msg)
        if self._pending_model:
            spec, self._pending_model = self._pending_model, None
            self.open_model(spec, allow_pickle=self._pending_allow_pickle)
        elif state.model is not None:
            self._check_and_encode()

    def show_codes(self, opened: OpenedCodes) -> None:
        """Put opened codes in the state, without a model (the file loader's result; also figures and scripts)."""
        self.jobs.cancel(ENCODE_JOB)
        state = self.state
        state.codes = None
        state.model = None  # codes of a file are decoded only by a model attached to them afterwards
        state.selection = np.zeros(0, np.int64)
        state.current_index = None
        state.current_z = None
        state.hidden_classes = frozenset()
        state.decoding = DecodingStatus(False, opened.note)
        state.dataset = opened.dataset
        state.codes = opened.codes
        self.errors.say(f"{opened.dataset.name}: {opened.dataset.summary()} — no model: {opened.note}")
        if self._pending_model:
            spec, self._pending_model = self._pending_model, None
            self.open_model(spec, allow_pickle=self._pending_allow_pickle)

    def _attach_model(self, model: Any) -> None:
        """A model opened while codes from a file are shown: decode them with it if its latent size fits."""
        codes = self.state.codes
        try:
            warning = check_attachable(model, codes, self.state.dataset.source)
        except LatentExplorerError as exc:
            self.errors.show_error(exc, "Attach model")
            return
        self.state.model = model
        self.state.decoding = DecodingStatus()
        self.errors.say(warning or f"model {model.name} attached: decoding the {len(codes):,} codes is enabled")

    def _on_model_loaded(self, model: Any) -> None:
        if self.state.codes is not None and not has_pixels(self.state.dataset):
            self._attach_model(model)
            return
        self.jobs.cancel(ENCODE_JOB)
        self.state.codes = None
        self.state.selection = np.zeros(0, np.int64)  # selected for the previous model's view
        self.state.current_index = None
        self.state.model = model
        self.errors.say(f"model {model.name}: {model.info.kind}, z_dim {model.latent_dim}")
        self.encode()

    def _on_encoded(self, model: Any, dataset: Any, codes: Any) -> None:
        if model is not self.state.model or dataset is not self.state.dataset:
            return  # encoded for a model or dataset that has been replaced since (a session opened, say)
        self.state.codes = codes
        self.errors.say(f"encoded {len(codes):,} samples → z_dim {codes.latent_dim}")

    def _check_and_encode(self) -> None:
        try:
            self.state.model.check(self.state.dataset.float_images(slice(0, 2)))
        except LatentExplorerError as exc:
            self.errors.show_error(exc)
            return
        self.encode()

    # ------------------------------------------------------------------ dialogs
    def ask_open_model(self) -> None:
        if "model" in self.open_dialogs:
            self.open_dialogs["model"]()
            return
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open model (model.toml or a checkpoint's config.json)",
                                              "", "Models (model.toml *.toml config.json);;All files (*)")
        if path and self.confirm_discard(f"the model {Path(path).name}"):
            self.open_model(str(Path(path).parent) if Path(path).name == "config.json" else path)

    def ask_open_dataset(self) -> None:
        if "dataset" in self.open_dialogs:
            self.open_dialogs["dataset"]()
            return
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open dataset", "",
                                              "Datasets (*.npz *.npy *ubyte *ubyte.gz *idx*);;All files (*)")
        if path and self.confirm_discard(f"the dataset {Path(path).name}"):
            self.open_dataset(path)

    def ask_open_codes(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.parent, "Open codes (no model needed)", "",
            "Codes (*.npz *.npy *.parquet *.pq *.arrow *.feather *.ipc);;All files (*)")
        if path:
            self.open_codes(path)

    def ask_open_codes_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self.parent, "Open a Parquet dataset folder of codes")
        if path:
            self.open_codes(path)

    def ask_load_coordinates(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Load 2-D coordinates (one row per sample)", "",
                                              "Coordinates (*.npy *.npz *.csv *.tsv *.txt);;All files (*)")
        if path:
            self.load_coordinates(path)

    # ------------------------------------------------------------------ recent files
    def _remember_recent(self, spec: str, kind: str) -> None:
        recent = [r for r in self._recent() if r != f"{kind}:{spec}"]
        recent.insert(0, f"{kind}:{spec}")
        self.settings.setValue("recent", recent[:MAX_RECENT])
        self.recent_changed.emit()

    def recent_files(self) -> list[tuple[str, str]]:
        """(kind, spec) of the recently opened models ("model") and datasets ("data"), newest first."""
        return [(kind, spec) for kind, _, spec in (entry.partition(":") for entry in self._recent())]

    def open_recent(self, kind: str, spec: str) -> None:
        if not self.confirm_discard(f"the {'model' if kind == 'model' else 'dataset'} {Path(spec).name}"):
            return
        if kind == "model":
            self.open_model(spec)
        elif kind == "codes":
            self.open_codes(spec)
        else:
            self.open_dataset(spec)

    def _recent(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])
