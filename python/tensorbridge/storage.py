"""Object storage paths (``s3://bucket/key``, ``https://host/path``): ``storage_options`` as pandas
and s3fs take them, translated into the C++ options that do the work."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from . import _ext
from .errors import InvalidValueError

__all__ = ["StorageOptions", "is_remote_path", "list_objects", "storage_options_of"]

StorageOptions = _ext.StorageOptions

# storage_options name -> C++ field (pandas/s3fs names first, then tensorbridge's transfer settings).
_NAMES = {
    "key": "key", "secret": "secret", "token": "token", "endpoint_url": "endpoint_url", "region": "region",
    "region_name": "region", "anon": "anon", "profile": "profile", "addressing_style": "addressing_style",
    "part_size": "part_size", "concurrency": "concurrency", "multipart_threshold": "multipart_threshold",
    "max_retries": "max_retries", "retry_max_seconds": "retry_max_seconds",
    "retry_base_seconds": "retry_base_seconds", "connect_timeout": "connect_timeout_seconds",
    "low_speed_timeout": "low_speed_seconds", "cache_dir": "cache_dir",
}


def is_remote_path(path: Any) -> bool:
    """True for ``s3://``, ``http://`` and ``https://`` paths."""
    return isinstance(path, str) and _ext.is_remote_path(path)


def _botocore_credentials() -> tuple[str, str, str | None, str] | None:
    """Credentials botocore resolves (SSO, instance metadata, assumed roles...), if it is installed."""
    try:
        import botocore.session
    except ImportError:
        return None
    try:
        creds = botocore.session.get_session().get_credentials()
    except Exception:  # noqa: BLE001 (a broken profile, an unreachable metadata service: no credentials)
        return None
    if creds is None:
        return None
    frozen = creds.get_frozen_credentials()
    if not frozen.access_key or not frozen.secret_key:
        return None
    return frozen.access_key, frozen.secret_key, frozen.token, f"botocore ({getattr(creds, 'method', 'resolved')})"


def storage_options_of(options: Mapping[str, Any] | None, path: Any = None) -> _ext.StorageOptions:
    """``options`` (pandas/s3fs names: ``key``, ``secret``, ``token``, ``endpoint_url``, ``region``,
    ``anon``, ``profile``; s3fs's ``client_kwargs={"endpoint_url": ..., "region_name": ...}``; and
    ``part_size``, ``concurrency``, ``multipart_threshold``, ``max_retries``,
    ``retry_max_seconds``, ``retry_base_seconds``, ``connect_timeout``, ``low_speed_timeout``,
    ``addressing_style``, ``cache_dir``) as the C++ options struct. ``cache_dir`` keeps the objects
    read in a local folder for later reads (checked by ETag and size with a one-byte request;
    read unchecked when the server cannot be reached). For an ``s3://`` path without credentials in
    the options, the environment or the AWS files, botocore's resolved credentials are used when
    botocore is installed. The repr never shows the secret or the token.

    Example:
        >>> o = tb.storage_options_of({"key": "AK", "secret": "shh", "endpoint_url": "http://127.0.0.1:8333",
        ...                            "part_size": 16 << 20})
        >>> o.part_size, o.endpoint_url
        (16777216, 'http://127.0.0.1:8333')
        >>> o
        StorageOptions(key='AK', secret='***', token=None, endpoint_url=http://127.0.0.1:8333, region=None, anon=False)
    """
    o = _ext.StorageOptions()
    flat = dict(options or {})
    client = flat.pop("client_kwargs", None) or {}
    for name in ("endpoint_url", "region_name"):
        if name in client and name not in flat:
            flat[name] = client[name]
    for name, value in flat.items():
        field = _NAMES.get(name)
        if field is None:
            raise InvalidValueError(f"storage_options: unknown option {name!r}; known: {', '.join(sorted(_NAMES))}")
        if value is None:
            continue
        if field in ("part_size", "concurrency", "multipart_threshold", "max_retries"):
            value = int(value)
        elif field.endswith("seconds"):
            value = float(value)
        elif field == "anon":
            value = bool(value)
        else:
            value = os.fspath(value) if field == "cache_dir" else str(value)
        setattr(o, field, value)
    o.validate()
    remote_s3 = isinstance(path, str) and path.startswith("s3://")
    if remote_s3 and not o.anon and o.key is None and _ext.credentials_source(o) == "none":
        found = _botocore_credentials()
        if found is not None:
            o.key, o.secret, token, o.credentials_source = found
            if token:
                o.token = token
    return o


def with_cache_dir(storage_options: Mapping[str, Any] | None, cache_dir: Any) -> Mapping[str, Any] | None:
    """``storage_options`` with ``cache_dir`` added (the readers' ``cache_dir=`` keyword), unchanged
    when ``cache_dir`` is None."""
    if cache_dir is None:
        return storage_options
    return {**(storage_options or {}), "cache_dir": cache_dir}


def list_objects(prefix: str, storage_options: Mapping[str, Any] | None = None) -> list[tuple[str, int, str]]:
    """Every object under ``prefix`` (``s3://bucket/prefix``: all pages of ListObjectsV2; a local
    folder: its files, recursively) as ``(path, size, etag)`` sorted by path.

    Example:
        >>> import os, tempfile
        >>> tmp = tempfile.TemporaryDirectory()
        >>> with open(os.path.join(tmp.name, "a.txt"), "w") as f:
        ...     _ = f.write("hi")
        >>> [(os.path.basename(p), n) for p, n, _ in tb.list_objects(tmp.name)]
        [('a.txt', 2)]
        >>> tmp.cleanup()
    """
    return [tuple(x) for x in _ext.list_objects(prefix, storage_options_of(storage_options, prefix))]
