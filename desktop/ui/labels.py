"""Display names the window needs before the domain is imported (launch stays light)."""

from __future__ import annotations

REGION_LABELS = {"bulbar": "Bulbar", "cervical": "Cervical", "thoracic": "Thoracic",
                 "lumbosacral": "Lumbosacral"}
"""The four body regions of clinical-rules.md, in ``domain.catalogue.REGIONS`` order (a test
checks the two agree)."""
