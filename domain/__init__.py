"""Motorchart's pure domain: the case model, the catalogue, the classifier, criteria, staging
and scores. Imports only the standard library and pydantic: no I/O, no clock, no Qt."""

__version__ = "0.1.0"
