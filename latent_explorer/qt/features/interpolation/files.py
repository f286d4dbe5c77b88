"""Paths in and out of the window: JSON paths, the filmstrip as PNG, the animation as GIF, the arrays as .npz,
the File ▸ Paths menu, and the part that keeps the paths in saved sessions.

Loading a JSON path switches to the view it was drawn on (when this model and dataset have it) and recreates it
there. Every file is written atomically; a failure is reported and the window goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QFileDialog, QInputDialog

from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.interpolation import (
    ROW_PATH,
    LatentPath,
    PathError,
    save_gif,
    save_path_arrays,
    save_strip_png,
    strip_arrays,
)
from latent_explorer.qt.context import FeatureContext
from latent_explorer.qt.features.interpolation.host import PathsHost
from latent_explorer.qt.features.interpolation.store import PCA_PENDING, PathEntry, spec_of

JSON_FILTER = "Latent Explorer path (*.json);;All files (*)"
PNG_FILTER = "PNG image (*.png)"
GIF_FILTER = "Animated GIF (*.gif)"
NPZ_FILTER = "NumPy archive (*.npz)"
STRIP_SCALE = 3  # pixels per image pixel in the exported strip
STRIP_COLUMNS = 16  # frames per line of the exported strip: a long path wraps into blocks a page wide
GIF_SCALE = 4


def _safe_name(name: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.lower())
    return "-".join(part for part in keep.split("-") if part) or "path"


class PathFiles(QObject):
    """File actions of the Paths panel. ``ask_file`` is the only dialog (tests replace it)."""

    def __init__(self, context: FeatureContext, panel: PathsHost):
        super().__init__(panel)
        self.context = context
        self.panel = panel
        self.last_folder: Path | None = None
        self.strip_columns = STRIP_COLUMNS  # the last choice, offered again

    # ------------------------------------------------------------------ dialogs
    def ask_file(self, save: bool, title: str, filters: str, suggested: str = "") -> Path | None:
        folder = self.last_folder or Path.home()
        if save:
            chosen, _ = QFileDialog.getSaveFileName(self.context.parent, title, str(folder / suggested), filters)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self.context.parent, title, str(folder), filters)
        if not chosen:
            return None
        path = Path(chosen)
        self.last_folder = path.parent
        return path

    def ask_columns(self) -> int | None:
        """Frames per line of the exported filmstrip (0: one line), or None when cancelled. Tests replace this."""
        value, ok = QInputDialog.getInt(self.context.parent, "Export filmstrip as PNG",
                                        "Frames per line (longer paths wrap into blocks; 0: one line):",
                                        self.strip_columns, 0, 10_000, 1)
        return value if ok else None

    def _report(self, exc: Exception, title: str) -> None:
        self.context.errors.show_error(exc, title)

    def _entry(self) -> PathEntry | None:
        entry = self.panel.current()
        if entry is None:
            self.panel.say("Select a path first (or draw one: press P).")
        return entry

    def _ask_and_run(self, title: str, filters: str, suffix: str, action) -> Path | None:
        entry = self._entry()
        if entry is None:
            return None
        file = self.ask_file(True, title, filters, f"{_safe_name(entry.path.name)}{suffix}")
        if file is None:
            return None
        if file.suffix.lower() != suffix:
            file = file.with_name(file.name + suffix)
        try:
            action(file, entry)
        except (LatentExplorerError, OSError, ValueError) as exc:
            self._report(exc, title)
            return None
        return file

    def ask_load(self) -> PathEntry | None:
        file = self.ask_file(False, "Load a path", JSON_FILTER)
        return None if file is None else self.load_json(file)

    def ask_save(self) -> Path | None:
        return self._ask_and_run("Save path as JSON", JSON_FILTER, ".json", self.save_json)

    def ask_png(self) -> Path | None:
        if self._entry() is None:
            return None
        columns = self.ask_columns()
        if columns is None:
            return None
        self.strip_columns = columns
        return self._ask_and_run("Export filmstrip as PNG", PNG_FILTER, ".png", self.export_png)

    def ask_gif(self) -> Path | None:
        return self._ask_and_run("Export path animation as GIF", GIF_FILTER, ".gif", self.export_gif)

    def ask_npz(self) -> Path | None:
        return self._ask_and_run("Export path arrays", NPZ_FILTER, ".npz", self.export_npz)

    # ------------------------------------------------------------------ files
    def load_json(self, file: str | Path) -> PathEntry | None:
        """Read a path and recreate it on the view it names (switching to that view); None and a message if not."""
        try:
            path = LatentPath.load(file)
            spec = spec_of(path.view)
            controller = self.context.view
            if self.context.state.latent() is None:
                raise PathError("load a model and a dataset before a path", path=file)
            if not controller.is_valid(spec):
                raise PathError(f"the path was drawn on {spec.label()}, which this model and dataset do not have",
                                path=file, hint="open the model and dataset it was drawn with (and its t-SNE map)")
        except LatentExplorerError as exc:
            self._report(exc, "Load path")
            return None
        if self.context.state.view != spec:
            self.context.state.view = spec
        entry = self.panel.add_path(path)
        self.panel.reveal()
        self.panel.say(f"loaded {entry.path.name} on {spec.label()}" + (f" — {entry.problem}" if entry.problem
                                                                          else ""))
        return entry

    def save_json(self, file: str | Path, entry: PathEntry) -> None:
        entry.path.save(file)
        self.panel.say(f"path saved: {file}")

    def export_png(self, file: str | Path, entry: PathEntry, columns: int | None = None) -> None:
        """Every row of the strip, ``columns`` frames per line (default: the last choice; 0: one line)."""
        columns = self.strip_columns if columns is None else columns
        save_strip_png(file, self.panel.full_strip(entry), scale=STRIP_SCALE, columns=columns or None)
        self.panel.say(f"filmstrip saved: {file}")

    def export_gif(self, file: str | Path, entry: PathEntry) -> int:
        strip = self.panel.full_strip(entry)
        row = strip.row(ROW_PATH) or strip.rows[0]
        count = save_gif(file, row.frames, scale=GIF_SCALE, frame_ms=self.panel.player.frame_ms)
        self.panel.say(f"animation saved: {file} ({count} frames)")
        return count

    def export_npz(self, file: str | Path, entry: PathEntry) -> None:
        strip = self.panel.full_strip(entry)
        lifted = entry.lifted
        save_path_arrays(file, lifted.z, entry.path.vertex_array(), lifted.samples, **strip_arrays(strip, lifted))
        self.panel.say(f"path arrays saved: {file}")


class PathsSessionPart:
    """The paths in a saved session: their JSON, which one is selected, and the panel's settings."""

    restore_order = 60  # after the layouts (10) and the view (20): a path may name a t-SNE map

    def __init__(self, panel: PathsHost):
        self.panel = panel
        self.changed = panel.paths_changed  # the session is marked unsaved when the paths change

    def save(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        panel = self.panel
        current = next((i for i, e in enumerate(panel.entries) if e.uid == panel.current_uid), None)
        return {"paths": [e.path.to_json() for e in panel.entries], "current": current,
                "steps": panel.steps_spin.value(), "snap": panel.snap_box.isChecked()}, {}

    def restore(self, data: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        panel = self.panel
        panel.clear()
        panel.steps_spin.setValue(int(data.get("steps", panel.steps_spin.value())))
        panel.snap_box.setChecked(bool(data.get("snap", True)))
        problems, added = [], []
        for number, item in enumerate(data.get("paths", [])):
            try:
                added.append(panel.add_path(LatentPath.from_json(item, f"path {number + 1}"), select=False))
            except LatentExplorerError as exc:
                problems.append(exc.message)
        current = data.get("current")
        if isinstance(current, int) and 0 <= current < len(added):
            panel.select(added[current])
        unlifted = [e.path.name for e in added if e.lifted is None and e.problem != PCA_PENDING]
        if problems or unlifted:
            text = "; ".join(problems + ([f"not lifted (their view is missing): {', '.join(unlifted)}"]
                                         if unlifted else []))
            raise PathError(text)


def install_files(context: FeatureContext, panel: PathsHost, draw_action: Any) -> PathFiles:
    """The panel's buttons, File ▸ Paths, and the session part."""
    files = PathFiles(context, panel)
    for key, slot in (("load", files.ask_load), ("save", files.ask_save), ("png", files.ask_png),
                      ("gif", files.ask_gif), ("npz", files.ask_npz)):
        panel.buttons[key].clicked.connect(lambda checked=False, s=slot: s())
    menu = context.menus.add_menu("file.interpolation", "&Paths")
    menu.addAction(draw_action)
    menu.addSeparator()
    for text, slot in (("&Load Path (JSON)…", files.ask_load), ("&Save Path (JSON)…", files.ask_save),
                       ("Export Filmstrip (&PNG)…", files.ask_png), ("Export Animation (&GIF)…", files.ask_gif),
                       ("Export Path Arrays (.&npz)…", files.ask_npz)):
        menu.addAction(text).triggered.connect(lambda checked=False, s=slot: s())
    files.menu = menu
    context.session_parts["paths"] = PathsSessionPart(panel)
    return files
