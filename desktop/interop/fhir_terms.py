"""The terms Motorchart's FHIR R4B bundle uses, shared by the export and the import.

Standard codes where one exists (shared/reference/stack-notes.md, FHIR): ALS SNOMED CT
86044005 with ICD-10-CM G12.2x, FVC % predicted LOINC 19872-1, body weight LOINC 29463-7 (UCUM
``kg``), SNOMED CT laterality qualifiers, the visit report as LOINC 11506-3 (progress note).
No standard code exists for the ALSFRS-R, MRC grades, needle EMG findings, the UMN signs or the
El Escorial, Awaji and Gold Coast results: those are local code systems under the project's own
canonical base :data:`BASE` (the same ``motorchart.invalid`` base as the case file's JSON
Schema; ``.invalid`` is reserved, so the URLs identify and never resolve). The catalogue gives
the codes of the muscle, reflex and sign systems (their ids, displayed by their names).
"""

from __future__ import annotations

import uuid

BASE = "https://motorchart.invalid/fhir"
"""The project's canonical base for its code systems, extensions and Questionnaire."""


def cs(name: str) -> str:
    """A local code system's canonical URL."""
    return f"{BASE}/CodeSystem/{name}"


def ext(name: str) -> str:
    """A local extension's canonical URL."""
    return f"{BASE}/StructureDefinition/{name}"


OBS = cs("observation")
"""What an Observation records (its ``code``) when no standard code exists."""
MUSCLE = cs("muscle")
REFLEX = cs("reflex")
SIGN = cs("sign")
REGION = cs("region")
ONSET_REGION = cs("onset-region")
MRC_GRADE = cs("mrc-grade")
WASTING = cs("wasting")
FASC_POTENTIALS = cs("fasciculation-potentials")
RECRUITMENT = cs("recruitment")
KINGS = cs("kings-stage")
MITOS = cs("mitos-stage")
PHENOTYPE = cs("phenotype")
CRITERIA = cs("criteria")
CATEGORY = cs("criteria-category")
MILESTONE = cs("milestone")

LATERALITY_EXT = ext("laterality")
"""On a ``bodySite``: its side, a SNOMED CT laterality qualifier (R4 has no laterality element;
modelled on mCODE's laterality qualifier)."""
MARKS_EXT = ext("visit-marks")
"""On an Encounter: the visit's marks as the chart keeps them (cells carried forward and signed
as carried, cells not yet reviewed, a part-scored ALSFRS-R), as motorchart-case/1 JSON text."""
DEATH_NOTE_EXT = ext("death-note")
"""On the Patient: the chart's note about the death (e.g. its cause)."""
ASSERTED_DATE_EXT = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"
"""FHIR core extension: the date the condition was first asserted, here the diagnosis date."""

ALSFRS_QUESTIONNAIRE = f"{BASE}/Questionnaire/alsfrs-r"
ALSFRS_QUESTIONNAIRE_VERSION = "1"

DOC_SIGNATURE_TITLE = "Motorchart signature record"
"""The title of a signed visit's DocumentReference attachment that carries its signature
(exam-format ``visits[].signature``, as JSON): the hash chain an import verifies."""
SIGNATURE_CONTENT_TYPE = "application/json"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
URI_IDENTIFIER = "urn:ietf:rfc:3986"
"""Identifier system for an identifier that is itself a URI (here ``urn:uuid:...``)."""
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

DEFAULT_MRN_SYSTEM = "urn:motorchart:mrn"
"""The Patient identifier system when the chart names none (setting ``fhir_mrn_system``: the
hospital's MRN system URI, which is what the receiving record matches patients on)."""
MRN_SYSTEM_SETTING = "fhir_mrn_system"

NAMESPACE = uuid.UUID("0b7c2f7e-3f1a-5c1e-9a57-6d6f746f7263")
"""Namespace of the identifiers derived from an MRN (patient-level resources)."""

LATERALITY = {  # side -> SNOMED CT qualifier (FHIR laterality value set)
    "left": ("7771000", "Left"),
    "right": ("24028007", "Right"),
    "midline": ("399488007", "Midline"),
    "bilateral": ("51440002", "Right and left"),
}
SIDE_OF = {code: side for side, (code, _) in LATERALITY.items()}

# ---------------------------------------------------------------- the local observation codes
MUSCLE_EXAM = "muscle-examination"
NEEDLE_EMG = "needle-emg"
TENDON_REFLEX = "tendon-reflex"
UMN_SIGN = "umn-sign"
PROGRESSIVE = "progressive-by-history"
ALTERNATIVES = "alternatives-excluded"
VISIT_NOTE = "visit-note"
ALSFRS_TOTAL = "alsfrs-r-total"
KINGS_CLINICAL = "kings-clinical"
KINGS_ALSFRS = "kings-alsfrs"
MITOS_STAGE = "mitos"
FVC_LOINC = "19872-1"
WEIGHT_LOINC = "29463-7"
REPORT_LOINC = "11506-3"

OBS_DISPLAY = {
    MUSCLE_EXAM: "Muscle examination: MRC grade",
    NEEDLE_EMG: "Needle EMG of a muscle",
    TENDON_REFLEX: "Tendon reflex (NINDS grade)",
    UMN_SIGN: "Upper motor neuron sign",
    PROGRESSIVE: "Progression by history",
    ALTERNATIVES: "Other causes excluded",
    VISIT_NOTE: "Visit note",
    ALSFRS_TOTAL: "ALSFRS-R total score",
    KINGS_CLINICAL: "King's clinical stage",
    KINGS_ALSFRS: "King's stage estimated from the ALSFRS-R",
    MITOS_STAGE: "MiToS stage",
    "alsfrs-r-bulbar": "ALSFRS-R bulbar subscore",
    "alsfrs-r-fine-motor": "ALSFRS-R fine motor subscore",
    "alsfrs-r-gross-motor": "ALSFRS-R gross motor subscore",
    "alsfrs-r-respiratory": "ALSFRS-R respiratory subscore",
    "wasting": "Wasting",
    "fasciculations": "Fasciculations seen",
    "other-cause": "Findings attributed to another cause",
    "other-cause-reason": "The other cause",
    "fibrillations": "Fibrillation potentials (0-4)",
    "positive-sharp-waves": "Positive sharp waves (0-4)",
    "fasciculation-potentials": "Fasciculation potentials",
    "mup-large": "Large motor unit potentials",
    "mup-unstable": "Unstable motor unit potentials",
    "recruitment": "Recruitment",
    "emg-study-date": "Date of the EMG study",
    "reflex-spread": "Reflex spread",
}
"""Every code of :data:`OBS`, with its display."""

ALSFRS_SUBSCORES = (("bulbar", "alsfrs-r-bulbar"), ("fine_motor", "alsfrs-r-fine-motor"),
                    ("gross_motor", "alsfrs-r-gross-motor"), ("respiratory", "alsfrs-r-respiratory"))

EMG_FIELDS = (  # Emg field, component code, kind
    ("fibrillations", "fibrillations", "integer"),
    ("positive_sharp_waves", "positive-sharp-waves", "integer"),
    ("fasciculation_potentials", "fasciculation-potentials", FASC_POTENTIALS),
    ("mup_large", "mup-large", "boolean"),
    ("mup_unstable", "mup-unstable", "boolean"),
    ("recruitment", "recruitment", RECRUITMENT),
    ("study_date", "emg-study-date", "date"),
)

ALSFRS_LINK_IDS = {  # item -> linkId (cutting_food: 5a, or 5b with a gastrostomy)
    "speech": "1", "salivation": "2", "swallowing": "3", "handwriting": "4", "cutting_food": "5a",
    "dressing_hygiene": "6", "turning_in_bed": "7", "walking": "8", "climbing_stairs": "9",
    "dyspnea": "10", "orthopnea": "11", "respiratory_insufficiency": "12",
}
ITEM_OF_LINK = {v: k for k, v in ALSFRS_LINK_IDS.items()} | {"5b": "cutting_food"}

MILESTONES = (  # patient date field, note field, code, display
    ("gastrostomy_date", "gastrostomy_note", "gastrostomy", "Gastrostomy"),
    ("niv_date", "niv_note", "niv", "Non-invasive ventilation"),
    ("tracheostomy_date", "tracheostomy_note", "tracheostomy", "Tracheostomy (invasive ventilation)"),
)

ALS_LABELS = ("classic", "umn_predominant", "lmn_predominant", "flail_arm", "flail_leg")
ICD10 = {  # phenotype label -> (ICD-10-CM code, display)
    **{label: ("G12.21", "Amyotrophic lateral sclerosis") for label in ALS_LABELS},
    "pls_probable": ("G12.23", "Primary lateral sclerosis"),
    "pls_definite": ("G12.23", "Primary lateral sclerosis"),
    "pma": ("G12.25", "Progressive spinal muscle atrophy"),
    "progressive_bulbar_palsy": ("G12.22", "Progressive bulbar palsy"),
    "umn_only": ("G12.20", "Motor neuron disease, unspecified"),
    "undetermined": ("G12.20", "Motor neuron disease, unspecified"),
}
SNOMED_ALS = ("86044005", "Amyotrophic lateral sclerosis (disorder)")

RESOURCE_TYPES = ("Patient", "Condition", "Procedure", "Encounter", "Observation", "Questionnaire",
                  "QuestionnaireResponse", "DocumentReference")
"""What the bundle holds, in the order its entries are written."""


def uuid_identifier(u: uuid.UUID | str) -> dict:
    return {"system": URI_IDENTIFIER, "value": f"urn:uuid:{u}"}


def derived_uuid(parent: uuid.UUID | str, key: str) -> uuid.UUID:
    """The identifier of a resource that belongs to a visit (or a patient): a name-based UUID
    (version 5) from the parent's UUID and a key naming the resource, the same at every export."""
    return uuid.uuid5(parent if isinstance(parent, uuid.UUID) else uuid.UUID(str(parent)), key)


def patient_uuid(mrn_system: str, mrn: str) -> uuid.UUID:
    """The UUID of the patient-level resources' identifiers: from the MRN and its system, as
    the receiving record matches the Patient."""
    return uuid.uuid5(NAMESPACE, f"{mrn_system}|{mrn}")
