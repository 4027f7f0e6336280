"""The ``aredis-ckpt`` command line: demo, threads, show, stats, export, import, prune,
delete, migrate.  ``docs/cli.md`` documents every command; ``COMMAND_MODULES`` in
``_app.py`` is the registry a new command is added to.
"""

from aredis_ckpt.cli._app import build_parser, commands, main, run

__all__ = ["build_parser", "commands", "main", "run"]
