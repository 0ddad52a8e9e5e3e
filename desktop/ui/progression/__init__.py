"""Progression views: the patient overview (plots, region-by-visit matrix, MRC heatmap,
criteria and phenotype summary), the body map with a visit slider and the visit comparison."""

from .bodymap_view import BodyMapView
from .compare_view import CompareView
from .overview import OverviewView, ProgressionView
from .screens import grab_progression_screens

__all__ = ["ProgressionView", "OverviewView", "BodyMapView", "CompareView", "grab_progression_screens"]
