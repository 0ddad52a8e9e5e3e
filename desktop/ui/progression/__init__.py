"""Progression views: the patient overview (plots, region-by-visit matrix, MRC heatmap,
criteria and phenotype summary), the body map and the visit comparison."""

from .overview import ProgressionView

__all__ = ["ProgressionView"]
