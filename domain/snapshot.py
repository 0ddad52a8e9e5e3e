"""A signed visit's frozen classification, read back for display (issue 13).

Signing stores the visit's ``motorchart-classification/1`` visit object. The window and the
reports draw a :class:`~domain.classify.VisitClassification`; this module rebuilds one from that
object and the signed visit's findings, so a signed visit is shown exactly as it was signed,
through the same drawing code as a draft, whatever today's options or earlier visits say.
Region-level explanation lines are not part of the stored object: the criteria's reasons carry
the explanation (clinical-rules 9).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .case import Visit
from .catalogue import REGIONS, Catalogue
from .classify import VisitClassification
from .criteria import REGISTRY, CriterionResult, Reason, Ref
from .evidence import MuscleState, RegionEvidence, VisitEvidence
from .phenotype import Phenotype

_RESULT_KEYS = {"category", "pending", "met", "clause", "reasons", "reason_refs"}


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _reasons(texts: list[str], refs: list[list[dict]] | None = None) -> tuple[Reason, ...]:
    refs = refs or [[] for _ in texts]
    return tuple(
        Reason(t, tuple(Ref(r["kind"], r["id"], r["side"]) for r in rs)) for t, rs in zip(texts, refs)
    )


def _criterion(cid: str, d: dict[str, Any]) -> CriterionResult:
    reasons = _reasons(d.get("reasons") or [], d.get("reason_refs"))
    if "category" in d:
        return CriterionResult(id=cid, category=d["category"], pending=tuple(d.get("pending") or ()),
                               clause=d.get("clause", ""), reasons=reasons)
    conditions = {k: bool(v) for k, v in d.items() if k not in _RESULT_KEYS}
    return CriterionResult(id=cid, met=bool(d.get("met")), conditions=conditions,
                           clause=d.get("clause", ""), reasons=reasons)


def _region(name: str, d: dict[str, Any]) -> RegionEvidence:
    umn = dict(d.get("umn_by_criterion") or {c: d.get("umn", False) for c in REGISTRY})
    lmn_emg = dict(d.get("lmn_emg") or {})
    for c in REGISTRY:  # a framework added since signing: not part of the signed result
        umn.setdefault(c, False)
        lmn_emg.setdefault(c, False)
    empty = {c: () for c in REGISTRY}
    return RegionEvidence(
        region=name, examined=bool(d.get("examined")), umn=umn, umn_reasons=dict(empty),
        lmn_clinical=bool(d.get("lmn_clinical")),
        lmn_clinical_gold_coast=bool(d.get("lmn_clinical_gold_coast")),
        lmn_clinical_reasons=(), lmn_clinical_gold_coast_reasons=(), lmn_emg=lmn_emg,
        emg_reasons=dict(empty), emg_notes=dict(empty), notes=(),
    )


def _muscles(items: list[dict[str, Any]], visit: Visit, catalogue: Catalogue) -> tuple[MuscleState, ...]:
    findings = {(f.muscle, f.side): f for f in visit.muscles}
    out = []
    for m in items:
        key = (m["muscle"], m["side"])
        f = findings.get(key)
        muscle = catalogue.muscle.get(m["muscle"])
        if f is None or muscle is None:  # not in this visit's findings: nothing to draw it on
            continue
        side = m["side"]
        out.append(MuscleState(
            finding=f, muscle=muscle, region=m.get("region", muscle.region),
            examined=bool(m.get("examined")), ignored=bool(m.get("other_cause")),
            weak=bool(m.get("weak")), wasted=bool(m.get("wasted")),
            lmn_clinical=bool(m.get("lmn_clinical")),
            lmn_clinical_gold_coast=bool(m.get("lmn_clinical_gold_coast")),
            lmn_emg={c: bool((m.get("lmn_emg") or {}).get(c, False)) for c in REGISTRY},
            umn=bool(m.get("umn")), umn_reason=m.get("umn_reason"), key=key,
            ref=Ref("muscle", m["muscle"], side),
            label=muscle.name + (" L" if side == "left" else " R" if side == "right" else ""),
        ))
    return tuple(out)


def visit_classification_from_json(d: dict[str, Any], visit: Visit, catalogue: Catalogue) -> VisitClassification:
    """The classification of ``visit`` as stored in ``d`` (a ``motorchart-classification/1``
    visit object, e.g. a signature's snapshot)."""
    regions = {r: _region(r, (d.get("regions") or {}).get(r) or {}) for r in REGIONS}
    evidence = VisitEvidence(muscles=_muscles(d.get("muscles") or [], visit, catalogue),
                             regions=regions, ignored=())
    criteria = {cid: _criterion(cid, res) for cid, res in (d.get("criteria") or {}).items()}
    prog = d.get("progression") or {}
    st = d.get("staging") or {}
    ph = d.get("phenotype") or {}
    sp = d.get("spread") or {}
    return VisitClassification(
        date=_date(d["date"]),
        evidence=evidence,
        criteria=criteria,
        progressive_by_history=prog.get("progressive_by_history"),
        alternatives_excluded=bool(prog.get("alternatives_excluded")),
        progression=bool(prog.get("confirmed")),
        progression_reasons=_reasons(prog.get("reasons") or []),
        alsfrs_r=d.get("alsfrs_r"),
        delta_fs=d.get("delta_fs"),
        alsfrs_r_slope=d.get("alsfrs_r_slope"),
        kings_alsfrs=st.get("kings_alsfrs"),
        kings_clinical=st.get("kings_clinical"),
        kings_regions=tuple(st.get("kings_regions") or ()),
        mitos=st.get("mitos"),
        mrc_sum=d.get("mrc_sum"),
        umn_score=d.get("umn_score"),
        phenotype=Phenotype(ph.get("onset"), ph.get("label", "undetermined"), bool(ph.get("provisional")),
                            _date(ph.get("final_after")), ph.get("reason", "")),
        regions_involved=tuple(sp.get("regions_involved") or ()),
        new_regions=tuple(sp.get("new_regions") or ()),
        flags_recorded={k: _date(v) for k, v in (prog.get("recorded") or {}).items()} or None,
        warnings=tuple(d.get("warnings") or ()),
    )
