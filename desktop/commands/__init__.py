"""Subcommands of the `motorchart` command, one module per part of the app (store, reports, ui,
installer); each registers itself with :func:`desktop.cli.command` on import."""
