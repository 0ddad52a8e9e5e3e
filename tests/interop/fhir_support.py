"""Shared by the FHIR tests: a chart that uses every part of the bundle, and the validator the
project does not write (fhir.resources R4B in a separate, isolated interpreter)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from domain.case import Emg, MuscleFinding
from tests.store.conftest import make_patient, make_visit

PID = "MRN 42|A&B,c$"
"""An MRN with the characters a conditional URL must escape (``|``, ``&``, ``,``, ``$``, a space)."""

VALIDATOR = r'''
import json, sys
from fhir.resources.R4B.bundle import Bundle

def references(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                yield v
            else:
                yield from references(v)
    elif isinstance(node, list):
        for v in node:
            yield from references(v)

failed = 0
for path in sys.argv[1:]:
    raw = open(path, "rb").read()
    try:
        bundle = Bundle.model_validate_json(raw)
    except Exception as e:
        print(f"{path}: REJECTED by fhir.resources R4B: {e}")
        failed += 1
        continue
    data = json.loads(raw)
    full_urls = {e["fullUrl"] for e in data["entry"]}
    unresolved = [r for r in references(data) if r not in full_urls]
    no_request = [i for i, e in enumerate(bundle.entry) if e.request is None]
    if bundle.type != "transaction" or unresolved or no_request:
        print(f"{path}: type {bundle.type}; unresolved references {unresolved[:3]}; "
              f"entries without a request {no_request[:3]}")
        failed += 1
    else:
        print(f"{path}: ok, {len(bundle.entry)} entries")
ours = sorted(m for m in sys.modules if m.split(".")[0] in ("desktop", "domain", "tests"))
if ours:
    print("the validator imported Motorchart code:", ours[:5])
    failed += 1
sys.exit(1 if failed else 0)
'''


def validate_elsewhere(files, timeout: float = 600) -> subprocess.CompletedProcess:
    """Validate bundle files with fhir.resources R4B in a fresh, isolated interpreter (``-I``: no
    working directory or PYTHONPATH on its path, so none of the project's code is importable
    by accident), which also checks that references resolve and every entry has a request."""
    return subprocess.run([sys.executable, "-I", "-c", VALIDATOR, *map(str, files)],
                          capture_output=True, text=True, timeout=timeout, cwd="/")


def rich_chart(store, pid: str = PID) -> None:
    """A patient who uses every part of the bundle: milestones (a refused gastrostomy, a
    tracheostomy note without a date), death with a note, a signed visit (EMG with a study
    date, a muscle with EMG only, one attributed to another cause), an amended visit, and a
    draft copied forward (not reviewed marks) with a 5b ALSFRS-R and no FVC."""
    patient = make_patient(pid, given_names="Zofia  Maria", diagnosis_date=dt.date(2025, 3, 1),
                           gastrostomy_date=dt.date(2025, 8, 1), gastrostomy_note="gastrostomy refused",
                           niv_date=dt.date(2025, 9, 1), tracheostomy_note="discussed, not wanted yet",
                           death_date=dt.date(2025, 12, 1), death_note="respiratory failure")
    store.add_patient(patient)
    first = make_visit("2025-03-01", muscles=(
        MuscleFinding(muscle="first_dorsal_interosseous", side="right", mrc="4-", wasting="moderate",
                      fasciculations=True, emg=Emg(fibrillations=2, positive_sharp_waves=1,
                                                   fasciculation_potentials="complex", mup_large=True,
                                                   mup_unstable=False, recruitment="reduced",
                                                   study_date=dt.date(2025, 2, 20))),
        MuscleFinding(muscle="tibialis_anterior", side="left", emg=Emg(fibrillations=3, mup_large=True)),
        MuscleFinding(muscle="biceps", side="left", mrc="4", other_cause=True,
                      other_cause_reason="C5 radiculopathy"),
        MuscleFinding(muscle="tongue", side="midline", mrc="5", wasting="mild", fasciculations=True),
    ), alternatives_excluded=True)
    store.save_visit(pid, first)
    store.sign_visit(pid, first.date, clinician="Dr Renée Côté")
    second = make_visit("2025-07-10", fvc_percent=71.5, notes="Second visit.\nTwo lines.")
    store.save_visit(pid, second)
    store.sign_visit(pid, second.date, clinician="Dr Renée Côté")
    store.amend_visit(pid, second.date, second.model_copy(update={"fvc_percent": 70.0}),
                      clinician="Dr Tomasz Wiśniewski-Lark", reason="FVC misread")
    store.new_visit(pid, dt.date(2025, 11, 1), copy_forward=True, today=dt.date(2026, 1, 1))
    third = store.get_visit(pid, dt.date(2025, 11, 1))
    frs = third.alsfrs_r or second.alsfrs_r
    store.save_visit(pid, third.model_copy(update={
        "alsfrs_r": frs.model_copy(update={"gastrostomy": True, "cutting_food": 2}), "fvc_percent": None}))


def entries(bundle: dict, rtype: str | None = None) -> list[dict]:
    return [e for e in bundle["entry"] if rtype is None or e["resource"]["resourceType"] == rtype]


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
