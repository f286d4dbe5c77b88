"""Render the application icon's PNG sizes from its SVG with Qt (run after editing the SVG).

    python packaging/render_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG = ICON_DIR / "latent-explorer.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def png_path(size: int) -> Path:
    return ICON_DIR / f"latent-explorer-{size}.png"


def render(size: int, svg: Path = SVG):
    """The icon as a QImage of ``size``×``size`` (transparent background)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - fonts and image plugins
    for size in SIZES:
        image = render(size)
        if not image.save(str(png_path(size)), "PNG"):
            print(f"cannot write {png_path(size)}", file=sys.stderr)
            return 1
        print(png_path(size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
