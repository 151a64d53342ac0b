"""Reading JPEG, PNG and WebP images into HWC tensors (decoded in C++, the GIL released).

Pixels equal Pillow's: ``tb.read_image(f, mode)`` gives the values of
``np.asarray(Image.open(f).convert(mode))`` (for JPEG, both decode with libjpeg-turbo's default
IDCT). The format is sniffed from the bytes; GIF, TIFF, BMP, AVIF/HEIF and JPEG XL are refused by
name with a :class:`~tensorbridge.FormatError`.

Example:
    >>> import tensorbridge as tb
    >>> img = tb.read_image("cat.jpg")                 # doctest: +SKIP
    >>> img.shape, img.dtype                           # doctest: +SKIP
    ((375, 500, 3), 'uint8')
    >>> x = tb.to_torch(img).permute(2, 0, 1)          # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

from . import _ext
from ._args import integer
from ._paths import fspath
from ._tensor import Tensor
from .errors import DTypeError

__all__ = ["DEFAULT_MAX_PIXELS", "MODES", "decode_image", "read_image"]

#: The modes an image can be decoded to.
MODES = ("RGB", "L", "RGBA", "unchanged")

#: The default ``max_pixels``: 178,956,970 (twice Pillow's warning threshold, where Pillow refuses
#: an image as a decompression bomb).
DEFAULT_MAX_PIXELS: int = _ext.ImageDecodeOptions.default_max_pixels


def _options(where: str, mode: str, apply_exif_orientation: bool, max_pixels: int) -> _ext.ImageDecodeOptions:
    if not isinstance(mode, str):
        raise DTypeError(f"{where}: mode must be one of {MODES}, got {type(mode).__name__} {mode!r}")
    o = _ext.ImageDecodeOptions()
    o.mode = mode
    o.apply_exif_orientation = bool(apply_exif_orientation)
    o.max_pixels = integer(max_pixels, where, "max_pixels", "an integer >= 0 (0 lifts the limit)")
    o.validate()
    return o


def read_image(
    path: str | os.PathLike[str],
    mode: str = "RGB",
    *,
    apply_exif_orientation: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Tensor:
    """Reads a JPEG, PNG or WebP file into an HWC :class:`~tensorbridge.Tensor`.

    Args:
        path: the image file (its format is sniffed from its bytes, not its name).
        mode: ``"RGB"`` (3 channels), ``"L"`` (1 channel, Pillow's luminance), ``"RGBA"`` (4), or
            ``"unchanged"`` (the channels the file stores; uint16 for 16-bit PNGs).
        apply_exif_orientation: turn the pixels upright as the EXIF Orientation tag says (as
            torchvision's ``decode_image`` and Pillow's ``ImageOps.exif_transpose``).
        max_pixels: refuse an image declaring more pixels (a decompression bomb); 0: no limit.

    Returns:
        shape ``(height, width, channels)``, uint8 (uint16 for 16-bit PNGs in ``"unchanged"``).

    Raises:
        FormatError: an unsupported, truncated or corrupt file (a PNG CRC mismatch included), or
            too many pixels, naming the file and what is wrong.
        NotFoundError, AccessDeniedError, DirectoryError, ReadError: the file cannot be read.

    Example:
        >>> img = tb.read_image("photo.jpg", mode="RGB")   # doctest: +SKIP
        >>> chw = tb.to_torch(img).permute(2, 0, 1)         # doctest: +SKIP
    """
    options = _options("read_image", mode, apply_exif_orientation, max_pixels)
    return Tensor._wrap(_ext.read_image(fspath(path, "read_image"), options))


def decode_image(
    data: bytes | bytearray | memoryview | Any,
    mode: str = "RGB",
    *,
    apply_exif_orientation: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    name: str = "<bytes>",
) -> Tensor:
    """Decodes an encoded JPEG, PNG or WebP image held in memory, as :func:`read_image` does.

    Args:
        data: the encoded bytes (``bytes``, or anything ``bytes()`` accepts: a memoryview, a
            NumPy uint8 array).
        mode, apply_exif_orientation, max_pixels: as in :func:`read_image`.
        name: how error messages name the data.

    Example:
        >>> with open("photo.png", "rb") as f:           # doctest: +SKIP
        ...     img = tb.decode_image(f.read(), mode="RGBA")
    """
    options = _options("decode_image", mode, apply_exif_orientation, max_pixels)
    if not isinstance(data, bytes):
        try:
            data = bytes(memoryview(data).cast("B")) if not isinstance(data, (bytearray, memoryview)) else bytes(data)
        except TypeError:
            raise DTypeError(f"decode_image: expected bytes, got {type(data).__name__}") from None
    return Tensor._wrap(_ext.decode_image(data, options, name))
