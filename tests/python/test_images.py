"""tb.read_image / tb.decode_image against Pillow (and OpenCV for 16-bit RGB PNGs): every mode,
subsampling and progressive JPEG, every PNG color type and bit depth, WebP, EXIF orientation, and
bad input."""

from __future__ import annotations

import io
import os
import struct
import zlib

import cv2
import numpy as np
import pytest
import sklearn
from PIL import Image, ImageOps

import tensorbridge as tb

SKLEARN_IMAGES = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "images")


def pillow(data: bytes, mode: str) -> np.ndarray:
    a = np.asarray(Image.open(io.BytesIO(data)).convert(mode))
    return a[:, :, None] if a.ndim == 2 else a


def ours(data: bytes, mode: str = "RGB", **kw) -> np.ndarray:
    return tb.to_numpy(tb.decode_image(data, mode, **kw))


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    """A real photograph (sklearn's china.jpg), cropped small to keep the tests fast."""
    return Image.open(os.path.join(SKLEARN_IMAGES, "china.jpg")).convert("RGB").crop((100, 50, 261, 163))


@pytest.mark.parametrize("name", ["china.jpg", "flower.jpg"])
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA"])
def test_sklearn_jpegs_equal_pillow(name, mode):
    path = os.path.join(SKLEARN_IMAGES, name)
    got = tb.to_numpy(tb.read_image(path, mode))
    with open(path, "rb") as f:
        assert np.array_equal(got, pillow(f.read(), mode))
    assert got.shape == (427, 640, len(mode) if mode != "L" else 1)


@pytest.mark.parametrize("subsampling", [0, 1, 2])
@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("src_mode", ["RGB", "L", "CMYK"])
def test_jpeg_modes_subsampling_progressive_equal_pillow(photo, subsampling, progressive, src_mode):
    data = encode(photo.convert(src_mode), "JPEG", quality=90, subsampling=subsampling, progressive=progressive)
    for mode in ["RGB", "L", "RGBA"]:
        assert np.array_equal(ours(data, mode), pillow(data, mode)), mode
    unchanged = ours(data, "unchanged")
    assert np.array_equal(unchanged, pillow(data, src_mode))


def test_jpeg_restart_markers_equal_pillow(photo):
    data = encode(photo, "JPEG", quality=85, restart_marker_blocks=1)
    assert b"\xff\xd0" in data  # RST0 written
    assert np.array_equal(ours(data), pillow(data, "RGB"))


@pytest.mark.parametrize("src_mode", ["1", "L", "LA", "P", "RGB", "RGBA", "I;16"])
def test_png_every_color_type_equals_pillow(photo, src_mode):
    im = photo.convert("RGBA") if src_mode in ("LA", "RGBA") else photo
    if src_mode in ("LA", "RGBA"):
        im.putalpha(Image.linear_gradient("L").resize(im.size))
    if src_mode == "I;16":
        src = Image.fromarray((np.asarray(photo.convert("L")).astype(np.uint16) * 257 + 3).astype(np.uint16))
    else:
        src = im.convert(src_mode)
    data = encode(src, "PNG")
    modes = ["RGB", "L", "RGBA"] if src_mode != "I;16" else []
    for mode in modes:
        assert np.array_equal(ours(data, mode), pillow(data, mode)), mode
    expect = np.asarray(Image.open(io.BytesIO(data)))
    if src_mode == "P":
        expect = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    if src_mode == "1":
        expect = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    got = ours(data, "unchanged")
    assert got.dtype == (np.uint16 if src_mode == "I;16" else np.uint8)
    assert np.array_equal(got, expect.reshape(got.shape))


def test_png_palette_with_transparency_equals_pillow(photo):
    src = photo.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    src.info["transparency"] = 3
    data = encode(src, "PNG", transparency=3)
    for mode in ["RGB", "RGBA", "L"]:
        assert np.array_equal(ours(data, mode), pillow(data, mode)), mode
    assert np.array_equal(ours(data, "unchanged"), pillow(data, "RGBA"))


def test_png_16bit_rgb_keeps_the_high_byte_like_pillow_and_unchanged_equals_opencv(tmp_path):
    rng = np.random.default_rng(0)
    rgb16 = rng.integers(0, 65536, size=(13, 17, 3), dtype=np.uint16)
    path = str(tmp_path / "deep.png")
    assert cv2.imwrite(path, rgb16[:, :, ::-1])
    with open(path, "rb") as f:
        data = f.read()
    assert np.array_equal(ours(data, "unchanged"), rgb16)
    assert np.array_equal(ours(data, "RGB"), pillow(data, "RGB"))
    assert np.array_equal(ours(data, "RGB"), (rgb16 >> 8).astype(np.uint8))


@pytest.mark.parametrize("alpha", [False, True])
def test_lossless_webp_equals_pillow(photo, alpha):
    im = photo.convert("RGBA") if alpha else photo
    if alpha:
        im.putalpha(Image.linear_gradient("L").resize(im.size))
    data = encode(im, "WEBP", lossless=True)
    for mode in ["RGB", "L", "RGBA"]:
        assert np.array_equal(ours(data, mode), pillow(data, mode)), mode
    assert np.array_equal(ours(data, "unchanged"), np.asarray(Image.open(io.BytesIO(data))))


def test_lossy_webp_is_close_to_pillow(photo):
    # Pillow's wheel bundles another libwebp release than Debian's; lossy decoding (YUV -> RGB
    # upsampling) may differ by a few levels between releases.
    data = encode(photo, "WEBP", quality=80)
    diff = np.abs(ours(data).astype(int) - pillow(data, "RGB"))
    assert diff.max() <= 3 and diff.mean() < 0.5


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_exif_orientation_only_when_asked(photo, orientation, fmt):
    exif = Image.Exif()
    exif[0x0112] = orientation
    kw = {"quality": 95} if fmt == "JPEG" else {"lossless": True} if fmt == "WEBP" else {}
    data = encode(photo, fmt, exif=exif, **kw)
    stored = pillow(data, "RGB")
    assert np.array_equal(ours(data), stored)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB"))
    assert np.array_equal(ours(data, apply_exif_orientation=True), upright)


def test_read_image_gives_a_tensor_that_converts(tmp_path, photo, torch):
    path = tmp_path / "x.png"
    photo.save(path)
    t = tb.read_image(path)
    assert isinstance(t, tb.Tensor) and t.shape == (113, 161, 3) and t.dtype == "uint8"
    chw = tb.to_torch(t).permute(2, 0, 1)
    assert chw.shape == (3, 113, 161)
    assert np.array_equal(chw.permute(1, 2, 0).numpy(), np.asarray(photo))


def test_format_is_sniffed_not_named(tmp_path, photo):
    path = tmp_path / "actually_a_png.jpg"
    photo.save(path, "PNG")
    assert np.array_equal(tb.to_numpy(tb.read_image(path)), np.asarray(photo))


def test_decode_image_accepts_buffers(photo):
    data = encode(photo, "PNG")
    expect = np.asarray(photo)
    for d in [bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)]:
        assert np.array_equal(ours(d), expect)


# ---- bad input -------------------------------------------------------------------------------


def test_truncated_jpeg_names_the_file(tmp_path, photo):
    data = encode(photo, "JPEG", quality=90)
    path = tmp_path / "cut.jpg"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(tb.FormatError, match=r"cut\.jpg: truncated JPEG"):
        tb.read_image(path)


@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpegs_at_every_tenth_are_errors(photo, progressive):
    data = encode(photo, "JPEG", quality=90, progressive=progressive)
    for k in range(1, 10):
        with pytest.raises(tb.FormatError, match="JPEG"):
            ours(data[: len(data) * k // 10])


def test_corrupt_jpeg_header(photo):
    data = bytearray(encode(photo, "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 9] = 7  # 7 components in the frame header
    with pytest.raises(tb.FormatError, match="corrupt JPEG|unsupported JPEG"):
        ours(bytes(data))
    data = bytearray(encode(photo, "JPEG"))
    data[sof + 4] = 12  # 12-bit samples
    with pytest.raises(tb.FormatError, match="corrupt JPEG: Unsupported JPEG data precision 12"):
        ours(bytes(data))
    with pytest.raises(tb.FormatError, match="(corrupt|truncated) JPEG"):
        ours(b"\xff\xd8\xff" + b"\x00" * 100)


@pytest.mark.parametrize("where", ["IHDR data", "IDAT data", "IDAT crc"])
def test_png_bad_crc_is_named(photo, where):
    data = bytearray(encode(photo, "PNG"))
    chunk = where.split()[0].encode()
    at = data.index(chunk)
    length = struct.unpack(">I", data[at - 4 : at])[0]
    data[at + 4 + (length if where.endswith("crc") else 5)] ^= 0xFF
    with pytest.raises(tb.FormatError, match=rf"bad\.png: corrupt PNG: the CRC of chunk {chunk.decode()} at byte offset {at - 4}"):
        ours(bytes(data), name="bad.png")


def test_truncated_png_and_webp(photo):
    png = encode(photo, "PNG")
    with pytest.raises(tb.FormatError, match="PNG"):
        ours(png[: len(png) // 2])
    webp = encode(photo, "WEBP", quality=80)
    for cut in [20, len(webp) // 2]:
        with pytest.raises(tb.FormatError, match="WebP"):
            ours(webp[:cut])


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(tb.FormatError, match=r"empty\.jpg: empty file"):
        tb.read_image(path)


@pytest.mark.parametrize("fmt,named", [("GIF", "GIF"), ("TIFF", "TIFF"), ("BMP", "BMP")])
def test_unsupported_formats_are_named(photo, fmt, named):
    with pytest.raises(tb.FormatError, match=f"unsupported image format {named}"):
        ours(encode(photo, fmt))


def test_avif_and_unknown_bytes_are_named():
    with pytest.raises(tb.FormatError, match="unsupported image format AVIF"):
        ours(b"\x00\x00\x00\x1cftypavif" + b"\x00" * 40)
    with pytest.raises(tb.FormatError, match="not a JPEG, PNG or WebP image .*68 65 6c 6c 6f"):
        ours(b"hello world")


def png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))


def test_decompression_bomb_is_refused_before_allocating(photo):
    with pytest.raises(tb.FormatError, match="decompression bomb"):
        ours(png_header_only(100000, 100000))
    data = bytearray(encode(photo, "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 60000, 60000)
    with pytest.raises(tb.FormatError, match=r"60000x60000 = 3600000000 pixels, more than max_pixels"):
        ours(bytes(data))


def test_max_pixels_is_adjustable(photo):
    data = encode(photo, "PNG")
    with pytest.raises(tb.FormatError, match="max_pixels=100"):
        ours(data, max_pixels=100)
    assert ours(data, max_pixels=0).shape == (113, 161, 3)
    assert ours(data, max_pixels=113 * 161).shape == (113, 161, 3)
    with pytest.raises(tb.InvalidValueError, match="max_pixels"):
        ours(data, max_pixels=-1)


def test_file_problems_are_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jpg"):
        tb.read_image(tmp_path / "nope.jpg")
    with pytest.raises(IsADirectoryError):
        tb.read_image(tmp_path)


def test_bad_mode():
    with pytest.raises(ValueError, match="unknown image mode \"CMYK\""):
        tb.decode_image(b"\xff\xd8\xff", "CMYK")
