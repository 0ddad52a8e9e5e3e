"""A patient's chart as one FHIR R4B ``transaction`` Bundle for the hospital record (issue 19).

What goes in (the terms are :mod:`.fhir_terms`):

- **Patient**: the MRN as an identifier under the clinic's MRN system (setting
  ``fhir_mrn_system``, default ``urn:motorchart:mrn``), names, birth date, gender and the death
  date as ``deceasedDateTime``.
- **Condition**: from the latest exported visit's phenotype (ALS labels: SNOMED CT 86044005 and
  ICD-10-CM G12.21; PLS G12.23; PMA G12.25; progressive bulbar palsy G12.22; ``umn_only`` and
  ``undetermined`` G12.20), ``provisional`` when the label is (and for ``undetermined``), else
  ``confirmed``; onset date, onset region as ``bodySite``, diagnosis date as the core
  ``condition-assertedDate`` extension, the highest El Escorial, Awaji and Gold Coast result as
  ``stage``.
- **Procedure** per milestone (gastrostomy, NIV, tracheostomy): ``completed`` on its date,
  ``not-done`` when its note records a refusal, the note as ``note``.
- per visit: an **Encounter** (``finished``, class AMB); the ALSFRS-R as a
  **QuestionnaireResponse** to the project's Questionnaire (included once) and an
  **Observation** of the total with the four subscores as components; **Observations** for FVC %
  predicted, weight, each muscle's examination (MRC grade; wasting, fasciculations, another cause
  as components) and needle EMG, each reflex, each UMN sign, progression by history, other causes
  excluded, the visit note, King's (clinical and from the ALSFRS-R) and MiToS; and for a signed
  visit a **DocumentReference** with the visit report PDF and the signature record.

Signed visits are ``final`` (``amended`` after an amendment); drafts are left out unless
``include_drafts``, and then ``preliminary``. The stages of a signed visit are those signed.

**Identifiers and requests.** Every entry is a conditional update (``PUT
Type?identifier=system|value``) on an identifier that never changes between exports: the MRN
for the Patient, the visit's random UUID (kept by the chart through amendments, a corrected MRN
and a re-dated draft) for the Encounter, and for everything else a name-based UUID (version 5)
derived from the visit's UUID (or, for patient-level resources, from the MRN) and a key naming
the resource (``muscle-examination/biceps/right``). Sending the same export twice therefore
matches every resource and creates nothing; sending it after an amendment updates the visit's
resources in place (conditional create, ``ifNoneExist``, would leave the server's copy stale).
The same UUID is the entry's ``fullUrl`` (``urn:uuid:``), so references resolve inside the
bundle and the file is the same at every export but for the report PDFs.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.parse
import uuid as uuidlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import fhir_terms as T

if TYPE_CHECKING:  # pragma: no cover
    from domain.case import Case, Visit

    from desktop.store.chart import ChartStore


class FhirExportError(ValueError):
    """The bundle cannot be written: ``problems`` says what is wrong, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class ExportedBundle:
    """A validated bundle, its JSON text and what it holds."""

    bundle: dict[str, Any]
    text: str
    visits: int
    drafts: int
    reports: int

    @property
    def entries(self) -> int:
        return len(self.bundle["entry"])


def mrn_system_of(store: ChartStore) -> str:
    """The chart's MRN system URI (setting ``fhir_mrn_system``), else the default."""
    return str(store.setting(T.MRN_SYSTEM_SETTING) or "").strip() or T.DEFAULT_MRN_SYSTEM


def export_fhir(store: ChartStore, patient_id: str, *, include_drafts: bool = False, reports: bool = True,
                mrn_system: str | None = None, printed_at: dt.datetime | None = None,
                models: bool = True) -> ExportedBundle:
    """Build, validate (:func:`desktop.interop.fhir_validate.validate_bundle`) and serialise the
    patient's bundle. ``reports``: embed each signed visit's report PDF (the slow part, about
    0.1 s a visit). ``models``: validate with the fhir.resources R4B models too (about 0.5 ms
    an entry; the checks they do not make always run). Raises StoreError for an unknown
    patient and :class:`FhirExportError` when the bundle does not validate (nothing should be
    written then)."""
    from .fhir_validate import validate_bundle

    bundle, counts = build_bundle(store, patient_id, include_drafts=include_drafts, reports=reports,
                                  mrn_system=mrn_system, printed_at=printed_at)
    problems = validate_bundle(bundle, models=models)
    if problems:
        raise FhirExportError([f"patient {patient_id}: the FHIR bundle is not valid, so it was not "
                               f"written: {problems[0]}", *problems[1:]])
    text = json.dumps(bundle, ensure_ascii=False, separators=(",", ":")) + "\n"
    return ExportedBundle(bundle, text, *counts)


def build_bundle(store: ChartStore, patient_id: str, *, include_drafts: bool = False, reports: bool = True,
                 mrn_system: str | None = None,
                 printed_at: dt.datetime | None = None) -> tuple[dict[str, Any], tuple[int, int, int]]:
    """The bundle (not validated) and (visits, drafts, report PDFs) it holds."""
    from domain.case import Case
    from domain.classify import classify_case

    from desktop.signed import shown_case

    record = store.export_case(patient_id)
    visits = [v for v in record.visits if v.signature is not None or include_drafts]
    plain = Case(format=record.format, patient=record.patient,
                 visits=tuple(v.model_copy(update={"marks": None, "signature": None}) for v in visits))
    options = store.criteria_options()
    shown, _ = shown_case(store, plain, classify_case(plain, store.catalogue, options), options)
    classification = shown.as_json()
    system = (mrn_system or mrn_system_of(store)).strip()
    b = _Bundle(store=store, case=record, system=system)
    uuids = store.visit_uuids(patient_id)
    b.patient()
    b.condition(classification)
    b.procedures()
    if any(v.alsfrs_r is not None for v in visits):
        b.questionnaire()
    printed_at = printed_at or dt.datetime.now().astimezone().replace(microsecond=0)
    n_reports = 0
    for v, vc in zip(visits, classification["visits"]):
        u = uuids.get(v.date) or str(T.derived_uuid(b.patient_uuid, f"visit/{v.date.isoformat()}"))
        pdf = None
        if reports and v.signature is not None and store.visit_status(patient_id, v.date) in ("signed", "amended"):
            pdf = _report_pdf(store, patient_id, v.date, printed_at)
            n_reports += 1
        b.visit(v, u, vc, pdf)
    bundle = {
        "resourceType": "Bundle",
        "meta": {"tag": [{"system": T.cs("bundle"), "code": "motorchart-export",
                          "display": "Written by Motorchart"}]},
        "type": "transaction",
        "timestamp": printed_at.isoformat(),
        "entry": b.entries,
    }
    drafts = sum(v.signature is None for v in visits)
    return bundle, (len(visits), drafts, n_reports)


def _report_pdf(store: ChartStore, patient_id: str, date: dt.date, printed_at: dt.datetime) -> bytes:
    from desktop.reports.from_chart import report_from_chart

    size = str(store.setting("page_size") or "a4").lower()
    return report_from_chart(store, patient_id, visit_date=date, page_size=size if size in ("a4", "letter") else "a4",
                             printed_at=printed_at)


# ------------------------------------------------------------------------------ building


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _cc(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"coding": [_coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def _obs_code(code: str) -> dict[str, Any]:
    return _cc(T.OBS, code, T.OBS_DISPLAY[code])


def _category(code: str) -> list[dict[str, Any]]:
    return [_cc(T.OBS_CATEGORY, code)]


def _site(system: str, code: str, display: str, side: str | None) -> dict[str, Any]:
    site: dict[str, Any] = {"coding": [_coding(system, code, display)]}
    if side is not None:
        lat_code, lat_display = T.LATERALITY[side]
        site["extension"] = [{"url": T.LATERALITY_EXT, "valueCodeableConcept": _cc(T.SNOMED, lat_code, lat_display)}]
        site["text"] = f"{display}, {side}"
    else:
        site["text"] = display
    return site


def _component(code: str, value_key: str, value: Any) -> dict[str, Any]:
    return {"code": _obs_code(code), value_key: value}


def _quantity(value: float | int, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": T.UCUM, "code": code}


def _escape_token(text: str) -> str:
    """FHIR search escaping of a token part (``\\``, ``|``, ``,``, ``$``)."""
    if not any(ch in text for ch in "\\|,$"):
        return text
    for ch in ("\\", "|", ",", "$"):
        text = text.replace(ch, "\\" + ch)
    return text


def conditional_url(resource_type: str, identifier: dict[str, str]) -> str:
    """``Type?identifier=system|value``, the token escaped and percent-encoded."""
    token = f"{_escape_token(identifier['system'])}|{_escape_token(identifier['value'])}"
    return f"{resource_type}?identifier={urllib.parse.quote(token, safe=':/|')}"


class _Bundle:
    def __init__(self, *, store: ChartStore, case: Case, system: str):
        self.store = store
        self.case = case
        self.p = case.patient
        self.system = system
        self.patient_uuid = T.patient_uuid(system, self.p.id)
        self.patient_ref = {"reference": f"urn:uuid:{self.patient_uuid}"}
        self.entries: list[dict[str, Any]] = []

    def add(self, resource: dict[str, Any], u: uuidlib.UUID | str, identifier: dict[str, str]) -> dict[str, str]:
        resource.setdefault("identifier", [identifier])
        self.entries.append({
            "fullUrl": f"urn:uuid:{u}",
            "resource": resource,
            "request": {"method": "PUT", "url": conditional_url(resource["resourceType"], identifier)},
        })
        return {"reference": f"urn:uuid:{u}"}

    # -------------------------------------------------------------- patient level
    def patient(self) -> None:
        p = self.p
        r: dict[str, Any] = {"resourceType": "Patient"}
        ident = {"system": self.system, "value": p.id}
        r["identifier"] = [{"use": "usual", "type": _cc("http://terminology.hl7.org/CodeSystem/v2-0203", "MR",
                                                        "Medical record number"), **ident}]
        name: dict[str, Any] = {}
        if p.family_name:  # (FHIR has no empty strings: an empty text is left out)
            name["family"] = p.family_name
        if p.given_names:
            parts = p.given_names.split(" ")
            name["given"] = parts if all(parts) else [p.given_names]
        if name:
            r["name"] = [{"use": "official", **name}]
        if p.sex is not None:
            r["gender"] = p.sex
        if p.birth_date is not None:
            r["birthDate"] = p.birth_date.isoformat()
        if p.death_date is not None:
            r["deceasedDateTime"] = p.death_date.isoformat()
        if p.death_note:
            r["extension"] = [{"url": T.DEATH_NOTE_EXT, "valueString": p.death_note}]
        self.add(r, self.patient_uuid, ident)

    def condition(self, classification: dict[str, Any]) -> None:
        from domain.criteria import CATEGORY_LABELS, REGISTRY
        from domain.phenotype import PHENOTYPE_NAMES

        p = self.p
        visits = classification["visits"]
        ph = visits[-1]["phenotype"] if visits else {"label": "undetermined", "provisional": True}
        label = ph["label"]
        provisional = bool(ph.get("provisional")) or label == "undetermined"
        icd, icd_display = T.ICD10[label]
        coding = []
        if label in T.ALS_LABELS:
            coding.append(_coding(T.SNOMED, *T.SNOMED_ALS))
        coding += [_coding(T.ICD10CM, icd, icd_display), _coding(T.PHENOTYPE, label, PHENOTYPE_NAMES[label])]
        r: dict[str, Any] = {
            "resourceType": "Condition",
            "clinicalStatus": _cc(T.CONDITION_CLINICAL, "active"),
            "verificationStatus": _cc(T.CONDITION_VERIFICATION, "provisional" if provisional else "confirmed"),
            "category": [_cc(T.CONDITION_CATEGORY, "problem-list-item")],
            "code": {"coding": coding, "text": f"{icd_display} ({PHENOTYPE_NAMES[label]} phenotype"
                                                 f"{', provisional' if provisional else ''})"},
            "subject": self.patient_ref,
        }
        if p.diagnosis_date is not None:
            r["extension"] = [{"url": T.ASSERTED_DATE_EXT, "valueDateTime": p.diagnosis_date.isoformat()}]
        if p.onset_region is not None or p.onset_side is not None:
            from desktop.present.words import ONSET_LABELS

            region = p.onset_region
            site = _site(T.ONSET_REGION, region or "not-recorded",
                         f"{ONSET_LABELS[region]} onset" if region else "onset region not recorded", p.onset_side)
            r["bodySite"] = [site]
        if p.onset_date is not None:
            r["onsetDateTime"] = p.onset_date.isoformat()
        stages = []
        for cid, best in (classification["summary"].get("highest") or {}).items():
            if not best or best.get("date") is None:
                continue
            name = REGISTRY[cid].label if cid in REGISTRY else cid
            if "category" in best:
                code, words = best["category"], CATEGORY_LABELS.get(best["category"], best["category"])
            else:
                code, words = ("met", "Met") if best.get("met") else ("not_met", "Not met")
            stages.append({
                "summary": _cc(T.CATEGORY, code, words, f"{name}: {words} (first {best['date']})"),
                "type": _cc(T.CRITERIA, cid, name),
            })
        if stages:
            r["stage"] = stages
        self.add(r, T.derived_uuid(self.patient_uuid, "condition"),
                 T.uuid_identifier(T.derived_uuid(self.patient_uuid, "condition")))

    def procedures(self) -> None:
        from domain.classify import _refused

        for date_field, note_field, code, display in T.MILESTONES:
            date, note = getattr(self.p, date_field), getattr(self.p, note_field) or None
            if date is None and note is None:
                continue
            refused = _refused(note)
            status = "not-done" if refused else "completed" if date is not None else "unknown"
            r: dict[str, Any] = {"resourceType": "Procedure", "status": status,
                                 "code": _cc(T.MILESTONE, code, display), "subject": self.patient_ref}
            if refused:
                r["statusReason"] = {"text": note}
            if date is not None:
                r["performedDateTime"] = date.isoformat()
            if note is not None:
                r["note"] = [{"text": note}]
            u = T.derived_uuid(self.patient_uuid, f"procedure/{code}")
            self.add(r, u, T.uuid_identifier(u))

    def questionnaire(self) -> None:
        from desktop.present.alsfrs import CUTTING_5B, ITEM_LABELS

        items = []
        for item, link in T.ALSFRS_LINK_IDS.items():
            text = ITEM_LABELS[item]
            if link == "5a":
                items.append({"linkId": "5a", "text": "5a Cutting food and handling utensils (without gastrostomy)",
                              "type": "integer"})
                items.append({"linkId": "5b", "text": f"{CUTTING_5B} (with gastrostomy)", "type": "integer"})
                continue
            items.append({"linkId": link, "text": text, "type": "integer", "required": True})
        r = {
            "resourceType": "Questionnaire",
            "url": T.ALSFRS_QUESTIONNAIRE,
            "version": T.ALSFRS_QUESTIONNAIRE_VERSION,
            "name": "ALSFRS_R",
            "title": "ALS Functional Rating Scale, revised (ALSFRS-R)",
            "status": "active",
            "subjectType": ["Patient"],
            "description": "The 12 items of the ALSFRS-R (Cedarbaum 1999), each scored 0-4; item 5 is "
                           "answered as 5a without a gastrostomy and as 5b with one. Motorchart's encoding.",
            "item": items,
        }
        u = T.derived_uuid(T.NAMESPACE, f"{T.ALSFRS_QUESTIONNAIRE}|{T.ALSFRS_QUESTIONNAIRE_VERSION}")
        self.entries.append({
            "fullUrl": f"urn:uuid:{u}",
            "resource": r,
            "request": {"method": "PUT", "url": "Questionnaire?url="
                        + urllib.parse.quote(T.ALSFRS_QUESTIONNAIRE, safe=":/")
                        + "&version=" + T.ALSFRS_QUESTIONNAIRE_VERSION},
        })

    # -------------------------------------------------------------- visits
    def visit(self, v: Visit, visit_uuid: str | uuidlib.UUID, vc: dict[str, Any], pdf: bytes | None) -> None:
        cat = self.store.catalogue
        visit_uuid = uuidlib.UUID(str(visit_uuid))  # parsed once: every derived identifier starts from it
        sig = v.signature
        status = "preliminary" if sig is None else "amended" if sig.version > 1 else "final"
        day = v.date.isoformat()
        enc: dict[str, Any] = {
            "resourceType": "Encounter",
            "identifier": [T.uuid_identifier(visit_uuid)],
            "status": "finished",
            "class": _coding(T.ACT_CODE, "AMB", "ambulatory"),
            "subject": self.patient_ref,
            "period": {"start": day, "end": day},
        }
        if v.marks is not None and not v.marks.empty:
            enc["extension"] = [{"url": T.MARKS_EXT,
                                 "valueString": json.dumps(v.marks.model_dump(mode="json", exclude_none=True),
                                                           ensure_ascii=False, separators=(",", ":"))}]
        enc_ref = self.add(enc, visit_uuid, T.uuid_identifier(visit_uuid))
        refs: list[dict[str, str]] = [enc_ref]

        def obs(key: str, resource: dict[str, Any]) -> dict[str, str]:
            u = T.derived_uuid(visit_uuid, key)
            r = {"resourceType": "Observation", "identifier": [T.uuid_identifier(u)], "status": status,
                 **resource, "subject": self.patient_ref, "encounter": enc_ref}
            r.setdefault("effectiveDateTime", day)
            ref = self.add(r, u, T.uuid_identifier(u))
            refs.append(ref)
            return ref

        if v.progressive_by_history is not None:
            obs(T.PROGRESSIVE, {"category": _category("exam"), "code": _obs_code(T.PROGRESSIVE),
                                "valueBoolean": v.progressive_by_history})
        if v.alternatives_excluded is not None:
            obs(T.ALTERNATIVES, {"category": _category("exam"), "code": _obs_code(T.ALTERNATIVES),
                                 "valueBoolean": v.alternatives_excluded})
        for m in v.muscles:
            muscle = cat.muscle[m.muscle]
            site = _site(T.MUSCLE, m.muscle, muscle.name, m.side)
            clinical = (m.mrc, m.wasting, m.fasciculations, m.other_cause_reason)
            if any(x is not None for x in clinical) or m.other_cause or m.emg is None:
                r: dict[str, Any] = {"category": _category("exam"), "code": _obs_code(T.MUSCLE_EXAM)}
                if m.mrc is not None:
                    r["valueCodeableConcept"] = _cc(T.MRC_GRADE, m.mrc, f"MRC {m.mrc}")
                r["bodySite"] = site
                comps = []
                if m.wasting is not None:
                    comps.append(_component("wasting", "valueCodeableConcept", _cc(T.WASTING, m.wasting, m.wasting)))
                if m.fasciculations is not None:
                    comps.append(_component("fasciculations", "valueBoolean", m.fasciculations))
                if m.other_cause:
                    comps.append(_component("other-cause", "valueBoolean", True))
                if m.other_cause_reason:
                    comps.append(_component("other-cause-reason", "valueString", m.other_cause_reason))
                if comps:
                    r["component"] = comps
                obs(f"{T.MUSCLE_EXAM}/{m.muscle}/{m.side}", r)
            if m.emg is not None:
                e = m.emg
                r = {"category": _category("procedure"), "code": _obs_code(T.NEEDLE_EMG),
                     "effectiveDateTime": (e.study_date or v.date).isoformat(), "bodySite": site}
                comps = []
                for field, code, kind in T.EMG_FIELDS:
                    value = getattr(e, field)
                    if value is None:
                        continue
                    if kind == "integer":
                        comps.append(_component(code, "valueInteger", value))
                    elif kind == "boolean":
                        comps.append(_component(code, "valueBoolean", value))
                    elif kind == "date":
                        comps.append(_component(code, "valueDateTime", value.isoformat()))
                    else:
                        comps.append(_component(code, "valueCodeableConcept", _cc(kind, value, value)))
                if comps:
                    r["component"] = comps
                obs(f"{T.NEEDLE_EMG}/{m.muscle}/{m.side}", r)
        for f in v.reflexes:
            reflex = cat.reflex[f.reflex]
            obs(f"{T.TENDON_REFLEX}/{f.reflex}/{f.side}", {
                "category": _category("exam"), "code": _obs_code(T.TENDON_REFLEX), "valueInteger": f.grade,
                "bodySite": _site(T.REFLEX, f.reflex, reflex.name, f.side),
                "component": [_component("reflex-spread", "valueBoolean", f.spread)]})
        for s in v.signs:
            sign = cat.sign[s.sign]
            obs(f"{T.UMN_SIGN}/{s.sign}/{s.side}", {
                "category": _category("exam"),
                "code": {"coding": [_coding(T.OBS, T.UMN_SIGN, T.OBS_DISPLAY[T.UMN_SIGN]),
                                    _coding(T.SIGN, s.sign, sign.name)], "text": sign.name},
                "valueBoolean": s.present,
                "bodySite": _site(T.REGION, sign.region, sign.region.capitalize(), s.side)})
        if v.alsfrs_r is not None:
            self._alsfrs(v, visit_uuid, enc_ref, status, obs, refs)
        if v.fvc_percent is not None:
            obs("fvc-percent", {"category": _category("procedure"),
                                "code": _cc(T.LOINC, T.FVC_LOINC, "FVC/FVC predicted",
                                            "Forced vital capacity, % predicted"),
                                "valueQuantity": _quantity(v.fvc_percent, "%", "%")})
        if v.weight_kg is not None:
            obs("body-weight", {"meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/bodyweight"]},
                                "category": _category("vital-signs"),
                                "code": _cc(T.LOINC, T.WEIGHT_LOINC, "Body weight", "Body weight"),
                                "valueQuantity": _quantity(v.weight_kg, "kg", "kg")})
        if v.notes:
            obs(T.VISIT_NOTE, {"category": _category("exam"), "code": _obs_code(T.VISIT_NOTE),
                               "valueString": v.notes})
        staging = vc.get("staging") or {}
        for key, system, value in ((T.KINGS_CLINICAL, T.KINGS, staging.get("kings_clinical")),
                                   (T.KINGS_ALSFRS, T.KINGS, staging.get("kings_alsfrs")),
                                   (T.MITOS_STAGE, T.MITOS, staging.get("mitos"))):
            if value is None:
                continue
            obs(key, {"category": _category("survey"), "code": _obs_code(key),
                      "valueCodeableConcept": _cc(system, str(value), f"Stage {value}")})
        if sig is not None:
            self._document(v, visit_uuid, enc_ref, pdf, refs)

    def _alsfrs(self, v: Visit, visit_uuid: str, enc_ref, status: str, obs, refs) -> None:
        from domain.case import ALSFRS_ITEMS

        frs = v.alsfrs_r
        items = []
        for item in ALSFRS_ITEMS:
            link = "5b" if item == "cutting_food" and frs.gastrostomy else T.ALSFRS_LINK_IDS[item]
            items.append({"linkId": link, "answer": [{"valueInteger": getattr(frs, item)}]})
        u = T.derived_uuid(visit_uuid, "alsfrs-r")
        qr_status = {"preliminary": "in-progress", "final": "completed", "amended": "amended"}[status]
        qr = {"resourceType": "QuestionnaireResponse", "identifier": T.uuid_identifier(u),
              "questionnaire": f"{T.ALSFRS_QUESTIONNAIRE}|{T.ALSFRS_QUESTIONNAIRE_VERSION}",
              "status": qr_status, "subject": self.patient_ref, "encounter": enc_ref,
              "authored": v.date.isoformat(), "item": items}
        qr_ref = self.add(qr, u, T.uuid_identifier(u))
        refs.append(qr_ref)
        obs(T.ALSFRS_TOTAL, {
            "category": _category("survey"), "code": _obs_code(T.ALSFRS_TOTAL),
            "valueQuantity": _quantity(frs.total, "{score}", "{score}"),
            "derivedFrom": [qr_ref],
            "component": [_component(code, "valueQuantity", _quantity(getattr(frs, attr), "{score}", "{score}"))
                          for attr, code in T.ALSFRS_SUBSCORES]})

    def _document(self, v: Visit, visit_uuid: str, enc_ref, pdf: bytes | None, refs) -> None:
        from domain.signature import canonical_json

        sig = v.signature
        day = v.date.isoformat()
        content = []
        if pdf is not None:
            content.append({"attachment": {"contentType": "application/pdf", "data": base64.b64encode(pdf).decode(),
                                           "title": f"Visit report {day} (version {sig.version})",
                                           "creation": _instant(sig.signed_at)}})
        record = canonical_json(sig.model_dump(mode="json"))
        content.append({"attachment": {"contentType": T.SIGNATURE_CONTENT_TYPE,
                                       "data": base64.b64encode(record.encode("utf-8")).decode(),
                                       "title": T.DOC_SIGNATURE_TITLE, "creation": _instant(sig.signed_at)}})
        u = T.derived_uuid(visit_uuid, "visit-report")
        r = {"resourceType": "DocumentReference", "identifier": [T.uuid_identifier(u)], "status": "current",
             "docStatus": "amended" if sig.version > 1 else "final",
             "type": _cc(T.LOINC, T.REPORT_LOINC, "Progress note", "Motorchart visit report"),
             "subject": self.patient_ref, "date": _instant(sig.signed_at),
             "authenticator": {"display": sig.signed_by},
             "description": (f"Visit of {day}, signed by {sig.signed_by}"
                             + (f", amended (version {sig.version}): {sig.amendment_reason}"
                                if sig.version > 1 and sig.amendment_reason else "")),
             "content": content,
             "context": {"encounter": [enc_ref], "related": refs[1:]}}
        self.add(r, u, T.uuid_identifier(u))


def _instant(text: str) -> str:
    """A signature time (``...T17:30:00.000000Z``) as a FHIR instant (milliseconds at most)."""
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
