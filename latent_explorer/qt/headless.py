"""Figures without a display: the window's own widgets (LatentScatter, ViewController, panels), offscreen.

`render_figure` builds a real `MainWindow` with throw-away settings and data folder, loads the model and the
dataset (or a saved session), sets the view, colouring and zoom through the state exactly as the window does,
waits for the background jobs (PCA, t-SNE, a panel's analysis), and renders the chosen widget with
`figure_export`. The figure has a fixed size in screen pixels, so the same request gives the same picture.

An analysis panel is drawn as its plots alone at the requested size (not squeezed above its table as in a
dock), after running what it needs — also what it computes only on request in the window (the KMeans sweep).
A panel that does not apply to the codes (the VAE posterior of a plain autoencoder) is refused, and
``data_out`` writes the numbers behind the figure as CSV or JSON: a panel's tables (those its CSV export
writes), or the scatter's coordinates (index, x, y, label), so a paper's table is rebuilt without the window.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from latent_explorer.core.errors import LatentExplorerError
from latent_explorer.core.state import ViewSpec

DEFAULT_SIZE = (1000, 700)
DATA_SUFFIXES = (".csv", ".json")
JOB_TIMEOUT_S = 1800.0


class FigureError(LatentExplorerError):
    """A figure request that cannot be drawn (bad view spec, unknown panel, nothing to colour by)."""


@dataclass
class FigureRequest:
    """What `latent-explorer figure` asks for. Fields left None keep what the session (or the default) has."""

    out: Path
    model: str | None = None
    data: str | None = None
    data_options: dict[str, Any] = field(default_factory=dict)
    session: Path | None = None
    view: str | None = None  # "pca:1,2" (components, from 1) | "raw:52,221" (latent axes, from 0) | "tsne"
    color: str | None = None
    default_color: str | None = None  # used only where the view offers it (no labels: no "label" colouring)
    zoom: tuple[float, float, float, float] | None = None
    panel: str | None = None
    perplexity: float = 30.0
    pca_k: int | None = None  # t-SNE on the first k principal components instead of the codes
    tsne_iterations: int = 500
    tsne_early_iterations: int = 250
    seed: int = 0
    use_mu: bool | None = None
    title: str | None = None  # above the scatter's plot; above a panel's plots, which keep their own titles
    size: tuple[int, int] = DEFAULT_SIZE
    dpi: float | None = None  # written into a PNG (pHYs)
    data_out: Path | None = None  # a panel's numbers: .csv (a file per table) or .json
    scale: float | None = None
    width: int | None = None
    point_size: float | None = None
    device: str = "cpu"
    allow_pickle: bool = False
    codes: Path | None = None  # a codes file or Parquet dataset folder, drawn without a model


def ensure_display() -> None:
    """Use Qt's offscreen platform when there is no display (a server, CI, ssh without X forwarding)."""
    if not os.environ.get("QT_QPA_PLATFORM") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def parse_view(text: str) -> ViewSpec | str:
    """``pca:1,2`` → PCA components 1 and 2 (counted from 1, as on the axes); ``raw:52,221`` → latent axes
    z52 and z221 (counted from 0, as on the axes); ``tsne`` → "tsne" (run with the request's parameters)."""
    text = text.strip().lower()
    if text == "tsne":
        return "tsne"
    match = re.fullmatch(r"(pca|raw):(\d+),(\d+)", text)
    if match is None:
        raise FigureError(f"cannot read the view '{text}'", hint="use pca:I,J (from 1), raw:I,J (from 0) or tsne")
    kind, i, j = match.group(1), int(match.group(2)), int(match.group(3))
    if kind == "pca":
        if i < 1 or j < 1:
            raise FigureError(f"PCA components are counted from 1, got {text}", hint="e.g. --view pca:1,2")
        return ViewSpec("pca", i - 1, j - 1)
    return ViewSpec("raw", i, j)


def parse_zoom(text: str) -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as exc:
        raise FigureError(f"cannot read the zoom '{text}'", hint="give X0,X1,Y0,Y1, e.g. --zoom -2,2,-1.5,1.5") from exc
    if len(values) != 4 or not (values[1] > values[0] and values[3] > values[2]):
        raise FigureError(f"the zoom needs X0 < X1 and Y0 < Y1, got '{text}'", hint="e.g. --zoom -2,2,-1.5,1.5")
    return values  # type: ignore[return-value]


@contextlib.contextmanager
def _scratch_environment() -> Iterator[Path]:
    """A throw-away data folder, so the figure's window never autosaves over (or recovers) the user's session."""
    old = os.environ.get("LATENT_EXPLORER_DATA")
    with tempfile.TemporaryDirectory(prefix="latent-explorer-figure-") as folder:
        os.environ["LATENT_EXPLORER_DATA"] = folder
        try:
            yield Path(folder)
        finally:
            if old is None:
                os.environ.pop("LATENT_EXPLORER_DATA", None)
            else:
                os.environ["LATENT_EXPLORER_DATA"] = old


def _settle(app, window, timeout_s: float = JOB_TIMEOUT_S) -> None:
    """Run the event loop until every background job of the window is done (and timers queued now have fired)."""
    deadline = time.monotonic() + timeout_s
    quiet_rounds = 0
    while quiet_rounds < 5:
        app.processEvents()
        if window.runner.is_running():
            quiet_rounds = 0
            if time.monotonic() > deadline:
                window.runner.cancel_all()
                raise FigureError(f"background work did not finish within {timeout_s:.0f} s")
            time.sleep(0.01)
        else:
            quiet_rounds += 1
    if window.last_error is not None:
        error, window.last_error = window.last_error, None
        if isinstance(error, LatentExplorerError):
            raise error
        raise FigureError(f"{type(error).__name__}: {error}")


def _load(window, request: FigureRequest, warn: Callable[[str], Any]) -> None:
    """Put the dataset, model and codes in the state (synchronously, in this thread)."""
    from latent_explorer.core.datasets import load_dataset
    from latent_explorer.core.encoding import iter_encode_cached
    from latent_explorer.core.jobs import run_job
    from latent_explorer.core.models import default_demo_for, load_model
    from latent_explorer.core.session import iter_open_sources, read_session

    manager = window.context.session
    if request.session is not None:
        session = read_session(request.session)
        opened = run_job(iter_open_sources(session, request.data, request.model, device=request.device))
        missing = [p for p in opened.problems if p.reason in ("missing", "failed")]
        if missing or opened.codes is None:
            raise FigureError("the session's sources could not be reopened:\n" + "\n".join(
                f"  {p.message}" for p in missing), path=request.session,
                hint="pass --model and/or --data with their new locations")
        manager.apply_opened(session, Path(request.session), opened)
        for problem in manager.restore_problems:
            warn(problem)
        return
    if request.codes is not None:  # codes without a model: the file's rows are the dataset
        from latent_explorer.core.codes_source import open_codes

        window.sources.show_codes(open_codes(request.codes))
        return
    if request.data is None:
        raise FigureError("name the data (--data) or a saved session (--session)")
    dataset = load_dataset(request.data, **request.data_options)
    spec = request.model or (f"demo:{default_demo_for(request.data)}" if request.data == "digits"
                             or request.data.startswith("fashion") else None)
    if spec is None:
        raise FigureError("name the model (--model)", hint="a checkpoint folder, a model.toml or demo:NAME")
    model = load_model(spec, device=request.device, allow_pickle=request.allow_pickle,
                       check_samples=dataset.float_images(slice(0, 2)))
    codes = run_job(iter_encode_cached(model, dataset))
    manager.sources.expect((request.data, request.data_options), spec)
    window.state.dataset = dataset
    window.state.model = model
    window.state.codes = codes


def _apply_view(app, window, request: FigureRequest) -> None:
    state, controller = window.state, window.view_controller
    if request.use_mu is not None:
        state.use_mu = request.use_mu
        _settle(app, window)
    if request.view is not None:
        view = parse_view(request.view)
        if view == "tsne":
            from latent_explorer.core.tsne import TSNEParams

            params = TSNEParams(input="pca" if request.pca_k else "z", pca_components=request.pca_k or 50,
                                perplexity=request.perplexity, n_iter=request.tsne_iterations,
                                early_exaggeration_iter=request.tsne_early_iterations, seed=request.seed)
            if controller.run_tsne(params) is None:
                _settle(app, window)  # the controller reported why through show_error
                raise FigureError("t-SNE could not start")
            _settle(app, window)
        else:
            if not controller.is_valid(view):
                d = state.codes.latent_dim if state.codes is not None else 0
                raise FigureError(f"the view {request.view} does not exist: the codes have {d} dimensions",
                                  hint=f"raw axes run from 0 to {d - 1}, PCA components from 1 to {d}")
            state.view = view
    modes = [mode for mode, _ in controller.colour_modes()]
    if request.color is not None:
        if request.color not in modes:
            raise FigureError(f"cannot colour by '{request.color}' here", hint=f"choose from: {', '.join(modes)}")
        state.color_by = request.color
    elif request.default_color in modes:
        state.color_by = request.default_color
    _settle(app, window)


def _panel_name(window, wanted_text: str) -> str:
    """The dock a ``--panel`` names: its name, the name without "analysis-", or a word of its title."""
    wanted = wanted_text.lower()
    docks = window.docks
    name = next((n for n in (wanted, f"analysis-{wanted}") if n in docks), None)
    if name is None:
        name = next((n for n, d in docks.items() if wanted in d.windowTitle().lower()), None)
    if name is None:
        short = sorted(n.removeprefix("analysis-") for n in docks)
        raise FigureError(f"no panel '{wanted_text}'", hint=f"choose from: {', '.join(short)}")
    return name


def _is_analysis_panel(widget) -> bool:
    """An analysis panel (duck-typed: the figure module knows no feature): it computes, and says what it plots."""
    return all(callable(getattr(widget, hook, None)) for hook in ("figure_view", "compute", "unavailable_reason"))


def _computed_panel(app, window, name: str, request: FigureRequest):
    """Run the analysis panel's computation (also one the window runs only on request) and wait for it."""
    panel = window.panel(name)
    codes = window.state.codes
    reason = panel.unavailable_reason(codes)
    if reason is not None:
        raise FigureError(f"the panel '{request.panel}' does not apply to this model: {reason}",
                          hint="choose another --panel, or a model it applies to")
    panel.compute()
    _settle(app, window)
    if panel.result is None:
        raise FigureError(f"the panel '{panel.title}' computed nothing: {panel.status.text() or 'no result'}")
    return panel


def _target_widget(app, window, request: FigureRequest):
    """The widget to render, taken out of the window and given the requested size; and the panel drawn, if any.

    An analysis panel gives its plots alone (``figure_view``), so the figure is the requested size, not the
    strip left above the panel's table.
    """
    panel = None
    if request.panel is None:
        widget = window.takeCentralWidget()
        title = "Scatter"
    else:
        name = _panel_name(window, request.panel)
        widget = window.panel(name)
        title = window.docks[name].windowTitle().replace("&", "")
        if _is_analysis_panel(widget):
            panel = _computed_panel(app, window, name, request)
            widget = panel.figure_view()
        widget.setParent(None)
    widget.resize(*request.size)
    widget.show()
    return widget, title, panel


def _fresh_axes(app, widget) -> None:
    """Size the axes for the ticks they show now, forgetting wider labels of views shown on the way.

    pyqtgraph's axes only grow their text space; without this, the same final view would be laid out
    differently after a different history (a session's default view first, say).
    """
    import pyqtgraph as pg

    for view in widget.findChildren(pg.GraphicsView):
        for item in view.scene().items():
            if isinstance(item, pg.AxisItem):
                item.textWidth, item.textHeight = 30, 18  # AxisItem's initial text space
                if item.orientation in ("left", "right"):
                    item.setWidth(item.fixedWidth)  # re-reads the text space; also drops the cached picture
                else:
                    item.setHeight(item.fixedHeight)
                item.update()
    for _ in range(3):  # paint (ticks measured), re-layout, paint again
        widget.grab()
        app.processEvents()


def _scatter_sheets(window) -> dict[str, tuple[list[str], list[list]]]:
    """The scatter's numbers: one row per point, its index, its two coordinates (named as on the axes), its label."""
    from latent_explorer.core.export import coordinates_table

    controller, view = window.view_controller, window.state.view
    xy = controller.xy
    if xy is None:
        raise FigureError("the view has no coordinates to write")
    names = {"pca": (f"PC{view.i + 1}", f"PC{view.j + 1}"), "raw": (f"z{view.i}", f"z{view.j}")}
    labels = controller.labels()
    table = coordinates_table(xy, None, *(labels if labels is not None else (None, None)),
                              axis_names=names.get(view.kind, ("x", "y")))
    columns = list(table)
    return {"coordinates": (columns, [list(row) for row in zip(*(table[c].tolist() for c in columns), strict=True)])}


def _write_outputs(request: FigureRequest, figure: bytes, sheets: dict, title: str) -> Path:
    """Write the numbers, then the figure: all or nothing (a failed figure removes the numbers again)."""
    from latent_explorer.core.analysis import write_sheets
    from latent_explorer.core.atomic import write_bytes_atomic
    from latent_explorer.core.export import ExportError

    written: list[Path] = []
    try:
        if request.data_out is not None:
            written = write_sheets(request.data_out, sheets, title)
            if not written:
                raise FigureError(f"'{title}' has no numbers to write", path=request.data_out)
        write_bytes_atomic(Path(request.out), figure)
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise ExportError(f"cannot write ({exc.strerror or exc})", path=getattr(exc, "filename", None) or request.out,
                          hint="choose a folder you can write to; nothing was written") from exc
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return Path(request.out)


def render_figure(request: FigureRequest, warn: Callable[[str], Any] = lambda text: None) -> Path:
    """Draw the requested figure and write it (PNG, SVG or PDF by the extension of ``request.out``).

    ``warn`` hears what did not come back as saved when a session is rendered (a moved file, a dropped part).
    """
    ensure_display()
    from PySide6.QtCore import QSettings

    from latent_explorer.core.logs import log_file
    from latent_explorer.qt.app import make_application, route_qt_messages
    from latent_explorer.qt.figure_export import FIGURE_SUFFIXES, Figure, figure_bytes, figures_in

    suffix = Path(request.out).suffix.lower()
    if suffix not in FIGURE_SUFFIXES:
        raise FigureError(f"cannot write '{suffix or 'no extension'}' figures", path=request.out,
                          hint="name the output .png, .svg or .pdf")
    if request.data_out is not None and Path(request.data_out).suffix.lower() not in DATA_SUFFIXES:
        raise FigureError(f"cannot write '{Path(request.data_out).suffix or 'no extension'}' data",
                          path=request.data_out, hint="name the --data-out file .csv or .json")
    zoom = request.zoom
    app = make_application()
    if log_file() is not None:  # the offscreen platform's notices go to the log, not between the command's lines
        route_qt_messages()
    with _scratch_environment() as scratch:
        from latent_explorer.qt.main_window import MainWindow

        settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings)
        widget = None
        try:
            window.last_error = None
            _load(window, request, warn)
            _settle(app, window)
            _apply_view(app, window, request)
            widget, title, panel = _target_widget(app, window, request)
            if request.data_out is not None and panel is None and request.panel is not None:
                raise FigureError(f"the panel '{request.panel}' has no numbers for --data-out",
                                  hint="--data-out goes with the scatter or an analysis panel")
            scatter = window.scatter
            if request.point_size is not None:
                scatter.set_point_size(request.point_size)
            if request.title and panel is None:
                scatter.plot_item.setTitle(request.title)
            _settle(app, window)
            if zoom is not None:
                scatter.set_view(*zoom)
            elif request.view is not None and request.session is not None:
                scatter.reset_view()  # a new view asked of a session: show it whole
            _settle(app, window)
            _fresh_axes(app, widget)
            figures = [Figure(title, widget)] if panel is not None else figures_in(widget, title)
            if not figures:
                raise FigureError(f"the panel '{title}' has no plot to draw")
            heading = request.title if panel is not None else None
            data = figure_bytes(figures[0], suffix, request.scale, request.width, heading, request.dpi)
            sheets, sheets_title = (panel.csv_sheets(), panel.title) if panel is not None else (
                _scatter_sheets(window), "Scatter")
            return _write_outputs(request, data, sheets, sheets_title)
        finally:
            window.runner.shutdown()
            if widget is not None:
                widget.close()
                widget.deleteLater()
            window.close()
            window.deleteLater()
            app.processEvents()
