"""Remote paths (``s3://bucket/key``, ``https://...``) on the command line: a ``str`` that answers
the few ``pathlib.Path`` questions the commands ask. Credentials come from the environment and the
AWS files, as for every other AWS tool."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import Any

import tensorbridge as tb


class RemotePath(str):
    """An ``s3://`` or ``http(s)://`` path (kept as given: ``Path`` would fold ``//``)."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return posixpath.basename(self.split("?", 1)[0])

    @property
    def suffixes(self) -> list[str]:
        return Path(self.name).suffixes

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    @property
    def parent(self) -> RemotePath:
        return RemotePath(self.rsplit("/", 1)[0] + "/")  # a prefix: is_dir()

    def with_suffix(self, suffix: str) -> RemotePath:
        return RemotePath(self[: len(self) - len(self.suffix)] + suffix)

    def exists(self) -> bool:
        return True  # asked of the server when read: a missing object is NotFoundError then

    def is_file(self) -> bool:
        return True

    def is_dir(self) -> bool:
        return not self.name  # a bucket or a prefix ending in '/'

    def resolve(self) -> RemotePath:
        return self

    def stat(self) -> Any:
        return os.stat_result((0, 0, 0, 0, 0, 0, tb._ext.object_size(self, tb.storage_options_of(None, str(self))),
                               0, 0, 0))


def path_arg(text: str) -> Path | RemotePath:
    """A command-line path: ``RemotePath`` for ``s3://`` and ``http(s)://``, else ``Path``."""
    return RemotePath(text) if tb._ext.is_remote_path(text) else Path(text)


def read_head(path: Path | RemotePath, n: int) -> bytes:
    """The first ``n`` bytes of a local or remote file."""
    if isinstance(path, RemotePath):
        return tb._ext.read_object_head(path, n, tb.storage_options_of(None, str(path)))
    with open(path, "rb") as f:
        return f.read(n)
