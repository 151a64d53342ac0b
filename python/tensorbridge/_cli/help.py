"""``--help`` as plain text: the subcommands' descriptions are their module docstrings, written in
reStructuredText for the API docs, and a terminal should not show the markup."""

from __future__ import annotations

import argparse
import re

# :func:`name`, :mod:`~pkg.mod` ... -> name; ``code`` and `text` -> code, text.
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`]+)`")
_LITERAL = re.compile(r"``([^`]+)``")
_INTERPRETED = re.compile(r"`([^`]+)`")


def plain(text: str) -> str:
    """``text`` without reStructuredText roles and backquotes.

    Example:
        >>> plain("Reads ``.npy`` files (see :func:`tensorbridge.load`).")
        'Reads .npy files (see tensorbridge.load).'
    """
    return _INTERPRETED.sub(r"\1", _LITERAL.sub(r"\1", _ROLE.sub(r"\1", text)))


class PlainHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps a description's own line breaks (its bullet lists) and strips its markup and that of
    every argument's help."""

    def _format_text(self, text: str) -> str:
        return super()._format_text(plain(text))

    def _expand_help(self, action: argparse.Action) -> str:
        return plain(super()._expand_help(action))
