"""Figures from any plot or panel: PNG at a chosen scale or width, SVG and PDF, and the clipboard; a title
above the figure and the print resolution (DPI, the PNG's pHYs) on request.

A figure is a widget (or a rectangle of one) drawn by the paint code that draws it on screen — plain widgets
through ``QWidget.render``, pyqtgraph views through ``QGraphicsView.render`` — so the legend, colour bar, axis
labels and title come out as they are shown. At a scale above 1 everything is redrawn at that resolution, and
what has a fixed size in pixels (the point cloud's dots, cosmetic lines) is scaled with it, so a 4× PNG looks
like the screen with four times the pixels. SVG and PDF keep text, axes and markers as vectors, with the point
cloud embedded as an image.

Plots are found generically: every pyqtgraph view (``pg.GraphicsView``: PlotWidget, GraphicsLayoutWidget,
ImageView's view) in the central widget or a dock is a figure; the latent scatter is one figure made of its
plot and its class legend, without the toolbar.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPoint, QRect, QRectF, QSize, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QRegion,
    QTextDocumentFragment,
)
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

from latent_explorer.core.atomic import write_bytes_atomic
from latent_explorer.core.export import ExportError

FIGURE_SUFFIXES = (".png", ".svg", ".pdf")
SCREEN_DPI = 96.0
MAX_EXPORT_SIDE = 16384  # device pixels, the point cloud's own limit
HEADING_PX = 18  # the title's font size in screen pixels; its band is half as tall again


@dataclass
class Figure:
    """What to render: ``widget``'s ``region`` (widget coordinates; the whole widget when None).

    The region may be a function, so that a figure listed in a menu follows the widget's later resizes.
    """

    title: str
    widget: QWidget
    region: QRect | Callable[[], QRect] | None = None

    def rect(self) -> QRect:
        _activate(self.widget)
        if callable(self.region):
            return self.region()
        return QRect(self.region) if self.region is not None else self.widget.rect()

    @property
    def size(self) -> QSize:
        return self.rect().size()


# ------------------------------------------------------------------------------------------ discovery
def _activate(widget: QWidget) -> None:
    """Lay out a widget that was never shown, so that it renders at its real size."""
    widget.ensurePolished()
    layout = widget.layout()
    if layout is not None:
        layout.activate()


def _is_scatter(widget: QWidget) -> bool:
    from latent_explorer.qt.scatter import LatentScatter

    return isinstance(widget, LatentScatter)


def scatter_figure(scatter, title: str = "Scatter") -> Figure:
    """The latent scatter as a figure: the plot and its legend (when shown), not the toolbar."""

    def region() -> QRect:
        rect = QRect(scatter.plot_widget.mapTo(scatter, QPoint(0, 0)), scatter.plot_widget.size())
        legend = scatter.legend
        if legend.isVisibleTo(scatter) and not legend.isHidden():
            rect = rect.united(QRect(legend.mapTo(scatter, QPoint(0, 0)), legend.size()))
        return rect

    return Figure(title, scatter, region)


def _plot_title(view: pg.GraphicsView) -> str:
    items = [view.plotItem] if isinstance(view, pg.PlotWidget) else []
    if not items and hasattr(view, "ci"):
        items = [item for item in view.ci.items if isinstance(item, pg.PlotItem)]
    for item in items:
        text = item.titleLabel.text if item.titleLabel.isVisible() else ""
        if text:
            return QTextDocumentFragment.fromHtml(text).toPlainText()
    return view.objectName()


def figures_in(root: QWidget, title: str) -> list[Figure]:
    """The figures inside one panel: the scatter as one, every other pyqtgraph view as one each."""
    if root is None:
        return []
    if _is_scatter(root):
        return [scatter_figure(root, title)]
    scatters = [w for w in root.findChildren(QWidget) if _is_scatter(w)]
    found = [scatter_figure(s, title) for s in scatters if s.isVisibleTo(root)]
    views = [v for v in root.findChildren(pg.GraphicsView)
             if v.isVisibleTo(root) and not any(s.isAncestorOf(v) for s in scatters)]
    for k, view in enumerate(views):
        name = _plot_title(view)
        label = title if len(views) == 1 and not found else f"{title} — {name or f'plot {k + 1}'}"
        found.append(Figure(label, view))
    return found


def window_figures(window: QMainWindow) -> list[Figure]:
    """Every figure of the window: the central widget, then each dock (hidden docks are left out)."""
    figures = figures_in(window.centralWidget(), "Scatter")
    for dock in window.findChildren(QDockWidget):
        if dock.isHidden() or dock.widget() is None:
            continue
        figures += figures_in(dock.widget(), dock.windowTitle().replace("&", ""))
    return figures


def figure_for_widget(widget: QWidget, window: QMainWindow | None = None) -> Figure:
    """The figure a widget belongs to (e.g. the view whose context menu was opened)."""
    if window is not None:
        for fig in window_figures(window):
            if fig.widget is widget or fig.widget.isAncestorOf(widget):
                return fig
    return Figure(widget.objectName() or "figure", widget)


# ------------------------------------------------------------------------------------------ rendering
def graphics_views(fig: Figure) -> list[pg.GraphicsView]:
    """The pyqtgraph views drawn in the figure (the figure's widget itself, or its visible children)."""
    widget = fig.widget
    if isinstance(widget, pg.GraphicsView):
        return [widget]
    return [v for v in widget.findChildren(pg.GraphicsView) if v.isVisibleTo(widget)]


def raster_items(view: pg.GraphicsView) -> list:
    """Items drawn as an image of fixed-size pixels (the point cloud): they know their ``point_size``."""
    return [item for item in view.scene().items()
            if isinstance(getattr(item, "point_size", None), (int, float)) and hasattr(item, "set_point_size")
            and item.isVisible()]


def _scaled_pen(pen: QPen, scale: float) -> QPen:
    scaled = QPen(pen)
    scaled.setWidthF(max(pen.widthF(), 1.0) * scale)
    return scaled


@contextlib.contextmanager
def _undoing() -> Iterator[list]:
    restore: list = []
    try:
        yield restore
    finally:
        for undo in reversed(restore):
            undo()


@contextlib.contextmanager
def figure_mode(fig: Figure, scale: float, painter: QPainter | None = None) -> Iterator[None]:
    """Prepare the figure's items for one export at ``scale`` device pixels per screen pixel.

    pyqtgraph items get their export mode (symbols drawn one by one at the new resolution); items that draw a
    fixed pixel size (``point_size``) and cosmetic lines (axes, curves) are scaled so the figure keeps the
    screen's proportions; what only follows the mouse (hover ring, tool tip) is hidden. All is undone after.
    """
    widget = fig.widget
    options = {"antialias": bool(pg.getConfigOption("antialias")), "background": _background(fig),
               "painter": painter, "resolutionScale": scale}
    with _undoing() as restore:
        for view in graphics_views(fig):
            for item in view.scene().items():
                if hasattr(item, "setExportMode"):
                    item.setExportMode(True, options)
                    restore.append(lambda item=item: item.setExportMode(False))
                if scale == 1:
                    continue
                if item in raster_items(view):
                    size = item.point_size
                    item.set_point_size(size * scale)
                    restore.append(lambda item=item, size=size: item.set_point_size(size))
                elif isinstance(item, pg.AxisItem):
                    pen = QPen(item.pen())
                    item.setPen(_scaled_pen(pen, scale))
                    restore.append(lambda item=item, pen=pen: item.setPen(pen))
                elif isinstance(item, pg.PlotCurveItem):
                    pen = QPen(pg.mkPen(item.opts["pen"]))
                    item.setPen(_scaled_pen(pen, scale))
                    restore.append(lambda item=item, pen=pen: item.setPen(pen))
        marker = getattr(widget, "hover_marker", None)  # the scatter's hover ring follows the mouse, not the data
        if marker is not None and marker.isVisible():
            marker.setVisible(False)
            restore.append(lambda: marker.setVisible(True))
        label = getattr(widget, "tooltip_label", None)
        if label is not None and not label.isHidden():
            label.hide()
            restore.append(label.show)
        yield


def _background(fig: Figure) -> QColor:
    view = fig.widget if isinstance(fig.widget, pg.GraphicsView) else fig.widget.findChild(pg.GraphicsView)
    if view is not None and view.backgroundBrush().style() != Qt.BrushStyle.NoBrush:
        return view.backgroundBrush().color()
    return fig.widget.palette().color(fig.widget.backgroundRole())


def _scale_for(fig: Figure, scale: float | None, width: int | None) -> float:
    rect = fig.rect()
    if rect.width() <= 0 or rect.height() <= 0:
        raise ExportError(f"the figure '{fig.title}' has no size yet", hint="show the panel, then export it")
    if width is not None:
        if width <= 0:
            raise ExportError(f"width must be positive, got {width}")
        scale = width / rect.width()
    scale = float(scale or 1.0)
    if scale <= 0:
        raise ExportError(f"scale must be positive, got {scale}")
    if max(rect.width(), rect.height()) * scale > MAX_EXPORT_SIDE:
        raise ExportError(f"{rect.width() * scale:.0f}×{rect.height() * scale:.0f} pixels is too large",
                          hint=f"keep each side under {MAX_EXPORT_SIDE} pixels")
    return scale


def _raster_layer(view: pg.GraphicsView, item, scale: float) -> tuple[QImage, QRectF]:
    """One raster item alone, as an image ``scale`` times finer than the screen, and where it goes (viewport px)."""
    box = item.getViewBox()
    scene_rect = box.sceneBoundingRect() if box is not None else item.sceneBoundingRect()
    target = view.mapFromScene(scene_rect).boundingRect()
    image = QImage(max(1, round(target.width() * scale)), max(1, round(target.height() * scale)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    with _undoing() as restore:
        for other in view.scene().items():
            if other is not item and not other.isAncestorOf(item) and other.opacity() > 0:
                opacity = other.opacity()
                other.setOpacity(0.0)  # not hidden: hiding would re-run the plot's layout
                restore.append(lambda other=other, opacity=opacity: other.setOpacity(opacity))
        size = item.point_size
        if scale != 1:
            item.set_point_size(size * scale)
            restore.append(lambda: item.set_point_size(size))
        painter = QPainter(image)
        try:
            view.scene().render(painter, QRectF(image.rect()), scene_rect)
        finally:
            painter.end()
    return image, QRectF(target)


def heading_height(heading: str | None) -> int:
    """Screen pixels a title band above the figure takes (0 without a title)."""
    return round(HEADING_PX * 1.6) if heading else 0


def canvas_size(fig: Figure, heading: str | None = None) -> QSize:
    """The figure's size with its title band, in screen pixels."""
    size = fig.size
    return QSize(size.width(), size.height() + heading_height(heading))


def _paint_heading(fig: Figure, painter: QPainter, heading: str) -> None:
    """The title, centred in its band, in the text colour that reads on the figure's background."""
    background = _background(fig)
    font = QFont(painter.font())
    font.setPixelSize(HEADING_PX)
    font.setBold(True)
    painter.save()
    painter.setFont(font)
    painter.setPen(QColor(0, 0, 0) if background.lightness() >= 128 else QColor(255, 255, 255))
    band = QRect(0, 0, fig.size.width(), heading_height(heading))
    painter.drawText(band, int(Qt.AlignmentFlag.AlignCenter), heading)
    painter.restore()


def _paint(fig: Figure, painter: QPainter, scale: float, raster_scale: float | None = None,
           heading: str | None = None) -> None:
    """Draw the figure with ``painter``, ``scale`` device units per screen pixel.

    Widgets are drawn by ``QWidget.render``; pyqtgraph views by ``QGraphicsView.render``, which paints the scene
    straight onto the target (items that draw in device pixels need the real device, not a redirected widget).
    For vector output (``raster_scale`` given) the point cloud is drawn as an image ``raster_scale`` times finer
    than the screen and everything else as vectors on top of it.
    """
    rect = fig.rect()
    origin = rect.topLeft()
    painter.scale(scale, scale)
    painter.fillRect(QRect(QPoint(0, 0), canvas_size(fig, heading)), _background(fig))
    if heading:
        _paint_heading(fig, painter, heading)
        painter.translate(0, heading_height(heading))
    flags = QWidget.RenderFlag.DrawWindowBackground | QWidget.RenderFlag.DrawChildren
    with figure_mode(fig, scale, painter):
        views = [(view, QRect(view.viewport().mapTo(fig.widget, QPoint(0, 0)), view.viewport().size()))
                 for view in graphics_views(fig)]
        rest = QRegion(rect)
        for _, where in views:
            rest -= QRegion(where)
        if not rest.isEmpty():
            fig.widget.render(painter, rest.boundingRect().topLeft() - origin, rest, flags)
        for view, where in views:
            if not where.intersects(rect):
                continue
            target = QRectF(where.translated(-origin))
            painter.save()
            painter.setClipRect(QRectF(QRect(QPoint(0, 0), rect.size())).intersected(target))
            with _undoing() as restore:
                if raster_scale is not None:
                    for item in raster_items(view):
                        image, place = _raster_layer(view, item, raster_scale)
                        painter.drawImage(place.translated(target.topLeft()), image)
                        item.setOpacity(0.0)
                        restore.append(lambda item=item: item.setOpacity(1.0))
                    brush = view.backgroundBrush()
                    view.setBackgroundBrush(Qt.BrushStyle.NoBrush)  # the images below must show through
                    restore.append(lambda view=view, brush=brush: view.setBackgroundBrush(brush))
                view.render(painter, target, view.viewport().rect(), Qt.AspectRatioMode.IgnoreAspectRatio)
            painter.restore()
            for child in _overlays(view):
                top_left = child.mapTo(fig.widget, QPoint(0, 0)) - origin
                child.render(painter, top_left, QRegion(child.rect()), flags)


def _overlays(view: pg.GraphicsView) -> list[QWidget]:
    """Plain widgets laid over a view (labels such as "N points not drawn"), drawn after its scene."""
    skip = {view.viewport(), view.horizontalScrollBar(), view.verticalScrollBar()}
    return [w for w in view.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
            if w not in skip and w.isVisibleTo(view) and not w.isHidden() and w.width() > 0 and w.height() > 0
            and w.metaObject().className() not in ("QWidget", "QScrollBar")]


def render_image(fig: Figure, scale: float | None = None, width: int | None = None, heading: str | None = None,
                 dpi: float | None = None) -> QImage:
    """The figure as an ARGB32 image, ``scale`` times its on-screen size (or ``width`` pixels wide).

    ``heading`` is a title drawn above it; ``dpi`` the resolution written into the image (PNG pHYs: a word
    processor prints it at width/dpi inches). Without ``dpi`` it prints at its on-screen size (96 dpi × scale).
    """
    scale = _scale_for(fig, scale, width)
    size = canvas_size(fig, heading)
    image = QImage(max(1, round(size.width() * scale)), max(1, round(size.height() * scale)),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(_background(fig))
    painter = QPainter(image)  # at the default 96 dpi: items cached as QPictures (axes) would rescale otherwise
    try:
        _paint(fig, painter, scale, heading=heading)
    finally:
        painter.end()
    if dpi is not None and not 1.0 <= dpi <= 10_000.0:
        raise ExportError(f"a resolution of {dpi:g} dpi is out of range", hint="give 72 to 1200, e.g. 300")
    dots_per_metre = round((dpi or SCREEN_DPI * scale) / 0.0254)  # by default it prints at its on-screen size
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    return image


def image_bytes(image: QImage, fmt: str = "PNG") -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, fmt):
        raise ExportError(f"Qt could not encode the image as {fmt}")
    buffer.close()
    return bytes(data.data())


def render_svg(fig: Figure, scale: float | None = None, heading: str | None = None) -> bytes:
    """The figure as SVG in screen units: vector text and lines; the point cloud an image ``scale`` × finer."""
    raster_scale = _scale_for(fig, scale or 2.0, None)
    size = canvas_size(fig, heading)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setTitle(heading or fig.title)
    generator.setDescription("Latent Explorer figure")
    generator.setSize(size)
    generator.setViewBox(QRect(QPoint(0, 0), size))
    generator.setResolution(round(SCREEN_DPI))
    return _paint_into(fig, generator, raster_scale, buffer, data, heading)


def render_pdf(fig: Figure, scale: float | None = None, heading: str | None = None) -> bytes:
    """The figure as a one-page PDF of its on-screen size (96 dpi); the point cloud an image ``scale`` × finer."""
    raster_scale = _scale_for(fig, scale or 4.0, None)
    size = canvas_size(fig, heading)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle(heading or fig.title)
    writer.setCreator("Latent Explorer")
    writer.setResolution(round(SCREEN_DPI))
    points = QSizeF(size.width() * 72.0 / SCREEN_DPI, size.height() * 72.0 / SCREEN_DPI)
    writer.setPageLayout(QPageLayout(QPageSize(points, QPageSize.Unit.Point, "figure"),
                                     QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
    return _paint_into(fig, writer, raster_scale, buffer, data, heading)


def _paint_into(fig: Figure, device, raster_scale: float, buffer: QBuffer, data: QByteArray,
                heading: str | None = None) -> bytes:
    """Paint the figure at screen scale onto a vector device writing into ``buffer``; the bytes it wrote."""
    painter = QPainter(device)
    try:
        _paint(fig, painter, 1.0, raster_scale, heading)
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def figure_bytes(fig: Figure, suffix: str, scale: float | None = None, width: int | None = None,
                 heading: str | None = None, dpi: float | None = None) -> bytes:
    """The encoded file: PNG (``dpi`` in its pHYs), SVG or PDF (vector; ``dpi`` does not apply)."""
    suffix = suffix.lower()
    if suffix == ".png":
        return image_bytes(render_image(fig, scale, width, heading, dpi))
    if width is not None:
        scale = width / max(1, fig.size.width())  # vector formats: the raster parts get this many pixels
    if suffix == ".svg":
        return render_svg(fig, scale, heading)
    if suffix == ".pdf":
        return render_pdf(fig, scale, heading)
    raise ExportError(f"cannot write '{suffix or 'no extension'}' figures",
                      hint=f"name the file {', '.join(FIGURE_SUFFIXES[:-1])} or {FIGURE_SUFFIXES[-1]}")


def export_figure(fig: Figure, path: str | Path, scale: float | None = None, width: int | None = None,
                  heading: str | None = None, dpi: float | None = None) -> Path:
    """Render and write atomically; an unwritable folder raises `ExportError` and leaves any old file as it was."""
    path = Path(path)
    data = figure_bytes(fig, path.suffix, scale, width, heading, dpi)
    try:
        write_bytes_atomic(path, data)
    except OSError as exc:
        raise ExportError(f"cannot write the figure ({exc.strerror or exc})", path=path,
                          hint="choose a folder you can write to; nothing was changed") from exc
    return path


def copy_figure(fig: Figure, scale: float = 1.0) -> QImage:
    """Put the figure on the clipboard as an image (and as SVG for programs that take vectors)."""
    from PySide6.QtCore import QMimeData

    image = render_image(fig, scale)
    mime = QMimeData()
    mime.setImageData(image)
    mime.setData("image/svg+xml", QByteArray(render_svg(fig, scale)))
    QApplication.clipboard().setMimeData(mime)
    return image
