"""Check-in photo processing with Pillow: bytes in, checked facts and derived images out.

No database here. ``process`` is CPU-heavy and runs in ``eventlet.tpool`` (see fieldwork.py).
- the real type comes from the content (magic bytes + Pillow), never from the file name;
- byte size and pixel count are limited (decompression bombs are refused before decoding);
- a truncated or corrupt file is refused (the whole stream is decoded once);
- JPEGs are decoded at reduced size with ``draft()`` (asked for the watermarked copy's
  size, :func:`draft_size`): only a thumbnail and a watermarked copy (long side <= 1600 px)
  are made, the original is stored unchanged;
- EXIF orientation is applied to the derived images; EXIF time and GPS are read and
  compared with what the client said.
"""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw, ImageFile, ImageFont, ImageOps

from crmkit.errors import BusinessRule, InvalidInput, TooLarge, UnsupportedMedia

ImageFile.LOAD_TRUNCATED_IMAGES = False

try:  # HEIC/HEIF from iPhones, when the plugin is installed
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF = True
except Exception:  # pragma: no cover - optional
    HEIF = False

THUMB_SIZE = 320
WATERMARK_SIZE = 1600

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic"}


@dataclass
class Processed:
    content_type: str
    sha256: str
    size: int
    width: int
    height: int
    thumbnail: bytes
    watermarked: bytes
    exif: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


def sniff(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc"):
        return "HEIF"
    return None


def check_size(size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise TooLarge("photo.too_large", f"the photo is larger than {max_bytes} bytes",
                       {"size": size, "max_bytes": max_bytes})


def check_min_pixels(width: int, height: int, min_pixels: int) -> None:
    """A photo too small to show the sign, reception or venue (from the header, before decoding)."""
    if width * height < min_pixels:
        raise BusinessRule("photo.too_few_pixels",
                           f"the photo has {width}x{height} pixels, fewer than {min_pixels}; take it again at a "
                           "higher resolution", {"width": width, "height": height, "pixels": width * height,
                                                 "min_pixels": min_pixels})


def _facts(data: bytes | str) -> tuple[int, bytes, Any]:
    """(size, first bytes, what Pillow opens) of the photo: bytes, or the path of a spool file."""
    if isinstance(data, str):
        with open(data, "rb") as f:
            return os.fstat(f.fileno()).st_size, f.read(16), data
    return len(data), data[:16], io.BytesIO(data)


def _sha256(data: bytes | str) -> str:
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    h = hashlib.sha256()
    with open(data, "rb") as f:
        for block in iter(lambda: f.read(1024 * 1024), b""):
            h.update(block)
    return h.hexdigest()


def draft_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size ``draft()`` is asked for: the watermarked copy's (the photo fitted into
    ``WATERMARK_SIZE`` squared), so a JPEG decodes at the largest DCT scale still at least
    that big (4000x3000 decodes at 2000x1500, not at full size)."""
    w, h = size
    k = min(1.0, WATERMARK_SIZE / max(w, h, 1))
    return max(1, int(w * k)), max(1, int(h * k))


def process(data: bytes | str, *, max_bytes: int, max_pixels: int, client_at: datetime, client_lat: float | None,
            client_lng: float | None, tz: str, watermark_lines: list[str], reject_invalid_exif: bool,
            exif_time_tolerance_s: float, exif_gps_tolerance_m: float, min_pixels: int = 0,
            sha256: str | None = None) -> Processed:
    """``data``: the photo's bytes, or the path of a file holding them (a spooled upload).
    ``min_pixels``: fewer pixels than this is no evidence (``photo.too_few_pixels``, 422).
    ``sha256``: the file's digest when the caller took it already (the spool does)."""
    size, head, source = _facts(data)
    if not size:
        raise InvalidInput("photo.empty", "the photo is empty")
    check_size(size, max_bytes)
    kind = sniff(head)
    if kind is None or (kind == "HEIF" and not HEIF):
        raise UnsupportedMedia("photo.unsupported_type", "the photo must be a JPEG or PNG image"
                               + (" (or HEIC)" if HEIF else ""), {"detected": kind})
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(source)
            width, height = img.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise TooLarge("photo.too_many_pixels", "the photo has too many pixels",
                           {"max_pixels": max_pixels}) from None
        except Exception:
            raise InvalidInput("photo.corrupt", "the photo cannot be read as an image") from None
    if img.format not in FORMATS or (img.format == "HEIF") != (kind == "HEIF") or \
            (kind in ("JPEG", "PNG") and img.format != kind):
        raise UnsupportedMedia("photo.unsupported_type", "the photo must be a JPEG or PNG image",
                               {"detected": img.format})
    if width * height > max_pixels or width <= 0 or height <= 0:
        raise TooLarge("photo.too_many_pixels", f"the photo has {width}x{height} pixels, more than {max_pixels}",
                       {"width": width, "height": height, "max_pixels": max_pixels})
    check_min_pixels(width, height, min_pixels)

    exif_info, exif_flags, exif_errors = read_exif(img, tz)
    if exif_errors and reject_invalid_exif:
        raise BusinessRule("photo.exif_invalid", "the photo's EXIF data has impossible values; take the photo again",
                           {"fields": exif_errors})

    try:
        if img.format == "JPEG":
            img.draft("RGB", draft_size((width, height)))
        img.load()  # decodes the whole stream: a truncated file fails here
    except Image.DecompressionBombError:
        raise TooLarge("photo.too_many_pixels", "the photo has too many pixels", {"max_pixels": max_pixels}) from None
    except Exception:
        raise InvalidInput("photo.corrupt", "the photo is truncated or corrupt") from None

    orientation = exif_info.get("orientation")
    try:
        oriented = ImageOps.exif_transpose(img) or img
    except Exception:
        oriented = img
        exif_flags.append("exif_orientation_invalid")
    work = oriented.convert("RGB")  # a new image: the decoded one is left as it is
    work.thumbnail((WATERMARK_SIZE, WATERMARK_SIZE))
    thumb = work.copy()
    thumb.thumbnail((THUMB_SIZE, THUMB_SIZE))
    watermarked = draw_watermark(work, watermark_lines)

    check = compare_exif(exif_info, client_at, client_lat, client_lng, exif_time_tolerance_s, exif_gps_tolerance_m)
    exif_flags.extend(check.pop("flags"))
    exif_info["orientation"] = orientation
    exif_info["check"] = check
    exif_info["errors"] = exif_errors
    return Processed(
        content_type=FORMATS[img.format], sha256=sha256 or _sha256(data), size=size,
        width=width, height=height, thumbnail=_jpeg(thumb, 80), watermarked=_jpeg(watermarked, 85),
        exif=exif_info, flags=exif_flags,
    )


def _jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=False)
    return buf.getvalue()


# -- EXIF ----------------------------------------------------------------------------------

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
TAG_ORIENTATION = 0x0112
TAG_DATETIME = 0x0132
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011


def _ratio(v: Any) -> float:
    if isinstance(v, tuple) and len(v) == 2:
        return float(v[0]) / float(v[1])
    return float(v)


def _dms(value: Any) -> float:
    d, m, s = (_ratio(x) for x in value)
    return d + m / 60.0 + s / 3600.0


def read_exif(img: Image.Image, tz: str) -> tuple[dict[str, Any], list[str], list[str]]:
    """(facts, flags, errors). Missing EXIF is a flag; impossible values are errors."""
    info: dict[str, Any] = {"present": False, "taken_at": None, "lat": None, "lng": None, "orientation": None}
    flags: list[str] = []
    errors: list[str] = []
    try:
        exif = img.getexif()
    except Exception:
        return info, ["exif_unreadable"], ["exif"]
    if not exif:
        flags.append("exif_missing")
        return info, flags, errors
    info["present"] = True
    try:
        orientation = exif.get(TAG_ORIENTATION)
        if orientation is not None:
            orientation = int(orientation)
            if not 1 <= orientation <= 8:
                errors.append("orientation")
            info["orientation"] = orientation
    except Exception:
        errors.append("orientation")
    try:
        sub = exif.get_ifd(EXIF_IFD)
        raw = sub.get(TAG_DATETIME_ORIGINAL) or exif.get(TAG_DATETIME)
        if raw is not None:
            text = raw.decode() if isinstance(raw, bytes) else str(raw)
            text = text.strip("\x00 ")
            taken = datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
            offset = sub.get(TAG_OFFSET_TIME_ORIGINAL)
            if offset:
                sign = -1 if str(offset).startswith("-") else 1
                hh, mm = str(offset).lstrip("+-").split(":")
                from datetime import timezone
                taken = taken.replace(tzinfo=timezone(sign * timedelta(hours=int(hh), minutes=int(mm))))
            else:
                taken = taken.replace(tzinfo=ZoneInfo(tz))
            info["taken_at"] = taken
        else:
            flags.append("exif_time_missing")
    except Exception:
        errors.append("date_time")
    try:
        gps = exif.get_ifd(GPS_IFD)
        if gps and 2 in gps and 4 in gps:
            lat = _dms(gps[2]) * (-1 if str(gps.get(1, "N")).upper().startswith("S") else 1)
            lng = _dms(gps[4]) * (-1 if str(gps.get(3, "E")).upper().startswith("W") else 1)
            if not (-90 <= lat <= 90 and -180 <= lng <= 180) or lat != lat or lng != lng:
                errors.append("gps")
            else:
                info["lat"], info["lng"] = round(lat, 7), round(lng, 7)
        else:
            flags.append("exif_gps_missing")
    except Exception:
        errors.append("gps")
    return info, flags, errors


def compare_exif(info: dict[str, Any], client_at: datetime, client_lat: float | None, client_lng: float | None,
                 time_tol_s: float, gps_tol_m: float) -> dict[str, Any]:
    from visits.rules import haversine_m

    out: dict[str, Any] = {"time_diff_s": None, "gps_diff_m": None, "time_tolerance_s": time_tol_s,
                           "gps_tolerance_m": gps_tol_m, "flags": []}
    taken = info.get("taken_at")
    if taken is not None:
        diff = abs((client_at - taken).total_seconds())
        out["time_diff_s"] = round(diff, 1)
        if diff > time_tol_s:
            out["flags"].append("exif_time_differs")
        info["taken_at"] = taken.isoformat()
    if info.get("lat") is not None and client_lat is not None and client_lng is not None:
        d = haversine_m(info["lat"], info["lng"], client_lat, client_lng)
        out["gps_diff_m"] = round(d, 1)
        if d > gps_tol_m:
            out["flags"].append("exif_gps_differs")
    return out


# -- watermark -------------------------------------------------------------------------------

_FONT_PATH: list[str | None] = []  # [] = not looked up yet


def cjk_font_path() -> str | None:
    """A font that renders Chinese when the machine has one (fc-list :lang=zh), else None
    (PIL's default font is used then: Latin only, Chinese names render as boxes)."""
    if not _FONT_PATH:
        path = None
        try:
            out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=5).stdout
            for line in out.splitlines():
                cand = line.split(":", 1)[0].strip()
                if cand:
                    path = cand
                    break
        except Exception:
            path = None
        _FONT_PATH.append(path)
    return _FONT_PATH[0]


def _font(size: int) -> Any:
    path = cjk_font_path()
    if path:
        try:
            return ImageFont.truetype(path, size)
        except Exception:
            pass
    try:
        return ImageFont.load_default(size=size)
    except Exception:
        return ImageFont.load_default()


def draw_watermark(img: Image.Image, lines: list[str]) -> Image.Image:
    out = img.copy()
    draw = ImageDraw.Draw(out, "RGBA")
    size = max(12, out.width // 45)
    font = _font(size)
    pad = size // 2
    line_h = size + pad // 2
    box_h = line_h * len(lines) + pad * 2
    draw.rectangle([0, out.height - box_h, out.width, out.height], fill=(0, 0, 0, 130))
    y = out.height - box_h + pad
    for line in lines:
        draw.text((pad, y), line, fill=(255, 255, 255, 255), font=font)
        y += line_h
    return out
