"""A clean-room oracle for the Motorchart classifier.

Written from ``shared/spec/clinical-rules.md`` and ``shared/spec/exam-format.md`` only, with the
catalogue facts read straight from ``resources/catalogue/*.csv`` (``csv`` module). It imports
nothing from ``domain`` except what the caller hands in (a ``domain.case.Case``, read through its
public attributes). It is deliberately plain and slow: one function per spec paragraph, so a
disagreement with the program can be traced back to a sentence.

``oracle(case, options)`` returns one flat dict per visit, ``{field path: value}``, then one for
the case summary; the paths are those of the program's ``as_json()`` output (see
``program_fields`` in ``test_oracle.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "resources" / "catalogue"

REGIONS = ("bulbar", "cervical", "thoracic", "lumbosacral")  # rostral to caudal (s.1)
FRAMEWORKS = ("el_escorial", "awaji", "gold_coast")
MRC_ORDER = ("0", "1", "2-", "2", "2+", "3-", "3", "3+", "4-", "4", "4+", "5-", "5")  # s.2
MRC_RANK = {g: i for i, g in enumerate(MRC_ORDER)}
WASTING_RANK = {w: i for i, w in enumerate(("none", "mild", "moderate", "severe"))}

DEFAULT_OPTIONS: dict[str, Any] = {
    "scm_region": "cervical",
    "abdominal_reflexes_umn": False,
    "preserved_reflex_min_grade": 2,
    "preserved_reflex_max_mrc": "4",
    "preserved_reflex_min_wasting": "moderate",
    "clinical_lmn_rule": "wasting_required",
    "root_rule": "no_shared_principal",
    "probable_reading": "distributed",
    "gcc_reading": "literal",
}

# ------------------------------------------------------------------ spec tables (s.3, s.7)

# Reflex -> region (s.3 table; exam-format reflex ids).
REFLEX_REGION = {
    "jaw": "bulbar",
    "biceps": "cervical", "brachioradialis": "cervical", "triceps": "cervical",
    "finger_flexor": "cervical", "pectoral": "cervical",
    "knee": "lumbosacral", "ankle": "lumbosacral", "adductor": "lumbosacral",
}
# Sign -> (region, frameworks in which it is UMN evidence). s.3 table + exam-format sign list.
ALL = frozenset(FRAMEWORKS)
REEC_AWJ = frozenset(("el_escorial", "awaji"))
SIGN_UMN = {
    "snout": ("bulbar", ALL),
    "spastic_dysarthria": ("bulbar", ALL),
    "tongue_slowed": ("bulbar", ALL),
    "pseudobulbar_affect": ("bulbar", REEC_AWJ),
    "gag_brisk": ("bulbar", REEC_AWJ),
    "hoffmann": ("cervical", ALL),
    "arm_spasticity": ("cervical", ALL),
    "finger_tapping_slowed": ("cervical", ALL),
    "abdominal_reflexes_absent": ("thoracic", ALL),  # only with abdominal_reflexes_umn
    "babinski": ("lumbosacral", ALL),
    "crossed_adductor": ("lumbosacral", ALL),
    "ankle_clonus": ("lumbosacral", ALL),
    "patellar_clonus": ("lumbosacral", ALL),
    "leg_spasticity": ("lumbosacral", ALL),
    "foot_tapping_slowed": ("lumbosacral", ALL),
}
# King's functional involvement by a spasticity sign (s.7).
SIGN_KINGS = {
    "spastic_dysarthria": "bulbar", "tongue_slowed": "bulbar",
    "arm_spasticity": "upper_limb", "leg_spasticity": "lower_limb",
}
# Flail arm/leg exclusion: "no spasticity or clonus sign" (s.8.2).
SPASTICITY_OR_CLONUS = {"arm_spasticity", "leg_spasticity", "ankle_clonus", "patellar_clonus"}
# UMN score items (s.7): reflexes each side, extensor plantar each side, jaw jerk, snout.
UMN_SCORE_REFLEXES = ("biceps", "brachioradialis", "triceps", "finger_flexor", "knee", "ankle")
# MRC sum movements (s.7, KLEY): the muscle for each movement, both sides.
MRC_SUM_MUSCLES = ("deltoid", "biceps", "extensor_carpi_radialis", "iliopsoas", "quadriceps",
                   "tibialis_anterior")
ONSET_REGIONS = {  # s.10 spread
    "upper_limb": ("cervical",), "lower_limb": ("lumbosacral",), "trunk_axial": ("thoracic",),
    "respiratory": ("cervical",), "bulbar": ("bulbar",), "generalised": REGIONS,
}
ONSET_KINGS = {"bulbar": "bulbar", "upper_limb": "upper_limb", "lower_limb": "lower_limb",
               "respiratory": "diaphragm"}  # trunk and generalised add none (s.10)
KINGS_ALSFRS_ITEMS = {  # s.7 King's clinical: items whose fall below 4 involve a King's region
    "bulbar": ("speech", "salivation", "swallowing"),
    "upper_limb": ("handwriting", "cutting_food"),
    "lower_limb": ("walking",),
    "diaphragm": ("dyspnea", "orthopnea", "respiratory_insufficiency"),
}
ALSFRS_ITEMS = ("speech", "salivation", "swallowing", "handwriting", "cutting_food",
                "dressing_hygiene", "turning_in_bed", "walking", "climbing_stairs", "dyspnea",
                "orthopnea", "respiratory_insufficiency")


# ------------------------------------------------------------------ catalogue (CSV only)

_ROOT_SEQ = ([f"C{i}" for i in range(1, 9)] + [f"T{i}" for i in range(1, 13)]
             + [f"L{i}" for i in range(1, 6)] + [f"S{i}" for i in range(1, 6)])
_ROOT_IDX = {r: i for i, r in enumerate(_ROOT_SEQ)}


def parse_roots(text: str) -> frozenset[str]:
    """``C5-T1`` -> {C5..C8, T1}; ``C7`` -> {C7}; a cranial nerve (``CN XII``) stands for itself."""
    text = text.strip()
    if not text:
        return frozenset()
    if text.startswith("CN"):
        return frozenset([text])
    a, _, b = text.partition("-")
    b = b or a
    return frozenset(_ROOT_SEQ[_ROOT_IDX[a]: _ROOT_IDX[b] + 1])


def _read(name: str) -> list[dict[str, str]]:
    with open(CATALOGUE_DIR / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_catalogue() -> dict[str, dict[str, dict[str, Any]]]:
    muscles = {}
    for row in _read("muscles.csv"):
        row = dict(row)
        row["roots_set"] = parse_roots(row["roots"])
        row["principal_set"] = parse_roots(row["principal_roots"])
        muscles[row["id"]] = row
    return {"muscles": muscles,
            "reflexes": {r["id"]: r for r in _read("reflexes.csv")},
            "signs": {s["id"]: s for s in _read("signs.csv")}}


_CAT: dict | None = None


def catalogue() -> dict:
    global _CAT
    if _CAT is None:
        _CAT = load_catalogue()
    return _CAT


# ------------------------------------------------------------------ dates (s.6, s.8)

def months_between(a: dt.date, b: dt.date) -> float:
    return (b - a).days / 30.4375


def add_months(d: dt.date, n: int) -> dt.date:
    """Calendar months; a day past the month's end maps to its last day (29 Feb -> 28 Feb)."""
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year
    m += 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(y, m, min(d.day, day))
        except ValueError:
            continue
    raise AssertionError


# ------------------------------------------------------------------ per-visit evidence

def weak(f) -> bool:
    return f.mrc is not None and MRC_RANK[f.mrc] < MRC_RANK["5"]


def wasted(f) -> bool:
    return f.wasting is not None and f.wasting != "none"


def muscle_region(mid: str, opts: dict) -> str:
    if mid in ("sternocleidomastoid", "trapezius"):
        return opts["scm_region"]
    return catalogue()["muscles"][mid]["region"]


def clinical_lmn(f, opts: dict) -> bool:
    """s.4.1, rEEC/AWJ: option clinical_lmn_rule."""
    rule = opts["clinical_lmn_rule"]
    if rule == "wasting_required":
        return wasted(f)
    if rule == "weakness_or_wasting":
        return weak(f) or wasted(f)
    return weak(f) and wasted(f)


def clinical_lmn_gcc(f) -> bool:
    """s.4.1, GCC: weak and wasted."""
    return weak(f) and wasted(f)


def emg_lmn(e, fw: str) -> bool:
    """s.4.2 (and s.10: recruitment ``absent`` is not ``reduced``; ``complex`` counts)."""
    if e is None:
        return False
    active = (e.fibrillations or 0) >= 1 or (e.positive_sharp_waves or 0) >= 1
    chronic = bool(e.mup_large) or e.recruitment == "reduced" or bool(e.mup_unstable)
    fasc = e.fasciculation_potentials in ("present", "complex")
    if fw == "el_escorial":
        return active and chronic
    if fw == "awaji":
        return chronic and (active or fasc)
    return bool(e.mup_large) and (active or fasc)


def pair_ok(a: str, b: str, opts: dict) -> bool:
    """s.4.3: different peripheral nerves (by name) and different roots per ``root_rule``."""
    ma, mb = catalogue()["muscles"][a], catalogue()["muscles"][b]
    if ma["nerve"] == mb["nerve"]:
        return False
    rule = opts["root_rule"]
    if rule == "no_shared_principal":
        return not (ma["principal_set"] & mb["principal_set"])
    if rule == "principal_differs":
        return ma["principal_set"] != mb["principal_set"]
    return not (ma["roots_set"] & mb["roots_set"])


def region_emg(region: str, emg_muscles: list[str], opts: dict) -> bool:
    """s.4.3. ``emg_muscles``: ids (one per muscle/side) of the region's muscles with EMG LMN."""
    if not emg_muscles:
        return False
    if region == "bulbar":
        return True
    if region == "thoracic":
        return any(catalogue()["muscles"][m]["thoracic_emg_qualifies"] == "yes" for m in emg_muscles)
    for i in range(len(emg_muscles)):
        for j in range(i + 1, len(emg_muscles)):
            if pair_ok(emg_muscles[i], emg_muscles[j], opts):
                return True
    return False


def preserved_reflex_applies(f, opts: dict) -> bool:
    """s.3 last row: the muscle is weak and wasted enough for a preserved reflex to be UMN."""
    if f.other_cause or f.mrc is None or f.wasting is None:
        return False
    return (MRC_RANK[f.mrc] <= MRC_RANK[opts["preserved_reflex_max_mrc"]]
            and WASTING_RANK[f.wasting] >= WASTING_RANK[opts["preserved_reflex_min_wasting"]])


def linked_reflex(visit, f):
    """s.10 linked reflex: same side; the jaw (midline) goes with the masseter of either side."""
    rid = catalogue()["muscles"][f.muscle]["linked_reflex"]
    if not rid:
        return None
    side = "midline" if rid == "jaw" else f.side
    for r in visit.reflexes:
        if r.reflex == rid and r.side == side:
            return r
    return None


def brisk(r) -> bool:
    return r.grade == 4 or (r.grade == 3 and r.spread)


def visit_evidence(visit, opts: dict) -> dict:
    """Regions and muscles of one visit (s.3, s.4, s.10 examined)."""
    regions = {r: {"examined": False, "umn": False, "umn_gold_coast": False,
                   "lmn_clinical": False, "lmn_clinical_gold_coast": False,
                   "lmn_emg": dict.fromkeys(FRAMEWORKS, False),
                   "lmn": dict.fromkeys(FRAMEWORKS, False)} for r in REGIONS}
    emg_by_region = {fw: {r: [] for r in REGIONS} for fw in FRAMEWORKS}
    muscles = {}
    for f in visit.muscles:
        reg = muscle_region(f.muscle, opts)
        if f.mrc is not None or f.wasting is not None or f.fasciculations is not None or f.emg is not None:
            regions[reg]["examined"] = True  # other_cause muscles still count as examined
        lr = linked_reflex(visit, f)
        # AMBIGUITY: nothing is credited to an other_cause muscle (it is "ignored by all criteria")
        umn = not f.other_cause and lr is not None and (brisk(lr) or (
            lr.grade >= opts["preserved_reflex_min_grade"] and preserved_reflex_applies(f, opts)))
        st = {"region": reg, "other_cause": f.other_cause, "weak": weak(f), "wasted": wasted(f),
              "lmn_clinical": False, "lmn_clinical_gold_coast": False,
              "lmn_emg": dict.fromkeys(FRAMEWORKS, False), "umn": umn,
              "preserved_umn": bool(lr is not None and not brisk(lr) and umn)}
        if not f.other_cause:
            st["lmn_clinical"] = clinical_lmn(f, opts)
            st["lmn_clinical_gold_coast"] = clinical_lmn_gcc(f)
            for fw in FRAMEWORKS:
                st["lmn_emg"][fw] = emg_lmn(f.emg, fw)
                if st["lmn_emg"][fw]:
                    emg_by_region[fw][reg].append(f.muscle)
            if st["lmn_clinical"]:
                regions[reg]["lmn_clinical"] = True
            if st["lmn_clinical_gold_coast"]:
                regions[reg]["lmn_clinical_gold_coast"] = True
            # preserved reflex in a weak, wasted muscle: UMN in the muscle's region (all frameworks)
            if lr is not None and lr.grade >= opts["preserved_reflex_min_grade"] and preserved_reflex_applies(f, opts):
                regions[reg]["umn"] = regions[reg]["umn_gold_coast"] = True
        st["lmn_any"] = st["lmn_clinical"] or st["lmn_emg"]["awaji"]  # phenotype LMN (s.8)
        muscles[(f.muscle, f.side)] = st
    for r in visit.reflexes:
        reg = REFLEX_REGION[r.reflex]
        regions[reg]["examined"] = True
        if brisk(r):
            regions[reg]["umn"] = regions[reg]["umn_gold_coast"] = True
    for s in visit.signs:
        reg, fws = SIGN_UMN[s.sign]
        regions[reg]["examined"] = True
        if not s.present:
            continue
        if s.sign == "abdominal_reflexes_absent" and not opts["abdominal_reflexes_umn"]:
            continue
        if "el_escorial" in fws:
            regions[reg]["umn"] = True
        if "gold_coast" in fws:
            regions[reg]["umn_gold_coast"] = True
    for reg in REGIONS:
        R = regions[reg]
        for fw in FRAMEWORKS:
            R["lmn_emg"][fw] = region_emg(reg, emg_by_region[fw][reg], opts)
        R["lmn"]["el_escorial"] = R["lmn_clinical"]
        R["lmn"]["awaji"] = R["lmn_clinical"] or R["lmn_emg"]["awaji"]
        R["lmn"]["gold_coast"] = R["lmn_clinical_gold_coast"] or R["lmn_emg"]["gold_coast"]
    return {"regions": regions, "muscles": muscles}


# ------------------------------------------------------------------ criteria (s.5)

def _rostral_ok(U: set, L: set) -> bool:
    return any(REGIONS.index(u) < REGIONS.index(l) for u in U for l in L)


def eec_category(U: set, L: set, lab_regions: set | None, opts: dict) -> str:
    """s.5.1 (and s.5.2 with ``lab_regions=None``: no laboratory-supported category)."""
    B = U & L
    if len(B) >= 3:
        return "definite"
    if opts["probable_reading"] == "distributed":
        probable = bool(U) and bool(L) and len(U | L) >= 2 and _rostral_ok(U, L)
    else:
        probable = len(B) >= 2
    if probable:
        return "probable"
    if lab_regions is not None and len(U) >= 1 and len(lab_regions) >= 2:
        return "probable_lab_supported"
    if len(B) == 1 or len(U) >= 2 or (U and L and not _rostral_ok(U, L)):
        return "possible"
    return "not_met"


def gcc_umn_lmn(U: set, L: set, opts: dict) -> bool:
    if opts["gcc_reading"] == "literal":
        return (bool(U) and bool(L)) or len(L) >= 2
    return len(U & L) >= 1 or len(L) >= 2


# ------------------------------------------------------------------ scores (s.7, s.10)

def alsfrs_fields(a) -> dict:
    if a is None:
        return {"alsfrs_r": None}
    tot = sum(getattr(a, k) for k in ALSFRS_ITEMS)
    return {"alsfrs_r.total": tot,
            "alsfrs_r.bulbar": a.speech + a.salivation + a.swallowing,
            "alsfrs_r.fine_motor": a.handwriting + a.cutting_food + a.dressing_hygiene,
            "alsfrs_r.gross_motor": a.turning_in_bed + a.walking + a.climbing_stairs,
            "alsfrs_r.respiratory": a.dyspnea + a.orthopnea + a.respiratory_insufficiency}


def kings_alsfrs(a) -> str | None:
    """s.7 (BAL)."""
    if a is None:
        return None
    four_a = a.gastrostomy
    four_b = a.dyspnea == 0 or a.respiratory_insufficiency <= 3
    if four_a and four_b:
        return "4A+4B"
    if four_a:
        return "4A"
    if four_b:
        return "4B"
    n = 0
    n += any(getattr(a, k) < 4 for k in ("speech", "salivation", "swallowing"))
    n += a.handwriting < 4 or (not a.gastrostomy and a.cutting_food < 4)
    n += a.walking < 4
    return str(max(n, 1))


def mitos_count(a) -> int:
    movement = a.walking <= 1 or a.dressing_hygiene <= 1
    swallowing = a.swallowing <= 1
    communication = a.speech <= 1 and a.handwriting <= 1
    breathing = a.dyspnea <= 1 or a.respiratory_insufficiency <= 2
    return int(movement) + int(swallowing) + int(communication) + int(breathing)


def mrc_sum(visit) -> int | None:
    """s.7 (KLEY): all 12 graded, modifiers dropped; other_cause muscles still count (s.10)."""
    grades = {(f.muscle, f.side): f.mrc for f in visit.muscles if f.mrc is not None}
    total = 0
    for mid in MRC_SUM_MUSCLES:
        for side in ("left", "right"):
            g = grades.get((mid, side))
            if g is None:
                return None
            total += int(g[0])
    return total


def umn_score(visit) -> int | None:
    """s.7 / s.10: pathologically brisk items among those examined; null when none examined."""
    examined = 0
    score = 0
    for r in visit.reflexes:
        if (r.reflex in UMN_SCORE_REFLEXES and r.side in ("left", "right")) or r.reflex == "jaw":
            examined += 1
            score += brisk(r)
    for s in visit.signs:
        if s.sign in ("babinski", "snout"):
            examined += 1
            score += s.present
    return score if examined else None


def milestone_warnings(p, v) -> list[str]:
    """s.10: the ALSFRS-R shows a milestone with no date, or contradicts one (5b before the
    gastrostomy date, 5a after it). The NIV pair (respiratory insufficiency <= 3 = NIV in use)
    is read the same way: no NIV date, or NIV shown before the NIV date."""
    a = v.alsfrs_r
    if a is None:
        return []
    out = []
    if a.gastrostomy and p.gastrostomy_date is None:
        out.append("gastrostomy_undated")
    if a.gastrostomy and p.gastrostomy_date is not None and v.date < p.gastrostomy_date:
        out.append("5b_before_gastrostomy_date")
    # AMBIGUITY: a refused gastrostomy (exam-format: the note says "refused") is no contradiction
    # of 5a after its date; the spec's rule names no exception, the program makes this one.
    refused = "refus" in (p.gastrostomy_note or "").lower()
    if not a.gastrostomy and p.gastrostomy_date is not None and v.date > p.gastrostomy_date \
            and not refused:
        out.append("5a_after_gastrostomy_date")
    # a tracheostomy reached by this visit dates the ventilatory support the item records
    trach = p.tracheostomy_date is not None and p.tracheostomy_date <= v.date
    if a.respiratory_insufficiency <= 3 and p.niv_date is None and not trach:
        out.append("niv_undated")
    if a.respiratory_insufficiency <= 3 and p.niv_date is not None and v.date < p.niv_date and not trach:
        out.append("niv_before_niv_date")
    return sorted(out)


# ------------------------------------------------------------------ the whole case



def _kings_rank(s: str) -> tuple:
    return {"1": 1, "2A": 2, "2B": 3, "3": 4, "4A": 5, "4B": 5, "4A+4B": 6, "5": 7}[s], s


def oracle(case, options: dict | None = None) -> list[dict[str, Any]]:
    """Per visit, the flat fields; the case summary is the extra last element (index -1)."""
    summary: dict[str, Any] = {}
    rows = oracle_visits(case, options, summary)
    return rows + [summary]


def oracle_visits(case, options: dict | None, out_summary: dict) -> list[dict[str, Any]]:
    opts = {**DEFAULT_OPTIONS, **(options or {})}
    p = case.patient
    out: list[dict[str, Any]] = []
    history: list[dict] = []  # per earlier visit: evidence + derived facts
    prog_flag = None
    excl_flag = None
    progression_shown = False
    kings_regions: set[str] = set()
    if p.onset_region in ONSET_KINGS:
        kings_regions.add(ONSET_KINGS[p.onset_region])
    kings_best = None
    gastro_by_frs = niv_by_frs = False
    mitos_max = None
    prev_frs = None  # (date, total)
    onset_regions = set(ONSET_REGIONS.get(p.onset_region, ()))
    for v in case.visits:
        ev = visit_evidence(v, opts)
        R = ev["regions"]
        row: dict[str, Any] = {"date": v.date.isoformat()}
        for reg in REGIONS:
            x = R[reg]
            row[f"regions.{reg}.examined"] = x["examined"]
            row[f"regions.{reg}.umn"] = x["umn"]
            row[f"regions.{reg}.umn_gold_coast"] = x["umn_gold_coast"]
            row[f"regions.{reg}.lmn_clinical"] = x["lmn_clinical"]
            for fw in FRAMEWORKS:
                row[f"regions.{reg}.lmn_emg.{fw}"] = x["lmn_emg"][fw]
                row[f"regions.{reg}.lmn.{fw}"] = x["lmn"][fw]
        row["not_examined"] = [r for r in REGIONS if not R[r]["examined"]]
        for (mid, side), st in ev["muscles"].items():
            k = f"muscles.{mid}.{side}"
            row[f"{k}.lmn_clinical"] = st["lmn_clinical"]
            row[f"{k}.lmn_clinical_gold_coast"] = st["lmn_clinical_gold_coast"]
            for fw in FRAMEWORKS:
                row[f"{k}.lmn_emg.{fw}"] = st["lmn_emg"][fw]
            row[f"{k}.umn"] = st["umn"]
            row[f"{k}.mixed"] = st["umn"] and (st["lmn_clinical"] or st["lmn_clinical_gold_coast"]
                                               or any(st["lmn_emg"].values()))

        U = {r for r in REGIONS if R[r]["umn"]}
        Ug = {r for r in REGIONS if R[r]["umn_gold_coast"]}
        L = {fw: {r for r in REGIONS if R[r]["lmn"][fw]} for fw in FRAMEWORKS}
        lab = {r for r in REGIONS if R[r]["lmn_emg"]["el_escorial"]}
        involved = U | L["awaji"]  # s.10: UMN or LMN (Awaji)

        # ---- flags and progression (s.6, s.10)
        if v.progressive_by_history is not None:
            prog_flag = v.progressive_by_history
        if v.alternatives_excluded is not None:
            excl_flag = v.alternatives_excluded
        if not progression_shown and history:
            progression_shown = _progression_by_findings(v, ev, involved, history, opts)
        progressive = bool(prog_flag) or progression_shown
        excluded = bool(excl_flag)

        # ---- criteria (s.5)
        for fw, lab_r in (("el_escorial", lab), ("awaji", None)):
            cat_ = eec_category(U, L[fw], lab_r, opts)
            row[f"criteria.{fw}.category"] = cat_
            pend = []
            if cat_ != "not_met":
                if not progressive:
                    pend.append("progression")
                if not excluded:
                    pend.append("alternatives_excluded")
            row[f"criteria.{fw}.pending"] = sorted(pend)
        ul = gcc_umn_lmn(Ug, L["gold_coast"], opts)
        row["criteria.gold_coast.progressive"] = progressive
        row["criteria.gold_coast.umn_lmn"] = ul
        row["criteria.gold_coast.alternatives_excluded"] = excluded
        row["criteria.gold_coast.met"] = progressive and ul and excluded
        row["progression.confirmed"] = progressive

        # ---- ALSFRS-R, DeltaFS, slope (s.7, s.10)
        a = v.alsfrs_r
        row.update(alsfrs_fields(a))
        dfs = None
        if a is not None and p.onset_date is not None and v.date > p.onset_date:
            dfs = (48 - row["alsfrs_r.total"]) / months_between(p.onset_date, v.date)
        row["delta_fs"] = dfs
        slope = None
        if a is not None:
            if prev_frs is not None:
                slope = (prev_frs[1] - row["alsfrs_r.total"]) / months_between(prev_frs[0], v.date)
            prev_frs = (v.date, row["alsfrs_r.total"])
        row["alsfrs_r_slope"] = slope

        # ---- staging (s.7, s.10)
        row["staging.kings_alsfrs"] = kings_alsfrs(a)
        for f in v.muscles:
            kr = catalogue()["muscles"][f.muscle]["kings_region"]
            if kr and not f.other_cause and (weak(f) or wasted(f)):
                kings_regions.add(kr)
        for s in v.signs:
            if s.present and s.sign in SIGN_KINGS:
                kings_regions.add(SIGN_KINGS[s.sign])
        if a is not None:
            for kr, items in KINGS_ALSFRS_ITEMS.items():
                if any(getattr(a, k) < 4 for k in items):
                    kings_regions.add(kr)
            gastro_by_frs = gastro_by_frs or a.gastrostomy
            niv_by_frs = niv_by_frs or a.respiratory_insufficiency <= 3
        reached = lambda d: d is not None and d <= v.date  # noqa: E731
        four_a = reached(p.gastrostomy_date) or gastro_by_frs
        four_b = reached(p.niv_date) or reached(p.tracheostomy_date) or niv_by_frs
        n = len(kings_regions)
        if reached(p.death_date):
            stage = "5"
        elif four_a and four_b:
            stage = "4A+4B"
        elif four_a:
            stage = "4A"
        elif four_b:
            stage = "4B"
        elif n >= 3:
            stage = "3"
        elif n == 2:
            stage = "2B"
        elif reached(p.diagnosis_date):
            stage = "2A"
        else:
            stage = "1"  # AMBIGUITY: 0 King's regions involved (trunk/generalised/unknown onset)
        if kings_best is not None and _kings_rank(kings_best)[0] > _kings_rank(stage)[0]:
            stage = kings_best
        kings_best = stage
        row["staging.kings_clinical"] = stage
        if a is not None:
            mitos_max = max(mitos_count(a), mitos_max or 0)
        if reached(p.death_date):
            row["staging.mitos"] = 5
        else:
            row["staging.mitos"] = mitos_max if a is not None else None
        row["warnings.kinds"] = milestone_warnings(p, v)
        row["mrc_sum"] = mrc_sum(v)
        row["umn_score"] = umn_score(v)

        # ---- spread (s.10)
        ever = set()
        for h in history:
            ever |= h["involved"]
        row["spread.regions_involved"] = [r for r in REGIONS if r in involved]
        row["spread.new_regions"] = [r for r in REGIONS
                                     if r in involved and r not in ever and r not in onset_regions]

        history.append({"visit": v, "ev": ev, "involved": involved, "U": U, "L": L["awaji"],
                        "row": row})
        # ---- phenotype (s.8) -- last
        row.update(_phenotype(case, history, opts))
        out.append(row)
    out_summary.update(_summary(case, history))
    return out


_RANK = {"not_met": 0, "possible": 1, "probable_lab_supported": 2, "probable": 3, "definite": 4}


def _summary(case, history: list[dict]) -> dict:
    """s.10 Summary (highest per framework, first date) and s.6 spread timeline."""
    out: dict[str, Any] = {}
    for fw in ("el_escorial", "awaji"):
        best, date = "not_met", None
        for h in history:
            c = h["row"][f"criteria.{fw}.category"]
            if _RANK[c] > _RANK[best]:
                best, date = c, h["row"]["date"]
        out[f"summary.highest.{fw}.category"] = best
        out[f"summary.highest.{fw}.date"] = date
    met = [h["row"]["date"] for h in history if h["row"]["criteria.gold_coast.met"]]
    out["summary.highest.gold_coast.met"] = bool(met)
    out["summary.highest.gold_coast.date"] = met[0] if met else None
    onset = set(ONSET_REGIONS.get(case.patient.onset_region, ()))
    out["summary.spread.onset_regions"] = [r for r in REGIONS if r in onset]
    first_inv = {}
    for h in history:
        for r in REGIONS:
            if r in h["involved"] and r not in first_inv:
                first_inv[r] = h["row"]["date"]
    # AMBIGUITY: order = onset regions, then by first involvement, ties rostral to caudal;
    # a new region is contiguous when adjacent to a region before it in that order (so of two
    # regions first involved at one visit, the rostral one counts for the caudal one only).
    # Other readings: only regions involved at an earlier visit; or any other region involved
    # at this visit or earlier.
    order = [r for r in REGIONS if r in onset]
    order += sorted((r for r in first_inv if r not in onset),
                    key=lambda r: (first_inv[r], REGIONS.index(r)))
    contiguous = {}
    for n, r in enumerate(order):
        if r in onset:
            continue
        i = REGIONS.index(r)
        contiguous[r] = any(REGIONS[j] in order[:n] for j in (i - 1, i + 1) if 0 <= j < 4)
    for r in REGIONS:
        k = f"summary.spread.regions.{r}"
        out[f"{k}.first_umn"] = next((h["row"]["date"] for h in history if r in h["U"]), None)
        out[f"{k}.first_lmn"] = next((h["row"]["date"] for h in history if r in h["L"]), None)
        out[f"{k}.first_both"] = next((h["row"]["date"] for h in history
                                       if r in h["U"] and r in h["L"]), None)
        out[f"{k}.first_involved"] = first_inv.get(r)
        out[f"{k}.onset"] = r in onset
        out[f"{k}.contiguous"] = contiguous.get(r)
    out["summary.spread.order"] = order
    return out


def _progression_by_findings(v, ev, involved: set, history: list[dict], opts: dict) -> bool:
    """s.10 'Progression across visits'."""
    # a region newly involved
    for reg in involved:
        if any(reg in h["involved"] for h in history):
            continue
        if any(h["ev"]["regions"][reg]["examined"] for h in history):
            return True
    ever_involved = set(involved)
    for h in history:
        ever_involved |= h["involved"]
    for f in v.muscles:
        if f.other_cause:
            continue
        reg = muscle_region(f.muscle, opts)
        if reg not in ever_involved:
            continue
        # an MRC grade falls
        prev_grade = _previous_exam(f.muscle, f.side, history, graded=FALL_AGAINST_PREVIOUS_GRADE)
        if (f.mrc is not None and prev_grade is not None and prev_grade.mrc is not None
                and MRC_RANK[f.mrc] < MRC_RANK[prev_grade.mrc]):
            return True
        prev = _previous_exam(f.muscle, f.side, history)
        if prev is None:
            continue
        # a muscle becomes abnormal
        prev_abn = weak(prev) or clinical_lmn(prev, opts) or emg_lmn(prev.emg, "awaji")
        if prev_abn:
            continue
        if weak(f) and prev.mrc is not None:
            return True
        if clinical_lmn(f, opts) and (prev.wasting is not None or (
                opts["clinical_lmn_rule"] != "wasting_required" and prev.mrc is not None)):
            return True
        if emg_lmn(f.emg, "awaji") and prev.emg is not None:
            return True
    return False


def _examined(f) -> bool:
    return f.mrc is not None or f.wasting is not None or f.fasciculations is not None or f.emg is not None


# AMBIGUITY (s.10 "an MRC grade falls ... than at its previous examination"): when the muscle's
# previous examination did not grade it (e.g. EMG or fasciculations only), the literal reading has
# no grade to compare with; the other reading compares with the last earlier *grade*. The program
# takes the second (while it reads "previous examination" literally for "becomes abnormal").
FALL_AGAINST_PREVIOUS_GRADE = True


def _previous_exam(mid: str, side: str, history: list[dict], graded: bool = False):
    """The latest earlier examination of this muscle/side (other_cause findings are ignored);
    with ``graded``, the latest earlier one that recorded an MRC grade."""
    for h in reversed(history):
        for f in h["visit"].muscles:
            if f.muscle == mid and f.side == side and not f.other_cause and _examined(f):
                if graded and f.mrc is None:
                    continue
                return f
    return None


# ------------------------------------------------------------------ phenotype (s.8)

def _phenotype(case, history: list[dict], opts: dict) -> dict:
    p = case.patient
    v = history[-1]["visit"]
    onset = p.onset_date
    umn_regions = set()
    lmn_muscles = set()  # (muscle, side)
    lmn_regions = set()
    clinical_lmn_ever = False
    emg_region_ever = False
    for h in history:
        umn_regions |= h["U"]
        for key, st in h["ev"]["muscles"].items():
            if st["lmn_any"]:
                lmn_muscles.add(key)
                lmn_regions.add(st["region"])
            if st["lmn_clinical"]:
                clinical_lmn_ever = True
        if any(h["ev"]["regions"][r]["lmn_emg"]["awaji"] for r in REGIONS):
            emg_region_ever = True
    significant_lmn = clinical_lmn_ever or emg_region_ever

    def res(label, provisional, final_after):
        return {"phenotype.label": label, "phenotype.provisional": provisional,
                "phenotype.final_after": final_after.isoformat() if final_after else None}

    # 1. PLS
    if len(umn_regions & {"bulbar", "cervical", "lumbosacral"}) >= 2 and not significant_lmn \
            and onset is not None and p.birth_date is not None \
            and (onset - p.birth_date).days / 365.25 >= 25:  # s.6: years = days / 365.25
        if v.date >= add_months(onset, 48):
            return res("pls_definite", False, add_months(onset, 48))
        if v.date >= add_months(onset, 24):
            # AMBIGUITY: the probable label's window read as 'until definite' (onset + 4 years)
            return res("pls_probable", True, add_months(onset, 48))
    # 2. regional variants
    for label in ("progressive_bulbar_palsy", "flail_arm", "flail_leg"):
        r = _regional_variant(label, case, history, opts)
        if r is not None:
            return res(label, *r)
    # 3. PMA
    if lmn_muscles and not umn_regions:
        if onset is None:
            return res("pma", True, None)
        end = add_months(onset, 48)
        return res("pma", v.date < end, end)
    # 4. UMN-only
    if umn_regions and not significant_lmn:
        # AMBIGUITY: s.8.4 says "provisional" unconditionally; the general rule (provisional while
        # the window has not passed) makes it final from onset + 2 years. The program takes the
        # general rule; so does the oracle.
        if onset is None:
            return res("umn_only", True, None)
        return res("umn_only", v.date < add_months(onset, 24), add_months(onset, 24))
    # 5.
    if len(umn_regions) >= 2 and len(lmn_muscles) <= 2:
        return res("umn_predominant", False, None)
    if len(lmn_regions) >= 2 and len(umn_regions) == 1:
        return res("lmn_predominant", False, None)
    # 6.
    if not umn_regions and not lmn_muscles:
        return res("undetermined", True, None)
    return res("classic", False, None)


_BULBAR_ITEMS = ("speech", "salivation", "swallowing")
_ARM_ITEMS = ("handwriting", "cutting_food")
_LEG_ITEMS = ("walking", "climbing_stairs")


def _in_territory(label: str, mid: str, opts: dict) -> bool:
    m = catalogue()["muscles"][mid]
    if label == "progressive_bulbar_palsy":
        return muscle_region(mid, opts) == "bulbar"
    return m["limb"] == ("arm" if label == "flail_arm" else "leg")


def _confined(label: str, h: dict, opts: dict) -> bool:
    """At one visit: all LMN evidence in the territory, no other region functionally involved,
    and (flail arm/leg) no spastic dysarthria, spasticity or clonus sign."""
    v = h["visit"]
    for f in v.muscles:
        if f.other_cause:
            continue
        st = h["ev"]["muscles"][(f.muscle, f.side)]
        inside = _in_territory(label, f.muscle, opts)
        if st["lmn_any"] and not inside:
            return False
        if (weak(f) or wasted(f)) and not inside:
            return False
    a = v.alsfrs_r
    if a is not None:
        other = {"progressive_bulbar_palsy": _ARM_ITEMS + _LEG_ITEMS,
                 "flail_arm": _BULBAR_ITEMS + _LEG_ITEMS,
                 "flail_leg": _BULBAR_ITEMS + _ARM_ITEMS}[label]
        if any(getattr(a, k) < 4 for k in other):
            return False
    if label != "progressive_bulbar_palsy":
        for s in v.signs:
            if s.present and (s.sign == "spastic_dysarthria" or s.sign in SPASTICITY_OR_CLONUS):
                return False
    return True


def _lmn_in_territory(label: str, h: dict, opts: dict) -> set:
    return {k for k, st in h["ev"]["muscles"].items()
            if st["lmn_any"] and _in_territory(label, k[0], opts)}


def _pattern_ok(label: str, keys: set) -> bool:
    if label == "progressive_bulbar_palsy":
        return bool(keys)
    seg = {k: catalogue()["muscles"][k[0]].get("segment", "") for k in keys}
    prox = [k for k in keys if seg[k] == "proximal"]
    dist = [k for k in keys if seg[k] == "distal"]
    if label == "flail_arm":
        return {k[1] for k in prox} >= {"left", "right"} and len(prox) >= len(dist)
    return bool(keys) and len(dist) >= len(prox)


def _regional_variant(label: str, case, history: list[dict], opts: dict):
    """(provisional, final_after) when the regional variant applies at the last visit, else None.

    AMBIGUITY: the proximal/distal pattern is taken over the cumulative LMN evidence of the
    first-year visits; the spasticity/clonus exclusion over the first-year visits.
    """
    onset = case.patient.onset_date
    end = add_months(onset, 12) if onset else None
    within = [h for h in history if end is None or h["visit"].date < end]
    after = [h for h in history if end is not None and h["visit"].date >= end]
    if not within:
        return None
    if not all(_confined(label, h, opts) for h in within):
        return None
    keys = set()
    for h in within:
        keys |= _lmn_in_territory(label, h, opts)
    if not keys or not _pattern_ok(label, keys):
        return None
    if end is None:
        return True, None
    if not after:
        return True, end
    # final from the first visit >= 12 months at which the evidence is still confined
    if _confined(label, after[0], opts):
        return False, end
    return None
