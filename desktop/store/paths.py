"""Where the chart file lives: ``--db``, then ``MOTORCHART_DB``, then the user data folder."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "MOTORCHART_DB"
APP_NAME = "motorchart"
CHART_NAME = "chart.sqlite"


def chart_path(cli_db: str | None = None) -> Path:
    """The chart file to use (it may not exist yet)."""
    if cli_db:
        return Path(cli_db).expanduser()
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return data_folder() / CHART_NAME


def data_folder() -> Path:
    """Motorchart's user data folder (the default chart, the demo clinic): kept 0700
    (:mod:`desktop.store.private`)."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def backups_dir(chart: Path | str) -> Path:
    """Rotating backups sit beside the chart: ``<chart dir>/<chart stem>-backups/``."""
    chart = Path(chart)
    return chart.parent / f"{chart.stem}-backups"


def lock_path(chart: Path | str) -> Path:
    chart = Path(chart)
    return chart.with_name(chart.name + ".lock")
