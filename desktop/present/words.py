"""Labels for everything the reader sees: regions, onset, options (with a plain-language
explanation of each), pending requirements, phenotypes, milestones and patient fields."""

from __future__ import annotations

from typing import Any

from domain.catalogue import REGIONS
from domain.phenotype import PHENOTYPE_NAMES

from .messages import say

REGION_LABELS = {"bulbar": "Bulbar", "cervical": "Cervical", "thoracic": "Thoracic",
                 "lumbosacral": "Lumbosacral"}
REGION_WORDS = {r: REGION_LABELS[r].lower() for r in REGIONS}

ONSET_LABELS = {
    "bulbar": "bulbar", "upper_limb": "upper limb", "lower_limb": "lower limb",
    "trunk_axial": "trunk (axial)", "respiratory": "respiratory", "generalised": "generalised",
}
KINGS_REGION_LABELS = {"bulbar": "bulbar", "upper_limb": "upper limb", "lower_limb": "lower limb",
                       "diaphragm": "diaphragm (respiratory)"}

REGION_STATE_WORDS = {"not_examined": "not examined", "no_evidence": "no evidence", "umn": "UMN",
                      "lmn": "LMN", "umn_lmn": "UMN + LMN"}
"""The domain's one region state (``RegionState.kind``) in words."""

PENDING_LABELS = {"progression": "progression", "alternatives_excluded": "other causes excluded"}

PATIENT_FIELD_LABELS = {
    "id": "MRN", "family_name": "family name", "given_names": "given names", "birth_date": "birth date",
    "sex": "sex", "onset_date": "onset date", "onset_region": "onset region", "onset_side": "onset side",
    "diagnosis_date": "diagnosis date", "gastrostomy_date": "gastrostomy date", "niv_date": "NIV start date",
    "tracheostomy_date": "tracheostomy date", "death_date": "death date",
    "gastrostomy_note": "gastrostomy note", "niv_note": "NIV note", "tracheostomy_note": "tracheostomy note",
    "death_note": "death note",
}
MILESTONE_LABELS = {"gastrostomy_date": "Gastrostomy", "niv_date": "NIV start",
                    "tracheostomy_date": "Tracheostomy", "death_date": "Death"}

OPTION_TEXT: dict[str, tuple[str, str, dict[Any, str]]] = {
    # name: (label, plain-language explanation, {value: words})
    "scm_region": (
        "Region of sternocleidomastoid and trapezius",
        "Both are supplied by the accessory nerve: count them with the neck and arms (cervical), "
        "or with the bulbar muscles.",
        {"cervical": "cervical", "bulbar": "bulbar"}),
    "abdominal_reflexes_umn": (
        "Absent abdominal reflexes as a thoracic UMN sign",
        "Absent superficial abdominal reflexes are common in healthy people; by default they are "
        "not counted.",
        {False: "not counted", True: "counted"}),
    "preserved_reflex_min_grade": (
        "Lowest reflex grade that counts as preserved",
        "A reflex of at least this NINDS grade in a clearly weak and wasted muscle counts as an "
        "UMN sign (Gold Coast).",
        {}),
    "preserved_reflex_max_mrc": (
        "Weakest muscle strength for a preserved reflex",
        "The muscle must be this weak or weaker (MRC) for its preserved reflex to count as UMN.",
        {}),
    "preserved_reflex_min_wasting": (
        "Least wasting for a preserved reflex",
        "The muscle must be at least this wasted for its preserved reflex to count as UMN.",
        {"mild": "mild", "moderate": "moderate", "severe": "severe"}),
    "clinical_lmn_rule": (
        "Clinical LMN sign in a muscle (El Escorial, Awaji)",
        "What makes a muscle a clinical lower motor neuron sign. Weakness alone may be upper motor "
        "neuron weakness, so wasting is required by default.",
        {"wasting_required": "wasting required", "weakness_or_wasting": "weakness or wasting",
         "weakness_and_wasting": "weakness and wasting"}),
    "root_rule": (
        "Two EMG muscles must differ in their roots",
        "Two denervated limb muscles count for a region only if no single root lesion explains "
        "both: by default their main roots must have no root in common.",
        {"no_shared_principal": "no main root in common", "principal_differs": "main roots not identical",
         "disjoint": "no root in common at all"}),
    "probable_reading": (
        "Reading of 'clinically probable'",
        "Distributed: UMN and LMN signs in two regions, some UMN sign above some LMN sign. "
        "Colocated: UMN and LMN signs together in two regions.",
        {"distributed": "distributed", "colocated": "colocated"}),
    "gcc_reading": (
        "Reading of the Gold Coast UMN and LMN clause",
        "Literal: UMN and LMN signs anywhere, or LMN signs in two regions. Same region: UMN and LMN "
        "signs together in one region, or LMN signs in two regions.",
        {"literal": "literal", "same_region": "same region"}),
}


def option_label(name: str) -> str:
    return OPTION_TEXT[name][0]


def option_value(name: str, value: Any) -> str:
    """An option's value in words (numbers and grades as they are)."""
    return OPTION_TEXT[name][2].get(value, str(value))


def onset_words(onset_region: str | None) -> str:
    return ONSET_LABELS.get(onset_region or "", "not recorded")


def pending_words(items) -> str:
    return ", ".join(PENDING_LABELS.get(i, i.replace("_", " ")) for i in items)


def phenotype_words(ph) -> str:
    """The phenotype as written for people; a windowed label says "provisional until DATE",
    ``undetermined`` says provisional, labels without a window carry no tag."""
    name = PHENOTYPE_NAMES[ph.label]
    if ph.label == "undetermined":
        return name
    if ph.provisional:
        if ph.final_after:
            return say("phenotype.provisional_until", name=name, date=ph.final_after.isoformat())
        return say("phenotype.provisional", name=name)
    return name


TABLE_WORDS = {
    "patients": "patient", "visits": "visit", "muscle_findings": "muscle finding",
    "reflex_findings": "reflex finding", "sign_findings": "sign finding", "settings": "setting",
    "visit_marks": "visit mark", "signatures": "signature",
}
FIELD_WORDS = {
    **PATIENT_FIELD_LABELS,
    "status": "status", "clinician": "clinician", "signed_at_utc": "signed at",
    "amendment_reason": "amendment reason", "progressive_by_history": "progressive by history",
    "alternatives_excluded": "other causes excluded", "alsfrs_r_json": "ALSFRS-R",
    "fvc_percent": "FVC (% predicted)", "weight_kg": "weight (kg)", "notes": "notes", "date": "date",
    "version": "version", "amended_from": "amends", "mrc": "MRC", "wasting": "wasting",
    "fasciculations": "fasciculations", "other_cause": "other cause",
    "other_cause_reason": "other cause (reason)", "emg_json": "EMG", "muscle": "muscle", "side": "side",
    "reflex": "reflex", "grade": "grade", "spread": "spread", "sign": "sign", "present": "present",
    "key": "setting", "value_json": "value", "kind": "mark", "signed_by": "signed by", "sha256": "SHA-256",
    "options": "criteria options",
}


def field_words(name: str) -> str:
    """A stored column's name as words ("death date", not death_date)."""
    return FIELD_WORDS.get(name, name.replace("_", " "))
