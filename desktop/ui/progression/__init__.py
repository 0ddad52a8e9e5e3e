"""Progression views: the patient overview (plots, region-by-visit matrix, MRC heatmap,
criteria and phenotype summary), the body map with a visit slider and the visit comparison."""

from ._refcount_guard import install as _install_refcount_guard

_install_refcount_guard()  # PySide6 6.12.0 on Python 3.11: see _refcount_guard

from .bodymap_view import BodyMapView  # noqa: E402
from .compare_view import CompareView  # noqa: E402
from .overview import OverviewView, ProgressionView  # noqa: E402
from .screens import grab_progression_screens  # noqa: E402

__all__ = ["ProgressionView", "OverviewView", "BodyMapView", "CompareView", "grab_progression_screens"]
