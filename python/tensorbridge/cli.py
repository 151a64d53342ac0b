"""The ``tensorbridge`` command line (also ``python -m tensorbridge``).

Subcommands, one module each in :mod:`tensorbridge._cli`:

- ``demo``: the main job (``make demo``): read CSV and ``.npy``, convert between frameworks,
  train in PyTorch/TensorFlow/JAX from one pipeline, compare throughput.
- ``inspect``: shape, dtype, statistics and per-framework conversion cost of ``.npy``/``.npz``/CSV files.
- ``convert``: CSV <-> ``.npy`` <-> ``.npz``, with an optional dtype, casting rule and check.
- ``bench``: runs ``bench/`` and writes a Markdown report with plots.

Exit status: 0 on success, 1 when the work failed, 2 for bad arguments. A failure prints one line to
stderr (what failed, where, and what to do), never a traceback; ``TB_TRACEBACK=1`` shows the
traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    from ._cli import bench, convert, demo, inspect
    from ._cli.help import PlainHelpFormatter

    parser = argparse.ArgumentParser(
        prog="tensorbridge",
        description="Move arrays between NumPy, PyTorch, TensorFlow and JAX; inspect, convert and benchmark data files.",
        formatter_class=PlainHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"tensorbridge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in (demo, inspect, convert, bench):
        module.add_parser(sub)
    for p in sub.choices.values():
        p.formatter_class = PlainHelpFormatter
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from .errors import UsageError
    from ._cli.frameworks import MissingFramework
    from ._cli.messages import one_line
    from .errors import TensorbridgeError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError:
        # The reader of the output went away (tensorbridge inspect ... | head): stop quietly, as cat
        # does, and keep Python from reporting the failed flush of stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (UsageError, MissingFramework, TensorbridgeError, OSError) as e:
        print(f"tensorbridge {args.command}: error: {one_line(e)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"tensorbridge {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if os.environ.get("TB_TRACEBACK", "") not in ("", "0"):
            raise
        print(f"tensorbridge {args.command}: error: unexpected {type(e).__name__}: {one_line(e)} (a bug in "
              "tensorbridge: please report it with this line; TB_TRACEBACK=1 shows where it happened)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
