"""Render resources/icons/motorchart.svg to the PNG, ICO and ICNS files the installers use.

Run once after editing the SVG (the outputs are committed):  python installer/make_icons.py
Uses Qt's SVG renderer offscreen and Pillow for .ico/.icns; neither is needed at build time.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)


def render(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(ICONS / "motorchart.svg"))
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buf, "PNG")
    return bytes(data.data())


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])  # noqa: F841 - QImage/QPainter need an application
    pngs = {s: render(s) for s in PNG_SIZES}
    for s in (48, 256):
        (ICONS / f"motorchart-{s}.png").write_bytes(pngs[s])
    big = Image.open(io.BytesIO(pngs[512]))
    big.save(ICONS / "motorchart.ico", sizes=[(s, s) for s in (16, 32, 48, 64, 128, 256)])
    big.save(ICONS / "motorchart.icns")
    for f in sorted(ICONS.iterdir()):
        print(f"{f.name}: {f.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
