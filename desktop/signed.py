"""What the clinician is shown of a visit: for a signed visit, the conclusion as signed, and a
"Recomputed" line when today's computation differs (issue 13). Qt-free: the window and the
reports both call it, so they always agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from domain.case import Case
    from domain.classify import CaseClassification, VisitClassification

    from desktop.store.chart import ChartStore
    from desktop.store.rows import SignedVersion


@dataclass(frozen=True)
class ShownVisit:
    """A visit's classification as the reader sees it.

    ``classification``: the signed one for a signed visit, else today's; ``today``: today's
    computation; ``signature``: None for a draft (or an open amendment); ``options``: the
    criteria options of the shown result; ``recomputed``: lines beginning "Recomputed"."""

    classification: VisitClassification
    today: VisitClassification
    signature: SignedVersion | None
    options: dict[str, Any]
    recomputed: tuple[str, ...] = ()

    @property
    def signed(self) -> bool:
        return self.signature is not None


def shown_visit(store: ChartStore, case: Case, today: VisitClassification, today_options) -> ShownVisit:
    """The shown classification of the visit of ``today.date``; ``case`` holds the visits it
    was computed from (the earlier ones and this one, as the window or report has them)."""
    from domain import __version__
    from domain.criteria import REGISTRY
    from domain.signature import recomputed_lines
    from domain.snapshot import visit_classification_from_json

    from desktop.present.words import option_label, option_value
    from desktop.resources import catalogue_version

    options = today_options.model_dump(mode="json")
    date = today.date
    status = store.visit_status(case.patient.id, date)
    sig = store.signature(case.patient.id, date) if status in ("signed", "amended") else None
    if sig is None:
        return ShownVisit(today, today, None, options)
    visit = next(v for v in case.visits if v.date == date)
    signed = visit_classification_from_json(sig.classification, visit, store.catalogue)
    lines = recomputed_lines(
        signed_classification=sig.classification, signed_options=sig.options, context=sig.context,
        program_version=sig.program_version, catalogue_version=sig.catalogue_version,
        today_classification=today.as_json(), today_options=options, patient=case.patient,
        earlier=[v for v in case.visits if v.date < date], today_program=__version__,
        today_catalogue=catalogue_version(), labels={c: r.label for c, r in REGISTRY.items()},
        option_words=lambda name, value: (option_label(name), option_value(name, value)),
    )
    return ShownVisit(signed, today, sig, sig.options, tuple(lines))


def shown_case(store: ChartStore, case: Case, classification: CaseClassification,
               options) -> tuple[CaseClassification, dict]:
    """The patient's classification as the reader sees it: each signed visit as signed (the
    highest-ever summary recomputed over those), with a :class:`ShownVisit` per date."""
    import dataclasses

    from domain.case import Case as CaseModel
    from domain.classify import highest_reached

    shown: dict = {}
    visits = []
    for vc in classification.visits:
        upto = CaseModel(format=case.format, patient=case.patient,
                         visits=tuple(v for v in case.visits if v.date <= vc.date))
        sv = shown_visit(store, upto, vc, options)
        shown[vc.date] = sv
        visits.append(sv.classification)
    return dataclasses.replace(classification, visits=tuple(visits), highest=highest_reached(visits)), shown
