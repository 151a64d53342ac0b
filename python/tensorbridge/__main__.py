"""``python -m tensorbridge``: the command line (see :mod:`tensorbridge.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
