"""The Motorchart desktop application: store, reports, command line and Qt user interface."""

from domain import __version__

APP_NAME = "Motorchart"
__all__ = ["APP_NAME", "__version__"]
