"""Reading the reports back: their text, their fonts, their pages (pypdf), and the cases they print."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader
from pypdf.generic import IndirectObject

from desktop.domain_benchmarks import full_case
from domain.case import Case
from tests.builders import alsfrs, case, emg_lmn, m, r, s, visit, wasted

PRINTED_AT = dt.datetime(2025, 8, 1, 14, 5, tzinfo=dt.timezone.utc)


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def text(pdf: bytes) -> str:
    """All the pages' text with runs of white space made one space (paragraphs wrap anywhere)."""
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader(pdf).pages)


def flat(s: str) -> str:
    return " ".join(s.split())


def _resolve(o):
    return o.get_object() if isinstance(o, IndirectObject) else o


def fonts(pdf: bytes) -> dict[str, bool]:
    """Every font used on any page or in any form XObject -> whether its program is embedded
    (FontFile, FontFile2 or FontFile3 in its descriptor, or its descendant's)."""
    out: dict[str, bool] = {}

    def embedded(font) -> bool:
        if font.get("/Subtype") == "/Type0":
            return all(embedded(_resolve(d)) for d in _resolve(font["/DescendantFonts"]))
        desc = _resolve(font.get("/FontDescriptor"))
        return desc is not None and any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))

    def walk(resources, seen):
        resources = _resolve(resources)
        if resources is None or id(resources) in seen:
            return
        seen.add(id(resources))
        for f in (_resolve(resources.get("/Font")) or {}).values():
            f = _resolve(f)
            out[str(f.get("/BaseFont"))] = embedded(f)
        for x in (_resolve(resources.get("/XObject")) or {}).values():
            x = _resolve(x)
            if x.get("/Subtype") == "/Form" and "/Resources" in x:
                walk(x["/Resources"], seen)

    for page in reader(pdf).pages:
        walk(page.get("/Resources"), set())
    return out


def media_box(pdf: bytes) -> tuple[float, float]:
    box = reader(pdf).pages[0].mediabox
    return float(box.width), float(box.height)


def page_count(pdf: bytes) -> int:
    return len(reader(pdf).pages)


def sample_case(given: str = "Zofia", family: str = "Łukasiewicz-Nowak", *, with_alsfrs: bool = True) -> Case:
    """Two visits: upper-limb onset spreading to the legs, with clinical, EMG, reflex and sign
    findings and (unless told otherwise) ALSFRS-R, FVC and weight."""
    extra1 = dict(alsfrs_r=alsfrs(handwriting=3, walking=3), fvc_percent=88, weight_kg=71.5) if with_alsfrs else {}
    extra2 = dict(alsfrs_r=alsfrs(handwriting=2, walking=3, speech=3), fvc_percent=81, weight_kg=69) if with_alsfrs else {}
    v1 = visit("2025-03-01", wasted("first_dorsal_interosseous"), m("biceps", "right", "5", "none"),
               emg_lmn("abductor_pollicis_brevis"), r("biceps", "right", 4), **extra1)
    v2 = visit("2025-07-10", wasted("first_dorsal_interosseous", mrc="4-"), wasted("biceps", mrc="4", wasting="mild"),
               emg_lmn("tibialis_anterior", "left"), emg_lmn("gastrocnemius", "left"),
               m("tongue", "midline", wasting="none", fasciculations=False),
               r("knee", "left", 4), s("babinski", "left"), m("deltoid", "left", "4", "mild", other_cause=True),
               notes="Cramps in both calves.", **extra2)
    return case(v1, v2, id="MRN-0042", given_names=given, family_name=family, birth_date="1961-04-02",
                sex="female", diagnosis_date="2025-02-10")


def long_case(n: int) -> Case:
    return full_case(n)
