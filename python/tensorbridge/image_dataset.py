"""Data sets of image files: :meth:`tensorbridge.Dataset.from_files` and
:meth:`tensorbridge.Dataset.from_image_folder` (torchvision's ``ImageFolder`` / Keras'
``image_dataset_from_directory`` layout). The images are decoded in C++ on the pipeline's worker
threads, with the image ops mapped onto them (:func:`tensorbridge.ops.random_resized_crop`,
``resize``, ``center_crop``, then ``random_flip(1)``, ``normalize``, ``permute(2, 0, 1)``,
``cast``) fused into the decode."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from . import _ext
from ._convert import asarray
from ._paths import fspath
from .errors import FormatError, InvalidValueError, NotFoundError
from .image import DEFAULT_MAX_PIXELS, _options

#: The file name endings :meth:`Dataset.from_image_folder` takes by default (any case).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")


@dataclass(frozen=True)
class ImageFolderInfo:
    """What a data set of image files knows about its files."""

    class_names: list[str] | None  #: the class folder names, in label order (from_image_folder)
    skipped: list[tuple[str, str]] = field(default_factory=list)  #: (path, why) of skipped files


class ImageSource(NamedTuple):
    """A native data set of image files, and what :class:`tensorbridge.Dataset` wraps it with."""

    native: _ext.Dataset
    names: tuple[str, ...]  #: ("image", "label") or ("image",)
    recipe: tuple[Any, ...]  #: the source call, for pickling
    info: ImageFolderInfo


def _make(paths: list[str], labels: np.ndarray | None, mode: str, max_pixels: int, dct_scaling: bool,
          recipe: tuple[Any, ...], info: ImageFolderInfo) -> ImageSource:
    options = _options("from_files", mode, False, max_pixels)
    native_labels = None if labels is None else asarray(labels)._c
    c = _ext.dataset_from_files(paths, native_labels, options, bool(dct_scaling))
    return ImageSource(c, ("image", "label") if labels is not None else ("image",), recipe, info)


def from_files(paths: Sequence[str | os.PathLike[str]], labels: Any = None, *, mode: str = "RGB",
               max_pixels: int = DEFAULT_MAX_PIXELS, dct_scaling: bool = True) -> ImageSource:
    """The source of :meth:`tensorbridge.Dataset.from_files`."""
    files = [fspath(p, "from_files") for p in paths]
    if not files:
        raise InvalidValueError("from_files: no files given; pass a list of image paths")
    y = None if labels is None else np.asarray(labels)
    recipe = (("from_files", (files,), {"labels": y, "mode": mode, "max_pixels": max_pixels,
                                        "dct_scaling": dct_scaling}),)
    return _make(files, y, mode, max_pixels, dct_scaling, recipe, ImageFolderInfo(None))


def from_image_folder(root: str | os.PathLike[str], *, extensions: Sequence[str] = IMAGE_EXTENSIONS,
                      on_error: str = "raise", mode: str = "RGB", max_pixels: int = DEFAULT_MAX_PIXELS,
                      dct_scaling: bool = True) -> ImageSource:
    """The source of :meth:`tensorbridge.Dataset.from_image_folder`."""
    top = fspath(root, "from_image_folder")
    if on_error not in ("raise", "skip"):
        raise InvalidValueError(f"from_image_folder: on_error must be 'raise' or 'skip', got {on_error!r}")
    if not os.path.isdir(top):
        raise NotFoundError(f"from_image_folder: {top} is not a directory; pass the folder holding one subfolder "
                            "per class")
    endings = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
    classes = sorted(e.name for e in os.scandir(top) if e.is_dir() and not e.name.startswith("."))
    if not classes:
        raise NotFoundError(f"from_image_folder: {top} has no class folders; expected one subfolder per class "
                            "holding its images (root/cat/1.jpg, root/dog/2.jpg, ...)")
    paths: list[str] = []
    labels: list[int] = []
    skipped: list[tuple[str, str]] = []
    for label, name in enumerate(classes):
        found = []
        for folder, dirs, files in os.walk(os.path.join(top, name), followlinks=True):
            dirs.sort()
            found += [os.path.join(folder, f) for f in sorted(files) if f.lower().endswith(endings)]
        if not found:
            raise NotFoundError(f"from_image_folder: class folder {os.path.join(top, name)} has no images ending in "
                                f"{', '.join(endings)}; add images, remove the folder, or pass extensions=")
        for path in found:
            if on_error == "skip":
                try:
                    _ext.image_file_info(path)
                except (FormatError, OSError) as e:
                    skipped.append((path, str(e)))
                    continue
            paths.append(path)
            labels.append(label)
    if not paths:
        raise FormatError(f"from_image_folder: none of the {len(skipped)} files under {top} is a readable image")
    recipe = (("from_image_folder", (top,), {"extensions": tuple(extensions), "on_error": on_error, "mode": mode,
                                             "max_pixels": max_pixels, "dct_scaling": dct_scaling}),)
    return _make(paths, np.asarray(labels, dtype=np.int64), mode, max_pixels, dct_scaling, recipe,
                 ImageFolderInfo(classes, skipped))
