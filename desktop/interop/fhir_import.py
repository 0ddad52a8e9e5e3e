"""Read back the FHIR R4B bundle Motorchart writes (:mod:`.fhir_export`) as a case (issue 19).

The import reads the resources themselves, not a copy of the case file: the Patient (MRN,
names, birth date, gender, death), the Condition (onset date, region and side, diagnosis date),
the milestone Procedures, each Encounter (a visit: its date, its UUID, its marks) with its
Observations (muscles, EMG, reflexes, signs, flags, FVC, weight, the note), its ALSFRS-R
QuestionnaireResponse and, for a signed visit, the signature record of its DocumentReference.
What the export derives (the ALSFRS-R total, King's, MiToS, the Condition's code and stage) is
recomputed by the chart, not read. A signed visit comes back signed once its hash matches the
visit rebuilt from the resources (the chart's import verifies it), so a lossy mapping is caught.

Bundles from other systems are refused with a message naming what is not supported (a resource
type, an Observation code, a Questionnaire), never half read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from . import fhir_terms as T

MAX_PROBLEMS = 20


class FhirImportError(ValueError):
    """The bundle cannot be imported: ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class FhirCase:
    """A case read from a bundle, and each visit's UUID (its Encounter identifier)."""

    case: Any  # domain.case.Case
    visit_uuids: dict[dt.date, str] = field(default_factory=dict)


def is_bundle(data: Any) -> bool:
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


def _codes(cc: Any) -> set[tuple[str, str]]:
    if not isinstance(cc, dict):
        return set()
    return {(c.get("system"), c.get("code")) for c in cc.get("coding") or [] if isinstance(c, dict)}


def _code_in(cc: Any, system: str) -> str | None:
    for s, c in _codes(cc):
        if s == system:
            return c
    return None


def _side(site: Any) -> str | None:
    if not isinstance(site, dict):
        return None
    for e in site.get("extension") or []:
        if isinstance(e, dict) and e.get("url") == T.LATERALITY_EXT:
            code = _code_in(e.get("valueCodeableConcept"), T.SNOMED)
            return T.SIDE_OF.get(code, code)
    return None


def _day(text: Any) -> str | None:
    """The date part of a FHIR date or dateTime."""
    return text[:10] if isinstance(text, str) else None


class _Reader:
    def __init__(self, bundle: dict[str, Any]):
        self.bundle = bundle
        self.problems: list[str] = []
        self.patient: dict[str, Any] = {}
        self.patients = 0
        self.visits: dict[str, dict[str, Any]] = {}  # Encounter fullUrl -> visit data
        self.uuids: dict[str, str] = {}  # visit date -> UUID
        self.muscles: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    # ---------------------------------------------------------------- the whole bundle
    def read(self) -> dict[str, Any]:
        b = self.bundle
        if b.get("type") != "transaction":
            self.fail("the bundle", f"type {b.get('type')!r} is not supported (Motorchart imports the "
                      "transaction bundles it writes)")
            return {}
        entries = b.get("entry")
        if not isinstance(entries, list) or not entries:
            self.fail("the bundle", "it has no entries")
            return {}
        ordered = []
        for i, e in enumerate(entries):
            res = e.get("resource") if isinstance(e, dict) else None
            rtype = res.get("resourceType") if isinstance(res, dict) else None
            where = f"entry[{i}]" + (f" ({rtype})" if rtype else "")
            if rtype not in T.RESOURCE_TYPES:
                self.fail(where, f"a {rtype or 'entry without a resource'} is not supported (Motorchart imports "
                          f"the bundles it writes: {', '.join(T.RESOURCE_TYPES)})")
                continue
            ordered.append((where, e.get("fullUrl"), rtype, res))
        # Encounters first: the other resources point at them
        for where, full_url, rtype, res in ordered:
            if rtype == "Encounter":
                self._guarded(where, self.on_encounter, where, full_url, res)
        for where, full_url, rtype, res in ordered:
            if rtype != "Encounter":
                self._guarded(where, getattr(self, f"on_{rtype.lower()}"), where, res)
            if len(self.problems) > MAX_PROBLEMS:
                break
        if self.patients != 1:
            self.fail("the bundle", f"holds {self.patients} Patient resources; Motorchart imports one patient "
                      "per bundle")
        visits = []
        for key, v in self.visits.items():
            muscles = self.muscles.get(key, {})
            if muscles:
                v["muscles"] = [{"muscle": m, "side": s, **vals} for (m, s), vals in muscles.items()]
            visits.append(v)
        return {"format": "motorchart-case/1", "patient": self.patient, "visits": visits}

    def _guarded(self, where: str, fn, *args) -> None:
        """Read one entry; an element of an unexpected shape (a string where Motorchart writes
        an object, say) is a problem line naming the entry, never a traceback."""
        try:
            fn(*args)
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as e:
            self.fail(where, f"not shaped as Motorchart writes it ({type(e).__name__}: {e})")

    # ---------------------------------------------------------------- patient level
    def on_patient(self, where: str, res: dict[str, Any]) -> None:
        self.patients += 1
        p = self.patient
        idents = [i for i in res.get("identifier") or [] if isinstance(i, dict) and i.get("value")]
        mr = [i for i in idents if ("http://terminology.hl7.org/CodeSystem/v2-0203", "MR") in _codes(i.get("type"))]
        if not (mr or idents):
            self.fail(where, "the Patient has no identifier (Motorchart needs the MRN)")
            return
        p["id"] = (mr or idents)[0]["value"]
        names = [n for n in res.get("name") or [] if isinstance(n, dict)]
        if names:
            n = names[0]
            if n.get("family") is not None:
                p["family_name"] = n["family"]
            if n.get("given"):
                p["given_names"] = " ".join(n["given"])
        if res.get("gender") is not None:
            p["sex"] = res["gender"]
        if res.get("birthDate") is not None:
            p["birth_date"] = res["birthDate"]
        if "deceasedBoolean" in res:
            self.fail(where, "deceasedBoolean is not supported (Motorchart records a death by its date: "
                      "deceasedDateTime)")
        if res.get("deceasedDateTime") is not None:
            p["death_date"] = _day(res["deceasedDateTime"])
        for e in res.get("extension") or []:
            if isinstance(e, dict) and e.get("url") == T.DEATH_NOTE_EXT:
                p["death_note"] = e.get("valueString")

    def on_condition(self, where: str, res: dict[str, Any]) -> None:
        p = self.patient
        if res.get("onsetDateTime") is not None:
            p["onset_date"] = _day(res["onsetDateTime"])
        sites = res.get("bodySite") or []
        if sites:
            region = _code_in(sites[0], T.ONSET_REGION)
            if region is None:
                self.fail(where, "the Condition's bodySite is not an onset region of "
                          f"{T.ONSET_REGION} (not supported)")
            elif region != "not-recorded":
                p["onset_region"] = region
            side = _side(sites[0])
            if side is not None:
                p["onset_side"] = side
        for e in res.get("extension") or []:
            if isinstance(e, dict) and e.get("url") == T.ASSERTED_DATE_EXT:
                p["diagnosis_date"] = _day(e.get("valueDateTime"))

    def on_procedure(self, where: str, res: dict[str, Any]) -> None:
        code = _code_in(res.get("code"), T.MILESTONE)
        fields = {c: (d, n) for d, n, c, _ in T.MILESTONES}
        if code not in fields:
            self.fail(where, f"the Procedure {sorted(_codes(res.get('code')))} is not a Motorchart milestone "
                      "(gastrostomy, NIV, tracheostomy): not supported")
            return
        date_field, note_field = fields[code]
        if res.get("performedDateTime") is not None:
            self.patient[date_field] = _day(res["performedDateTime"])
        notes = [n.get("text") for n in res.get("note") or [] if isinstance(n, dict)]
        if notes:
            self.patient[note_field] = notes[0]

    def on_questionnaire(self, where: str, res: dict[str, Any]) -> None:
        if res.get("url") != T.ALSFRS_QUESTIONNAIRE:
            self.fail(where, f"the Questionnaire {res.get('url')!r} is not supported (only Motorchart's "
                      "ALSFRS-R)")

    # ---------------------------------------------------------------- visits
    def on_encounter(self, where: str, full_url: Any, res: dict[str, Any]) -> None:
        day = _day((res.get("period") or {}).get("start"))
        if day is None:
            self.fail(where, "the Encounter has no period.start (the visit's date)")
            return
        visit: dict[str, Any] = {"date": day}
        for i in res.get("identifier") or []:
            if isinstance(i, dict) and i.get("system") == T.URI_IDENTIFIER and str(i.get("value", "")).startswith("urn:uuid:"):
                try:
                    self.uuids[day] = str(uuidlib.UUID(i["value"][9:]))
                except ValueError:
                    self.fail(where, f"the Encounter identifier {i['value']!r} is not a UUID")
        for e in res.get("extension") or []:
            if isinstance(e, dict) and e.get("url") == T.MARKS_EXT:
                try:
                    visit["marks"] = json.loads(e.get("valueString") or "")
                except ValueError:
                    self.fail(where, "the visit's marks are not JSON")
        if full_url in self.visits:
            self.fail(where, f"fullUrl {full_url} is used twice")
        self.visits[full_url] = visit

    def _visit_of(self, where: str, res: dict[str, Any], ref: Any = None) -> tuple[str, dict[str, Any]] | None:
        if ref is None:
            ref = res.get("encounter")
        key = ref.get("reference") if isinstance(ref, dict) else None
        if key not in self.visits:
            self.fail(where, f"refers to no Encounter of the bundle ({key!r})")
            return None
        return key, self.visits[key]

    def on_questionnaireresponse(self, where: str, res: dict[str, Any]) -> None:
        q = str(res.get("questionnaire") or "")
        if q.split("|")[0] != T.ALSFRS_QUESTIONNAIRE:
            self.fail(where, f"a QuestionnaireResponse to {q!r} is not supported (only Motorchart's ALSFRS-R)")
            return
        found = self._visit_of(where, res)
        if found is None:
            return
        frs: dict[str, Any] = {}
        for item in res.get("item") or []:
            link = item.get("linkId") if isinstance(item, dict) else None
            name = T.ITEM_OF_LINK.get(link)
            answers = item.get("answer") or [] if isinstance(item, dict) else []
            if name is None or len(answers) != 1 or "valueInteger" not in answers[0]:
                self.fail(where, f"item {link!r}: not an ALSFRS-R item with one integer answer")
                continue
            frs[name] = answers[0]["valueInteger"]
            if name == "cutting_food":
                frs["gastrostomy"] = link == "5b"
        found[1]["alsfrs_r"] = frs

    def on_documentreference(self, where: str, res: dict[str, Any]) -> None:
        encounters = (res.get("context") or {}).get("encounter") or []
        found = self._visit_of(where, res, encounters[0] if encounters else None)
        if found is None:
            return
        for c in res.get("content") or []:
            a = c.get("attachment") or {} if isinstance(c, dict) else {}
            if a.get("title") == T.DOC_SIGNATURE_TITLE and a.get("contentType") == T.SIGNATURE_CONTENT_TYPE:
                try:
                    found[1]["signature"] = json.loads(base64.b64decode(a.get("data") or "", validate=True))
                except (ValueError, binascii.Error):
                    self.fail(where, "the signature record is not base64-encoded JSON")

    def on_observation(self, where: str, res: dict[str, Any]) -> None:
        codes = _codes(res.get("code"))
        local = {c for s, c in codes if s == T.OBS}
        derived = local & {T.ALSFRS_TOTAL, T.KINGS_CLINICAL, T.KINGS_ALSFRS, T.MITOS_STAGE}
        if derived:
            return  # recomputed by the chart
        found = self._visit_of(where, res)
        if found is None:
            return
        key, visit = found
        if (T.LOINC, T.FVC_LOINC) in codes:
            visit["fvc_percent"] = self._quantity(where, res, "%")
        elif (T.LOINC, T.WEIGHT_LOINC) in codes:
            visit["weight_kg"] = self._quantity(where, res, "kg")
        elif T.UMN_SIGN in local:
            sign = _code_in(res.get("code"), T.SIGN)
            visit.setdefault("signs", []).append(
                {"sign": sign, "side": _side(res.get("bodySite")), "present": res.get("valueBoolean")})
        elif T.TENDON_REFLEX in local:
            comps = self._components(res)
            visit.setdefault("reflexes", []).append(
                {"reflex": _code_in(res.get("bodySite"), T.REFLEX), "side": _side(res.get("bodySite")),
                 "grade": res.get("valueInteger"),
                 **({"spread": comps["reflex-spread"]["valueBoolean"]} if "reflex-spread" in comps else {})})
        elif T.MUSCLE_EXAM in local or T.NEEDLE_EMG in local:
            site = res.get("bodySite")
            k = (_code_in(site, T.MUSCLE), _side(site))
            row = self.muscles.setdefault(key, {}).setdefault(k, {})
            comps = self._components(res)
            if T.NEEDLE_EMG in local:
                emg: dict[str, Any] = {}
                for fld, code, kind in T.EMG_FIELDS:
                    if code not in comps:
                        continue
                    c = comps[code]
                    if kind == "integer":
                        emg[fld] = c.get("valueInteger")
                    elif kind == "boolean":
                        emg[fld] = c.get("valueBoolean")
                    elif kind == "date":
                        emg[fld] = _day(c.get("valueDateTime"))
                    else:
                        emg[fld] = _code_in(c.get("valueCodeableConcept"), kind)
                row["emg"] = emg
            else:
                if "valueCodeableConcept" in res:
                    row["mrc"] = _code_in(res["valueCodeableConcept"], T.MRC_GRADE)
                if "wasting" in comps:
                    row["wasting"] = _code_in(comps["wasting"].get("valueCodeableConcept"), T.WASTING)
                if "fasciculations" in comps:
                    row["fasciculations"] = comps["fasciculations"].get("valueBoolean")
                if "other-cause" in comps:
                    row["other_cause"] = comps["other-cause"].get("valueBoolean")
                if "other-cause-reason" in comps:
                    row["other_cause_reason"] = comps["other-cause-reason"].get("valueString")
        elif T.PROGRESSIVE in local:
            visit["progressive_by_history"] = res.get("valueBoolean")
        elif T.ALTERNATIVES in local:
            visit["alternatives_excluded"] = res.get("valueBoolean")
        elif T.VISIT_NOTE in local:
            visit["notes"] = res.get("valueString")
        else:
            shown = ", ".join(f"{s}|{c}" for s, c in sorted(codes, key=str)) or "no code"
            self.fail(where, f"an Observation of {shown} is not supported (not one Motorchart writes)")

    def _components(self, res: dict[str, Any]) -> dict[str, dict[str, Any]]:
        out = {}
        for c in res.get("component") or []:
            code = _code_in(c.get("code"), T.OBS) if isinstance(c, dict) else None
            if code is not None:
                out[code] = c
        return out

    def _quantity(self, where: str, res: dict[str, Any], unit: str) -> Any:
        q = res.get("valueQuantity") or {}
        if q.get("code", q.get("unit")) != unit:
            self.fail(where, f"a quantity in {q.get('code', q.get('unit'))!r} is not supported (Motorchart "
                      f"records it in {unit})")
            return None
        return q.get("value")


def case_from_bundle(bundle: Any, catalogue) -> FhirCase:
    """The case a Motorchart bundle holds, validated like a case file (the catalogue, the
    format's rules); raises :class:`FhirImportError` naming every problem (at most
    :data:`MAX_PROBLEMS`)."""
    from domain.case import CaseError, case_from_data

    if not is_bundle(bundle):
        raise FhirImportError(["not a FHIR Bundle (resourceType must be \"Bundle\")"])
    reader = _Reader(bundle)
    data = reader.read()
    if reader.problems:
        problems = reader.problems[:MAX_PROBLEMS]
        if len(reader.problems) > MAX_PROBLEMS:
            problems.append("... and more problems")
        raise FhirImportError(problems)
    try:
        case = case_from_data(data, catalogue)
    except CaseError as e:
        raise FhirImportError([f"as a Motorchart case, {line}" for line in e.problems]) from None
    uuids = {dt.date.fromisoformat(d): u for d, u in reader.uuids.items()}
    return FhirCase(case, uuids)
