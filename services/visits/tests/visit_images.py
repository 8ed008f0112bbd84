"""Test images made with Pillow (no binary fixtures)."""
from __future__ import annotations

import io

from PIL import Image


def jpeg(size=(640, 480), exif: dict | None = None, quality=85) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    img.paste((20, 20, 220), (0, 0, size[0] // 2, size[1] // 4))
    ex = Image.Exif()
    for k, v in (exif or {}).items():
        if k == "orientation":
            ex[0x0112] = v
        elif k == "time":
            ex.get_ifd(0x8769)[0x9003] = v
        elif k == "gps":
            g = ex.get_ifd(0x8825)
            g[1], g[2], g[3], g[4] = v
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=ex, quality=quality)
    return buf.getvalue()


def png(size=(640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (0, 128, 0)).save(buf, "PNG")
    return buf.getvalue()


def bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buf, "PNG")  # 100 Mpx in a few KB
    return buf.getvalue()


GARBAGE_EXIF = {"time": "garbage!!", "gps": ("N", (999.0, 0.0, 0.0), "E", (1.0, 2.0, 3.0)), "orientation": 77}
