"""Unit tests of photo processing (Pillow, no I/O); test images come from visit_images.py."""
from __future__ import annotations

import io
import os
from datetime import UTC, datetime

import pytest
from PIL import Image
from visit_images import jpeg, png

from crmkit.errors import BusinessRule, InvalidInput, TooLarge, UnsupportedMedia
from visits import photos

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pixels": 60_000_000, "min_pixels": 640 * 480}


def run(data: bytes, **kw):
    args = dict(LIMITS, client_at=AT, client_lat=31.2304, client_lng=121.4737, tz="Asia/Shanghai",
                watermark_lines=["2026-03-02 10:00", "People's Square", "张三 @ 客户"], reject_invalid_exif=True,
                exif_time_tolerance_s=900, exif_gps_tolerance_m=1000)
    args.update(kw)
    return photos.process(data, **args)


def test_jpeg_with_exif_is_read_compared_and_oriented():
    data = jpeg(exif={"orientation": 6, "time": "2026:03:02 10:02:00",
                      "gps": ("N", (31.0, 13.0, 49.44), "E", (121.0, 28.0, 25.32))})
    p = run(data)
    assert p.content_type == "image/jpeg"
    assert p.sha256 == __import__("hashlib").sha256(data).hexdigest()
    assert p.exif["orientation"] == 6
    assert p.exif["check"]["time_diff_s"] == 120
    assert p.exif["check"]["gps_diff_m"] < 50
    assert not [f for f in p.flags if f.endswith("differs")]
    thumb = Image.open(io.BytesIO(p.thumbnail))
    assert thumb.height > thumb.width  # 640x480 rotated by orientation 6
    assert max(thumb.size) <= photos.THUMB_SIZE
    wm = Image.open(io.BytesIO(p.watermarked))
    assert wm.format == "JPEG" and wm.height > wm.width


def test_large_differences_are_flagged():
    data = jpeg(exif={"time": "2026:03:01 10:00:00", "gps": ("N", (39.0, 54.0, 31.0), "E", (116.0, 23.0, 51.0))})
    p = run(data)
    assert "exif_time_differs" in p.flags and "exif_gps_differs" in p.flags
    assert p.exif["check"]["gps_diff_m"] > 1_000_000


def test_no_exif_is_a_flag_not_an_error():
    p = run(png())
    assert p.content_type == "image/png" and "exif_missing" in p.flags


def test_png_named_jpg_is_handled_as_png():
    p = run(png())  # the name never matters: the content decides
    assert p.content_type == "image/png"


def test_not_an_image():
    with pytest.raises(UnsupportedMedia):
        run(b"%PDF-1.4 not an image at all" * 10)
    with pytest.raises(InvalidInput):
        run(b"")


def test_truncated_jpeg():
    data = jpeg(size=(800, 600))
    with pytest.raises(InvalidInput) as e:
        run(data[: len(data) // 2])
    assert e.value.code == "photo.corrupt"


def test_decompression_bomb_refused_before_decoding():
    buf = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buf, "PNG")  # 100 Mpx in a few KB
    assert len(buf.getvalue()) < 100_000
    with pytest.raises(TooLarge) as e:
        run(buf.getvalue())
    assert e.value.code == "photo.too_many_pixels"


def test_file_too_large():
    with pytest.raises(TooLarge) as e:
        run(b"\xff\xd8\xff" + os.urandom(50 * 1024 * 1024))
    assert e.value.code == "photo.too_large"


def test_garbage_exif_values_refused_or_flagged():
    data = jpeg(exif={"time": "garbage!!", "gps": ("N", (999.0, 0.0, 0.0), "E", (1.0, 2.0, 3.0)),
                      "orientation": 77})
    with pytest.raises(BusinessRule) as e:
        run(data)
    assert set(e.value.details["fields"]) == {"date_time", "gps", "orientation"}
    p = run(data, reject_invalid_exif=False)  # tenant setting: keep, flag for the reviewer
    assert p.exif["errors"] == ["orientation", "date_time", "gps"]


def test_big_jpeg_decoded_at_reduced_size():
    img = Image.effect_noise((4000, 3000), 40).convert("RGB")
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    p = run(buf.getvalue())
    assert (p.width, p.height) == (4000, 3000)
    assert max(Image.open(io.BytesIO(p.watermarked)).size) <= photos.WATERMARK_SIZE


def test_heic_accepted_when_the_plugin_is_installed():
    assert photos.HEIF, "pillow-heif is pinned in requirements.lock: HEIC must be available"
    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (10, 20, 30)).save(buf, "HEIF")
    p = run(buf.getvalue())
    assert p.content_type == "image/heic" and (p.width, p.height) == (640, 480)
    assert Image.open(io.BytesIO(p.thumbnail)).format == "JPEG"


@pytest.mark.parametrize("size", [(1, 1), (639, 480), (320, 240)])
def test_too_few_pixels_is_no_evidence(size):
    for data in (jpeg(size=size), png(size=size)):
        with pytest.raises(BusinessRule) as e:
            run(data)
        assert e.value.code == "photo.too_few_pixels"
        assert e.value.details == {"width": size[0], "height": size[1], "pixels": size[0] * size[1],
                                   "min_pixels": 640 * 480}


def test_the_minimum_is_a_setting():
    assert run(jpeg(size=(480, 640))).width == 480          # exactly 640x480 pixels, portrait
    assert run(jpeg(size=(100, 100)), min_pixels=10_000).width == 100
