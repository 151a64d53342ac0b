"""The subcommands of the ``tensorbridge`` command line, one module each (see :mod:`tensorbridge.cli`)."""
