"""Sessions in the window: File ▸ Save/Open Session, recent sessions, autosave and recovery after a crash.

Every feature can keep its own state in a session by registering a *part* in ``context.session_parts``::

    context.session_parts["paths"] = part   # part.save() -> (json_dict, arrays_dict); part.restore(json, arrays)

A part may set ``restore_order`` (lower first; default 50): the built-in ones restore layouts (10), then the
view and colouring (20), the selection (30) and the zoom rectangle (90), always after the dataset, the model
and the codes are back. A part that fails to restore is reported; the others still restore. A part may have
a ``changed`` signal: the session is then marked unsaved when it fires.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from latent_explorer.core.encoding import iter_encode_cached
from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.session import (
    SESSION_SUFFIX,
    OpenedSources,
    Session,
    SessionError,
    SourceProblem,
    SourceRef,
    autosaves,
    crash_autosave,
    iter_open_sources,
    mark_clean_exit,
    read_session,
    write_autosave,
    write_session,
)
from latent_explorer.core.state import ViewSpec
from latent_explorer.core.view_state import Layout
from latent_explorer.qt.context import FeatureContext, SessionPart
from latent_explorer.qt.features.session.discard import DiscardGuard

OPEN_JOB = "open-session"
AUTOSAVE_MINUTES = 3.0
MAX_RECENT_SESSIONS = 10
SESSION_FILTER = f"Latent Explorer sessions (*{SESSION_SUFFIX});;All files (*)"
DEFAULT_ORDER = 50


# ------------------------------------------------------------------------------------------ sources
class SourceTracker:
    """Remembers the spec and load options that opened the current dataset and model.

    The window opens files by spec; a session must store that spec (not the loaded object) to reopen it.
    The file loader says which spec each load opens (``sources.opening``); it is committed when the state
    changes.
    """

    def __init__(self, context: FeatureContext):
        self.state = context.state
        self.dataset: tuple[str, dict[str, Any]] | None = None
        self.model: str | None = None
        self._pending_dataset: tuple[str, dict[str, Any]] | None = None
        self._pending_model: str | None = None
        context.sources.opening.connect(self._on_opening)
        context.state.events.dataset.connect(self._on_dataset)
        context.state.events.model.connect(self._on_model)

    def _on_opening(self, kind: str, spec: str, options: dict[str, Any]) -> None:
        if kind == "data":
            self._pending_dataset = (spec, dict(options))
        else:
            self._pending_model = spec

    def expect(self, dataset: tuple[str, dict[str, Any]] | None, model: str | None) -> None:
        """The next dataset/model put in the state come from these specs (a session being opened)."""
        self._pending_dataset, self._pending_model = dataset, model

    def _on_dataset(self, *_) -> None:
        self.dataset, self._pending_dataset = self._pending_dataset, None

    def _on_model(self, *_) -> None:
        self.model, self._pending_model = self._pending_model, None

    def dataset_ref(self) -> SourceRef | None:
        dataset = self.state.dataset
        if dataset is None:
            return None
        spec, options = self.dataset or (self._guess_dataset_spec(dataset), {})
        return SourceRef(spec, dataset.fingerprint(), dataset.name, options)

    def model_ref(self) -> SourceRef | None:
        model = self.state.model
        if model is None:
            return None
        spec = self.model or getattr(getattr(model, "info", None), "source", "") or model.name
        return SourceRef(str(spec), model.fingerprint(), model.name)

    @staticmethod
    def _guess_dataset_spec(dataset) -> str:
        if dataset.source == "fashion-mnist":
            return dataset.name
        return dataset.source or dataset.name


# ------------------------------------------------------------------------------------------ parts
class ViewPart:
    """Which view, how coloured, which classes hidden, mu or z, the current sample, and the point style."""

    restore_order = 20

    def __init__(self, context: FeatureContext):
        self.context = context

    def save(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        state, scatter = self.context.state, self.context.scatter
        view = state.view
        data: dict[str, Any] = {
            "view": {"kind": view.kind, "i": view.i, "j": view.j, "key": view.key},
            "color_by": state.color_by,
            "hidden_classes": sorted(int(k) for k in state.hidden_classes),
            "use_mu": bool(state.use_mu),
            "current_index": state.current_index,
            "point_size": scatter.cloud.point_size,
            "opacity": scatter.cloud.opacity,
            "density": bool(scatter.cloud.density),
        }
        arrays = {} if state.current_z is None else {"current_z": np.asarray(state.current_z)}
        return data, arrays

    def restore(self, data: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        state, scatter = self.context.state, self.context.scatter
        state.use_mu = bool(data.get("use_mu", False))
        view = data.get("view") or {}
        spec = ViewSpec(str(view.get("kind", "pca")), int(view.get("i", 0)), int(view.get("j", 1)),
                        str(view.get("key", "")))
        valid = self.context.view.is_valid(spec)
        if valid:
            state.view = spec
        state.color_by = str(data.get("color_by", "label"))
        state.hidden_classes = frozenset(int(k) for k in data.get("hidden_classes", []))
        n = len(state.codes) if state.codes is not None else 0
        index = data.get("current_index")
        state.current_index = int(index) if index is not None and 0 <= int(index) < n else None
        z = arrays.get("current_z")
        if z is not None and state.codes is not None and z.shape == (state.codes.latent_dim,):
            state.current_z = z
        if "point_size" in data:
            scatter.set_point_size(float(data["point_size"]))
        if "opacity" in data:
            scatter.set_opacity(float(data["opacity"]))
        if "density" in data:
            scatter.set_density_mode(bool(data["density"]))
        if not valid:
            raise SessionError(f"the saved view '{spec.label()}' does not exist for this model and dataset; "
                               "the colouring and style are restored")


class SelectionPart:
    restore_order = 30

    def __init__(self, context: FeatureContext):
        self.context = context

    def save(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        selection = self.context.state.selection
        return {"count": int(len(selection))}, {"indices": selection}

    def restore(self, data: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        state = self.context.state
        indices = np.asarray(arrays.get("indices", np.zeros(0, np.int64)), dtype=np.int64).ravel()
        n = len(state.codes) if state.codes is not None else 0
        kept = indices[(indices >= 0) & (indices < n)]
        state.select(kept)
        if len(kept) < len(indices):
            raise SessionError(f"{len(indices) - len(kept)} selected samples are beyond the {n:,} samples loaded; "
                               "the rest of the selection is restored")


class ZoomPart:
    """The visible rectangle; applied once the scatter shows the restored view (PCA may still be fitting)."""

    restore_order = 90

    def __init__(self, context: FeatureContext):
        self.context = context
        self._pending: tuple[float, float, float, float] | None = None
        context.view.points_changed.connect(self._apply_pending)

    def save(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        return {"rect": list(self.context.scatter.visible_rect())}, {}

    def restore(self, data: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        rect = data.get("rect")
        if not (isinstance(rect, list) and len(rect) == 4 and all(np.isfinite(float(v)) for v in rect)):
            raise SessionError("the saved zoom rectangle is malformed")
        x0, x1, y0, y1 = (float(v) for v in rect)
        if not (x1 > x0 and y1 > y0):
            raise SessionError(f"the saved zoom rectangle is empty: {rect}")
        self._pending = (x0, x1, y0, y1)
        self._apply_pending()

    @Slot()
    def _apply_pending(self) -> None:
        codes = self.context.state.codes
        scatter = self.context.scatter
        if self._pending is None or codes is None or scatter.n_points != len(codes):
            return
        rect, self._pending = self._pending, None
        scatter.set_view(*rect)


class LayoutsPart:
    """The t-SNE maps and loaded coordinates of the view controller: restoring them never reruns t-SNE."""

    restore_order = 10

    def __init__(self, context: FeatureContext):
        self.context = context

    def _codes_key(self) -> dict[str, str]:
        codes = self.context.state.codes
        return {"model": codes.model_key if codes is not None else "", "data": codes.data_key if codes else ""}

    def save(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        controller = self.context.view
        running = controller.running_tsne_key()
        entries, arrays = [], {}
        for number, layout in enumerate(controller.layouts.values()):
            if layout.key == running:
                continue  # a run in progress is saved once it has finished or been stopped
            name = f"layout{number}"
            entries.append({"array": name, "key": layout.key, "kind": layout.kind, "name": layout.name,
                            "source": layout.source, "finished": bool(layout.finished), "note": layout.note})
            arrays[name] = np.asarray(layout.coords, dtype=np.float32)
        return {"layouts": entries, "codes": self._codes_key()}, arrays

    def restore(self, data: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        controller = self.context.view
        state = self.context.state
        n = len(state.codes) if state.codes is not None else len(state.dataset) if state.dataset is not None else 0
        saved_codes = data.get("codes") or {}
        now = self._codes_key()
        skipped = []
        for entry in data.get("layouts", []):
            coords = arrays.get(str(entry.get("array")))
            source = str(entry.get("source", "latent"))
            stale = (source == "latent" and saved_codes != now) or (source != "latent"
                                                                    and saved_codes.get("data") != now["data"])
            if coords is None or coords.ndim != 2 or coords.shape != (n, 2) or stale:
                skipped.append(str(entry.get("key")))
                continue
            key, kind = str(entry["key"]), str(entry.get("kind", "tsne"))
            # keeps key, origin and the "stopped at …" note exactly as saved
            controller.put_layout(Layout(key, kind, coords, str(entry.get("name", "")), source,
                                         bool(entry.get("finished", True)), str(entry.get("note", ""))))
        if skipped:
            raise SessionError(f"layouts made for another model or dataset were left out: {', '.join(skipped)}")


# ------------------------------------------------------------------------------------------ manager
@dataclass
class PendingOpen:
    session: Session
    path: Path


class SessionManager(QObject):
    """Saves and opens sessions, keeps the recent list, autosaves, and offers recovery after a crash."""

    session_saved = Signal(str)
    session_opened = Signal(str)

    def __init__(self, context: FeatureContext):
        super().__init__(context.parent)
        self.context = context
        self.errors = context.errors
        self.parent = context.parent
        self.state = context.state
        self.parts: dict[str, SessionPart] = context.session_parts
        self.sources = SourceTracker(context)
        self.current_path: Path | None = None
        self.dirty = False
        self.restore_problems: list[str] = []
        self.save_problems: list[str] = []
        self.message_box: QMessageBox | None = None
        self._pending: PendingOpen | None = None
        self.guard = DiscardGuard(context, self)
        for name in ("dataset", "model", "codes", "view", "color_by", "hidden_classes", "selection", "use_mu",
                     "current_index"):
            getattr(self.state.events, name).connect(self._mark_dirty)
        context.scatter.sigViewChanged.connect(self._mark_dirty)
        context.view.layouts_changed.connect(self._mark_dirty)
        for part in self.parts.values():
            changed = getattr(part, "changed", None)  # optional in the SessionPart protocol
            if changed is not None:
                changed.connect(self._mark_dirty)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(int(AUTOSAVE_MINUTES * 60_000))
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        context.on_close(self._on_window_closing)

    # ------------------------------------------------------------------ building and saving
    def build_session(self) -> Session:
        """Collect every part; a part that fails is left out and named in ``save_problems``."""
        session = Session(dataset=self.sources.dataset_ref(), model=self.sources.model_ref())
        self.save_problems = []
        for name, part in self.parts.items():
            try:
                data, arrays = part.save()
                session.add_part(name, data, arrays)
            except Exception as exc:  # noqa: BLE001 - one feature's bug must not stop the save
                self.save_problems.append(f"{name}: {exc}")
        return session

    def save_session(self, path: str | Path) -> Path:
        """Write the session to ``path`` (atomically); parts that could not be saved are reported."""
        path = Path(path)
        if path.suffix != SESSION_SUFFIX:
            path = path.with_name(path.name + SESSION_SUFFIX)
        write_session(path, self.build_session())
        self.current_path = path
        self.dirty = False
        self._remember(path)
        self.errors.say(f"session saved: {path}")
        if self.save_problems:
            self._message(QMessageBox.Icon.Warning, "Session saved without some parts",
                          "These parts could not be saved:\n" + "\n".join(f"• {p}" for p in self.save_problems))
        self.session_saved.emit(str(path))
        return path

    def autosave(self) -> Path | None:
        """Autosave when something is loaded and changed since the last save; failures only reach the status bar."""
        if not self.dirty or (self.state.dataset is None and self.state.model is None):
            return None
        try:
            path = write_autosave(self.build_session())
        except LatentExplorerError as exc:
            self.errors.say(f"autosave failed: {exc.message}")
            return None
        self.dirty = False
        self.errors.say(f"autosaved at {time.strftime('%H:%M')}")
        return path

    @Slot()
    def _mark_dirty(self, *_) -> None:
        self.dirty = True
        self.guard.mark_changed()

    # ------------------------------------------------------------------ opening
    def open_session(self, path: str | Path, dataset_spec: str | None = None, model_spec: str | None = None) -> bool:
        """Read a session and reload its dataset and model in the background; False (and a message) if unreadable."""
        path = Path(path)
        try:
            session = read_session(path)
        except SessionError as exc:
            self.report_unreadable(exc)
            return False
        dataset_spec = dataset_spec or self._locate(session.dataset, "dataset")
        model_spec = model_spec or self._locate(session.model, "model")
        pending = self._pending = PendingOpen(session, path)
        self.errors.say(f"opening session {path.name}…")
        # the dataset here; the model through the window's one loading flow (it asks before running code)
        dataset_only = dataclasses.replace(session, model=None)
        self.context.jobs.start(OPEN_JOB, lambda: iter_open_sources(dataset_only, dataset_spec, encode=False),
                                title="opening session",
                                on_done=lambda opened: self._open_model(pending, opened, model_spec),
                                on_error=self._on_open_failed)
        return True

    def _open_model(self, pending: PendingOpen, opened: OpenedSources, model_spec: str | None) -> None:
        ref = pending.session.model
        if self._pending is not pending:
            return  # another session is being opened
        if ref is None:
            self._opened(pending, opened)
            return
        spec = opened.model_spec = model_spec or ref.spec
        if not SourceRef(spec, ref.fingerprint, ref.name).exists():
            opened.problems.append(SourceProblem("model", "missing", ref, f"the model {spec} is no longer there"))
            self._opened(pending, opened)
            return

        def loaded(model: Any) -> None:
            if ref.fingerprint and model.fingerprint() != ref.fingerprint:
                opened.problems.append(SourceProblem("model", "changed", ref,
                                                     f"the model {spec} has changed since the session was saved"))
            opened.model = model
            if opened.dataset is None:
                self._opened(pending, opened)
                return

            def encoded(codes: Any) -> None:
                opened.codes = codes
                self._opened(pending, opened)

            dataset = opened.dataset
            self.context.jobs.start(OPEN_JOB, lambda: iter_encode_cached(model, dataset), title="encoding",
                                    on_done=encoded, on_error=self._on_open_failed)

        def failed(exc: BaseException) -> None:
            opened.problems.append(SourceProblem("model", "failed", ref, str(exc)))
            self._opened(pending, opened)

        self.context.sources.open_model(spec, on_loaded=loaded, on_failed=failed, check_with=opened.dataset)

    def _locate(self, ref: SourceRef | None, what: str) -> str | None:
        """A reference that moved: ask where it is now (None keeps the old spec and opens what it can)."""
        if ref is None or ref.exists():
            return None
        found = self.ask_locate(what, ref)
        return found or None

    def ask_locate(self, what: str, ref: SourceRef) -> str | None:
        """File dialog for a moved model or dataset; tests replace this method."""
        title = f"The session's {what} moved: where is {Path(ref.spec).name}?"
        if what == "model":
            found = QFileDialog.getExistingDirectory(self.parent, title, str(Path(ref.spec).parent))
        else:
            found, _ = QFileDialog.getOpenFileName(self.parent, title, str(Path(ref.spec).parent), "All files (*)")
        return found or None

    @Slot(str, object)
    def _opened(self, pending: PendingOpen, opened: OpenedSources) -> None:
        if self._pending is not pending:
            return
        self._pending = None
        self.apply_opened(pending.session, pending.path, opened)

    def _on_open_failed(self, exc: BaseException) -> bool:
        self._pending = None
        return False  # the error reporter tells the user

    def apply_opened(self, session: Session, path: Path, opened: OpenedSources) -> None:
        """Put the reopened dataset, model and codes in the state, then restore every part."""
        state = self.state
        options = session.dataset.options if session.dataset else {}
        self.sources.expect((opened.dataset_spec, options) if opened.dataset is not None else None,
                            opened.model_spec if opened.model is not None else None)
        state.codes = None
        state.selection = np.zeros(0, np.int64)
        state.current_index = None
        if opened.dataset is not None:
            state.dataset = opened.dataset
        if opened.model is not None:
            state.model = opened.model
        if opened.codes is not None:
            state.codes = opened.codes
        self.restore_problems = [p.message for p in opened.problems]
        if state.codes is not None:
            self.restore_parts(session)
        elif session.parts:
            self.restore_problems.append("the view, selection and layouts need both the dataset and the model; "
                                         "they were not restored")
        self.current_path = path
        self.dirty = False
        self._remember(path)
        if self.restore_problems:
            text = "The session was opened, with these differences:\n" + "\n".join(
                f"• {p}" for p in self.restore_problems)
            if any(p.reason == "changed" for p in opened.problems):
                text += "\n\nA file changed since the session was saved: the codes were recomputed from it."
            self._message(QMessageBox.Icon.Warning, "Session opened with changes", text)
            self.errors.say(f"session {path.name} opened with {len(self.restore_problems)} "
                                             "difference(s)")
        else:
            self.errors.say(f"session {path.name} opened")
        self.session_opened.emit(str(path))

    def restore_parts(self, session: Session) -> None:
        order = sorted(self.parts.items(), key=lambda kv: getattr(kv[1], "restore_order", DEFAULT_ORDER))
        for name, part in order:
            saved = session.part(name)
            if saved is None:
                continue
            try:
                part.restore(*saved)
            except LatentExplorerError as exc:
                self.restore_problems.append(f"{name}: {exc.message}")
            except Exception as exc:  # noqa: BLE001 - a feature's restore bug must not lose the others
                self.restore_problems.append(f"{name}: {type(exc).__name__}: {exc}")
        unknown = sorted(set(session.parts) - set(self.parts))
        if unknown:
            self.restore_problems.append(f"parts this version does not know were ignored: {', '.join(unknown)}")

    # ------------------------------------------------------------------ errors and recovery
    def report_unreadable(self, exc: SessionError) -> None:
        """A damaged session: say why, and offer the latest autosave when there is one."""
        self.errors.last_error = exc
        self.errors.say(f"cannot open the session: {exc.message}")
        candidates = [p for p in autosaves() if exc.path is None or Path(exc.path).resolve() != p.resolve()]
        box = self._message(QMessageBox.Icon.Warning, "Cannot open the session", str(exc))
        if candidates:
            latest = candidates[0]
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(latest.stat().st_mtime))
            box.setInformativeText(f"An autosave from {when} exists. Open it instead?")
            button = box.addButton("Open Autosave", QMessageBox.ButtonRole.AcceptRole)
            button.clicked.connect(lambda: self.open_session(latest))

    def offer_recovery(self) -> Path | None:
        """After a crash (an autosave newer than the last clean exit), offer to restore it. Returns that autosave."""
        found = crash_autosave()
        mark_clean_exit()  # asked once: a later crash of this run writes a newer autosave and asks again
        if found is None:
            return None
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(found.stat().st_mtime))
        box = self._message(QMessageBox.Icon.Question, "Restore the last session?",
                            f"Latent Explorer did not close normally. An autosave from {when} exists.")
        box.setInformativeText("Restore it?")
        box.setStandardButtons(QMessageBox.StandardButton.No)
        button = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        button.clicked.connect(lambda: self.open_session(found))
        return found

    def _message(self, icon: QMessageBox.Icon, title: str, text: str) -> QMessageBox:
        if self.message_box is not None:
            with contextlib.suppress(RuntimeError):  # already deleted by Qt
                self.message_box.close()
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Close, self.parent)
        box.setModal(False)
        box.open()
        self.message_box = box
        return box

    @Slot()
    def _on_window_closing(self) -> None:
        self.autosave_timer.stop()
        mark_clean_exit()

    # ------------------------------------------------------------------ recent sessions and dialogs
    def recent_sessions(self) -> list[str]:
        value = self.context.settings.value("recent_sessions", [])
        entries = [value] if isinstance(value, str) else list(value or [])
        return [e for e in entries if e]

    def _remember(self, path: Path) -> None:
        entry = str(Path(path).resolve())
        recent = [entry] + [e for e in self.recent_sessions() if e != entry]
        self.context.settings.setValue("recent_sessions", recent[:MAX_RECENT_SESSIONS])

    def ask_save(self, save_as: bool = False) -> Path | None:
        path = self.current_path
        if save_as or path is None:
            start = str(path or Path.home() / f"session{SESSION_SUFFIX}")
            chosen, _ = QFileDialog.getSaveFileName(self.parent, "Save session", start, SESSION_FILTER)
            if not chosen:
                return None
            path = Path(chosen)
        try:
            return self.save_session(path)
        except LatentExplorerError as exc:
            self.errors.show_error(exc, "Save session")
            return None

    def ask_open(self) -> None:
        start = str(self.current_path.parent) if self.current_path else str(Path.home())
        chosen, _ = QFileDialog.getOpenFileName(self.parent, "Open session", start, SESSION_FILTER)
        if chosen:
            self.open_session_asking(chosen)

    def open_session_asking(self, path: str | Path) -> bool:
        """Open a session the user chose, after asking whether to drop unsaved work (False if they said no)."""
        if not self.guard.confirm(f"the session {Path(path).name}"):
            return False
        return self.open_session(path)

    def open_latest_autosave(self) -> None:
        found = autosaves()
        if not found:
            self._message(QMessageBox.Icon.Information, "No autosave", "There is no autosaved session yet.")
            return
        self.open_session_asking(found[0])


# ------------------------------------------------------------------------------------------ menus
def _fill_recent(manager: SessionManager, menu) -> None:
    menu.clear()
    entries = manager.recent_sessions()
    for entry in entries:
        action = QAction(Path(entry).name, menu)
        action.setToolTip(entry)
        action.setStatusTip(entry)
        action.triggered.connect(lambda checked=False, e=entry: manager.open_session_asking(e))
        menu.addAction(action)
    menu.setEnabled(bool(entries))


def _add_menu(context: FeatureContext, manager: SessionManager) -> None:
    menus = context.menus
    manager.open_action = menus.add("file.session", "Open &Session…", manager.ask_open, QKeySequence("Ctrl+Shift+O"))
    manager.save_action = menus.add("file.session", "&Save Session", lambda: manager.ask_save(),
                                    QKeySequence.StandardKey.Save)
    manager.save_as_action = menus.add("file.session", "Save Session &As…", lambda: manager.ask_save(save_as=True),
                                       QKeySequence("Ctrl+Shift+S"))
    recent = menus.add_menu("file.session", "Recent Sessions")
    recent.aboutToShow.connect(lambda: _fill_recent(manager, recent))
    _fill_recent(manager, recent)
    manager.recent_menu = recent
    menus.add("file.session", "Recover &Autosave…", manager.open_latest_autosave)


def install(context: FeatureContext) -> SessionManager:
    """The built-in parts, the manager (``context.session``), File ▸ session entries, and the crash recovery."""
    parts = context.session_parts
    parts.setdefault("layouts", LayoutsPart(context))
    parts.setdefault("view", ViewPart(context))
    parts.setdefault("selection", SelectionPart(context))
    parts.setdefault("zoom", ZoomPart(context))
    manager = SessionManager(context)
    context.session = manager
    context.sources.confirm_discard = manager.guard.confirm  # the window's Open entries ask before replacing work
    _add_menu(context, manager)
    QTimer.singleShot(0, manager, manager.offer_recovery)
    return manager


__all__ = ["SessionManager", "install"]
