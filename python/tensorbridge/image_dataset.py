"""Data sets of image files: :meth:`tensorbridge.Dataset.from_files` and
:meth:`tensorbridge.Dataset.from_image_folder` (torchvision's ``ImageFolder`` / Keras'
``image_dataset_from_directory`` layout). The images are decoded in C++ on the pipeline's worker
threads, with the image ops mapped onto them (:func:`tensorbridge.ops.random_resized_crop`,
``resize``, ``center_crop``, then ``random_flip(1)``, ``normalize``, ``permute(2, 0, 1)``,
``cast``) fused into the decode."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from . import _ext
from ._convert import asarray
from ._paths import fspath
from .errors import InvalidValueError
from .image import DEFAULT_MAX_PIXELS, _options
from .storage import is_remote_path, storage_options_of

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


def _progress_bar() -> Callable[[int, int], None]:
    """A callback drawing ``checking N image files: done (p%)`` on stderr, from the first report
    on (C++ makes it after a quarter of a second, so a short check prints nothing)."""
    shown = False

    def report(done: int, total: int) -> None:
        nonlocal shown
        if done < total or shown:
            shown = True
            end = "\n" if done >= total else ""
            sys.stderr.write(f"\rchecking {total:,} image files: {done:,} ({100 * done // max(total, 1)}%){end}")
            sys.stderr.flush()

    return report


def _make(paths: list[str], labels: np.ndarray | None, *, mode: str, max_pixels: int, dct_scaling: bool,
          on_error: str, progress: bool | None, recipe: tuple[Any, ...], classes: list[str] | None,
          storage: _ext.StorageOptions, where: str) -> ImageSource:
    if on_error not in ("raise", "skip"):
        raise InvalidValueError(f"{where}: on_error must be 'raise' or 'skip', got {on_error!r}")
    options = _options(where, mode, False, max_pixels)
    native_labels = None if labels is None else asarray(labels)._c
    show = sys.stderr.isatty() if progress is None else bool(progress)
    report = _progress_bar() if show and on_error == "skip" else None
    c = _ext.dataset_from_files(paths, native_labels, options, bool(dct_scaling), on_error == "skip", 0, report,
                                storage)
    info = ImageFolderInfo(classes, list(_ext.dataset_skipped_files(c)))
    return ImageSource(c, ("image", "label") if labels is not None else ("image",), recipe, info)


def _storage(storage_options: Mapping[str, Any] | None, path: str) -> tuple[_ext.StorageOptions, dict[str, Any]]:
    """The C++ storage options of ``path`` and the recipe's keyword for them (none when not given)."""
    storage = storage_options_of(storage_options, path) if storage_options is not None or is_remote_path(path) \
        else _ext.StorageOptions()
    return storage, ({"storage_options": dict(storage_options)} if storage_options is not None else {})


def from_files(paths: Sequence[str | os.PathLike[str]], labels: Any = None, *, mode: str = "RGB",
               max_pixels: int = DEFAULT_MAX_PIXELS, on_error: str = "raise", dct_scaling: bool = False,
               progress: bool | None = None, storage_options: Mapping[str, Any] | None = None) -> ImageSource:
    """The source of :meth:`tensorbridge.Dataset.from_files`."""
    files = [fspath(p, "from_files") for p in paths]
    if not files:
        raise InvalidValueError("from_files: no files given; pass a list of image paths")
    y = None if labels is None else np.asarray(labels)
    storage, extra = _storage(storage_options, files[0])
    recipe = (("from_files", (files,), {"labels": y, "mode": mode, "max_pixels": max_pixels, "on_error": on_error,
                                        "dct_scaling": dct_scaling, "progress": False, **extra}),)
    return _make(files, y, mode=mode, max_pixels=max_pixels, dct_scaling=dct_scaling, on_error=on_error,
                 progress=progress, recipe=recipe, classes=None, storage=storage, where="from_files")


def from_image_folder(root: str | os.PathLike[str], *, extensions: Sequence[str] = IMAGE_EXTENSIONS,
                      on_error: str = "raise", mode: str = "RGB", max_pixels: int = DEFAULT_MAX_PIXELS,
                      dct_scaling: bool = False, progress: bool | None = None,
                      storage_options: Mapping[str, Any] | None = None) -> ImageSource:
    """The source of :meth:`tensorbridge.Dataset.from_image_folder`."""
    top = fspath(root, "from_image_folder")
    storage, extra = _storage(storage_options, top)
    endings = [e.lower() if e.startswith(".") else "." + e.lower() for e in extensions]
    classes, paths, labels = _ext.list_image_folder(top, endings, storage)
    recipe = (("from_image_folder", (top,), {"extensions": tuple(extensions), "on_error": on_error, "mode": mode,
                                             "max_pixels": max_pixels, "dct_scaling": dct_scaling,
                                             "progress": False, **extra}),)
    return _make(list(paths), np.asarray(labels, dtype=np.int64), mode=mode, max_pixels=max_pixels,
                 dct_scaling=dct_scaling, on_error=on_error, progress=progress, recipe=recipe, classes=list(classes),
                 storage=storage, where="from_image_folder")
